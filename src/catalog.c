/* catalog — load and validate intents/_catalog.tsv and intents/<id>.json. */
#include "dvcbot/catalog.h"
#include "dvcbot/buf.h"
#include "dvcbot/file.h"
#include "dvcbot/mem.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/procedure_groups.h"
#include "dvcbot/strmap.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct extra {
    char *name;   /* without "_" and ".json" */
    cJSON *json;
};

struct catalog {
    struct intent *items;   /* in manifest order */
    size_t n;
    struct strmap index;    /* id -> its index + 1 (looked up several times per message) */
    struct extra *extras;
    size_t n_extras;
    struct procedure_groups *groups; /* NULL: no _groups.json */
    uint64_t digest;        /* catalog_digest */
};

/* What a procedure file owns besides its JSON: the arrays of pointers. */
struct proc_storage {
    struct procedure_info info;
    const char **documents;
    const char **steps;
    struct fee_period *fee_periods;
};

struct loader {
    const char *dir;
    struct problems pb;
    uint64_t digest; /* sum of each file's hash (catalog_digest): any order */
};

/* FNV-1a 64 of a file's name and bytes. */
static void digest_file(struct loader *ld, const char *file, const char *text, size_t len)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)file; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    h = (h ^ 0xff) * 1099511628211u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211u;
    ld->digest += h;
}

void problemf(struct problems *p, const char *file, const char *field, const char *fmt, ...)
{
    struct buf b;
    va_list ap;
    buf_init(&b);
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    p->count++;
    p->report(p->ud, file, field, buf_cstr(&b));
    buf_free(&b);
}

/* ===== Kinds ===== */

static const char *const kind_names[] = {"procedure", "action", "chat", "fallback"};

const char *catalog_kind_name(enum intent_kind kind)
{
    return (unsigned)kind < 4 ? kind_names[kind] : "unknown";
}

static int kind_from_name(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

bool catalog_valid_id(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

const char *catalog_reply_name(const cJSON *obj)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "reply");
    return cJSON_IsString(r) && catalog_valid_id(r->valuestring, CATALOG_ID_MAX) ? r->valuestring : NULL;
}

/* ===== Procedure facts ===== */

enum field_type { F_STR, F_STR_ARRAY, F_LONG, F_BOOL, F_LEVEL, F_ONLINE, F_URL, F_DATE, F_CODE };

static const struct {
    const char *name;
    enum field_type type;
    bool required;
} proc_fields[] = {
    {"audience", F_STR, true},
    {"documents", F_STR_ARRAY, true},
    {"fee_vnd", F_LONG, true},
    {"fee_text", F_STR, true},
    {"fee_online_reduced", F_BOOL, true},
    {"processing_time", F_STR, true},
    {"agency", F_STR, true},
    {"level", F_LEVEL, true},
    {"online", F_ONLINE, true},
    {"portal_url", F_URL, true},
    {"portal_code", F_CODE, false},
    {"steps", F_STR_ARRAY, true},
    {"legal_basis", F_STR, true},
    {"source", F_STR, true},
    {"notes", F_STR, false},
    {"opening", F_STR, false},
    {"online_note", F_STR, false},
    {"last_reviewed", F_DATE, true},
};

