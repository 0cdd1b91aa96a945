/* console_indicators — the Indicators section.
 *
 *   GET /admin/ui/indicators?period=<id>&by=commune|agency|procedure
 *
 * Adds up, for one reporting period (indicator.h; the current quarter by
 * default): the dossiers in Redis (SCAN dossier:* one page at a time, one
 * script reading each page's fields) and the bot's day records
 * (stats_day.h) — ratings, code times, volunteer assists, hand-offs,
 * messages not understood — into one row per commune, agency or procedure
 * plus a total, each share beside its target. A commune sign-in sees its
 * commune's dossiers and records only (province-wide counters without a
 * commune — messages, hand-offs — are left out for it).
 *
 * The answer: {"period": {id, from, to}, "periods": [ids], "by", "targets",
 * "rows": [...], "total": {...}}; a share with nothing to divide by is null. */
#include "dvcbot/admin_tokens.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/commune.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/indicator.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"
#include "dvcbot/stats.h"
#include "dvcbot/stats_day.h"
#include "dvcbot/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_COUNT "1000"
#define PERIODS_LISTED 6

enum dim { BY_COMMUNE, BY_AGENCY, BY_PROCEDURE };
static const char *const dim_names[] = {"commune", "agency", "procedure"};

/* The fields read per dossier, in the order of struct dossier's fields. */
static const enum dossier_field read_fields[] = {
    DF_PROCEDURE, DF_COMMUNE, DF_AGENCY, DF_RECEIVED_AT, DF_DUE_AT, DF_FEE, DF_PAID,
    DF_SUBMITTED_ONLINE, DF_PAID_ONLINE, DF_FINISHED_AT,
};
#define N_READ (sizeof read_fields / sizeof read_fields[0])



struct group {
    char *name;
    struct indicator_counts n;
};

struct report {
    struct console_ctx *ctx;
    struct http_request *req;
    struct period period;
    enum dim by;
    char scope[ADMIN_COMMUNE_MAX + 1];
    char cursor[32];
    struct strmap groups;        /* key → struct group */
    struct indicator_counts total;
};

static void scan_page(struct report *rp);

static void report_free(struct report *rp)
{
    size_t pos = 0;
    const char *key;
    void *v;
    while (strmap_next(&rp->groups, &pos, &key, &v)) {
        struct group *g = v;
        indicator_counts_free(&g->n);
        free(g->name);
        free(g);
    }
    strmap_free(&rp->groups);
    indicator_counts_free(&rp->total);
    free(rp);
}

static void fail(struct report *rp)
{
    http_respond_error(rp->req, 503, "store unavailable");
    report_free(rp);
}

static struct group *group_at(struct report *rp, const char *key, const char *name)
{
    struct group *g = strmap_get(&rp->groups, key);
    if (!g) {
        g = xcalloc(1, sizeof *g);
        g->name = xstrdup(name && *name ? name : "");
        strmap_put(&rp->groups, key, g);
    } else if (!g->name[0] && name && *name) {
        free(g->name);
        g->name = xstrdup(name);
    }
    return g;
}

/* The group of a commune name (or a stats commune key). */
static struct group *commune_group(struct report *rp, const char *commune)
{
    char key[COMMUNE_KEY_MAX];
    bool unknown = !commune || !*commune || strcmp(commune, STATS_NO_COMMUNE) == 0;
    commune_key(unknown ? "" : commune, key, sizeof key);
    return group_at(rp, key, unknown ? "" : commune);
}

static bool in_scope(const struct report *rp, const char *commune)
{
    return !rp->scope[0] || (strcmp(commune, STATS_NO_COMMUNE) != 0 &&
                             commune_same(rp->scope, commune));
}

/* ===== Dossiers ===== */

static void add_dossier(struct report *rp, const redisReply *h)
{
    struct dossier d;
    memset(&d, 0, sizeof d);
    for (size_t i = 0; i < N_READ && i < h->elements; i++)
        if (store_reply_str(h->element[i]))
            d.v[read_fields[i]] = xstrdup(h->element[i]->str);
    const char *commune = dossier_get(&d, DF_COMMUNE);
    if (!rp->scope[0] || commune_same(rp->scope, commune)) {
        struct group *g;
        if (rp->by == BY_COMMUNE) {
            g = commune_group(rp, commune);
        } else if (rp->by == BY_AGENCY) {
            const char *agency = dossier_get(&d, DF_AGENCY);
            char *key = norm_fold(agency, strlen(agency), NULL);
            g = group_at(rp, key ? key : "", agency);
            free(key);
        } else {
            const char *proc = dossier_get(&d, DF_PROCEDURE);
            const struct intent *in = catalog_find(rp->ctx->deps.catalog, proc);
            g = group_at(rp, proc, in ? in->name : proc);
        }
        indicator_add_dossier(&g->n, &d, &rp->period);
        indicator_add_dossier(&rp->total, &d, &rp->period);
    }
    dossier_clear(&d);
}

