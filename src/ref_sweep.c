/* ref_sweep — users whose refs:{} expired leave sub:<CODE>, the comment
 * index and the volunteers. */
#include "dvcbot/ref_sweep.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/stats.h"
#include "dvcbot/volunteer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_MAX 32

enum phase { PHASE_SETS, PHASE_COMMENTS, PHASE_VOLUNTEERS };

struct ref_sweep {
    struct store *store;
    bool running;
    enum phase phase;
    char cursor[CURSOR_MAX];
};

static void next_page(struct ref_sweep *rs);

struct ref_sweep *ref_sweep_new(struct store *st)
{
    struct ref_sweep *rs = xcalloc(1, sizeof *rs);
    rs->store = st;
    return rs;
}

void ref_sweep_free(struct ref_sweep *rs)
{
    free(rs);
}

static void stop_pass(struct ref_sweep *rs, const char *why)
{
    log_fmt(LOG_WARN, "ref sweep stopped", "\"why\":\"%s\"", why);
    rs->running = false;
}

static void pass_done(struct ref_sweep *rs)
{
    rs->running = false;
    metrics_inc("dvcbot_ref_sweep_passes_total", "", 1);
}

/* The cursor said 0: this phase is over. */
static void after_page(struct ref_sweep *rs)
{
    if (strcmp(rs->cursor, "0") != 0) {
        next_page(rs);
    } else if (rs->phase == PHASE_SETS) {
        rs->phase = PHASE_COMMENTS;
        next_page(rs);
    } else if (rs->phase == PHASE_COMMENTS) {
        rs->phase = PHASE_VOLUNTEERS;
        next_page(rs);
    } else {
        pass_done(rs);
    }
}

/* reply: the number of user keys a script removed */
static void on_swept(redisReply *r, void *ud)
{
    struct ref_sweep *rs = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_INTEGER) {
        stop_pass(rs, "sweep script failed");
        return;
    }
    if (r->integer > 0)
        metrics_inc("dvcbot_ref_sweep_removed_total", "", (double)r->integer);
    after_page(rs);
}

/* One page handed to a script: "FCALL <fn> <nkeys> <keys...> <args...>". */
static void sweep_page(struct ref_sweep *rs, const redisReply *items)
{
    bool sets = rs->phase == PHASE_SETS;
    size_t n = 0;
    const char **argv = xcalloc(items->elements + 5, sizeof *argv);
    char nkeys[24];
    argv[0] = "FCALL";
    argv[1] = "ref_sweep_sets";
    argv[2] = nkeys;
    if (!sets) {
        argv[1] = "ref_sweep_zset";
        argv[3] = STATS_KEY_COMMENTS;
    }
    size_t first = sets ? 3 : 4;
    /* ZSCAN answers member, score, member, score... */
    for (size_t i = 0; i < items->elements; i += sets ? 1 : 2)
        if (store_reply_str(items->element[i]))
            argv[first + n++] = items->element[i]->str;
    snprintf(nkeys, sizeof nkeys, "%d", sets ? (int)n : 1);
    int rc = n ? store_command_argv(rs->store, on_swept, rs, (int)(first + n), argv, NULL) : 0;
    free(argv);
    if (rc != 0)
        stop_pass(rs, "store unavailable");
    else if (!n)
        after_page(rs);
}

/* reply: [cursor, [items...]] of SCAN or ZSCAN */
static void on_scanned(redisReply *r, void *ud)
{
    struct ref_sweep *rs = ud;
    const redisReply *items = store_scan_items(r, rs->cursor, sizeof rs->cursor);
    if (!items)
        stop_pass(rs, "scan failed");
    else
        sweep_page(rs, items);
}

static void next_page(struct ref_sweep *rs)
{
    if (rs->phase == PHASE_VOLUNTEERS) { /* one set, a staff list: whole */
        snprintf(rs->cursor, sizeof rs->cursor, "0");
        if (store_command(rs->store, on_swept, rs, "FCALL ref_sweep_sets 1 %s", VOLUNTEER_SET) != 0)
            stop_pass(rs, "store unavailable");
        return;
    }
    char count[16];
    snprintf(count, sizeof count, "%d", REF_SWEEP_SCAN_COUNT);
    int rc = rs->phase == PHASE_SETS
                 ? store_command(rs->store, on_scanned, rs, "SCAN %s MATCH sub:* COUNT %s", rs->cursor,
                                 count)
                 : store_command(rs->store, on_scanned, rs, "ZSCAN %s %s COUNT %s", STATS_KEY_COMMENTS,
                                 rs->cursor, count);
    if (rc != 0)
        stop_pass(rs, "store unavailable");
}

void ref_sweep_tick(struct ref_sweep *rs, int64_t now)
{
    (void)now;
    if (rs->running || !store_connected(rs->store))
        return;
    rs->running = true;
    rs->phase = PHASE_SETS;
    snprintf(rs->cursor, sizeof rs->cursor, "0"); /* SCAN starts at 0 and says 0 when done */
    next_page(rs);
}
