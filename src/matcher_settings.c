/* matcher_settings — the first step of building the matcher: its settings
 * (_matcher.json) and the spelling data the rewriter reads lines with
 * (_syllables.json, known_words, _abbreviations.json). See
 * include/dvcbot/matcher_settings.h. */
#include "dvcbot/matcher_settings.h"
#include "dvcbot/matcher_augment.h"
#include "dvcbot/matcher_model.h"
#include "dvcbot/normalize.h"
#include "dvcbot/rewrite.h"
#include "dvcbot/vnspell.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "stack": [bias, one weight per input of matcher_stack_inputs]. */
static void load_stack(struct builder *b, const cJSON *arr)
{
    struct matcher_settings *s = &b->m->set;
    const cJSON *e;
    size_t n = 0;
    if (!arr)
        return;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != MATCHER_STACK + 1) {
        problemf(&b->pb, b->file, "stack", "must be an array of %d numbers", MATCHER_STACK + 1);
        return;
    }
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsNumber(e) || fabs(e->valuedouble) > 1000) {
            problemf(&b->pb, b->file, "stack", "every item must be a number in [-1000, 1000]");
            return;
        }
        s->stack[n++] = e->valuedouble;
    }
    s->stacked = true;
}

static void load_settings(struct builder *b, const cJSON *j)
{
    struct matcher_settings *s = &b->m->set;
    *s = (struct matcher_settings){
        .threshold = 0.5, .proc_threshold = 0.4, .ambiguous_ratio = 0.6, .alpha = 0.1,
        .example_weight = 1, .keyword_weight = 1, .template_weight = 3, .rule_weight = 1.5,
        .temperature = 1, .gate_threshold = 0.5, .unknown_weight = 0,
        .kind_weight = {1, 1, 0, 1}, .augment_weight = 0.5, .augment = 0, .char_n = 4,
        .typo_min_len = 4, .binary = false, .gate_epochs = 6, .gate_rate = 0.5,
        .gate_l2 = 1e-4, .proc_example_weight = 1, .augment_share = 1};
    if (!j)
        return;
    snprintf(b->file, sizeof b->file, "_matcher.json");
    static const struct {
        const char *key;
        size_t off;
        double lo, hi;
    } nums[] = {
#define SETTING(name, lo, hi) {#name, offsetof(struct matcher_settings, name), lo, hi}
        SETTING(threshold, 0, 1),
        SETTING(proc_threshold, 0, 1),
        SETTING(ambiguous_ratio, 0, 1),
        SETTING(alpha, 0.001, 0.999),
        SETTING(example_weight, 0, 100),
        SETTING(keyword_weight, 0, 100),
        SETTING(template_weight, 0, 100),
        SETTING(rule_weight, 0, 100),
        SETTING(mention_weight, 0, 100),
        SETTING(temperature, 0.1, 100),
        SETTING(gate_threshold, 0, 1),
        SETTING(unknown_weight, 0, 100),
        SETTING(augment_weight, 0, 100),
        SETTING(augment_share, 0, 1),
        SETTING(proc_example_weight, 0, 100),
        SETTING(gate_rate, 0.001, 10),
        SETTING(gate_l2, 0, 0.1),
        {"word_weight", offsetof(struct matcher_settings, kind_weight[KIND_WORD]), 0, 100},
        {"pair_weight", offsetof(struct matcher_settings, kind_weight[KIND_PAIR]), 0, 100},
        {"char_weight", offsetof(struct matcher_settings, kind_weight[KIND_CHARS]), 0, 100},
        {"marks_weight", offsetof(struct matcher_settings, kind_weight[KIND_MARKED]), 0, 100},
#undef SETTING
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, nums[i].key);
        if (!v)
            continue;
        if (!cJSON_IsNumber(v) || v->valuedouble < nums[i].lo || v->valuedouble > nums[i].hi)
            problemf(&b->pb, b->file, nums[i].key, "must be a number in [%g, %g]", nums[i].lo,
                     nums[i].hi);
        else
            *(double *)(void *)((char *)s + nums[i].off) = v->valuedouble;
    }
    static const struct {
        const char *key;
        size_t off;
        int lo, hi;
    } ints[] = {
        {"typo_min_len", offsetof(struct matcher_settings, typo_min_len), 2, VNSPELL_MAX_WORD},
        {"char_n", offsetof(struct matcher_settings, char_n), 2, 8},
        {"augment", offsetof(struct matcher_settings, augment), 0, MATCHER_MAX_AUGMENT},
        {"gate_epochs", offsetof(struct matcher_settings, gate_epochs), 1, 50},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, ints[i].key);
        if (v && (!cJSON_IsNumber(v) || v->valuedouble != (double)v->valueint ||
                  v->valueint < ints[i].lo || v->valueint > ints[i].hi))
            problemf(&b->pb, b->file, ints[i].key, "must be an integer in [%d, %d]", ints[i].lo,
                     ints[i].hi);
        else if (v)
            *(int *)(void *)((char *)s + ints[i].off) = v->valueint;
    }
    const cJSON *bin = cJSON_GetObjectItemCaseSensitive(j, "binary");
    if (bin && !cJSON_IsBool(bin))
        problemf(&b->pb, b->file, "binary", "must be true or false");
    else if (bin)
        s->binary = cJSON_IsTrue(bin);
    load_stack(b, cJSON_GetObjectItemCaseSensitive(j, "stack"));
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(j, "per_line");
    if (pl && !cJSON_IsBool(pl))
        problemf(&b->pb, b->file, "per_line", "must be true or false");
    else if (pl)
        s->per_line = cJSON_IsTrue(pl);
}

