/* fuzz_matcher — a typed line through the normalizer and the matcher with
 * the real catalog (intents/ under fuzz_data_dir(), loaded once): folding,
 * abbreviations, Telex, glued words, typo correction (rewrite.c,
 * vnspell.c), the models and patterns (matcher.c); and each folded word
 * through vnspell directly, with the real syllable list.
 *
 * Properties: folding is idempotent and norm_fold_into agrees with
 * norm_fold (or says the buffer is too small); a folded line is lower-case
 * ASCII or non-ASCII letters, digits and single spaces; classification
 * always names an id of the catalog with a score in [0, 1]; vnspell's
 * answers stay within the word and the buffers it is given. */
#include "fuzz.h"
#include "dvcbot/catalog.h"
#include "dvcbot/matcher.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"
#include "dvcbot/vnspell.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct catalog *cat;
static struct matcher *matcher;
static struct vnspell spell;

static void load_spell(void)
{
    vnspell_init(&spell);
    const cJSON *j = catalog_extra(cat, "syllables");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "syllables"), *e;
    cJSON_ArrayForEach(e, list)
        if (cJSON_IsString(e))
            vnspell_add_syllable(&spell, e->valuestring, strlen(e->valuestring));
    if (vnspell_syllable_count(&spell) < 1000)
        fuzz_fail("intents/_syllables.json: too few syllables");
    vnspell_add_piece(&spell, "bhyt", 4, 1.5);
    vnspell_add_piece(&spell, "zalo", 4, 1.5);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    char dir[4096], *err = NULL;
    snprintf(dir, sizeof dir, "%s/intents", fuzz_data_dir());
    cat = catalog_load(dir, &err);
    if (cat)
        matcher = matcher_new(cat, &err);
    if (!matcher) {
        fprintf(stderr, "fuzz_matcher: cannot load the catalog from %s: %s\n", dir,
                err ? err : "?");
        abort();
    }
    load_spell();
    return 0;
}

static void check_fold(const char *text, size_t len, const char *f, size_t flen)
{
    if (strlen(f) != flen)
        fuzz_fail("folded length differs from the string");
    for (size_t i = 0; i < flen; i++) {
        unsigned char c = (unsigned char)f[i];
        if ((c >= 'A' && c <= 'Z') || (c < 0x80 && c != ' ' && !(c >= 'a' && c <= 'z') &&
                                       !(c >= '0' && c <= '9')))
            fuzz_fail("folded text holds upper case or punctuation");
        if (c == ' ' && (i == 0 || i + 1 == flen || f[i + 1] == ' '))
            fuzz_fail("folded text has a leading, trailing or double space");
    }
    size_t again_len;
    char *again = norm_fold(f, flen, &again_len);
    if (!again || again_len != flen || memcmp(again, f, flen) != 0)
        fuzz_fail("folding is not idempotent");
    free(again);
    char small[16], big[64];
    size_t n = norm_fold_into(text, len, small, sizeof small);
    if (n != NORM_ERROR ? n != flen || memcmp(small, f, n + 1) != 0 : flen + 1 <= sizeof small)
        fuzz_fail("norm_fold_into disagrees with norm_fold (16 bytes)");
    n = norm_fold_into(text, len, big, sizeof big);
    if (n != NORM_ERROR ? n != flen || memcmp(big, f, n + 1) != 0 : flen + 1 <= sizeof big)
        fuzz_fail("norm_fold_into disagrees with norm_fold (64 bytes)");
}

static void spell_word(const char *w, size_t n)
{
    char out[VNSPELL_MAX_WORD + 1], key[VNSPELL_MAX_WORD * 2 + 8];
    bool syllable = vnspell_is_syllable(&spell, w, n);
    size_t u = vnspell_untelex(&spell, w, n, out, sizeof out);
    if (u > VNSPELL_MAX_WORD || (u && syllable))
        fuzz_fail("vnspell_untelex: too long, or it changed a syllable");
    struct vnspell_piece pieces[VNSPELL_MAX_PIECES];
    size_t np = vnspell_cut(&spell, w, n, pieces);
    if (np == 1 || np > VNSPELL_MAX_PIECES)
        fuzz_fail("vnspell_cut: piece count out of range");
    size_t at = 0;
    for (size_t i = 0; i < np; i++) {
        if (pieces[i].off != at || pieces[i].len == 0)
            fuzz_fail("vnspell_cut: pieces do not tile the word");
        at += pieces[i].len;
    }
    if (np && at != n)
        fuzz_fail("vnspell_cut: pieces do not cover the word");
    if (n + 2 <= sizeof key && vnspell_key(&spell, w, n, key, n + 2) > n + 1)
        fuzz_fail("vnspell_key: longer than its buffer");
}

static void spell_words(const char *f, size_t flen)
{
    for (size_t i = 0; i < flen;) {
        size_t j = i;
        while (j < flen && f[j] != ' ')
            j++;
        spell_word(f + i, j - i);
        i = j + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t flen;
    char *f = norm_fold(text, size, &flen);
    if (f) {
        check_fold(text, size, f, flen);
        spell_words(f, flen);
        free(f);
    }
    struct match_result r;
    matcher_classify(matcher, text, size, &r);
    if (!r.id || !catalog_find(cat, r.id) || !(r.score >= 0.0 && r.score <= 1.0))
        fuzz_fail("classification outside the catalog or the score range");
    if (r.alt_id && !catalog_find(cat, r.alt_id))
        fuzz_fail("runner-up outside the catalog");
    if (r.procedure && !catalog_find(cat, r.procedure))
        fuzz_fail("procedure outside the catalog");
    char line[64];
    size_t n = matcher_rewrite(matcher, text, size, line, sizeof line);
    if (n >= sizeof line || strlen(line) != n)
        fuzz_fail("matcher_rewrite: past its buffer");
    struct buf explain;
    buf_init(&explain);
    matcher_explain(matcher, text, size, &explain);
    buf_free(&explain);
    return 0;
}
