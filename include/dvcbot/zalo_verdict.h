/* zalo_verdict — the verdict on an answer of Zalo's OA API (which error
 * codes refresh the token, wait, refuse for one user, drop the message or
 * back off; sources in zalo_verdict.c) and the window a message to a user
 * falls in (constants in zalo.h). Pure functions: nothing is owned, the
 * strings returned are static. */
#ifndef DVCBOT_ZALO_VERDICT_H
#define DVCBOT_ZALO_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

enum zalo_result {
    ZALO_OK,
    ZALO_RETRY,       /* network, 5xx, Zalo's or the OA's side, any code not known: back off, bounded */
    ZALO_THROTTLE,    /* HTTP 429, -32: wait, no attempt used */
    ZALO_TOKEN,       /* -216/-220/-124: refresh the access token */
    ZALO_USER,        /* refused for this user (quota, not a follower, no recent interaction) */
    ZALO_BAD_REQUEST, /* -201: a parameter refused */
    ZALO_FAILED,      /* the message itself refused (too long, type, content), a 4xx: drop */
};
/* Verdict on an API answer; *code = Zalo's "error" (0 when none). The codes
 * known and their sources: zalo_verdict.c. */
enum zalo_result zalo_classify(long status, const char *body, int *code);
/* Short reason for an error code, for last_error and metric labels. */
const char *zalo_error_reason(int code);

enum zalo_window { ZALO_WINDOW_UNKNOWN, ZALO_WINDOW_FREE, ZALO_WINDOW_PAID, ZALO_WINDOW_CLOSED };
/* Where a message to a user falls: last_in = unix s of their last
 * interaction (0 unknown), sent = messages since, quoted = replies to one. */
enum zalo_window zalo_window_of(int64_t now, int64_t last_in, long sent, bool quoted);
const char *zalo_window_name(enum zalo_window w);
/* Why a message dvcbot sends on its own (a broadcast, a reminder) should
 * not go to a Zalo user: "unfollowed", or "zalo_no_recent_interaction" when
 * their last interaction is past the 7-day window (Zalo would refuse it:
 * -230/-232); NULL when it may go. */
const char *zalo_proactive_refusal(int64_t now, bool unfollowed, int64_t last_in, long sent);

#endif
