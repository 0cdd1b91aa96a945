/* nothing_asked — lines that ask nothing yet: a politeness particle alone
 * ("ạ"), or only the village the user is from ("bản Nà Sản"). They get
 * "what do you need?" instead of a procedure that shares a syllable with
 * the village's name, a greeting (read from "ạ" = "a" = "anh") or
 * "tôi chưa hiểu".
 *
 * The words are data: "nothing_asked" of intents/khac.json,
 *     {"particles": ["ạ"], "places": ["bản"], "reply": "ask_need"}
 * each compared as typed, marks included ("ạ" is not "a"). A place line is
 * a place word and one to NOTHING_ASKED_NAME_WORDS more words, and nothing
 * else; it asks nothing when the matcher read it as out of scope, or as a
 * procedure with every word of the name capitalised ("bản Thẳm Hon"), never
 * when it was read as another answer (a commune's name, "Bản Lang").
 *
 * Read from the catalog's parsed file on each call: nothing is loaded,
 * owned or freed here. */
#ifndef DVCBOT_NOTHING_ASKED_H
#define DVCBOT_NOTHING_ASKED_H

#include "dvcbot/catalog.h"
#include "dvcbot/tpl.h"

#include <stdbool.h>

#define NOTHING_ASKED_KEY "nothing_asked" /* key of the fallback intent's file */
#define NOTHING_ASKED_NAME_WORDS 3

/* The template answering text (as typed) for the fallback intent in, or
 * NULL when it asks something; read: what the matcher read it as (may be
 * NULL). */
const char *nothing_asked_reply(const struct intent *in, const char *text,
                                const struct intent *read);

/* Whether name is in's "nothing_asked" reply template. */
bool nothing_asked_names_template(const struct intent *in, const char *name);

/* Reports every problem of in's "nothing_asked" (not an object, a list
 * not of single words, a reply template set does not hold) as (file,
 * field, reason); returns how many. */
int nothing_asked_check(const struct intent *in, const struct tpl_set *set,
                        catalog_report_fn report, void *ud);

#endif
