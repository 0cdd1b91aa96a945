/* console_handoffs — the Hand-offs section.
 *
 *   GET /admin/ui/handoffs   the open tickets (handoff.h), longest wait first
 *
 * A ticket is open while ticket:<n> names its user and that user's ho:{..}
 * still holds ticket n; it has waited since ho:{..}.opened_at. Tickets are
 * found with SCAN ticket:* one page at a time; each page is read by one
 * script. Staff answer in their Telegram chat (/reply <n> <text>); the
 * console shows who is waiting, on which channel, from which commune (the
 * user record's, or the profile's when they consented), and for how long.
 * A commune sign-in sees its commune's tickets only. */
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_COUNT "500"


struct ticket {
    long long n, opened_at;
    char *json;
};

struct listing {
    struct console_ctx *ctx;
    struct http_request *req;
    char cursor[32];
    struct ticket *t;
    size_t n, cap;
};

static void scan_page(struct listing *ls);

static void listing_free(struct listing *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->t[i].json);
    free(ls->t);
    free(ls);
}

static void fail(struct listing *ls)
{
    http_respond_error(ls->req, 503, "store unavailable");
    listing_free(ls);
}

static int cmp_tickets(const void *a, const void *b)
{
    const struct ticket *x = a, *y = b;
    if (x->opened_at != y->opened_at)
        return (x->opened_at > y->opened_at) - (x->opened_at < y->opened_at);
    return (x->n > y->n) - (x->n < y->n);
}

static void respond(struct listing *ls)
{
    if (ls->n)
        qsort(ls->t, ls->n, sizeof *ls->t, cmp_tickets);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"now\":%lld,\"tickets\":[", (long long)clock_now());
    for (size_t i = 0; i < ls->n; i++) {
        buf_puts(&b, i ? "," : "");
        buf_puts(&b, ls->t[i].json);
    }
    buf_puts(&b, "]}");
    http_respond_json(ls->req, 200, b.data);
    buf_free(&b);
    listing_free(ls);
}

static void add_ticket(struct listing *ls, const redisReply *e)
{
    const char *n = store_reply_str(e->element[0]), *opened = store_reply_str(e->element[2]);
    const char *ch = store_reply_str(e->element[3]);
    const char *commune = broadcast_user_commune(store_reply_str(e->element[4]),
                                                 store_reply_str(e->element[5]),
                                                 store_reply_str(e->element[6]));
    if (!n || !console_in_scope(console_scope(ls->req), commune ? commune : ""))
        return;
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? 2 * ls->cap : 16;
        ls->t = xrealloc(ls->t, ls->cap * sizeof *ls->t);
    }
    struct ticket *t = &ls->t[ls->n++];
    t->n = atoll(n);
    t->opened_at = opened ? atoll(opened) : 0;
    long long waited = t->opened_at ? (long long)clock_now() - t->opened_at : 0;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"ticket\":%lld,\"channel\":", t->n);
    buf_json_str(&b, ch ? ch : "");
    buf_puts(&b, ",\"commune\":");
    buf_json_str(&b, commune ? commune : "");
    buf_printf(&b, ",\"opened_at\":%lld,\"waited_s\":%lld}", t->opened_at, waited < 0 ? 0 : waited);
    t->json = buf_steal(&b);
}

static void on_tickets(redisReply *r, void *ud)
{
    struct listing *ls = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        fail(ls);
        return;
    }
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ARRAY && r->element[i]->elements == 7)
            add_ticket(ls, r->element[i]);
    scan_page(ls);
}

/* reply: SCAN's [cursor, [key...]] */
static void on_scanned(redisReply *r, void *ud)
{
    struct listing *ls = ud;
    const redisReply *keys = store_scan_items(r, ls->cursor, sizeof ls->cursor);
    if (!keys) {
        fail(ls);
        return;
    }
    size_t n = 0;
    const char **argv = xcalloc(keys->elements + 3, sizeof *argv);
    for (size_t i = 0; i < keys->elements; i++)
        if (store_reply_str(keys->element[i]))
            argv[3 + n++] = keys->element[i]->str;
    char nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", n);
    argv[0] = "FCALL";
    argv[1] = "console_handoff_tickets";
    argv[2] = nkeys;
    int rc = n ? store_command_argv(ls->ctx->deps.store, on_tickets, ls, (int)(n + 3), argv, NULL)
               : 0;
    free(argv);
    if (rc != 0)
        fail(ls);
    else if (!n)
        scan_page(ls);
}

static void scan_page(struct listing *ls)
{
    if (strcmp(ls->cursor, "0") == 0) {
        respond(ls);
        return;
    }
    if (!ls->cursor[0])
        snprintf(ls->cursor, sizeof ls->cursor, "0");
    if (store_command(ls->ctx->deps.store, on_scanned, ls, "SCAN %s MATCH ticket:* COUNT %s",
                      ls->cursor, SCAN_COUNT) != 0)
        fail(ls);
}

static void handle_list(struct http_request *req, void *ud)
{
    struct listing *ls = xcalloc(1, sizeof *ls);
    ls->ctx = ud;
    ls->req = req;
    scan_page(ls); /* cursor "" starts at 0 */
}

void console_handoffs_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "GET", CONSOLE_UI_PREFIX "handoffs", false, "console_handoffs", handle_list,
               ctx);
}
