/* dossier_input — what staff exports write that the dossier record reads:
 * Excel's day/month/year dates and the console's Vietnamese status names.
 *
 * Dates: "20/11/2024", "20/11/2024 8:00" or "20/11/2024 08:00:30" (Vietnam
 * time; d/m with one or two digits, the year in full) become ISO 8601 —
 * "2024-11-20" (a bare date, as dossier.h keeps it) or
 * "2024-11-20T08:00:30+07:00". What could be read two ways is refused, never
 * guessed: a two-digit year, a month over 12 (the date was written
 * month/day), a 12-hour time (AM/PM, SA/CH).
 *
 * Status names: intents/_dossier_status.json ("names": code -> the name the
 * console shows), the catalog extra "dossier_status". A cell is compared
 * folded (normalize.h: no case, no diacritics, '_' as a space) with every
 * code and name; it must fit exactly one status.
 *
 * Pure functions; reasons are static English strings (the API's), which the
 * console translates (templates/console/console_texts.js). */
#ifndef DVCBOT_DOSSIER_INPUT_H
#define DVCBOT_DOSSIER_INPUT_H

#include "dvcbot/catalog.h"

#include <stddef.h>

#define DOSSIER_ISO_MAX 80 /* "2024-11-20T08:00:30+07:00" with room for any int (the compiler checks it) */

/* 1: s is not written day/month/year (no '/'); 0: out holds the ISO form;
 * -1: refused, *why says why. */
int dossier_dmy_to_iso(const char *s, char out[DOSSIER_ISO_MAX], const char **why);

/* The status code s names (a code or a name, folded), or NULL with *why
 * ("unknown status" or "ambiguous status"). */
const char *dossier_status_read(const struct catalog *cat, const char *s, const char **why);

/* For dvcbot check: reports a status without a name, and a name that does
 * not read back as its own status (it folds like another). Returns the
 * number of problems. */
int dossier_status_check(const struct catalog *cat, catalog_report_fn report, void *ud);

/* The "names" object of the catalog extra, or NULL. */
const cJSON *dossier_status_names(const struct catalog *cat);

#endif
