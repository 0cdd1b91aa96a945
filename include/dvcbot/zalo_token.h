/* zalo_token — the Zalo OA access token: kept in Redis, refreshed before it
 * expires and whenever the API says it is invalid or expired.
 *
 * Zalo access tokens live about 25 h (`expires_in` arrives as a string of
 * seconds). A refresh (POST ZALO_OAUTH_BASE/v4/oa/access_token, form
 * `refresh_token`, `app_id`, `grant_type=refresh_token`, header `secret_key`
 * = the app's secret key) returns a new access token AND a new refresh token;
 * the old refresh token no longer works. Losing the new pair, or two
 * processes spending the same refresh token, locks the OA out until an
 * administrator authorizes the app again. Hence:
 *   - the pair lives in the Redis hash ZALO_TOKEN_KEY (fields access,
 *     refresh, expires_at, updated_at, env_seed), always written by one HSET;
 *   - only the holder of ZALO_LOCK_KEY (SET NX PX, released by
 *     compare-and-delete) calls Zalo; the others wait, re-read the hash and
 *     adopt what the holder stored;
 *   - no refresh without Redis (the new pair could not be kept);
 *   - a failed refresh is logged, counted in
 *     dvcbot_zalo_token_refresh_failures_total{reason}, and not retried
 *     before a backoff (ZALO_REFRESH_BACKOFF_MIN_MS doubling).
 * ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN seed the hash when it is empty or
 * when they differ from the pair last seeded (an administrator put new ones in
 * the environment); after that Redis is the truth.
 *
 * Callbacks (zalo_token_cb) run once per zalo_token_get/refresh call, maybe
 * synchronously inside it, with the access token (valid during the call
 * only) or NULL when none is available. zalo_token_close calls every waiting
 * callback with NULL, closes the timers and frees the struct once they are
 * closed (run the loop). Close the HTTP client and the store before (their
 * pending callbacks then run while the struct is still whole), or at least
 * before the loop runs again. */
#ifndef DVCBOT_ZALO_TOKEN_H
#define DVCBOT_ZALO_TOKEN_H

#include "dvcbot/config.h"
#include "dvcbot/http_client.h"
#include "dvcbot/store.h"

#include <stdint.h>
#include <uv.h>

#define ZALO_TOKEN_KEY "zalo:token"
#define ZALO_LOCK_KEY "zalo:lock"
/* Refresh this long before expiry (or at half the remaining life when that is shorter). */
#define ZALO_REFRESH_AHEAD_S 3600
#define ZALO_REFRESH_BACKOFF_MIN_MS 2000
#define ZALO_REFRESH_BACKOFF_MAX_MS (10 * 60 * 1000)
#define ZALO_LOCK_POLL_MS 200
#define ZALO_TOKEN_MAX 1024

struct zalo_token;

typedef void (*zalo_token_cb)(const char *access_token, void *ud);

struct zalo_token *zalo_token_new(uv_loop_t *loop, const struct config *cfg, struct store *store,
                                  struct http_client *http);
/* Calls cb with the current access token; waits while it is being loaded or
 * refreshed. */
void zalo_token_get(struct zalo_token *zt, zalo_token_cb cb, void *ud);
/* The API refused `used` (-216/-220): refresh unless another caller or
 * process already replaced it, then cb with the new token or NULL. */
void zalo_token_refresh(struct zalo_token *zt, const char *used, zalo_token_cb cb, void *ud);
/* Seconds until the access token expires; -1 when unknown. */
int64_t zalo_token_expires_in(const struct zalo_token *zt);
void zalo_token_close(struct zalo_token *zt);

/* ===== Pure helpers (unit-tested) ===== */
/* The form body of a refresh request (caller frees). */
char *zalo_token_refresh_body(const char *refresh_token, const char *app_id);
/* Parses an OAuth answer. Returns 0 and fills *access / *refresh (caller
 * frees) and *expires_in (seconds; 0 when absent or unreadable), or -1 with
 * *error_code (Zalo's "error", 0 when none) when no usable pair came back. */
int zalo_token_parse_response(const char *body, char **access, char **refresh,
                              int64_t *expires_in, int *error_code);
/* Delay (ms) before refreshing a token that expires in expires_in seconds. */
uint64_t zalo_token_refresh_delay_ms(int64_t expires_in);

#endif
