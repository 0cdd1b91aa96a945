/* commune_list — the 2025 communes and wards, and matching typed names. */
#include "dvcbot/commune_list.h"
#include "dvcbot/buf.h"
#include "dvcbot/commune.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define COMMUNES_EXTRA "communes" /* intents/_communes.json */
#define COMMUNES_FILE "_communes.json" /* as problems name it */
#define FUZZY_MAX 48              /* bytes of a folded name compared by edit distance */
#define LIKELY_MIN 0.45           /* bigram similarity of a likely unit */

/* One way to name a unit: its name today, or an old unit merged into it. */
struct alias {
    char *fkey;                   /* folded, without xã/phường/thị trấn: "hua la" */
    char *akey;                   /* the same with diacritics (lower case NFC) */
    char *squeezed;               /* fkey without spaces, for edit distances */
    const char *type;             /* "xã", "phường", "thị trấn" (folded: "xa", ...) */
    const char *old;              /* NULL for the name of today; else as written */
    size_t unit;
};

struct commune_list {
    struct commune_unit *units;
    size_t n, cap_units;
    char **labels;                /* owned labels ("Đoàn Kết (Lai Châu)") */
    struct alias *aliases;
    size_t n_aliases, cap_aliases;
};

/* ===== Keys ===== */

static const char *const type_words[] = {"xa", "phuong", "thi tran", NULL};
static const char *const accented_types[] = {"xã ", "phường ", "thị trấn ", NULL};

/* Lower case, NFC, with diacritics; ASCII punctuation as single spaces; no
 * leading "xã / phường / thị trấn". Caller frees; NULL for invalid UTF-8. */
static char *accent_key(const char *s)
{
    utf8proc_uint8_t *m = NULL;
    if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &m,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0)
        return NULL;
    char *out = xcalloc(strlen((char *)m) + 1, 1), *o = out;
    for (const unsigned char *p = m; *p; p++) {
        bool keep = *p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
        if (keep)
            *o++ = (char)*p;
        else if (o > out && o[-1] != ' ')
            *o++ = ' ';
    }
    while (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    free(m);
    for (size_t i = 0; accented_types[i]; i++) {
        size_t n = strlen(accented_types[i]);
        if (strncmp(out, accented_types[i], n) == 0 && out[n]) {
            memmove(out, out + n, strlen(out + n) + 1);
            break;
        }
    }
    return out;
}

static char *squeeze(const char *s)
{
    char *out = xcalloc(strlen(s) + 1, 1), *o = out;
    for (; *s; s++)
        if (*s != ' ')
            *o++ = *s;
    return out;
}

/* The folded type word an old unit starts with ("xa"), or "". */
static const char *type_of(const char *folded)
{
    for (size_t i = 0; type_words[i]; i++) {
        size_t n = strlen(type_words[i]);
        if (strncmp(folded, type_words[i], n) == 0 && folded[n] == ' ')
            return type_words[i];
    }
    return "";
}

/* ===== Loading ===== */

static bool nonempty(const cJSON *j)
{
    return cJSON_IsString(j) && j->valuestring[0];
}

static void add_alias(struct commune_list *l, const char *name, const char *old, size_t unit)
{
    char fkey[COMMUNE_KEY_MAX];
    commune_key(name, fkey, sizeof fkey);
    char *akey = accent_key(name);
    char *folded = norm_fold(name, strlen(name), NULL);
    if (!fkey[0] || !akey || !folded) {
        free(akey);
        free(folded);
        return;
    }
    l->aliases = xreserve(l->aliases, &l->cap_aliases, l->n_aliases + 1, sizeof *l->aliases, 256);
    struct alias *a = &l->aliases[l->n_aliases++];
    a->fkey = xstrdup(fkey);
    a->akey = akey;
    a->squeezed = squeeze(fkey);
    a->type = old ? type_of(folded) : strcmp(l->units[unit].type, "phường") == 0 ? "phuong" : "xa";
    a->old = old;
    a->unit = unit;
    free(folded);
}

