/* console_page — templates/console/ files, read once, rendered with escaping. */
#include "dvcbot/console_page.h"
#include "dvcbot/file.h"
#include "dvcbot/html_escape.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

static const struct {
    const char *name;
    const char *content_type;
    bool is_static;
} files[] = {
    {"login.html", "text/html; charset=utf-8", false},
    {"console.html", "text/html; charset=utf-8", false},
    {"console.js", "text/javascript; charset=utf-8", true},
    {"console_texts.js", "text/javascript; charset=utf-8", true},
    {"console.css", "text/css; charset=utf-8", true},
};
#define N_FILES (sizeof files / sizeof files[0])

struct console_pages {
    char *data[N_FILES];
    size_t len[N_FILES];
};

struct console_pages *console_pages_load(const struct config *cfg, char **err)
{
    struct console_pages *p = xcalloc(1, sizeof *p);
    for (size_t i = 0; i < N_FILES; i++) {
        struct buf sub;
        buf_init(&sub);
        buf_printf(&sub, "templates/console/%s", files[i].name);
        char *path = config_data_path(cfg, sub.data);
        buf_free(&sub);
        p->data[i] = file_read_explained(path, &p->len[i], err);
        free(path);
        if (!p->data[i]) {
            console_pages_free(p);
            return NULL;
        }
    }
    return p;
}

void console_pages_free(struct console_pages *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < N_FILES; i++)
        free(p->data[i]);
    free(p);
}

static int file_index(const char *name, bool is_static)
{
    for (size_t i = 0; i < N_FILES; i++)
        if (files[i].is_static == is_static && strcmp(files[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const char *var_value(const struct tpl_var *vars, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return vars[i].value ? vars[i].value : "";
    return "";
}

int console_page_render(const struct console_pages *p, const char *name, const struct tpl_var *vars,
                        size_t nvars, struct buf *out)
{
    int i = file_index(name, false);
    if (i < 0)
        return -1;
    const char *s = p->data[i];
    for (;;) {
        const char *open = strstr(s, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (!close) {
            buf_puts(out, s);
            return 0;
        }
        buf_append(out, s, (size_t)(open - s));
        html_escape(out, var_value(vars, nvars, open + 2, (size_t)(close - open - 2)));
        s = close + 2;
    }
}

const char *console_page_static(const struct console_pages *p, const char *name, size_t *len,
                                const char **content_type)
{
    int i = file_index(name, true);
    if (i < 0)
        return NULL;
    *len = p->len[i];
    *content_type = files[i].content_type;
    return p->data[i];
}
