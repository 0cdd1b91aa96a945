/* outbox_queue — a doubly linked list of outbox items, through the items'
 * own prev/next links (outbox.h), for outbox.c.
 *
 * Owns nothing: an item is in at most one queue at a time and belongs to
 * the outbox, which frees it. No callbacks. A zeroed struct is empty. */
#ifndef DVCBOT_OUTBOX_QUEUE_H
#define DVCBOT_OUTBOX_QUEUE_H

#include "dvcbot/outbox.h"

#include <stddef.h>

struct outbox_queue {
    struct outbox_item *head, *tail;
    size_t len;
};

void outbox_queue_push_tail(struct outbox_queue *q, struct outbox_item *it);
void outbox_queue_push_head(struct outbox_queue *q, struct outbox_item *it);
/* it must be in q; its links are cleared. */
void outbox_queue_remove(struct outbox_queue *q, struct outbox_item *it);

#endif
