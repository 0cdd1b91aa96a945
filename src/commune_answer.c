/* commune_answer — which commune or ward a line asks about, and the reply. */
#include "dvcbot/commune_answer.h"
#include "dvcbot/catalog.h"
#include "dvcbot/commune_reply.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct commune_answers {
    const struct commune_list *list;
};

/* ===== Deciding ===== */

/* What a word of the line reads as, folded: "Xã" → "xa", "nào?" → "nao". */
static bool word_is(const char *w, size_t n, const char *const *set)
{
    char *f = norm_fold(w, n, NULL);
    bool in = false;
    for (size_t i = 0; f && set[i] && !in; i++)
        in = strcmp(f, set[i]) == 0;
    free(f);
    return in;
}

struct word {
    const char *at;
    size_t n;
};

static const char *const type_words[] = {"xa", "phuong", "p", "tt", NULL};
static const char *const asking_words[] = {"nao", "gi", "j", "dau", NULL};

/* The line without the question ("… giờ thuộc phường nào": "phường nào" is
 * not the unit's type) and, when bare, without any type word ("xã Chiềng
 * Cơi" for a ward). A new string. */
static char *line_without(const char *text, bool bare)
{
    struct word w[COMMUNE_ANSWER_TEXT_MAX];
    size_t n = 0;
    for (const char *p = text; *p && n < COMMUNE_ANSWER_TEXT_MAX;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len)
            w[n++] = (struct word){p, len};
        p += len;
    }
    char *out = xmalloc(strlen(text) + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        bool type = word_is(w[i].at, w[i].n, type_words);
        if (type && i + 1 < n && word_is(w[i + 1].at, w[i + 1].n, asking_words)) {
            i++;
            continue;
        }
        if (type && bare)
            continue;
        o += (size_t)sprintf(out + o, "%s%.*s", o ? " " : "", (int)w[i].n, w[i].at);
    }
    out[o] = '\0';
    return out;
}

static bool found(const struct commune_match *m)
{
    return m->found == COMMUNE_FOUND || m->found == COMMUNE_FOUND_OLD;
}

/* The unit the line names, its question left out; a type word that rules
 * out every unit of that name (a ward typed "xã") is not held against it. */
static void match_line(const struct commune_list *l, const char *text, struct commune_match *m)
{
    char *asked = line_without(text, false);
    commune_list_match(l, asked, m);
    free(asked);
    if (found(m))
        return;
    char *bare = line_without(text, true);
    struct commune_match again;
    commune_list_match(l, bare, &again);
    free(bare);
    if (found(&again))
        *m = again;
}

void commune_answer_decide(const struct commune_list *l, const char *text, const char *procedure,
                           struct commune_answer *out)
{
    memset(out, 0, sizeof *out);
    out->kind = COMMUNE_ANSWER_EXPLAIN;
    if (procedure) {
        out->kind = COMMUNE_ANSWER_PROCEDURE;
        out->procedure = procedure;
        return;
    }
    if (!text || !*text || strlen(text) > COMMUNE_ANSWER_TEXT_MAX)
        return;
    match_line(l, text, &out->match);
    const struct commune_match *m = &out->match;
    switch (m->found) {
    case COMMUNE_FOUND:
        out->kind = COMMUNE_ANSWER_TODAY;
        out->unit = m->unit;
        break;
    case COMMUNE_FOUND_OLD:
        out->kind = COMMUNE_ANSWER_OLD;
        out->unit = m->unit;
        out->old = m->old;
        break;
    case COMMUNE_CHOOSE:
        out->kind = COMMUNE_ANSWER_CHOOSE;
        break;
    case COMMUNE_UNKNOWN:
        break;
    }
}

/* Whether one of the folded phrases of the JSON array list is in the
 * folded line padded with spaces (" giay to cu "): whole words only. */
static bool has_phrase(const char *padded, const cJSON *list)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, list) {
        if (!cJSON_IsString(p) || !p->valuestring[0])
            continue;
        char want[128];
        int n = snprintf(want, sizeof want, " %s ", p->valuestring);
        if (n > 0 && (size_t)n < sizeof want && strstr(padded, want))
            return true;
    }
    return false;
}

bool commune_answer_asks_papers(const cJSON *papers, const char *text)
{
    const cJSON *things = cJSON_GetObjectItemCaseSensitive(papers, "papers");
    const cJSON *asks = cJSON_GetObjectItemCaseSensitive(papers, "asks");
    if (!cJSON_IsArray(things) || !cJSON_IsArray(asks) || !text ||
        strlen(text) > COMMUNE_ANSWER_TEXT_MAX)
        return false;
    size_t n = 0;
    char *folded = norm_fold(text, strlen(text), &n);
    if (!folded)
        return false;
    char *padded = xmalloc(n + 3);
    snprintf(padded, n + 3, " %s ", folded);
    free(folded);
    bool yes = has_phrase(padded, things) && has_phrase(padded, asks);
    free(padded);
    return yes;
}

