/* erase_desk — erasure at the commune desk: a resident who stands at the
 * desk asks an officer to erase their data, and proves the chat account is
 * theirs with a one-time code shown only in that chat.
 *
 * In the chat: the button "erase:desk" under the erase confirmation (erase.c
 * hands it here) draws a 6-digit code and shows it (template erase_desk_code).
 * Redis keeps its SHA-256 under the user's tag, ec:{<user key>}, and an index
 * ec:h:<sha256> → user key listed in refs:{<user key>} (so erase-my-data
 * deletes both), for ERASE_DESK_CODE_S; a new code replaces the old one, and
 * "Không xóa" (erase:no, or a typed no under the question) drops it
 * (erase_desk_cancel, Redis function desk_code_drop).
 *
 * At the desk (console_erase.c): erase_desk_take checks a typed code in one
 * Redis function (desk_code_take): wrong tries count per token and per
 * address group, ERASE_DESK_WINDOW_S each, and at `limit` of either nothing
 * is read; unknown, expired and replaced codes are answered alike; a right
 * code is deleted in the same call. The erasure is then ordered as the
 * user's own press of "erase:yes" (dialog_handle_stored where the channel's
 * replies are durable, else dialog_handle with the replies sent through the
 * outbox): the one erase path, erase_done in the resident's chat.
 *
 * What was erased reaches the desk too, without anything about the person:
 * while the ordered turn runs, the take is listed as in hand (file-private
 * list, this loop's only); erase.c, when the erasure went well, hands its
 * summary to the take in hand for that user (erase_desk_erased). A turn
 * that ends without one (Redis failed in the middle) is ERASE_DESK_FAILED.
 *
 * Callbacks: erase_desk_take returns 0 and calls cb exactly once (store
 * down included), or returns -1 (Redis unavailable) and never calls it. */
#ifndef DVCBOT_ERASE_DESK_H
#define DVCBOT_ERASE_DESK_H

#include "dvcbot/dialog.h"
#include "dvcbot/erase.h"
#include "dvcbot/store.h"

#define ERASE_DESK_PAYLOAD "erase:desk"
#define ERASE_DESK_DIGITS 6
#define ERASE_DESK_CODE_S 600        /* a code lasts 10 minutes */
#define ERASE_DESK_WINDOW_S 900      /* wrong tries counted 15 minutes, as sign-ins */
#define ERASE_DESK_DRAWS 4           /* draws when a code is another resident's */

/* The chat side: draws, stores and shows a code; finishes the turn. */
void erase_desk_issue(struct dialog_turn *t);
/* The chat side of "Không xóa": drops the user's outstanding code (a
 * resident who said no must not be erasable by a code they were shown),
 * then calls then(t), which replies and finishes the turn. When the code
 * cannot be dropped (Redis down or degraded), the turn gets busy_store
 * instead and then is never called: the user presses again. */
void erase_desk_cancel(struct dialog_turn *t, void (*then)(struct dialog_turn *t));

enum erase_desk_result {
    ERASE_DESK_ORDERED,   /* the code was right: the user's erasure has run */
    ERASE_DESK_UNKNOWN,   /* wrong, expired or replaced: counted as a wrong try */
    ERASE_DESK_WAIT,      /* too many wrong tries from this token or address */
    ERASE_DESK_STORE_DOWN,
    ERASE_DESK_FAILED,    /* right code, but the erasure could not be ordered */
};

/* user_key: the erased user's key (for the audit's hash; "" unless ORDERED
 * or FAILED); what: what was erased (ORDERED only, else NULL); both valid
 * during the call. */
typedef void (*erase_desk_cb)(enum erase_desk_result res, const char *user_key,
                              const struct erase_summary *what, void *ud);

/* True when code is ERASE_DESK_DIGITS digits, spaces allowed between
 * ("123 456" as read out); the digits into out (ERASE_DESK_DIGITS + 1). */
bool erase_desk_code_read(const char *code, char *out);

/* erase.c: the erasure of t's user went well; the desk erasure in hand for
 * that user on t's dialog, if any, keeps a copy of sum. */
void erase_desk_erased(const struct dialog_turn *t, const struct erase_summary *sum);

/* code: read by erase_desk_code_read; token_id: who typed it (the
 * fingerprint of their token); addr: their address group (netaddr.h). */
int erase_desk_take(struct dialog *d, const char *code, const char *token_id, const char *addr,
                    unsigned limit, erase_desk_cb cb, void *ud);

#endif
