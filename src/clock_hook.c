/* clock_hook — DVCBOT_TEST_CLOCK: a file and SIGUSR2 move the clock. */
#include "dvcbot/clock_hook.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFSET_TEXT_MAX 32

struct clock_hook {
    uv_signal_t sig;
    char *path;
    struct cron *cron;
};

/* The file's integer (seconds ahead), or -1 with errno set. */
static int read_offset(const char *path, int64_t *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char text[OFFSET_TEXT_MAX] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
        end++;
    if (end == text || *end || errno) {
        errno = EINVAL;
        return -1;
    }
    *out = v;
    return 0;
}

static int apply(struct clock_hook *tc)
{
    int64_t offset;
    if (read_offset(tc->path, &offset) != 0) {
        log_fmt(LOG_ERROR, "test clock file unreadable", "\"error\":%s", log_q(strerror(errno)));
        return -1;
    }
    clock_set_offset(offset);
    metrics_set("dvcbot_test_clock_offset_seconds", "", (double)offset);
    log_fmt(LOG_INFO, "test clock moved", "\"offset_s\":%lld", (long long)offset);
    return 0;
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    struct clock_hook *tc = s->data;
    if (apply(tc) == 0)
        cron_run_all(tc->cron);
}

struct clock_hook *clock_hook_start(uv_loop_t *loop, const char *path, struct cron *cron, char **err)
{
    struct clock_hook *tc = xcalloc(1, sizeof *tc);
    tc->path = xstrdup(path);
    tc->cron = cron;
    metrics_declare("dvcbot_test_clock_offset_seconds", METRIC_GAUGE,
                    "Seconds the test clock (DVCBOT_TEST_CLOCK) runs ahead.", NULL, 0);
    log_msg(LOG_WARN, "test clock enabled (DVCBOT_TEST_CLOCK): for tests only");
    if (apply(tc) != 0 || uv_signal_init(loop, &tc->sig) != 0) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "cannot use DVCBOT_TEST_CLOCK file '%s'", path);
        *err = buf_steal(&b);
        free(tc->path);
        free(tc);
        return NULL;
    }
    tc->sig.data = tc;
    if (uv_signal_start(&tc->sig, on_signal, SIGUSR2) != 0) {
        *err = xstrdup("cannot install the SIGUSR2 handler of DVCBOT_TEST_CLOCK");
        clock_hook_close(tc);
        return NULL;
    }
    return tc;
}

static void on_closed(uv_handle_t *h)
{
    struct clock_hook *tc = h->data;
    free(tc->path);
    free(tc);
}

void clock_hook_close(struct clock_hook *tc)
{
    if (tc)
        uv_close((uv_handle_t *)&tc->sig, on_closed);
}