static bool read_unit(struct problems *pb, const cJSON *u, const char *province, const char *field,
                      struct commune_unit *out)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(u, "name");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(u, "type");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(u, "code");
    const cJSON *merged = cJSON_GetObjectItemCaseSensitive(u, "merged_from");
    bool typed = nonempty(type) && (!strcmp(type->valuestring, "xã") || !strcmp(type->valuestring, "phường"));
    if (!nonempty(name) || !typed || !nonempty(code) || strlen(code->valuestring) >= COMMUNE_CODE_MAX ||
        (merged && !cJSON_IsArray(merged))) {
        problemf(pb, COMMUNES_FILE, field, "a unit needs name, type (xã or phường), code (at most %d "
                 "bytes) and merged_from (an array)", COMMUNE_CODE_MAX - 1);
        return false;
    }
    *out = (struct commune_unit){.name = name->valuestring, .type = type->valuestring,
                                 .province = province, .code = code->valuestring,
                                 .label = name->valuestring};
    return true;
}

static void read_province(struct problems *pb, struct commune_list *l, const cJSON *p, size_t pi)
{
    char field[64];
    snprintf(field, sizeof field, "provinces[%zu]", pi);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(p, "units"), *u;
    if (!nonempty(name) || !cJSON_IsArray(units)) {
        problemf(pb, COMMUNES_FILE, field, "a province needs a name and units");
        return;
    }
    size_t ui = 0;
    cJSON_ArrayForEach(u, units) {
        snprintf(field, sizeof field, "provinces[%zu].units[%zu]", pi, ui++);
        struct commune_unit unit;
        if (!read_unit(pb, u, name->valuestring, field, &unit))
            continue;
        if (commune_list_by_code(l, unit.code))
            problemf(pb, COMMUNES_FILE, field, "code %s is used twice", unit.code);
        l->units = xreserve(l->units, &l->cap_units, l->n + 1, sizeof *l->units, 64);
        l->units[l->n] = unit;
        add_alias(l, unit.name, NULL, l->n);
        const cJSON *old;
        cJSON_ArrayForEach(old, cJSON_GetObjectItemCaseSensitive(u, "merged_from"))
            if (nonempty(old))
                add_alias(l, old->valuestring, old->valuestring, l->n);
        l->n++;
    }
}

/* "spelling_variants": {"Ta Gia": ["Tà Gia"]}: each variant names what the
 * old name names. */
static void read_variants(struct commune_list *l, const cJSON *variants)
{
    const cJSON *v, *w;
    size_t n = l->n_aliases;
    cJSON_ArrayForEach(v, variants) {
        char key[COMMUNE_KEY_MAX];
        commune_key(v->string, key, sizeof key);
        for (size_t i = 0; i < n; i++) {
            if (!l->aliases[i].old || strcmp(l->aliases[i].fkey, key) != 0)
                continue;
            cJSON_ArrayForEach(w, v)
                if (nonempty(w))
                    add_alias(l, w->valuestring, l->aliases[i].old, l->aliases[i].unit);
        }
    }
}

/* A name both provinces use gets the province in its label. */
static void make_labels(struct commune_list *l)
{
    l->labels = xcalloc(l->n ? l->n : 1, sizeof *l->labels);
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < l->n; j++) {
            if (i == j || strcmp(l->units[i].province, l->units[j].province) == 0 ||
                strcmp(l->units[i].name, l->units[j].name) != 0)
                continue;
            struct buf b;
            buf_init(&b);
            buf_printf(&b, "%s (%s)", l->units[i].name, l->units[i].province);
            l->labels[i] = buf_steal(&b);
            l->units[i].label = l->labels[i];
            break;
        }
}

struct commune_list *commune_list_load(const struct catalog *cat, catalog_report_fn report,
                                       void *ud)
{
    return commune_list_from_json(catalog_extra(cat, COMMUNES_EXTRA), report, ud);
}

