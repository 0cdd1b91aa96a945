/* upload_texts — the Vietnamese of dossier-file problems, from one file. */
#include "dvcbot/upload_texts.h"
#include "dvcbot/buf.h"
#include "dvcbot/file.h"
#include "dvcbot/mem.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct upload_texts {
    char *text;
    cJSON *root;
    const cJSON *fields, *reasons, *messages, *os_errors;
};

/* The messages `dvcbot import` prints: each must be in the file. */
static const char *const import_keys[] = {
    "usage", "problem", "problem_row", "more_problems", "summary", "cannot_read", "no_catalog",
    "bad_redis_url", "no_redis", "redis_refused", "no_library", "library_refused",
    "upsert_failed", "redis_lost", "bad_config", "os_other",
};

static bool all_strings(const cJSON *obj)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, obj) {
        if (!cJSON_IsString(e))
            return false;
    }
    return true;
}

/* An array of [English start, Vietnamese] pairs. */
static bool pairs(const cJSON *a)
{
    if (!cJSON_IsArray(a))
        return false;
    const cJSON *r;
    cJSON_ArrayForEach(r, a) {
        if (cJSON_GetArraySize(r) != 2 || !all_strings(r) || !cJSON_GetArrayItem(r, 0)->valuestring[0])
            return false;
    }
    return true;
}

static const char *check(const struct upload_texts *t)
{
    if (!cJSON_IsObject(t->fields) || !all_strings(t->fields))
        return "\"fields\" must map each field to its name";
    if (!pairs(t->reasons))
        return "\"reasons\" must be an array of [\"<start of the English reason>\", \"<Vietnamese>\"]";
    if (!pairs(t->os_errors))
        return "\"os_errors\" must be an array of [\"<start of the English error>\", \"<Vietnamese>\"]";
    if (!cJSON_IsObject(t->messages) || !all_strings(t->messages))
        return "\"import\" must map each message to its text";
    for (size_t i = 0; i < sizeof import_keys / sizeof import_keys[0]; i++)
        if (!cJSON_GetObjectItemCaseSensitive(t->messages, import_keys[i]))
            return "an \"import\" message is missing";
    return NULL;
}

struct upload_texts *upload_texts_load(const char *data_dir, char **err)
{
    struct buf pb;
    buf_init(&pb);
    buf_printf(&pb, "%s/%s", data_dir, UPLOAD_TEXTS_FILE);
    char *path = buf_steal(&pb);
    struct upload_texts *t = xcalloc(1, sizeof *t);
    size_t len;
    t->text = file_read_explained(path, &len, err);
    if (!t->text)
        goto fail;
    t->root = cJSON_ParseWithLength(t->text, len);
    t->fields = cJSON_GetObjectItemCaseSensitive(t->root, "fields");
    t->reasons = cJSON_GetObjectItemCaseSensitive(t->root, "reasons");
    t->messages = cJSON_GetObjectItemCaseSensitive(t->root, "import");
    t->os_errors = cJSON_GetObjectItemCaseSensitive(t->root, "os_errors");
    const char *why = t->root ? check(t) : "not valid JSON";
    if (why) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "%s: %s", path, why);
        *err = buf_steal(&b);
        goto fail;
    }
    free(path);
    return t;
fail:
    free(path);
    upload_texts_free(t);
    return NULL;
}

void upload_texts_free(struct upload_texts *t)
{
    if (!t)
        return;
    cJSON_Delete(t->root);
    free(t->text);
    free(t);
}

const char *upload_texts_field(const struct upload_texts *t, const char *field)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(t->fields, field);
    return cJSON_IsString(name) ? name->valuestring : field;
}

/* The Vietnamese of the first pair whose English start english begins with, or NULL. */
static const char *pair_of(const cJSON *pairs, const char *english)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, pairs) {
        const char *start = cJSON_GetArrayItem(r, 0)->valuestring;
        if (strncmp(english, start, strlen(start)) == 0)
            return cJSON_GetArrayItem(r, 1)->valuestring;
    }
    return NULL;
}

const char *upload_texts_reason(const struct upload_texts *t, const char *reason)
{
    const char *vi = pair_of(t->reasons, reason);
    return vi ? vi : reason;
}

const char *upload_texts_os_error(const struct upload_texts *t, const char *error)
{
    const char *vi = pair_of(t->os_errors, error);
    if (vi)
        return vi;
    const cJSON *other = cJSON_GetObjectItemCaseSensitive(t->messages, "os_other");
    return other->valuestring; /* checked at load */
}

char *upload_texts_say(const struct upload_texts *t, const char *key, const struct tpl_var *vars,
                       size_t n)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(t->messages, key);
    const char *p = cJSON_IsString(m) ? m->valuestring : key;
    struct buf b;
    buf_init(&b);
    while (*p) {
        const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
        if (!close) {
            buf_puts(&b, p);
            break;
        }
        buf_append(&b, p, (size_t)(open - p));
        size_t len = (size_t)(close - open - 2);
        for (size_t i = 0; i < n; i++)
            if (strlen(vars[i].name) == len && strncmp(vars[i].name, open + 2, len) == 0)
                buf_puts(&b, vars[i].value ? vars[i].value : "");
        p = close + 2;
    }
    return buf_steal(&b);
}

const char *upload_texts_json(const struct upload_texts *t)
{
    return t->text;
}
