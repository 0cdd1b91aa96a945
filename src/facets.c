/* facets — intents/_facets.json: which fact of a procedure a line asks about. */
#include "dvcbot/facets.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"
#include "dvcbot/strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const facet_names[FACET_COUNT] = {"fee",    "documents", "time",  "place",
                                                     "online", "audience",  "papers"};

/* Single words, with their lengths (read at every word of every message). */
struct wordlist {
    char **words;
    size_t *lens;
    size_t n;
};

/* A phrase (facet >= 0) or a filler (FACET_NONE): folded words. */
struct phrase {
    char *words[FACETS_PHRASE_WORDS_MAX];
    size_t lens[FACETS_PHRASE_WORDS_MAX]; /* strlen of each word (compared on every message) */
    size_t n;
    enum facet facet;
    double weight;
};

struct facets {
    struct phrase *items;
    size_t n, cap;
    /* The phrases by their first word (the head's index + 1), each chained
     * to the next with the same first word (next_same + 1; 0 ends): a line
     * is matched against the few phrases that can start at each word. */
    struct strmap by_first;
    size_t *next_same;
    struct wordlist questions; /* question_words */
    struct wordlist amounts;   /* amount_words */
    const struct intent **ask_over; /* acts a bare question overrides */
    size_t n_ask_over;
    const struct intent **context_acts; /* acts about the conversation's procedure */
    size_t n_context_acts;
    char *labels[FACET_COUNT];
    const struct intent **procs; /* the catalog's procedures and their */
    char **proc_words;           /* facets_procedure_words, read once */
    char **proc_vocab;           /* facets_vocabulary_of, read once */
    size_t n_procs;
    unsigned ttl_s;
    double named_min;
    double rest_min; /* > 1: the rest of a line is never classified alone */
};

const char *facet_name(enum facet facet)
{
    return facet > FACET_NONE && facet < FACET_COUNT ? facet_names[facet] : NULL;
}

const char *facets_label(const struct facets *f, enum facet facet)
{
    return facet > FACET_NONE && facet < FACET_COUNT && f->labels[facet] ? f->labels[facet] : "";
}

unsigned facets_context_ttl(const struct facets *f)
{
    return f->ttl_s;
}

double facets_rest_min(const struct facets *f)
{
    return f->rest_min;
}

double facets_named_min(const struct facets *f)
{
    return f->named_min;
}

static void wordlist_free(struct wordlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->words[i]);
    free(l->words);
    free(l->lens);
}

void facets_free(struct facets *f)
{
    if (!f)
        return;
    strmap_free(&f->by_first);
    free(f->next_same);
    for (size_t i = 0; i < f->n; i++)
        for (size_t w = 0; w < f->items[i].n; w++)
            free(f->items[i].words[w]);
    free(f->items);
    wordlist_free(&f->questions);
    wordlist_free(&f->amounts);
    free(f->ask_over);
    free(f->context_acts);
    for (int i = 0; i < FACET_COUNT; i++)
        free(f->labels[i]);
    for (size_t i = 0; i < f->n_procs; i++) {
        free(f->proc_words[i]);
        free(f->proc_vocab[i]);
    }
    free(f->procs);
    free(f->proc_words);
    free(f->proc_vocab);
    free(f);
}

/* ===== Loading ===== */

/* Splits folded text into p's words; false when it is not folded text of
 * 1..FACETS_PHRASE_WORDS_MAX words. */
static bool split_phrase(const char *text, struct phrase *p)
{
    char *folded = norm_fold(text, strlen(text), NULL);
    bool ok = folded && *folded && strcmp(folded, text) == 0;
    free(folded);
    if (!ok)
        return false;
    p->n = 0;
    for (const char *s = text; *s;) {
        const char *end = strchr(s, ' ');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (p->n == FACETS_PHRASE_WORDS_MAX) {
            for (size_t w = 0; w < p->n; w++)
                free(p->words[w]);
            return false;
        }
        p->lens[p->n] = len;
        p->words[p->n++] = xstrndup(s, len);
        s += len;
        while (*s == ' ')
            s++;
    }
    return true;
}

