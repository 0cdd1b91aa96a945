/* cmd_chat — `dvcbot chat`: the dialog engine in a terminal (channel cli).
 *
 * Reads lines on stdin; each is a message from one local user (--user ID,
 * default "local"). Replies are printed with numbered buttons; typing a
 * button's number presses it. Uses Redis like the service when REDIS_URL
 * reaches one, and answers without it otherwise. */
#include "dvcbot/app.h"
#include "dvcbot/buf.h"
#include "dvcbot/commands.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_GRACE_MS 300

struct chat {
    struct app app;
    uv_fs_t read_req;
    uv_timer_t start_timer;
    char chunk[4096];
    struct buf line;
    struct bot_reply last;  /* buttons of the last reply, for numbers */
    const char *user;
    bool eof;
    bool waiting;           /* a message is being answered */
};

static void read_more(struct chat *c);
static void process_lines(struct chat *c);

static void print_replies(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct chat *c = ud;
    (void)msg;
    bot_reply_clear(&c->last);
    for (size_t i = 0; i < replies->n; i++) {
        const struct bot_reply *r = &replies->items[i];
        printf("bot> %s\n", r->text);
        for (size_t j = 0; j < r->n_buttons; j++)
            printf("     [%zu] %s\n", j + 1, r->buttons[j].label);
        if (r->n_buttons) {
            bot_reply_clear(&c->last);
            bot_reply_copy(&c->last, r);
        }
    }
    fflush(stdout);
    c->waiting = false;
    process_lines(c);
}

static struct bot_msg *make_msg(struct chat *c, const char *text)
{
    char *end;
    long n = strtol(text, &end, 10);
    bool press = *text && !*end && n >= 1 && (size_t)n <= c->last.n_buttons;
    struct bot_msg *m = bot_msg_new(BOT_CH_CLI, press ? BOT_MSG_BUTTON : BOT_MSG_TEXT);
    bot_id_set(m->user, c->user);
    bot_id_set(m->chat, c->user);
    const char *t = press ? c->last.buttons[n - 1].payload : text;
    bot_msg_set_text(m, t, strlen(t));
    return m;
}

/* Sends the next complete line, one at a time so replies stay in order. */
static void process_lines(struct chat *c)
{
    while (!c->waiting) {
        char *nl = c->line.data ? memchr(c->line.data, '\n', c->line.len) : NULL;
        if (!nl && c->eof && c->line.len)
            nl = c->line.data + c->line.len; /* last line without newline */
        if (!nl) {
            if (c->eof)
                app_shutdown(&c->app);
            else
                read_more(c);
            return;
        }
        size_t len = (size_t)(nl - c->line.data);
        char *text = xstrndup(c->line.data, len && nl[-1] == '\r' ? len - 1 : len);
        size_t rest = c->line.len - len - (len < c->line.len ? 1 : 0);
        memmove(c->line.data, c->line.data + c->line.len - rest, rest);
        c->line.len = rest;
        c->line.data[rest] = '\0';
        if (*text) {
            c->waiting = true;
            printf("you> %s\n", text);
            dialog_handle(c->app.dialog, make_msg(c, text), print_replies, c);
        }
        free(text);
    }
}

static void on_read(uv_fs_t *req)
{
    struct chat *c = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n <= 0)
        c->eof = true;
    else
        buf_append(&c->line, c->chunk, (size_t)n);
    process_lines(c);
}

static void read_more(struct chat *c)
{
    uv_buf_t b = uv_buf_init(c->chunk, sizeof c->chunk);
    c->read_req.data = c;
    if (uv_fs_read(c->app.loop, &c->read_req, 0, &b, 1, -1, on_read) != 0) {
        c->eof = true;
        app_shutdown(&c->app);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    (void)h;
}

/* Give Redis a moment to connect before the first line. */
static void on_start(uv_timer_t *t)
{
    struct chat *c = t->data;
    uv_close((uv_handle_t *)t, on_timer_closed);
    if (!store_connected(c->app.store))
        fprintf(stderr, "(redis unavailable: answering without saved sessions)\n");
    read_more(c);
}

int cmd_chat(int argc, char **argv)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return 1;
    struct chat *c = xcalloc(1, sizeof *c);
    c->user = "local";
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--user") == 0)
            c->user = argv[++i];
    if (!*c->user || strlen(c->user) >= BOT_ID_MAX) {
        fprintf(stderr, "dvcbot: --user must be 1-%d bytes\n", BOT_ID_MAX - 1);
        free(c);
        uv_loop_close(&loop);
        return 2;
    }
    char *err = NULL;
    int status = 0;
    if (app_open(&c->app, &loop, &err) != 0) {
        fprintf(stderr, "dvcbot: %s\n", err ? err : "cannot start");
        free(err);
        app_close(&c->app);
        status = 1;
    } else if (uv_timer_init(&loop, &c->start_timer) != 0 ||
               uv_timer_start(&c->start_timer, on_start, CONNECT_GRACE_MS, 0) != 0) {
        app_close(&c->app);
        status = 1;
    }
    c->start_timer.data = c;
    uv_run(&loop, UV_RUN_DEFAULT);
    bot_reply_clear(&c->last);
    buf_free(&c->line);
    free(c);
    if (uv_loop_close(&loop) != 0)
        return 1;
    return status;
}
