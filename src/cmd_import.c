/* cmd_import — `dvcbot import [--csv|--json] FILE`: load a dossier export
 * (JSON array, NDJSON, or CSV with a header row) into Redis.
 *
 * For staff who have a file from the provincial system rather than a system
 * that calls POST /admin/dossiers. Records are checked exactly as the API
 * checks them and stored with the same upsert script (so status changes
 * reach subscribers through dossier:changes once `dvcbot serve` runs). A CLI
 * may block: hiredis is used synchronously, pipelined IMPORT_BATCH records
 * at a time. Problems go to stderr as "line N: field: reason"; the summary
 * to stdout. Exit status: 0 all stored, 1 some records invalid or not stored,
 * 2 usage, 3 the file, the catalog or Redis could not be opened. */
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
    struct catalog *cat;
    redisContext *rc;
    size_t created, updated, unchanged, invalid, failed, printed;
};

static void problem(struct import *im, size_t line, const char *field, const char *reason)
{
    if (im->printed++ < IMPORT_MAX_PRINTED)
        fprintf(stderr, "line %zu: %s%s%s\n", line, field, *field ? ": " : "", reason);
}

static redisContext *connect_redis(const char *url)
{
    char *host, *path;
    int port, db;
    if (store_parse_url(url, &host, &port, &path, &db) != 0) {
        fprintf(stderr, "import: invalid REDIS_URL\n");
        return NULL;
    }
    struct timeval tv = {5, 0};
    redisContext *c = path ? redisConnectUnixWithTimeout(path, tv) : redisConnectWithTimeout(host, port, tv);
    free(host);
    free(path);
    if (!c || c->err) {
        fprintf(stderr, "import: cannot connect to redis: %s\n", c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisReply *r = db ? redisCommand(c, "SELECT %d", db) : redisCommand(c, "PING");
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    freeReplyObject(r);
    if (!ok) {
        fprintf(stderr, "import: redis refused the handshake\n");
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
                fprintf(stderr, "import: upsert failed: %s\n",
                        r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
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
static bool load_library(redisContext *rc, const char *lib)
{
    redisReply *v = redisCommand(rc, REDIS_LIBRARY_VERSION_CALL);
    bool load = redis_library_should_load(v, redis_library_version(lib));
    freeReplyObject(v);
    if (!load)
        return true;
    redisReply *r = redisCommand(rc, "FUNCTION LOAD REPLACE %s", lib);
    bool loaded = r && r->type == REDIS_REPLY_STRING;
    if (!loaded)
        fprintf(stderr, "import: redis refused the function library: %s\n",
                r && r->type == REDIS_REPLY_ERROR ? r->str : "no reply");
    freeReplyObject(r);
    return loaded;
}

static int run(struct import *im, const char *data, size_t len, enum record_format format)
{
    char *err = NULL, *lib = redis_library_read(im->cfg.data_dir, &err);
    if (!lib) {
        fprintf(stderr, "import: %s\n", err);
        free(err);
        return 3;
    }
    bool loaded = load_library(im->rc, lib);
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
        fprintf(stderr, "import: lost the redis connection: %s\n", im->rc->errstr);
    if (im->printed > IMPORT_MAX_PRINTED)
        fprintf(stderr, "import: %zu more problems not shown\n", im->printed - IMPORT_MAX_PRINTED);
    printf("import: received %zu, stored %zu (created %zu, updated %zu, unchanged %zu), "
           "invalid %zu, failed %zu\n",
           received, im->created + im->updated + im->unchanged, im->created, im->updated,
           im->unchanged, im->invalid, im->failed);
    return im->invalid || im->failed ? 1 : 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: dvcbot import [--csv|--json] FILE   (FILE - reads stdin)\n"
                    "  a JSON array or NDJSON of dossier records, or CSV with a header row\n");
    return 2;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int open_all(struct import *im, const char **cfg_err)
{
    if (config_load(&im->cfg, cfg_err) != 0)
        return -1;
    char *dir = config_data_path(&im->cfg, "intents"), *err = NULL;
    im->cat = catalog_load(dir, &err);
    free(dir);
    if (!im->cat) {
        fprintf(stderr, "import: cannot load the catalog: %s\n", err ? err : "unknown error");
        free(err);
        return -1;
    }
    im->rc = connect_redis(im->cfg.redis_url);
    return im->rc ? 0 : -1;
}

int cmd_import(int argc, char **argv)
{
    int forced = -1, i = 1;
    if (i < argc && strcmp(argv[i], "--csv") == 0) {
        forced = RECORD_CSV;
        i++;
    } else if (i < argc && strcmp(argv[i], "--json") == 0) {
        forced = RECORD_NDJSON;
        i++;
    }
    if (i != argc - 1)
        return usage();
    const char *path = strcmp(argv[i], "-") == 0 ? "/dev/stdin" : argv[i];
    size_t len;
    char *data = file_read(path, &len);
    if (!data) {
        fprintf(stderr, "import: cannot read '%s': %s\n", argv[i], strerror(errno));
        return 3;
    }
    enum record_format format = record_format_guess(data, len);
    if (forced == RECORD_CSV || (forced < 0 && ends_with(path, ".csv")))
        format = RECORD_CSV;
    else if (forced == RECORD_NDJSON && format == RECORD_CSV)
        format = RECORD_NDJSON; /* --json: never read it as CSV */

    struct import im;
    memset(&im, 0, sizeof im);
    const char *cfg_err = NULL;
    int status = 3;
    if (open_all(&im, &cfg_err) == 0)
        status = run(&im, data, len, format);
    else if (cfg_err)
        fprintf(stderr, "import: %s\n", cfg_err);
    if (im.rc)
        redisFree(im.rc);
    catalog_free(im.cat);
    config_free(&im.cfg);
    free(data);
    return status;
}
