/* lookup — "tra cứu hồ sơ": a citizen (or a volunteer beside them) sees a
 * dossier after giving its code and proving it is theirs: the last 4 digits
 * of the applicant's phone or ID number, or the whole number (which still
 * works while the 4-digit check of that dossier is paused); then may follow
 * it ("Nhận thông báo") or pay its fee.
 *
 * Dialogue: intent tra_cuu_ho_so (a code in the same message is used at
 * once) → mode "lookup", step "code" → step "pin" → the details. A line
 * asking something else (another intent, or a question lookup_on_question's
 * hook answers) ends the mode and is answered as usual. A wrong code
 * and a wrong proof get the same reply, from one Lua script that also limits
 * the tries per source, per dossier, for new accounts and for everyone
 * (lookup_guard.h; limits from DVCBOT_LOOKUP_*). The web chat's source is the
 * client's address group (msg->source), other channels' the account. When
 * the source is paused the user is told to wait; when only the 4-digit check
 * is, to type the whole number. A success is remembered in the session (key
 * "hs") for LOOKUP_VERIFIED_S, so the buttons work without asking again, and
 * recorded in the dossier's access log dossier:access:<CODE>.
 *
 * Buttons: "hs:code:<CODE>" (show), "hs:sub:<CODE>" (follow: SADD
 * sub:<CODE> <user key> and refs:{<user key>} sub:<CODE>), "hs:unsub:<CODE>",
 * "hs:pay:<CODE>" (payment link). Intent thanh_toan asks for the code the same
 * way, or uses the dossier verified last. Following a dossier that is not
 * stored yet (a code typed at the end of a guided flow, a minute after the
 * submission) waits for it: lookup_pending says so, and the owner proof is
 * checked when the dossier arrives (lookup_guard.h).
 *
 * lookup_new registers the handlers on the dialog; the struct lives until
 * lookup_free, after the dialog has no pending turns. */
#ifndef DVCBOT_LOOKUP_H
#define DVCBOT_LOOKUP_H

#include "dvcbot/dialog.h"
#include "dvcbot/payment.h"

#define LOOKUP_VERIFIED_S (30 * 60)
#define LOOKUP_SESSION_CODES 5   /* verified codes remembered per session */

struct lookup;

struct lookup *lookup_new(struct dialog *d, struct payment *payment);
/* Called once the user follows a dossier ("hs:sub:", after the owner check)
 * or waits for it to be stored, in the same turn, after the "subscribed" or
 * "pending" reply and before done: a guided
 * flow that ended with this code asks its closing questions. One hook. */
typedef void (*lookup_followed_fn)(struct dialog_turn *t, const char *code, void *ud);
void lookup_on_followed(struct lookup *l, lookup_followed_fn fn, void *ud);
/* Asked, while the lookup waits for a code or the 4 digits, about a typed
 * line holding no digit that the matcher reads as nothing, a lookup or a
 * payment: true when another reader answers it (a question about one fact,
 * followup.h). The lookup then ends, counting no try, and the line is
 * routed as usual; a line with a digit still gets "type it again". t->match
 * is set. One hook; none by default. */
typedef bool (*lookup_question_fn)(const struct dialog_turn *t, void *ud);
void lookup_on_question(struct lookup *l, lookup_question_fn fn, void *ud);
/* Asked about every line typed while the lookup waits for a code or the 4
 * digits: true when it is a word for stopping ("hủy", "huy", "thôi"). The
 * lookup then ends with lookup_cancelled, counting no try. One hook; none
 * by default. */
typedef bool (*lookup_cancel_fn)(const char *text, void *ud);
void lookup_on_cancel(struct lookup *l, lookup_cancel_fn fn, void *ud);
void lookup_free(struct lookup *l);

#endif
