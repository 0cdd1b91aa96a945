/* admin_dossiers — bulk dossier upsert in slices with pipelined scripts. */
#include "dvcbot/admin_dossiers.h"
#include "dvcbot/admin_auth.h"
#include "dvcbot/buf.h"
#include "dvcbot/commune.h"
#include "dvcbot/clock.h"
#include "dvcbot/dossier.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/record_reader.h"
#include "dvcbot/redis_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct admin_dossiers {
    struct admin_dossiers_deps deps;
    size_t jobs;        /* batches in progress */
    bool closed;
};

/* One request being worked through. */
struct job {
    struct admin_dossiers *ad;
    struct http_request *req;
    struct record_reader rd;
    uv_timer_t timer;            /* one slice per expiry */
    size_t inflight;             /* upserts of this slice awaiting replies */
    size_t created, updated, unchanged, invalid, failed;
    size_t slice_updates;
    size_t n_errors;
    struct buf errors;           /* JSON objects, comma-separated */
    bool store_down;
    bool scheduled;              /* the timer will run on_slice */
    bool finished;               /* answered */
    uint64_t start_ns;
    char scope[ADMIN_COMMUNE_MAX + 1]; /* a console sign-in's commune, or "" */
};

static void on_slice(uv_timer_t *t);

static void release(struct admin_dossiers *ad)
{
    if (--ad->jobs == 0 && ad->closed)
        free(ad);
}

static void on_job_closed(uv_handle_t *h)
{
    struct job *j = h->data;
    struct admin_dossiers *ad = j->ad;
    record_reader_free(&j->rd);
    buf_free(&j->errors);
    free(j);
    release(ad);
}

static void count(const char *result, size_t n)
{
    char labels[48];
    if (!n)
        return;
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    metrics_inc("dvcbot_dossiers_ingested_total", labels, (double)n);
}

static void finish(struct job *j)
{
    size_t received = j->rd.record, stored = j->created + j->updated + j->unchanged;
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "{");
    if (j->store_down)
        buf_puts(&out, "\"error\":\"store unavailable; records not reported as stored may be "
                       "re-sent\",");
    buf_printf(&out, "\"received\":%zu,\"stored\":%zu,\"created\":%zu,\"updated\":%zu,"
                     "\"unchanged\":%zu,\"invalid\":%zu,\"failed\":%zu,\"errors\":[%s],"
                     "\"errors_omitted\":%zu}",
               received, stored, j->created, j->updated, j->unchanged, j->invalid, j->failed,
               buf_cstr(&j->errors),
               j->n_errors > ADMIN_DOSSIERS_MAX_ERRORS ? j->n_errors - ADMIN_DOSSIERS_MAX_ERRORS : 0);
    double secs = (double)(uv_hrtime() - j->start_ns) / 1e9;
    log_fmt(LOG_INFO, "dossiers ingested",
            "\"received\":%zu,\"created\":%zu,\"updated\":%zu,\"unchanged\":%zu,\"invalid\":%zu,"
            "\"failed\":%zu,\"seconds\":%.3f",
            received, j->created, j->updated, j->unchanged, j->invalid, j->failed, secs);
    count("created", j->created);
    count("updated", j->updated);
    count("unchanged", j->unchanged);
    count("invalid", j->invalid);
    count("failed", j->failed);
    http_respond(j->req, j->store_down ? 503 : 200, "application/json", out.data, out.len, NULL);
    buf_free(&out);
    uv_close((uv_handle_t *)&j->timer, on_job_closed);
}

/* The code a record names as sent (NULL when absent or absurdly long). */
static const char *record_code(const cJSON *obj)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
    return cJSON_IsString(code) && strlen(code->valuestring) <= 2 * DOSSIER_CODE_MAX
               ? code->valuestring
               : NULL;
}

static void add_error(struct job *j, size_t line, size_t index, const char *code, const char *field,
                      const char *reason)
{
    j->invalid++;
    if (++j->n_errors > ADMIN_DOSSIERS_MAX_ERRORS)
        return;
    if (j->errors.len)
        buf_putc(&j->errors, ',');
    buf_printf(&j->errors, "{\"line\":%zu,\"record\":%zu,", line, index);
    if (code) {
        buf_puts(&j->errors, "\"code\":");
        buf_json_str(&j->errors, code);
        buf_putc(&j->errors, ',');
    }
    buf_puts(&j->errors, "\"field\":");
    buf_json_str(&j->errors, field);
    buf_puts(&j->errors, ",\"reason\":");
    buf_json_str(&j->errors, reason);
    buf_putc(&j->errors, '}');
}

