/* app — wiring of the services and graceful shutdown. */
#include "dvcbot/app.h"
#include "dvcbot/admin_api.h"
#include "dvcbot/broadcast.h"
#include "dvcbot/broadcast_worker.h"
#include "dvcbot/admin_auth.h"
#include "dvcbot/admin_dossiers.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/clock_hook.h"
#include "dvcbot/commune_answer.h"
#include "dvcbot/commune_list.h"
#include "dvcbot/console.h"
#include "dvcbot/cron.h"
#include "dvcbot/erase.h"
#include "dvcbot/feedback.h"
#include "dvcbot/flow.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/handoff.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/lookup.h"
#include "dvcbot/metrics.h"
#include "dvcbot/notify.h"
#include "dvcbot/outbox_failed.h"
#include "dvcbot/outbox_store.h"
#include "dvcbot/payment.h"
#include "dvcbot/payment_ipn.h"
#include "dvcbot/profile.h"
#include "dvcbot/recipient.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/ref_sweep.h"
#include "dvcbot/reminder.h"
#include "dvcbot/replies.h"
#include "dvcbot/served.h"
#include "dvcbot/stats.h"
#include "dvcbot/strfmt.h"
#include "dvcbot/telegram.h"
#include "dvcbot/volunteer.h"
#include "dvcbot/volunteer_household.h"
#include "dvcbot/followup.h"
#include "dvcbot/webchat.h"
#include "dvcbot/zalo.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_POLL_MS 20


/* ===== Blocked users persist in Redis ===== */

static void ignore_reply(redisReply *r, void *ud)
{
    (void)r;
    (void)ud;
}

static void on_blocked(enum bot_channel ch, const char *chat, void *ud)
{
    struct app *a = ud;
    if (ch != BOT_CH_TELEGRAM)
        return; /* Zalo keeps its mark in the user record (u:{zl:...} unfollowed) */
    char key[48];
    snprintf(key, sizeof key, "blocked:%s", bot_channel_name(ch));
    if (store_command(a->store, ignore_reply, NULL, "SADD %s %s", key, chat) != 0)
        log_msg(LOG_WARN, "blocked mark not stored: redis unavailable");
}

static void on_blocked_list(redisReply *r, void *ud)
{
    struct app *a = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || a->closed)
        return;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            outbox_mark_blocked(a->outbox, BOT_CH_TELEGRAM, r->element[i]->str, true);
}

static void on_store_state(bool connected, void *ud)
{
    struct app *a = ud;
    metrics_set("dvcbot_redis_connected", "", connected ? 1 : 0);
    if (connected && !a->closed)
        outbox_store_connected(a->obstore);
    if (connected && !a->closed)
        if (store_command(a->store, on_blocked_list, a, "SMEMBERS blocked:telegram") != 0)
            log_msg(LOG_WARN, "blocked chats not read: redis unavailable");
}

/* ===== Opening ===== */