/* known_words comes after the syllables: it names words that are not. */
static void load_known_words(struct builder *b, const cJSON *j)
{
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(j, "known_words"), *e;
    snprintf(b->file, sizeof b->file, "_matcher.json");
    if (kw && !cJSON_IsArray(kw))
        problemf(&b->pb, b->file, "known_words", "must be an array of strings");
    cJSON_ArrayForEach(e, kw) {
        char *f = cJSON_IsString(e) ? norm_fold(e->valuestring, strlen(e->valuestring), NULL) : NULL;
        if (!f)
            problemf(&b->pb, b->file, "known_words", "every item must be a UTF-8 string");
        else
            rewriter_add_known(&b->m->rw, f);
        free(f);
    }
}

static void load_syllables(struct builder *b, const cJSON *j)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "syllables"), *e;
    snprintf(b->file, sizeof b->file, "_syllables.json");
    if (!cJSON_IsArray(list)) {
        problemf(&b->pb, b->file, "syllables", "missing: an array of folded syllables");
        return;
    }
    cJSON_ArrayForEach(e, list) {
        const char *s = cJSON_IsString(e) ? e->valuestring : "";
        size_t n = strlen(s), i = 0;
        while (i < n && s[i] >= 'a' && s[i] <= 'z')
            i++;
        if (!n || i != n || n > VNSPELL_MAX_WORD)
            problemf(&b->pb, b->file, "syllables", "'%s': must be lower-case letters a-z", s);
        else
            rewriter_add_syllable(&b->m->rw, s, n);
    }
}

static void load_abbreviations(struct builder *b, const cJSON *j)
{
    if (!j)
        return;
    snprintf(b->file, sizeof b->file, "_abbreviations.json");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(j, "abbreviations"), *e;
    if (!cJSON_IsObject(map)) {
        problemf(&b->pb, b->file, "abbreviations", "missing object {\"abbr\": \"expansion\"}");
        return;
    }
    cJSON_ArrayForEach(e, map) {
        size_t klen;
        char *key = norm_fold(e->string, strlen(e->string), &klen);
        char *val = cJSON_IsString(e) ? norm_fold(e->valuestring, strlen(e->valuestring), NULL) : NULL;
        if (!key || !val || !klen || strchr(key, ' ') || !*val || klen > VNSPELL_MAX_WORD)
            problemf(&b->pb, b->file, "abbreviations",
                     "'%s': key must be one word, value a non-empty string",
                     e->string);
        else
            rewriter_add_abbreviation(&b->m->rw, key, klen, val);
        free(key);
        free(val);
    }
}

void matcher_settings_load(struct builder *b)
{
    struct matcher *m = b->m;
    const cJSON *tuning = catalog_extra(m->cat, "matcher");
    load_settings(b, tuning);
    m->rw.typo_min_len = m->set.typo_min_len;
    load_syllables(b, catalog_extra(m->cat, "syllables"));
    load_known_words(b, tuning);
    load_abbreviations(b, catalog_extra(m->cat, "abbreviations"));
}