struct commune_list *commune_list_from_json(const cJSON *root, catalog_report_fn report, void *ud)
{
    struct commune_list *l = xcalloc(1, sizeof *l);
    struct problems pb = {.report = report, .ud = ud, .count = 0};
    if (!root) {
        make_labels(l);
        return l;
    }
    const cJSON *provinces = cJSON_GetObjectItemCaseSensitive(root, "provinces"), *p;
    if (!cJSON_IsArray(provinces) || !cJSON_GetArraySize(provinces))
        problemf(&pb, COMMUNES_FILE, "provinces", "must be a non-empty array");
    size_t pi = 0;
    cJSON_ArrayForEach(p, provinces)
        read_province(&pb, l, p, pi++);
    read_variants(l, cJSON_GetObjectItemCaseSensitive(root, "spelling_variants"));
    make_labels(l);
    if (pb.count) {
        commune_list_free(l);
        return NULL;
    }
    return l;
}

void commune_list_free(struct commune_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_aliases; i++) {
        free(l->aliases[i].fkey);
        free(l->aliases[i].akey);
        free(l->aliases[i].squeezed);
    }
    for (size_t i = 0; l->labels && i < l->n; i++)
        free(l->labels[i]);
    free(l->labels);
    free(l->aliases);
    free(l->units);
    free(l);
}

size_t commune_list_size(const struct commune_list *l)
{
    return l->n;
}

const struct commune_unit *commune_list_at(const struct commune_list *l, size_t i)
{
    return i < l->n ? &l->units[i] : NULL;
}

const struct commune_unit *commune_list_by_code(const struct commune_list *l, const char *code)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->units[i].code, code) == 0)
            return &l->units[i];
    return NULL;
}

/* ===== What was typed ===== */

struct typed {
    char *folded;                 /* the whole line, folded */
    char core[COMMUNE_KEY_MAX];   /* the name part, folded */
    char *accented;               /* the line with diacritics (accent_key), or NULL */
    const char *type;             /* "xa", "phuong", "thi tran" or NULL */
    const char *province;         /* "Sơn La", "Lai Châu" or NULL */
};

static bool word_at(const char *s, size_t at, const char *w)
{
    size_t n = strlen(w);
    return strncmp(s + at, w, n) == 0 && (at == 0 || s[at - 1] == ' ') &&
           (s[at + n] == ' ' || s[at + n] == '\0');
}

