/* broadcast_spec — what staff ask for in POST /admin/broadcasts, checked,
 * and the pure rules the broadcast service applies: who is in a segment,
 * ISO times, why a message did not arrive, and the Redis key names.
 *
 * Nothing here does I/O, so all of it is unit-tested. broadcast_spec_parse
 * fills a struct broadcast_spec that owns its strings; broadcast_spec_free
 * releases them (also after a failed parse).
 *
 * Redis layout (one Redis: the segment is resolved with SCAN over u:{*}, or
 * over sub:* when it names a dossier status):
 *   bc:next              INCR counter giving broadcast ids ("1", "2", ...)
 *   bc:<id>              hash: text, buttons (JSON), segment (JSON), created,
 *                        not_before, started, finished (unix s), status,
 *                        recipients, batches, sent, failed, blocked, skipped,
 *                        reason:<reason> (counts per reason), body_sha
 *   bc:<id>:q            stream, one entry {b: <n>} per batch; consumer group
 *                        "bcw"; an entry is acked and deleted once every
 *                        recipient of its batch has a verdict
 *   bc:<id>:b:<n>        set of the user keys of batch n still to be sent
 *   bc:<id>:fail         hash user key → reason (at most BROADCAST_FAIL_KEEP)
 *   bc:active            zset of ids to work on, scored by not_before
 *   bc:idem:<sha256>     Idempotency-Key → id, 24 h
 * User keys in bc:<id>:b:<n> and bc:<id>:fail are listed in refs:{<user key>}. */
#ifndef DVCBOT_BROADCAST_SPEC_H
#define DVCBOT_BROADCAST_SPEC_H

#include "dvcbot/msg.h"
#include "dvcbot/outbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROADCAST_TEXT_MAX 1000        /* characters: one phone screen */
#define BROADCAST_BUTTONS_MAX 3
#define BROADCAST_LABEL_MAX 40         /* characters */
#define BROADCAST_COMMUNES_MAX 200
#define BROADCAST_COMMUNE_MAX 100      /* bytes */
#define BROADCAST_SEEN_DAYS_MAX 3650
#define BROADCAST_AHEAD_MAX_S (366 * 24 * 3600)
#define BROADCAST_ID_MAX 24
#define BROADCAST_KEY_MAX 96
#define BROADCAST_FAIL_KEEP 1000       /* failures kept per broadcast, with reasons */
#define BROADCAST_KEEP_S (90 * 24 * 3600) /* a finished broadcast's record */
#define BROADCAST_GROUP "bcw"
#define BROADCAST_ERR_MAX 160
#define BROADCAST_IDEM_MAX 200         /* Idempotency-Key bytes */

/* Channels a broadcast may target, as bits (1u << enum bot_channel). */
#define BROADCAST_CHANNELS ((1u << BOT_CH_TELEGRAM) | (1u << BOT_CH_ZALO) | (1u << BOT_CH_WEBCHAT))

struct broadcast_segment {
    unsigned channels;        /* bits (1u << enum bot_channel) */
    char **communes;          /* commune keys (commune.h: folded, no "xã"); NULL = any */
    size_t n_communes;
    unsigned seen_within_days; /* 0 = any */
    char dossier_status[24];  /* subscribers (sub:<CODE>) of dossiers in this status; "" = any user */
};

struct broadcast_spec {
    struct bot_reply reply;   /* text and buttons as sent */
    struct broadcast_segment segment;
    int64_t not_before;       /* unix s; 0 = at once */
    char *buttons_json;       /* [{"label","payload"}...], for the record */
    char *segment_json;       /* the segment as given, for the record */
};

/* Parses and checks a request body. enabled: channels this server can send
 * on (bits). Returns 0, or -1 with a message for the 400 answer in err. */
int broadcast_spec_parse(const char *json, size_t len, unsigned enabled, int64_t now,
                         struct broadcast_spec *out, char err[BROADCAST_ERR_MAX]);
void broadcast_spec_free(struct broadcast_spec *spec);

/* Whether a user record (u:{<user key>} fields, NULL when absent) is in the
 * segment. The channel comes from the user key's prefix ("tg:1" → telegram). */
bool broadcast_segment_match(const struct broadcast_segment *seg, const char *user_key,
                             const char *seen, const char *commune, int64_t now);

/* A user's commune for segments: the user record's `commune` (u:{..}), else
 * the one kept in their profile p:{..} when they consented ("yes"), else
 * NULL. Arguments are NULL when absent. */
const char *broadcast_user_commune(const char *record_commune, const char *consent,
                                   const char *profile_commune);

/* "u:{tg:123}" → "tg:123". False for any other shape (u:{tg:1}:x, u:x). */
bool broadcast_user_key(const char *record_key, char *out, size_t outlen);

/* ISO 8601 "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z" or "±HH:MM" (none means
 * +07:00, Vietnam). Returns 0 and unix seconds, or -1. */
int broadcast_parse_time(const char *iso, int64_t *out);
/* Unix seconds as "YYYY-MM-DDTHH:MM:SS+07:00". */
void broadcast_format_time(int64_t t, char out[32]);


/* An Idempotency-Key header: 1-BROADCAST_IDEM_MAX printable ASCII. */
bool broadcast_idem_key_valid(const char *key);

/* "bc:<id><suffix>". */
void broadcast_key(char *out, size_t outlen, const char *id, const char *suffix);
/* True for the ids bc:next hands out (1-18 digits). */
bool broadcast_id_valid(const char *id);

/* Rebuilds the reply from a record's text and buttons JSON. Returns 0, or
 * -1 when the buttons are unreadable (out then holds the text only). */
int broadcast_reply_from_record(const char *text, const char *buttons_json, struct bot_reply *out);

#endif
