/* cron — one uv timer running every module's periodic tick. */
#include "dvcbot/cron.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <stdbool.h>
#include <stdlib.h>

struct cron_job {
    const char *name;
    uint64_t period_ms;
    uint64_t next_ms;       /* uv_now() from which it is due */
    cron_fn fn;
    void *ud;
    bool used;
};

struct cron {
    uv_loop_t *loop;
    uv_timer_t timer;
    struct cron_job jobs[CRON_JOBS_MAX];
    bool started;
    bool closed;
    bool in_run;            /* inside run_due: it arms the timer when done */
};

static void on_timer(uv_timer_t *t);

/* Sets the timer for the earliest job due (at most CRON_IDLE_MS away). */
static void arm(struct cron *c)
{
    if (!c->started || c->closed || c->in_run)
        return;
    uint64_t now = uv_now(c->loop), wake = now + CRON_IDLE_MS;
    for (int i = 0; i < CRON_JOBS_MAX; i++)
        if (c->jobs[i].used && c->jobs[i].next_ms < wake)
            wake = c->jobs[i].next_ms;
    if (uv_timer_start(&c->timer, on_timer, wake > now ? wake - now : 0, 0) != 0)
        log_msg(LOG_ERROR, "cron timer not started");
}

/* run_with_period: the next time is one period after the last due time,
 * or one period from now when the job fell a whole period behind. */
static void run_job(struct cron_job *j, uint64_t now_ms, int64_t now)
{
    j->next_ms += j->period_ms;
    if (j->next_ms <= now_ms)
        j->next_ms = now_ms + j->period_ms;
    j->fn(j->ud, now);
}

static void run_due(struct cron *c, bool all)
{
    clock_refresh();
    int64_t now = clock_now();
    uint64_t now_ms = uv_now(c->loop);
    c->in_run = true;
    for (int i = 0; i < CRON_JOBS_MAX && !c->closed; i++) {
        struct cron_job *j = &c->jobs[i];
        if (j->used && (all || j->next_ms <= now_ms))
            run_job(j, now_ms, now);
    }
    c->in_run = false;
    arm(c);
}

static void on_timer(uv_timer_t *t)
{
    run_due(t->data, false);
}

struct cron *cron_new(uv_loop_t *loop)
{
    struct cron *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    if (uv_timer_init(loop, &c->timer) != 0)
        abort(); /* cannot fail on a valid loop */
    c->timer.data = c;
    return c;
}

int cron_every(struct cron *c, const char *name, uint64_t period_ms, cron_fn fn, void *ud)
{
    for (int i = 0; i < CRON_JOBS_MAX; i++) {
        struct cron_job *j = &c->jobs[i];
        if (j->used)
            continue;
        *j = (struct cron_job){
            .name = name, .period_ms = period_ms ? period_ms : 1, .fn = fn, .ud = ud, .used = true,
            .next_ms = uv_now(c->loop) + (period_ms ? period_ms : 1),
        };
        arm(c);
        return i;
    }
    log_fmt(LOG_ERROR, "cron job not added: table full", "\"job\":%s", log_q(name));
    return -1;
}

void cron_cancel(struct cron *c, int id)
{
    if (id >= 0 && id < CRON_JOBS_MAX)
        c->jobs[id].used = false;
}

int cron_start(struct cron *c)
{
    clock_attach(c->loop);
    c->started = true;
    uint64_t now = uv_now(c->loop);
    for (int i = 0; i < CRON_JOBS_MAX; i++)
        if (c->jobs[i].used)
            c->jobs[i].next_ms = now + c->jobs[i].period_ms;
    uint64_t first = CRON_IDLE_MS;
    for (int i = 0; i < CRON_JOBS_MAX; i++)
        if (c->jobs[i].used && c->jobs[i].period_ms < first)
            first = c->jobs[i].period_ms;
    return uv_timer_start(&c->timer, on_timer, first, 0);
}

void cron_run_all(struct cron *c)
{
    if (c->started && !c->closed && !c->in_run)
        run_due(c, true);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void cron_close(struct cron *c)
{
    if (!c || c->closed)
        return;
    c->closed = true;
    clock_attach(NULL);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}
