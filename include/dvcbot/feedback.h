/* feedback — satisfaction ratings (1–5) and optional comments.
 *
 * After a flow (and for intent gop_y) the user gets five buttons rate:<n>.
 * The rating is counted per procedure and commune (stats.h), taken from
 * session.after {"id", "commune"} that flow.c leaves behind ("chung" for a
 * general rating); one rating per finished flow. Then the session's mode is
 * "feedback" and the next typed line is kept as a comment (fb:skip skips it;
 * a command or a clear request — FEEDBACK_REQUEST_SCORE — is handled instead):
 * a JSON line in the user's list fb:{<user key>} (last FEEDBACK_KEEP) and the
 * user in the zset {stats}:comments (listed in refs:{<user key>}), so staff
 * can find recent comments and erase-my-data removes them.
 *
 * Under "Anh/chị có góp ý gì thêm không?" a typed "không" / "thôi" skips
 * like fb:skip and "có" asks for the comment; neither is stored (words from
 * flowdef.h).
 *
 * Intent gop_y enters that mode at once, unrated: a comment typed before the
 * stars is kept with "stars": 0, and "5" / "5 sao" typed counts as the rating.
 *
 * Intent khieu_nai (a complaint about staff or how a dossier was handled)
 * answers how to complain (templates/complaint_info.txt) with a button
 * FEEDBACK_COMPLAINT_PAYLOAD; pressing it enters the same comment mode, and
 * the line is stored the same way with "kind": FEEDBACK_KIND_COMPLAINT
 * (comments carry FEEDBACK_KIND_COMMENT), counted as "complaints" in
 * {stats}:misc. A comment after a rating that the matcher takes for a
 * complaint (khieu_nai, FEEDBACK_REQUEST_SCORE) is stored as one too: these
 * two are the only kinds a stored line has, and readers (the console) know
 * no other.
 *
 * feedback_new registers the handlers; the struct only holds pointers. */
#ifndef DVCBOT_FEEDBACK_H
#define DVCBOT_FEEDBACK_H

#include "dvcbot/dialog.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/stats.h"

#define FEEDBACK_KEEP 50
#define FEEDBACK_COMMENT_MAX 300 /* characters */
/* After a rating, a line the matcher takes for an action (lookup, payment,
 * hand-off...) with at least this score is handled, not kept as a comment. */
#define FEEDBACK_REQUEST_SCORE 0.8
#define FEEDBACK_COMPLAINT_PAYLOAD "fb:complaint"
#define FEEDBACK_KIND_COMMENT "comment"
#define FEEDBACK_KIND_COMPLAINT "complaint"

struct feedback;

/* words: the yes/no words (borrowed; lives longer than the feedback). */
/* After a flow, its rating question enters the comment mode too (unrated,
 * "flow" in the session's "fb" context): "5" is the stars, a comment is kept
 * for that procedure; a line the matcher is sure asks for something else
 * (a procedure, an act; not gop_y, khieu_nai, khac) or that fn says is a
 * question (a fact of a procedure, followup.h) leaves it and is routed as
 * usual. fn sees t->match set. One hook; none by default. */
typedef bool (*feedback_question_fn)(const struct dialog_turn *t, void *ud);
void feedback_on_question(struct feedback *fb, feedback_question_fn fn, void *ud);
struct feedback *feedback_new(struct dialog *d, struct stats *st, const struct flow_set *words);
void feedback_free(struct feedback *fb);

/* session.after, built only here: what follows a finished flow or a
 * general rating request — {"id": the intent rated (STATS_GENERAL for the
 * service as a whole), "commune": where (flows; "" when unknown), "rated":
 * true once rated, and what flow_end.c adds: "save" (profile answers waiting
 * for consent, profile.c), "fields", "code"}.
 * Replaces any earlier one and returns it (owned by the session); commune
 * NULL leaves it out. */
cJSON *feedback_after_begin(struct dialog_turn *t, const char *id, const char *commune);

/* Appends the rating question for session.after, unless it was rated. */
void feedback_ask_rating(struct dialog_turn *t);

#endif
