/* test_store — the Redis connection against real redis-server processes.
 *
 * Every test gets a fresh loop and, when it needs one, its own redis-server
 * (unix socket in a mkdtemp directory, plus a TCP port for the URL form). The
 * servers die with the test process (PR_SET_PDEATHSIG), are killed at exit,
 * and in each teardown. Every test ends with uv_loop_close(loop) == 0. */
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

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void track_pid(pid_t pid, pid_t replace)
{
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (live_servers[i] == replace) {
            live_servers[i] = pid;
            return;
        }
    }
}

static void kill_all_servers(void)
{
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (live_servers[i] > 0) {
            kill(live_servers[i], SIGKILL);
            waitpid(live_servers[i], NULL, 0);
            live_servers[i] = 0;
        }
    }
}

static int free_tcp_port(void)
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

static bool socket_accepts(const char *path)
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

static void redis_spawn(struct redis *r)
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
static void redis_start(struct redis *r, bool tcp)
{
    snprintf(r->dir, sizeof r->dir, "/tmp/dvcbot-test-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
    snprintf(r->url, sizeof r->url, "unix://%s", r->sock);
    r->port = tcp ? free_tcp_port() : 0;
    redis_spawn(r);
}

static void redis_kill(struct redis *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    track_pid(0, r->pid);
    r->pid = 0;
}

static void redis_cleanup(struct redis *r)
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

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static int setup(void **state)
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

static int teardown(void **state)
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

static void on_state(bool up, void *ud)
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

static void on_reply(redisReply *r, void *ud)
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
static bool run_until(struct fx *f, const int *counter, int want, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (*counter < want) {
        if (now_ms() > end)
            return false;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    return true;
}

static void run_for(struct fx *f, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (now_ms() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static int log_count(struct fx *f, const char *needle)
{
    int n = 0;
    fflush(f->log);
    for (const char *p = f->logbuf; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void connect_store(struct fx *f, const char *url, unsigned timeout_ms)
{
    f->s = store_new(&f->loop, url, timeout_ms);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    assert_true(run_until(f, &f->ups, f->ups + 1, 20000));
    assert_true(store_connected(f->s));
}

/* Sends a command and waits for its reply in f->calls[i]. */
static struct call *roundtrip(struct fx *f, int i, const char *fmt, ...)
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

/* ===== URL parsing ======================================================= */

static void expect_url(const char *url, const char *host, int port, const char *path, int db)
{
    char *h = (char *)"x", *p = (char *)"x";
    int po = -1, d = -1;

    assert_int_equal(store_parse_url(url, &h, &po, &p, &d), 0);
    if (host)
        assert_string_equal(h, host);
    else
        assert_null(h);
    if (path)
        assert_string_equal(p, path);
    else
        assert_null(p);
    assert_int_equal(po, port);
    assert_int_equal(d, db);
    free(h);
    free(p);
}

static void test_parse_url_accepts_tcp_and_unix_forms(void **state)
{
    (void)state;
    expect_url("redis://127.0.0.1:6379", "127.0.0.1", 6379, NULL, 0);
    expect_url("redis://localhost:6380/3", "localhost", 6380, NULL, 3);
    expect_url("redis://cache.internal", "cache.internal", 6379, NULL, 0);
    expect_url("redis://cache-1.internal/2", "cache-1.internal", 6379, NULL, 2);
    expect_url("redis://[::1]:7000/15", "::1", 7000, NULL, 15);
    expect_url("redis://h:1/", "h", 1, NULL, 0);
    expect_url("REDIS://h:65535", "h", 65535, NULL, 0);
    expect_url("unix:///run/redis/redis.sock", NULL, 0, "/run/redis/redis.sock", 0);
    expect_url("unix:///tmp/r.sock?db=5", NULL, 0, "/tmp/r.sock", 5);
}

static void test_parse_url_rejects_malformed_urls(void **state)
{
    static const char *const bad[] = {
        "", "redis", "http://h:1", "redis:/h:1", "redis://", "redis://:6379", "redis://h:",
        "redis://h:0", "redis://h:65536", "redis://h:12x", "redis://h:1/x", "redis://h:1/1/2",
        "redis://h:1/-1", "redis://h:1/99999999999", "redis://user:pw@h:1", "redis://h:1?db=2",
        "redis://h h:1", "redis://[::1:1", "redis://[]:1", "redis://::1:6379", "unix://",
        "unix://relative.sock", "unix:///", "unix:///tmp/dir/", "unix:///tmp/r.sock?db=",
        "unix:///tmp/r.sock?db=x", "unix:///tmp/r.sock?foo=1", "unix:///tmp/r.sock?db=1&x=2",
        "unix:/tmp/r.sock",
    };
    char longpath[300];
    char *h, *p;
    int port, db;
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h = p = (char *)"x";
        port = db = -1;
        if (store_parse_url(bad[i], &h, &port, &p, &db) != STORE_EINVAL)
            fail_msg("accepted bad url '%s'", bad[i]);
        assert_null(h);
        assert_null(p);
    }
    memset(longpath, 'a', sizeof longpath);
    memcpy(longpath, "unix:///", 8);
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(store_parse_url(longpath, &h, &port, &p, &db), STORE_EINVAL);
    assert_int_equal(store_parse_url(NULL, &h, &port, &p, &db), STORE_EINVAL);
    assert_int_equal(store_parse_url("redis://h:1", NULL, &port, &p, &db), STORE_EINVAL);
}

static void test_new_returns_null_for_malformed_url(void **state)
{
    struct fx *f = *state;
    assert_null(store_new(&f->loop, "redis://h:99999", 100));
    assert_null(store_new(&f->loop, "unix://relative", 100));
    assert_null(store_new(&f->loop, NULL, 100));
}

/* ===== commands ========================================================== */

static void test_command_roundtrips_set_and_get(void **state)
{
    struct fx *f = *state;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);

    c = roundtrip(f, 0, "SET %s %s", "greeting", "xin chao");
    assert_false(c->null_reply);
    assert_int_equal(c->type, REDIS_REPLY_STATUS);
    assert_string_equal(c->str, "OK");

    c = roundtrip(f, 1, "GET %s", "greeting");
    assert_int_equal(c->type, REDIS_REPLY_STRING);
    assert_string_equal(c->str, "xin chao");

    /* an error reply is a reply, not NULL */
    c = roundtrip(f, 2, "INCR %s", "greeting");
    assert_false(c->null_reply);
    assert_int_equal(c->type, REDIS_REPLY_ERROR);

    /* a NULL callback is allowed; replies keep their order */
    assert_int_equal(store_command(f->s, NULL, NULL, "SET n 41"), 0);
    c = roundtrip(f, 3, "INCR n");
    assert_int_equal(c->type, REDIS_REPLY_INTEGER);
    assert_int_equal(c->integer, 42);

    /* a callback may send the next command */
    f->calls[4].act = ACT_COMMAND;
    c = roundtrip(f, 4, "PING");
    assert_int_equal(c->act_rc, 0);
    run_for(f, 50);
    assert_int_equal(f->ups, 1);
    assert_int_equal(f->downs, 0);
}

/* The formats dvcbot uses are built without printf; what reaches Redis is
 * what hiredis's own formatter would send. */
static void test_format_conversions_reach_redis_as_hiredis_sends_them(void **state)
{
    struct fx *f = *state;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);
    c = roundtrip(f, 0, "RPUSH l %s %d %i %u %ld %lu %lld %llu %zu 100%% %b pre%ssuf %s", "a b", -7, 8,
                  4000000000u, -9000000000L, 9000000000UL, -123456789012345LL, 123456789012345ULL,
                  (size_t)42, "xyz", (size_t)2, "MID", "");
    assert_int_equal(c->type, REDIS_REPLY_INTEGER);
    assert_int_equal(c->integer, 13);
    static const char *const want[] = {"a b", "-7", "8", "4000000000", "-9000000000", "9000000000",
                                       "-123456789012345", "123456789012345", "42", "100%", "xy",
                                       "preMIDsuf", ""};
    for (int i = 0; i < 13; i++) {
        memset(&f->calls[1], 0, sizeof f->calls[1]);
        c = roundtrip(f, 1, "LINDEX l %d", i);
        assert_int_equal(c->type, REDIS_REPLY_STRING);
        assert_string_equal(c->str, want[i]);
    }
    /* a conversion we do not handle ourselves still works (hiredis) */
    c = roundtrip(f, 2, "SET %s %.2f", "pi", 3.14159);
    assert_int_equal(c->type, REDIS_REPLY_STATUS);
    c = roundtrip(f, 3, "GET pi");
    assert_string_equal(c->str, "3.14");
}

static void test_argv_command_roundtrips_binary_data(void **state)
{
    struct fx *f = *state;
    static const char key[] = "bin\0key\r\n";
    static const char val[] = "a\0b\r\n$3\r\n\xff\x00z";
    const char *set[] = {"SET", key, val};
    const size_t setlen[] = {3, sizeof key - 1, sizeof val - 1};
    const char *get[] = {"GET", key};
    const size_t getlen[] = {3, sizeof key - 1};

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);

    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 3, set, setlen), 0);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[1], 2, get, getlen), 0);
    assert_true(run_until(f, &f->ncalls, 2, 3000));
    assert_int_equal(f->calls[0].type, REDIS_REPLY_STATUS);
    assert_int_equal(f->calls[1].type, REDIS_REPLY_STRING);
    assert_int_equal(f->calls[1].len, sizeof val - 1);
    assert_memory_equal(f->calls[1].str, val, sizeof val - 1);

    /* argvlen may be NULL for C strings */
    const char *echo[] = {"ECHO", "hello"};
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[2], 2, echo, NULL), 0);
    assert_true(run_until(f, &f->ncalls, 3, 3000));
    assert_string_equal(f->calls[2].str, "hello");
}

