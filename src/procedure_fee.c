/* procedure_fee — fee periods of a procedure, and the fee in force. */
#include "dvcbot/procedure_fee.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define VN_OFFSET_S (7 * 3600)

int procedure_fee_period_at(const struct procedure_info *p, int64_t now)
{
    for (size_t i = 0; i < p->n_fee_periods; i++)
        if (now < p->fee_periods[i].ends)
            return (int)i;
    return -1;
}

struct procedure_fee procedure_fee_at(const struct procedure_info *p, int64_t now)
{
    int i = procedure_fee_period_at(p, now);
    if (i >= 0) {
        const struct fee_period *fp = &p->fee_periods[i];
        return (struct procedure_fee){fp->fee_text, fp->fee_vnd, fp->fee_online_reduced};
    }
    return (struct procedure_fee){p->fee_text, p->fee_vnd, p->fee_online_reduced};
}

/* "YYYY-MM-DD" of a real day → unix time the next day starts in Vietnam. */
static bool day_end(const char *s, int64_t *out)
{
    int y, m, d, used = 0;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
        s[4] != '-' || s[7] != '-')
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != m - 1 ||
        back.tm_mday != d)
        return false; /* 2026-02-30 */
    *out = (int64_t)t + 24 * 3600 - VN_OFFSET_S;
    return true;
}

static bool is_text(const cJSON *v)
{
    return cJSON_IsString(v) && v->valuestring[0];
}

static bool is_fee(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble == (double)(long)v->valuedouble && v->valuedouble >= -1;
}

/* One entry; *prev_end is the end of the entry before (0 for none). */
static bool check_period(const cJSON *e, size_t i, int64_t *prev_end, const char *file, struct problems *pb)
{
    static const char *const known[] = {"until", "fee_text", "fee_vnd", "fee_online_reduced"};
    char field[64];
    bool ok = true;
    snprintf(field, sizeof field, "procedure.fee_periods[%zu]", i);
    if (!cJSON_IsObject(e)) {
        problemf(pb, file, field, "must be an object {\"until\", \"fee_text\"}");
        return false;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, e) {
        bool ours = false;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            ours = ours || strcmp(kv->string, known[k]) == 0;
        if (!ours) {
            problemf(pb, file, field, "unknown field \"%s\" (until, fee_text, fee_vnd, fee_online_reduced)",
                     kv->string);
            ok = false;
        }
    }
    int64_t end;
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(e, "until");
    if (!day_end(cJSON_GetStringValue(until), &end)) {
        problemf(pb, file, field, "until must be a day YYYY-MM-DD (the last day of this fee)");
        ok = false;
    } else if (end <= *prev_end) {
        problemf(pb, file, field, "until must be later than the until before it");
        ok = false;
    } else {
        *prev_end = end;
    }
    if (!is_text(cJSON_GetObjectItemCaseSensitive(e, "fee_text"))) {
        problemf(pb, file, field, "fee_text is required: a non-empty string");
        ok = false;
    }
    const cJSON *vnd = cJSON_GetObjectItemCaseSensitive(e, "fee_vnd");
    if (vnd && !is_fee(vnd)) {
        problemf(pb, file, field, "fee_vnd must be an integer >= -1");
        ok = false;
    }
    const cJSON *reduced = cJSON_GetObjectItemCaseSensitive(e, "fee_online_reduced");
    if (reduced && !cJSON_IsBool(reduced)) {
        problemf(pb, file, field, "fee_online_reduced must be true or false");
        ok = false;
    }
    return ok;
}

bool procedure_fee_check(const cJSON *proc, const char *file, struct problems *pb)
{
    const cJSON *periods = cJSON_GetObjectItemCaseSensitive(proc, "fee_periods");
    if (!periods)
        return true;
    int n = cJSON_GetArraySize(periods);
    if (!cJSON_IsArray(periods) || n < 1 || n > PROCEDURE_FEE_PERIODS_MAX) {
        problemf(pb, file, "procedure.fee_periods", "must be an array of 1-%d {\"until\", \"fee_text\"}",
                 PROCEDURE_FEE_PERIODS_MAX);
        return false;
    }
    bool ok = true;
    int64_t prev_end = 0;
    for (int i = 0; i < n; i++)
        ok = check_period(cJSON_GetArrayItem(periods, i), (size_t)i, &prev_end, file, pb) && ok;
    return ok;
}

struct fee_period *procedure_fee_read(const cJSON *proc, const struct procedure_info *base, size_t *n)
{
    const cJSON *periods = cJSON_GetObjectItemCaseSensitive(proc, "fee_periods");
    *n = (size_t)cJSON_GetArraySize(periods);
    if (!*n)
        return NULL;
    struct fee_period *out = xcalloc(*n, sizeof *out);
    for (size_t i = 0; i < *n; i++) {
        const cJSON *e = cJSON_GetArrayItem(periods, (int)i);
        const cJSON *vnd = cJSON_GetObjectItemCaseSensitive(e, "fee_vnd");
        const cJSON *reduced = cJSON_GetObjectItemCaseSensitive(e, "fee_online_reduced");
        out[i].until = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "until"));
        day_end(out[i].until, &out[i].ends);
        out[i].fee_text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "fee_text"));
        out[i].fee_vnd = vnd ? (long)vnd->valuedouble : base->fee_vnd;
        out[i].fee_online_reduced = reduced ? cJSON_IsTrue(reduced) : base->fee_online_reduced;
    }
    return out;
}
