/* commune_reply — the reply to a commune that fits several units or none. */
#include "dvcbot/commune_reply.h"
#include "dvcbot/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *commune_reply_template(const struct commune_match *m)
{
    if (m->found == COMMUNE_CHOOSE)
        return "flow_commune_choose";
    return m->n_cands ? "flow_commune_likely" : "flow_commune_unknown";
}

char *commune_reply_choices(const struct tpl_set *t, const struct commune_match *m)
{
    struct buf b;
    buf_init(&b);
    for (size_t k = 0; k < m->n_cands; k++) {
        const struct commune_unit *u = m->cands[k];
        const struct tpl_var v[] = {{"type", u->type}, {"name", u->name}, {"province", u->province},
                                    {"old", m->cand_old[k] ? m->cand_old[k] : ""}};
        char *line = tpl_render_text(t, m->cand_old[k] ? "flow_commune_line_old" : "flow_commune_line", v, 4);
        buf_printf(&b, "%s%s", b.len ? "\n" : "", line ? line : "");
        free(line);
    }
    return buf_steal(&b);
}

void commune_reply_echo(const char *text, char out[COMMUNE_REPLY_ECHO_BYTES])
{
    size_t cut = bot_text_prefix_len(text, strlen(text), COMMUNE_REPLY_ECHO_MAX);
    snprintf(out, COMMUNE_REPLY_ECHO_BYTES, "%.*s%s", (int)cut, text, text[cut] ? "\xe2\x80\xa6" : "");
}