static void declare_metrics(void)
{
    static const double secs[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    metrics_declare("dvcbot_http_requests_total", METRIC_COUNTER, "HTTP requests by route and status.", NULL, 0);
    metrics_declare("dvcbot_http_request_seconds", METRIC_HISTOGRAM, "HTTP handling time.", secs, 12);
    metrics_declare("dvcbot_replies_sent_total", METRIC_COUNTER, "Messages delivered, by channel.", NULL, 0);
    metrics_declare("dvcbot_send_errors_total", METRIC_COUNTER, "Messages not delivered, by channel and reason.", NULL, 0);
    metrics_declare("dvcbot_send_retries_total", METRIC_COUNTER, "Delivery attempts retried after a transient failure, by channel.", NULL, 0);
    metrics_declare("dvcbot_send_throttled_total", METRIC_COUNTER, "Delivery attempts the channel throttled (429, retry_after), by channel.", NULL, 0);
    metrics_declare("dvcbot_redis_connected", METRIC_GAUGE, "1 while the Redis connection is up.", NULL, 0);
    metrics_declare("dvcbot_http_connections", METRIC_GAUGE, "Open inbound HTTP connections.", NULL, 0);
    metrics_declare("dvcbot_http_buffered_bytes", METRIC_GAUGE, "Request body bytes held now.", NULL, 0);
    metrics_declare("dvcbot_http_refused_total", METRIC_COUNTER,
                    "Connections and requests refused by a cap (connections, per_address, buffered).",
                    NULL, 0);
    metrics_declare("dvcbot_outbox_queued", METRIC_GAUGE, "Messages waiting in the outbox.", NULL, 0);
    metrics_declare("dvcbot_outbox_inflight", METRIC_GAUGE, "Messages being delivered now.", NULL, 0);
    metrics_set("dvcbot_redis_connected", "", 0);
}

static int load_data(struct app *a, char **err)
{
    char *dir = config_data_path(&a->cfg, "intents");
    a->catalog = catalog_load(dir, err);
    free(dir);
    if (!a->catalog)
        return -1;
    a->matcher = matcher_new(a->catalog, err);
    if (!a->matcher)
        return -1;
    dir = config_data_path(&a->cfg, "templates");
    a->tpl = tpl_set_load(dir, err);
    free(dir);
    if (!a->tpl)
        return -1;
    replies_fill_settings(a->tpl, &a->cfg);
    return 0;
}

/* Dossier lookup, notifications and payments. */
static int open_dossiers(struct app *a, char **err)
{
    struct notify_deps nd = {
        .loop = a->loop, .store = a->store, .outbox = a->outbox, .recipients = a->recipients,
        .tpl = a->tpl, .catalog = a->catalog, .cfg = &a->cfg,
    };
    a->notify = notify_new(&nd);
    struct payment_deps pd = {.cfg = &a->cfg, .store = a->store, .tpl = a->tpl, .notify = a->notify};
    a->payment = payment_new(&pd, err);
    if (!a->payment)
        return -1;
    struct payment_ipn_deps id = {.cfg = &a->cfg, .store = a->store, .tpl = a->tpl,
                                  .notify = a->notify, .http = a->http};
    a->payment_ipn = payment_ipn_new(&id);
    a->lookup = lookup_new(a->dialog, a->payment);
    return 0;
}

static bool asks_fact(const struct dialog_turn *t, void *ud)
{
    return followup_asks_fact(ud, t);
}

static char *fact_in_flow(const struct dialog_turn *t, const struct intent *in, bool answer_expected,
                          void *ud)
{
    return followup_fact_text(ud, t, in, answer_expected);
}

static bool is_cancel_word(const char *text, void *ud)
{
    return flow_set_command_of(ud, text) == FLOW_CMD_CANCEL;
}

static void count_intent(const struct dialog_turn *t, void *ud)
{
    stats_intent(ud, t->match.id);
}

/* Flows, hand-off, feedback, erase, volunteers. The hand-off filter goes
 * first: staff chats must never reach the citizen handlers. */
static int open_flows(struct app *a, char **err)
{
    *err = NULL;
    a->flow_defs = flow_set_load(a->catalog, catalog_report_keep_first, err);
    if (!a->flow_defs)
        return -1;
    a->communes = commune_list_load(a->catalog, catalog_report_keep_first, err);
    if (!a->communes)
        return -1;
    a->stats = stats_new(a->store, &a->cfg, a->catalog);
    dialog_on_matched(a->dialog, count_intent, a->stats);
    a->flows = flows_new(a->dialog, a->flow_defs, a->communes, a->stats);
    a->handoff = handoff_new(a->dialog, &a->cfg, a->stats, a->flows);
    dialog_on_message(a->dialog, flows_filter, a->flows);
    a->feedback = feedback_new(a->dialog, a->stats, a->flow_defs);
    profile_register(a->dialog, a->flow_defs);
    a->erase = erase_new(a->dialog, a->stats, a->flow_defs);
    a->volunteers = volunteers_new(a->dialog, a->flows, a->flow_defs, a->communes, a->store, &a->cfg);
    a->household = household_new(a->dialog);
    a->commune_answers = commune_answers_new(a->dialog, a->communes);
    a->followup = followup_new(a->dialog, err);
    if (!a->followup)
        return -1;
    flows_on_fact_question(a->flows, fact_in_flow, a->followup); /* "phí bao nhiêu" mid-flow */
    return 0;
}

/* Every catalog id gets a real answer, and served.h names exactly the ids a
 * module registered a handler for (dvcbot check relies on that list). */
static int check_served(struct app *a, char **err)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < catalog_size(a->catalog) && !b.len; i++) {
        const struct intent *in = catalog_at(a->catalog, i);
        if (!dialog_serves(a->dialog, in))
            buf_printf(&b, "intents/%s.json: no dialog handler serves it", in->id);
        else if (dialog_has_intent_handler(a->dialog, in->id) != served_by_code(in->id))
            buf_printf(&b, "intents/%s.json: src/served.c and the registered handlers disagree",
                       in->id);
    }
    for (size_t i = 0; i < served_code_count() && !b.len; i++)
        if (!catalog_find(a->catalog, served_code_id(i)))
            buf_printf(&b, "src/served.c: %s is not a catalog id", served_code_id(i));
    if (!b.len) {
        buf_free(&b);
        return 0;
    }
    *err = buf_steal(&b);
    return -1;
}