static void test_tcp_url_with_db_selects_that_db(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct store *db0;
    struct call *c;

    redis_start(&f->redis, true);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", f->redis.port);
    connect_store(f, url, 2000);

    c = roundtrip(f, 0, "CLIENT INFO");
    assert_non_null(strstr(c->str, " db=3 "));
    roundtrip(f, 1, "SET only-in-3 yes");

    /* the same key is absent from db 0 */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->redis.port);
    db0 = store_new(&f->loop, url, 2000);
    assert_non_null(db0);
    uint64_t end = now_ms() + 5000;
    while (!store_connected(db0) && now_ms() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_true(store_connected(db0));
    assert_int_equal(store_command(db0, on_reply, &f->calls[2], "GET only-in-3"), 0);
    assert_true(run_until(f, &f->ncalls, 3, 3000));
    assert_int_equal(f->calls[2].type, REDIS_REPLY_NIL);
    store_close(db0);
}

static void test_command_while_not_connected_returns_enotconn_without_callback(void **state)
{
    struct fx *f = *state;
    char url[160];
    const char *argv[] = {"PING"};

    /* a socket path where nobody listens */
    snprintf(f->redis.dir, sizeof f->redis.dir, "/tmp/dvcbot-test-XXXXXX");
    assert_non_null(mkdtemp(f->redis.dir));
    snprintf(url, sizeof url, "unix://%s/none.sock", f->redis.dir);
    f->s = store_new(&f->loop, url, 200);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);

    assert_false(store_connected(f->s));
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "PING"), STORE_ENOTCONN);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 1, argv, NULL), STORE_ENOTCONN);
    run_for(f, 800); /* several retries: 100, 200, 400 ms */
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "PING"), STORE_ENOTCONN);
    assert_int_equal(f->ncalls, 0);
    assert_int_equal(f->ups + f->downs, 0);
    /* logged once, not once per retry */
    assert_int_equal(log_count(f, "redis connect failed"), 1);
}

