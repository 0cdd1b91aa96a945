/* webchat_guard — new web chat ids per address. */
#include "dvcbot/webchat_guard.h"
#include "dvcbot/crypto.h"
#include "dvcbot/mem.h"
#include "dvcbot/redis_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check {
    webchat_guard_cb cb;
    void *ud;
};

static void on_checked(redisReply *r, void *ud)
{
    struct check *c = ud;
    /* Redis down: let the dialog answer what it can (it stores nothing then). */
    bool allowed = !r || r->type != REDIS_REPLY_INTEGER || r->integer == 1;
    c->cb(allowed, c->ud);
    free(c);
}

int webchat_guard_check(struct store *st, unsigned limit, const char *user, const char *source,
                        webchat_guard_cb cb, void *ud)
{
    char ukey[96], skey[96], akey[96], hex[CRYPTO_SHA256_HEX], max[16], window[16];
    snprintf(ukey, sizeof ukey, "u:{wc:%s}", user);
    snprintf(skey, sizeof skey, "s:{wc:%s}", user);
    crypto_sha256_hex(source, strlen(source), hex);
    snprintf(akey, sizeof akey, "wc:new:%.32s", hex);
    snprintf(max, sizeof max, "%u", limit);
    snprintf(window, sizeof window, "%d", WEBCHAT_NEW_IDS_WINDOW_S);
    const char *args[] = {ukey, skey, akey, user, max, window};
    struct check *c = xmalloc(sizeof *c);
    c->cb = cb;
    c->ud = ud;
    if (redis_fcall(st, "webchat_new_id", on_checked, c, 3, 6, args, NULL) != 0) {
        free(c);
        return -1;
    }
    return 0;
}