static void on_fetched(redisReply *r, void *ud)
{
    struct report *rp = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        fail(rp);
        return;
    }
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ARRAY)
            add_dossier(rp, r->element[i]);
    scan_page(rp);
}

static void fetch_page(struct report *rp, const redisReply *keys)
{
    size_t n = keys->elements, argc = 3 + n + N_READ;
    const char **argv = xcalloc(argc, sizeof *argv);
    char nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", n);
    argv[0] = "FCALL";
    argv[1] = "console_indicator_hashes";
    argv[2] = nkeys;
    for (size_t i = 0; i < n; i++)
        argv[3 + i] = keys->element[i]->str;
    for (size_t i = 0; i < N_READ; i++)
        argv[3 + n + i] = dossier_field_name(read_fields[i]);
    int rc = store_command_argv(rp->ctx->deps.store, on_fetched, rp, (int)argc, argv, NULL);
    free(argv);
    if (rc != 0)
        fail(rp);
}

static void read_days(struct report *rp);

/* reply: SCAN's [cursor, [key...]] */
static void on_scanned(redisReply *r, void *ud)
{
    struct report *rp = ud;
    const redisReply *keys = store_scan_items(r, rp->cursor, sizeof rp->cursor);
    if (!keys) {
        fail(rp);
        return;
    }
    for (size_t i = 0; i < keys->elements; i++)
        if (!store_reply_str(keys->element[i])) {
            fail(rp);
            return;
        }
    if (keys->elements)
        fetch_page(rp, keys);
    else
        scan_page(rp);
}

static void scan_page(struct report *rp)
{
    if (strcmp(rp->cursor, "0") == 0) {
        read_days(rp);
        return;
    }
    if (rp->cursor[0] == '\0')
        snprintf(rp->cursor, sizeof rp->cursor, "0");
    if (store_command(rp->ctx->deps.store, on_scanned, rp, "SCAN %s MATCH %s* COUNT %s",
                      rp->cursor, DOSSIER_KEY_PREFIX, SCAN_COUNT) != 0)
        fail(rp);
}

/* ===== The bot's own records ===== */

/* "a|b|c" → up to n parts, in place. Returns how many. */
static size_t split_bars(char *s, char **parts, size_t n)
{
    size_t k = 0;
    while (k < n) {
        parts[k++] = s;
        char *bar = strchr(s, '|');
        if (!bar)
            break;
        *bar = '\0';
        s = bar + 1;
    }
    return k;
}

/* The group an entry with this procedure and commune key goes to, or NULL
 * when the report is by agency (unknown for the bot's records). */
static struct group *bot_group(struct report *rp, const char *proc, const char *ckey)
{
    if (rp->by == BY_COMMUNE)
        return commune_group(rp, ckey);
    if (rp->by == BY_PROCEDURE && proc) {
        const struct intent *in = catalog_find(rp->ctx->deps.catalog, proc);
        return group_at(rp, proc, in ? in->name : proc);
    }
    return NULL;
}

static void add_counter(struct report *rp, char *field, long v)
{
    char *p[5];
    size_t n = split_bars(field, p, 5);
    struct group *g = NULL;
    struct indicator_counts one = {0};
    if (n == 4 && strcmp(p[0], "rate") == 0 && in_scope(rp, p[2])) {
        indicator_add_rating(&one, atoi(p[3]), v);
        g = bot_group(rp, p[1], p[2]);
    } else if (n == 2 && strcmp(p[0], "assist") == 0 && in_scope(rp, p[1])) {
        one.assists = v;
        g = bot_group(rp, NULL, p[1]);
    } else if (rp->scope[0]) {
        return; /* the rest has no commune */
    } else if (n == 1 && strcmp(p[0], "msg") == 0) {
        one.messages = v;
    } else if (n == 1 && strcmp(p[0], "msg_khac") == 0) {
        one.not_understood = v;
    } else if (n == 2 && strcmp(p[0], "count") == 0 && strcmp(p[1], "handoff_opened") == 0) {
        one.handoffs = v;
    } else {
        return;
    }
    if (g)
        indicator_merge(&g->n, &one);
    indicator_merge(&rp->total, &one);
}