static bool nonempty_string(const cJSON *j)
{
    return cJSON_IsString(j) && j->valuestring && j->valuestring[0];
}

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* A code of the national procedure database: "1.001193" (digit, dot, 6 digits). */
static bool valid_portal_code(const char *s)
{
    if (strlen(s) != 8 || s[0] < '1' || s[0] > '9' || s[1] != '.')
        return false;
    for (size_t i = 2; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool valid_date(const char *s)
{
    static const char shape[] = "dddd-dd-dd";
    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
            return false;
    int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* Returns NULL when v fits type, else the reason. */
static const char *field_problem(const cJSON *v, enum field_type type)
{
    static const char *const levels[] = {"xa", "tinh", "cong_an", "bhxh", NULL};
    static const char *const onlines[] = {"toan_trinh", "mot_phan", "truc_tiep", NULL};
    switch (type) {
    case F_STR:
        return nonempty_string(v) ? NULL : "must be a non-empty string";
    case F_STR_ARRAY: {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
            return "must be a non-empty array of strings";
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
            if (!nonempty_string(e))
                return "every item must be a non-empty string";
        return NULL;
    }
    case F_LONG:
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble ||
            v->valuedouble < -1)
            return "must be an integer >= -1 (-1: varies, see fee_text)";
        return NULL;
    case F_BOOL:
        return cJSON_IsBool(v) ? NULL : "must be true or false";
    case F_LEVEL:
        return nonempty_string(v) && one_of(v->valuestring, levels)
                   ? NULL : "must be one of xa, tinh, cong_an, bhxh";
    case F_ONLINE:
        return nonempty_string(v) && one_of(v->valuestring, onlines)
                   ? NULL : "must be toan_trinh, mot_phan or truc_tiep";
    case F_URL:
        return nonempty_string(v) && strncmp(v->valuestring, "https://dichvucong.gov.vn", 25) == 0
                   ? NULL : "must be a https://dichvucong.gov.vn address";
    case F_DATE:
        return nonempty_string(v) && valid_date(v->valuestring) ? NULL : "must be YYYY-MM-DD";
    case F_CODE:
        return nonempty_string(v) && valid_portal_code(v->valuestring)
                   ? NULL : "must be a national procedure code like 1.001193";
    }
    return "unknown field type";
}

static const char **string_array(const cJSON *arr, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(arr);
    const char **out = xcalloc(*n, sizeof *out);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
        out[i++] = e->valuestring;
    return out;
}

static const char *opt_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return nonempty_string(v) ? v->valuestring : NULL;
}

static void fill_proc(struct proc_storage *ps, const cJSON *p)
{
    struct procedure_info *pi = &ps->info;
    pi->audience = opt_string(p, "audience");
    ps->documents = string_array(cJSON_GetObjectItemCaseSensitive(p, "documents"), &pi->n_documents);
    pi->documents = ps->documents;
    pi->fee_text = opt_string(p, "fee_text");
    pi->fee_vnd = (long)cJSON_GetObjectItemCaseSensitive(p, "fee_vnd")->valuedouble;
    pi->fee_online_reduced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "fee_online_reduced"));
    pi->processing_time = opt_string(p, "processing_time");
    pi->agency = opt_string(p, "agency");
    pi->level = opt_string(p, "level");
    pi->online = opt_string(p, "online");
    pi->portal_url = opt_string(p, "portal_url");
    pi->portal_code = opt_string(p, "portal_code");
    ps->steps = string_array(cJSON_GetObjectItemCaseSensitive(p, "steps"), &pi->n_steps);
    pi->steps = ps->steps;
    pi->legal_basis = opt_string(p, "legal_basis");
    pi->source = opt_string(p, "source");
    pi->notes = opt_string(p, "notes");
    pi->opening = opt_string(p, "opening");
    pi->online_note = opt_string(p, "online_note");
    pi->last_reviewed = opt_string(p, "last_reviewed");
    ps->fee_periods = procedure_fee_read(p, pi, &pi->n_fee_periods);
    pi->fee_periods = ps->fee_periods;
}

/* Validates the "procedure" section; fills *in->proc when it is sound. */
static void load_procedure(struct loader *ld, const char *file, const cJSON *root, struct intent *in)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "procedure");
    if (!cJSON_IsObject(p)) {
        problemf(&ld->pb, file, "procedure", "missing object (required for kind procedure)");
        return;
    }
    bool ok = true;
    char field[64];
    for (size_t i = 0; i < sizeof proc_fields / sizeof proc_fields[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, proc_fields[i].name);
        snprintf(field, sizeof field, "procedure.%s", proc_fields[i].name);
        if (!v) {
            if (proc_fields[i].required) {
                problemf(&ld->pb, file, field, "missing");
                ok = false;
            }
            continue;
        }
        const char *why = field_problem(v, proc_fields[i].type);
        if (why) {
            problemf(&ld->pb, file, field, "%s", why);
            ok = false;
        }
    }
    if (!procedure_fee_check(p, file, &ld->pb) || !ok)
        return;
    struct proc_storage *ps = xcalloc(1, sizeof *ps);
    fill_proc(ps, p);
    in->proc = &ps->info;
}

