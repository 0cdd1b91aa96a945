/* outside — questions another office answers: a line the matcher read as
 * khac (out of scope) that names such a topic ("bảo hiểm xã hội", "vssid")
 * gets that topic's answer — who serves it and where to ask — instead of
 * "tôi chưa hiểu", which would not be true: the line was understood, it is
 * just not a procedure this bot serves.
 *
 * The topics are data: "outside" of intents/khac.json, in order, each
 *     {"phrases": ["bao hiem xa hoi", "vssid"], "reply": "outside_bhxh"}
 * phrases written lower case without diacritics, matched as whole words on
 * the line as the matcher rewrote it (folded, abbreviations expanded:
 * "bhxh" is already "bao hiem xa hoi"); the first topic with a phrase in the
 * line wins. The reply templates state facts: the file's "source" says
 * where they come from (intents/README.md).
 *
 * Read from the catalog's parsed file on each call (a handful of phrases):
 * nothing is loaded, owned or freed here. */
#ifndef DVCBOT_OUTSIDE_H
#define DVCBOT_OUTSIDE_H

#include "dvcbot/catalog.h"
#include "dvcbot/tpl.h"

#include <stdbool.h>

#define OUTSIDE_KEY "outside" /* key of the fallback intent's file */

/* The template answering line (folded, rewritten) for the fallback intent
 * in, or NULL when it names no topic (in or line NULL: NULL). */
const char *outside_reply(const struct intent *in, const char *line);

/* Whether name is the reply template of one of in's topics. */
bool outside_names_template(const struct intent *in, const char *name);

/* Reports every problem of in's "outside" (not an array, a topic without
 * phrases or reply, a phrase not lower case without diacritics, a reply
 * template set does not hold) as (file, field, reason); returns how many. */
int outside_check(const struct intent *in, const struct tpl_set *set, catalog_report_fn report,
                  void *ud);

#endif