static void add_phrase(struct facets *f, const char *text, enum facet facet, double weight,
                       const char *field, struct problems *pb)
{
    struct phrase p = {.facet = facet, .weight = weight};
    if (!split_phrase(text, &p)) {
        problemf(pb, FACETS_FILE, field, "\"%s\" must be 1 to %d words, lower case without diacritics",
                 text, FACETS_PHRASE_WORDS_MAX);
        return;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        f->items = xrealloc(f->items, f->cap * sizeof *f->items);
    }
    f->items[f->n++] = p;
}

static void read_facet(struct facets *f, enum facet facet, const cJSON *e, struct problems *pb)
{
    char field[64];
    snprintf(field, sizeof field, "facets.%s", facet_names[facet]);
    const char *label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "label"));
    const cJSON *phrases = cJSON_GetObjectItemCaseSensitive(e, "phrases");
    if (!label || !*label)
        problemf(pb, FACETS_FILE, field, "needs a \"label\" (what replies call it)");
    else
        f->labels[facet] = xstrdup(label);
    if (!cJSON_IsObject(phrases) || !phrases->child) {
        problemf(pb, FACETS_FILE, field, "needs \"phrases\": {\"phrase\": weight > 0, ...}");
        return;
    }
    const cJSON *ph;
    cJSON_ArrayForEach(ph, phrases) {
        if (!cJSON_IsNumber(ph) || !(ph->valuedouble > 0)) {
            problemf(pb, FACETS_FILE, field, "weight of \"%s\" must be a number > 0", ph->string);
            continue;
        }
        add_phrase(f, ph->string, facet, ph->valuedouble, field, pb);
    }
}

static void read_facets(struct facets *f, const cJSON *facets, struct problems *pb)
{
    if (!cJSON_IsObject(facets)) {
        problemf(pb, FACETS_FILE, "facets", "must be an object: facet name -> {label, phrases}");
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, facets) {
        int k = 0;
        while (k < FACET_COUNT && strcmp(facet_names[k], e->string) != 0)
            k++;
        if (k == FACET_COUNT)
            problemf(pb, FACETS_FILE, "facets", "%s is not a facet (fee, documents, time, place, "
                     "online, audience, papers)", e->string);
        else
            read_facet(f, (enum facet)k, e, pb);
    }
}

static void read_filler(struct facets *f, const cJSON *filler, struct problems *pb)
{
    if (!cJSON_IsArray(filler)) {
        problemf(pb, FACETS_FILE, "filler", "must be an array of words");
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, filler) {
        const char *s = cJSON_GetStringValue(e);
        if (!s)
            problemf(pb, FACETS_FILE, "filler", "every entry must be a string");
        else
            add_phrase(f, s, FACET_NONE, 0, "filler", pb);
    }
}

/* A list of single folded words (question_words, amount_words). */
static void read_words(const cJSON *words, const char *field, struct wordlist *out,
                       struct problems *pb)
{
    int count = cJSON_GetArraySize(words);
    if (!cJSON_IsArray(words) || count < 1) {
        problemf(pb, FACETS_FILE, field, "must be an array of single words");
        return;
    }
    out->words = xcalloc((size_t)count, sizeof *out->words);
    out->lens = xcalloc((size_t)count, sizeof *out->lens);
    const cJSON *e;
    cJSON_ArrayForEach(e, words) {
        const char *s = cJSON_GetStringValue(e);
        char *folded = s ? norm_fold(s, strlen(s), NULL) : NULL;
        if (!folded || !*folded || strcmp(folded, s) != 0 || strchr(s, ' '))
            problemf(pb, FACETS_FILE, field, "\"%s\" must be one word, lower case "
                     "without diacritics", s ? s : "(not a string)");
        else {
            out->lens[out->n] = strlen(s);
            out->words[out->n++] = xstrdup(s);
        }
        free(folded);
    }
}

/* A list of catalog ids of acts into *acts (n of them). */
static void read_acts(const struct catalog *cat, const cJSON *ids, const char *field,
                      const struct intent ***acts, size_t *n, struct problems *pb)
{
    if (!cJSON_IsArray(ids)) {
        problemf(pb, FACETS_FILE, field, "must be an array of catalog ids of acts");
        return;
    }
    *acts = xcalloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof **acts);
    const cJSON *e;
    cJSON_ArrayForEach(e, ids) {
        const char *id = cJSON_GetStringValue(e);
        const struct intent *in = id ? catalog_find(cat, id) : NULL;
        if (!in || in->kind != INTENT_ACTION)
            problemf(pb, FACETS_FILE, field, "%s is not the catalog id of an act",
                     id ? id : "(not a string)");
        else
            (*acts)[(*n)++] = in;
    }
}