static void free_proc(const struct procedure_info *pi)
{
    /* info is the first member of proc_storage. */
    struct proc_storage *ps = (struct proc_storage *)(uintptr_t)pi;
    if (!ps)
        return;
    free(ps->documents);
    free(ps->steps);
    free(ps->fee_periods);
    free(ps);
}

/* ===== One intent file ===== */

static cJSON *parse_file(struct loader *ld, const char *file)
{
    struct buf path;
    buf_init(&path);
    buf_printf(&path, "%s/%s", ld->dir, file);
    size_t len;
    char *text = file_read(path.data, &len);
    buf_free(&path);
    if (!text) {
        problemf(&ld->pb, file, "", "cannot read: %s", strerror(errno));
        return NULL;
    }
    digest_file(ld, file, text, len);
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "invalid JSON near byte %ld", at ? (long)(at - text) : -1L);
        problemf(&ld->pb, file, "", "%s", b.data);
        buf_free(&b);
    }
    free(text);
    return root;
}

static void check_string_field(struct loader *ld, const char *file, const cJSON *root,
                               const char *key, const char *want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!nonempty_string(v))
        problemf(&ld->pb, file, key, "missing or not a non-empty string");
    else if (want && strcmp(v->valuestring, want) != 0)
        problemf(&ld->pb, file, key, "must be \"%s\" (as in _catalog.tsv)", want);
}

/* The optional "reply": the template that answers a chat, action or
 * fallback intent (procedures are answered by their facts). */
static void load_reply(struct loader *ld, const char *file, const cJSON *root, struct intent *in)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "reply");
    if (!v)
        return;
    if (in->kind == INTENT_PROCEDURE)
        problemf(&ld->pb, file, "reply", "a procedure is answered by its facts, not a template");
    else if (!nonempty_string(v) || !catalog_valid_id(v->valuestring, CATALOG_ID_MAX))
        problemf(&ld->pb, file, "reply", "must be a template name (a-z, 0-9, _)");
    else
        in->reply = v->valuestring;
}

/* A file answered by a reply template says where its facts come from:
 * "source" (which text was checked, or that none was found) and
 * "last_reviewed" (YYYY-MM-DD), as a procedure's facts do. Required of an
 * action answered by a reply template (its screens state facts: how to get
 * a VNeID account, office hours); a chat reply (greeting, thanks) may leave
 * them out; checked when present; a procedure keeps them in "procedure". */
static void check_reply_source(struct loader *ld, const char *file, const cJSON *root,
                               const struct intent *in)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    const cJSON *day = cJSON_GetObjectItemCaseSensitive(root, "last_reviewed");
    if ((src || day) && in->kind == INTENT_PROCEDURE)
        problemf(&ld->pb, file, src ? "source" : "last_reviewed", "a procedure has it in \"procedure\"");
    if (src && !nonempty_string(src))
        problemf(&ld->pb, file, "source", "must be a non-empty string");
    if (day && (!cJSON_IsString(day) || !valid_date(day->valuestring)))
        problemf(&ld->pb, file, "last_reviewed", "must be a date YYYY-MM-DD");
    if (day && !src)
        problemf(&ld->pb, file, "last_reviewed", "without a \"source\"");
    if (!src && in->kind == INTENT_ACTION && in->reply)
        problemf(&ld->pb, file, "source", "missing: an action answered by a reply template states "
                 "facts; say which legal or official text they were checked against (and "
                 "\"last_reviewed\")");
}

