/* fuzz — what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize). Built with SAN=fuzz they are libFuzzer binaries
 * (`make fuzz`); in every other build they are linked with replay.c, which
 * feeds them every file under tests/fuzz/<target>/ once, so the suite
 * replays the seeds and every input that ever crashed.
 *
 * A target calls fuzz_fail (abort) when a property it checks does not hold:
 * libFuzzer then keeps the input as a crash. */
#ifndef DVCBOT_FUZZ_H
#define DVCBOT_FUZZ_H

#include "dvcbot/buf.h"
#include "dvcbot/http_server.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Prints what went wrong and aborts. */
void fuzz_fail(const char *what) __attribute__((noreturn));

/* Sends the logs to /dev/null (they are exercised, not read) and ignores
 * SIGPIPE (a client end may write after the server closed). */
void fuzz_setup(void);
/* The directory holding intents/ and templates/: $DVCBOT_DATA_DIR, else the
 * source tree the target was built from. */
const char *fuzz_data_dir(void);
/* A NUL-terminated copy of the input (caller frees). */
char *fuzz_cstr(const uint8_t *data, size_t size);
/* Fails unless a bot_msg id field (BOT_ID_MAX bytes) is NUL-terminated. */
void fuzz_check_id(const char *id);
/* Fails unless body is a JSON object (a rendered channel message). */
void fuzz_check_json(const char *body);

/* ===== The HTTP server without TCP ===== */

/* A real http_server (listening on 127.0.0.1, port 0, never connected to)
 * on its own loop; requests come in over socketpairs (http_server_adopt). */
struct fuzz_http {
    uv_loop_t loop;
    struct http_server *srv;
};

/* Starts it with opts (host and port are filled in). Aborts on failure. */
void fuzz_http_start(struct fuzz_http *fh, struct http_server_opts *opts);
/* Writes bytes into a new connection, closes the sending side, and runs the
 * loop until the server has closed the connection; what it answered is
 * appended to response. */
void fuzz_http_feed(struct fuzz_http *fh, const void *bytes, size_t len, struct buf *response);

#endif
