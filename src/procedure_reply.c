/* procedure_reply — summary, "which one?" and list replies about procedures. */
#include "dvcbot/procedure_reply.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/mem.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/procedure_groups.h"
#include "dvcbot/strfmt.h"
#include "dvcbot/telegram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

char *procedure_reply_shorten(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return xstrdup(s);
    size_t cut = max >= 3 ? max - 3 : 0; /* room for the ellipsis */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--; /* never split a UTF-8 sequence */
    size_t word = cut, clause = cut;
    while (word > 0 && s[word] != ' ')
        word--;
    while (clause > 0 && !(s[clause] == ' ' && (s[clause - 1] == ';' || s[clause - 1] == '.')))
        clause--;
    /* Prefer the end of a clause, then a word, unless it loses too much. */
    if (clause > cut / 2)
        cut = clause;
    else if (word > cut / 2)
        cut = word;
    while (cut > 0 && (s[cut - 1] == ' ' || s[cut - 1] == ',' || s[cut - 1] == ';' || s[cut - 1] == '.'))
        cut--;
    struct buf b;
    buf_init(&b);
    buf_append(&b, s, cut);
    buf_puts(&b, ELLIPSIS);
    return buf_steal(&b);
}

/* Like procedure_reply_shorten; *cut becomes true when s was shortened. */
static char *shorten_noting(const char *s, size_t max, bool *cut)
{
    if (strlen(s) > max)
        *cut = true;
    return procedure_reply_shorten(s, max);
}

char *procedure_reply_documents(const struct tpl_set *t, const struct procedure_info *p, size_t max,
                                size_t bytes, bool *cut)
{
    struct buf b;
    buf_init(&b);
    size_t shown = p->n_documents < max ? p->n_documents : max;
    if (p->n_documents == max + 1)
        shown = p->n_documents; /* "and 1 more" takes the same room as the item */
    for (size_t i = 0; i < shown; i++) {
        char *d = shorten_noting(p->documents[i], bytes, cut);
        buf_puts(&b, i ? "\n- " : "- ");
        buf_puts(&b, d);
        free(d);
    }
    if (shown < p->n_documents) {
        *cut = true;
        char count[24];
        snprintf(count, sizeof count, "%zu", p->n_documents - shown);
        struct tpl_var v = {"count", count};
        char *more = tpl_render_text(t, "procedure_more_documents", &v, 1);
        if (more) {
            buf_putc(&b, '\n');
            buf_puts(&b, more);
        }
        free(more);
    }
    return buf_steal(&b);
}

/* Every document, whole, as "- doc" lines. */
static char *all_documents_text(const struct procedure_info *p)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < p->n_documents; i++)
        buf_printf(&b, "%s- %s", i ? "\n" : "", p->documents[i]);
    return buf_steal(&b);
}

/* line (NULL: empty) followed by p's online_note when it has one. */
static char *with_online_note(const char *line, const struct procedure_info *p)
{
    struct buf b;
    buf_init(&b);
    if (line)
        buf_puts(&b, line);
    if (p->online_note && *p->online_note) {
        if (b.len)
            buf_putc(&b, ' ');
        buf_puts(&b, p->online_note);
    }
    return buf_steal(&b);
}

char *procedure_reply_online(const struct tpl_set *t, const struct procedure_info *p)
{
    char name[TPL_NAME_MAX];
    STR_CAT(name, sizeof name, "procedure_online_", p->online ? p->online : "(null)");
    char *s = tpl_render_text(t, name, NULL, 0);
    char *line = with_online_note(s, p);
    free(s);
    return line;
}

/* The full view says more than the summary: who the procedure is for and
 * the notes (never in the summary), or what the summary cut. */
static bool full_view_says_more(const struct procedure_info *p, bool cut)
{
    return cut || (p->audience && *p->audience) || (p->notes && *p->notes);
}