/* Cuts "…, huyện X, tỉnh Y" and the province names off; notes the province. */
static void cut_places(struct typed *ty, char *s)
{
    static const char *const cuts[] = {"huyen", "tinh", "thanh pho", "thi xa", "tp", NULL};
    static const struct { const char *folded, *name; } provinces[] = {
        {"son la", "Sơn La"}, {"lai chau", "Lai Châu"},
    };
    for (size_t at = 0; s[at]; at++) {
        for (size_t p = 0; p < 2; p++)
            if (word_at(s, at, provinces[p].folded)) {
                ty->province = provinces[p].name;
                s[at] = '\0';
                break;
            }
        for (size_t c = 0; s[at] && cuts[c]; c++)
            if (at > 0 && word_at(s, at, cuts[c]))
                s[at] = '\0';
        if (!s[at])
            break;
    }
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* The name part: before the district or province, after the last "xã /
 * phường / thị trấn". */
static void read_typed(const char *text, struct typed *ty)
{
    memset(ty, 0, sizeof *ty);
    ty->folded = norm_fold(text, strlen(text), NULL);
    if (!ty->folded)
        return;
    char line[COMMUNE_KEY_MAX];
    snprintf(line, sizeof line, "%s", ty->folded);
    cut_places(ty, line);
    const char *start = line;
    for (size_t at = 0; line[at]; at++)
        for (size_t i = 0; type_words[i]; i++)
            if (word_at(line, at, type_words[i]) && line[at + strlen(type_words[i])]) {
                ty->type = type_words[i];
                start = line + at + strlen(type_words[i]) + 1;
            }
    snprintf(ty->core, sizeof ty->core, "%s", start);
    ty->accented = accent_key(text);
}

static void typed_free(struct typed *ty)
{
    free(ty->folded);
    free(ty->accented);
}

/* ===== Matching ===== */

struct hits {
    size_t unit[COMMUNE_LIST_CANDIDATES * 4];
    const char *old[COMMUNE_LIST_CANDIDATES * 4];
    bool today[COMMUNE_LIST_CANDIDATES * 4]; /* fits by its name of today */
    bool marked[COMMUNE_LIST_CANDIDATES * 4]; /* the line has the name with its diacritics */
    size_t n;
};

static bool hint_fits(const struct commune_list *l, const struct alias *a, const struct typed *ty)
{
    if (ty->province && strcmp(l->units[a->unit].province, ty->province) != 0)
        return false;
    return !ty->type || !*a->type || strcmp(a->type, ty->type) == 0;
}

/* Whether the line has the alias's name written with its diacritics, as
 * whole words ("Chiềng Đông" is not "Chiềng Dong"). */
static bool typed_marked(const struct alias *a, const struct typed *ty)
{
    if (!ty->accented)
        return false;
    for (const char *at = ty->accented; (at = strstr(at, a->akey)) != NULL; at++)
        if (word_at(ty->accented, (size_t)(at - ty->accented), a->akey))
            return true;
    return false;
}

static void add_hit(struct hits *h, const struct alias *a, const struct typed *ty)
{
    bool marked = typed_marked(a, ty);
    for (size_t i = 0; i < h->n; i++)
        if (h->unit[i] == a->unit) {
            h->today[i] = h->today[i] || !a->old;
            h->marked[i] = h->marked[i] || marked;
            return;
        }
    if (h->n == sizeof h->unit / sizeof h->unit[0])
        return;
    h->unit[h->n] = a->unit;
    h->old[h->n] = a->old;
    h->marked[h->n] = marked;
    h->today[h->n++] = !a->old;
}

/* Names that fold alike: the ones typed with their exact diacritics, when
 * there are any, leave the others out. */
static void keep_marked(struct hits *h)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n; i++)
        k += h->marked[i];
    if (k == 0 || k == h->n)
        return;
    k = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->marked[i]) {
            h->unit[k] = h->unit[i];
            h->old[k] = h->old[i];
            h->today[k] = h->today[i];
            h->marked[k++] = true;
        }
    h->n = k;
}

static void verdict(const struct commune_list *l, struct hits *h, struct commune_match *out)
{
    keep_marked(h);
    if (h->n == 1) {
        out->unit = &l->units[h->unit[0]];
        out->found = h->today[0] ? COMMUNE_FOUND : COMMUNE_FOUND_OLD;
        out->old = h->today[0] ? NULL : h->old[0];
        return;
    }
    out->found = COMMUNE_CHOOSE;
    for (size_t i = 0; i < h->n && out->n_cands < COMMUNE_LIST_CANDIDATES; i++) {
        out->cands[out->n_cands] = &l->units[h->unit[i]];
        out->cand_old[out->n_cands++] = h->today[i] ? NULL : h->old[i];
    }
}

/* Optimal string alignment distance (a swap counts one), capped at cap + 1. */
static size_t distance(const char *a, const char *b, size_t cap)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > FUZZY_MAX || m > FUZZY_MAX || (n > m ? n - m : m - n) > cap)
        return cap + 1;
    size_t d[FUZZY_MAX + 1][FUZZY_MAX + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

/* Shared character pairs (Dice), 0..1. */
static double similarity(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b), shared = 0;
    if (n < 2 || m < 2)
        return 0;
    bool used[FUZZY_MAX] = {false};
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = 0; j + 1 < m && j < FUZZY_MAX; j++)
            if (!used[j] && a[i] == b[j] && a[i + 1] == b[j + 1]) {
                used[j] = true;
                shared++;
                break;
            }
    return 2.0 * (double)shared / (double)(n - 1 + m - 1);
}

static bool has_letter(const char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            return true;
    return false;
}

