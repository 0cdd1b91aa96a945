/* outbox_ledger — see include/dvcbot/outbox_ledger.h. */
#include "dvcbot/outbox_ledger.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>

static bool parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    *p = s;
    return true;
}

bool outbox_stream_id_parse(const char *s, struct outbox_stream_id *out)
{
    if (!s || !parse_u64(&s, &out->ms) || *s++ != '-' || !parse_u64(&s, &out->seq))
        return false;
    return *s == '\0';
}

int outbox_stream_id_cmp(struct outbox_stream_id a, struct outbox_stream_id b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

void outbox_ledger_reset(struct outbox_ledger *l)
{
    l->head = l->n = l->live = 0;
    l->top = (struct outbox_stream_id){0, 0};
    l->whole = l->distrusted = false;
}

void outbox_ledger_read_back(struct outbox_ledger *l)
{
    l->whole = !l->distrusted;
}

void outbox_ledger_distrust(struct outbox_ledger *l)
{
    l->distrusted = true;
    l->whole = false;
}

/* The first slot in [head, n) whose id is >= id. */
static size_t lower_bound(const struct outbox_ledger *l, struct outbox_stream_id id)
{
    size_t lo = l->head, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (outbox_stream_id_cmp(l->slots[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Room for one more slot at the end: the front's settled slots go first. */
static void make_room(struct outbox_ledger *l)
{
    if (l->n < l->cap)
        return;
    if (l->head > 0 && l->head >= l->cap / 4) {
        memmove(l->slots, l->slots + l->head, (l->n - l->head) * sizeof *l->slots);
        l->n -= l->head;
        l->head = 0;
        return;
    }
    l->cap = l->cap ? l->cap * 2 : 64;
    l->slots = xrealloc(l->slots, l->cap * sizeof *l->slots);
}

void outbox_ledger_add(struct outbox_ledger *l, const char *id)
{
    struct outbox_stream_id v;
    if (!outbox_stream_id_parse(id, &v)) {
        outbox_ledger_distrust(l);
        return;
    }
    if (outbox_stream_id_cmp(v, l->top) > 0)
        l->top = v;
    if (l->n == l->head || outbox_stream_id_cmp(v, l->slots[l->n - 1].id) > 0) { /* the rule: in order */
        make_room(l);
        l->slots[l->n++] = (struct outbox_ledger_slot){.id = v};
        l->live++;
        return;
    }
    size_t at = lower_bound(l, v);
    if (at < l->n && outbox_stream_id_cmp(l->slots[at].id, v) == 0) {
        if (l->slots[at].gone) { /* settled and seen again: kept until settled again */
            l->slots[at].gone = false;
            l->live++;
        }
        return;
    }
    make_room(l);
    at = lower_bound(l, v); /* make_room may have moved the slots */
    memmove(l->slots + at + 1, l->slots + at, (l->n - at) * sizeof *l->slots);
    l->slots[at] = (struct outbox_ledger_slot){.id = v};
    l->n++;
    l->live++;
}

void outbox_ledger_settled(struct outbox_ledger *l, const char *id)
{
    struct outbox_stream_id v;
    if (outbox_stream_id_parse(id, &v))
        outbox_ledger_settled_id(l, v);
}

void outbox_ledger_settled_id(struct outbox_ledger *l, struct outbox_stream_id v)
{
    size_t at = l->head < l->n && outbox_stream_id_cmp(l->slots[l->head].id, v) == 0 ? l->head : lower_bound(l, v);
    if (at == l->n || l->slots[at].gone || outbox_stream_id_cmp(l->slots[at].id, v) != 0)
        return;
    l->slots[at].gone = true;
    l->live--;
    while (l->head < l->n && l->slots[l->head].gone)
        l->head++;
    if (l->head == l->n)
        l->head = l->n = 0;
}

bool outbox_ledger_minid(const struct outbox_ledger *l, struct outbox_stream_id *out)
{
    if (!l->whole)
        return false;
    if (l->head < l->n) {
        *out = l->slots[l->head].id; /* the front is never a settled slot */
        return true;
    }
    *out = l->top;
    if (out->seq == UINT64_MAX) {
        out->ms++;
        out->seq = 0;
    } else {
        out->seq++;
    }
    return true;
}

void outbox_ledger_free(struct outbox_ledger *l)
{
    free(l->slots);
    *l = (struct outbox_ledger){0};
}
