/* dossier_input — Excel's dates and the console's status names in uploads. */
#include "dvcbot/dossier_input.h"
#include "dvcbot/dossier.h"
#include "dvcbot/normalize.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FOLD_MAX 128

static const char R_YEAR[] = "a two-digit year is ambiguous: write day/month/year with the year in "
                             "full, e.g. 20/11/2024";
static const char R_MONTH_FIRST[] = "the month is over 12, so the date was written month/day: "
                                    "write day/month/year, e.g. 20/11/2024";
static const char R_NO_DAY[] = "no such day (dates are read day/month/year, e.g. 20/11/2024)";
static const char R_TIME[] = "the time after the date must be 24-hour h:mm, e.g. 20/11/2024 14:30 "
                             "(AM/PM is ambiguous)";
static const char R_UNKNOWN[] = "unknown status";
static const char R_AMBIGUOUS[] = "unknown status: the name fits several statuses";

/* 1..max digits at *p; returns how many were read (0: none or too many). */
static int digits(const char **p, int max, int *out)
{
    int n = 0, v = 0;
    while (isdigit((unsigned char)(*p)[n])) {
        v = v * 10 + ((*p)[n] - '0');
        if (++n > max)
            return 0;
    }
    *p += n;
    *out = v;
    return n;
}

/* " h:mm" or " hh:mm:ss" after the date; 1 when absent, 0 when read. */
static int read_time(const char *p, int *h, int *mi, int *sec)
{
    *h = *mi = *sec = 0;
    if (!*p)
        return 1;
    if (*p != ' ')
        return -1;
    while (*p == ' ')
        p++;
    if (!digits(&p, 2, h) || *p++ != ':' || digits(&p, 2, mi) != 2)
        return -1;
    if (*p == ':' && (p++, digits(&p, 2, sec) != 2))
        return -1;
    while (*p == ' ')
        p++;
    return *p || *h > 23 || *mi > 59 || *sec > 59 ? -1 : 0;
}

int dossier_dmy_to_iso(const char *s, char out[DOSSIER_ISO_MAX], const char **why)
{
    if (!strchr(s, '/'))
        return 1;
    const char *p = s;
    int d, m, y, h, mi, sec;
    int ny = 0;
    if (!digits(&p, 2, &d) || *p++ != '/' || !digits(&p, 2, &m) || *p++ != '/' ||
        !(ny = digits(&p, 4, &y))) {
        *why = R_NO_DAY;
        return -1;
    }
    int timed = read_time(p, &h, &mi, &sec);
    if (ny != 4) {
        *why = ny == 2 ? R_YEAR : R_NO_DAY;
        return -1;
    }
    if (m > 12 && d >= 1 && d <= 12) {
        *why = R_MONTH_FIRST;
        return -1;
    }
    if (timed < 0) {
        *why = R_TIME;
        return -1;
    }
    if (timed)
        snprintf(out, DOSSIER_ISO_MAX, "%04d-%02d-%02d", y, m, d);
    else
        snprintf(out, DOSSIER_ISO_MAX, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", y, m, d, h, mi, sec);
    time_t t;
    if (dossier_time_parse(out, &t) != 0) {
        *why = R_NO_DAY;
        return -1;
    }
    return 0;
}

const cJSON *dossier_status_names(const struct catalog *cat)
{
    const cJSON *extra = cat ? catalog_extra(cat, "dossier_status") : NULL;
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(extra, "names");
    return cJSON_IsObject(names) ? names : NULL;
}

static bool fold_equal(const char *a, const char *folded_b)
{
    char fa[FOLD_MAX];
    size_t n = norm_fold_into(a, strlen(a), fa, sizeof fa);
    return n > 0 && n < sizeof fa && strcmp(fa, folded_b) == 0;
}

/* Whether status st is named folded (by its code or its console name). */
static bool status_fits(const cJSON *names, int st, const char *folded)
{
    const char *code = dossier_status_name((enum dossier_status)st);
    if (fold_equal(code, folded))
        return true;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(names, code);
    return cJSON_IsString(name) && fold_equal(name->valuestring, folded);
}

const char *dossier_status_read(const struct catalog *cat, const char *s, const char **why)
{
    int exact = dossier_status_from_name(s);
    if (exact >= 0)
        return dossier_status_name((enum dossier_status)exact);
    char folded[FOLD_MAX];
    size_t n = norm_fold_into(s, strlen(s), folded, sizeof folded);
    const char *found = NULL;
    *why = R_UNKNOWN;
    if (n == 0 || n >= sizeof folded)
        return NULL;
    const cJSON *names = dossier_status_names(cat);
    for (int st = 0; st < DOSSIER_STATUS_COUNT; st++) {
        if (!status_fits(names, st, folded))
            continue;
        if (found) {
            *why = R_AMBIGUOUS;
            return NULL;
        }
        found = dossier_status_name((enum dossier_status)st);
    }
    return found;
}

int dossier_status_check(const struct catalog *cat, catalog_report_fn report, void *ud)
{
    const cJSON *names = dossier_status_names(cat);
    int problems = 0;
    for (int st = 0; st < DOSSIER_STATUS_COUNT; st++) {
        const char *code = dossier_status_name((enum dossier_status)st), *why = NULL;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(names, code);
        const char *read = cJSON_IsString(name) ? dossier_status_read(cat, name->valuestring, &why)
                                                : NULL;
        if (!read || strcmp(read, code) != 0) {
            report(ud, "_dossier_status.json", code,
                   read || why == R_AMBIGUOUS ? "the name folds like another status's name or code"
                                              : "every status needs a name (a string)");
            problems++;
        }
    }
    return problems;
}