size_t procedure_reply_screen_chars(const struct bot_reply *r)
{
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)r->text; s && *s; s++)
        n += (*s & 0xC0) != 0x80; /* code points, as the phone shows them */
    for (size_t b = 0; b < r->n_buttons; b++)
        for (const unsigned char *s = (const unsigned char *)r->buttons[b].label; *s; s++)
            n += (*s & 0xC0) != 0x80;
    return n;
}

static size_t code_points(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Rows of one line (no newline in it) wrapped between words at
 * PROCEDURE_REPLY_ROW_CHARS; a word longer than a row fills the rest of the
 * row and goes on in the next ones. An empty line is one row. */
static size_t line_rows(const char *s, size_t len)
{
    const size_t width = PROCEDURE_REPLY_ROW_CHARS;
    size_t rows = 0, cur = 0; /* cur: characters on the row being filled */
    size_t i = 0;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && s[i] != ' ')
            i++;
        size_t w = code_points(s + start, i - start);
        if (w == 0)
            continue;
        if (cur && cur + 1 + w <= width) {
            cur += 1 + w;
            continue;
        }
        if (w > width && cur && cur + 1 < width) { /* a long word fills the row first */
            w -= width - cur - 1;
            cur = width;
        }
        if (cur) {
            rows++;
            cur = 0;
        }
        for (; w > width; w -= width)
            rows++;
        cur = w;
    }
    return rows + (cur > 0) + (rows == 0 && cur == 0);
}

size_t procedure_reply_screen_rows(const struct bot_reply *r)
{
    size_t rows = 0;
    const char *s = r->text ? r->text : "";
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        rows += line_rows(s, len);
        if (!nl)
            break;
        s = nl + 1;
    }
    for (size_t b = 0; b < r->n_buttons;) {
        bool pair = b + 1 < r->n_buttons && strlen(r->buttons[b].label) <= TELEGRAM_PAIR_LABEL_MAX &&
                    strlen(r->buttons[b + 1].label) <= TELEGRAM_PAIR_LABEL_MAX;
        b += pair ? 2 : 1;
        rows += PROCEDURE_REPLY_KEYBOARD_ROW;
    }
    return rows;
}

const char *procedure_reply_variant(const struct tpl_set *t, const char *base,
                                    const struct procedure_info *p, char *name, size_t size)
{
    /* "(null)": the name snprintf made of a procedure without "online" */
    STR_CAT(name, size, base, "_", p->online ? p->online : "(null)");
    if (!tpl_exists(t, name))
        STR_CAT(name, size, base);
    return name;
}

int procedure_reply_summary(const struct tpl_set *t, const struct intent *in,
                            struct bot_replies *out)
{
    return procedure_reply_summary_at(t, in, clock_now(), out);
}

int procedure_reply_summary_at(const struct tpl_set *t, const struct intent *in, int64_t now,
                               struct bot_replies *out)
{
    if (!in || !in->proc)
        return -1;
    const struct procedure_info *p = in->proc;
    bool cut = false;
    char *online = procedure_reply_online(t, p);
    char *docs = procedure_reply_documents(t, p, PROCEDURE_REPLY_MAX_DOCS, PROCEDURE_REPLY_DOC_BYTES, &cut);
    char *fee = shorten_noting(procedure_fee_at(p, now).text, PROCEDURE_REPLY_FIELD_BYTES, &cut);
    char *time = shorten_noting(p->processing_time, PROCEDURE_REPLY_FIELD_BYTES, &cut);
    char *agency = shorten_noting(p->agency, PROCEDURE_REPLY_FIELD_BYTES, &cut);
    char more[BOT_PAYLOAD_MAX + 1] = "";
    if (full_view_says_more(p, cut))
        STR_CAT(more, sizeof more, PROCEDURE_REPLY_FULL_PREFIX, in->id);
    struct buf opening; /* the opening line and its line break, or "" */
    buf_init(&opening);
    if (p->opening)
        buf_printf(&opening, "%s\n", p->opening);
    const struct tpl_var vars[] = {
        {"id", in->id},     {"name", in->name}, {"documents", docs}, {"fee", fee},
        {"time", time},     {"agency", agency}, {"online", online},  {"more", more},
        {"opening", buf_cstr(&opening)},
    };
    char name[TPL_NAME_MAX];
    procedure_reply_variant(t, "procedure_summary", p, name, sizeof name);
    struct bot_reply *r = tpl_render(t, name, vars, sizeof vars / sizeof vars[0], out);
    buf_free(&opening);
    free(online);
    free(docs);
    free(fee);
    free(time);
    free(agency);
    return r ? 0 : -1;
}

