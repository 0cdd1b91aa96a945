/* commune_check — a staff-given commune name against the 2025 list. */
#include "dvcbot/commune_check.h"
#include "dvcbot/commune.h"

#include <stddef.h>

bool commune_check_known(const struct commune_list *l, const char *name)
{
    if (!name[0] || !l)
        return true;
    size_t n = commune_list_size(l);
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (commune_same(name, commune_list_at(l, i)->name))
            return true;
    return false;
}

void commune_check_refusal(const struct commune_list *l, const char *name, struct buf *out)
{
    struct commune_match m;
    commune_list_match(l, name, &m);
    const struct commune_unit *one[1] = {m.unit};
    const struct commune_unit *const *units = m.unit ? one : m.cands;
    size_t n = m.unit ? 1 : m.n_cands;

    struct buf msg;
    buf_init(&msg);
    buf_printf(&msg, "unknown commune '%.100s' (not in the 2025 list)", name);
    for (size_t i = 0; i < n; i++)
        buf_printf(&msg, "%s%s", i ? ", " : "; nearest: ", units[i]->label);
    buf_puts(out, "{\"error\":");
    buf_json_str(out, msg.data);
    buf_puts(out, ",\"commune\":");
    buf_json_str(out, name);
    buf_puts(out, ",\"nearest\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, ',');
        buf_json_str(out, units[i]->label);
    }
    buf_puts(out, "]}");
    buf_free(&msg);
}

bool commune_check_request(const struct commune_list *l, struct http_request *req,
                           const char *name)
{
    if (commune_check_known(l, name))
        return true;
    struct buf body;
    buf_init(&body);
    commune_check_refusal(l, name, &body);
    http_respond(req, 422, "application/json", body.data, body.len, NULL);
    buf_free(&body);
    return false;
}
