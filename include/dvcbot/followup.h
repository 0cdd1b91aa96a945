/* followup — the procedure a conversation is about, and the questions that
 * follow about one of its facts without naming it again.
 *
 * "khai sinh" → the summary of Đăng ký khai sinh; then "phí bao nhiêu" →
 * the khai sinh fee. The session (Redis, per user) keeps the procedure last
 * shown (summary, "Xem đầy đủ", a guided flow, a dossier looked up, a fact
 * answered here) as {"ctx": {"p": "<id>", "at": <unix time>}}; it is the
 * conversation's for facets_context_ttl seconds of the test clock
 * (clock_now). A typed line that asks a facet (facets.h) and names no
 * procedure is answered for that procedure: one short reply with the fact,
 * the procedure's name and buttons to the next step (templates
 * followup_<facet>.txt); with no procedure in the conversation the bot asks
 * which one (followup_ask, with the topic menu) and notes the question
 * ({"ctx": {"ask": "<facet>", "at": ...}}): a procedure typed as the next
 * message gets that fact (any other typed message or procedure shown drops
 * the note), and so does a procedure button ("i:<id>", the topic menu's)
 * pressed while the note lasts. A line naming a procedure and asking a facet of it ("khai sinh hết bao nhiêu tiền") gets that fact
 * of it, and the conversation moves to it; any other line is routed as
 * usual (a procedure named shows its summary, which switches too); a
 * lookup or payment typed without a procedure ("context_acts") is handed
 * the conversation's (t->match.procedure): it asks for that dossier's code.
 *
 * followup_new registers a dialog_on_text reader; the dialog must outlive
 * it. It owns its facets (facets_load); nothing it does is asynchronous. */
#ifndef DVCBOT_FOLLOWUP_H
#define DVCBOT_FOLLOWUP_H

#include "dvcbot/dialog.h"
#include "dvcbot/facets.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define FOLLOWUP_SESSION_KEY "ctx"
/* Bytes of a fact (fee text, time, agency, who) one fact reply shows; a
 * longer one is cut with "…" (`dvcbot check` refuses it). */
#define FOLLOWUP_FIELD_BYTES 600
/* Button "fu:<act>:<procedure id>": the act (one of context_acts, e.g. the
 * payment of the fee reply) about that procedure, as if the user had typed
 * it naming the procedure. */
#define FOLLOWUP_ACT_PAYLOAD "fu:"

/* Notes in the session that the conversation is now about procedure_id. */
void followup_remember(cJSON *session, const char *procedure_id, int64_t now);
/* The procedure the conversation is about at now, or NULL when none was
 * shown or it was more than ttl_s seconds ago. Points into session. */
const char *followup_context(const cJSON *session, int64_t now, unsigned ttl_s);

struct followup;

/* Appends to out the reply a question about one fact of procedure in gets
 * (template followup_<facet>, or its followup_<facet>_<online> variant),
 * the fee being the one in force at now. -1 (nothing appended) when in is
 * no procedure or facet none; -1 too when the template is missing. For the
 * dialog and for `dvcbot check`, which measures it. */
int followup_reply_fact(const struct tpl_set *tpl, const struct intent *in, enum facet facet,
                        int64_t now, struct bot_replies *out);

/* Loads intents/_facets.json of the dialog's catalog and registers the
 * reader. NULL with a message in *err (caller frees) when the file is
 * malformed. */
struct followup *followup_new(struct dialog *d, char **err);
void followup_free(struct followup *fu);

/* True when the typed line of t (t->match set by the caller) is a question
 * about one fact that the follow-up reader would answer: of the
 * conversation's procedure, of a procedure it names, or "which procedure?".
 * Touches nothing; a mode waiting for something else (a dossier code) lets
 * such a line go. */
bool followup_asks_fact(const struct followup *fu, const struct dialog_turn *t);

/* For a guided flow about procedure about: when the typed line of t
 * (classified: t->match and t->line set) asks one fact of about ("phí bao
 * nhiêu") or of a procedure it names, that fact as its reply template
 * followup_<facet> words it, text only (the caller shows its own buttons);
 * NULL when it asks none. With need_question (where the flow expects an
 * answer: a name, a date), only a line that asks (a question word or '?')
 * counts. Touches nothing but the follow-up counter; caller frees. */
char *followup_fact_text(const struct followup *fu, const struct dialog_turn *t,
                         const struct intent *about, bool need_question);

#endif