/* ===== Replying ===== */

/* Papers issued before the arrangement: of the procedure the line names
 * ("căn cước ghi xã cũ có phải đổi không"), the follow-up answer naming
 * it, the same as for a line the matcher read as that procedure (facet
 * papers, followup.c); else the answer for papers in general. */
static void reply_papers(struct dialog_turn *t)
{
    const struct intent *in =
        t->match.procedure ? catalog_find(t->deps->catalog, t->match.procedure) : NULL;
    if (in && in->kind == INTENT_PROCEDURE) {
        const struct tpl_var v[] = {{"id", in->id}, {"name", in->name}};
        dialog_turn_reply(t, "followup_papers", v, 2);
    } else {
        dialog_turn_reply(t, "commune_answer_papers", NULL, 0);
    }
}

/* Renders name with the unit's variables and where its papers are done. */
static void reply_unit(struct dialog_turn *t, const char *name, const struct commune_unit *u,
                       const char *old)
{
    const struct tpl_var uv[] = {{"type", u->type}, {"name", u->name}};
    char *where = tpl_render_text(t->deps->tpl, "commune_answer_where", uv, 2);
    const struct tpl_var v[] = {{"type", u->type},         {"name", u->name},
                                {"province", u->province}, {"old", old ? old : ""},
                                {"where", where ? where : ""}};
    dialog_turn_reply(t, name, v, 5);
    free(where);
}

/* The units on offer, as lines and as buttons before the template's own. */
static void reply_choose(struct dialog_turn *t, const struct commune_match *m)
{
    char *lines = commune_reply_choices(t->deps->tpl, m);
    const struct tpl_var v[] = {{"choices", lines ? lines : ""}};
    struct bot_reply *r = dialog_turn_render(t, "commune_answer_choose", v, 1);
    free(lines);
    for (size_t k = 0; r && k < m->n_cands; k++) {
        char payload[BOT_PAYLOAD_MAX + 1];
        snprintf(payload, sizeof payload, "%s%s", COMMUNE_ANSWER_PAYLOAD, m->cands[k]->code);
        bot_reply_insert_button(r, k, m->cands[k]->label, payload);
    }
    dialog_turn_done(t);
}

static void answer(struct dialog_turn *t, const struct commune_answer *a)
{
    switch (a->kind) {
    case COMMUNE_ANSWER_OLD:
        reply_unit(t, "commune_answer_old", a->unit, a->old);
        return;
    case COMMUNE_ANSWER_TODAY:
        reply_unit(t, "commune_answer_today", a->unit, NULL);
        return;
    case COMMUNE_ANSWER_CHOOSE:
        reply_choose(t, &a->match);
        return;
    case COMMUNE_ANSWER_PROCEDURE:
        dialog_turn_route_intent(t, a->procedure);
        return;
    case COMMUNE_ANSWER_EXPLAIN:
        dialog_turn_reply(t, "commune_answer_explain", NULL, 0);
        return;
    }
}

static void on_intent(struct dialog_turn *t, void *ud)
{
    struct commune_answers *ca = ud;
    struct commune_answer a;
    bool typed = t->msg->kind == BOT_MSG_TEXT;
    const struct intent *in = catalog_find(t->deps->catalog, COMMUNE_ANSWER_INTENT);
    if (typed && in &&
        commune_answer_asks_papers(cJSON_GetObjectItemCaseSensitive(in->json, COMMUNE_ANSWER_PAPERS),
                                   t->msg->text)) {
        reply_papers(t);
        return;
    }
    commune_answer_decide(ca->list, typed ? t->msg->text : NULL, typed ? t->match.procedure : NULL,
                          &a);
    answer(t, &a);
}

/* A unit chosen among several: "dvhc:<code>". */
static void on_button(struct dialog_turn *t, void *ud)
{
    struct commune_answers *ca = ud;
    const struct commune_unit *u = commune_list_by_code(ca->list, t->arg);
    struct commune_answer a = {.kind = u ? COMMUNE_ANSWER_TODAY : COMMUNE_ANSWER_EXPLAIN, .unit = u};
    answer(t, &a);
}

struct commune_answers *commune_answers_new(struct dialog *d, const struct commune_list *l)
{
    struct commune_answers *ca = xcalloc(1, sizeof *ca);
    ca->list = l;
    dialog_on_intent(d, COMMUNE_ANSWER_INTENT, on_intent, ca);
    dialog_on_payload(d, COMMUNE_ANSWER_PAYLOAD, on_button, ca);
    return ca;
}

void commune_answers_free(struct commune_answers *ca)
{
    free(ca);
}