static bool listed(const struct intent *const *acts, size_t n, const struct intent *in)
{
    for (size_t i = 0; i < n; i++)
        if (acts[i] == in)
            return true;
    return false;
}

bool facets_ask_over(const struct facets *f, const struct intent *in)
{
    return listed(f->ask_over, f->n_ask_over, in);
}

bool facets_context_act(const struct facets *f, const struct intent *in)
{
    return listed(f->context_acts, f->n_context_acts, in);
}

static void read_number(const cJSON *root, const char *name, double min, double max, double *out,
                        struct problems *pb)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max)
        problemf(pb, FACETS_FILE, name, "must be a number from %g to %g", min, max);
    else
        *out = v->valuedouble;
}

static void check_keys(const cJSON *root, struct problems *pb)
{
    static const char *const known[] = {"comment", "context_ttl_s", "named_min_score",
                                        "rest_min_score", "question_words",
                                        "amount_words", "ask_over", "context_acts", "facets",
                                        "filler"};
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        size_t k = 0;
        while (k < sizeof known / sizeof known[0] && strcmp(known[k], e->string) != 0)
            k++;
        if (k == sizeof known / sizeof known[0])
            problemf(pb, FACETS_FILE, e->string, "unknown field");
    }
}

/* by_first and next_same, chains in the phrases' order (longest_at's ties
 * go to the first phrase, as when it scanned them all). */
static void index_phrases(struct facets *f)
{
    f->next_same = xcalloc(f->n + 1, sizeof *f->next_same);
    for (size_t k = f->n; k-- > 0;) {
        const char *first = f->items[k].words[0];
        f->next_same[k] = (size_t)(uintptr_t)strmap_get(&f->by_first, first);
        strmap_put(&f->by_first, first, (void *)(uintptr_t)(k + 1));
    }
}

/* Appends to words (" a b ") each folded word of text it does not hold yet. */
static void add_new_words(struct buf *words, const char *text)
{
    char *folded = text ? norm_fold(text, strlen(text), NULL) : NULL;
    for (const char *w = folded; w && *w;) {
        size_t len = strcspn(w, " ");
        char needle[64];
        if (len + 3 <= sizeof needle) {
            snprintf(needle, sizeof needle, " %.*s ", (int)len, w);
            if (!strstr(words->data, needle))
                buf_printf(words, "%.*s ", (int)len, w);
        }
        w += len + (w[len] == ' ');
    }
    free(folded);
}

/* " w1 w2 ... ": the procedure's own words and every word its keywords and
 * examples (match.keywords, match.examples) use, each once. */
static char *procedure_vocabulary(const struct intent *in, const char *own)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, own);
    const cJSON *match = in->json ? cJSON_GetObjectItemCaseSensitive(in->json, "match") : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(match, "keywords"))
        add_new_words(&b, e->string);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(match, "examples"))
        add_new_words(&b, cJSON_GetStringValue(e));
    return buf_steal(&b);
}

/* Every procedure's words, folded once at load rather than for each line. */
static void keep_procedure_words(struct facets *f, const struct catalog *cat)
{
    size_t n = catalog_size(cat);
    f->procs = xcalloc(n ? n : 1, sizeof *f->procs);
    f->proc_words = xcalloc(n ? n : 1, sizeof *f->proc_words);
    f->proc_vocab = xcalloc(n ? n : 1, sizeof *f->proc_vocab);
    for (size_t i = 0; i < n; i++) {
        const struct intent *in = catalog_at(cat, i);
        if (in->kind != INTENT_PROCEDURE)
            continue;
        f->procs[f->n_procs] = in;
        f->proc_words[f->n_procs] = facets_procedure_words(in);
        f->proc_vocab[f->n_procs] = procedure_vocabulary(in, f->proc_words[f->n_procs]);
        f->n_procs++;
    }
}

static size_t procedure_index(const struct facets *f, const struct intent *in)
{
    for (size_t i = 0; in && i < f->n_procs; i++)
        if (f->procs[i] == in)
            return i;
    return f->n_procs;
}

