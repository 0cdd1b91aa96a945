/* erase — erase-my-data: shared references first, then every key of the user. */
#include "dvcbot/erase.h"
#include "dvcbot/buf.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct erase {
    struct stats *st;
};

struct job {
    struct erase *e;
    struct dialog_turn *t;
    char pattern[2 * DIALOG_USER_KEY_MAX + 8];
    struct strmap keys;      /* found by SCAN (it may return a key twice) */
    struct strmap kinds;     /* template names seen, value = order + 1 */
    size_t n_kinds;
    long refs_removed;
    long deleted;
    int pending;
    bool failed;
};

void erase_pattern(const char *user_key, char *out, size_t cap)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "*{");
    for (const char *p = user_key; *p; p++) {
        if (strchr("*?[]\\", *p))
            buf_putc(&b, '\\');
        buf_putc(&b, *p);
    }
    buf_puts(&b, "}*");
    snprintf(out, cap, "%s", buf_cstr(&b));
    buf_free(&b);
}

void erase_kind_template(const char *key, char *out, size_t cap)
{
    const char *brace = strchr(key, '{');
    size_t n = brace ? (size_t)(brace - key) : 0;
    while (n && key[n - 1] == ':')
        n--;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "erase_kind_");
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        buf_putc(&b, ok ? c : c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : '_');
    }
    if (!n)
        buf_puts(&b, "other");
    snprintf(out, cap, "%s", buf_cstr(&b));
    buf_free(&b);
}

/* ===== The job ===== */

static void job_free(struct job *j)
{
    strmap_free(&j->keys);
    strmap_free(&j->kinds);
    free(j);
}

static void note_kind(struct job *j, const char *key)
{
    char name[TPL_NAME_MAX];
    erase_kind_template(key, name, sizeof name);
    if (!tpl_exists(j->t->deps->tpl, name))
        snprintf(name, sizeof name, "erase_kind_other");
    if (!strmap_has(&j->kinds, name))
        strmap_put(&j->kinds, name, (void *)(uintptr_t)++j->n_kinds);
}

/* The kinds as lines, in the order first seen. */
static char *kinds_text(struct job *j)
{
    const char **names = xcalloc(j->n_kinds + 1, sizeof *names);
    size_t pos = 0;
    const char *k;
    void *v;
    while (strmap_next(&j->kinds, &pos, &k, &v))
        names[(uintptr_t)v - 1] = k;
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < j->n_kinds; i++) {
        char *line = tpl_render_text(j->t->deps->tpl, names[i], NULL, 0);
        if (line)
            buf_printf(&b, "%s%s", b.len ? "\n" : "", line);
        free(line);
    }
    free(names);
    return buf_steal(&b);
}

static void finish(struct job *j)
{
    struct dialog_turn *t = j->t;
    if (j->failed) {
        dialog_reply_busy_store(t);
    } else {
        char deleted[24], refs[24];
        snprintf(deleted, sizeof deleted, "%ld", j->deleted);
        snprintf(refs, sizeof refs, "%ld", j->refs_removed);
        char *kinds = kinds_text(j);
        const struct tpl_var v[] = {{"deleted", deleted}, {"refs", refs}, {"kinds", kinds}};
        dialog_turn_render(t, "erase_done", v, 3);
        free(kinds);
        stats_count(j->e->st, "erasures");
        metrics_inc("dvcbot_erasures_total", "", 1);
        log_fmt(LOG_INFO, "user data erased", "\"keys\":%ld,\"refs\":%ld", j->deleted, j->refs_removed);
    }
    /* Nothing of the session may survive the turn. */
    cJSON_Delete(t->session);
    t->session = cJSON_CreateObject();
    t->erase_session = true;
    job_free(j);
    dialog_turn_done(t);
}

static void step_done(struct job *j)
{
    if (--j->pending == 0)
        finish(j);
}

