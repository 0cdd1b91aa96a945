/* matcher_mask — the parts of a line that say nothing about what it asks:
 * a question's lead-in ("cho em hỏi về …") is left out, a commune's name
 * after "xã / phường / huyện" (or alone) reads as one word, a number with
 * at most a few choice words ("2", "số 2") is a choice, not a request; and
 * an intent with match.requires wins only when the line has one of them.
 * Training lines are read the same way (matcher_train.c), so the models
 * learn "xã {commune} cũ" instead of each commune's syllables. */
#include "dvcbot/commune.h"
#include "dvcbot/matcher_model.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest lead-in and commune name, in words. */
#define LEAD_IN_WORDS 5
/* The word every lead-in has ("cho em hỏi về"). */
#define LEAD_IN_WORD "hoi"
#define PLACE_WORDS 5
/* Words that must follow a lead-in for it to be one ("cho hỏi về sổ đỏ"). */
#define LEAD_IN_TOPIC 2

/* Words after which a commune's name comes: its type (rewritten, "thị
 * trấn" ends in "tran") and "ở", "tại", "thuộc". Every line is scanned
 * for them: lengths are known, no strlen. */
#define WORD(s) {s, sizeof s - 1}
static const struct {
    const char *w;
    size_t n;
} type_words[] = {WORD("xa"), WORD("phuong"), WORD("huyen"), WORD("tran"), WORD("o"), WORD("tai"),
                  WORD("thuoc")};

/* ===== Loading ===== */

/* text (folded) as the rewriter reads it, into a new string; NULL if empty. */
static char *rewritten(struct matcher *m, const char *folded, struct rewrite_line *ln)
{
    rewriter_line(&m->rw, folded, strlen(folded), ln, false);
    return ln->n ? xstrndup(ln->text, ln->len) : NULL;
}

static size_t words_in(const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == ' ';
    return n;
}

/* The name without its "xã / phường / thị trấn", as written. */
static const char *without_type(const char *name)
{
    static const char *const written[] = {"xã ", "phường ", "thị trấn ", NULL};
    for (size_t i = 0; written[i]; i++)
        if (strncmp(name, written[i], strlen(written[i])) == 0)
            return name + strlen(written[i]);
    return name;
}

/* A name's key (rewritten), and its marked words added to the key's. */
static void put_place(struct matcher *m, const char *name, struct rewrite_line *ln)
{
    char key[COMMUNE_KEY_MAX], marks[COMMUNE_KEY_MAX * 2];
    commune_key(name, key, sizeof key);
    char *r = key[0] ? rewritten(m, key, ln) : NULL;
    const char *bare = without_type(name);
    size_t ml = norm_marked_words(bare, strlen(bare), marks, sizeof marks);
    if (!r || ml == NORM_ERROR || words_in(r) < 2 || words_in(r) > PLACE_WORDS) {
        free(r);
        return;
    }
    int v;
    if (wordmap_get(&m->places, r, strlen(r), &v)) {
        char *both = xmalloc(strlen(m->place_marks[v]) + ml + 2);
        sprintf(both, "%s %s", m->place_marks[v], marks);
        free(m->place_marks[v]);
        m->place_marks[v] = both;
    } else {
        m->place_marks = xrealloc(m->place_marks, (m->n_places + 1) * sizeof *m->place_marks);
        m->place_marks[m->n_places] = xstrdup(marks);
        wordmap_put(&m->places, r, strlen(r), (int)m->n_places++);
    }
    free(r);
}

/* Every unit's name of today, the old units merged into it and their
 * spelling variants (intents/_communes.json). */
static void load_places(struct matcher *m, const cJSON *root, struct rewrite_line *ln)
{
    const cJSON *p, *u, *old, *v, *w;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(root, "provinces"))
        cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(p, "units")) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(u, "name");
            if (cJSON_IsString(name))
                put_place(m, name->valuestring, ln);
            cJSON_ArrayForEach(old, cJSON_GetObjectItemCaseSensitive(u, "merged_from"))
                if (cJSON_IsString(old))
                    put_place(m, old->valuestring, ln);
        }
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "spelling_variants"))
        cJSON_ArrayForEach(w, v)
            if (cJSON_IsString(w))
                put_place(m, w->valuestring, ln);
}

/* Each string of a _matcher.json list, folded and rewritten, into map;
 * each must have the word need (NULL: any phrase). */
