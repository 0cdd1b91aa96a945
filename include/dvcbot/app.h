/* app — the process: configuration, shared services and their lifetimes.
 *
 * app_open builds everything a command needs (store, HTTP client, outbox,
 * catalog, matcher, templates, dialog); app_listen adds the HTTP server, the
 * routes, the channels and the signal handlers of `dvcbot serve`;
 * app_shutdown stops gracefully (stop accepting, finish in-flight messages,
 * flush the outbox, close); app_close frees what is left once the loop has
 * returned. One cron (cron.h) runs every module's periodic tick; it
 * also refreshes the process clock (clock.h). Modules built later (Zalo, dossiers, payments, broadcasts,
 * flows) hang off this struct and are wired in app.c. */
#ifndef DVCBOT_APP_H
#define DVCBOT_APP_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/dialog.h"
#include "dvcbot/http_client.h"
#include "dvcbot/http_server.h"
#include "dvcbot/matcher.h"
#include "dvcbot/outbox.h"
#include "dvcbot/outbox_store.h"
#include "dvcbot/router.h"
#include "dvcbot/store.h"
#include "dvcbot/tpl.h"

#include <stdbool.h>
#include <uv.h>

struct telegram;
struct webchat;
struct broadcast_api;
struct broadcast_worker;
struct zalo;
struct notify;
struct payment;
struct payment_ipn;
struct lookup;
struct admin_dossiers;
struct flow_set;
struct stats;
struct flows;
struct commune_list;
struct handoff;
struct feedback;
struct erase;
struct volunteers;
struct household;
struct commune_answers;
struct followup;
struct reminder;
struct ref_sweep;
struct console;
struct cron;
struct admin_api;
struct clock_hook;

struct app {
    uv_loop_t *loop;
    struct config cfg;
    struct store *store;
    struct http_client *http;
    struct outbox *outbox;
    struct outbox_store *obstore; /* durable replies in Redis */
    struct recipients *recipients; /* proactive sends: user record → outbox */
    struct catalog *catalog;
    struct matcher *matcher;
    struct tpl_set *tpl;
    struct dialog *dialog;
    struct router *router;
    struct admin_api *admin_api;  /* /admin/stats, /admin/volunteers */
    struct http_server *server;
    struct telegram *telegram;
    struct webchat *webchat;
    struct broadcast_worker *broadcast_worker;
    struct broadcast_api *broadcasts;
    struct zalo *zalo;
    struct notify *notify;       /* dossier status changes, payment news */
    struct payment *payment;     /* links, /pay/return */
    struct payment_ipn *payment_ipn; /* /pay/ipn */
    struct lookup *lookup;       /* tra_cuu_ho_so, thanh_toan, hs:* buttons */
    struct admin_dossiers *admin_dossiers; /* POST /admin/dossiers */
    struct reminder *reminders;  /* reminder timer (serve only) */
    struct ref_sweep *ref_sweep; /* users whose refs:{} expired leave sub:* (serve only) */
    /* Guided flows and what hangs off them (issue 4). */
    struct flow_set *flow_defs;
    struct commune_list *communes; /* the 2025 communes and wards (commune questions) */
    struct stats *stats;
    struct flows *flows;
    struct handoff *handoff;
    struct feedback *feedback;
    struct erase *erase;
    struct volunteers *volunteers;
    struct household *household; /* volunteers close household visits in the chat */
    struct commune_answers *commune_answers; /* "xã … cũ giờ là xã nào", no district level */
    struct followup *followup;   /* "phí bao nhiêu" about the procedure just shown */
    struct console *console;     /* the staff console at /admin (serve only) */
    struct cron *cron;           /* every periodic job, and the shutdown drain */
    struct clock_hook *clock_hook; /* DVCBOT_TEST_CLOCK (tests only) */
    uv_signal_t sig_term, sig_int;
    int drain_job;              /* cron job id during shutdown */
    uint64_t stop_ms;           /* uv_now() when shutdown began */
    bool signals_on;
    bool stopping;
    bool closed;
    int exit_code;              /* APP_EXIT_UNSAVED when messages could not be saved at stop */
    void (*on_stopped)(struct app *a); /* called when shutdown finished */
};

/* The exit status of `dvcbot serve` when messages in hand at SIGTERM could
 * not be saved in Redis (they are lost). */
#define APP_EXIT_UNSAVED 3

/* Returns 0, or -1 with a message in *err (caller frees). */
int app_open(struct app *a, uv_loop_t *loop, char **err);
int app_listen(struct app *a, char **err);
/* Graceful stop; on_stopped (if set) runs at the end. Safe to call twice. */
void app_shutdown(struct app *a);
/* Frees everything; run the loop afterwards so handles finish closing. */
void app_close(struct app *a);

#endif
