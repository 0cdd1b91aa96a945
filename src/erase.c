/* erase — erase-my-data: shared references first, then every key of the user, by name. */
#include "dvcbot/erase.h"
#include "dvcbot/buf.h"
#include "dvcbot/erase_desk.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MODE_CONFIRM "erase"

struct erase {
    struct stats *st;
    const struct flow_set *words;
};

struct job {
    struct erase *e;
    struct dialog_turn *t;
    struct strmap kinds;     /* template names seen, value = order + 1 */
    size_t n_kinds;
    long refs_removed;
    long deleted;
    int pending;
    bool failed;
};

/* Every key a user owns: <prefix>{<user key>}, the index of delivery ids
 * first (dialog.c: it holds the event marks; the keys dd:{<user key>}:<id>
 * of marks made before that are found through it). A
 * module that keeps a new kind of key under the user's hash tag adds its
 * prefix here (the e2e erase tests check that no key of the user is left). */
static const char *const user_key_prefixes[] = {
    "dd:", "s:", "u:", "p:", "fb:", "fbh:", "ho:", "vol:", "wc:inbox:", "wc:hist:", "ec:", "refs:",
};

void erase_user_keys(const char *user_key, char out[][ERASE_KEY_MAX], size_t *n)
{
    *n = sizeof user_key_prefixes / sizeof user_key_prefixes[0];
    for (size_t i = 0; i < *n; i++)
        snprintf(out[i], ERASE_KEY_MAX, "%s{%s}", user_key_prefixes[i], user_key);
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

/* The kinds as lines, in the order first seen, then the shared lists the
 * user was taken out of (none: no line). */
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
    if (j->refs_removed > 0) {
        char refs[24];
        snprintf(refs, sizeof refs, "%ld", j->refs_removed);
        const struct tpl_var v = {"refs", refs};
        char *line = tpl_render_text(j->t->deps->tpl, "erase_refs_removed", &v, 1);
        if (line)
            buf_printf(&b, "%s%s", b.len ? "\n" : "", line);
        free(line);
    }
    return buf_steal(&b);
}

/* The summary for a desk officer: the counts and kinds of the reply. */
static void summarize(struct job *j, struct erase_summary *sum)
{
    *sum = (struct erase_summary){.deleted = j->deleted, .refs_removed = j->refs_removed};
    size_t pos = 0;
    const char *k;
    void *v;
    while (strmap_next(&j->kinds, &pos, &k, &v)) {
        size_t at = (uintptr_t)v - 1;
        if (at >= ERASE_MAX_KEYS)
            continue;
        snprintf(sum->kinds[at], ERASE_KIND_MAX, "%s", k + sizeof "erase_kind_" - 1);
        if (at + 1 > sum->n_kinds)
            sum->n_kinds = at + 1;
    }
}

static void finish(struct job *j)
{
    struct dialog_turn *t = j->t;
    if (j->failed) {
        dialog_reply_busy_store(t);
    } else {
        struct erase_summary sum;
        summarize(j, &sum);
        erase_desk_erased(t, &sum); /* a desk erasure in hand learns what went */
        char deleted[24];
        snprintf(deleted, sizeof deleted, "%ld", j->deleted);
        char *kinds = kinds_text(j);
        const struct tpl_var v[] = {{"deleted", deleted}, {"kinds", kinds}};
        dialog_turn_render(t, "erase_done", v, 2);
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
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        j->failed = true;
    } else {
        for (size_t i = 0; i < r->elements; i++) {
            if (r->element[i]->type != REDIS_REPLY_STRING)
                continue;
            j->deleted++;
            note_kind(j, r->element[i]->str);
        }
    }
    step_done(j);
}

/* Commands on one connection run in order: the user leaves the shared
 * structures (refs) before refs:{} itself goes. */
