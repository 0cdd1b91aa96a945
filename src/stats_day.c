/* stats_day — counters and code times per Vietnam day. */
#include "dvcbot/stats_day.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/strfmt.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define VN_OFFSET_S (7 * 3600)
#define FIELD_MAX 256
#define DAY_S 86400



/* The date of the last day asked for: an update's counts ask for the same
 * day each time, and gmtime_r + snprintf cost ~700 instructions a key.
 * Everything runs on the loop thread. */
static int64_t cached_day = INT64_MIN;
static char cached_date[48];

void stats_day_key(int64_t t, const char *prefix, char *out, size_t cap)
{
    int64_t local = t + VN_OFFSET_S;
    int64_t day = local / DAY_S - (local % DAY_S < 0);
    if (day != cached_day) {
        time_t at = (time_t)local;
        struct tm tm;
        gmtime_r(&at, &tm);
        snprintf(cached_date, sizeof cached_date, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday);
        cached_day = day;
    }
    STR_CAT(out, cap, prefix, cached_date);
}

static void on_written(redisReply *r, void *ud)
{
    (void)ud;
    if (store_reply_failed(r))
        log_fmt(LOG_WARN, "day stats not recorded", "\"error\":%s", log_q(store_reply_error(r)));
}

void stats_day_incr(struct store *s, const char *field)
{
    char key[STATS_DAY_KEY_MAX], keep[16];
    stats_day_key(clock_now(), STATS_DAY_PREFIX, key, sizeof key);
    snprintf(keep, sizeof keep, "%d", STATS_DAY_KEEP_S);
    if (store_command(s, on_written, NULL, "FCALL stats_day_incr 1 %s %s %s", key, field, keep) != 0)
        log_msg(LOG_WARN, "day stats not recorded: redis unavailable");
}

void stats_day_add(struct store *s, size_t n, const char *const *fields, const unsigned long *amounts)
{
    char key[STATS_DAY_KEY_MAX], keep[16], nums[STATS_DAY_ADD_MAX][24];
    const char *argv[5 + 2 * STATS_DAY_ADD_MAX] = {"FCALL", "stats_day_add", "1", key, keep};
    int argc = 5;
    stats_day_key(clock_now(), STATS_DAY_PREFIX, key, sizeof key);
    str_decimal(keep, sizeof keep, STATS_DAY_KEEP_S);
    for (size_t i = 0; i < n && i < STATS_DAY_ADD_MAX; i++) {
        if (amounts[i] == 0)
            continue;
        str_udecimal(nums[i], sizeof nums[i], amounts[i]);
        argv[argc++] = fields[i];
        argv[argc++] = nums[i];
    }
    if (argc == 5)
        return;
    if (store_command_argv(s, on_written, NULL, argc, argv, NULL) != 0)
        log_msg(LOG_WARN, "day stats not recorded: redis unavailable");
}

void stats_day_code(struct store *s, const char *proc, const char *ckey, long seconds)
{
    char day[STATS_DAY_KEY_MAX], list[STATS_DAY_KEY_MAX], field[FIELD_MAX], entry[FIELD_MAX],
        keep[16], max[16];
    int64_t now = clock_now();
    stats_day_key(now, STATS_DAY_PREFIX, day, sizeof day);
    stats_day_key(now, STATS_CODE_PREFIX, list, sizeof list);
    snprintf(field, sizeof field, "code|%s|%s", proc, ckey);
    snprintf(entry, sizeof entry, "%s|%s|%ld", proc, ckey, seconds < 0 ? 0 : seconds);
    snprintf(keep, sizeof keep, "%d", STATS_DAY_KEEP_S);
    snprintf(max, sizeof max, "%d", STATS_CODE_KEEP);
    if (store_command(s, on_written, NULL, "FCALL stats_day_code 2 %s %s %s %s %s %s", day, list,
                      field, entry, keep, max) != 0)
        log_msg(LOG_WARN, "code time not recorded: redis unavailable");
}
