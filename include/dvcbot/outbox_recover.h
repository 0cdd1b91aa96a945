/* outbox_recover — bringing stored replies back into the outbox: this
 * process's own stream read back after a (re)connect or restart, and the
 * streams of a process that stopped refreshing its heartbeat claimed
 * (outbox_store.h explains the streams, the heartbeat and the gate).
 *
 * An entry read back is queued with outbox_send_stored (the outbox copies
 * what it needs; nothing read here is kept); one already in memory, or being
 * settled, is skipped; one that cannot be queued is settled. Each command in
 * flight has a record freed by its reply callback, which hiredis always calls
 * (NULL at store_close); the callbacks count themselves out of the store's
 * inflight so that a shutdown waits for them. Called by outbox_store.c only. */
#ifndef DVCBOT_OUTBOX_RECOVER_H
#define DVCBOT_OUTBOX_RECOVER_H

#include "dvcbot/msg.h"

struct outbox_store;

/* Connected: registers this process in the channel's set of processes and
 * reads its stream again from the start. */
void outbox_recover_start(struct outbox_store *os, enum bot_channel ch);
/* Reads this process's stream from the cursor on, a page at a time, while
 * the outbox's backlog has room. */
void outbox_recover_read_back(struct outbox_store *os, enum bot_channel ch);
/* Moves, in order, a stopped process's entries into this process's stream
 * (the script outbox_claim) and queues them. */
void outbox_recover_claim(struct outbox_store *os, enum bot_channel ch);
/* Refreshes this process's heartbeat key (PX claim_ms). */
void outbox_recover_heartbeat(struct outbox_store *os);

#endif
