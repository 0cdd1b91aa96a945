/* config — the service's settings, read once from the environment.
 *
 * Names follow ../shared/DESIGN.md. config_load fills a struct config whose
 * strings it owns (config_free releases them); unset optional values are
 * NULL, and every *_API_BASE has the real public endpoint as default. */
#ifndef DVCBOT_CONFIG_H
#define DVCBOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config {
    char *listen_host;           /* DVCBOT_LISTEN host part, default 127.0.0.1 */
    int listen_port;             /* DVCBOT_LISTEN port part, default 8080 */
    char *redis_url;             /* REDIS_URL: redis://host:port[/db] or unix:///path */
    char *public_base_url;       /* PUBLIC_BASE_URL, e.g. https://bot.example.vn */
    char *data_dir;              /* DVCBOT_DATA_DIR: holds intents/ and templates/ */

    char *telegram_bot_token;    /* TELEGRAM_BOT_TOKEN; NULL disables Telegram */
    char *telegram_api_base;     /* TELEGRAM_API_BASE, default https://api.telegram.org */
    char *telegram_webhook_secret; /* TELEGRAM_WEBHOOK_SECRET */

    char *zalo_app_id;           /* ZALO_APP_ID */
    char *zalo_oa_secret;        /* ZALO_OA_SECRET: OA secret key, signs webhook events */
    char *zalo_app_secret;       /* ZALO_APP_SECRET: app secret key, `secret_key` of token refresh */
    char *zalo_access_token;     /* ZALO_ACCESS_TOKEN (first token; later ones live in Redis) */
    char *zalo_refresh_token;    /* ZALO_REFRESH_TOKEN */
    char *zalo_api_base;         /* ZALO_API_BASE, default https://openapi.zalo.me */
    char *zalo_oauth_base;       /* ZALO_OAUTH_BASE, default https://oauth.zaloapp.com */
    unsigned zalo_max_event_age_s; /* ZALO_MAX_EVENT_AGE: older events refused, default 12 h (zalo.h) */

    char *pay_base_url;          /* PAY_BASE_URL */
    char *pay_tmn_code;          /* PAY_TMN_CODE */
    char *pay_hash_secret;       /* PAY_HASH_SECRET */
    char *pay_query_url;         /* PAY_QUERY_URL: the gateway's transaction API; when set, a
                                    success IPN is confirmed with querydr before it counts */
    char *pay_server_ip;         /* PAY_SERVER_IP: this server's public address, sent as querydr's
                                    vnp_IpAddr ("the server calling the API"); NULL: 127.0.0.1 */

    char *trusted_proxies;       /* DVCBOT_TRUSTED_PROXIES: addresses/CIDR blocks of reverse proxies
                                    whose X-Forwarded-For names the client; default none */
    /* Dossier verification limits (lookup_guard.h). */
    unsigned lookup_dossier_fails; /* DVCBOT_LOOKUP_DOSSIER_FAILS: wrong 4 digits per dossier before a pause, 3 */
    unsigned lookup_dossier_pause_s; /* DVCBOT_LOOKUP_DOSSIER_PAUSE: first pause, 1 day; doubles */
    unsigned lookup_id_fails;    /* DVCBOT_LOOKUP_ID_FAILS: wrong tries per Telegram/Zalo account, 5 */
    unsigned lookup_address_fails; /* DVCBOT_LOOKUP_ADDRESS_FAILS: per web chat address, 20 */
    unsigned lookup_source_pause_s; /* DVCBOT_LOOKUP_SOURCE_PAUSE: first pause of a source, 15 min */
    unsigned lookup_new_id_age_s; /* DVCBOT_LOOKUP_NEW_ID_AGE: accounts younger share one budget, 1 day */
    unsigned lookup_new_id_fails; /* DVCBOT_LOOKUP_NEW_ID_FAILS: that budget per channel, 20 */
    unsigned lookup_global_fails; /* DVCBOT_LOOKUP_GLOBAL_FAILS: wrong 4 digits per hour, all users, 300 */
    char *admin_tokens;          /* ADMIN_TOKENS: comma-separated tokens, "token@commune" for one
                                    commune (admin_tokens.h); a short one is refused at start */
    unsigned console_ttl_s;      /* DVCBOT_CONSOLE_TTL: a console sign-in left unused ends after,
                                    default 8 h (each use renews it) */
    unsigned console_max_age_s;  /* DVCBOT_CONSOLE_MAX_AGE: and in any case after, default 24 h */
    unsigned console_login_limit; /* DVCBOT_CONSOLE_LOGIN_LIMIT: failed sign-ins per address and per
                                    token tried per 15 minutes, default 5 (all together: 50 times
                                    that, not for addresses that signed in before) */
    char *staff_chat_ids;        /* DVCBOT_STAFF_CHATS: telegram chat ids for hand-off */

    unsigned session_ttl_s;      /* DVCBOT_SESSION_TTL, default 7 days */
    unsigned flow_idle_s;        /* DVCBOT_FLOW_IDLE, default a day */
    unsigned dedupe_ttl_s;       /* DVCBOT_DEDUPE_TTL, default 24 h */
    unsigned user_ttl_s;         /* DVCBOT_USER_TTL: user record kept after last message, default 400 days */
    unsigned http_timeout_ms;    /* DVCBOT_HTTP_TIMEOUT_MS: slow-client limit, default 10 s */
    unsigned http_idle_ms;       /* DVCBOT_HTTP_IDLE_MS: keep-alive idle limit, default 60 s */
    unsigned http_max_conns;     /* DVCBOT_HTTP_MAX_CONNS: open connections, default 1024 */
    unsigned http_max_conns_per_addr; /* DVCBOT_HTTP_MAX_CONNS_PER_ADDR: per client address (not
                                    DVCBOT_TRUSTED_PROXIES), default 32 */
    unsigned http_max_buffered_mb; /* DVCBOT_HTTP_MAX_BUFFERED_MB: request bodies held at once, 64 */
    unsigned webchat_new_ids;    /* DVCBOT_WEBCHAT_NEW_IDS: new web chat ids per address an hour, 60 */
    unsigned broadcast_max_recipients; /* DVCBOT_BROADCAST_MAX_RECIPIENTS: larger segments refused, 100000 */
    unsigned redis_timeout_ms;   /* DVCBOT_REDIS_TIMEOUT_MS, default 2 s */
    unsigned send_timeout_ms;    /* DVCBOT_SEND_TIMEOUT_MS: outbound HTTP, default 10 s */
    bool http_by_curl;           /* DVCBOT_HTTP_CLIENT=curl: http:// APIs through libcurl too (default
                                    "own": our keep-alive client; https:// is always curl's) */
    unsigned retry_base_ms;      /* DVCBOT_RETRY_BASE_MS: first retry delay after a transient
                                    send failure, default 5 s (doubling, with jitter) */
    unsigned retry_max_ms;       /* DVCBOT_RETRY_MAX_MS: longest retry delay, default 5 min */
    unsigned send_attempts;      /* DVCBOT_SEND_ATTEMPTS: transient failures before a send
                                    gives up, default 10 (about 20 min) */
    unsigned send_max_age_s;     /* DVCBOT_SEND_MAX_AGE: a message not sent this long after it
                                    was queued gives up, default 24 h (throttles included) */
    unsigned max_backlog;        /* DVCBOT_MAX_BACKLOG: messages in hand + in the outbox past which
                                    webhooks answer 503, default 5000 */
    unsigned outbox_claim_ms;    /* DVCBOT_OUTBOX_CLAIM_MS: a process silent this long has its stored
                                    replies taken over by another, default 30 s */
    unsigned shutdown_ms;        /* DVCBOT_SHUTDOWN_MS: how long SIGTERM waits for sends before
                                    leaving the rest in Redis, default 5 s */
    unsigned broadcast_claim_ms; /* DVCBOT_BROADCAST_CLAIM_MS: idle time after which another
                                    worker takes over a broadcast batch, default 60 s */
    char *worker_id;             /* DVCBOT_WORKER_ID: broadcast consumer name, default host:port */
    unsigned remind_every_s;     /* DVCBOT_REMIND_EVERY: seconds between dossier reminders, default 2 days */
    unsigned remind_max;         /* DVCBOT_REMIND_MAX: reminders per status change, default 3 */
    unsigned remind_tick_ms;     /* DVCBOT_REMIND_TICK_MS: how often the reminder timer looks, default 30 s */
    int quiet_from, quiet_to;    /* DVCBOT_QUIET_HOURS "21-7" (default): no reminders from 21:00 to
                                    07:00 Vietnam time; "" disables (both -1) */
    unsigned telegram_rate;      /* DVCBOT_TELEGRAM_RATE: messages/s to the Bot API, default 30 */
    unsigned telegram_inline_reply; /* DVCBOT_TELEGRAM_INLINE_REPLY=1: first reply in the webhook response */
    unsigned webchat_poll_s;     /* DVCBOT_WEBCHAT_POLL_S: how often an open web chat page asks for
                                    new messages, default 20 s (slower while hidden) */
    char *log_level;             /* DVCBOT_LOG_LEVEL */
    char *test_clock;            /* DVCBOT_TEST_CLOCK: file of the test clock (tests only, see test_clock.h) */
};

/* Fills *cfg from the environment. Returns 0, or -1 with a message in *err
 * (static string) when a value is malformed. */
int config_load(struct config *cfg, const char **err);
void config_free(struct config *cfg);

/* This process's name among several sharing Redis (consumer groups of the
 * broadcasts and the outbox): DVCBOT_WORKER_ID, else "<hostname>:<port>". */
void config_worker_name(const struct config *cfg, char *out, size_t len);

/* Path of a file under the data dir: "<data_dir>/<sub>" (caller frees). */
char *config_data_path(const struct config *cfg, const char *sub);

#endif