static void test_starts_before_redis_and_connects_when_it_appears(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct call *c;

    snprintf(f->redis.dir, sizeof f->redis.dir, "/tmp/dvcbot-test-XXXXXX");
    assert_non_null(mkdtemp(f->redis.dir));
    snprintf(f->redis.sock, sizeof f->redis.sock, "%s/redis.sock", f->redis.dir);
    f->redis.port = free_tcp_port();
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->redis.port);
    f->s = store_new(&f->loop, url, 500);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    run_for(f, 400); /* refused at once (not after the 500 ms timeout), retried */
    assert_false(store_connected(f->s));
    assert_int_equal(log_count(f, "redis connect failed"), 1);
    assert_int_equal(log_count(f, "Connection refused"), 1);

    redis_spawn(&f->redis);
    assert_true(run_until(f, &f->ups, 1, 8000));
    c = roundtrip(f, 0, "PING");
    assert_string_equal(c->str, "PONG");
    assert_int_equal(f->downs, 0);
}

/* One go of the test below with commands timing out after `timeout` ms.
 * Returns false when the machine was too slow to tell: the answer reached
 * the loop only after the command's own deadline. */
static bool deadline_go(struct fx *f, unsigned timeout)
{
    memset(f->calls, 0, sizeof f->calls);
    f->ncalls = f->downs = 0;
    int timeouts = log_count(f, "command timed out");
    connect_store(f, f->redis.url, timeout);
    uint64_t t0 = uv_now(&f->loop);
    roundtrip(f, 0, "PING"); /* arms the deadline timer: it fires at t0 + timeout */
    run_for(f, timeout * 6 / 10);
    /* The younger command: Redis answers it only when we push. */
    uint64_t sent = uv_now(&f->loop), deadline = sent + timeout;
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    while (uv_now(&f->loop) < t0 + timeout + 20) /* the timer fired, found it young */
        uv_run(&f->loop, UV_RUN_ONCE);
    redisContext *side = redisConnectUnix(f->redis.sock);
    assert_true(side && !side->err);
    uint64_t pushed = now_ms();
    freeReplyObject(redisCommand(side, "RPUSH q x"));
    redisFree(side);
    assert_true(run_until(f, &f->ncalls, 2, 4 * timeout));
    bool failed = f->calls[1].null_reply;
    store_close(f->s);
    f->s = NULL;
    if (!failed) {
        assert_int_equal(f->downs, 0);
        assert_int_equal(log_count(f, "command timed out"), timeouts);
        return true;
    }
    /* Failed before the answer existed, or before its own deadline: wrong. */
    assert_true(f->calls[1].at >= pushed);
    assert_true(f->calls[1].at >= deadline);
    return false;
}

