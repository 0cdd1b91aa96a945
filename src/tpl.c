/* tpl — load and render reply templates. */
#include "dvcbot/tpl.h"
#include "dvcbot/buf.h"
#include "dvcbot/file.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/strmap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tpl {
    char name[TPL_NAME_MAX];
    char *text;              /* message part */
    char **buttons;          /* raw "label | payload" lines */
    size_t n_buttons;
};

struct tpl_set {
    struct tpl *items; /* sorted by name */
    size_t n, cap;
    struct strmap named;   /* name → its item, made once sorted (find) */
};

/* ===== Loading ===== */

static void trim_right(struct buf *b)
{
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' ' ||
                      b->data[b->len - 1] == '\r'))
        b->data[--b->len] = '\0';
}

static void parse_template(struct tpl *t, char *src)
{
    struct buf text;
    buf_init(&text);
    bool in_buttons = false;
    for (char *line = src, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (strncmp(line, "##", 2) == 0)
            continue;
        if (!in_buttons && strcmp(line, "---") == 0) {
            in_buttons = true;
            continue;
        }
        if (in_buttons) {
            if (len == 0)
                continue;
            t->buttons = xrealloc(t->buttons, (t->n_buttons + 1) * sizeof *t->buttons);
            t->buttons[t->n_buttons++] = xstrdup(line);
        } else {
            buf_puts(&text, line);
            buf_putc(&text, '\n');
        }
    }
    trim_right(&text);
    t->text = buf_steal(&text);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct tpl *)a)->name, ((const struct tpl *)b)->name);
}

static int load_one(struct tpl_set *set, const char *dir, const char *file, char **err)
{
    size_t flen = strlen(file);
    if (flen < 5 || strcmp(file + flen - 4, ".txt") != 0 || file[0] == '.')
        return 0;
    if (flen - 4 >= TPL_NAME_MAX) {
        *err = xstrdup("template name too long");
        return -1;
    }
    struct buf path;
    buf_init(&path);
    buf_printf(&path, "%s/%s", dir, file);
    char *src = file_read_explained(path.data, NULL, err);
    if (!src) {
        buf_free(&path);
        return -1;
    }
    buf_free(&path);
    set->items = xreserve(set->items, &set->cap, set->n + 1, sizeof *set->items, 64);
    struct tpl *t = &set->items[set->n++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, file, flen - 4);
    t->name[flen - 4] = '\0';
    parse_template(t, src);
    free(src);
    return 0;
}

struct tpl_set *tpl_set_load(const char *dir, char **err)
{
    *err = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        struct buf e;
        buf_init(&e);
        buf_printf(&e, "cannot open templates dir '%s': %s", dir, strerror(errno));
        *err = buf_steal(&e);
        return NULL;
    }
    struct tpl_set *set = xcalloc(1, sizeof *set);
    strmap_init(&set->named);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (load_one(set, dir, de->d_name, err) != 0) {
            closedir(d);
            tpl_set_free(set);
            return NULL;
        }
    }
    closedir(d);
    if (set->n)
        qsort(set->items, set->n, sizeof *set->items, by_name);
    for (size_t i = 0; i < set->n; i++) /* names are file names: one item each */
        strmap_put(&set->named, set->items[i].name, &set->items[i]);
    return set;
}

void tpl_set_free(struct tpl_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].text);
        for (size_t j = 0; j < set->items[i].n_buttons; j++)
            free(set->items[i].buttons[j]);
        free(set->items[i].buttons);
    }
    free(set->items);
    strmap_free(&set->named);
    free(set);
}

/* A look-up in the name map (a name of TPL_NAME_MAX bytes or more is in it
 * no more than it was in the sorted items). */
static const struct tpl *find(const struct tpl_set *set, const char *name)
{
    return set ? strmap_get(&set->named, name) : NULL;
}

bool tpl_exists(const struct tpl_set *set, const char *name)
{
    return find(set, name) != NULL;
}

size_t tpl_count(const struct tpl_set *set)
{
    return set ? set->n : 0;
}

const char *tpl_name_at(const struct tpl_set *set, size_t i)
{
    return i < set->n ? set->items[i].name : NULL;
}

/* ===== Rendering ===== */

static bool is_var_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* If s starts with "{{name}}", stores name in var and returns its length. */
static size_t match_var(const char *s, char var[TPL_VAR_MAX])
{
    if (s[0] != '{' || s[1] != '{')
        return 0;
    size_t i = 2;
    while (is_var_char(s[i]) && i - 2 < TPL_VAR_MAX - 1)
        i++;
    if (i == 2 || s[i] != '}' || s[i + 1] != '}')
        return 0;
    memcpy(var, s + 2, i - 2);
    var[i - 2] = '\0';
    return i + 2;
}