int procedure_reply_full(const struct tpl_set *t, const struct intent *in,
                         struct bot_replies *out)
{
    if (!in || !in->proc)
        return -1;
    const struct procedure_info *p = in->proc;
    char *online = procedure_reply_online(t, p);
    char *docs = all_documents_text(p);
    const struct tpl_var vars[] = {
        {"id", in->id},         {"name", in->name},          {"audience", p->audience},
        {"documents", docs},    {"fee", procedure_fee_at(p, clock_now()).text},
        {"time", p->processing_time},
        {"agency", p->agency},  {"online", online},          {"notes", p->notes ? p->notes : ""},
    };
    char name[TPL_NAME_MAX];
    procedure_reply_variant(t, "procedure_full", p, name, sizeof name);
    struct bot_reply *r = tpl_render(t, name, vars, sizeof vars / sizeof vars[0], out);
    free(online);
    free(docs);
    return r ? 0 : -1;
}

int procedure_reply_ask_which(const struct tpl_set *t, const struct intent *a,
                              const struct intent *b, struct bot_replies *out)
{
    const struct tpl_var vars[] = {
        {"a_id", a->id}, {"a_name", a->name}, {"a_label", a->short_name},
        {"b_id", b->id}, {"b_name", b->name}, {"b_label", b->short_name},
    };
    return tpl_render(t, "ask_which", vars, sizeof vars / sizeof vars[0], out) ? 0 : -1;
}

/* Puts buttons (labels, payloads) before the template's own buttons;
 * keep_template_buttons false drops the template's. */
static void put_before_template_buttons(struct bot_reply *r, const char *const *labels,
                                        const char *const *payloads, size_t n, bool keep_template_buttons)
{
    if (!keep_template_buttons)
        bot_reply_clear_buttons(r);
    for (size_t i = 0; i < n; i++)
        bot_reply_insert_button(r, i, labels[i], payloads[i]);
}

/* Procedure buttons (i:<id>) before the template's own. */
static void add_procedure_buttons(struct bot_reply *r, const struct intent *const *procs, size_t n,
                                  bool keep_template_buttons)
{
    const char *labels[BOT_MAX_BUTTONS], *payloads[BOT_MAX_BUTTONS];
    char buf[BOT_MAX_BUTTONS][BOT_PAYLOAD_MAX + 1];
    n = n < BOT_MAX_BUTTONS ? n : BOT_MAX_BUTTONS;
    for (size_t i = 0; i < n; i++) {
        snprintf(buf[i], sizeof buf[i], "i:%s", procs[i]->id);
        labels[i] = procs[i]->short_name;
        payloads[i] = buf[i];
    }
    put_before_template_buttons(r, labels, payloads, n, keep_template_buttons);
}

/* name, or its variant "<name><variant>" when templates/ has one. */
static const char *variant_of(const struct tpl_set *t, const char *name, const char *variant,
                              char out[TPL_NAME_MAX])
{
    if (!variant || snprintf(out, TPL_NAME_MAX, "%s%s", name, variant) >= TPL_NAME_MAX ||
        !tpl_exists(t, out))
        return name;
    return out;
}

/* Buttons the template itself adds (rendered once to count them). */
static size_t template_buttons(const struct tpl_set *t, const char *name)
{
    struct bot_replies probe;
    bot_replies_init(&probe);
    const struct tpl_var vars[] = {{"part", "1"}, {"parts", "1"}};
    struct bot_reply *r = tpl_render(t, name, vars, 2, &probe);
    size_t n = r ? r->n_buttons : 0;
    bot_replies_free(&probe);
    return n;
}