static bool exact(const struct commune_list *l, const struct typed *ty, bool accented,
                  struct commune_match *out)
{
    struct hits h = {.n = 0};
    for (size_t i = 0; i < l->n_aliases; i++) {
        const struct alias *a = &l->aliases[i];
        bool same = accented ? ty->accented && strcmp(a->akey, ty->accented) == 0
                             : strcmp(a->fkey, ty->core) == 0;
        if (same && hint_fits(l, a, ty))
            add_hit(&h, a, ty);
    }
    if (h.n == 0 || (accented && h.n > 1))
        return false;
    verdict(l, &h, out);
    return true;
}

/* The longest names of today or of old that appear whole in the line. */
static bool contained(const struct commune_list *l, const struct typed *ty, struct commune_match *out)
{
    struct hits h = {.n = 0};
    size_t best = 0;
    for (size_t i = 0; i < l->n_aliases; i++) {
        const struct alias *a = &l->aliases[i];
        size_t len = strlen(a->fkey);
        if (len < best || !hint_fits(l, a, ty))
            continue;
        const char *at = ty->folded;
        bool found = false;
        while (!found && (at = strstr(at, a->fkey)) != NULL) {
            found = word_at(ty->folded, (size_t)(at - ty->folded), a->fkey);
            at++;
        }
        if (!found)
            continue;
        if (len > best)
            h.n = 0;
        best = len;
        add_hit(&h, a, ty);
    }
    if (h.n == 0)
        return false;
    verdict(l, &h, out);
    return true;
}

/* Typos: the nearest names within one edit (two from 10 letters on). */
static bool nearest(const struct commune_list *l, const struct typed *ty, struct commune_match *out)
{
    char *sq = squeeze(ty->core);
    size_t cap = strlen(sq) >= 10 ? 2 : 1, best = cap + 1;
    struct hits h = {.n = 0};
    for (size_t i = 0; i < l->n_aliases && strlen(sq) >= 4; i++) {
        const struct alias *a = &l->aliases[i];
        size_t d = hint_fits(l, a, ty) ? distance(sq, a->squeezed, cap) : cap + 1;
        if (d > cap || d > best)
            continue;
        if (d < best)
            h.n = 0;
        best = d;
        add_hit(&h, a, ty);
    }
    free(sq);
    if (h.n == 0)
        return false;
    verdict(l, &h, out);
    return true;
}

/* Nothing fits: the likeliest units, if any looks like what was typed. */
static void likeliest(const struct commune_list *l, const struct typed *ty, struct commune_match *out)
{
    out->found = COMMUNE_UNKNOWN;
    if (!has_letter(ty->core))
        return;
    char *sq = squeeze(ty->core);
    double score[COMMUNE_LIST_CANDIDATES] = {0};
    for (size_t i = 0; i < l->n_aliases; i++) {
        const struct alias *a = &l->aliases[i];
        double s = similarity(sq, a->squeezed);
        if (s < LIKELY_MIN)
            continue;
        size_t k = 0;
        while (k < out->n_cands && out->cands[k] != &l->units[a->unit])
            k++;
        if (k < out->n_cands) { /* the unit is there: keep its best score */
            if (s > score[k]) {
                score[k] = s;
                out->cand_old[k] = a->old;
            }
            continue;
        }
        if (out->n_cands == COMMUNE_LIST_CANDIDATES) {
            k = 0;
            for (size_t j = 1; j < out->n_cands; j++)
                if (score[j] < score[k])
                    k = j;
            if (score[k] >= s)
                continue;
        } else {
            k = out->n_cands++;
        }
        out->cands[k] = &l->units[a->unit];
        out->cand_old[k] = a->old;
        score[k] = s;
    }
    free(sq);
}

void commune_list_match(const struct commune_list *l, const char *text, struct commune_match *out)
{
    memset(out, 0, sizeof *out);
    out->found = COMMUNE_UNKNOWN;
    struct typed ty;
    read_typed(text, &ty);
    if (ty.folded && ty.core[0] &&
        !exact(l, &ty, true, out) && !exact(l, &ty, false, out) && !contained(l, &ty, out) &&
        !nearest(l, &ty, out))
        likeliest(l, &ty, out);
    typed_free(&ty);
}