static void load_phrases(struct matcher *m, struct problems *pb, const cJSON *arr,
                         const char *field, size_t max_words, const char *need,
                         struct wordmap *map, struct rewrite_line *ln)
{
    const cJSON *e;
    if (arr && !cJSON_IsArray(arr))
        problemf(pb, "_matcher.json", field, "must be an array of strings");
    cJSON_ArrayForEach(e, arr) {
        char *f = cJSON_IsString(e) ? norm_fold(e->valuestring, strlen(e->valuestring), NULL) : NULL;
        char *r = f && *f ? rewritten(m, f, ln) : NULL;
        if (!r || words_in(r) > max_words || (need && !norm_has_words(r, strlen(r), need, strlen(need))))
            problemf(pb, "_matcher.json", field, "every item must be a phrase of 1 to %zu words%s%s",
                     max_words, need ? " with " : "", need ? need : "");
        else
            wordmap_put(map, r, strlen(r), 1);
        free(f);
        free(r);
    }
}

/* match.requires of intent i: phrases, "{commune}" for a commune's name. */
static void load_requires(struct matcher *m, struct problems *pb, size_t i,
                          struct rewrite_line *ln)
{
    const struct intent *in = catalog_at(m->cat, i);
    const cJSON *match = cJSON_GetObjectItemCaseSensitive(in->json, "match");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(match, "requires"), *e;
    char file[96];
    snprintf(file, sizeof file, "%s.json", in->id);
    if (arr && (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr)))
        problemf(pb, file, "match.requires", "must be a non-empty array of phrases");
    cJSON_ArrayForEach(e, arr) {
        const char *s = cJSON_IsString(e) ? e->valuestring : "";
        bool commune = strcmp(s, MATCHER_COMMUNE_CUE) == 0;
        char *f = commune ? NULL : norm_fold(s, strlen(s), NULL);
        char *r = commune ? xstrdup(MATCHER_PLACE_WORD) : f && *f ? rewritten(m, f, ln) : NULL;
        if (!r) {
            problemf(pb, file, "match.requires", "every item must be a phrase or %s",
                     MATCHER_COMMUNE_CUE);
        } else {
            m->cues = xrealloc(m->cues, (m->n_cues + 1) * sizeof *m->cues);
            m->cues[m->n_cues++] = (struct matcher_cue){r, strlen(r), (int)i};
            m->needs_cue[i] = true;
            r = NULL;
        }
        free(f);
        free(r);
    }
}

/* Each string of a _matcher.json list, copied, into *v (non-strings are
 * reported by check_particles and skipped, as classification skips them). */
static void copy_strings(const cJSON *arr, char ***v, size_t *n)
{
    const cJSON *e;
    *v = NULL;
    *n = 0;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e))
            continue;
        *v = xrealloc(*v, (*n + 1) * sizeof **v);
        (*v)[(*n)++] = xstrdup(e->valuestring);
    }
}

/* "particles" (words as typed, "ạ") and "particle_readings" (catalog ids)
 * of _matcher.json: checked and copied into m here, read at
 * classification (matcher.c) without touching the JSON. */
static void load_particles(struct matcher *m, struct problems *pb, const cJSON *tuning)
{
    const cJSON *words = cJSON_GetObjectItemCaseSensitive(tuning, "particles");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(tuning, "particle_readings"), *e;
    if (words && !cJSON_IsArray(words))
        problemf(pb, "_matcher.json", "particles", "must be an array of words");
    cJSON_ArrayForEach(e, words) {
        size_t n = 0;
        const char *at = cJSON_IsString(e) ? e->valuestring : "", *end = at + strlen(at);
        if (!norm_next_word(&at, end, &n) || norm_next_word(&at, end, &n))
            problemf(pb, "_matcher.json", "particles", "every item must be one word");
    }
    if (ids && !cJSON_IsArray(ids))
        problemf(pb, "_matcher.json", "particle_readings", "must be an array of ids");
    cJSON_ArrayForEach(e, ids)
        if (!cJSON_IsString(e) || !catalog_find(m->cat, e->valuestring))
            problemf(pb, "_matcher.json", "particle_readings", "'%s': no such id",
                     cJSON_IsString(e) ? e->valuestring : "?");
    copy_strings(words, &m->particles, &m->n_particles);
    copy_strings(ids, &m->particle_readings, &m->n_particle_readings);
}

void matcher_mask_load(struct matcher *m, struct problems *pb)
{
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    const cJSON *tuning = catalog_extra(m->cat, "matcher");
    load_places(m, catalog_extra(m->cat, "communes"), ln);
    load_phrases(m, pb, cJSON_GetObjectItemCaseSensitive(tuning, "lead_ins"), "lead_ins",
                 LEAD_IN_WORDS, LEAD_IN_WORD, &m->lead_ins, ln);
    load_phrases(m, pb, cJSON_GetObjectItemCaseSensitive(tuning, "choice_words"), "choice_words",
                 1, NULL, &m->choice_words, ln);
    for (size_t i = 0; i < m->n_intents; i++)
        load_requires(m, pb, i, ln);
    load_particles(m, pb, tuning);
    free(ln);
}

