/* bound_server: a bench instrument for bench/bound.py, not product code.
 *
 * The least an inline-mode webhook server can do per update: read the HTTP
 * request (end of headers and Content-Length, nothing else), make it durable
 * in Redis and wait for Redis's answer, then answer 200 with a fixed ~200-byte
 * sendMessage JSON (the reply riding in the webhook's response).
 *
 *   bound_server PORT none|plain|fcall [REDIS_UNIX_SOCKET|-] [BOT_API_PORT]
 *
 *   none   answer at once (HTTP alone, no Redis)
 *   plain  XADD bound:s MAXLEN ~ 10000 * b <body> and SET bound:u:<n % 10000> <body> EX 60,
 *          pipelined; the 200 goes when SET's reply arrives (Redis answers in order)
 *   fcall  FCALL bound_store 2 bound:s bound:u:<n % 10000> <body>: one Lua function doing
 *          both (the library is loaded by bound.py)
 *
 * With BOT_API_PORT, the default mode instead: the 200 is empty and, once it is
 * written, the reply goes out as a fixed sendMessage POST (UTF-8 text) to 127.0.0.1:BOT_API_PORT
 * over a pool of keep-alive connections (one exchange in flight on each; the
 * others wait in a count).
 *
 * Every request of every connection goes down one Redis connection; hiredis's libuv
 * adapter flushes what a loop turn queued in one write, so commands are pipelined.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>
#include <hiredis.h>
#include <async.h>
#include <adapters/libuv.h>

enum { BUF_SIZE = 16384, USERS = 10000, POOL = 64 };
enum mode { NONE, PLAIN, FCALL };

#define REPLY_BODY "{\"method\":\"sendMessage\",\"chat_id\":7000001234,\"text\":\"Th\\u1ee7 t\\u1ee5c " \
    "\\u0111\\u0103ng k\\u00fd khai sinh: n\\u1ed9p t\\u1edd khai v\\u00e0 gi\\u1ea5y ch\\u1ee9ng sinh\"," \
    "\"parse_mode\":\"HTML\",\"disable_web_page_preview\":true}"

#define SEND_BODY "{\"chat_id\":7000001234,\"text\":\"Th\u1ee7 t\u1ee5c \u0111\u0103ng k\u00fd khai " \
    "sinh: n\u1ed9p t\u1edd khai v\u00e0 gi\u1ea5y ch\u1ee9ng sinh\",\"parse_mode\":\"HTML\"}"

typedef struct conn {
    uv_tcp_t tcp;
    unsigned pending; /* webhook: Redis answers to come; Bot API: 1 while an exchange is in flight */
    int closing, closed;
    size_t len;
    char buf[BUF_SIZE];
} conn;

static enum mode g_mode;
static redisAsyncContext *g_redis;
static unsigned long g_seq;
static char g_resp[512];
static size_t g_resp_len;
static char g_send[512];
static size_t g_send_len;
static conn *g_idle[POOL];   /* Bot API connections with nothing in flight */
static int g_nidle;
static unsigned long g_waiting; /* replies waiting for a free Bot API connection */
static int g_sending;
static struct sockaddr_in g_api;

static void on_closed(uv_handle_t *h)
{
    conn *c = h->data;
    c->closed = 1;
    if (c->pending == 0)
        free(c);
}

static void drop(conn *c)
{
    if (!c->closing) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    }
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

/* Fixed bytes: written at once when the socket takes them, queued otherwise. */
static void put(conn *c, char *bytes, size_t len)
{
    uv_buf_t b = uv_buf_init(bytes, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len)
        return;
    if (n > 0)
        b = uv_buf_init(bytes + n, (unsigned)(len - (size_t)n));
    else if (n != UV_EAGAIN) {
        drop(c);
        return;
    }
    uv_write_t *w = malloc(sizeof *w);
    if (!w || uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        drop(c);
    }
}

static void send_on(conn *api)
{
    api->pending = 1; /* one exchange in flight */
    put(api, g_send, g_send_len);
}

static void send_reply(void)
{
    if (g_nidle == 0)
        g_waiting++;
    else
        send_on(g_idle[--g_nidle]);
}

/* A Bot API connection with nothing in flight: the next waiting reply, or idle. */
static void api_free(conn *api)
{
    api->pending = 0;
    if (g_waiting > 0) {
        g_waiting--;
        send_on(api);
    } else {
        g_idle[g_nidle++] = api;
    }
}

/* The webhook's 200: the reply in it (inline), or empty and the reply sent after it. */
static void respond(conn *c)
{
    put(c, g_resp, g_resp_len);
    if (g_sending)
        send_reply();
}

/* Redis's answer: NULL privdata checks only (the XADD before a SET). */
static void on_stored(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    (void)ac;
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bound_server: redis: %s\n", reply ? reply->str : "no reply");
        exit(1);
    }
    conn *c = priv;
    if (!c)
        return;
    c->pending--;
    if (c->closing) {
        if (c->closed && c->pending == 0)
            free(c);
        return;
    }
    respond(c);
}