static void on_deleted(redisReply *r, void *ud)
{
    struct job *j = ud;
    if (!r || r->type == REDIS_REPLY_ERROR)
        j->failed = true;
    else if (r->type == REDIS_REPLY_INTEGER)
        j->deleted += r->integer;
    step_done(j);
}

static void delete_found(struct job *j)
{
    size_t pos = 0;
    const char *k;
    void *v;
    j->pending++; /* held until every DEL is sent */
    while (strmap_next(&j->keys, &pos, &k, &v)) {
        j->pending++;
        if (store_command(j->t->deps->store, on_deleted, j, "DEL %s", k) != 0) {
            j->failed = true;
            j->pending--;
        }
    }
    step_done(j);
}

static void scan_from(struct job *j, const char *cursor);

static void on_scanned(redisReply *r, void *ud)
{
    struct job *j = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
        j->failed = true;
        step_done(j);
        return;
    }
    const redisReply *keys = r->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        if (!strmap_has(&j->keys, k)) {
            strmap_put(&j->keys, k, NULL);
            note_kind(j, k);
        }
    }
    if (strcmp(r->element[0]->str, "0") == 0) {
        delete_found(j);
        step_done(j); /* the scan's own share */
        return;
    }
    scan_from(j, r->element[0]->str);
}

static void scan_from(struct job *j, const char *cursor)
{
    char count[16];
    snprintf(count, sizeof count, "%d", ERASE_SCAN_COUNT);
    if (store_command(j->t->deps->store, on_scanned, j, "SCAN %s MATCH %s COUNT %s", cursor,
                      j->pattern, count) != 0) {
        j->failed = true;
        step_done(j);
    }
}

static void on_ref_removed(redisReply *r, void *ud)
{
    struct job *j = ud;
    if (!r || r->type == REDIS_REPLY_ERROR)
        j->failed = true;
    else if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
        j->refs_removed++;
    step_done(j);
}

/* Commands on one connection are answered in order: the removals are done
 * before the first SCAN reply arrives. */
static void on_refs(redisReply *r, void *ud)
{
    struct job *j = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        j->failed = true;
        step_done(j);
        return;
    }
    for (size_t i = 0; i < r->elements; i++) {
        j->pending++;
        if (store_command(j->t->deps->store, on_ref_removed, j, "FCALL erase_ref 1 %s %s",
                          r->element[i]->str, j->t->user_key) != 0) {
            j->failed = true;
            j->pending--;
        }
    }
    scan_from(j, "0"); /* keeps the share of the refs step */
}

/* ===== Handlers ===== */

static void on_intent(struct dialog_turn *t, void *ud)
{
    (void)ud;
    dialog_turn_reply(t, "erase_confirm", NULL, 0);
}

static void on_button(struct dialog_turn *t, void *ud)
{
    struct erase *e = ud;
    if (strcmp(t->arg, "yes") != 0) {
        dialog_turn_reply(t, "erase_kept", NULL, 0);
        return;
    }
    if (dialog_turn_refuse_degraded(t))
        return;
    struct job *j = xcalloc(1, sizeof *j);
    j->e = e;
    j->t = t;
    strmap_init(&j->keys);
    strmap_init(&j->kinds);
    erase_pattern(t->user_key, j->pattern, sizeof j->pattern);
    char refs[160];
    dialog_user_redis_key(refs, sizeof refs, "refs:", t->user_key, NULL);
    j->pending = 1;
    if (store_command(t->deps->store, on_refs, j, "SMEMBERS %s", refs) != 0) {
        j->failed = true;
        step_done(j);
    }
}

struct erase *erase_new(struct dialog *d, struct stats *st)
{
    struct erase *e = xcalloc(1, sizeof *e);
    e->st = st;
    dialog_on_intent(d, "xoa_du_lieu", on_intent, e);
    dialog_on_payload(d, "erase:", on_button, e);
    return e;
}

void erase_free(struct erase *e)
{
    free(e);
}