void matcher_mask_free(struct matcher *m)
{
    wordmap_free(&m->places);
    wordmap_free(&m->lead_ins);
    wordmap_free(&m->choice_words);
    for (size_t i = 0; i < m->n_cues; i++)
        free(m->cues[i].text);
    free(m->cues);
    for (size_t i = 0; i < m->n_places; i++)
        free(m->place_marks[i]);
    free(m->place_marks);
    for (size_t i = 0; i < m->n_particles; i++)
        free(m->particles[i]);
    free(m->particles);
    for (size_t i = 0; i < m->n_particle_readings; i++)
        free(m->particle_readings[i]);
    free(m->particle_readings);
}

/* ===== Editing a line ===== */

static bool token_is(const struct rewrite_line *ln, size_t i, const char *w, size_t n)
{
    return ln->tok[i].len == n && memcmp(ln->text + ln->tok[i].off, w, n) == 0;
}

static bool is_type_word(const struct rewrite_line *ln, size_t i)
{
    for (size_t k = 0; k < sizeof type_words / sizeof type_words[0]; k++)
        if (token_is(ln, i, type_words[k].w, type_words[k].n))
            return true;
    return false;
}

/* Tokens [from, from + n) as one key (they are one space apart): its
 * value, or -1. */
static int span_value(const struct wordmap *map, const struct rewrite_line *ln, size_t from,
                      size_t n)
{
    int v;
    size_t start = ln->tok[from].off, end = ln->tok[from + n - 1].off + ln->tok[from + n - 1].len;
    return wordmap_get(map, ln->text + start, end - start, &v) ? v : -1;
}

static bool span_in(const struct wordmap *map, const struct rewrite_line *ln, size_t from, size_t n)
{
    return span_value(map, ln, from, n) >= 0;
}

/* Whether every word of marked (n bytes) is a word of words. */
static bool marks_within(const char *marked, size_t n, const char *words)
{
    for (size_t s = 0; s < n;) {
        size_t e = s;
        while (e < n && marked[e] != ' ')
            e++;
        if (!norm_has_words(words, strlen(words), marked + s, e - s))
            return false;
        s = e + 1;
    }
    return true;
}

/* Removes the marked words of the words [start, end) of text, in order: a
 * marked word is its folded word followed by upper-case marks. */
static void drop_marks(const char *text, size_t start, size_t end, char *marked, size_t *mlen)
{
    size_t cursor = 0;
    for (size_t s = start; marked && s < end;) {
        size_t e = s;
        while (e < end && text[e] != ' ')
            e++;
        for (size_t p = cursor; p < *mlen;) {
            size_t q = p;
            while (q < *mlen && marked[q] != ' ')
                q++;
            size_t base = p;
            while (base < q && !(marked[base] >= 'A' && marked[base] <= 'Z'))
                base++;
            if (base - p == e - s && memcmp(marked + p, text + s, e - s) == 0) {
                size_t cut = q < *mlen ? q + 1 : q;
                if (cut == q && p > 0)
                    p--; /* the last word: its leading space goes */
                memmove(marked + p, marked + cut, *mlen - cut + 1);
                *mlen -= cut - p;
                cursor = p;
                break;
            }
            p = q + 1;
        }
        s = e + 1;
    }
}

/* Replaces tokens [from, from + n) with word, or drops them (word NULL),
 * and their marked words. */
static void splice(struct rewrite_line *ln, size_t from, size_t n, const char *word, char *marked,
                   size_t *mlen)
{
    size_t start = ln->tok[from].off, end = ln->tok[from + n - 1].off + ln->tok[from + n - 1].len;
    drop_marks(ln->text, start, end, marked, mlen);
    char out[sizeof ln->text];
    size_t o = 0, k = 0;
    struct rewrite_span tok[REWRITE_MAX_TOKENS];
    for (size_t i = 0; i < ln->n; i++) {
        const char *w = ln->text + ln->tok[i].off;
        size_t len = ln->tok[i].len;
        if (i >= from && i < from + n) {
            if (i > from || !word)
                continue;
            w = word;
            len = strlen(word);
        }
        if (o)
            out[o++] = ' ';
        tok[k++] = (struct rewrite_span){(uint16_t)o, (uint16_t)len};
        memcpy(out + o, w, len);
        o += len;
    }
    memcpy(ln->text, out, o);
    memset(ln->text + o, 0, REWRITE_TEXT_PAD);
    ln->len = o;
    memcpy(ln->tok, tok, k * sizeof *tok);
    ln->n = k;
}