int app_open(struct app *a, uv_loop_t *loop, char **err)
{
    memset(a, 0, sizeof *a);
    a->loop = loop;
    const char *cfg_err = NULL;
    if (config_load(&a->cfg, &cfg_err) != 0) {
        *err = xstrdup(cfg_err);
        return -1;
    }
    log_setup(log_level_from_name(a->cfg.log_level), NULL);
    declare_metrics();
    if (load_data(a, err) != 0)
        return -1;
    /* loading the catalog (training the matcher) takes a while, slower still
     * under sanitizers: timers started from here on must not count it */
    uv_update_time(loop);
    a->store = store_new(loop, a->cfg.redis_url, a->cfg.redis_timeout_ms);
    if (!a->store) {
        *err = xstrdup("invalid REDIS_URL (want redis://host:port/db or unix:///path)");
        return -1;
    }
    char *lib = redis_library_read(a->cfg.data_dir, err);
    if (!lib)
        return -1;
    store_set_library(a->store, lib);
    free(lib);
    store_on_state(a->store, on_store_state, a);
    a->http = http_client_new(loop);
    if (a->http)
        http_client_http_by_curl(a->http, a->cfg.http_by_curl);
    a->outbox = outbox_new(loop, a->cfg.retry_base_ms);
    a->recipients = recipients_new(a->store, a->outbox);
    struct outbox_retry retry = {
        .base_ms = a->cfg.retry_base_ms, .max_ms = a->cfg.retry_max_ms,
        .max_attempts = a->cfg.send_attempts, .max_age_ms = a->cfg.send_max_age_s * 1000u,
    };
    outbox_set_retry(a->outbox, &retry);
    outbox_on_blocked(a->outbox, on_blocked, a);
    outbox_on_failed(a->outbox, outbox_failed_record, a->store);
    char worker[128];
    config_worker_name(&a->cfg, worker, sizeof worker);
    struct outbox_store_deps od = {
        .loop = loop, .store = a->store, .outbox = a->outbox, .consumer = worker,
        .claim_ms = a->cfg.outbox_claim_ms, .max_backlog = a->cfg.max_backlog,
    };
    a->obstore = outbox_store_new(&od);
    struct dialog_deps deps = {
        .loop = loop, .store = a->store, .catalog = a->catalog, .matcher = a->matcher,
        .tpl = a->tpl, .cfg = &a->cfg, .outbox = a->outbox, .obstore = a->obstore,
        .recipients = a->recipients,
    };
    a->dialog = dialog_new(&deps);
    if (open_flows(a, err) != 0 || open_dossiers(a, err) != 0 || check_served(a, err) != 0)
        return -1;
    lookup_on_followed(a->lookup, flows_followed, a->flows); /* consent, rating after a flow */
    lookup_on_question(a->lookup, asks_fact, a->followup); /* "phí bao nhiêu" leaves the lookup */
    feedback_on_question(a->feedback, asks_fact, a->followup); /* ... and the flow's rating */
    lookup_on_cancel(a->lookup, is_cancel_word, a->flow_defs);   /* "hủy", "huy", "thôi" */
    a->cron = cron_new(loop);
    if (cron_start(a->cron) != 0) {
        *err = xstrdup("cannot start the cron timer");
        return -1;
    }
    return 0;
}

