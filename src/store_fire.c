/* store_fire — writes nobody waits for, counted when Redis does not take
 * them. See include/dvcbot/store_fire.h. */
#include "dvcbot/store_fire.h"
#include "dvcbot/log.h"
#include "dvcbot/metrics.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

static void count_lost(const char *what)
{
    char labels[96];
    snprintf(labels, sizeof labels, "what=\"%s\"", what);
    metrics_inc("dvcbot_redis_writes_lost_total", labels, 1);
}

static void on_fired(redisReply *r, void *ud)
{
    const char *what = ud;
    if (!store_reply_failed(r))
        return;
    count_lost(what);
    if (r) /* NULL: Redis went away, which the connection logged already */
        log_fmt(LOG_WARN, "redis write failed", "\"what\":%s,\"error\":%s", log_q(what), log_q(r->str));
}

int store_fire(struct store *s, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = store_commandv(s, on_fired, (void *)(uintptr_t)what, fmt, ap);
    va_end(ap);
    if (rc != 0)
        count_lost(what);
    return rc;
}
