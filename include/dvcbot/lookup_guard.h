/* lookup_guard — who may try to prove a dossier is theirs, how often, and
 * the proof itself, as one Redis function (lookup_guard in redis/dvcbot.lua)
 * and the pure C around it (arguments, reply).
 *
 * Proofs: the last 4 digits of the applicant's phone or ID number ("weak":
 * one guess in 5 000 hits one of the two), or the whole number, 9 to 15
 * digits ("full": some 10^8 possibilities). A wrong code and a wrong proof
 * take the same path and get the same answer.
 *
 * Every wrong try counts against its source: a Telegram/Zalo account (its
 * user key), or for the web chat, whose ids cost nothing, the client's
 * address group (msg->source). LOOKUP_ID_FAILS (accounts) or
 * LOOKUP_ADDRESS_FAILS (addresses) wrong tries pause the source for
 * LOOKUP_SOURCE_PAUSE, doubling with each pause up to a day; a source is
 * forgotten a week after its last wrong try. The record is hs:g:s:<sha256 of
 * the source> — not under the user's hash tag, so erase-my-data does not
 * reset it, and it holds no identity in clear.
 * Accounts are new until a day (LOOKUP_NEW_ID_AGE) after their first wrong
 * try, so aging one costs a wrong try: new accounts of a channel share one
 * budget (hs:g:new:<tg|zl|...>), LOOKUP_NEW_ID_FAILS wrong tries, paused like
 * a source, during which new accounts of that channel cannot try at all —
 * fresh accounts cannot multiply guesses.
 * Wrong 4 digits also count against:
 * - the dossier (hs:g:d:<CODE>): LOOKUP_DOSSIER_FAILS pause its 4-digit
 *   check for LOOKUP_DOSSIER_PAUSE, doubling up to 30 days, forgotten 30 days
 *   after the last wrong try. The whole number still works: the owner gets
 *   in while someone hammers the dossier;
 * - everyone (hs:g:all): at most LOOKUP_GLOBAL_FAILS per hour, after which
 *   4 digits are refused until the hour ends (the whole number still works).
 * So whoever controls any number of sources tries at most
 * LOOKUP_DOSSIER_FAILS × 4 digits per dossier per day (3 × 2/10 000: 0.06 %
 * of dossiers learned per day) and LOOKUP_GLOBAL_FAILS × 24 in all; whole
 * numbers (about 10^8 possibilities each) only as fast as the sources they
 * hold allow. tests/unit/test_lookup_guard.c measures it.
 *
 * A follow ("Nhận thông báo", or the code typed at the end of a guided flow)
 * of a dossier not stored yet may wait for it: a try that allows it
 * (lookup_attempt.may_wait) and finds no dossier:<CODE>, after the limits
 * above, stores the proof (hashed with the code) in hs:p:<CODE> and answers
 * LOOKUP_PENDING — the same answer whatever the proof, nothing counted. When
 * staff systems store the dossier, the notifier settles it
 * (lookup_settle_prepare, function dossier_settle_read): the proof is checked
 * against the record then, as a try made at that moment (counted when wrong,
 * 4 digits within the dossier's and everyone's limits, so waiting guesses
 * get no more than tries would); a match follows the dossier, anything else
 * is dropped without a word. A source holds at most LOOKUP_PENDING_ACCOUNT_MAX
 * (an account) or LOOKUP_PENDING_ADDRESS_MAX (a web chat address) pending
 * follows, each LOOKUP_PENDING_S at most (budget hs:g:p:<sha256 of the
 * source>); past that the try is an ordinary wrong one. So learning that a
 * code is not stored costs one of few pending places, learning that it is
 * costs a counted wrong try, as before. The user's refs:{} list hs:p:<CODE>:
 * erase-my-data takes the user out.
 *
 * A success adds the user to the dossier's access log dossier:access:<CODE>
 * (newest LOOKUP_ACCESS_KEEP kept, none older than access_ttl_s) listed in
 * refs:{<user>}, both kept access_ttl_s (DVCBOT_USER_TTL) after the last use. Nothing here reads the clock: the
 * caller passes now. */
#ifndef DVCBOT_LOOKUP_GUARD_H
#define DVCBOT_LOOKUP_GUARD_H

#include "dvcbot/config.h"
#include "dvcbot/dossier.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>

