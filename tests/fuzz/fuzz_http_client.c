/* fuzz_http_client — bytes from a server through the own HTTP client
 * (http_pool.c, http_plain.c): the response parser (Content-Length,
 * chunked, close-delimited, 1xx, HTTP/1.0, garbage), keep-alive reuse, the
 * retry on a kept connection that dies, the body cap, timeouts.
 *
 * Input: a mode byte, then what the server answers, request by request,
 * the answers separated by "@@NEXT@@". A stub server on 127.0.0.1 answers
 * the k-th request it reads (on whatever connection) with the k-th piece,
 * in chunks of (mode >> 2) + 1 bytes; after a piece it closes the
 * connection when mode bit 0 is set. The client sends two GETs, the second
 * from the first one's callback (mode bit 1: a POST); each has a 30 ms
 * timeout, so a piece that never ends costs little.
 *
 * Properties: each callback exactly once; an error has status 0 and an
 * empty body; a body is NUL-terminated and at most HTTP_CLIENT_MAX_BODY;
 * every handle of the client closed when the loop ends. */
#include "fuzz.h"
#include "dvcbot/http_pool.h"
#include "dvcbot/mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIECES_MAX 8
static const char separator[] = "@@NEXT@@";

struct piece {
    const char *data;
    size_t len;
};

static uv_loop_t loop;
static uv_tcp_t listener;
static struct piece pieces[PIECES_MAX];
static size_t n_pieces, next_piece, chunk;
static bool close_after;
static struct http_pool *pool;
static char url[64];
static int calls[2];
static bool post_second;

struct conn {
    uv_tcp_t tcp;
    size_t seen;                 /* bytes of "\r\n\r\n" matched so far */
    bool closing;
    struct conn *prev, *next;
};

static struct conn *conns;       /* the server's open connections */

static void on_conn_closed(uv_handle_t *h)
{
    free(h->data);
}

static void conn_close(struct conn *k)
{
    if (!k->closing) {
        k->closing = true;
        if (k->prev)
            k->prev->next = k->next;
        else
            conns = k->next;
        if (k->next)
            k->next->prev = k->prev;
        uv_close((uv_handle_t *)&k->tcp, on_conn_closed);
    }
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void send_piece(struct conn *k)
{
    if (next_piece >= n_pieces) {
        conn_close(k);
        return;
    }
    struct piece p = pieces[next_piece++];
    for (size_t off = 0; off < p.len; off += chunk) {
        uv_write_t *w = xmalloc(sizeof *w);
        size_t n = p.len - off < chunk ? p.len - off : chunk;
        uv_buf_t b = uv_buf_init((char *)p.data + off, (unsigned)n);
        if (uv_write(w, (uv_stream_t *)&k->tcp, &b, 1, on_written) != 0) {
            free(w);
            break;
        }
    }
    if (close_after)
        conn_close(k);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    static char space[4096];
    (void)h;
    (void)suggested;
    b->base = space;
    b->len = sizeof space;
}

/* A request ends at its blank line; the POST's short body comes with it. */
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct conn *k = s->data;
    if (k->closing)
        return;
    if (n < 0) {
        conn_close(k);
        return;
    }
    for (ssize_t i = 0; i < n && !k->closing; i++) {
        k->seen = b->base[i] == "\r\n\r\n"[k->seen] ? k->seen + 1 : (b->base[i] == '\r');
        if (k->seen == 4) {
            k->seen = 0;
            send_piece(k);
        }
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    if (status < 0)
        return;
    struct conn *k = xcalloc(1, sizeof *k);
    if (uv_tcp_init(&loop, &k->tcp) != 0)
        fuzz_fail("uv_tcp_init");
    k->tcp.data = k;
    k->next = conns;
    if (conns)
        conns->prev = k;
    conns = k;
    if (uv_accept(l, (uv_stream_t *)&k->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read) != 0)
        conn_close(k);
}

static void check_response(const struct http_client_response *res)
{
    if (!res->body || res->body[res->body_len] != '\0')
        fuzz_fail("body not NUL-terminated");
    if (res->body_len > HTTP_CLIENT_MAX_BODY)
        fuzz_fail("body over the cap");
    if (res->error && (res->status != 0 || res->body_len != 0))
        fuzz_fail("an error with a status or a body");
    if (!res->error && (res->status < 100 || res->status > 999))
        fuzz_fail("a response without a status");
}

static void on_second(const struct http_client_response *res, void *ud)
{
    (void)ud;
    calls[1]++;
    check_response(res);
}

static void on_first(const struct http_client_response *res, void *ud)
{
    (void)ud;
    calls[0]++;
    check_response(res);
    struct http_client_request req = {.url = url, .timeout_ms = 30};
    if (post_second) {
        req.body = "{}";
        req.body_len = 2;
    }
    if (http_pool_request(pool, &req, on_second, NULL) != 0)
        fuzz_fail("second request refused");
}

static void split_pieces(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    n_pieces = 0;
    while (n_pieces < PIECES_MAX) {
        const char *sep = memmem(p, (size_t)(end - p), separator, sizeof separator - 1);
        pieces[n_pieces++] = (struct piece){p, sep ? (size_t)(sep - p) : (size_t)(end - p)};
        if (!sep)
            break;
        p = sep + sizeof separator - 1;
    }
}

static void listen_on_free_port(void)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    if (uv_tcp_init(&loop, &listener) != 0 || uv_ip4_addr("127.0.0.1", 0, &addr) != 0 ||
        uv_tcp_bind(&listener, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&listener, 16, on_connection) != 0 ||
        uv_tcp_getsockname(&listener, (struct sockaddr *)&bound, &len) != 0)
        fuzz_fail("cannot listen on 127.0.0.1");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(((struct sockaddr_in *)&bound)->sin_port));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    if (uv_loop_init(&loop) != 0)
        fuzz_fail("uv_loop_init");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    close_after = data[0] & 1;
    post_second = data[0] & 2;
    chunk = (size_t)(data[0] >> 2) + 1;
    split_pieces(data + 1, size - 1);
    next_piece = 0;
    calls[0] = calls[1] = 0;
    listen_on_free_port();
    pool = http_pool_new(&loop);
    struct http_client_request req = {.url = url, .timeout_ms = 30};
    if (http_pool_request(pool, &req, on_first, NULL) != 0)
        fuzz_fail("first request refused");
    while (calls[0] + calls[1] < 2 && uv_run(&loop, UV_RUN_ONCE))
        ;
    if (calls[0] != 1 || calls[1] != 1)
        fuzz_fail("a callback did not run exactly once");
    http_pool_close(pool);
    uv_close((uv_handle_t *)&listener, NULL);
    while (conns)
        conn_close(conns);
    uv_run(&loop, UV_RUN_DEFAULT);  /* until every handle, the pool's included, is closed */
    if (uv_loop_alive(&loop))
        fuzz_fail("handles left open");
    return 0;
}
