/* indicator — reporting periods cut on the 14th, and the indicator shares. */
#include "dvcbot/indicator.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_S (24 * 3600)

/* ===== Periods ===== */

static const int period_months[] = {[PERIOD_MONTH] = 1, [PERIOD_QUARTER] = 3,
                                    [PERIOD_HALF] = 6, [PERIOD_YEAR] = 12};

/* 00:00 Vietnam time on the cut-off's next day (the 15th) of month m of
 * year y; m may be 0 or negative (months of earlier years). */
static int64_t fifteenth(int y, int m)
{
    while (m < 1) {
        m += 12;
        y--;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = INDICATOR_CUTOFF_DAY + 1};
    return (int64_t)timegm(&tm) - INDICATOR_VN_OFFSET_S;
}

static void fill_period(struct period *p, enum period_kind kind, int year, int index)
{
    p->kind = kind;
    p->year = year;
    p->index = kind == PERIOD_YEAR ? 0 : index;
    int last = kind == PERIOD_YEAR ? 12 : index * period_months[kind];
    p->to = fifteenth(year, last);
    p->from = fifteenth(year, last - period_months[kind]);
    switch (kind) {
    case PERIOD_MONTH: snprintf(p->id, sizeof p->id, "%04d-M%02d", year, index); break;
    case PERIOD_QUARTER: snprintf(p->id, sizeof p->id, "%04d-Q%d", year, index); break;
    case PERIOD_HALF: snprintf(p->id, sizeof p->id, "%04d-H%d", year, index); break;
    case PERIOD_YEAR: snprintf(p->id, sizeof p->id, "%04d-Y", year); break;
    }
}

int period_parse(const char *id, struct period *out)
{
    int year, index = 0, n = 0;
    char kind;
    if (!id || sscanf(id, "%4d-%c%n", &year, &kind, &n) != 2 || year < 2000 || year > 2200)
        return -1;
    const char *rest = id + n;
    if (kind == 'Y' && !*rest) {
        fill_period(out, PERIOD_YEAR, year, 0);
        return 0;
    }
    char *end;
    long v = strtol(rest, &end, 10);
    if (*end || end == rest || (kind == 'M' && strlen(rest) != 2))
        return -1;
    index = (int)v;
    if (kind == 'M' && index >= 1 && index <= 12)
        fill_period(out, PERIOD_MONTH, year, index);
    else if (kind == 'Q' && index >= 1 && index <= 4 && strlen(rest) == 1)
        fill_period(out, PERIOD_QUARTER, year, index);
    else if (kind == 'H' && index >= 1 && index <= 2 && strlen(rest) == 1)
        fill_period(out, PERIOD_HALF, year, index);
    else
        return -1;
    return 0;
}

void period_containing(enum period_kind kind, int64_t t, struct period *out)
{
    time_t local = (time_t)(t + INDICATOR_VN_OFFSET_S);
    struct tm tm;
    gmtime_r(&local, &tm);
    int year = tm.tm_year + 1900, month = tm.tm_mon + 1;
    if (tm.tm_mday > INDICATOR_CUTOFF_DAY && ++month > 12) { /* reported with the next month */
        month = 1;
        year++;
    }
    int per = period_months[kind];
    fill_period(out, kind, year, kind == PERIOD_YEAR ? 0 : (month - 1) / per + 1);
}

void period_previous(const struct period *p, struct period *out)
{
    if (p->kind == PERIOD_YEAR || p->index == 1) {
        int last = p->kind == PERIOD_YEAR ? 0 : 12 / period_months[p->kind];
        fill_period(out, p->kind, p->year - 1, last);
    } else {
        fill_period(out, p->kind, p->year, p->index - 1);
    }
}

bool period_contains(const struct period *p, int64_t t)
{
    return t >= p->from && t < p->to;
}

static void vn_tm(int64_t t, struct tm *tm)
{
    time_t local = (time_t)(t + INDICATOR_VN_OFFSET_S);
    gmtime_r(&local, tm);
}

static void iso_day(int64_t t, char out[11])
{
    struct tm tm;
    char tmp[48];
    vn_tm(t, &tm);
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    snprintf(out, 11, "%.10s", tmp);
}

