/* store_fixture — redis-server processes a store test starts, kills and
 * stops (SIGSTOP) at will, and the fixture of test_store and
 * test_store_failures: a fresh loop per test, its store, the callbacks that
 * record replies and state changes, and the captured log. Header-only (each
 * test program is one .c file).
 *
 *   redis_start(&f->redis, tcp)   its own redis-server (unix socket, + TCP port)
 *   connect_store(f, url, ms)     store_new + wait until connected
 *   roundtrip(f, i, fmt, ...)     a command, its reply in f->calls[i]
 *   run_until / run_for / log_count
 *
 * The servers die with the test process (PR_SET_PDEATHSIG), are killed at
 * exit (kill_all_servers) and in each teardown. */
#ifndef DVCBOT_TEST_STORE_FIXTURE_H
#define DVCBOT_TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/log.h"
#include "dvcbot/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ===== redis-server processes ============================================ */

struct redis {
    pid_t pid;
    char dir[64];
    char sock[128];
    char url[192];   /* unix:// URL of the socket */
    int port;        /* TCP port, 0 for socket only */
};

#define MAX_SERVERS 8
static pid_t live_servers[MAX_SERVERS];

static inline uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void track_pid(pid_t pid, pid_t replace)
{
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (live_servers[i] == replace) {
            live_servers[i] = pid;
            return;
        }
    }
}

static inline void kill_all_servers(void)
{
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (live_servers[i] > 0) {
            kill(live_servers[i], SIGKILL);
            waitpid(live_servers[i], NULL, 0);
            live_servers[i] = 0;
        }
    }
}

static inline int free_tcp_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static inline bool socket_accepts(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    bool ok;
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static inline void redis_spawn(struct redis *r)
{
    char port[16], logfile[160];
    pid_t parent = getpid(), pid;

    snprintf(port, sizeof port, "%d", r->port);
    snprintf(logfile, sizeof logfile, "%s/redis.log", r->dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* dies with the test process, even when that one crashes */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
               "--unixsocket", r->sock, "--unixsocketperm", "700", "--dir", r->dir,
               "--logfile", logfile, "--save", "", "--appendonly", "no",
               "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    r->pid = pid;
    track_pid(pid, 0);
    uint64_t end = now_ms() + 10000;
    while (!socket_accepts(r->sock)) {
        assert_true(now_ms() < end);
        assert_int_equal(waitpid(pid, NULL, WNOHANG), 0); /* still running */
        sleep_ms(10);
    }
}

/* tcp: also listen on a TCP port (for redis:// URLs). */
static inline void redis_start(struct redis *r, bool tcp)
{
    snprintf(r->dir, sizeof r->dir, "/tmp/dvcbot-test-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
    snprintf(r->url, sizeof r->url, "unix://%s", r->sock);
    r->port = tcp ? free_tcp_port() : 0;
    redis_spawn(r);
}

static inline void redis_kill(struct redis *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    track_pid(0, r->pid);
    r->pid = 0;
}

static inline void redis_cleanup(struct redis *r)
{
    char file[200];
    redis_kill(r);
    if (!r->dir[0])
        return;
    snprintf(file, sizeof file, "%s/redis.log", r->dir);
    unlink(file);
    unlink(r->sock);
    rmdir(r->dir);
    r->dir[0] = '\0';
}

/* ===== fixture: loop, store, callbacks, captured log ===================== */

enum action { ACT_NONE, ACT_COMMAND, ACT_CLOSE };

struct call {
    int n;              /* times called */
    bool null_reply;
    int type;
    long long integer;
    char str[256];
    size_t len;
    enum action act;    /* done inside the callback */
    int act_rc;
    uint64_t at;        /* now_ms() of the first call */
};

struct fx {
    uv_loop_t loop;
    uv_timer_t tick;    /* keeps uv_run(UV_RUN_ONCE) from blocking for long */
    struct redis redis;
    struct store *s;
    int ups, downs, ncalls;
    bool close_on_down;
    struct call calls[8];
    FILE *log;
    char *logbuf;
    size_t loglen;
};

static struct fx *cur; /* on_reply needs the store for its actions */

static inline void on_tick(uv_timer_t *t)
{
    (void)t;
}

static inline int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->tick), 0);
    assert_int_equal(uv_timer_start(&f->tick, on_tick, 5, 5), 0);
    f->log = open_memstream(&f->logbuf, &f->loglen);
    assert_non_null(f->log);
    log_setup(LOG_INFO, f->log);
    cur = f;
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    store_close(f->s);
    f->s = NULL;
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&f->loop);
    redis_cleanup(&f->redis);
    log_setup(LOG_INFO, NULL);
    fclose(f->log);
    free(f->logbuf);
    free(f);
    cur = NULL;
    assert_int_equal(rc, 0);
    return 0;
}

static inline void on_state(bool up, void *ud)
{
    struct fx *f = ud;
    if (up) {
        f->ups++;
        return;
    }
    f->downs++;
    if (f->close_on_down) {
        store_close(f->s);
        f->s = NULL;
    }
}

static inline void on_reply(redisReply *r, void *ud)
{
    struct call *c = ud;

    cur->ncalls++;
    if (c->n++ > 0)
        return;
    c->at = now_ms();
    c->null_reply = r == NULL;
    if (r) {
        c->type = r->type;
        c->integer = r->integer;
        c->len = r->str ? r->len : 0;
        if (r->str)
            memcpy(c->str, r->str, r->len < sizeof c->str - 1 ? r->len : sizeof c->str - 1);
    }
    if (c->act == ACT_COMMAND) {
        c->act_rc = store_command(cur->s, NULL, NULL, "PING");
    } else if (c->act == ACT_CLOSE) {
        store_close(cur->s);
        cur->s = NULL;
    }
}

/* Runs the loop until *counter >= want or ms pass; true when reached. */
static inline bool run_until(struct fx *f, const int *counter, int want, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (*counter < want) {
        if (now_ms() > end)
            return false;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    return true;
}

static inline void run_for(struct fx *f, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (now_ms() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static inline int log_count(struct fx *f, const char *needle)
{
    int n = 0;
    fflush(f->log);
    for (const char *p = f->logbuf; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static inline void connect_store(struct fx *f, const char *url, unsigned timeout_ms)
{
    f->s = store_new(&f->loop, url, timeout_ms);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    assert_true(run_until(f, &f->ups, f->ups + 1, 20000));
    assert_true(store_connected(f->s));
}

/* Sends a command and waits for its reply in f->calls[i]. */
static inline struct call *roundtrip(struct fx *f, int i, const char *fmt, ...)
{
    va_list ap;
    int rc, before = f->ncalls;

    va_start(ap, fmt);
    rc = store_commandv(f->s, on_reply, &f->calls[i], fmt, ap);
    va_end(ap);
    assert_int_equal(rc, 0);
    assert_true(run_until(f, &f->ncalls, before + 1, 10000));
    assert_int_equal(f->calls[i].n, 1);
    return &f->calls[i];
}

#endif