/* ===== Operator endpoints ===== */

static void handle_healthz(struct http_request *req, void *ud)
{
    struct app *a = ud;
    char body[128];
    snprintf(body, sizeof body, "{\"status\":\"ok\",\"redis\":%s,\"stopping\":%s}",
             store_connected(a->store) ? "true" : "false", a->stopping ? "true" : "false");
    http_respond_json(req, 200, body);
}

static void handle_metrics(struct http_request *req, void *ud)
{
    struct app *a = ud;
    size_t queued = 0;
    for (int c = 0; c < BOT_CH_COUNT; c++)
        queued += outbox_queued(a->outbox, c, OUTBOX_REPLY) + outbox_queued(a->outbox, c, OUTBOX_BULK);
    metrics_set("dvcbot_outbox_queued", "", (double)queued);
    metrics_set("dvcbot_outbox_inflight", "", (double)outbox_inflight(a->outbox));
    metrics_set("dvcbot_http_connections", "", (double)http_server_connections(a->server));
    metrics_set("dvcbot_http_buffered_bytes", "", (double)http_server_buffered(a->server));
    zalo_update_metrics(a->zalo);
    if (a->broadcast_worker)
        broadcast_worker_update_metrics(a->broadcast_worker);
    struct buf out;
    buf_init(&out);
    metrics_render(&out);
    http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len, NULL);
    buf_free(&out);
}

static void observe_http(const char *route, int status, double seconds, void *ud)
{
    (void)ud;
    char labels[96];
    char code[12];
    str_decimal(code, sizeof code, status);
    STR_CAT(labels, sizeof labels, "route=\"", route, "\",code=\"", code, "\"");
    metrics_inc("dvcbot_http_requests_total", labels, 1);
    if (status < 400)
        metrics_observe("dvcbot_http_request_seconds", "", seconds);
}

/* ===== Listening ===== */

/* Staff bulk uploads may be large; only a request to /admin/ that carries a
 * valid token, or a console cookie this deployment signed, gets more than
 * HTTP_MAX_BODY. */
static size_t body_limit(const struct http_request *req, void *ud)
{
    struct app *a = ud;
    if (strncmp(req->path, "/admin/", 7) == 0 &&
        (admin_auth_token_ok(http_request_header(req, "Authorization"), a->cfg.admin_tokens) ||
         console_request_signed(a->console, req)))
        return ADMIN_DOSSIERS_MAX_BODY;
    return HTTP_MAX_BODY;
}

static void add_dossier_routes(struct app *a)
{
    struct admin_dossiers_deps ad = {
        .loop = a->loop, .cfg = &a->cfg, .store = a->store, .catalog = a->catalog,
        .notify = a->notify,
    };
    a->admin_dossiers = admin_dossiers_new(&ad);
    router_add(a->router, "POST", "/admin/dossiers", false, "admin_dossiers",
               admin_dossiers_handle, a->admin_dossiers);
    router_add(a->router, "GET", "/pay/ipn", false, "pay_ipn", payment_ipn_handle, a->payment_ipn);
    router_add(a->router, "GET", "/pay/return", false, "pay_return", payment_handle_return,
               a->payment);
    notify_start(a->notify);
}

static void add_reminders(struct app *a)
{
    struct reminder_deps rd = {
        .loop = a->loop, .cfg = &a->cfg, .store = a->store, .outbox = a->outbox,
        .recipients = a->recipients, .tpl = a->tpl, .catalog = a->catalog,
    };
    a->reminders = reminder_new(&rd);
    reminder_start(a->reminders);
    a->ref_sweep = ref_sweep_new(a->store);
}

/* ===== The cron: what `dvcbot serve` does every so often ===== */

