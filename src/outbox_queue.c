/* outbox_queue — a doubly linked list of outbox items. See
 * include/dvcbot/outbox_queue.h. */
#include "dvcbot/outbox_queue.h"

#include <stddef.h>

void outbox_queue_push_tail(struct outbox_queue *q, struct outbox_item *it)
{
    it->next = NULL;
    it->prev = q->tail;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->len++;
}

void outbox_queue_push_head(struct outbox_queue *q, struct outbox_item *it)
{
    it->prev = NULL;
    it->next = q->head;
    if (q->head)
        q->head->prev = it;
    else
        q->tail = it;
    q->head = it;
    q->len++;
}

void outbox_queue_remove(struct outbox_queue *q, struct outbox_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        q->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        q->tail = it->prev;
    it->prev = it->next = NULL;
    q->len--;
}
