/* cmd_import — `dvcbot import [--csv|--json] FILE`: load a dossier export
 * (JSON array, NDJSON, or CSV with a header row) into Redis.
 *
 * For staff who have a file from the provincial system rather than a system
 * that calls POST /admin/dossiers. Records are checked exactly as the API
 * checks them and stored with the same upsert script (so status changes
 * reach subscribers through dossier:changes once `dvcbot serve` runs). A CLI
 * may block: hiredis is used synchronously, pipelined IMPORT_BATCH records
 * at a time. Everything it says is Vietnamese, from upload_texts.h (the
 * file the console's upload answer is read with; two built-in lines for when
 * that file cannot be read, NO_TEXTS*): problems go to stderr as
 * "dòng N: <field>: <reason> (chi tiết: <English reason>)", the summary to
 * stdout. Exit status: 0 all stored, 1 some records invalid or not stored,
 * 2 usage, 3 the file, the texts, the catalog or Redis could not be opened. */
#include "dvcbot/catalog.h"
#include "dvcbot/clock.h"
#include "dvcbot/commands.h"
#include "dvcbot/config.h"
#include "dvcbot/dossier.h"
#include "dvcbot/file.h"
#include "dvcbot/record_reader.h"
#include "dvcbot/redis_library.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/store.h"
#include "dvcbot/upload_texts.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IMPORT_BATCH 1000
#define IMPORT_MAX_PRINTED 1000

struct import {
    struct config cfg;
    struct upload_texts *tx;
    struct catalog *cat;
    redisContext *rc;
    size_t created, updated, unchanged, invalid, failed, printed;
};

/* Prints the message key of the texts, {{name}}s from the {name, value} pairs. */
#define SAY(im, f, key, ...) \
    say((im), (f), (key), (const struct tpl_var[]){__VA_ARGS__}, \
        sizeof((const struct tpl_var[]){__VA_ARGS__}) / sizeof(struct tpl_var))

static void say(const struct import *im, FILE *f, const char *key, const struct tpl_var *vars,
                size_t n)
{
    char *text = upload_texts_say(im->tx, key, vars, n);
    fprintf(f, "%s\n", text);
    free(text);
}

static void problem(struct import *im, size_t line, const char *field, const char *reason)
{
    if (im->printed++ >= IMPORT_MAX_PRINTED)
        return;
    char n[24];
    snprintf(n, sizeof n, "%zu", line);
    SAY(im, stderr, *field ? "problem" : "problem_row", {"line", n},
        {"field", upload_texts_field(im->tx, field)},
        {"reason", upload_texts_reason(im->tx, reason)}, {"detail", reason});
}

