/* procedure_fee — what a procedure costs on a given day.
 *
 * A procedure's fee_text / fee_vnd / fee_online_reduced (catalog.h) are the
 * fee that lasts. A fee in force only for a while (a reduction "đến hết
 * 31/12/2026") is one entry of the optional "fee_periods" of the procedure
 * facts, in date order:
 *     "fee_periods": [{"until": "2026-12-31", "fee_text": "...",
 *                      "fee_vnd": -1, "fee_online_reduced": false}]
 * "until" is the last day (Vietnam time) the entry applies; fee_text is
 * required, fee_vnd and fee_online_reduced default to the procedure's own.
 * The fee at a moment is the first entry whose day has not ended, else the
 * procedure's own: the reply changes by itself at midnight after "until".
 * Readers ask procedure_fee_at(p, clock_now()).
 *
 * The periods point into the catalog's parsed JSON; the catalog owns them. */
#ifndef DVCBOT_PROCEDURE_FEE_H
#define DVCBOT_PROCEDURE_FEE_H

#include "dvcbot/catalog.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCEDURE_FEE_PERIODS_MAX 8

struct fee_period {
    const char *until;           /* YYYY-MM-DD, the last day */
    int64_t ends;                /* unix time the next day starts, +07:00 */
    const char *fee_text;
    long fee_vnd;
    bool fee_online_reduced;
};

struct procedure_fee {
    const char *text;            /* fee_text in force */
    long vnd;
    bool online_reduced;
};

/* The fee in force at now (unix time). */
struct procedure_fee procedure_fee_at(const struct procedure_info *p, int64_t now);
/* Which of p's fee_periods is in force at now, -1 for the lasting fee. */
int procedure_fee_period_at(const struct procedure_info *p, int64_t now);

/* Checks "fee_periods" of a procedure section (absent is fine), reporting
 * each problem as field "procedure.fee_periods[i]...". Returns true when
 * sound. */
bool procedure_fee_check(const cJSON *proc, const char *file, struct problems *pb);
/* Reads the periods of a checked section into a new array (*n of them,
 * NULL when none), defaults taken from base; caller frees. */
struct fee_period *procedure_fee_read(const cJSON *proc, const struct procedure_info *base, size_t *n);

#endif
