/* cron — the process's one periodic timer (Redis's serverCron).
 *
 * Modules that act every so often (notify drains dossier:changes, reminder
 * takes due dossiers, stats sweeps idle flows, the broadcast worker pumps
 * its streams) expose `<module>_tick(..., int64_t now)`; app.c lists them
 * with their periods (cron_every). One uv timer, armed for the earliest job
 * due: each run refreshes the clock (clock.h) and hands every job due the
 * same now (unix s). A job runs at most once per period; one that fell
 * behind is not run twice to catch up. The timer also wakes at least every
 * CRON_IDLE_MS to refresh the clock.
 *
 * A job may add or cancel jobs from inside its own call. Nothing runs after
 * cron_close; the struct is freed once its timer handle is closed (the loop
 * must run on for that). */
#ifndef DVCBOT_CRON_H
#define DVCBOT_CRON_H

#include <stdint.h>
#include <uv.h>

#define CRON_JOBS_MAX 16
#define CRON_IDLE_MS 1000

struct cron;

typedef void (*cron_fn)(void *ud, int64_t now);

struct cron *cron_new(uv_loop_t *loop);
/* Runs fn(ud, now) every period_ms (the first time one period from now).
 * name appears in logs. Returns a job id (>= 0), or -1 when the table is
 * full. */
int cron_every(struct cron *c, const char *name, uint64_t period_ms, cron_fn fn, void *ud);
/* No further call of the job. An unknown id is ignored. */
void cron_cancel(struct cron *c, int id);
/* Arms the timer and attaches the clock to the loop. Returns 0 or a libuv
 * error. */
int cron_start(struct cron *c);
/* Runs every job now (then again on its period): the test clock calls it
 * after moving time forward. */
void cron_run_all(struct cron *c);
void cron_close(struct cron *c);

#endif