static void delete_keys(struct job *j)
{
    char keys[ERASE_MAX_KEYS][ERASE_KEY_MAX];
    size_t n;
    erase_user_keys(j->t->user_key, keys, &n);
    const char *args[ERASE_MAX_KEYS + 1];
    for (size_t i = 0; i < n; i++)
        args[i] = keys[i];
    char marks[ERASE_KEY_MAX];
    snprintf(marks, sizeof marks, "dd:{%s}:", j->t->user_key);
    args[n] = marks;
    j->pending++;
    if (redis_fcall(j->t->deps->store, "erase_user_keys", on_deleted, j, (int)n, (int)n + 1, args,
                    NULL) != 0) {
        j->failed = true;
        j->pending--;
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

/* The removals from shared structures are sent before the keys' deletion,
 * on the same connection: done in that order. */
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
    delete_keys(j);
    step_done(j); /* the refs step's share */
}

/* ===== Handlers ===== */

/* Nothing erased: with a guided flow waiting half-done (the question
 * came in the middle of it), a button goes back to its step. */
static void reply_kept(struct dialog_turn *t)
{
    bool flow = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t->session, "flow"));
    const struct tpl_var v = {"resume", flow ? "f:resume" : ""};
    dialog_turn_reply(t, "erase_kept", &v, 1);
}

static void on_intent(struct dialog_turn *t, void *ud)
{
    (void)ud;
    dialog_turn_set_mode(t, MODE_CONFIRM);
    dialog_turn_reply(t, "erase_confirm", NULL, 0);
}

/* A line typed under the confirmation: yes (or "1", the first button) asks
 * for the button (nothing is erased on a typed word), no (or "2") keeps
 * everything, anything else moves on. */
static bool on_confirm_mode(struct dialog_turn *t, void *ud)
{
    struct erase *e = ud;
    dialog_turn_set_mode(t, NULL);
    if (t->msg->kind != BOT_MSG_TEXT)
        return false;
    enum flow_command cmd = flow_set_command_of(e->words, t->msg->text);
    long typed = dialog_typed_number(t->msg->text); /* "1" Xóa hết, "2" Không xóa, as numbered */
    if (typed == 3) {                               /* "3" Xóa tại bộ phận một cửa: its code */
        erase_desk_issue(t);
        return true;
    }
    if (typed == 1)
        cmd = FLOW_CMD_YES;
    else if (typed == 2)
        cmd = FLOW_CMD_NO;
    if (cmd == FLOW_CMD_YES || cmd == FLOW_CMD_NEXT) {
        dialog_turn_set_mode(t, MODE_CONFIRM);
        dialog_turn_reply(t, "erase_press_button", NULL, 0);
        return true;
    }
    if (cmd == FLOW_CMD_NO || cmd == FLOW_CMD_CANCEL) {
        erase_desk_cancel(t, reply_kept); /* a code shown before goes too */
        return true;
    }
    return false;
}

static void on_button(struct dialog_turn *t, void *ud)
{
    struct erase *e = ud;
    if (strcmp(t->arg, &ERASE_DESK_PAYLOAD[sizeof "erase:" - 1]) == 0) {
        erase_desk_issue(t); /* the code a desk officer types: erase_desk.h */
        return;
    }
    if (strcmp(t->arg, "yes") != 0) {
        erase_desk_cancel(t, reply_kept); /* a code shown before goes too */
        return;
    }
    if (dialog_turn_refuse_degraded(t))
        return;
    struct job *j = xcalloc(1, sizeof *j);
    j->e = e;
    j->t = t;
    strmap_init(&j->kinds);
    char refs[160];
    dialog_user_redis_key(refs, sizeof refs, "refs:", t->user_key, NULL);
    j->pending = 1;
    if (store_command(t->deps->store, on_refs, j, "SMEMBERS %s", refs) != 0) {
        j->failed = true;
        step_done(j);
    }
}

struct erase *erase_new(struct dialog *d, struct stats *st, const struct flow_set *words)
{
    struct erase *e = xcalloc(1, sizeof *e);
    e->st = st;
    e->words = words;
    dialog_on_intent(d, "xoa_du_lieu", on_intent, e);
    dialog_on_mode(d, MODE_CONFIRM, on_confirm_mode, e);
    dialog_on_payload(d, "erase:", on_button, e);
    return e;
}

void erase_free(struct erase *e)
{
    free(e);
}