static void tick_notify(void *ud, int64_t now)
{
    notify_tick(ud, now);
}

static void tick_reminders(void *ud, int64_t now)
{
    reminder_tick(ud, now);
}

static void tick_flow_sweep(void *ud, int64_t now)
{
    stats_tick(ud, now);
}

static void tick_outbox(void *ud, int64_t now)
{
    struct app *a = ud;
    (void)now;
    outbox_tick(a->outbox);
    outbox_store_tick(a->obstore);
}

static uint64_t outbox_tick_ms(const struct config *cfg)
{
    uint64_t ms = cfg->outbox_claim_ms / 3;
    return ms < 100 ? 100 : ms > OUTBOX_TICK_MS ? OUTBOX_TICK_MS : ms;
}

static void tick_ref_sweep(void *ud, int64_t now)
{
    ref_sweep_tick(ud, now);
}

static void tick_broadcasts(void *ud, int64_t now)
{
    broadcast_worker_tick(ud, now);
}

static int add_cron_jobs(struct app *a, char **err)
{
    if (cron_every(a->cron, "notify", NOTIFY_POLL_MS, tick_notify, a->notify) < 0 ||
        cron_every(a->cron, "reminders", a->cfg.remind_tick_ms, tick_reminders, a->reminders) < 0 ||
        cron_every(a->cron, "flow_sweep", stats_sweep_period_ms(&a->cfg), tick_flow_sweep, a->stats) < 0 ||
        cron_every(a->cron, "broadcasts", BROADCAST_WORKER_TICK_MS, tick_broadcasts,
                   a->broadcast_worker) < 0 ||
        cron_every(a->cron, "outbox", outbox_tick_ms(&a->cfg), tick_outbox, a) < 0 ||
        cron_every(a->cron, "ref_sweep", REF_SWEEP_PERIOD_MS, tick_ref_sweep, a->ref_sweep) < 0) {
        *err = xstrdup("cannot add the cron jobs");
        return -1;
    }
    if (a->cfg.test_clock) {
        a->clock_hook = clock_hook_start(a->loop, a->cfg.test_clock, a->cron, err);
        if (!a->clock_hook)
            return -1;
    }
    return 0;
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *a = s->data;
    log_fmt(LOG_INFO, "stopping", "\"signal\":%d", signum);
    app_shutdown(a);
}

static int add_channels(struct app *a, char **err)
{
    const char *e = NULL;
    if (a->cfg.telegram_bot_token) {
        a->telegram = telegram_new(&a->cfg, a->http, a->outbox, a->dialog, &e);
        if (!a->telegram) {
            *err = xstrdup(e);
            return -1;
        }
        outbox_store_enable(a->obstore, BOT_CH_TELEGRAM);
        router_add(a->router, "POST", "/webhook/telegram", false, "telegram",
                   telegram_handle_webhook, a->telegram);
    }
    if (a->cfg.zalo_app_id || a->cfg.zalo_oa_secret) {
        a->zalo = zalo_new(a->loop, &a->cfg, a->store, a->http, a->outbox, a->dialog, a->tpl, &e);
        if (!a->zalo) {
            *err = xstrdup(e);
            return -1;
        }
        outbox_store_enable(a->obstore, BOT_CH_ZALO);
        router_add(a->router, "POST", "/webhook/zalo", false, "zalo", zalo_handle_webhook, a->zalo);
    }
    a->webchat = webchat_new(&a->cfg, a->store, a->outbox, a->dialog, err);
    if (!a->webchat)
        return -1;
    router_add(a->router, "GET", "/webchat", false, "webchat_page", webchat_handle_page, a->webchat);
    router_add(a->router, "GET", "/", false, "webchat_page", webchat_handle_page, a->webchat);
    router_add(a->router, "GET", "/favicon.ico", false, "favicon", webchat_handle_favicon, a->webchat);
    router_add(a->router, NULL, "/webchat/messages", false, "webchat_messages",
               webchat_handle_messages, a->webchat);
    return 0;
}

