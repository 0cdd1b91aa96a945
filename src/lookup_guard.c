/* lookup_guard — limits on proving a dossier is yours, and the proof. */
#include "dvcbot/lookup_guard.h"
#include "dvcbot/crypto.h"
#include "dvcbot/dialog.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>


void lookup_limits_from_config(const struct config *cfg, struct lookup_limits *out)
{
    *out = (struct lookup_limits){
        .dossier_fails = cfg->lookup_dossier_fails, .dossier_pause_s = cfg->lookup_dossier_pause_s,
        .id_fails = cfg->lookup_id_fails, .address_fails = cfg->lookup_address_fails,
        .source_pause_s = cfg->lookup_source_pause_s, .new_id_age_s = cfg->lookup_new_id_age_s,
        .new_id_fails = cfg->lookup_new_id_fails, .global_fails = cfg->lookup_global_fails,
        .access_ttl_s = cfg->user_ttl_s,
    };
}

enum lookup_proof lookup_proof_parse(const char *text, char digits[LOOKUP_PROOF_MAX + 1])
{
    size_t n = 0;
    digits[0] = '\0';
    if (strlen(text) > 40)
        return LOOKUP_PROOF_NONE;
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p))
            continue;
        if (n == LOOKUP_PROOF_MAX)
            return LOOKUP_PROOF_NONE;
        digits[n++] = *p;
    }
    digits[n] = '\0';
    if (n == 4)
        return LOOKUP_PROOF_LAST4;
    return n >= LOOKUP_PROOF_FULL_MIN ? LOOKUP_PROOF_FULL : LOOKUP_PROOF_NONE;
}

/* The sha256 of "addr:<group>" or "acct:<user key>": hs:g:s:<it>, hs:g:p:<it> */
static void source_hash(const struct lookup_attempt *a, char hex[CRYPTO_SHA256_HEX])
{
    char id[BOT_ID_MAX + DIALOG_USER_KEY_MAX + 8];
    if (a->source && *a->source)
        snprintf(id, sizeof id, "addr:%s", a->source);
    else
        snprintf(id, sizeof id, "acct:%s", a->user_key);
    crypto_sha256_hex(id, strlen(id), hex);
}

static void set_num(struct lookup_guard_call *c, int i, long long v)
{
    snprintf(c->nums[i], sizeof c->nums[i], "%lld", v);
    c->args[LOOKUP_GUARD_KEYS + i] = c->nums[i];
}

static long long pending_max(const struct lookup_attempt *a, bool addr)
{
    if (!a->may_wait)
        return 0;
    return addr ? LOOKUP_PENDING_ADDRESS_MAX : LOOKUP_PENDING_ACCOUNT_MAX;
}

void lookup_guard_prepare(const struct lookup_limits *lim, const struct lookup_attempt *a,
                          struct lookup_guard_call *out)
{
    bool addr = a->source && *a->source;
    size_t cap = sizeof out->keys[0];
    size_t channel = strcspn(a->user_key, ":");
    char source[CRYPTO_SHA256_HEX];
    source_hash(a, source);
    dossier_key(out->keys[0], cap, a->code);
    snprintf(out->keys[1], cap, "hs:g:d:%s", a->code);
    snprintf(out->keys[2], cap, "hs:g:s:%s", source);
    snprintf(out->keys[3], cap, "hs:g:new:%.*s", (int)channel, a->user_key);
    snprintf(out->keys[4], cap, "hs:g:all");
    snprintf(out->keys[5], cap, "dossier:access:%s", a->code);
    dialog_user_redis_key(out->keys[6], cap, "refs:", a->user_key, NULL);
    snprintf(out->keys[7], cap, "sub:%s", a->code);
    snprintf(out->keys[8], cap, "%s%s", DOSSIER_PENDING_PREFIX, a->code);
    snprintf(out->keys[9], cap, "hs:g:p:%s", source);
    for (int i = 0; i < LOOKUP_GUARD_KEYS; i++)
        out->args[i] = out->keys[i];
    const char **arg = out->args + LOOKUP_GUARD_KEYS;
    arg[0] = a->proof == LOOKUP_PROOF_LAST4 ? "last4" : "full";
    arg[1] = a->digits;
    set_num(out, 2, a->now);
    arg[3] = a->user_key;
    arg[4] = addr ? "addr" : "acct";
    set_num(out, 5, lim->dossier_fails);
    set_num(out, 6, lim->dossier_pause_s);
    set_num(out, 7, LOOKUP_DOSSIER_PAUSE_MAX_S);
    set_num(out, 8, LOOKUP_DOSSIER_MEMORY_S);
    set_num(out, 9, addr ? lim->address_fails : lim->id_fails);
    set_num(out, 10, lim->source_pause_s);
    set_num(out, 11, LOOKUP_SOURCE_PAUSE_MAX_S);
    set_num(out, 12, LOOKUP_SOURCE_MEMORY_S);
    set_num(out, 13, lim->new_id_age_s);
    set_num(out, 14, lim->new_id_fails);
    set_num(out, 15, lim->global_fails);
    set_num(out, 16, LOOKUP_GLOBAL_WINDOW_S);
    set_num(out, 17, lim->access_ttl_s);
    set_num(out, 18, pending_max(a, addr));
    set_num(out, 19, LOOKUP_PENDING_S);
    out->nkeys = LOOKUP_GUARD_KEYS;
    out->nargs = LOOKUP_GUARD_KEYS + LOOKUP_GUARD_ARGS;
}