/* The deadline timer, armed for an older command, fires while a younger
 * one is pending: the younger one waits for its own deadline, and its
 * answer arriving before that is delivered. On a machine so loaded that
 * the answer arrived too late to tell, again with a longer timeout. */
static void test_command_answered_before_its_deadline_is_not_failed(void **state)
{
    struct fx *f = *state;
    unsigned timeout = 1000;

    redis_start(&f->redis, false);
    while (!deadline_go(f, timeout)) {
        timeout *= 2;
        assert_true(timeout <= 32000);
    }
}

/* store_defer: the work runs once, when the loop turn ends, and what it
 * sends goes out ahead of anything a later turn sends; dropped by
 * store_close, it is told so once. */
struct deferred_probe {
    struct fx *f;
    int runs;
    int rc;
    int drops;
};

static void on_deferred_dropped(void *ud)
{
    ((struct deferred_probe *)ud)->drops++;
}

static void on_deferred(void *ud)
{
    struct deferred_probe *p = ud;
    p->runs++;
    p->rc = store_command(p->f->s, NULL, NULL, "INCRBY deferred 10");
}

static void test_deferred_work_runs_once_at_the_end_of_the_turn_ahead_of_later_commands(void **state)
{
    struct fx *f = *state;
    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);

    struct deferred_probe p = {.f = f};
    struct store_deferred d = {.fn = on_deferred, .dropped = on_deferred_dropped, .ud = &p};
    assert_int_equal(store_command(f->s, NULL, NULL, "SET deferred 1"), 0);
    store_defer(f->s, &d);
    store_defer(f->s, &d); /* queued already: still once */
    assert_int_equal(p.runs, 0);
    uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(p.runs, 1);
    assert_int_equal(p.rc, 0);
    struct call *c = roundtrip(f, 0, "GET deferred");
    assert_int_equal(c->type, REDIS_REPLY_STRING);
    assert_string_equal(c->str, "11");

    assert_int_equal(p.drops, 0);
    store_defer(f->s, &d); /* queued again, then the store closes: never runs, told once */
    store_close(f->s);
    assert_int_equal(p.drops, 1);
    f->s = NULL;
    run_for(f, 20);
    assert_int_equal(p.runs, 1);
    assert_int_equal(p.drops, 1);
}

