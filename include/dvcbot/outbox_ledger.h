/* outbox_ledger — the entries of this process's outbox stream (one per
 * channel) that it knows and that are not settled yet, so that a settle can
 * trim the stream (XTRIM MINID) below the oldest of them instead of
 * deleting each entry (XDEL walks its stream node once per id).
 *
 * Trimming is safe only when no entry below the MINID is unknown to this
 * process: the ledger is "whole" only once the stream has been read back
 * since the last (re)connect (outbox_recover) and nothing since could have
 * written an entry whose id this process did not learn (a claim answered
 * with an error: outbox_ledger_distrust). Every other way into the stream
 * is answered on the one connection with the new ids (a commit, a rewrite,
 * a claim), and an answer lost means a disconnect, after which the ledger
 * starts again (outbox_ledger_reset). Commands in flight execute after
 * every entry this process knows, so their entries have greater ids than
 * any MINID it computes. It assumes one process per stream (one
 * DVCBOT_WORKER_ID at a time), as reading back does.
 *
 * Ids are kept sorted (they come mostly in order: appends), settled ones
 * taken out from the front (marked, the front skipped). Owns its array:
 * outbox_ledger_free. */
#ifndef DVCBOT_OUTBOX_LEDGER_H
#define DVCBOT_OUTBOX_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A stream entry id "<ms>-<seq>". */
struct outbox_stream_id {
    uint64_t ms, seq;
};

struct outbox_ledger_slot {
    struct outbox_stream_id id;
    bool gone;              /* settled */
};

struct outbox_ledger {
    struct outbox_ledger_slot *slots; /* sorted; [head, n) in use */
    size_t head, n, cap, live;
    struct outbox_stream_id top;      /* the highest id learnt since the reset */
    bool whole;                       /* every entry of the stream is known */
    bool distrusted;                  /* maybe not: no trimming until the next reset */
};

/* "<ms>-<seq>" (both decimal); false for anything else. */
bool outbox_stream_id_parse(const char *s, struct outbox_stream_id *out);
/* a < b: -1, a == b: 0, a > b: 1 */
int outbox_stream_id_cmp(struct outbox_stream_id a, struct outbox_stream_id b);

/* Forgets every id; not whole (a new connection: read back first). */
void outbox_ledger_reset(struct outbox_ledger *l);
/* The stream has been read back to its end: whole unless distrusted. */
void outbox_ledger_read_back(struct outbox_ledger *l);
/* An entry may be in the stream unknown: not whole until the next reset. */
void outbox_ledger_distrust(struct outbox_ledger *l);
/* An entry known to be in the stream, not settled (again: nothing). An id
 * that does not parse makes the ledger distrusted. */
void outbox_ledger_add(struct outbox_ledger *l, const char *id);
/* The entry is settled (not known: nothing). */
void outbox_ledger_settled(struct outbox_ledger *l, const char *id);
void outbox_ledger_settled_id(struct outbox_ledger *l, struct outbox_stream_id id);
/* When whole: the MINID a settle may trim below (the oldest entry not
 * settled, or past the highest known when all are) into out, true. */
bool outbox_ledger_minid(const struct outbox_ledger *l, struct outbox_stream_id *out);
void outbox_ledger_free(struct outbox_ledger *l);

#endif