/* Status changes wait in dossier:changes: wake the notifier for them. */
static void kick_notify(struct job *j)
{
    if (j->slice_updates && !j->store_down && j->ad->deps.notify && !j->ad->closed)
        notify_kick(j->ad->deps.notify);
    j->slice_updates = 0;
}

static void schedule(struct job *j)
{
    kick_notify(j);
    if (j->scheduled)
        return;
    if (uv_timer_start(&j->timer, on_slice, 0, 0) != 0)
        j->store_down = true;
    else
        j->scheduled = true;
}

/* After a slice was sent and after each reply: parse the next slice while
 * Redis works on the window, or answer once everything is back. */
static void advance(struct job *j)
{
    if (j->ad->closed && !j->rd.done)
        j->store_down = true;
    if (!j->rd.done && !j->store_down) {
        if (j->inflight > ADMIN_DOSSIERS_WINDOW - ADMIN_DOSSIERS_SLICE)
            return; /* wait for replies */
        schedule(j);
        if (j->scheduled)
            return;
    }
    if (j->inflight == 0 && !j->scheduled && !j->finished) {
        j->finished = true;
        kick_notify(j);
        finish(j);
    }
}

/* Counts one upsert's reply. Returns the outcome, or -1 when it failed. */
static int count_upsert(struct job *j, redisReply *r, const char **stored_commune)
{
    enum dossier_outcome outcome;
    bool changed;
    if (!r) {
        j->failed++;
        j->store_down = true;
        return -1;
    }
    if (dossier_upsert_result(r, NULL, &outcome, &changed, stored_commune) != 0) {
        if (j->failed++ == 0)
            log_fmt(LOG_ERROR, "dossier upsert failed", "\"error\":%s",
                    log_q(r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
        return -1;
    }
    if (outcome == DOSSIER_CREATED) {
        j->created++;
    } else if (outcome == DOSSIER_UPDATED) {
        j->updated++;
        j->slice_updates++;
    } else if (outcome == DOSSIER_UNCHANGED) {
        j->unchanged++;
    }
    return (int)outcome;
}

static void on_upserted(redisReply *r, void *ud)
{
    struct job *j = ud;
    j->inflight--;
    count_upsert(j, r, NULL);
    advance(j);
}

static bool send_upsert(struct job *j, const struct dossier *d, time_t now, const char *stored_commune,
                        store_reply_cb cb, void *ud)
{
    struct dossier_upsert u;
    dossier_upsert_prepare(d, now, stored_commune, &u);
    if (redis_fcall(j->ad->deps.store, "dossier_upsert", cb, ud, u.nkeys, u.argc, u.argv, u.lens) != 0) {
        j->failed++;
        j->store_down = true;
        return false;
    }
    j->inflight++;
    return true;
}

/* ===== A sign-in limited to a commune ===== */

/* Its upsert writes a stored dossier only while the dossier is in its
 * commune: the script compares the stored commune with the one the record
 * names; when they are spelled differently but name the same commune, the
 * upsert goes again with the stored spelling. A dossier of another commune
 * (or of none) is never moved. */
struct scoped_record {
    struct job *j;
    size_t line, index;
    time_t now;
    bool retried;
    struct dossier d;
};

static void scoped_record_free(struct scoped_record *sr)
{
    dossier_clear(&sr->d);
    free(sr);
}

static void on_scoped_upserted(redisReply *r, void *ud)
{
    struct scoped_record *sr = ud;
    struct job *j = sr->j;
    const char *stored = NULL;
    j->inflight--;
    if (count_upsert(j, r, &stored) == DOSSIER_OTHER_COMMUNE) {
        const char *code = dossier_get(&sr->d, DF_CODE);
        if (!commune_same(j->scope, stored))
            add_error(j, sr->line, sr->index, code, "commune",
                      stored[0] ? "belongs to another commune" : "stored without a commune");
        else if (sr->retried)
            add_error(j, sr->line, sr->index, code, "commune", "changed during the upload; send it again");
        else if (!j->store_down && !j->ad->closed) {
            sr->retried = true;
            if (send_upsert(j, &sr->d, sr->now, stored, on_scoped_upserted, sr)) {
                advance(j);
                return;
            }
        }
    }
    scoped_record_free(sr);
    advance(j);
}

static bool send_scoped(struct job *j, struct dossier *d, size_t line, size_t index, time_t now)
{
    struct scoped_record *sr = xcalloc(1, sizeof *sr);
    *sr = (struct scoped_record){.j = j, .line = line, .index = index, .now = now, .d = *d};
    if (send_upsert(j, &sr->d, now, dossier_get(&sr->d, DF_COMMUNE), on_scoped_upserted, sr))
        return true;
    scoped_record_free(sr);
    return false;
}

/* Parses one record and sends its upsert. Returns false when Redis refused. */
static bool send_record(struct job *j, cJSON *obj, size_t line, size_t index, time_t now)
{
    struct dossier d;
    struct dossier_error e;
    if (dossier_from_json(obj, j->ad->deps.catalog, &d, &e) != 0) {
        add_error(j, line, index, record_code(obj), e.field, e.reason);
        return true;
    }
    if (!j->scope[0]) {
        bool sent = send_upsert(j, &d, now, NULL, on_upserted, j);
        dossier_clear(&d);
        return sent;
    }
    if (!commune_same(j->scope, dossier_get(&d, DF_COMMUNE))) {
        add_error(j, line, index, record_code(obj), "commune",
                  "outside the commune this sign-in is limited to");
        dossier_clear(&d);
        return true;
    }
    return send_scoped(j, &d, line, index, now); /* d now belongs to the scoped record */
}

static void on_slice(uv_timer_t *t)
{
    struct job *j = t->data;
    j->scheduled = false;
    if (j->store_down || j->ad->closed || !store_connected(j->ad->deps.store)) {
        j->store_down = true;
        advance(j);
        return;
    }
    time_t now = (time_t)clock_now();
    for (int n = 0; n < ADMIN_DOSSIERS_SLICE; n++) {
        cJSON *obj;
        size_t line, index;
        const char *err;
        if (record_reader_next(&j->rd, &obj, &line, &index, &err) == 0)
            break;
        bool sent = obj ? send_record(j, obj, line, index, now) : true;
        if (!obj)
            add_error(j, line, index, NULL, "", err);
        cJSON_Delete(obj);
        if (!sent)
            break;
    }
    advance(j);
}

static int body_format(const struct http_request *req, enum record_format *f)
{
    const char *ct = http_request_header(req, "Content-Type");
    if (ct && strncasecmp(ct, "text/csv", 8) == 0) {
        *f = RECORD_CSV;
        return 0;
    }
    *f = record_format_guess(req->body.data ? req->body.data : "", req->body.len);
    return *f == RECORD_CSV ? -1 : 0;
}

void admin_dossiers_handle(struct http_request *req, void *ud)
{
    struct admin_dossiers *ad = ud;
    req->route = "admin_dossiers";
    if (!admin_auth_check(req, ad->deps.cfg->admin_tokens))
        return;
    enum record_format format;
    if (body_format(req, &format) != 0) {
        http_respond_error(req, 400, "body must be a JSON array or NDJSON of dossier records, "
                                     "or CSV with Content-Type: text/csv");
        return;
    }
    if (!store_connected(ad->deps.store)) {
        http_respond_error(req, 503, "store unavailable");
        return;
    }
    struct job *j = xcalloc(1, sizeof *j);
    j->ad = ad;
    j->req = req;
    j->start_ns = uv_hrtime();
    const struct admin_principal *who = admin_auth_principal(req);
    snprintf(j->scope, sizeof j->scope, "%s", who ? who->commune : "");
    buf_init(&j->errors);
    record_reader_init(&j->rd, req->body.data ? req->body.data : "", req->body.len, format);
    if (uv_timer_init(ad->deps.loop, &j->timer) != 0) {
        free(j);
        http_respond_error(req, 503, "cannot start the batch");
        return;
    }
    j->timer.data = j;
    ad->jobs++;
    advance(j);
}

struct admin_dossiers *admin_dossiers_new(const struct admin_dossiers_deps *deps)
{
    struct admin_dossiers *ad = xcalloc(1, sizeof *ad);
    ad->deps = *deps;
    metrics_declare("dvcbot_dossiers_ingested_total", METRIC_COUNTER,
                    "Dossier records received by the staff API, by result.", NULL, 0);
    return ad;
}

void admin_dossiers_free(struct admin_dossiers *ad)
{
    if (!ad)
        return;
    ad->closed = true;
    if (ad->jobs == 0)
        free(ad);
}