static void test_refuses_commands_that_break_one_reply_per_command(void **state)
{
    struct fx *f = *state;
    static const char *const refused[] = {
        "SUBSCRIBE news", "psubscribe n*", "MONITOR", "SELECT 2", "client reply off",
        "CLIENT REPLY SKIP", "client tracking on", "HELLO 3", "RESET", "UNSUBSCRIBE", "", " ",
    };
    const char *psub[] = {"PSUBSCRIBE", "x*"};

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (store_command(f->s, on_reply, &f->calls[0], refused[i]) != STORE_EINVAL)
            fail_msg("accepted '%s'", refused[i]);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 2, psub, NULL), STORE_EINVAL);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 0, psub, NULL), STORE_EINVAL);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], NULL), STORE_EINVAL);
    /* other CLIENT subcommands pass */
    assert_int_equal(roundtrip(f, 1, "CLIENT SETNAME dvcbot")->type, REDIS_REPLY_STATUS);
    run_for(f, 50);
    assert_int_equal(f->calls[0].n, 0);
    assert_true(store_connected(f->s));
}

/* ===== failures ========================================================== */

static void test_redis_killed_fails_pending_commands_and_reports_down(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    f->calls[0].act = ACT_COMMAND; /* tries to send from inside the failure */
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "BLPOP q 0"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    run_for(f, 100);
    assert_int_equal(f->ncalls, 0);

    redis_kill(&f->redis);
    assert_true(run_until(f, &f->ncalls, 2, 3000));
    assert_true(f->calls[0].null_reply);
    assert_true(f->calls[1].null_reply);
    assert_int_equal(f->calls[0].act_rc, STORE_ENOTCONN);
    assert_int_equal(f->downs, 1);
    assert_false(store_connected(f->s));
    assert_int_equal(store_command(f->s, on_reply, &f->calls[2], "PING"), STORE_ENOTCONN);
    run_for(f, 400);
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[1].n, 1);
    assert_int_equal(f->calls[2].n, 0);
    assert_int_equal(log_count(f, "redis connection lost"), 1);
    assert_int_equal(log_count(f, "redis connect failed"), 0);
}

static void test_reconnects_by_itself_after_redis_restart(void **state)
{
    struct fx *f = *state;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);
    redis_kill(&f->redis);
    assert_true(run_until(f, &f->downs, 1, 3000));
    run_for(f, 500); /* a few failed retries */
    assert_false(store_connected(f->s));

    redis_spawn(&f->redis);
    assert_true(run_until(f, &f->ups, 2, 8000));
    c = roundtrip(f, 0, "SET back %d", 1);
    assert_string_equal(c->str, "OK");
    c = roundtrip(f, 1, "GET back");
    assert_string_equal(c->str, "1");
    assert_int_equal(f->downs, 1);
    assert_int_equal(log_count(f, "redis connection lost"), 1);
    assert_int_equal(log_count(f, "redis connected"), 2);
}

