/* indicator — the arithmetic of the indicators the provinces are judged on
 * (the staff console's Indicators section), kept free of I/O so every rule
 * is unit-tested.
 *
 * Reporting periods close on the 14th (the provinces' cut-off day, as in
 * Decree 09/2019/NĐ-CP on reporting): month M runs from the 15th of month
 * M-1, 00:00, to the 14th of M, 23:59:59, Vietnam time (UTC+7); a quarter
 * ends with the 14th of March, June, September or December (Q1 2025 runs
 * 15/12/2024 – 14/03/2025); the first half ends on 14 June, the year on
 * 14 December. Ids: "2025-M03", "2025-Q1", "2025-H1", "2025-Y".
 *
 * Per dossier (dossier.h):
 *   - counted as received in a period when received_at falls in it; such a
 *     dossier is fully online when it was submitted online and, if it has a
 *     fee, the fee was paid online (target ≥ INDICATOR_TARGET_FULLY_ONLINE %);
 *   - among received dossiers with a fee that was paid (paid or paid_online),
 *     the share paid online;
 *   - counted as finished in a period when finished_at falls in it and it has
 *     a due_at; on time when finished_at ≤ due_at (a bare due date lasts to
 *     the end of that day; target 100 %).
 * Satisfaction is the share of 4–5 star ratings (target ≥ 95 %). A share
 * with nothing to divide by is "none" (-1), never 0 %. */
#ifndef DVCBOT_INDICATOR_H
#define DVCBOT_INDICATOR_H

#include "dvcbot/dossier.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INDICATOR_TARGET_FULLY_ONLINE 70.0
#define INDICATOR_TARGET_ON_TIME 100.0
#define INDICATOR_TARGET_SATISFACTION 95.0
#define INDICATOR_CUTOFF_DAY 14
#define INDICATOR_PERIOD_ID_MAX 12
#define INDICATOR_VN_OFFSET_S (7 * 3600)

enum period_kind { PERIOD_MONTH, PERIOD_QUARTER, PERIOD_HALF, PERIOD_YEAR };

struct period {
    enum period_kind kind;
    int year;
    int index;                  /* month 1-12, quarter 1-4, half 1-2; 0 for a year */
    int64_t from, to;           /* unix s, from ≤ t < to */
    char id[INDICATOR_PERIOD_ID_MAX];
};

/* Parses a period id. Returns 0, or -1 for anything else. */
int period_parse(const char *id, struct period *out);
/* The period of this kind that t falls in. */
void period_containing(enum period_kind kind, int64_t t, struct period *out);
/* The period of the same kind just before p. */
void period_previous(const struct period *p, struct period *out);
bool period_contains(const struct period *p, int64_t t);
/* "YYYY-MM-DD" (Vietnam date) of the first and the last day of p. */
void period_first_day(const struct period *p, char out[11]);
void period_last_day(const struct period *p, char out[11]);
/* Calls fn with "YYYYMMDD" of every Vietnam day in p, in order. */
void period_each_day(const struct period *p, void (*fn)(const char *day, void *ud), void *ud);

/* What one group (a commune, an agency, a procedure, or all) adds up to. */
struct indicator_counts {
    long received, fully_online;
    long fee_paid, fee_paid_online;
    long finished, on_time;
    long ratings, satisfied;
    long handoffs, assists;
    long messages, not_understood;
    long *code_secs;            /* times from a flow's start to the dossier code */
    size_t n_code, cap_code;
};

bool indicator_fully_online(const struct dossier *d);
/* Whether the dossier finished on time; false with *judged = false when it
 * is not finished or has no readable due date. */
bool indicator_on_time(const struct dossier *d, bool *judged);

/* Adds a dossier to c as far as it belongs to period p. */
void indicator_add_dossier(struct indicator_counts *c, const struct dossier *d,
                           const struct period *p);
void indicator_add_rating(struct indicator_counts *c, int stars, long count);
void indicator_add_code_time(struct indicator_counts *c, long seconds);
/* Adds everything of src to dst (the totals row). */
void indicator_merge(struct indicator_counts *dst, const struct indicator_counts *src);
void indicator_counts_free(struct indicator_counts *c);

/* part / whole in percent, or -1 when whole is 0. */
double indicator_share(long part, long whole);
/* Median of the code times in seconds (sorts them), or -1 with none. */
double indicator_code_median(struct indicator_counts *c);

#endif