static bool is_str(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STRING && strcmp(r->str, s) == 0;
}

int lookup_guard_read(const redisReply *r, struct lookup_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return -1;
    const redisReply *kind = r->element[0];
    if (is_str(kind, "wrong") && r->elements == 1) {
        v->outcome = LOOKUP_WRONG;
        return 0;
    }
    if (is_str(kind, "pending") && r->elements == 1) {
        v->outcome = LOOKUP_PENDING;
        return 0;
    }
    if (is_str(kind, "ok") && r->elements == 3 && r->element[1]->type == REDIS_REPLY_ARRAY) {
        v->outcome = LOOKUP_OK;
        v->dossier = r->element[1];
        v->subscribed = r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == 1;
        return 0;
    }
    if (!is_str(kind, "limited") || r->elements != 3 || r->element[1]->type != REDIS_REPLY_INTEGER)
        return -1;
    static const char *const by[] = {"source", "dossier", "new", "global"};
    for (int i = 0; i < 4; i++) {
        if (is_str(r->element[2], by[i])) {
            v->outcome = LOOKUP_LIMITED;
            v->by = (enum lookup_limited_by)i;
            v->wait_s = (long)r->element[1]->integer;
            return 0;
        }
    }
    return -1;
}

void lookup_settle_prepare(const struct lookup_limits *lim, const char *code, long long now,
                           struct lookup_settle_call *out)
{
    size_t cap = sizeof out->keys[0];
    dossier_key(out->keys[0], cap, code);
    snprintf(out->keys[1], cap, "sub:%s", code);
    snprintf(out->keys[2], cap, "%s%s", DOSSIER_PENDING_PREFIX, code);
    snprintf(out->keys[3], cap, "hs:g:d:%s", code);
    snprintf(out->keys[4], cap, "hs:g:all");
    snprintf(out->keys[5], cap, "dossier:access:%s", code);
    const long long nums[LOOKUP_SETTLE_ARGS] = {
        now, lim->dossier_fails, lim->dossier_pause_s, LOOKUP_DOSSIER_PAUSE_MAX_S,
        LOOKUP_DOSSIER_MEMORY_S, lim->id_fails, lim->address_fails, lim->source_pause_s,
        LOOKUP_SOURCE_PAUSE_MAX_S, LOOKUP_SOURCE_MEMORY_S, lim->global_fails,
        LOOKUP_GLOBAL_WINDOW_S, lim->access_ttl_s,
    };
    for (int i = 0; i < LOOKUP_SETTLE_KEYS; i++)
        out->args[i] = out->keys[i];
    for (int i = 0; i < LOOKUP_SETTLE_ARGS; i++) {
        snprintf(out->nums[i], sizeof out->nums[i], "%lld", nums[i]);
        out->args[LOOKUP_SETTLE_KEYS + i] = out->nums[i];
    }
    out->nkeys = LOOKUP_SETTLE_KEYS;
    out->nargs = LOOKUP_SETTLE_KEYS + LOOKUP_SETTLE_ARGS;
}
