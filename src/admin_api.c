/* admin_api — staff HTTP routes: auth, bodies, JSON answers. */
#include "dvcbot/admin_api.h"
#include "dvcbot/admin_auth.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

struct admin_api {
    struct admin_api_deps deps;
};

/* ===== GET /admin/stats ===== */

static void on_stats(const char *json, void *ud)
{
    struct http_request *req = ud;
    if (json)
        http_respond_json(req, 200, json);
    else
        http_respond_error(req, 503, "store unavailable");
}

static void handle_stats(struct http_request *req, void *ud)
{
    struct admin_api *api = ud;
    req->route = "admin_stats";
    if (admin_auth_check(req, api->deps.cfg->admin_tokens))
        stats_report(api->deps.stats, on_stats, req);
}

/* ===== /admin/volunteers ===== */

static void on_list(const char *const *keys, size_t n, void *ud)
{
    struct http_request *req = ud;
    if (!keys) {
        http_respond_error(req, 503, "store unavailable");
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"volunteers\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&b, ',');
        buf_json_str(&b, keys[i]);
    }
    buf_puts(&b, "]}");
    http_respond_json(req, 200, buf_cstr(&b));
    buf_free(&b);
}

static void on_changed(bool ok, long added, long removed, void *ud)
{
    struct http_request *req = ud;
    if (!ok) {
        http_respond_error(req, 503, "store unavailable");
        return;
    }
    char body[96];
    snprintf(body, sizeof body, "{\"added\":%ld,\"removed\":%ld}", added, removed);
    http_respond_json(req, 200, body);
}

/* The user keys of a list ("add" or "remove"); false when it is malformed. */
static bool key_list(const cJSON *arr, const char **keys, size_t *n)
{
    if (!arr)
        return true;
    if (!cJSON_IsArray(arr))
        return false;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e) || !volunteer_user_key_valid(e->valuestring) || *n >= VOLUNTEER_MAX_PER_REQUEST)
            return false;
        keys[(*n)++] = e->valuestring;
    }
    return true;
}

static void post_volunteers(struct admin_api *api, struct http_request *req)
{
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const char **add = xcalloc(VOLUNTEER_MAX_PER_REQUEST, sizeof *add);
    const char **rem = xcalloc(VOLUNTEER_MAX_PER_REQUEST, sizeof *rem);
    size_t n_add = 0, n_rem = 0;
    if (!cJSON_IsObject(root) || !key_list(cJSON_GetObjectItemCaseSensitive(root, "add"), add, &n_add) ||
        !key_list(cJSON_GetObjectItemCaseSensitive(root, "remove"), rem, &n_rem) || n_add + n_rem == 0 ||
        n_add + n_rem > VOLUNTEER_MAX_PER_REQUEST)
        http_respond_error(req, 400, "want {\"add\": [\"tg:123\", ...], \"remove\": [...]} with user keys");
    else
        volunteers_change(api->deps.volunteers, add, n_add, rem, n_rem, on_changed, req);
    free(add);
    free(rem);
    cJSON_Delete(root);
}

static void handle_volunteers(struct http_request *req, void *ud)
{
    struct admin_api *api = ud;
    req->route = "admin_volunteers";
    if (!admin_auth_check(req, api->deps.cfg->admin_tokens))
        return;
    if (strcmp(req->method_name, "POST") == 0)
        post_volunteers(api, req);
    else if (strcmp(req->method_name, "GET") != 0)
        http_respond_error(req, 405, "use GET or POST");
    else if (volunteers_list(api->deps.volunteers, on_list, req) != 0)
        http_respond_error(req, 503, "store unavailable");
}

/* ===== Set-up ===== */

struct admin_api *admin_api_new(const struct admin_api_deps *deps, struct router *r)
{
    struct admin_api *api = xcalloc(1, sizeof *api);
    api->deps = *deps;
    router_add(r, "GET", "/admin/stats", false, "admin_stats", handle_stats, api);
    router_add(r, NULL, "/admin/volunteers", false, "admin_volunteers", handle_volunteers, api);
    return api;
}

void admin_api_free(struct admin_api *api)
{
    free(api);
}
