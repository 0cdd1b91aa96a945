/* cmd_chat — `dvcbot chat`: the dialog engine in a terminal (channel cli).
 *
 * Reads lines on stdin; each is a message from one local user (--user ID,
 * default "local"). Replies are printed with their buttons numbered from 1
 * across the whole answer (a list in two parts goes on counting); typing a
 * button's number presses it. Uses Redis like the service: REDIS_URL, or
 * else the private server `make run` started (run/redis.sock under
 * DVCBOT_DATA_DIR or the current directory), and answers without it when
 * there is none. */
#include "dvcbot/app.h"
#include "dvcbot/buf.h"
#include "dvcbot/commands.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONNECT_GRACE_MS 300
#define MAKE_RUN_SOCKET "run/redis.sock"

struct chat {
    struct app app;
    uv_fs_t read_req;
    uv_timer_t start_timer;
    char chunk[4096];
    struct buf line;
    char **payloads;        /* buttons of the last answer, numbered in order from 1 */
    size_t n_payloads;
    const char *user;
    bool eof;
    bool waiting;           /* a message is being answered */
    bool reading;           /* a read of stdin is in flight (read_req in use) */
    bool processing;        /* in process_lines: an answer given at once must
                               not start a second loop (nor a second read) */
};

static void read_more(struct chat *c);
static void process_lines(struct chat *c);

static void forget_buttons(struct chat *c)
{
    for (size_t i = 0; i < c->n_payloads; i++)
        free(c->payloads[i]);
    free(c->payloads);
    c->payloads = NULL;
    c->n_payloads = 0;
}

static void print_replies(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct chat *c = ud;
    (void)msg;
    forget_buttons(c);
    for (size_t i = 0; i < replies->n; i++) {
        const struct bot_reply *r = &replies->items[i];
        printf("bot> %s\n", r->text);
        for (size_t j = 0; j < r->n_buttons; j++) {
            c->payloads = xrealloc(c->payloads, (c->n_payloads + 1) * sizeof *c->payloads);
            c->payloads[c->n_payloads++] = xstrdup(r->buttons[j].payload);
            printf("     [%zu] %s\n", c->n_payloads, r->buttons[j].label);
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
    bool press = *text && !*end && n >= 1 && (size_t)n <= c->n_payloads;
    struct bot_msg *m = bot_msg_new(BOT_CH_CLI, press ? BOT_MSG_BUTTON : BOT_MSG_TEXT);
    bot_id_set(m->user, c->user);
    bot_id_set(m->chat, c->user);
    const char *t = press ? c->payloads[n - 1] : text;
    bot_msg_set_text(m, t, strlen(t));
    return m;
}

/* Sends the next complete line, one at a time so replies stay in order. */
static void process_lines(struct chat *c)
{
    if (c->processing)
        return; /* the loop below goes on once the answer is printed */
    c->processing = true;
    while (!c->waiting) {
        char *nl = c->line.data ? memchr(c->line.data, '\n', c->line.len) : NULL;
        if (!nl && c->eof && c->line.len)
            nl = c->line.data + c->line.len; /* last line without newline */
        if (!nl) {
            if (c->eof)
                app_shutdown(&c->app);
            else if (!c->reading)
                read_more(c);
            break;
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
    c->processing = false;
}

static void on_read(uv_fs_t *req)
{
    struct chat *c = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    c->reading = false;
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
        return;
    }
    c->reading = true;
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
        fprintf(stderr, "(redis unavailable: answering without saved sessions; "
                        "start `make run` first or set REDIS_URL)\n");
    read_more(c);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dvcbot chat [--user ID]\n\n"
            "Talk to the dialog engine in this terminal: type a message and Enter;\n"
            "type a button's number to press it; Ctrl-D ends.\n\n"
            "  --user ID   who is talking, 1-63 bytes (default: local); sessions are per user\n"
            "  -h, --help  this help\n\n"
            "Redis: REDIS_URL, else the private server of `make run` (%s under\n"
            "DVCBOT_DATA_DIR or here), else none (answers without saved sessions).\n",
            MAKE_RUN_SOCKET);
}

/* Without REDIS_URL, the private Redis `make run` started, if it is there. */
static void find_make_run_redis(void)
{
    const char *url = getenv("REDIS_URL");
    if (url && *url)
        return;
    const char *dir = getenv("DVCBOT_DATA_DIR");
    char path[PATH_MAX], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ".", MAKE_RUN_SOCKET);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || !realpath(path, real))
        return;
    char env[PATH_MAX + 16];
    snprintf(env, sizeof env, "unix://%s", real);
    if (setenv("REDIS_URL", env, 1) == 0)
        fprintf(stderr, "(redis: %s, the private server of make run)\n", env);
}

/* 0 to go on, 1 when the arguments asked for help, 2 when they are wrong. */
static int parse_args(struct chat *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--user") == 0 && i + 1 < argc && argv[i + 1][0] &&
            strlen(argv[i + 1]) < BOT_ID_MAX) { /* never cut: two users would become one */
            c->user = argv[++i];
            continue;
        }
        fprintf(stderr, "dvcbot chat: unknown argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    return 0;
}

int cmd_chat(int argc, char **argv)
{
    struct chat *c = xcalloc(1, sizeof *c);
    c->user = "local";
    int args = parse_args(c, argc, argv);
    if (args != 0) {
        free(c);
        return args == 1 ? 0 : 2;
    }
    find_make_run_redis();
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        free(c);
        return 1;
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
    forget_buttons(c);
    buf_free(&c->line);
    free(c);
    if (uv_loop_close(&loop) != 0)
        return 1;
    return status;
}