/* Every procedure, split over as few replies as the buttons allow, under
 * template name (procedure_list or its variant). */
static int reply_flat_list(const struct tpl_set *t, const struct catalog *cat, const char *name,
                           struct bot_replies *out)
{
    const struct intent *procs[PROCEDURE_REPLY_LIST_MAX];
    size_t n = 0;
    for (size_t i = 0; i < catalog_size(cat) && n < PROCEDURE_REPLY_LIST_MAX; i++)
        if (catalog_at(cat, i)->kind == INTENT_PROCEDURE)
            procs[n++] = catalog_at(cat, i);
    size_t fixed = template_buttons(t, name);
    size_t per = BOT_MAX_BUTTONS > fixed ? BOT_MAX_BUTTONS - fixed : 1;
    size_t parts = n ? (n + per - 1) / per : 1;
    size_t chunk = n ? (n + parts - 1) / parts : 0;
    for (size_t part = 0; part < parts; part++) {
        char ps[24], pn[24];
        snprintf(ps, sizeof ps, "%zu", part + 1);
        snprintf(pn, sizeof pn, "%zu", parts);
        const struct tpl_var vars[] = {{"part", ps}, {"parts", pn}};
        struct bot_reply *r = tpl_render(t, name, vars, 2, out);
        size_t from = part * chunk, to = from + chunk < n ? from + chunk : n;
        if (r)
            add_procedure_buttons(r, procs + from, to - from, part + 1 == parts);
    }
    return 0;
}

int procedure_reply_topics(const struct tpl_set *t, const struct catalog *cat, const char *name,
                           const struct tpl_var *vars, size_t nvars, struct bot_replies *out)
{
    const struct procedure_groups *gs = catalog_groups(cat);
    size_t n = procedure_groups_size(gs);
    if (!tpl_exists(t, name)) {
        tpl_render(t, name, NULL, 0, out); /* appends the "missing" reply */
        return -1;
    }
    const char *labels[PROCEDURE_GROUPS_MAX], *payloads[PROCEDURE_GROUPS_MAX];
    char buf[PROCEDURE_GROUPS_MAX][BOT_PAYLOAD_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        const struct procedure_group *g = procedure_groups_at(gs, i);
        snprintf(buf[i], sizeof buf[i], "%s%s", PROCEDURE_REPLY_GROUP_PREFIX, g->id);
        labels[i] = g->name;
        payloads[i] = buf[i];
    }
    struct bot_reply *r = tpl_render(t, name, vars, nvars, out);
    if (!r)
        return -1;
    put_before_template_buttons(r, labels, payloads, n, true);
    return 0;
}

int procedure_reply_list(const struct tpl_set *t, const struct catalog *cat, const char *variant,
                         struct bot_replies *out)
{
    char name[TPL_NAME_MAX];
    if (!procedure_groups_size(catalog_groups(cat))) {
        if (!tpl_exists(t, "procedure_list")) {
            tpl_render(t, "procedure_list", NULL, 0, out); /* appends the "missing" reply */
            return -1;
        }
        return reply_flat_list(t, cat, variant_of(t, "procedure_list", variant, name), out);
    }
    return procedure_reply_topics(t, cat, variant_of(t, "procedure_groups", variant, name), NULL, 0,
                                  out);
}

int procedure_reply_group(const struct tpl_set *t, const struct catalog *cat, const char *group_id,
                          const char *variant, struct bot_replies *out)
{
    char name[TPL_NAME_MAX];
    const struct procedure_group *g = procedure_groups_find(catalog_groups(cat), group_id);
    if (!g)
        return -1;
    const struct tpl_var vars[] = {{"name", g->name}};
    struct bot_reply *r = tpl_render(t, variant_of(t, "procedure_group", variant, name), vars, 1, out);
    if (!r)
        return -1;
    add_procedure_buttons(r, g->procs, g->n, true);
    return 0;
}
