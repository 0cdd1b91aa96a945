/* redis_fixture — a private redis-server for a unit test program, a
 * blocking hiredis context to set up and inspect data, and the async store
 * on a test loop. Header-only (each test program is one .c file).
 *
 *   fx_redis_start()          group setup: starts redis-server on a unix socket
 *   fx_redis_stop()           group teardown
 *   fx_cmd("HSET %s ...")     a blocking command; returns the reply (caller frees)
 *   fx_store_open(loop)       a struct store connected to it
 *   fx_run_until(loop, pred, ud, ms)  turns the loop until pred(ud) or ms pass
 *
 * The server dies with the test process (PR_SET_PDEATHSIG). */
#ifndef DVCBOT_TEST_REDIS_FIXTURE_H
#define DVCBOT_TEST_REDIS_FIXTURE_H

#include "dvcbot/redis_script.h"
#include "dvcbot/store.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static pid_t fx_redis_pid;
static char fx_redis_dir[64], fx_redis_sock[128], fx_redis_url[160];
static redisContext *fx_redis;

static inline uint64_t fx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void fx_redis_kill(void)
{
    if (fx_redis_pid > 0) {
        kill(fx_redis_pid, SIGKILL);
        waitpid(fx_redis_pid, NULL, 0);
        fx_redis_pid = 0;
    }
}

static inline int fx_redis_stop(void **state)
{
    (void)state;
    if (fx_redis)
        redisFree(fx_redis);
    fx_redis = NULL;
    fx_redis_kill();
    char path[160];
    snprintf(path, sizeof path, "%s/dump.rdb", fx_redis_dir);
    unlink(path);
    unlink(fx_redis_sock);
    rmdir(fx_redis_dir);
    return 0;
}

static inline int fx_redis_start(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* as dvcbot does: a server gone must not kill us (store.h) */
    snprintf(fx_redis_dir, sizeof fx_redis_dir, "/tmp/dvcbot-unit-XXXXXX");
    if (!mkdtemp(fx_redis_dir))
        return -1;
    snprintf(fx_redis_sock, sizeof fx_redis_sock, "%s/redis.sock", fx_redis_dir);
    snprintf(fx_redis_url, sizeof fx_redis_url, "unix://%s", fx_redis_sock);
    pid_t parent = getpid();
    fx_redis_pid = fork();
    if (fx_redis_pid < 0)
        return -1;
    if (fx_redis_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", fx_redis_sock, "--dir",
               fx_redis_dir, "--save", "", "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    atexit(fx_redis_kill);
    /* Waiting for a child process to listen: nothing else to wait on. */
    for (uint64_t end = fx_now_ms() + 10000; fx_now_ms() < end;) {
        fx_redis = redisConnectUnix(fx_redis_sock);
        if (fx_redis && !fx_redis->err)
            return 0;
        redisFree(fx_redis);
        fx_redis = NULL;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* A blocking command on the fixture's own connection; caller frees. */
static inline redisReply *fx_cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(fx_redis, fmt, ap);
    va_end(ap);
    return r;
}

/* A blocking command whose reply is not needed. */
static inline void fx_do(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(fx_redis, fmt, ap);
    va_end(ap);
    freeReplyObject(r);
}

static inline void fx_tick(uv_timer_t *t)
{
    (void)t;
}

/* Turns the loop until pred(ud) holds or ms pass; returns pred's last value. */
static inline bool fx_run_until(uv_loop_t *loop, bool (*pred)(void *ud), void *ud, unsigned ms)
{
    uv_timer_t tick; /* keeps UV_RUN_ONCE from blocking for long */
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, fx_tick, 5, 5);
    bool ok;
    for (uint64_t end = fx_now_ms() + ms; !(ok = pred(ud)) && fx_now_ms() < end;)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static inline bool fx_store_up(void *ud)
{
    return store_connected(ud);
}

/* A store on loop, connected to the fixture's server with dvcbot's Redis
 * functions loaded (NULL if it cannot). */
static inline struct store *fx_store_open(uv_loop_t *loop)
{
    struct store *s = store_new(loop, fx_redis_url, 2000);
    const char *dir = getenv("DVCBOT_DATA_DIR");
    char *err = NULL, *lib = s ? redis_library_read(dir ? dir : ".", &err) : NULL;
    free(err);
    if (s && lib)
        store_set_library(s, lib);
    free(lib);
    if (s && !fx_run_until(loop, fx_store_up, s, 5000)) {
        store_close(s);
        return NULL;
    }
    return s;
}

#endif
