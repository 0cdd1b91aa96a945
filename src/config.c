/* config — environment → struct config. */
#include "dvcbot/config.h"
#include "dvcbot/admin_tokens.h"
#include "dvcbot/mem.h"
#include "dvcbot/netaddr.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *env_dup(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    if (v && *v)
        return xstrdup(v);
    return fallback ? xstrdup(fallback) : NULL;
}

static int env_uint(const char *name, unsigned fallback, unsigned *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || *end || n > 0xffffffffUL)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int parse_listen(struct config *cfg, const char *v)
{
    const char *colon = strrchr(v, ':');
    const char *port = colon ? colon + 1 : v;
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end || p < 0 || p > 65535)
        return -1;
    cfg->listen_port = (int)p;
    cfg->listen_host = colon && colon > v ? xstrndup(v, (size_t)(colon - v)) : xstrdup("127.0.0.1");
    return 0;
}

static const struct {
    const char *name;
    unsigned fallback;
    size_t offset;
} uint_settings[] = {
    {"DVCBOT_SESSION_TTL", 7 * 24 * 3600, offsetof(struct config, session_ttl_s)},
    {"DVCBOT_FLOW_IDLE", 24 * 3600, offsetof(struct config, flow_idle_s)},
    {"DVCBOT_DEDUPE_TTL", 24 * 3600, offsetof(struct config, dedupe_ttl_s)},
    {"DVCBOT_USER_TTL", 400 * 24 * 3600, offsetof(struct config, user_ttl_s)},
    {"DVCBOT_HTTP_TIMEOUT_MS", 10000, offsetof(struct config, http_timeout_ms)},
    {"DVCBOT_HTTP_IDLE_MS", 60000, offsetof(struct config, http_idle_ms)},
    {"DVCBOT_HTTP_MAX_CONNS", 1024, offsetof(struct config, http_max_conns)},
    {"DVCBOT_HTTP_MAX_CONNS_PER_ADDR", 32, offsetof(struct config, http_max_conns_per_addr)},
    {"DVCBOT_HTTP_MAX_BUFFERED_MB", 64, offsetof(struct config, http_max_buffered_mb)},
    {"DVCBOT_WEBCHAT_NEW_IDS", 60, offsetof(struct config, webchat_new_ids)},
    {"DVCBOT_BROADCAST_MAX_RECIPIENTS", 100000, offsetof(struct config, broadcast_max_recipients)},
    {"DVCBOT_WEBCHAT_POLL_S", 20, offsetof(struct config, webchat_poll_s)},
    {"DVCBOT_REDIS_TIMEOUT_MS", 2000, offsetof(struct config, redis_timeout_ms)},
    {"DVCBOT_SEND_TIMEOUT_MS", 10000, offsetof(struct config, send_timeout_ms)},
    {"DVCBOT_RETRY_BASE_MS", 5000, offsetof(struct config, retry_base_ms)},
    {"DVCBOT_RETRY_MAX_MS", 300000, offsetof(struct config, retry_max_ms)},
    {"DVCBOT_SEND_ATTEMPTS", 10, offsetof(struct config, send_attempts)},
    {"DVCBOT_SEND_MAX_AGE", 24 * 3600, offsetof(struct config, send_max_age_s)},
    {"DVCBOT_MAX_BACKLOG", 5000, offsetof(struct config, max_backlog)},
    {"DVCBOT_OUTBOX_CLAIM_MS", 30000, offsetof(struct config, outbox_claim_ms)},
    {"DVCBOT_SHUTDOWN_MS", 5000, offsetof(struct config, shutdown_ms)},
    {"DVCBOT_BROADCAST_CLAIM_MS", 60000, offsetof(struct config, broadcast_claim_ms)},
    {"DVCBOT_TELEGRAM_RATE", 30, offsetof(struct config, telegram_rate)},
    {"DVCBOT_TELEGRAM_INLINE_REPLY", 0, offsetof(struct config, telegram_inline_reply)},
    {"ZALO_MAX_EVENT_AGE", 12 * 3600, offsetof(struct config, zalo_max_event_age_s)},
    {"DVCBOT_REMIND_EVERY", 2 * 24 * 3600, offsetof(struct config, remind_every_s)},
    {"DVCBOT_REMIND_MAX", 3, offsetof(struct config, remind_max)},
    {"DVCBOT_REMIND_TICK_MS", 30000, offsetof(struct config, remind_tick_ms)},
    {"DVCBOT_LOOKUP_DOSSIER_FAILS", 3, offsetof(struct config, lookup_dossier_fails)},
    {"DVCBOT_LOOKUP_DOSSIER_PAUSE", 24 * 3600, offsetof(struct config, lookup_dossier_pause_s)},
    {"DVCBOT_LOOKUP_ID_FAILS", 5, offsetof(struct config, lookup_id_fails)},
    {"DVCBOT_LOOKUP_ADDRESS_FAILS", 20, offsetof(struct config, lookup_address_fails)},
    {"DVCBOT_LOOKUP_SOURCE_PAUSE", 15 * 60, offsetof(struct config, lookup_source_pause_s)},
    {"DVCBOT_LOOKUP_NEW_ID_AGE", 24 * 3600, offsetof(struct config, lookup_new_id_age_s)},
    {"DVCBOT_LOOKUP_NEW_ID_FAILS", 20, offsetof(struct config, lookup_new_id_fails)},
    {"DVCBOT_LOOKUP_GLOBAL_FAILS", 300, offsetof(struct config, lookup_global_fails)},
    {"DVCBOT_CONSOLE_TTL", 8 * 3600, offsetof(struct config, console_ttl_s)},
    {"DVCBOT_CONSOLE_MAX_AGE", 24 * 3600, offsetof(struct config, console_max_age_s)},
    {"DVCBOT_CONSOLE_LOGIN_LIMIT", 5, offsetof(struct config, console_login_limit)},
};

