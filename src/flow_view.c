/* flow_view — what a user in a guided flow sees (see flow_turn.h). */
#include "dvcbot/buf.h"
#include "dvcbot/flow.h"
#include "dvcbot/flow_turn.h"
#include "dvcbot/mem.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/procedure_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6"

/* The template name to render for name: in a flow a volunteer runs, its
 * FLOW_VIEW_ASSIST_SUFFIX variant when there is one. */
static const char *variant(const struct flow_ctx *c, const char *name, char out[TPL_NAME_MAX])
{
    if (!c->s.assist || snprintf(out, TPL_NAME_MAX, "%s" FLOW_VIEW_ASSIST_SUFFIX, name) >= TPL_NAME_MAX ||
        !tpl_exists(c->t->deps->tpl, out))
        return name;
    return out;
}

char *flow_view_text(const struct flow_ctx *c, const char *tpl_name, const struct tpl_var *v,
                     size_t n)
{
    char name[TPL_NAME_MAX];
    char *text = tpl_render_text(c->t->deps->tpl, variant(c, tpl_name, name), v, n);
    return text ? text : xstrdup("");
}

struct bot_reply *flow_view_render(struct flow_ctx *c, const char *tpl_name, const struct tpl_var *v,
                                   size_t n)
{
    char name[TPL_NAME_MAX];
    return dialog_turn_render(c->t, variant(c, tpl_name, name), v, n);
}

static struct bot_reply *render(struct flow_ctx *c, const char *name, const struct tpl_var *v,
                                size_t n)
{
    return flow_view_render(c, name, v, n);
}

const char *flow_view_value(const struct flow_ctx *c, const struct flow_step *s, const char *value)
{
    for (size_t k = 0; value && c->s.assist && s->type == SLOT_CHOICE && k < s->n_options; k++)
        if (s->assist_options[k] && strcmp(value, s->options[k]) == 0)
            return s->assist_options[k];
    return value;
}

/* A step's text as its reader reads it: for a volunteer, about "người dân". */
static const char *step_text(const struct flow_ctx *c, const struct flow_step *s)
{
    return c->s.assist && s->assist_text ? s->assist_text : s->text;
}

static void position(const struct flow_ctx *c, size_t i, char n[24], char total[24])
{
    size_t k, all;
    flow_state_position(&c->s, i, &k, &all);
    snprintf(n, 24, "%zu", k);
    snprintf(total, 24, "%zu", all);
}

/* "f:<what>:<i>", or "" (which hides the template's button) when !on. */
static void payload(char *out, size_t cap, const char *what, size_t i, bool on)
{
    if (on)
        snprintf(out, cap, "f:%s:%zu", what, i);
    else
        out[0] = '\0';
}

/* ===== Buttons ===== */

/* Moves the template's own buttons out of r, so the caller can add its own
 * first; put_back appends them again. */
static void take_buttons(struct bot_reply *r, struct bot_reply *own)
{
    bot_reply_copy(own, r);
    bot_reply_clear_buttons(r);
}

static void put_back(struct bot_reply *r, struct bot_reply *own)
{
    for (size_t k = 0; k < own->n_buttons; k++)
        bot_reply_add_button(r, own->buttons[k].label, own->buttons[k].payload);
    bot_reply_clear(own);
}

/* The options of a choice, or the communes on offer, before the template's
 * own buttons. */
static void add_answer_buttons(const struct flow_ctx *c, struct bot_reply *r,
                               const struct flow_step *s, size_t i)
{
    struct bot_reply own;
    char p[BOT_PAYLOAD_MAX + 1];
    take_buttons(r, &own);
    for (size_t k = 0; s->type == SLOT_CHOICE && k < s->n_options; k++) {
        snprintf(p, sizeof p, "f:opt:%zu:%zu", i, k);
        bot_reply_add_button(r, flow_view_value(c, s, s->options[k]), p);
    }
    for (size_t k = 0; s->type == SLOT_COMMUNE && k < c->s.n_cand; k++) {
        const struct commune_unit *u = commune_list_by_code(c->fl->communes, c->s.cand[k]);
        snprintf(p, sizeof p, "f:cm:%zu:%s", i, c->s.cand[k]);
        if (u)
            bot_reply_add_button(r, u->label, p);
    }
    put_back(r, &own);
}

/* ===== Steps ===== */