const char *facets_words_of(const struct facets *f, const struct intent *in)
{
    size_t i = procedure_index(f, in);
    return i < f->n_procs ? f->proc_words[i] : NULL;
}

const char *facets_vocabulary_of(const struct facets *f, const struct intent *in)
{
    size_t i = procedure_index(f, in);
    return i < f->n_procs ? f->proc_vocab[i] : NULL;
}

struct facets *facets_load(const struct catalog *cat, catalog_report_fn report, void *ud)
{
    struct facets *f = xcalloc(1, sizeof *f);
    strmap_init(&f->by_first);
    keep_procedure_words(f, cat);
    const cJSON *root = catalog_extra(cat, FACETS_EXTRA);
    if (!root)
        return f; /* no follow-up questions in this deployment */
    struct problems pb = {report, ud, 0};
    if (!cJSON_IsObject(root)) {
        problemf(&pb, FACETS_FILE, "", "must be a JSON object");
        facets_free(f);
        return NULL;
    }
    check_keys(root, &pb);
    double ttl = 0, named = 0;
    read_number(root, "context_ttl_s", 60, 7 * 24 * 3600, &ttl, &pb);
    read_number(root, "named_min_score", 0, 100, &named, &pb);
    f->ttl_s = (unsigned)ttl;
    f->named_min = named;
    f->rest_min = 2;
    if (cJSON_GetObjectItemCaseSensitive(root, "rest_min_score"))
        read_number(root, "rest_min_score", 0, 1, &f->rest_min, &pb);
    read_facets(f, cJSON_GetObjectItemCaseSensitive(root, "facets"), &pb);
    read_filler(f, cJSON_GetObjectItemCaseSensitive(root, "filler"), &pb);
    read_words(cJSON_GetObjectItemCaseSensitive(root, "question_words"), "question_words",
               &f->questions, &pb);
    const cJSON *amounts = cJSON_GetObjectItemCaseSensitive(root, "amount_words");
    if (amounts) /* optional: without it no payment line is read as a fee question */
        read_words(amounts, "amount_words", &f->amounts, &pb);
    read_acts(cat, cJSON_GetObjectItemCaseSensitive(root, "ask_over"), "ask_over", &f->ask_over,
              &f->n_ask_over, &pb);
    read_acts(cat, cJSON_GetObjectItemCaseSensitive(root, "context_acts"), "context_acts",
              &f->context_acts, &f->n_context_acts, &pb);
    if (pb.count) {
        facets_free(f);
        return NULL;
    }
    index_phrases(f);
    return f;
}

/* ===== Reading a line ===== */

struct words {
    const char *at[FACETS_LINE_WORDS_MAX];
    size_t len[FACETS_LINE_WORDS_MAX];
    size_t n;
};

/* False when the line has more words than a follow-up question. */
static bool split_line(const char *line, struct words *w)
{
    w->n = 0;
    for (const char *s = line; *s;) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        if (w->n == FACETS_LINE_WORDS_MAX)
            return false;
        const char *end = strchr(s, ' ');
        w->at[w->n] = s;
        w->len[w->n] = end ? (size_t)(end - s) : strlen(s);
        s += w->len[w->n++];
    }
    return true;
}

static bool word_is(const struct words *w, size_t i, const char *word, size_t len)
{
    return len == w->len[i] && memcmp(w->at[i], word, len) == 0;
}

static bool word_in(const struct words *w, size_t i, const struct wordlist *l)
{
    for (size_t k = 0; k < l->n; k++)
        if (word_is(w, i, l->words[k], l->lens[k]))
            return true;
    return false;
}

static bool any_word(const struct words *w, const struct wordlist *l)
{
    for (size_t i = 0; i < w->n; i++)
        if (word_in(w, i, l))
            return true;
    return false;
}

/* True when word i is one of proc_words (" a b c "). */
static bool procedure_word(const struct words *w, size_t i, const char *proc_words)
{
    if (!proc_words)
        return false;
    char needle[64];
    if (w->len[i] + 3 > sizeof needle)
        return false;
    needle[0] = ' ';
    memcpy(needle + 1, w->at[i], w->len[i]);
    needle[w->len[i] + 1] = ' ';
    needle[w->len[i] + 2] = '\0';
    return strstr(proc_words, needle) != NULL;
}

