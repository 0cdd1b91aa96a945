/* clock — cached wall clock on the loop's time, with a test offset. */
#include "dvcbot/clock.h"

#include <time.h>

static uv_loop_t *clock_loop;
static int64_t base_wall_ms;   /* system wall clock at the last refresh */
static uint64_t base_loop_ms;  /* uv_now() at the same moment */
static int64_t offset_ms;      /* test hook */

static int64_t system_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void)
{
    if (!clock_loop)
        return system_ms() + offset_ms;
    return base_wall_ms + (int64_t)(uv_now(clock_loop) - base_loop_ms) + offset_ms;
}

int64_t clock_now(void)
{
    int64_t ms = clock_now_ms();
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

void clock_refresh(void)
{
    base_wall_ms = system_ms();
    if (clock_loop)
        base_loop_ms = uv_now(clock_loop);
}

void clock_attach(uv_loop_t *loop)
{
    clock_loop = loop;
    if (loop)
        uv_update_time(loop); /* uv_now() may be stale before the loop runs */
    clock_refresh();
}

int64_t clock_set_offset(int64_t offset_s)
{
    offset_ms = offset_s * 1000;
    return offset_s;
}

int64_t clock_offset(void)
{
    return offset_ms / 1000;
}
