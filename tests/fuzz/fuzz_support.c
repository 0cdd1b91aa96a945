/* fuzz_support — set-up and the socketless HTTP feed the targets share. */
#include "fuzz.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/msg.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef DVCBOT_SOURCE_DIR
#define DVCBOT_SOURCE_DIR "."
#endif

void fuzz_check_id(const char *id)
{
    if (!memchr(id, '\0', BOT_ID_MAX))
        fuzz_fail("id field not terminated");
}

void fuzz_check_json(const char *body)
{
    cJSON *j = cJSON_Parse(body);
    if (!cJSON_IsObject(j))
        fuzz_fail("rendered message is not a JSON object");
    cJSON_Delete(j);
}

void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: property failed: %s\n", what);
    abort();
}

void fuzz_setup(void)
{
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        fuzz_fail("cannot open /dev/null");
    log_setup(LOG_DEBUG, devnull);
    signal(SIGPIPE, SIG_IGN);
}

const char *fuzz_data_dir(void)
{
    const char *dir = getenv("DVCBOT_DATA_DIR");
    return dir && *dir ? dir : DVCBOT_SOURCE_DIR;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* ===== The HTTP server without TCP ===== */

void fuzz_http_start(struct fuzz_http *fh, struct http_server_opts *opts)
{
    if (uv_loop_init(&fh->loop) != 0)
        fuzz_fail("uv_loop_init");
    opts->host = "127.0.0.1";
    opts->port = 0;
    if (http_server_start(&fh->loop, opts, &fh->srv) != 0)
        fuzz_fail("http_server_start");
}

/* The client's end of one connection. */
struct client {
    uv_pipe_t pipe;
    uv_write_t write;
    uv_shutdown_t shutdown;
    struct buf *response;
    char chunk[16 * 1024];
    bool closed;
};

static void client_closed(uv_handle_t *h)
{
    struct client *cl = h->data;
    cl->closed = true;
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    struct client *cl = h->data;
    (void)suggested;
    *out = uv_buf_init(cl->chunk, sizeof cl->chunk);
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct client *cl = s->data;
    if (nread > 0) {
        buf_append(cl->response, b->base, (size_t)nread);
    } else if (nread < 0 && !uv_is_closing((uv_handle_t *)s)) {
        uv_close((uv_handle_t *)s, client_closed); /* EOF or reset: the server is done */
    }
}

static void client_written(uv_write_t *w, int status)
{
    struct client *cl = w->data;
    if (status == 0 && !uv_is_closing((uv_handle_t *)&cl->pipe))
        uv_shutdown(&cl->shutdown, (uv_stream_t *)&cl->pipe, NULL);
}

void fuzz_http_feed(struct fuzz_http *fh, const void *bytes, size_t len, struct buf *response)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        fuzz_fail("socketpair");
    if (http_server_adopt(fh->srv, sv[0]) != 0)
        fuzz_fail("http_server_adopt");
    struct client *cl = xcalloc(1, sizeof *cl);
    cl->response = response;
    if (uv_pipe_init(&fh->loop, &cl->pipe, 0) != 0 || uv_pipe_open(&cl->pipe, sv[1]) != 0)
        fuzz_fail("uv_pipe_open");
    cl->pipe.data = cl;
    cl->write.data = cl;
    uv_buf_t b = uv_buf_init((char *)bytes, (unsigned)len);
    if (uv_read_start((uv_stream_t *)&cl->pipe, client_alloc, client_read) != 0)
        fuzz_fail("uv_read_start");
    if (len == 0) {
        if (uv_shutdown(&cl->shutdown, (uv_stream_t *)&cl->pipe, NULL) != 0)
            fuzz_fail("uv_shutdown");
    } else if (uv_write(&cl->write, (uv_stream_t *)&cl->pipe, &b, 1, client_written) != 0) {
        fuzz_fail("uv_write");
    }
    while (!cl->closed || http_server_connections(fh->srv) > 0)
        uv_run(&fh->loop, UV_RUN_ONCE);
    free(cl);
}