/* ===== Masking ===== */

/* The longest commune name starting at token i, in words, or 0. */
static size_t place_at(const struct matcher *m, const struct rewrite_line *ln, size_t i)
{
    for (size_t n = PLACE_WORDS; n >= 2; n--)
        if (i + n <= ln->n && span_in(&m->places, ln, i, n))
            return n;
    return 0;
}

static void mask_places(const struct matcher *m, struct rewrite_line *ln, char *marked,
                        size_t *mlen)
{
    /* only a name, its marks those of the name ("bán bò" is not Bản Bo) */
    int v = ln->n >= 2 && ln->n <= PLACE_WORDS ? span_value(&m->places, ln, 0, ln->n) : -1;
    if (v >= 0 && (!marked || marks_within(marked, *mlen, m->place_marks[v]))) {
        splice(ln, 0, ln->n, MATCHER_PLACE_WORD, marked, mlen);
        return;
    }
    for (size_t i = 0; i + 1 < ln->n; i++) {
        size_t n = is_type_word(ln, i) ? place_at(m, ln, i + 1) : 0;
        if (n)
            splice(ln, i + 1, n, MATCHER_PLACE_WORD, marked, mlen);
    }
}

/* The longest lead-in starting at token i, in words, or 0. */
static size_t lead_in_at(const struct matcher *m, const struct rewrite_line *ln, size_t i)
{
    for (size_t n = LEAD_IN_WORDS; n >= 1; n--)
        if (i + n <= ln->n && span_in(&m->lead_ins, ln, i, n))
            return n;
    return 0;
}

/* Lead-ins chain, also overlapping ("muốn hỏi" + "hỏi về"); they go when a
 * topic of LEAD_IN_TOPIC words follows. Every lead-in has "hỏi" (loading
 * checks), so only lines with it look. */
static void drop_lead_ins(const struct matcher *m, struct rewrite_line *ln, char *marked,
                          size_t *mlen)
{
    size_t i = 0;
    while (i < ln->n && !token_is(ln, i, LEAD_IN_WORD, sizeof LEAD_IN_WORD - 1))
        i++;
    if (i == ln->n || !wordmap_len(&m->lead_ins))
        return;
    for (i = 0; i < ln->n; i++) {
        size_t end = i + lead_in_at(m, ln, i), n;
        if (end == i)
            continue;
        for (;;) {
            if ((n = lead_in_at(m, ln, end - 1)) > 1)
                end = end - 1 + n;
            else if (end < ln->n && (n = lead_in_at(m, ln, end)) > 0)
                end += n;
            else
                break;
        }
        if (end + LEAD_IN_TOPIC <= ln->n) {
            splice(ln, i, end - i, NULL, marked, mlen);
            return;
        }
    }
}

void matcher_mask_line(const struct matcher *m, struct rewrite_line *ln, char *marked, size_t *mlen)
{
    if (!ln->n)
        return;
    mask_places(m, ln, marked, mlen);
    drop_lead_ins(m, ln, marked, mlen);
}

/* ===== Deciding ===== */

static bool is_number(const struct rewrite_line *ln, size_t i)
{
    const char *w = ln->text + ln->tok[i].off;
    for (size_t d = 0; d < ln->tok[i].len; d++)
        if (w[d] < '0' || w[d] > '9')
            return false;
    return true;
}

bool matcher_is_choice(const struct matcher *m, const struct rewrite_line *ln)
{
    size_t numbers = 0;
    for (size_t i = 0; i < ln->n; i++)
        numbers += is_number(ln, i);
    for (size_t i = 0; numbers && i < ln->n; i++)
        if (!is_number(ln, i) && !span_in(&m->choice_words, ln, i, 1))
            return false;
    return numbers > 0;
}

void matcher_mask_requires(const struct matcher *m, const struct rewrite_line *ln, double *intent)
{
    int best = 0;
    for (size_t i = 1; i < m->n_intents; i++)
        if (intent[i] > intent[best])
            best = (int)i;
    if (!m->needs_cue[best] || best == m->fallback)
        return; /* only the intent that would win is checked */
    for (size_t k = 0; k < m->n_cues; k++)
        if (m->cues[k].intent == best &&
            norm_has_words(ln->text, ln->len, m->cues[k].text, m->cues[k].len))
            return;
    intent[m->fallback] += intent[best];
    intent[best] = 0;
}