/* The staff broadcast API and the worker that sends queued broadcasts. */
static void add_broadcasts(struct app *a)
{
    a->broadcast_worker = broadcast_worker_new(a->loop, &a->cfg, a->store, a->outbox, a->recipients);
    a->broadcasts = broadcast_api_new(&a->cfg, a->communes, a->store, a->outbox, a->broadcast_worker);
    router_add(a->router, "POST", "/admin/broadcasts", false, "admin_broadcasts",
               broadcast_handle_create, a->broadcasts);
    router_add(a->router, NULL, "/admin/broadcasts/", true, "admin_broadcast",
               broadcast_handle_item, a->broadcasts);
}

/* The staff console on top of the broadcast and dossier APIs. */
static int add_console(struct app *a, char **err)
{
    struct console_deps cd = {
        .loop = a->loop, .cfg = &a->cfg, .store = a->store, .catalog = a->catalog,
        .outbox = a->outbox, .broadcasts = a->broadcasts, .dossiers = a->admin_dossiers,
        .notify = a->notify, .communes = a->communes, .dialog = a->dialog,
    };
    a->console = console_new(&cd, err);
    if (!a->console)
        return -1;
    console_add_routes(a->console, a->router);
    return 0;
}

int app_listen(struct app *a, char **err)
{
    a->router = router_new();
    router_add(a->router, "GET", "/healthz", false, "healthz", handle_healthz, a);
    router_add(a->router, "GET", "/metrics", false, "metrics", handle_metrics, a);
    struct admin_api_deps aad = {.cfg = &a->cfg, .stats = a->stats, .volunteers = a->volunteers};
    a->admin_api = admin_api_new(&aad, a->router);
    if (add_channels(a, err) != 0)
        return -1;
    add_broadcasts(a);
    add_dossier_routes(a);
    add_reminders(a);
    if (add_cron_jobs(a, err) != 0)
        return -1;
    if (add_console(a, err) != 0)
        return -1;
    struct http_server_opts opts = {
        .host = a->cfg.listen_host, .port = a->cfg.listen_port,
        .timeout_ms = a->cfg.http_timeout_ms, .idle_ms = a->cfg.http_idle_ms,
        .handler = router_dispatch, .handler_ud = a->router,
        .observer = observe_http, .observer_ud = a,
        .body_limit = body_limit, .body_limit_ud = a,
        .max_conns = a->cfg.http_max_conns, .max_conns_per_addr = a->cfg.http_max_conns_per_addr,
        .conn_limit_exempt = a->cfg.trusted_proxies,
        .max_buffered = (size_t)a->cfg.http_max_buffered_mb * 1024 * 1024,
    };
    int rc = http_server_start(a->loop, &opts, &a->server);
    if (rc != 0) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "cannot listen on %s:%d: %s", a->cfg.listen_host, a->cfg.listen_port,
                   uv_strerror(rc));
        *err = buf_steal(&b);
        return -1;
    }
    if (uv_signal_init(a->loop, &a->sig_term) != 0 || uv_signal_init(a->loop, &a->sig_int) != 0 ||
        uv_signal_start(&a->sig_term, on_signal, SIGTERM) != 0 ||
        uv_signal_start(&a->sig_int, on_signal, SIGINT) != 0) {
        *err = xstrdup("cannot install signal handlers");
        return -1;
    }
    a->sig_term.data = a->sig_int.data = a;
    a->signals_on = true;
    log_fmt(LOG_INFO, "listening", "\"host\":%s,\"port\":%d,\"telegram\":%s,\"zalo\":%s",
            log_q(a->cfg.listen_host), http_server_port(a->server), a->telegram ? "true" : "false",
            a->zalo ? "true" : "false");
    return 0;
}

/* ===== Shutdown ===== */

static void on_saved(bool saved_all, void *ud)
{
    struct app *a = ud;
    if (!saved_all)
        a->exit_code = APP_EXIT_UNSAVED;
    log_fmt(LOG_INFO, "stopped", "\"saved_all\":%s", saved_all ? "true" : "false");
    if (a->on_stopped)
        a->on_stopped(a);
    app_close(a);
}

/* What was not sent in time stays in Redis (stored replies) or is saved
 * there now (messages only in memory), for the next start. */