static void add_code_time(struct report *rp, char *entry)
{
    char *p[3];
    if (split_bars(entry, p, 3) != 3 || !in_scope(rp, p[1]))
        return;
    long secs = strtol(p[2], NULL, 10);
    struct group *g = bot_group(rp, p[0], p[1]);
    if (g)
        indicator_add_code_time(&g->n, secs);
    indicator_add_code_time(&rp->total, secs);
}

static void add_day(struct report *rp, const redisReply *hash, const redisReply *codes)
{
    for (size_t i = 0; hash->type == REDIS_REPLY_ARRAY && i + 1 < hash->elements; i += 2) {
        const char *f = store_reply_str(hash->element[i]), *v = store_reply_str(hash->element[i + 1]);
        if (!f || !v)
            continue;
        char *field = xstrdup(f);
        add_counter(rp, field, strtol(v, NULL, 10));
        free(field);
    }
    for (size_t i = 0; codes->type == REDIS_REPLY_ARRAY && i < codes->elements; i++) {
        if (!store_reply_str(codes->element[i]))
            continue;
        char *entry = xstrdup(codes->element[i]->str);
        add_code_time(rp, entry);
        free(entry);
    }
}

static void respond(struct report *rp);

static void on_days(redisReply *r, void *ud)
{
    struct report *rp = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        fail(rp);
        return;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        add_day(rp, r->element[i], r->element[i + 1]);
    respond(rp);
}

struct day_keys {
    char **keys;
    size_t n;
};

static void add_day_keys(const char *day, void *ud)
{
    struct day_keys *dk = ud;
    size_t len = strlen(STATS_DAY_PREFIX) + 9;
    dk->keys = xrealloc(dk->keys, (dk->n + 2) * sizeof *dk->keys);
    dk->keys[dk->n] = xmalloc(len);
    snprintf(dk->keys[dk->n++], len, "%s%s", STATS_DAY_PREFIX, day);
    len = strlen(STATS_CODE_PREFIX) + 9;
    dk->keys[dk->n] = xmalloc(len);
    snprintf(dk->keys[dk->n++], len, "%s%s", STATS_CODE_PREFIX, day);
}

static void read_days(struct report *rp)
{
    struct day_keys dk = {NULL, 0};
    period_each_day(&rp->period, add_day_keys, &dk);
    const char **argv = xcalloc(dk.n + 3, sizeof *argv);
    char nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", dk.n);
    argv[0] = "FCALL";
    argv[1] = "console_indicator_days";
    argv[2] = nkeys;
    for (size_t i = 0; i < dk.n; i++)
        argv[3 + i] = dk.keys[i];
    int rc = store_command_argv(rp->ctx->deps.store, on_days, rp, (int)(dk.n + 3), argv, NULL);
    for (size_t i = 0; i < dk.n; i++)
        free(dk.keys[i]);
    free(dk.keys);
    free(argv);
    if (rc != 0)
        fail(rp);
}

/* ===== The answer ===== */

static void put_share(struct buf *b, const char *name, long part, long whole)
{
    double v = indicator_share(part, whole);
    if (v < 0)
        buf_printf(b, ",\"%s\":null", name);
    else
        buf_printf(b, ",\"%s\":%.1f", name, v);
}

static void render_counts(struct buf *b, struct indicator_counts *n, bool total, bool scoped)
{
    buf_printf(b, "\"received\":%ld,\"fully_online\":%ld", n->received, n->fully_online);
    put_share(b, "fully_online_pct", n->fully_online, n->received);
    buf_printf(b, ",\"fee_paid\":%ld,\"fee_paid_online\":%ld", n->fee_paid, n->fee_paid_online);
    put_share(b, "fee_online_pct", n->fee_paid_online, n->fee_paid);
    buf_printf(b, ",\"finished\":%ld,\"on_time\":%ld", n->finished, n->on_time);
    put_share(b, "on_time_pct", n->on_time, n->finished);
    buf_printf(b, ",\"ratings\":%ld,\"satisfied\":%ld", n->ratings, n->satisfied);
    put_share(b, "satisfaction_pct", n->satisfied, n->ratings);
    double median = indicator_code_median(n);
    buf_printf(b, ",\"code_n\":%zu", n->n_code);
    if (median < 0)
        buf_puts(b, ",\"code_median_s\":null");
    else
        buf_printf(b, ",\"code_median_s\":%.0f", median);
    buf_printf(b, ",\"assists\":%ld", n->assists);
    if (!total)
        return;
    if (scoped) {
        buf_puts(b, ",\"handoffs\":null,\"messages\":null,\"not_understood\":null,"
                    "\"not_understood_pct\":null");
        return;
    }
    buf_printf(b, ",\"handoffs\":%ld,\"messages\":%ld,\"not_understood\":%ld", n->handoffs,
               n->messages, n->not_understood);
    put_share(b, "not_understood_pct", n->not_understood, n->messages);
}