/* Words of p starting at word i of the line, or 0 when it is not there. */
static size_t phrase_at(const struct phrase *p, const struct words *w, size_t i)
{
    if (i + p->n > w->n)
        return 0;
    for (size_t k = 0; k < p->n; k++)
        if (!word_is(w, i + k, p->words[k], p->lens[k]))
            return 0;
    return p->n;
}

/* The longest phrase or filler at word i (a phrase wins a tie), or NULL. */
static const struct phrase *longest_at(const struct facets *f, const struct words *w, size_t i)
{
    const struct phrase *best = NULL;
    const struct dict_entry *e = dict_find(&f->by_first.d, w->at[i], w->len[i]);
    for (size_t k1 = e ? (size_t)(uintptr_t)e->v.ptr : 0; k1; k1 = f->next_same[k1 - 1]) {
        const struct phrase *p = &f->items[k1 - 1];
        size_t n = phrase_at(p, w, i);
        if (n && (!best || n > best->n || (n == best->n && best->facet == FACET_NONE &&
                                           p->facet != FACET_NONE)))
            best = p;
    }
    return best;
}

/* "1" of "1 trang", "2" of "lần 2": a count says nothing of the topic. */
static bool number_word(const struct words *w, size_t i)
{
    for (size_t k = 0; k < w->len[i]; k++)
        if (w->at[i][k] < '0' || w->at[i][k] > '9')
            return false;
    return w->len[i] > 0;
}

static bool all_procedure_words(const struct words *w, size_t i, size_t n, const char *proc_words)
{
    for (size_t k = 0; k < n; k++)
        if (!procedure_word(w, i + k, proc_words))
            return false;
    return true;
}

void facets_read(const struct facets *f, const char *line, const char *proc_words, bool discount,
                 struct facet_reading *out)
{
    *out = (struct facet_reading){.facet = FACET_NONE};
    struct words w;
    if (!f || !line || !split_line(line, &w))
        return;
    double score[FACET_COUNT] = {0};
    out->question = any_word(&w, &f->questions);
    out->amount = any_word(&w, &f->amounts);
    for (size_t i = 0; i < w.n;) {
        const struct phrase *p = longest_at(f, &w, i);
        if (p && p->facet != FACET_NONE && discount && all_procedure_words(&w, i, p->n, proc_words)) {
            i += p->n; /* "giấy" of "giấy khai sinh": the procedure's own words */
            continue;
        }
        if (p) {
            if (p->facet != FACET_NONE)
                score[p->facet] += p->weight;
            i += p->n;
            continue;
        }
        if (!procedure_word(&w, i, proc_words) && !number_word(&w, i))
            out->unknown++;
        i++;
    }
    for (int k = 0; k < FACET_COUNT; k++)
        if (score[k] > out->score) {
            out->score = score[k];
            out->facet = (enum facet)k;
        }
}

size_t facets_rest(const struct facets *f, const char *line, struct buf *out)
{
    struct words w;
    size_t kept = 0;
    if (!f || !line || !split_line(line, &w))
        return 0;
    for (size_t i = 0; i < w.n;) {
        const struct phrase *p = longest_at(f, &w, i);
        if (p) {
            i += p->n;
            continue;
        }
        if (!word_in(&w, i, &f->questions)) {
            if (kept++)
                buf_putc(out, ' ');
            buf_append(out, w.at[i], w.len[i]);
        }
        i++;
    }
    return kept;
}

bool facets_all_procedure_words(const struct facets *f, const char *words, const struct intent *in)
{
    const char *own = facets_words_of(f, in);
    struct words w;
    if (!own || !words || !split_line(words, &w) || !w.n)
        return false;
    return all_procedure_words(&w, 0, w.n, own);
}

static void add_folded(struct buf *b, const char *s)
{
    char *folded = s ? norm_fold(s, strlen(s), NULL) : NULL;
    if (folded && *folded)
        buf_printf(b, "%s ", folded);
    free(folded);
}

char *facets_procedure_words(const struct intent *in)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, " ");
    add_folded(&b, in->name);
    add_folded(&b, in->short_name);
    const cJSON *match = in->json ? cJSON_GetObjectItemCaseSensitive(in->json, "match") : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(match, "mentions"))
        add_folded(&b, cJSON_GetStringValue(e));
    return buf_steal(&b);
}
