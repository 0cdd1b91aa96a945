/* volunteer_household — a volunteer closes each household visit in the chat,
 * and the coverage per commune and village (bản) that staff see.
 *
 * The provinces' door-to-door target per household: at least one person who
 * can use VNeID level 2, and the family's dossiers submitted and paid online.
 * A registered volunteer (volunteer.h) taps "hh:start" (offered when they
 * start or stop assisting and at the end of an assisted flow):
 *   1. the resident's consent is asked first: hh:c:y records it, hh:c:n ends
 *      there (counted as refused, nothing else kept);
 *   2. tap one: the village — a button per village staff set up for the
 *      volunteer's commune (hh:v:<i>), or the name typed (mode "household");
 *   3. tap two: the outcome in one of HOUSEHOLD_OUTCOMES buttons
 *      hh:o:<vneid><submitted><paid> ("110": VNeID yes, submitted online yes,
 *      paid online no; a household with nothing to pay counts as paid).
 * The commune is the volunteer's registered one (vol:{..}.commune), else the
 * one they are assisting in (session.assist), else unknown.
 *
 * Redis layout (nothing here names a resident):
 *   coverage:villages  hash "<commune key>|<village key>" → JSON {"commune",
 *                      "village", "households"}: the villages staff set up
 *                      and how many households each has (the target)
 *   coverage:done      hash "<commune key>|<village key>|<what>" → count, what
 *                      = visits, vneid, online, paid, met (all three);
 *                      "<commune key>||refused" for refused consent
 *   coverage:log       list of JSON {"at", "commune", "village", "consent":
 *                      "yes", "vneid", "online", "paid"}, newest first, at
 *                      most HOUSEHOLD_LOG_KEEP: the consent record of each visit
 *   vol:{<volunteer>}  hash: households (visits closed) — with commune and
 *                      added_at set by volunteer_register
 * Commune and village keys are commune_key() (commune.h) and norm_fold.
 *
 * household_new registers the dialog handlers; the struct holds pointers. */
#ifndef DVCBOT_VOLUNTEER_HOUSEHOLD_H
#define DVCBOT_VOLUNTEER_HOUSEHOLD_H

#include "dvcbot/dialog.h"
#include "dvcbot/stats.h"

#define HOUSEHOLD_MODE "household"
#define HOUSEHOLD_VILLAGES_KEY "coverage:villages"
#define HOUSEHOLD_DONE_KEY "coverage:done"
#define HOUSEHOLD_LOG_KEY "coverage:log"
#define HOUSEHOLD_LOG_KEEP 100000
#define HOUSEHOLD_VILLAGE_MAX 60      /* characters of a village name */
#define HOUSEHOLD_VILLAGE_BUTTONS 12
#define HOUSEHOLD_OUTCOMES 6

struct household;

struct household *household_new(struct dialog *d);
void household_free(struct household *h);

/* "<commune key>|<village key>" of a commune and village name (out: at
 * least 2 * COMMUNE_KEY_MAX bytes). */
void household_village_field(const char *commune, const char *village, char *out, size_t cap);

#endif