/* Loads <id>.json into in (whose id is already set). Returns false when the
 * file could not be parsed at all; other problems are only reported. */
static bool load_intent(struct loader *ld, struct intent *in, int kind)
{
    char file[128];
    snprintf(file, sizeof file, "%s.json", in->id);
    cJSON *root = parse_file(ld, file);
    if (!root)
        return false;
    in->json = root; /* owned by the catalog from here on */
    in->kind = (enum intent_kind)kind;
    if (!cJSON_IsObject(root)) {
        problemf(&ld->pb, file, "", "top level must be an object");
        return false;
    }
    check_string_field(ld, file, root, "id", in->id);
    check_string_field(ld, file, root, "kind", kind_names[kind]);
    check_string_field(ld, file, root, "name", NULL);
    check_string_field(ld, file, root, "short_name", NULL);
    in->name = opt_string(root, "name");
    in->short_name = opt_string(root, "short_name");
    if (in->short_name && strlen(in->short_name) > CATALOG_SHORT_NAME_MAX)
        problemf(&ld->pb, file, "short_name", "longer than 40 bytes (it is a button label)");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "match")))
        problemf(&ld->pb, file, "match", "missing object");
    if (kind == INTENT_PROCEDURE)
        load_procedure(ld, file, root, in);
    else if (cJSON_GetObjectItemCaseSensitive(root, "procedure"))
        problemf(&ld->pb, file, "procedure", "only files of kind procedure have one");
    load_reply(ld, file, root, in);
    check_reply_source(ld, file, root, in);
    return true;
}

/* ===== The manifest ===== */

/* Parses _catalog.tsv into cat->items (ids only). */
static void load_manifest(struct loader *ld, struct catalog *cat)
{
    struct buf path;
    buf_init(&path);
    buf_printf(&path, "%s/%s", ld->dir, CATALOG_MANIFEST);
    size_t len;
    char *text = file_read(path.data, &len);
    buf_free(&path);
    if (!text) {
        problemf(&ld->pb, CATALOG_MANIFEST, "", "cannot read: %s", strerror(errno));
        return;
    }
    digest_file(ld, CATALOG_MANIFEST, text, len);
    size_t cap = 0;
    bool fallback = false;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (*line == '#' || *line == '\0' || *line == '\r')
            continue;
        char *id = line, *kind = strchr(line, '\t');
        char *end = kind ? strchr(kind + 1, '\t') : NULL;
        if (!kind || !end) {
            problemf(&ld->pb, CATALOG_MANIFEST, "", "line without id<TAB>kind<TAB>name");
            continue;
        }
        *kind++ = '\0';
        *end = '\0';
        int k = kind_from_name(kind);
        if (!catalog_valid_id(id, CATALOG_ID_MAX) || k < 0) {
            problemf(&ld->pb, CATALOG_MANIFEST, "", "bad id or kind on the line of '%s'", id);
            continue;
        }
        if (catalog_index(cat, id) >= 0) {
            problemf(&ld->pb, CATALOG_MANIFEST, "", "id '%s' listed twice", id);
            continue;
        }
        if (cat->n == cap) {
            cap = cap ? cap * 2 : 32;
            cat->items = xrealloc(cat->items, cap * sizeof *cat->items);
        }
        struct intent *in = &cat->items[cat->n++];
        memset(in, 0, sizeof *in);
        in->id = xstrdup(id);
        strmap_put(&cat->index, id, (void *)(uintptr_t)cat->n);
        in->kind = (enum intent_kind)k;
        fallback |= strcmp(id, CATALOG_FALLBACK_ID) == 0 && k == INTENT_FALLBACK;
    }
    free(text);
    if (!fallback)
        problemf(&ld->pb, CATALOG_MANIFEST, "", "no fallback id \"khac\"");
}