/* The value of name; for one vars do not give, "" (logged), or NULL when
 * tname is NULL (tpl_set_fill: the variable stays for tpl_render). */
static const char *lookup(const struct tpl_var *vars, size_t n, const char *name, const char *tname)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(vars[i].name, name) == 0)
            return vars[i].value ? vars[i].value : "";
    if (!tname)
        return NULL;
    log_fmt(LOG_WARN, "template variable missing", "\"template\":%s,\"var\":%s",
            log_q(tname), log_q(name));
    return "";
}

static void expand(struct buf *out, const char *src, size_t len, const struct tpl_var *vars,
                   size_t nvars, const char *tname)
{
    char var[TPL_VAR_MAX];
    size_t run = 0;
    for (size_t i = 0; i < len;) {
        size_t m = src[i] == '{' ? match_var(src + i, var) : 0;
        const char *value = m && i + m <= len ? lookup(vars, nvars, var, tname) : NULL;
        if (value) {
            buf_append(out, src + run, i - run);
            buf_puts(out, value);
            run = i + m;
        }
        i += m && i + m <= len ? m : 1;
    }
    buf_append(out, src + run, len - run);
}

/* *s with the given variables written in, every other {{variable}} kept. */
static void replace_filled(char **s, const struct tpl_var *vars, size_t nvars)
{
    struct buf out;
    buf_init(&out);
    expand(&out, *s, strlen(*s), vars, nvars, NULL);
    free(*s);
    *s = buf_steal(&out);
}

void tpl_set_fill(struct tpl_set *set, const struct tpl_var *vars, size_t nvars)
{
    for (size_t i = 0; i < set->n; i++) {
        struct tpl *t = &set->items[i];
        replace_filled(&t->text, vars, nvars);
        for (size_t b = 0; b < t->n_buttons; b++)
            replace_filled(&t->buttons[b], vars, nvars);
    }
}

static void trim(char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static void add_button(struct bot_reply *r, const char *line, const struct tpl_var *vars,
                       size_t nvars, const char *tname)
{
    const char *bar = strrchr(line, '|');
    if (!bar)
        return;
    struct buf label, payload;
    buf_init(&label);
    buf_init(&payload);
    expand(&label, line, (size_t)(bar - line), vars, nvars, tname);
    expand(&payload, bar + 1, strlen(bar + 1), vars, nvars, tname);
    char *l = label.data ? label.data : (char *)"", *p = payload.data ? payload.data : (char *)"";
    size_t ll = label.len, pl = payload.len;
    trim(&l, &ll);
    trim(&p, &pl);
    if (ll && pl) {
        l[ll] = '\0';
        p[pl] = '\0';
        if (!bot_reply_add_button(r, l, p))
            log_fmt(LOG_WARN, "button dropped", "\"template\":%s", log_q(tname));
    }
    buf_free(&label);
    buf_free(&payload);
}

char *tpl_render_text(const struct tpl_set *set, const char *name,
                      const struct tpl_var *vars, size_t nvars)
{
    const struct tpl *t = find(set, name);
    if (!t)
        return NULL;
    struct buf out;
    buf_init(&out);
    expand(&out, t->text, strlen(t->text), vars, nvars, t->name);
    return buf_steal(&out);
}

struct bot_reply *tpl_render(const struct tpl_set *set, const char *name,
                             const struct tpl_var *vars, size_t nvars, struct bot_replies *out)
{
    const struct tpl *t = find(set, name);
    if (!t) {
        log_fmt(LOG_ERROR, "template missing", "\"template\":%s", log_q(name));
        bot_replies_add(out, "Xin lỗi, hệ thống đang thiếu nội dung trả lời. Vui lòng thử lại sau.");
        return NULL;
    }
    char *text = tpl_render_text(set, name, vars, nvars);
    struct bot_reply *r = bot_replies_add(out, text);
    free(text);
    for (size_t i = 0; i < t->n_buttons; i++)
        add_button(r, t->buttons[i], vars, nvars, t->name);
    return r;
}

static void each_var_in(const char *s, void (*fn)(const char *, void *), void *ud)
{
    char var[TPL_VAR_MAX];
    for (size_t i = 0; s[i];) {
        size_t m = s[i] == '{' ? match_var(s + i, var) : 0;
        if (m) {
            fn(var, ud);
            i += m;
        } else {
            i++;
        }
    }
}

void tpl_each_var(const struct tpl_set *set, const char *name,
                  void (*fn)(const char *var, void *ud), void *ud)
{
    const struct tpl *t = find(set, name);
    if (!t)
        return;
    each_var_in(t->text, fn, ud);
    for (size_t i = 0; i < t->n_buttons; i++)
        each_var_in(t->buttons[i], fn, ud);
}