static void on_flushed(void *ud)
{
    struct app *a = ud;
    outbox_store_shutdown(a->obstore, on_saved, a);
}

static void on_drain_tick(void *ud, int64_t now)
{
    struct app *a = ud;
    (void)now;
    if (a->server || dialog_pending(a->dialog) > 0)
        return;
    /* Broadcast sends already in the outbox finish and are recorded, unless
     * that takes too long: then they are sent again after a restart. */
    if (((a->broadcast_worker && broadcast_worker_busy(a->broadcast_worker)) ||
         reminder_busy(a->reminders)) &&
        uv_now(a->loop) - a->stop_ms < a->cfg.shutdown_ms)
        return;
    cron_cancel(a->cron, a->drain_job);
    outbox_flush(a->outbox, a->cfg.shutdown_ms, on_flushed, a);
}

static void on_server_stopped(void *ud)
{
    struct app *a = ud;
    a->server = NULL;
}

void app_shutdown(struct app *a)
{
    if (a->stopping || a->closed)
        return;
    a->stopping = true;
    a->stop_ms = uv_now(a->loop);
    if (a->broadcast_worker)
        broadcast_worker_stop(a->broadcast_worker);
    if (a->notify)
        notify_stop(a->notify);
    reminder_stop(a->reminders); /* what is due and not taken stays in remind:due */
    if (a->server)
        http_server_stop(a->server, on_server_stopped, a);
    a->drain_job = cron_every(a->cron, "drain", DRAIN_POLL_MS, on_drain_tick, a);
    if (a->drain_job < 0)
        app_close(a);
}

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

void app_close(struct app *a)
{
    if (a->closed)
        return;
    a->closed = true;
    if (a->broadcast_worker)
        broadcast_worker_stop(a->broadcast_worker); /* what the outbox drops stays queued in Redis */
    if (a->signals_on) {
        uv_close((uv_handle_t *)&a->sig_term, on_handle_closed);
        uv_close((uv_handle_t *)&a->sig_int, on_handle_closed);
    }
    cron_close(a->cron); /* no module tick after this */
    clock_hook_close(a->clock_hook);
    if (a->server && !a->stopping)
        http_server_stop(a->server, NULL, NULL);
    a->server = NULL;
    if (a->http)
        http_client_close(a->http); /* fails in-flight sends back into the outbox */
    if (a->outbox)
        outbox_close(a->outbox);
    if (a->store)
        store_close(a->store);
    outbox_store_free(a->obstore); /* after store_close: its callbacks have run */
    broadcast_worker_close(a->broadcast_worker); /* after the outbox and store called back */
    reminder_close(a->reminders); /* likewise */
    ref_sweep_free(a->ref_sweep); /* after store_close: its callbacks have run */
    console_free(a->console); /* after store_close: its callbacks have run */
    broadcast_api_free(a->broadcasts);
    admin_dossiers_free(a->admin_dossiers); /* after store_close: no callback left */
    lookup_free(a->lookup);
    payment_free(a->payment);
    payment_ipn_free(a->payment_ipn); /* after the HTTP client and store called back */
    notify_free(a->notify);
    telegram_free(a->telegram);
    zalo_close(a->zalo); /* after the HTTP client, outbox and store: their callbacks have run */
    webchat_free(a->webchat);
    volunteers_free(a->volunteers);
    household_free(a->household);
    commune_answers_free(a->commune_answers);
    followup_free(a->followup);
    erase_free(a->erase);
    feedback_free(a->feedback);
    handoff_free(a->handoff);
    flows_free(a->flows);
    stats_close(a->stats); /* after store_close: no stats callback is left */
    flow_set_free(a->flow_defs);
    commune_list_free(a->communes);
    dialog_free(a->dialog);
    admin_api_free(a->admin_api);
    router_free(a->router);
    recipients_free(a->recipients); /* every send has its verdict: store and outbox are closed */
    matcher_free(a->matcher);
    catalog_free(a->catalog);
    tpl_set_free(a->tpl);
    config_free(&a->cfg);
    metrics_free();
}