static int cmp_rows(const void *a, const void *b)
{
    const struct strmap_slot *x = a, *y = b;
    const struct group *gx = x->value, *gy = y->value;
    if (!x->key[0] != !y->key[0])
        return x->key[0] ? -1 : 1; /* "unknown" last */
    int c = strcmp(gx->name, gy->name);
    return c ? c : strcmp(x->key, y->key);
}

static void render_periods(struct buf *b, const struct report *rp)
{
    static const enum period_kind kinds[] = {PERIOD_QUARTER, PERIOD_MONTH, PERIOD_HALF,
                                             PERIOD_YEAR};
    static const int listed[] = {PERIODS_LISTED, PERIODS_LISTED, 2, 2};
    int64_t now = clock_now();
    bool first = true;
    buf_puts(b, ",\"periods\":[");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct period p;
        period_containing(kinds[k], now, &p);
        for (int i = 0; i < listed[k]; i++) {
            buf_puts(b, first ? "" : ",");
            buf_json_str(b, p.id);
            first = false;
            period_previous(&p, &p);
        }
    }
    buf_putc(b, ']');
    (void)rp;
}

static void respond(struct report *rp)
{
    struct buf b;
    buf_init(&b);
    char from[11], to[11];
    period_first_day(&rp->period, from);
    period_last_day(&rp->period, to);
    buf_printf(&b, "{\"period\":{\"id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"}", rp->period.id,
               from, to);
    render_periods(&b, rp);
    buf_printf(&b, ",\"by\":\"%s\",\"scope\":", dim_names[rp->by]);
    buf_json_str(&b, rp->scope);
    buf_printf(&b, ",\"targets\":{\"fully_online_pct\":%.0f,\"on_time_pct\":%.0f,"
                   "\"satisfaction_pct\":%.0f},\"rows\":[",
               INDICATOR_TARGET_FULLY_ONLINE, INDICATOR_TARGET_ON_TIME,
               INDICATOR_TARGET_SATISFACTION);
    struct strmap_slot *rows = xcalloc(strmap_len(&rp->groups) + 1, sizeof *rows);
    size_t n = 0, pos = 0;
    const char *key;
    void *v;
    while (strmap_next(&rp->groups, &pos, &key, &v)) {
        rows[n].key = (char *)key;
        rows[n++].value = v;
    }
    qsort(rows, n, sizeof *rows, cmp_rows);
    for (size_t i = 0; i < n; i++) {
        struct group *g = rows[i].value;
        buf_puts(&b, i ? ",{\"key\":" : "{\"key\":");
        buf_json_str(&b, rows[i].key);
        buf_puts(&b, ",\"name\":");
        buf_json_str(&b, g->name);
        buf_putc(&b, ',');
        render_counts(&b, &g->n, false, rp->scope[0] != '\0');
        buf_putc(&b, '}');
    }
    free(rows);
    buf_puts(&b, "],\"total\":{");
    render_counts(&b, &rp->total, true, rp->scope[0] != '\0');
    buf_puts(&b, "}}");
    http_respond_json(rp->req, 200, b.data);
    buf_free(&b);
    report_free(rp);
}

/* ===== Request ===== */

static void handle_indicators(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    struct report *rp = xcalloc(1, sizeof *rp);
    rp->ctx = ctx;
    rp->req = req;
    strmap_init(&rp->groups);
    snprintf(rp->scope, sizeof rp->scope, "%s", console_scope(req));
    char *period = http_request_query_param(req, "period");
    char *by = http_request_query_param(req, "by");
    bool ok = true;
    if (period && *period)
        ok = period_parse(period, &rp->period) == 0;
    else
        period_containing(PERIOD_QUARTER, clock_now(), &rp->period);
    rp->by = BY_COMMUNE;
    for (int i = 0; by && *by && i < 3; i++)
        if (strcmp(by, dim_names[i]) == 0)
            rp->by = (enum dim)i;
    ok = ok && (!by || !*by || strcmp(by, dim_names[rp->by]) == 0);
    free(period);
    free(by);
    if (!ok) {
        http_respond_error(req, 400, "want period=2025-Q1 (or 2025-M03, 2025-H1, 2025-Y) and "
                                     "by=commune, agency or procedure");
        report_free(rp);
        return;
    }
    scan_page(rp); /* cursor "" starts the SCAN at 0 */
}

void console_indicators_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "GET", CONSOLE_UI_PREFIX "indicators", false, "console_indicators",
               handle_indicators, ctx);
}