/* Step i is the first step of its screen that applies. */
static bool first_of_screen(const struct flow_ctx *c, size_t i)
{
    const struct flow_step *s = &c->s.def->steps[i];
    for (size_t k = 0; k < i; k++)
        if (c->s.def->steps[k].kind == FLOW_STEP_SAY && c->s.def->steps[k].screen == s->screen &&
            flow_state_applies(&c->s, k))
            return false;
    return s->screen >= 0;
}

/* "Label: value" lines of the answers needed on a screen (-1: all). */
static char *answers_for(const struct flow_ctx *c, int screen)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        const char *v = s->slot ? flow_state_answer(&c->s, i) : NULL;
        if (v && (screen < 0 || s->screen == screen) && flow_state_applies(&c->s, i))
            buf_printf(&b, "%s%s: %s", b.len ? "\n" : "", s->label, flow_view_value(c, s, v));
    }
    return buf_steal(&b);
}

static void append_part(const struct flow_ctx *c, struct buf *b, const char *tpl_name,
                        const char *var, const char *value)
{
    const struct tpl_var v = {var, value};
    char *part = flow_view_text(c, tpl_name, &v, 1);
    buf_printf(b, "\n\n%s", part);
    free(part);
}

static void show_say(struct flow_ctx *c, size_t i, const char *note)
{
    const struct flow_step *s = &c->s.def->steps[i];
    const struct flow_screen *sc = flow_set_screen(c->fl->defs, s->screen);
    char n[24], total[24], next[32], back[32], edit[8] = "";
    struct buf extra;
    buf_init(&extra);
    char *screen = sc ? flow_view_text(c, "flow_part_screen", &(struct tpl_var){"name", sc->name}, 1)
                      : xstrdup("");
    if (sc && first_of_screen(c, i)) {
        if (sc->link) {
            char *url = flow_view_portal_link(c);
            append_part(c, &extra, "flow_part_link", "url", url);
            free(url);
        }
        if (sc->fee && c->s.def->in->proc)
            append_part(c, &extra, "flow_part_fee", "fee",
                        procedure_fee_at(c->s.def->in->proc, flow_turn_now()).text);
        char *answers = answers_for(c, s->screen);
        if (*answers) {
            append_part(c, &extra, "flow_part_answers", "answers", answers);
            snprintf(edit, sizeof edit, "f:edit");
        }
        free(answers);
    }
    position(c, i, n, total);
    payload(next, sizeof next, "next", i, true);
    payload(back, sizeof back, "back", i, i > 0);
    const struct tpl_var v[] = {
        {"n", n}, {"total", total}, {"screen", screen}, {"text", step_text(c, s)},
        {"extra", buf_cstr(&extra)}, {"next", next}, {"back", back}, {"edit", edit},
        {"note", note ? note : ""},
    };
    render(c, "flow_say", v, sizeof v / sizeof v[0]);
    free(screen);
    buf_free(&extra);
}

static void show_ask(struct flow_ctx *c, size_t i, const char *note)
{
    const struct flow_step *s = &c->s.def->steps[i];
    const struct flow_screen *sc = flow_set_screen(c->fl->defs, s->screen);
    const char *current = flow_view_value(c, s, flow_state_answer(&c->s, i));
    char n[24], total[24], keep[32], skip[32], back[32];
    position(c, i, n, total);
    payload(keep, sizeof keep, "keep", i, current != NULL);
    payload(skip, sizeof skip, "skip", i, s->optional);
    payload(back, sizeof back, "back", i, i > 0);
    char *where = sc ? flow_view_text(c, "flow_part_where", &(struct tpl_var){"screen", sc->name}, 1)
                     : xstrdup("");
    const struct tpl_var v[] = {
        {"n", n}, {"total", total}, {"question", step_text(c, s)}, {"where", where},
        {"note", note ? note : ""}, {"current", current ? current : ""}, {"keep", keep},
        {"skip", skip}, {"back", back},
    };
    struct bot_reply *r = render(c, "flow_ask", v, sizeof v / sizeof v[0]);
    if (r)
        add_answer_buttons(c, r, s, i);
    free(where);
}

static void show_check(struct flow_ctx *c, size_t i, const char *note)
{
    const struct flow_step *s = &c->s.def->steps[i];
    char n[24], total[24], yes[32], no[32], back[32];
    position(c, i, n, total);
    payload(yes, sizeof yes, "yes", i, true);
    payload(no, sizeof no, "no", i, true);
    payload(back, sizeof back, "back", i, i > 0);
    const struct tpl_var v[] = {
        {"n", n}, {"total", total}, {"question", step_text(c, s)}, {"yes", s->check->yes},
        {"no", s->check->no}, {"yes_payload", yes}, {"no_payload", no}, {"back", back},
        {"note", note ? note : ""},
    };
    render(c, "flow_check", v, sizeof v / sizeof v[0]);
}