static void test_stopped_redis_times_out_commands_then_works_after_sigcont(void **state)
{
    struct fx *f = *state;
    uint64_t t0;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 300);
    assert_int_equal(kill(f->redis.pid, SIGSTOP), 0);

    t0 = now_ms();
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "GET k"), 0);
    run_for(f, 100);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "GET k"), 0);
    assert_true(run_until(f, &f->ncalls, 2, 3000));
    assert_true(f->calls[0].null_reply);
    assert_true(f->calls[1].null_reply);
    assert_true(f->calls[0].at - t0 >= 290);
    assert_true(f->calls[0].at - t0 < 2000);
    /* the later command failed with the dropped connection, not at its own deadline */
    assert_true(f->calls[1].at - f->calls[0].at < 100);
    assert_int_equal(f->downs, 1);
    assert_false(store_connected(f->s));
    run_for(f, 700); /* retries that connect but get no handshake answer */
    assert_int_equal(f->ups, 1);

    assert_int_equal(kill(f->redis.pid, SIGCONT), 0);
    assert_true(run_until(f, &f->ups, 2, 8000));
    c = roundtrip(f, 2, "SET k %s", "v");
    assert_string_equal(c->str, "OK");
    c = roundtrip(f, 3, "GET k");
    assert_string_equal(c->str, "v");
    /* the late hiredis callbacks did not call the timed-out ones again */
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[1].n, 1);
    assert_int_equal(log_count(f, "command timed out"), 1);
}

/* Fills the accept queue of a backlog-0 listener so that further SYNs are
 * dropped: a connect to it hangs like one to a blackholed address. */
static int blackhole(int *port, int fillers[3])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 0), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    for (int i = 0; i < 3; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fillers[i] >= 0);
        int rc = connect(fillers[i], (struct sockaddr *)&a, sizeof a);
        assert_true(rc == 0 || errno == EINPROGRESS);
        sleep_ms(20);
    }
    *port = ntohs(a.sin_port);
    return l;
}

static void test_connect_to_unresponsive_address_times_out_and_retries(void **state)
{
    struct fx *f = *state;
    int port, fillers[3], l;
    char url[64];

    l = blackhole(&port, fillers);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    f->s = store_new(&f->loop, url, 200);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    run_for(f, 1200); /* attempts at 0, 300, 700 ms; each gives up after 200 ms */
    assert_false(store_connected(f->s));
    assert_int_equal(f->ups + f->downs, 0);
    assert_int_equal(log_count(f, "redis connect failed"), 1);
    assert_int_equal(log_count(f, "connect timed out"), 1);
    store_close(f->s);
    f->s = NULL;
    for (int i = 0; i < 3; i++)
        close(fillers[i]);
    close(l);
}

static void test_bad_db_index_keeps_store_down_and_logs_once(void **state)
{
    struct fx *f = *state;
    char url[200];

    redis_start(&f->redis, false);
    snprintf(url, sizeof url, "%s?db=999", f->redis.url);
    /* A timeout no loaded machine reaches: the first failure must be the
     * refusal (only the first is logged), not a slow handshake. */
    f->s = store_new(&f->loop, url, 10000);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    /* The first refusal, then a few retries (100, 200, 400 ms apart). */
    for (uint64_t end = now_ms() + 10000; log_count(f, "redis connect failed") == 0 && now_ms() < end;)
        uv_run(&f->loop, UV_RUN_ONCE);
    run_for(f, 700);
    assert_false(store_connected(f->s));
    assert_int_equal(f->ups, 0);
    assert_int_equal(log_count(f, "redis connect failed"), 1);
    assert_int_equal(log_count(f, "DB index is out of range"), 1);
}

/* ===== closing =========================================================== */

static void test_close_with_pending_commands_calls_each_callback_once_with_null(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_command(f->s, on_reply, &f->calls[i], "BLPOP q%d 0", i), 0);
    f->calls[1].act = ACT_COMMAND; /* refused: the store is closing */
    run_for(f, 50);
    assert_int_equal(f->ncalls, 0);

    store_close(f->s);
    f->s = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->calls[i].n, 1);
        assert_true(f->calls[i].null_reply);
    }
    assert_int_equal(f->calls[1].act_rc, STORE_ENOTCONN);
    assert_int_equal(f->downs, 0); /* no state callback after close */
    run_for(f, 100);
    assert_int_equal(f->ncalls, 3);
}

