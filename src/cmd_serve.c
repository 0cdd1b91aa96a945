/* cmd_serve — `dvcbot serve`: the service. */
#include "dvcbot/app.h"
#include "dvcbot/commands.h"
#include "dvcbot/log.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Request bodies up to 1 MiB come and go: a fixed mmap threshold (glibc
 * raises it as large blocks are freed) serves them from mmap, so freeing
 * them gives the memory back to the system after a spike. */
#define MMAP_THRESHOLD (128 * 1024)

/* Connections are capped (DVCBOT_HTTP_MAX_CONNS) below what the process may
 * open, not by running out of descriptors: take what the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        log_msg(LOG_WARN, "cannot raise the open files limit");
}

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
#endif
    raise_fd_limit();
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "cannot create event loop\n");
        return 1;
    }
    struct app a;
    char *err = NULL;
    int status = 0;
    if (app_open(&a, &loop, &err) != 0 || app_listen(&a, &err) != 0) {
        log_fmt(LOG_ERROR, "cannot start", "\"error\":%s", log_q(err));
        fprintf(stderr, "dvcbot: %s\n", err ? err : "cannot start");
        free(err);
        app_close(&a);
        status = 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) {
        log_msg(LOG_ERROR, "event loop closed with handles still open");
        return status ? status : 1;
    }
    return status ? status : a.exit_code;
}