/* ===== The directory ===== */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void load_extra(struct loader *ld, struct catalog *cat, const char *file)
{
    cJSON *root = parse_file(ld, file);
    if (!root)
        return;
    cat->extras = xrealloc(cat->extras, (cat->n_extras + 1) * sizeof *cat->extras);
    struct extra *e = &cat->extras[cat->n_extras++];
    e->name = xstrndup(file + 1, strlen(file) - 6);
    e->json = root;
}

/* Loads the "_*.json" files and flags any other .json not in the manifest. */
static void scan_dir(struct loader *ld, struct catalog *cat)
{
    DIR *d = opendir(ld->dir);
    if (!d) {
        problemf(&ld->pb, "", "", "cannot open intents dir: %s", strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        if (f[0] == '.' || !ends_with(f, ".json"))
            continue;
        if (f[0] == '_') {
            load_extra(ld, cat, f);
            continue;
        }
        char id[128];
        snprintf(id, sizeof id, "%.*s", (int)(strlen(f) - 5), f);
        if (catalog_index(cat, id) < 0)
            problemf(&ld->pb, f, "", "id not listed in _catalog.tsv");
    }
    closedir(d);
}

struct catalog *catalog_load_report(const char *dir, catalog_report_fn report, void *ud)
{
    struct loader ld = {.dir = dir, .pb = {.report = report, .ud = ud}};
    struct catalog *cat = xcalloc(1, sizeof *cat);
    strmap_init(&cat->index);
    load_manifest(&ld, cat);
    for (size_t i = 0; i < cat->n; i++)
        load_intent(&ld, &cat->items[i], (int)cat->items[i].kind);
    scan_dir(&ld, cat);
    if (!ld.pb.count)
        cat->groups = procedure_groups_load(cat, catalog_extra(cat, "groups"), &ld.pb);
    if (ld.pb.count) {
        catalog_free(cat);
        return NULL;
    }
    cat->digest = ld.digest;
    return cat;
}

void catalog_report_keep_first(void *ud, const char *file, const char *field, const char *reason)
{
    char **err = ud;
    if (*err)
        return;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "intents/%s%s%s: %s", file, *field ? ": " : "", field, reason);
    *err = buf_steal(&b);
}

struct catalog *catalog_load(const char *dir, char **err)
{
    *err = NULL;
    struct catalog *cat = catalog_load_report(dir, catalog_report_keep_first, err);
    if (cat) {
        free(*err);
        *err = NULL;
    }
    return cat;
}

void catalog_free(struct catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->n; i++) {
        free((char *)(uintptr_t)cat->items[i].id);
        free_proc(cat->items[i].proc);
        cJSON_Delete((cJSON *)(uintptr_t)cat->items[i].json);
    }
    free(cat->items);
    strmap_free(&cat->index);
    for (size_t i = 0; i < cat->n_extras; i++) {
        free(cat->extras[i].name);
        cJSON_Delete(cat->extras[i].json);
    }
    free(cat->extras);
    procedure_groups_free(cat->groups);
    free(cat);
}

/* ===== Lookups ===== */

uint64_t catalog_digest(const struct catalog *cat)
{
    return cat->digest;
}

int catalog_index(const struct catalog *cat, const char *id)
{
    return (int)(uintptr_t)strmap_get(&cat->index, id) - 1;
}

const struct intent *catalog_find(const struct catalog *cat, const char *id)
{
    int i = catalog_index(cat, id);
    return i < 0 ? NULL : &cat->items[i];
}

size_t catalog_size(const struct catalog *cat)
{
    return cat->n;
}

const struct intent *catalog_at(const struct catalog *cat, size_t i)
{
    return i < cat->n ? &cat->items[i] : NULL;
}

const cJSON *catalog_extra(const struct catalog *cat, const char *name)
{
    for (size_t i = 0; i < cat->n_extras; i++)
        if (strcmp(cat->extras[i].name, name) == 0)
            return cat->extras[i].json;
    return NULL;
}

const struct procedure_groups *catalog_groups(const struct catalog *cat)
{
    return cat->groups;
}
