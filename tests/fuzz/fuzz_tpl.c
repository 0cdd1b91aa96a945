/* fuzz_tpl — the template renderer: a template file as staff might write
 * it, loaded from disk (tpl_set_load) and rendered with variable values
 * from outside (names, codes, amounts a citizen typed); and the real
 * templates/ (loaded once) rendered with those values.
 *
 * Input: the template file, then a line "=====", then one value per line
 * for the variables VARS below, in order (missing ones are left out of the
 * call, so "missing variable" is exercised too). The first byte also picks
 * which real template is rendered.
 *
 * Properties: rendering never reads past the template; a button has a
 * non-empty label and a payload of at most BOT_PAYLOAD_MAX bytes; every
 * variable tpl_each_var names appears in the file as {{name}}. */
#include "fuzz.h"
#include "dvcbot/mem.h"
#include "dvcbot/msg.h"
#include "dvcbot/tpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const VARS[] = {"code", "name", "amount", "fee", "status", "link",
                                   "commune", "date", "txn", "label"};
enum { N_VARS = sizeof VARS / sizeof VARS[0] };

static struct tpl_set *real;
static char dir[4096], file[4200];

static void remove_dir(void)
{
    unlink(file);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    char path[4096], *err = NULL;
    snprintf(path, sizeof path, "%s/templates", fuzz_data_dir());
    real = tpl_set_load(path, &err);
    if (!real || tpl_count(real) == 0) {
        fprintf(stderr, "fuzz_tpl: cannot load %s: %s\n", path, err ? err : "no templates");
        abort();
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dvcbot-fuzz-tpl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fuzz_fail("mkdtemp");
    snprintf(file, sizeof file, "%s/t.txt", dir);
    atexit(remove_dir);
    return 0;
}

static void check_reply(const struct bot_reply *r)
{
    if (!r->text)
        fuzz_fail("rendered reply without text");
    for (size_t i = 0; i < r->n_buttons; i++) {
        const struct bot_button *b = &r->buttons[i];
        if (!b->label[0] || !b->payload[0] || strlen(b->payload) > BOT_PAYLOAD_MAX)
            fuzz_fail("button with an empty label or payload, or a payload too long");
    }
}

struct each_ctx {
    const char *src;
};

static void each_var(const char *var, void *ud)
{
    const struct each_ctx *ctx = ud;
    char mark[TPL_VAR_MAX + 8];
    snprintf(mark, sizeof mark, "{{%s}}", var);
    if (!strstr(ctx->src, mark))
        fuzz_fail("tpl_each_var named a variable the template does not hold");
}

/* Splits values at newlines into vars; returns how many. */
static size_t read_vars(char *values, struct tpl_var vars[N_VARS])
{
    size_t n = 0;
    for (char *v = values; v && n < N_VARS; n++) {
        char *nl = strchr(v, '\n');
        if (nl)
            *nl = '\0';
        vars[n].name = VARS[n];
        vars[n].value = v;
        v = nl ? nl + 1 : NULL;
    }
    return n;
}

static void render(const struct tpl_set *set, const char *name, const struct tpl_var *vars,
                   size_t n)
{
    struct bot_replies out;
    bot_replies_init(&out);
    struct bot_reply *r = tpl_render(set, name, vars, n, &out);
    if (!r || out.n != 1)
        fuzz_fail("a template that exists did not render one reply");
    check_reply(r);
    bot_replies_free(&out);
    char *text = tpl_render_text(set, name, vars, n);
    if (!text)
        fuzz_fail("tpl_render_text: no text for a template that exists");
    free(text);
}

static void write_template(const char *src, size_t len)
{
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(src, 1, len, f) != len || fclose(f) != 0)
        fuzz_fail("cannot write the template");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *input = fuzz_cstr(data, size);
    char *sep = strstr(input, "\n=====\n");
    char *values = sep ? sep + 7 : NULL;
    size_t tlen = sep ? (size_t)(sep - input) : size;
    if (sep)
        *sep = '\0';
    struct tpl_var vars[N_VARS];
    size_t n = values ? read_vars(values, vars) : 0;

    write_template(input, tlen);
    char *err = NULL;
    struct tpl_set *set = tpl_set_load(dir, &err);
    if (!set) /* a file the size of a template always loads */
        fuzz_fail(err ? err : "tpl_set_load failed");
    if (!tpl_exists(set, "t") || tpl_count(set) != 1)
        fuzz_fail("the template written is not the one loaded");
    render(set, "t", vars, n);
    struct each_ctx ctx = {.src = input};
    if (!memchr(input, '\0', tlen)) /* a NUL inside hides the rest from strstr */
        tpl_each_var(set, "t", each_var, &ctx);
    struct bot_replies none;
    bot_replies_init(&none);
    if (tpl_render(set, "missing", vars, n, &none) || none.n != 1)
        fuzz_fail("a missing template must still give one reply");
    bot_replies_free(&none);
    tpl_set_free(set);

    render(real, tpl_name_at(real, data[0] % tpl_count(real)), vars, n);
    free(input);
    return 0;
}