static void test_close_inside_reply_callback_fails_the_rest_once(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    f->calls[0].act = ACT_CLOSE;
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "PING"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[2], "BLPOP q 0"), 0);
    assert_true(run_until(f, &f->ncalls, 3, 3000));
    assert_null(f->s);
    assert_false(f->calls[0].null_reply);
    assert_true(f->calls[1].null_reply);
    assert_true(f->calls[2].null_reply);
    run_for(f, 100);
    assert_int_equal(f->ncalls, 3);
}

static void test_close_inside_down_callback_fails_pending_once(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    f->close_on_down = true;
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "BLPOP q 0"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    run_for(f, 100);
    redis_kill(&f->redis);
    assert_true(run_until(f, &f->downs, 1, 3000));
    assert_null(f->s);
    assert_int_equal(f->ncalls, 2);
    run_for(f, 300);
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[1].n, 1);
    assert_true(f->calls[0].null_reply && f->calls[1].null_reply);
}

static void test_close_while_connecting_is_clean(void **state)
{
    struct fx *f = *state;

    char url[64];

    redis_start(&f->redis, true);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->redis.port);
    f->s = store_new(&f->loop, url, 1000);
    assert_non_null(f->s);
    store_close(f->s); /* before the first loop turn */
    f->s = NULL;
    run_for(f, 50);
    assert_int_equal(f->ncalls, 0);
}

static void test_reply_helpers_tell_strings_and_failures(void **state)
{
    (void)state;
    char value[] = "v", err[] = "ERR nope";
    redisReply str = {.type = REDIS_REPLY_STRING, .str = value, .len = 1};
    redisReply status = {.type = REDIS_REPLY_STATUS, .str = value, .len = 1};
    redisReply error = {.type = REDIS_REPLY_ERROR, .str = err, .len = 8};
    redisReply num = {.type = REDIS_REPLY_INTEGER, .integer = 3};
    assert_string_equal(store_reply_str(&str), "v");
    assert_string_equal(store_reply_str(&status), "v");
    assert_null(store_reply_str(&num));
    assert_null(store_reply_str(&error));
    assert_null(store_reply_str(NULL));
    assert_true(store_reply_failed(NULL));
    assert_true(store_reply_failed(&error));
    assert_false(store_reply_failed(&num));
    assert_string_equal(store_reply_error(&error), "ERR nope");
    assert_string_equal(store_reply_error(NULL), "no reply");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_url_accepts_tcp_and_unix_forms),
        cmocka_unit_test(test_parse_url_rejects_malformed_urls),
        cmocka_unit_test(test_reply_helpers_tell_strings_and_failures),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_new_returns_null_for_malformed_url),
        T(test_command_roundtrips_set_and_get),
        T(test_format_conversions_reach_redis_as_hiredis_sends_them),
        T(test_argv_command_roundtrips_binary_data),
        T(test_tcp_url_with_db_selects_that_db),
        T(test_command_while_not_connected_returns_enotconn_without_callback),
        T(test_starts_before_redis_and_connects_when_it_appears),
        T(test_command_answered_before_its_deadline_is_not_failed),
        T(test_deferred_work_runs_once_at_the_end_of_the_turn_ahead_of_later_commands),
        T(test_refuses_commands_that_break_one_reply_per_command),
        T(test_redis_killed_fails_pending_commands_and_reports_down),
        T(test_reconnects_by_itself_after_redis_restart),
        T(test_stopped_redis_times_out_commands_then_works_after_sigcont),
        T(test_connect_to_unresponsive_address_times_out_and_retries),
        T(test_bad_db_index_keeps_store_down_and_logs_once),
        T(test_close_with_pending_commands_calls_each_callback_once_with_null),
        T(test_close_inside_reply_callback_fails_the_rest_once),
        T(test_close_inside_down_callback_fails_pending_once),
        T(test_close_while_connecting_is_clean),
#undef T
    };
    int rc;

    signal(SIGPIPE, SIG_IGN);
    atexit(kill_all_servers);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    kill_all_servers();
    return rc;
}