void period_first_day(const struct period *p, char out[11])
{
    iso_day(p->from, out);
}

void period_last_day(const struct period *p, char out[11])
{
    iso_day(p->to - 1, out);
}

void period_each_day(const struct period *p, void (*fn)(const char *day, void *ud), void *ud)
{
    for (int64_t t = p->from; t < p->to; t += DAY_S) {
        struct tm tm;
        char tmp[48], day[9];
        vn_tm(t, &tm);
        snprintf(tmp, sizeof tmp, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        snprintf(day, sizeof day, "%.8s", tmp);
        fn(day, ud);
    }
}

/* ===== Dossiers ===== */

bool indicator_fully_online(const struct dossier *d)
{
    if (!dossier_flag(d, DF_SUBMITTED_ONLINE))
        return false;
    return dossier_fee(d) == 0 || dossier_flag(d, DF_PAID_ONLINE);
}

bool indicator_on_time(const struct dossier *d, bool *judged)
{
    time_t finished, due;
    const char *fin = dossier_get(d, DF_FINISHED_AT);
    *judged = *fin && dossier_time_parse(fin, &finished) == 0 && dossier_due_end(d, &due);
    return *judged && finished <= due;
}

static bool time_in(const struct dossier *d, enum dossier_field f, const struct period *p)
{
    time_t t;
    const char *s = dossier_get(d, f);
    return *s && dossier_time_parse(s, &t) == 0 && period_contains(p, (int64_t)t);
}

void indicator_add_dossier(struct indicator_counts *c, const struct dossier *d,
                           const struct period *p)
{
    if (time_in(d, DF_RECEIVED_AT, p)) {
        c->received++;
        c->fully_online += indicator_fully_online(d);
        if (dossier_fee(d) > 0 && (dossier_flag(d, DF_PAID) || dossier_flag(d, DF_PAID_ONLINE))) {
            c->fee_paid++;
            c->fee_paid_online += dossier_flag(d, DF_PAID_ONLINE);
        }
    }
    if (time_in(d, DF_FINISHED_AT, p)) {
        bool judged;
        bool on_time = indicator_on_time(d, &judged);
        c->finished += judged;
        c->on_time += on_time;
    }
}

/* ===== Counts ===== */

void indicator_add_rating(struct indicator_counts *c, int stars, long count)
{
    if (stars < 1 || stars > 5 || count <= 0)
        return;
    c->ratings += count;
    if (stars >= 4)
        c->satisfied += count;
}

void indicator_add_code_time(struct indicator_counts *c, long seconds)
{
    if (seconds < 0)
        return;
    if (c->n_code == c->cap_code) {
        c->cap_code = c->cap_code ? 2 * c->cap_code : 16;
        c->code_secs = xrealloc(c->code_secs, c->cap_code * sizeof *c->code_secs);
    }
    c->code_secs[c->n_code++] = seconds;
}

void indicator_merge(struct indicator_counts *dst, const struct indicator_counts *src)
{
    dst->received += src->received;
    dst->fully_online += src->fully_online;
    dst->fee_paid += src->fee_paid;
    dst->fee_paid_online += src->fee_paid_online;
    dst->finished += src->finished;
    dst->on_time += src->on_time;
    dst->ratings += src->ratings;
    dst->satisfied += src->satisfied;
    dst->handoffs += src->handoffs;
    dst->assists += src->assists;
    dst->messages += src->messages;
    dst->not_understood += src->not_understood;
    for (size_t i = 0; i < src->n_code; i++)
        indicator_add_code_time(dst, src->code_secs[i]);
}

void indicator_counts_free(struct indicator_counts *c)
{
    free(c->code_secs);
    memset(c, 0, sizeof *c);
}

double indicator_share(long part, long whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : -1;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

double indicator_code_median(struct indicator_counts *c)
{
    if (c->n_code == 0)
        return -1;
    qsort(c->code_secs, c->n_code, sizeof *c->code_secs, cmp_long);
    size_t m = c->n_code / 2;
    if (c->n_code % 2)
        return (double)c->code_secs[m];
    return ((double)c->code_secs[m - 1] + (double)c->code_secs[m]) / 2;
}
