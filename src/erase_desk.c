/* erase_desk — the one-time code of a desk-side erasure, and the erasure it orders. */
#include "dvcbot/erase_desk.h"
#include "dvcbot/crypto.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/outbox_store.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/store_reply.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX (DIALOG_USER_KEY_MAX + CRYPTO_SHA256_HEX + 16)

static void code_hash(const char *code, char out[CRYPTO_SHA256_HEX])
{
    crypto_sha256_hex(code, strlen(code), out);
}

/* ERASE_DESK_DIGITS uniform digits; false when no randomness. */
static bool code_draw(char out[ERASE_DESK_DIGITS + 1])
{
    for (int tries = 0; tries < 8; tries++) {
        char hex[9];
        if (crypto_random_hex(hex, 4) != 0)
            return false;
        uint32_t v = (uint32_t)strtoul(hex, NULL, 16);
        if (v >= 4294000000u) /* the last partial million would favour low codes */
            continue;
        snprintf(out, ERASE_DESK_DIGITS + 1, "%06u", (unsigned)(v % 1000000u));
        return true;
    }
    return false;
}

bool erase_desk_code_read(const char *code, char *out)
{
    size_t n = 0;
    for (const char *p = code; *p; p++) {
        if (*p == ' ' && n > 0)
            continue;
        if (*p < '0' || *p > '9' || n == ERASE_DESK_DIGITS)
            return false;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n == ERASE_DESK_DIGITS;
}

/* ===== In the chat ===== */

struct issue {
    struct dialog_turn *t;
    char code[ERASE_DESK_DIGITS + 1];
    int draws;
};

static int issue_store(struct issue *is);

static void on_issued(redisReply *r, void *ud)
{
    struct issue *is = ud;
    struct dialog_turn *t = is->t;
    if (!store_reply_failed(r) && r->type == REDIS_REPLY_INTEGER && r->integer == 0 &&
        is->draws < ERASE_DESK_DRAWS && issue_store(is) == 0)
        return; /* another resident's code: drawn again */
    if (store_reply_failed(r) || r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
        free(is);
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    char minutes[12];
    snprintf(minutes, sizeof minutes, "%d", ERASE_DESK_CODE_S / 60);
    const struct tpl_var v[] = {{"code", is->code}, {"minutes", minutes}};
    dialog_turn_render(t, "erase_desk_code", v, 2);
    free(is);
    dialog_turn_done(t);
}

static int issue_store(struct issue *is)
{
    struct dialog_turn *t = is->t;
    if (!code_draw(is->code))
        return -1;
    is->draws++;
    char hash[CRYPTO_SHA256_HEX], own[KEY_MAX], index[KEY_MAX], refs[KEY_MAX], ttl[16], refs_ttl[16];
    code_hash(is->code, hash);
    dialog_user_redis_key(own, sizeof own, "ec:", t->user_key, NULL);
    snprintf(index, sizeof index, "ec:h:%s", hash);
    dialog_user_redis_key(refs, sizeof refs, "refs:", t->user_key, NULL);
    snprintf(ttl, sizeof ttl, "%d", ERASE_DESK_CODE_S);
    snprintf(refs_ttl, sizeof refs_ttl, "%u", t->deps->cfg->user_ttl_s);
    const char *args[] = {own, index, refs, hash, t->user_key, ttl, refs_ttl};
    return redis_fcall(t->deps->store, "desk_code_new", on_issued, is, 3, 7, args, NULL) == 0 ? 0 : -1;
}

void erase_desk_issue(struct dialog_turn *t)
{
    if (dialog_turn_refuse_degraded(t))
        return;
    struct issue *is = xcalloc(1, sizeof *is);
    is->t = t;
    if (issue_store(is) != 0) {
        free(is);
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

struct cancel {
    struct dialog_turn *t;
    void (*then)(struct dialog_turn *t);
};

static void on_dropped(redisReply *r, void *ud)
{
    struct cancel *c = ud;
    struct dialog_turn *t = c->t;
    void (*then)(struct dialog_turn *) = c->then;
    free(c);
    if (store_reply_failed(r) || r->type != REDIS_REPLY_INTEGER) {
        log_msg(LOG_WARN, "desk code not dropped: redis failed");
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    then(t);
}

void erase_desk_cancel(struct dialog_turn *t, void (*then)(struct dialog_turn *t))
{
    if (dialog_turn_refuse_degraded(t))
        return;
    char own[KEY_MAX], refs[KEY_MAX];
    dialog_user_redis_key(own, sizeof own, "ec:", t->user_key, NULL);
    dialog_user_redis_key(refs, sizeof refs, "refs:", t->user_key, NULL);
    const char *args[] = {own, refs};
    struct cancel *c = xcalloc(1, sizeof *c);
    c->t = t;
    c->then = then;
    if (redis_fcall(t->deps->store, "desk_code_drop", on_dropped, c, 2, 2, args, NULL) != 0) {
        free(c);
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

/* ===== At the desk ===== */

struct take {
    struct dialog *d;
    erase_desk_cb cb;
    void *ud;
    char user_key[DIALOG_USER_KEY_MAX];
    struct erase_summary sum;   /* what erase.c said it erased */
    bool summed;
    struct take *next;          /* in_hand */
};

/* The takes whose erasure turn is running (few: one per officer at most). */
static struct take *in_hand;

static void hand_unlink(struct take *tk)
{
    for (struct take **p = &in_hand; *p; p = &(*p)->next) {
        if (*p == tk) {
            *p = tk->next;
            break;
        }
    }
    tk->next = NULL;
}

void erase_desk_erased(const struct dialog_turn *t, const struct erase_summary *sum)
{
    for (struct take *tk = in_hand; tk; tk = tk->next) {
        if (tk->d == t->dialog && strcmp(tk->user_key, t->user_key) == 0) {
            tk->sum = *sum;
            tk->summed = true;
            return;
        }
    }
}

/* The erasure's turn ended: said ok when it was handled and erase.c
 * summed it up. */
static void take_done(struct take *tk, bool handled)
{
    hand_unlink(tk);
    bool ok = handled && tk->summed;
    if (!ok)
        log_msg(LOG_ERROR, "desk erasure failed: its turn did not erase");
    tk->cb(ok ? ERASE_DESK_ORDERED : ERASE_DESK_FAILED, tk->user_key, ok ? &tk->sum : NULL, tk->ud);
    free(tk);
}

static void on_erased_stored(const struct bot_msg *msg, enum dialog_stored outcome, void *ud)
{
    (void)msg;
    take_done(ud, outcome == DIALOG_STORED || outcome == DIALOG_IN_MEMORY);
}

/* A channel without durable replies (web chat): the replies go through the
 * outbox, as a stored turn's do without Redis (its driver keeps them in the
 * user's inbox). */
static void on_erased(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct take *tk = ud;
    struct outbox *ob = dialog_deps(tk->d)->outbox;
    for (size_t i = 0; i < replies->n; i++)
        if (outbox_send(ob, msg->channel, msg->chat, &replies->items[i], NULL, OUTBOX_REPLY, NULL, NULL) != 0)
            log_msg(LOG_INFO, "desk erasure reply not queued: chat blocked or channel off");
    take_done(tk, true);
}

/* The erasure, as the user's own press of "erase:yes". */
static bool order_erasure(struct take *tk, const char *ch_name, const char *chat)
{
    const char *colon = strchr(tk->user_key, ':');
    char prefix[8];
    int ch = -1;
    if (colon && (size_t)(colon - tk->user_key) < sizeof prefix) {
        snprintf(prefix, sizeof prefix, "%.*s", (int)(colon - tk->user_key), tk->user_key);
        ch = bot_channel_from_name(prefix);
    }
    if (ch < 0 || (ch_name[0] && bot_channel_from_name(ch_name) != ch))
        return false;
    struct bot_msg *m = bot_msg_new((enum bot_channel)ch, BOT_MSG_BUTTON);
    if (!bot_id_set(m->user, colon + 1) || !bot_id_set(m->chat, chat[0] ? chat : colon + 1)) {
        bot_msg_free(m);
        return false;
    }
    bot_msg_set_text(m, "erase:yes", 9);
    const struct dialog_deps *deps = dialog_deps(tk->d);
    tk->next = in_hand;
    in_hand = tk;
    int rc;
    if (deps->obstore && outbox_store_enabled(deps->obstore, (enum bot_channel)ch))
        rc = dialog_handle_stored(tk->d, m, NULL, on_erased_stored, tk);
    else
        rc = dialog_handle(tk->d, m, on_erased, tk);
    if (rc != 0)
        hand_unlink(tk);
    return rc == 0;
}

static void on_taken(redisReply *r, void *ud)
{
    struct take *tk = ud;
    const char *what = !store_reply_failed(r) && r->type == REDIS_REPLY_ARRAY && r->elements >= 1
                           ? store_reply_str(r->element[0]) : NULL;
    enum erase_desk_result res = ERASE_DESK_STORE_DOWN;
    if (what && strcmp(what, "wait") == 0) {
        res = ERASE_DESK_WAIT;
    } else if (what && strcmp(what, "unknown") == 0) {
        res = ERASE_DESK_UNKNOWN;
    } else if (what && strcmp(what, "ok") == 0 && r->elements == 4 && store_reply_str(r->element[1]) &&
               store_reply_str(r->element[2]) && store_reply_str(r->element[3]) &&
               strlen(r->element[1]->str) < sizeof tk->user_key) {
        snprintf(tk->user_key, sizeof tk->user_key, "%s", r->element[1]->str);
        if (order_erasure(tk, r->element[2]->str, r->element[3]->str))
            return; /* answered when the erasure's turn ends */
        log_msg(LOG_ERROR, "desk erasure not ordered: the code named no reachable user");
        res = ERASE_DESK_FAILED;
    }
    tk->cb(res, res == ERASE_DESK_FAILED ? tk->user_key : "", NULL, tk->ud);
    free(tk);
}

int erase_desk_take(struct dialog *d, const char *code, const char *token_id, const char *addr,
                    unsigned limit, erase_desk_cb cb, void *ud)
{
    char hash[CRYPTO_SHA256_HEX], index[KEY_MAX], by_token[KEY_MAX], by_addr[KEY_MAX], lim[16], win[16];
    code_hash(code, hash);
    snprintf(index, sizeof index, "ec:h:%s", hash);
    snprintf(by_token, sizeof by_token, "ec:fail:t:%s", token_id);
    snprintf(by_addr, sizeof by_addr, "ec:fail:a:%s", addr[0] ? addr : "unknown");
    snprintf(lim, sizeof lim, "%u", limit);
    snprintf(win, sizeof win, "%d", ERASE_DESK_WINDOW_S);
    struct take *tk = xcalloc(1, sizeof *tk);
    tk->d = d;
    tk->cb = cb;
    tk->ud = ud;
    const char *args[] = {index, by_token, by_addr, lim, win, hash};
    if (redis_fcall(dialog_deps(d)->store, "desk_code_take", on_taken, tk, 3, 6, args, NULL) != 0) {
        free(tk);
        return -1;
    }
    return 0;
}