static redisContext *connect_redis(struct import *im, const char *url)
{
    char *host, *path;
    int port, db;
    if (store_parse_url(url, &host, &port, &path, &db) != 0) {
        say(im, stderr, "bad_redis_url", NULL, 0);
        return NULL;
    }
    struct timeval tv = {5, 0};
    redisContext *c = path ? redisConnectUnixWithTimeout(path, tv) : redisConnectWithTimeout(host, port, tv);
    free(host);
    free(path);
    if (!c || c->err) {
        const char *why = c ? c->errstr : "out of memory";
        SAY(im, stderr, "no_redis", {"error", upload_texts_os_error(im->tx, why)}, {"detail", why});
        redisFree(c);
        return NULL;
    }
    redisReply *r = db ? redisCommand(c, "SELECT %d", db) : redisCommand(c, "PING");
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    freeReplyObject(r);
    if (!ok) {
        say(im, stderr, "redis_refused", NULL, 0);
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Reads the replies of n pipelined upserts. Returns -1 when the connection broke. */
static int collect(struct import *im, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        void *reply = NULL;
        if (redisGetReply(im->rc, &reply) != REDIS_OK) {
            im->failed += n - i;
            return -1;
        }
        enum dossier_outcome o;
        bool changed;
        if (dossier_upsert_result(reply, NULL, &o, &changed, NULL) != 0) {
            redisReply *r = reply;
            if (im->failed++ == 0)
                SAY(im, stderr, "upsert_failed",
                    {"error", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"});
        } else {
            im->created += o == DOSSIER_CREATED;
            im->updated += o == DOSSIER_UPDATED;
            im->unchanged += o == DOSSIER_UNCHANGED;
        }
        freeReplyObject(reply);
    }
    return 0;
}

/* Appends one record's upsert to the pipeline. Returns true when queued. */
static bool queue_record(struct import *im, cJSON *obj, size_t line, time_t now)
{
    struct dossier d;
    struct dossier_error e;
    if (dossier_from_json(obj, im->cat, &d, &e) != 0) {
        im->invalid++;
        problem(im, line, e.field, e.reason);
        return false;
    }
    struct dossier_upsert u;
    dossier_upsert_prepare(&d, now, NULL, &u);
    const char *argv[REDIS_SCRIPT_MAX_ARGS + 3];
    size_t lens[REDIS_SCRIPT_MAX_ARGS + 3];
    char nk[12];
    int argc = redis_fcall_argv("dossier_upsert", u.nkeys, u.argc, u.argv, u.lens, nk, argv, lens);
    bool ok = argc > 0 && redisAppendCommandArgv(im->rc, argc, argv, lens) == REDIS_OK;
    dossier_clear(&d);
    if (!ok)
        im->failed++;
    return ok;
}

/* Loads the library unless Redis holds a newer one (redis_library.h). */
static bool load_library(const struct import *im, redisContext *rc, const char *lib)
{
    redisReply *v = redisCommand(rc, REDIS_LIBRARY_VERSION_CALL);
    bool load = redis_library_should_load(v, redis_library_version(lib));
    freeReplyObject(v);
    if (!load)
        return true;
    redisReply *r = redisCommand(rc, "FUNCTION LOAD REPLACE %s", lib);
    bool loaded = r && r->type == REDIS_REPLY_STRING;
    if (!loaded)
        SAY(im, stderr, "library_refused",
            {"error", r && r->type == REDIS_REPLY_ERROR ? r->str : "no reply"});
    freeReplyObject(r);
    return loaded;
}

static int run(struct import *im, const char *data, size_t len, enum record_format format)
{
    char *err = NULL, *lib = redis_library_read(im->cfg.data_dir, &err);
    if (!lib) {
        SAY(im, stderr, "no_library", {"error", err});
        free(err);
        return 3;
    }
    bool loaded = load_library(im, im->rc, lib);
    free(lib);
    if (!loaded)
        return 3;
    struct record_reader rd;
    record_reader_init(&rd, data, len, format);
    time_t now = (time_t)clock_now();
    size_t queued = 0;
    int broke = 0;
    for (;;) {
        cJSON *obj;
        size_t line, index;
        const char *err;
        int got = record_reader_next(&rd, &obj, &line, &index, &err);
        if (got && !obj) {
            im->invalid++;
            problem(im, line, "", err);
        } else if (got) {
            queued += queue_record(im, obj, line, now);
            cJSON_Delete(obj);
        }
        if ((!got || queued == IMPORT_BATCH) && queued) {
            broke = collect(im, queued);
            queued = 0;
        }
        if (!got || broke)
            break;
    }
    size_t received = rd.record;
    record_reader_free(&rd);
    if (broke)
        SAY(im, stderr, "redis_lost", {"error", upload_texts_os_error(im->tx, im->rc->errstr)},
            {"detail", im->rc->errstr});
    char more[24], counts[7][24];
    snprintf(more, sizeof more, "%zu", im->printed - IMPORT_MAX_PRINTED);
    if (im->printed > IMPORT_MAX_PRINTED)
        SAY(im, stderr, "more_problems", {"count", more});
    const size_t values[7] = {received, im->created + im->updated + im->unchanged, im->created,
                              im->updated, im->unchanged, im->invalid, im->failed};
    for (size_t k = 0; k < 7; k++)
        snprintf(counts[k], sizeof counts[k], "%zu", values[k]);
    SAY(im, stdout, "summary", {"received", counts[0]}, {"stored", counts[1]},
        {"created", counts[2]}, {"updated", counts[3]}, {"unchanged", counts[4]},
        {"invalid", counts[5]}, {"failed", counts[6]});
    return im->invalid || im->failed ? 1 : 0;
}

static int usage(const struct import *im)
{
    say(im, stderr, "usage", NULL, 0);
    return 2;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int open_all(struct import *im)
{
    char *dir = config_data_path(&im->cfg, "intents"), *err = NULL;
    im->cat = catalog_load(dir, &err);
    free(dir);
    if (!im->cat) {
        SAY(im, stderr, "no_catalog", {"error", err ? err : "unknown error"});
        free(err);
        return -1;
    }
    im->rc = connect_redis(im, im->cfg.redis_url);
    return im->rc ? 0 : -1;
}

/* The only words of import not in upload_texts.json: said when that file
 * cannot be read (%s: the English reason, kept to search for). */
#define NO_TEXTS "không đọc được tệp câu chữ của lệnh import, chưa nhập gì; kiểm tra thư mục" \
                 " DVCBOT_DATA_DIR (cần có " UPLOAD_TEXTS_FILE ") rồi chạy lại (chi tiết: %s)"
#define NO_TEXTS_BAD_CONFIG "cấu hình (biến môi trường) không đúng, chưa nhập gì; sửa biến được nêu rồi" \
                            " chạy lại (chi tiết: %s)"

int cmd_import(int argc, char **argv)
{
    struct import im;
    memset(&im, 0, sizeof im);
    const char *cfg_err = NULL;
    char *data = NULL, *err = NULL;
    int status = 3;
    /* The texts are found through the configuration; a configuration error
     * (it names the environment variable) is said from the texts of
     * DVCBOT_DATA_DIR as set. A missing or broken texts file leaves nothing
     * to say it with: the built-in lines above, the English after them. */
    if (config_load(&im.cfg, &cfg_err) != 0) {
        const char *dir = getenv("DVCBOT_DATA_DIR");
        im.tx = upload_texts_load(dir && dir[0] ? dir : ".", &err);
        if (im.tx)
            SAY(&im, stderr, "bad_config", {"error", cfg_err ? cfg_err : "invalid configuration"});
        else
            fprintf(stderr, NO_TEXTS_BAD_CONFIG "\n", cfg_err ? cfg_err : "invalid configuration");
        free(err);
        goto out;
    }
    im.tx = upload_texts_load(im.cfg.data_dir, &err);
    if (!im.tx) {
        fprintf(stderr, NO_TEXTS "\n", err);
        free(err);
        goto out;
    }
    int forced = -1, i = 1;
    if (i < argc && strcmp(argv[i], "--csv") == 0) {
        forced = RECORD_CSV;
        i++;
    } else if (i < argc && strcmp(argv[i], "--json") == 0) {
        forced = RECORD_NDJSON;
        i++;
    }
    if (i != argc - 1) {
        status = usage(&im);
        goto out;
    }
    const char *path = strcmp(argv[i], "-") == 0 ? "/dev/stdin" : argv[i];
    size_t len;
    data = file_read(path, &len);
    if (!data) {
        const char *why = strerror(errno);
        SAY(&im, stderr, "cannot_read", {"file", argv[i]}, {"error", upload_texts_os_error(im.tx, why)},
            {"detail", why});
        goto out;
    }
    enum record_format format = record_format_guess(data, len);
    if (forced == RECORD_CSV || (forced < 0 && ends_with(path, ".csv")))
        format = RECORD_CSV;
    else if (forced == RECORD_NDJSON && format == RECORD_CSV)
        format = RECORD_NDJSON; /* --json: never read it as CSV */
    if (open_all(&im) == 0)
        status = run(&im, data, len, format);
out:
    if (im.rc)
        redisFree(im.rc);
    catalog_free(im.cat);
    upload_texts_free(im.tx);
    config_free(&im.cfg);
    free(data);
    return status;
}