/* A check answered "no": its help screen, the way on (or to stop first),
 * then the screen's own buttons (they leave the flow, except help screens). */
static void show_detour(struct flow_ctx *c, size_t i, const char *note)
{
    const struct flow_check *chk = c->s.def->steps[i].check;
    char go[32];
    payload(go, sizeof go, "yes", i, true);
    char *help = flow_view_text(c, chk->screen, NULL, 0);
    const struct tpl_var v[] = {{"help", help}, {"go", go}, {"note", note ? note : ""}};
    struct bot_reply *r = render(c, chk->stops ? "flow_check_stop" : "flow_check_continue", v, 3);
    free(help);
    struct bot_replies screen;
    bot_replies_init(&screen);
    const struct bot_reply *sr = tpl_render(c->t->deps->tpl, chk->screen, NULL, 0, &screen);
    for (size_t k = 0; r && sr && k < sr->n_buttons; k++)
        bot_reply_add_button(r, sr->buttons[k].label, sr->buttons[k].payload);
    bot_replies_free(&screen);
}

/* "Lò Văn Minh, 01/02/1990, …6789": numbers shortened to their end. */
static char *offer_text(const struct flow_ctx *c)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        const char *v = c->s.offer[i];
        if (!v)
            continue;
        if (b.len)
            buf_puts(&b, ", ");
        size_t len = strlen(v);
        if ((s->type == SLOT_CCCD || s->type == SLOT_PHONE) && len > 4)
            buf_printf(&b, ELLIPSIS "%s", v + len - 4);
        else
            buf_puts(&b, v);
    }
    return buf_steal(&b);
}

void flow_view_current(struct flow_ctx *c, const char *note)
{
    if (c->s.offering) {
        char *saved = offer_text(c);
        const struct tpl_var v = {"saved", saved};
        render(c, "profile_offer", &v, 1);
        free(saved);
        return;
    }
    size_t i = c->s.i;
    if (i >= c->s.def->n_steps) {
        flow_end_view(c, note);
        return;
    }
    switch (c->s.def->steps[i].kind) {
    case FLOW_STEP_SAY:
        show_say(c, i, note);
        break;
    case FLOW_STEP_ASK:
        show_ask(c, i, note);
        break;
    case FLOW_STEP_CHECK:
        if (c->s.detour)
            show_detour(c, i, note);
        else
            show_check(c, i, note);
        break;
    }
}

char *flow_view_note(const char *text)
{
    struct buf note;
    buf_init(&note);
    buf_printf(&note, "%s\n\n", text);
    return buf_steal(&note);
}

void flow_view_with_note(struct flow_ctx *c, const char *tpl_name, const struct tpl_var *v, size_t n)
{
    char *text = flow_view_text(c, tpl_name, v, n);
    char *note = flow_view_note(text);
    free(text);
    flow_view_current(c, note);
    free(note);
}

/* ===== Around the steps ===== */

void flow_view_intro(struct flow_ctx *c)
{
    const struct procedure_info *p = c->s.def->in->proc;
    char total[24];
    size_t k, all;
    flow_state_position(&c->s, 0, &k, &all);
    snprintf(total, sizeof total, "%zu", all);
    char *online = p && p->online ? procedure_reply_online(c->t->deps->tpl, p)
                                  : flow_view_text(c, "procedure_online_mot_phan", NULL, 0);
    const struct tpl_var v[] = {{"name", c->s.def->in->name}, {"total", total}, {"online", online}};
    char name[TPL_NAME_MAX] = "flow_intro"; /* flow_intro_truc_tiep: a visit, not a submission */
    if (p && p->online)
        procedure_reply_variant(c->t->deps->tpl, "flow_intro", p, name, sizeof name);
    render(c, name, v, 3);
    free(online);
}

void flow_view_said(struct flow_ctx *c, uint32_t steps)
{
    struct buf b;
    buf_init(&b);
    char edit[BOT_PAYLOAD_MAX + 1] = "f:edit";
    size_t n = 0;
    for (size_t i = 0; i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        const char *v = steps >> i & 1u ? flow_state_answer(&c->s, i) : NULL;
        if (!v)
            continue;
        buf_printf(&b, "%s%s: %s", b.len ? "; " : "", s->label, flow_view_value(c, s, v));
        if (n++ == 0)
            snprintf(edit, sizeof edit, "f:edit:%s", s->slot);
        else
            snprintf(edit, sizeof edit, "f:edit");
    }
    const struct tpl_var v[] = {{"answers", buf_cstr(&b)}, {"edit", edit}};
    if (n)
        render(c, "flow_said", v, 2);
    buf_free(&b);
}