#define LOOKUP_PROOF_MAX 15                      /* digits of a whole number */
#define LOOKUP_PROOF_FULL_MIN 9     /* also in redis/dvcbot.lua (lookup_guard) */
#define LOOKUP_ACCESS_KEEP 100      /* also in redis/dvcbot.lua (lookup_guard) */
#define LOOKUP_DOSSIER_PAUSE_MAX_S (30 * 24 * 3600)
#define LOOKUP_DOSSIER_MEMORY_S (30 * 24 * 3600)
#define LOOKUP_SOURCE_PAUSE_MAX_S (24 * 3600)
#define LOOKUP_SOURCE_MEMORY_S (7 * 24 * 3600)
#define LOOKUP_GLOBAL_WINDOW_S 3600
#define LOOKUP_PENDING_ACCOUNT_MAX 3      /* pending follows of one account at once */
#define LOOKUP_PENDING_ADDRESS_MAX 10     /* of one web chat address group */
#define LOOKUP_PENDING_S (7 * 24 * 3600)  /* a pending follow ends unsettled after */

struct lookup_limits {
    unsigned dossier_fails, dossier_pause_s;
    unsigned id_fails, address_fails, source_pause_s;
    unsigned new_id_age_s, new_id_fails;
    unsigned global_fails;
    unsigned access_ttl_s;
};

void lookup_limits_from_config(const struct config *cfg, struct lookup_limits *out);

enum lookup_proof { LOOKUP_PROOF_NONE, LOOKUP_PROOF_LAST4, LOOKUP_PROOF_FULL };

/* What a short message (at most 40 bytes) offers as proof: exactly 4
 * digits, or 9 to 15 digits (a whole phone or ID number, any separators).
 * The digits go to digits. */
enum lookup_proof lookup_proof_parse(const char *text, char digits[LOOKUP_PROOF_MAX + 1]);

struct lookup_attempt {
    const char *code;       /* normalized dossier code */
    enum lookup_proof proof;
    const char *digits;
    const char *user_key;   /* "tg:1" */
    const char *source;     /* msg->source; "" = the account (user key) */
    long long now;
    bool may_wait;          /* a follow: may wait for a dossier not stored yet */
};

#define LOOKUP_GUARD_KEYS 10
#define LOOKUP_GUARD_ARGS 20
/* The script's keys and arguments for one attempt (strings owned here). */
struct lookup_guard_call {
    char keys[LOOKUP_GUARD_KEYS][DOSSIER_KEY_MAX + 80];
    char nums[LOOKUP_GUARD_ARGS][24];
    const char *args[LOOKUP_GUARD_KEYS + LOOKUP_GUARD_ARGS];
    int nkeys, nargs;
};

void lookup_guard_prepare(const struct lookup_limits *lim, const struct lookup_attempt *a,
                          struct lookup_guard_call *out);

enum lookup_outcome { LOOKUP_OK, LOOKUP_WRONG, LOOKUP_LIMITED, LOOKUP_PENDING };
enum lookup_limited_by { LOOKUP_BY_SOURCE, LOOKUP_BY_DOSSIER, LOOKUP_BY_NEW_ID, LOOKUP_BY_GLOBAL };

struct lookup_verdict {
    enum lookup_outcome outcome;
    enum lookup_limited_by by;     /* LOOKUP_LIMITED */
    long wait_s;                   /* LOOKUP_LIMITED */
    const redisReply *dossier;     /* LOOKUP_OK: HGETALL of the dossier (points into the reply) */
    bool subscribed;               /* LOOKUP_OK */
};

/* Reads the script's reply. Returns 0, or -1 when it is malformed. */
int lookup_guard_read(const redisReply *r, struct lookup_verdict *v);

#define LOOKUP_SETTLE_KEYS 6
#define LOOKUP_SETTLE_ARGS 13
/* Keys and arguments of dossier_settle_read for a dossier (strings owned
 * here); its reply is {HGETALL dossier:<CODE>, SMEMBERS sub:<CODE>}. */
struct lookup_settle_call {
    char keys[LOOKUP_SETTLE_KEYS][DOSSIER_KEY_MAX + 24];
    char nums[LOOKUP_SETTLE_ARGS][24];
    const char *args[LOOKUP_SETTLE_KEYS + LOOKUP_SETTLE_ARGS];
    int nkeys, nargs;
};

void lookup_settle_prepare(const struct lookup_limits *lim, const char *code, long long now,
                           struct lookup_settle_call *out);

#endif