static bool take_hour(const char **p, int *out)
{
    int h = 0, n = 0;
    for (; **p >= '0' && **p <= '9' && n < 2; (*p)++, n++)
        h = h * 10 + (**p - '0');
    *out = h;
    return n > 0 && h < 24;
}

/* DVCBOT_QUIET_HOURS: "21-7" (from 21:00 to 07:00, Vietnam time); set and
 * empty means none. */
static int parse_quiet_hours(struct config *cfg, const char *v)
{
    cfg->quiet_from = cfg->quiet_to = -1;
    if (!*v)
        return 0;
    int from, to;
    const char *p = v;
    if (!take_hour(&p, &from) || *p++ != '-' || !take_hour(&p, &to) || *p || from == to)
        return -1;
    cfg->quiet_from = from;
    cfg->quiet_to = to;
    return 0;
}

int config_load(struct config *cfg, const char **err)
{
    memset(cfg, 0, sizeof *cfg);
    const char *listen = getenv("DVCBOT_LISTEN");
    if (parse_listen(cfg, listen && *listen ? listen : "127.0.0.1:8080") != 0) {
        *err = "invalid DVCBOT_LISTEN (want host:port)";
        return -1;
    }
    for (size_t i = 0; i < sizeof uint_settings / sizeof uint_settings[0]; i++) {
        unsigned *field = (unsigned *)((char *)cfg + uint_settings[i].offset);
        if (env_uint(uint_settings[i].name, uint_settings[i].fallback, field) != 0) {
            *err = "invalid number in a DVCBOT_* or ZALO_MAX_EVENT_AGE setting";
            config_free(cfg);
            return -1;
        }
    }
    const char *engine = getenv("DVCBOT_HTTP_CLIENT");
    if (engine && *engine && strcmp(engine, "own") != 0 && strcmp(engine, "curl") != 0) {
        *err = "invalid DVCBOT_HTTP_CLIENT (want own or curl)";
        config_free(cfg);
        return -1;
    }
    cfg->http_by_curl = engine && strcmp(engine, "curl") == 0;
    const char *quiet = getenv("DVCBOT_QUIET_HOURS");
    if (parse_quiet_hours(cfg, quiet ? quiet : "21-7") != 0) {
        *err = "invalid DVCBOT_QUIET_HOURS (want two different hours such as 21-7, or empty for none)";
        config_free(cfg);
        return -1;
    }
    if (cfg->remind_every_s == 0 || cfg->remind_tick_ms == 0) {
        *err = "DVCBOT_REMIND_EVERY and DVCBOT_REMIND_TICK_MS must be at least 1";
        config_free(cfg);
        return -1;
    }
    if (!cfg->lookup_dossier_fails || !cfg->lookup_dossier_pause_s || !cfg->lookup_id_fails ||
        !cfg->lookup_address_fails || !cfg->lookup_source_pause_s || !cfg->lookup_new_id_fails ||
        !cfg->lookup_global_fails) {
        *err = "DVCBOT_LOOKUP_* limits must be at least 1";
        config_free(cfg);
        return -1;
    }
    if (!cfg->webchat_new_ids || !cfg->broadcast_max_recipients) {
        *err = "DVCBOT_WEBCHAT_NEW_IDS and DVCBOT_BROADCAST_MAX_RECIPIENTS must be at least 1";
        config_free(cfg);
        return -1;
    }
    cfg->trusted_proxies = env_dup("DVCBOT_TRUSTED_PROXIES", NULL);
    if (cfg->trusted_proxies && !netaddr_list_valid(cfg->trusted_proxies)) {
        *err = "invalid DVCBOT_TRUSTED_PROXIES (want addresses or CIDR blocks, comma-separated)";
        config_free(cfg);
        return -1;
    }
    cfg->redis_url = env_dup("REDIS_URL", "redis://127.0.0.1:6379");
    cfg->public_base_url = env_dup("PUBLIC_BASE_URL", NULL);
    cfg->data_dir = env_dup("DVCBOT_DATA_DIR", ".");
    cfg->telegram_bot_token = env_dup("TELEGRAM_BOT_TOKEN", NULL);
    cfg->telegram_api_base = env_dup("TELEGRAM_API_BASE", "https://api.telegram.org");
    cfg->telegram_webhook_secret = env_dup("TELEGRAM_WEBHOOK_SECRET", NULL);
    cfg->zalo_app_id = env_dup("ZALO_APP_ID", NULL);
    cfg->zalo_oa_secret = env_dup("ZALO_OA_SECRET", NULL);
    cfg->zalo_app_secret = env_dup("ZALO_APP_SECRET", NULL);
    cfg->zalo_access_token = env_dup("ZALO_ACCESS_TOKEN", NULL);
    cfg->zalo_refresh_token = env_dup("ZALO_REFRESH_TOKEN", NULL);
    cfg->zalo_api_base = env_dup("ZALO_API_BASE", "https://openapi.zalo.me");
    cfg->zalo_oauth_base = env_dup("ZALO_OAUTH_BASE", "https://oauth.zaloapp.com");
    cfg->pay_base_url = env_dup("PAY_BASE_URL", NULL);
    cfg->pay_tmn_code = env_dup("PAY_TMN_CODE", NULL);
    cfg->pay_hash_secret = env_dup("PAY_HASH_SECRET", NULL);
    cfg->pay_query_url = env_dup("PAY_QUERY_URL", NULL);
    cfg->pay_server_ip = env_dup("PAY_SERVER_IP", NULL);
    struct netaddr server;
    if (cfg->pay_server_ip && !netaddr_parse(cfg->pay_server_ip, &server)) {
        *err = "invalid PAY_SERVER_IP (want this server's public IPv4 or IPv6 address)";
        config_free(cfg);
        return -1;
    }
    cfg->admin_tokens = env_dup("ADMIN_TOKENS", NULL);
    if ((*err = admin_tokens_check(cfg->admin_tokens)) != NULL) {
        config_free(cfg);
        return -1;
    }
    if (cfg->console_ttl_s < 60 || cfg->console_login_limit == 0 ||
        cfg->console_max_age_s < cfg->console_ttl_s) {
        *err = "DVCBOT_CONSOLE_TTL must be at least 60, DVCBOT_CONSOLE_MAX_AGE at least "
               "DVCBOT_CONSOLE_TTL and DVCBOT_CONSOLE_LOGIN_LIMIT at least 1";
        config_free(cfg);
        return -1;
    }
    cfg->staff_chat_ids = env_dup("DVCBOT_STAFF_CHATS", NULL);
    cfg->log_level = env_dup("DVCBOT_LOG_LEVEL", "info");
    cfg->worker_id = env_dup("DVCBOT_WORKER_ID", NULL);
    cfg->test_clock = env_dup("DVCBOT_TEST_CLOCK", NULL);
    return 0;
}