char *flow_view_answered_labels(const struct flow_ctx *c)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        if (s->slot && flow_state_answer(&c->s, i) && flow_state_applies(&c->s, i))
            buf_printf(&b, "%s%s", b.len ? ", " : "", s->label);
    }
    return buf_steal(&b);
}

void flow_view_help(struct flow_ctx *c)
{
    const struct flow_step *s = c->s.i < c->s.def->n_steps ? &c->s.def->steps[c->s.i] : NULL;
    char *hint;
    if (s && s->hint) {
        hint = xstrdup(s->hint);
    } else {
        char name[TPL_NAME_MAX];
        snprintf(name, sizeof name, "flow_hint_%s",
                 !s ? "code" : s->slot ? flow_slot_type_name(s->type) : "say");
        const struct procedure_info *p = c->s.def->in->proc;
        char base[TPL_NAME_MAX];
        snprintf(base, sizeof base, "%s", name);
        if (s && !s->slot && p && p->online) /* flow_hint_say_truc_tiep: no portal to follow */
            procedure_reply_variant(c->t->deps->tpl, base, p, name, sizeof name);
        hint = flow_view_text(c, name, NULL, 0);
    }
    char *fields = flow_view_answered_labels(c);
    const struct tpl_var v[] = {{"hint", hint}, {"fields", fields}};
    render(c, "flow_help", v, 2);
    free(hint);
    free(fields);
}

void flow_view_edit_choose(struct flow_ctx *c)
{
    struct bot_reply *r = render(c, "flow_edit_choose", NULL, 0);
    if (!r)
        return;
    struct bot_reply own;
    take_buttons(r, &own);
    for (size_t i = 0; i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        if (!s->slot || !flow_state_answer(&c->s, i) || !flow_state_applies(&c->s, i))
            continue;
        char p[BOT_PAYLOAD_MAX + 1];
        snprintf(p, sizeof p, "f:edit:%s", s->slot);
        bot_reply_add_button(r, s->label, p);
    }
    put_back(r, &own);
}

void flow_view_edit_unknown(struct flow_ctx *c)
{
    char *fields = flow_view_answered_labels(c);
    const struct tpl_var v = {"fields", fields};
    render(c, "flow_edit_unknown", &v, 1);
    free(fields);
}

/* "Anh/chị đang làm dở: <procedure>, bước k/n — tiếp tục?" */
void flow_view_resume(struct flow_ctx *c)
{
    char n[24], total[24];
    position(c, c->s.i, n, total);
    const struct tpl_var v[] = {{"name", c->s.def->in->name}, {"n", n}, {"total", total}};
    render(c, "flow_resume", v, sizeof v / sizeof v[0]);
    dialog_turn_keep_buttons(c->t); /* "1" next is Tiếp tục, not the step's answer */
}

/* "Anh/chị đang làm dở: <procedure>, bước k/n. Làm tiếp, hay bỏ để làm <next>?" */
void flow_view_switch_ask(struct flow_ctx *c, const struct intent *next)
{
    char n[24], total[24], fresh[BOT_PAYLOAD_MAX + 1];
    position(c, c->s.i, n, total);
    snprintf(fresh, sizeof fresh, "flow:%s%s", next->id, FLOW_START_FRESH);
    const struct tpl_var v[] = {{"name", c->s.def->in->name}, {"n", n}, {"total", total},
                                {"next", next->name}, {"fresh", fresh}};
    render(c, "flow_switch_ask", v, sizeof v / sizeof v[0]);
    dialog_turn_keep_buttons(c->t);
}

/* ===== The portal page ===== */

static void percent_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (plain)
            buf_putc(b, (char)*p);
        else
            buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}

char *flow_view_portal_link(const struct flow_ctx *c)
{
    const struct intent *in = c->s.def->in;
    struct buf b;
    buf_init(&b);
    if (in->proc && in->proc->portal_code && in->proc->portal_url) {
        buf_puts(&b, in->proc->portal_url); /* the procedure's own page */
    } else {
        buf_puts(&b, flow_set_portal_search(c->fl->defs));
        percent_encode(&b, in->name);
    }
    return buf_steal(&b);
}