static int store(conn *c, const char *body, size_t len)
{
    char key[32];
    int klen = snprintf(key, sizeof key, "bound:u:%lu", g_seq++ % USERS);
    if (g_mode == PLAIN) {
        const char *xa[] = {"XADD", "bound:s", "MAXLEN", "~", "10000", "*", "b", body};
        size_t xl[] = {4, 7, 6, 1, 5, 1, 1, len};
        const char *sa[] = {"SET", key, body, "EX", "60"};
        size_t sl[] = {3, (size_t)klen, len, 2, 2};
        if (redisAsyncCommandArgv(g_redis, on_stored, NULL, 8, xa, xl) != REDIS_OK ||
            redisAsyncCommandArgv(g_redis, on_stored, c, 5, sa, sl) != REDIS_OK)
            return -1;
    } else {
        const char *fa[] = {"FCALL", "bound_store", "2", "bound:s", key, body};
        size_t fl[] = {5, 11, 1, 7, (size_t)klen, len};
        if (redisAsyncCommandArgv(g_redis, on_stored, c, 6, fa, fl) != REDIS_OK)
            return -1;
    }
    c->pending++;
    return 0;
}

/* Length of the request at the start of buf (headers + body), 0 if incomplete, -1 if bad. */
static long request_length(const char *buf, size_t len, size_t *body_at)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return len >= BUF_SIZE ? -1 : 0;
    size_t head = (size_t)(end - buf) + 4, body = 0;
    for (const char *p = buf; p < end; p++) {
        if (*p == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
            body = strtoul(p + 16, NULL, 10);
            break;
        }
    }
    if (head + body > BUF_SIZE)
        return -1;
    *body_at = head;
    return head + body <= len ? (long)(head + body) : 0;
}

static void on_api_closed(uv_handle_t *h)
{
    free(h->data);
}

static int connect_api(void);

/* A Bot API connection: each complete answer frees it for the next waiting reply;
 * one the Bot API closed (keepalive_timeout) is replaced, its reply sent again. */
static void on_api_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    (void)b;
    if (n < 0) {
        if (c->pending)
            g_waiting++;
        for (int i = 0; i < g_nidle; i++)
            if (g_idle[i] == c)
                g_idle[i] = g_idle[--g_nidle];
        uv_close((uv_handle_t *)&c->tcp, on_api_closed);
        if (connect_api() != 0)
            exit(1);
        return;
    }
    c->len += (size_t)n;
    size_t body_at;
    long total;
    while ((total = request_length(c->buf, c->len, &body_at)) > 0) {
        c->len -= (size_t)total;
        memmove(c->buf, c->buf + total, c->len);
        api_free(c);
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    (void)b;
    if (n < 0) {
        drop(c);
        return;
    }
    c->len += (size_t)n;
    for (;;) {
        size_t body_at = 0;
        long total = request_length(c->buf, c->len, &body_at);
        if (total < 0) {
            drop(c);
            return;
        }
        if (total == 0)
            return;
        if (g_mode == NONE)
            respond(c);
        else if (store(c, c->buf + body_at, (size_t)total - body_at) != 0) {
            fprintf(stderr, "bound_server: redis command failed\n");
            exit(1);
        }
        c->len -= (size_t)total;
        memmove(c->buf, c->buf + total, c->len);
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    conn *c = h->data;
    (void)hint;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(BUF_SIZE - c->len));
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        drop(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
}

static void on_api_connected(uv_connect_t *req, int status)
{
    conn *c = req->data;
    free(req);
    if (status < 0 || uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_api_read) != 0) {
        fprintf(stderr, "bound_server: cannot connect to the Bot API\n");
        exit(1);
    }
    uv_tcp_nodelay(&c->tcp, 1);
    api_free(c);
}

static int connect_api(void)
{
    conn *c = calloc(1, sizeof *c);
    uv_connect_t *req = malloc(sizeof *req);
    if (!c || !req || uv_tcp_init(uv_default_loop(), &c->tcp) != 0)
        return -1;
    c->tcp.data = c;
    req->data = c;
    return uv_tcp_connect(req, &c->tcp, (const struct sockaddr *)&g_api, on_api_connected);
}

static int setup_api(int port)
{
    uv_ip4_addr("127.0.0.1", port, &g_api);
    g_send_len = (size_t)snprintf(g_send, sizeof g_send,
                                  "POST /bot1:BENCH/sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                  strlen(SEND_BODY), SEND_BODY);
    g_resp_len = (size_t)snprintf(g_resp, sizeof g_resp, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    g_sending = 1;
    for (int i = 0; i < POOL; i++)
        if (connect_api() != 0)
            return -1;
    return 0;
}

static void on_redis_gone(const redisAsyncContext *ac, int status)
{
    (void)ac;
    fprintf(stderr, "bound_server: redis connection lost (%d)\n", status);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[2], "none") != 0 && argc < 4)) {
        fprintf(stderr, "usage: bound_server PORT none|plain|fcall [REDIS_UNIX_SOCKET|-] [BOT_API_PORT]\n");
        return 2;
    }
    g_mode = strcmp(argv[2], "plain") == 0 ? PLAIN : strcmp(argv[2], "fcall") == 0 ? FCALL : NONE;
    g_resp_len = (size_t)snprintf(g_resp, sizeof g_resp,
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %zu\r\n\r\n%s", strlen(REPLY_BODY), REPLY_BODY);
    uv_loop_t *loop = uv_default_loop();
    if (argc > 4 && setup_api(atoi(argv[4])) != 0) {
        fprintf(stderr, "bound_server: cannot set up the Bot API pool\n");
        return 1;
    }
    if (g_mode != NONE) {
        g_redis = redisAsyncConnectUnix(argv[3]);
        if (!g_redis || g_redis->err || redisLibuvAttach(g_redis, loop) != REDIS_OK) {
            fprintf(stderr, "bound_server: cannot connect to redis at %s\n", argv[3]);
            return 1;
        }
        redisAsyncSetDisconnectCallback(g_redis, on_redis_gone);
    }
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&server, 1024, on_connection) != 0) {
        fprintf(stderr, "bound_server: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