void config_free(struct config *cfg)
{
    char **strings[] = {
        &cfg->listen_host, &cfg->redis_url, &cfg->public_base_url, &cfg->data_dir,
        &cfg->telegram_bot_token, &cfg->telegram_api_base, &cfg->telegram_webhook_secret,
        &cfg->zalo_app_id, &cfg->zalo_oa_secret, &cfg->zalo_app_secret, &cfg->zalo_access_token,
        &cfg->zalo_refresh_token, &cfg->zalo_api_base, &cfg->zalo_oauth_base,
        &cfg->pay_base_url, &cfg->pay_tmn_code, &cfg->pay_hash_secret, &cfg->pay_query_url,
        &cfg->pay_server_ip, &cfg->trusted_proxies, &cfg->admin_tokens, &cfg->staff_chat_ids,
        &cfg->log_level, &cfg->worker_id, &cfg->test_clock,
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        xfree_ptr(strings[i]);
}

char *config_data_path(const struct config *cfg, const char *sub)
{
    size_t n = strlen(cfg->data_dir) + strlen(sub) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", cfg->data_dir, sub);
    return p;
}

void config_worker_name(const struct config *cfg, char *out, size_t len)
{
    if (cfg->worker_id && cfg->worker_id[0]) {
        snprintf(out, len, "%s", cfg->worker_id);
        return;
    }
    char host[64];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "dvcbot");
    host[sizeof host - 1] = '\0';
    snprintf(out, len, "%s:%d", host, cfg->listen_port);
}
