/* vnspell — syllables, Telex/VNI leftovers, glued text, northern spellings. */
#include "dvcbot/vnspell.h"
#include "dvcbot/mem.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* A piece of glued text is at most this long (a syllable is at most 7
 * letters, Telex marks add up to 4). */
#define MAX_PIECE 12
#define COST_SYLLABLE 1.0
#define COST_ONE_LETTER 0.6 /* extra for "a", "o", "y": rarely meant alone */
#define COST_TELEX 0.6      /* extra for a piece typed with Telex marks */

void vnspell_init(struct vnspell *vs)
{
    wordmap_init(&vs->syllables);
    wordmap_init(&vs->extra);
    vs->keys = NULL;
    vs->keys_len = vs->keys_cap = 0;
    vs->extra_cost = NULL;
    vs->n_extra = 0;
    vs->cap_extra = 0;
}

void vnspell_free(struct vnspell *vs)
{
    wordmap_free(&vs->syllables);
    wordmap_free(&vs->extra);
    free(vs->keys);
    free(vs->extra_cost);
    vnspell_init(vs);
}

static size_t syllable_key(const char *w, size_t n, char *out);

/* A syllable's value in the map: where its spelling key is in keys, and
 * its length (at most VNSPELL_MAX_WORD + 1 < 64). */
#define KEY_LEN_BITS 6

void vnspell_add_syllable(struct vnspell *vs, const char *w, size_t n)
{
    int v;
    if (!n || n > VNSPELL_MAX_WORD || wordmap_get(&vs->syllables, w, n, &v))
        return;
    char key[VNSPELL_MAX_WORD + 2];
    size_t kl = syllable_key(w, n, key);
    vs->keys = xreserve(vs->keys, &vs->keys_cap, vs->keys_len + kl, 1, 4096);
    memcpy(vs->keys + vs->keys_len, key, kl);
    wordmap_put(&vs->syllables, w, n, (int)((vs->keys_len << KEY_LEN_BITS) | kl));
    vs->keys_len += kl;
}

void vnspell_add_piece(struct vnspell *vs, const char *w, size_t n, double cost)
{
    int i;
    if (!n || n > MAX_PIECE)
        return;
    if (wordmap_get(&vs->extra, w, n, &i)) {
        if (cost < vs->extra_cost[i])
            vs->extra_cost[i] = cost;
        return;
    }
    vs->extra_cost = xreserve(vs->extra_cost, &vs->cap_extra, vs->n_extra + 1, sizeof *vs->extra_cost, 256);
    vs->extra_cost[vs->n_extra] = cost;
    wordmap_put(&vs->extra, w, n, (int)vs->n_extra++);
}

size_t vnspell_syllable_count(const struct vnspell *vs)
{
    return wordmap_len(&vs->syllables);
}

bool vnspell_is_syllable(const struct vnspell *vs, const char *w, size_t n)
{
    int v;
    return wordmap_get(&vs->syllables, w, n, &v);
}

/* ===== Telex and VNI ===== */

static bool is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

static bool is_tone_key(char c)
{
    return c == 's' || c == 'f' || c == 'r' || c == 'x' || c == 'j';
}

/* Drops the vowel-shape marks of Telex: aa ee oo dd (â ê ô đ), aw ow uw
 * (ă ơ ư); a "w" standing alone is ư. Skips position `skip` (a tone key). */
static size_t strip_shape_marks(const char *w, size_t n, size_t skip, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        if (i == skip)
            continue;
        if (c == 'w') {
            if (o && (out[o - 1] == 'u' || out[o - 1] == 'o' || out[o - 1] == 'a'))
                continue;
            out[o++] = 'u';
            continue;
        }
        if (o && c == out[o - 1] && (c == 'a' || c == 'e' || c == 'o' || (c == 'd' && o == 1)))
            continue;
        out[o++] = c;
    }
    return o;
}

/* VNI: digits typed after letters ("ky1", "vie65t"); all dropped. */
static size_t strip_digits(const char *w, size_t n, char *out)
{
    size_t o = 0;
    bool digit = false;
    if (n == 0 || (w[0] >= '0' && w[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] >= '0' && w[i] <= '9')
            digit = true;
        else
            out[o++] = w[i];
    }
    return digit ? o : 0;
}

size_t vnspell_untelex(const struct vnspell *vs, const char *w, size_t n, char *out, size_t cap)
{
    char buf[VNSPELL_MAX_WORD + 1];
    if (n < 2 || n > VNSPELL_MAX_WORD || cap < n + 1 || vnspell_is_syllable(vs, w, n))
        return 0;
    size_t d = strip_digits(w, n, buf);
    if (d) {
        if (!vnspell_is_syllable(vs, buf, d))
            return 0;
        memcpy(out, buf, d);
        out[d] = '\0';
        return d;
    }
    size_t first_vowel = n;
    for (size_t i = 0; i < n && first_vowel == n; i++)
        if (is_vowel(w[i]))
            first_vowel = i;
    /* The tone key: none, or one letter after the first vowel, the last first. */
    for (size_t k = n + 1; k-- > 0;) {
        size_t skip = k == n ? (size_t)-1 : k;
        if (k < n && (k <= first_vowel || !is_tone_key(w[k])))
            continue;
        size_t m = strip_shape_marks(w, n, skip, buf);
        if (m && m < n + (k == n) && vnspell_is_syllable(vs, buf, m)) {
            memcpy(out, buf, m);
            out[m] = '\0';
            return m;
        }
    }
    return 0;
}

/* ===== Cutting glued text ===== */

/* A Telex-typed piece has a mark to strip: w, a doubled aa/ee/oo/dd, or a
 * tone key at its end. Cheap test before the lookups. */
static bool may_be_telex(const char *w, size_t n)
{
    if (is_tone_key(w[n - 1]))
        return true;
    for (size_t i = 0; i < n; i++)
        if (w[i] == 'w' || (i && w[i] == w[i - 1]))
            return true;
    return false;
}

/* Cost of w as one piece, or DBL_MAX; *telex says whether it is typed with marks. */
static double piece_cost(const struct vnspell *vs, const char *w, size_t n, bool *telex)
{
    int i;
    *telex = false;
    if (wordmap_get(&vs->extra, w, n, &i))
        return vs->extra_cost[i];
    if (vnspell_is_syllable(vs, w, n))
        return COST_SYLLABLE + (n == 1 ? COST_ONE_LETTER : 0);
    char buf[VNSPELL_MAX_WORD + 1];
    if (n >= 2 && may_be_telex(w, n) && vnspell_untelex(vs, w, n, buf, sizeof buf)) {
        *telex = true;
        return COST_SYLLABLE + COST_TELEX;
    }
    return DBL_MAX;
}

size_t vnspell_cut(const struct vnspell *vs, const char *w, size_t n,
                   struct vnspell_piece out[VNSPELL_MAX_PIECES])
{
    double best[VNSPELL_MAX_WORD + 1];
    unsigned char from[VNSPELL_MAX_WORD + 1];
    bool telex[VNSPELL_MAX_WORD + 1];
    if (n < 2 || n > VNSPELL_MAX_WORD)
        return 0;
    best[0] = 0;
    for (size_t i = 1; i <= n; i++)
        best[i] = DBL_MAX;
    for (size_t i = 0; i < n; i++) {
        if (best[i] == DBL_MAX)
            continue;
        for (size_t len = 1; len <= MAX_PIECE && i + len <= n; len++) {
            bool t;
            double c = piece_cost(vs, w + i, len, &t);
            if (c == DBL_MAX || best[i] + c >= best[i + len])
                continue;
            best[i + len] = best[i] + c;
            from[i + len] = (unsigned char)i;
            telex[i + len] = t;
        }
    }
    if (best[n] == DBL_MAX)
        return 0;
    size_t count = 0;
    for (size_t e = n; e > 0; e = from[e])
        count++;
    if (count < 2 || count > VNSPELL_MAX_PIECES)
        return 0;
    size_t k = count;
    for (size_t e = n; e > 0; e = from[e]) {
        k--;
        out[k].off = from[e];
        out[k].len = (unsigned char)(e - from[e]);
        out[k].telex = telex[e];
    }
    return count;
}

/* ===== Spelling key ===== */

/* Letters of the initial consonant: "ngh", "tr", "gi" before a vowel, "qu". */
static size_t onset_len(const char *w, size_t n)
{
    size_t i = 0;
    while (i < n && !is_vowel(w[i]))
        i++;
    if (i == 1 && n > 2 && ((w[0] == 'g' && w[1] == 'i' && is_vowel(w[2])) ||
                            (w[0] == 'q' && w[1] == 'u')))
        return 2;
    return i;
}

/* The merged initial, or NULL to keep it. Called for every word the
 * matcher reads: compares by length, no string scans. */
static const char *merged_onset(const char *o, size_t n)
{
    static const struct {
        char from[4];
        const char *to;
    } map[] = {
        {"ngh", "ng"}, {"gh", "g"}, {"gi", "d"}, {"tr", "ch"}, {"s", "x"},
        {"r", "d"},    {"n", "l"},  {"k", "c"},  {"qu", "cu"},
    };
    if (n == 0 || n > 3)
        return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].from[0] == o[0] && map[i].from[n] == '\0' && memcmp(map[i].from, o, n) == 0)
            return map[i].to;
    return NULL;
}

/* The spelling key of a syllable (see vnspell.h) into out (n + 2 bytes):
 * computed once per syllable, when it is added. */
static size_t syllable_key(const char *w, size_t n, char *out)
{
    size_t on = onset_len(w, n), o = 0;
    const char *m = merged_onset(w, on);
    if (on == 1 && w[0] == 'g' && n > 1 && w[1] == 'i')
        m = "d"; /* "gin", "gi": the i is also the vowel */
    if (m) {
        o = strlen(m);
        memcpy(out, m, o);
    } else {
        memcpy(out, w, on);
        o = on;
    }
    if (on && n - on == 1 && w[on] == 'y') {
        out[o++] = 'i'; /* "ky"/"ki", "ly"/"li": one syllable, two spellings */
    } else {
        memcpy(out + o, w + on, n - on);
        o += n - on;
    }
    out[o] = '\0';
    return o;
}

size_t vnspell_key(const struct vnspell *vs, const char *w, size_t n, char *out, size_t cap)
{
    int v;
    if (cap < n + 2)
        return 0;
    if (!wordmap_get(&vs->syllables, w, n, &v)) {
        memcpy(out, w, n);
        out[n] = '\0';
        return n;
    }
    size_t kl = (size_t)v & ((1u << KEY_LEN_BITS) - 1);
    memcpy(out, vs->keys + ((size_t)v >> KEY_LEN_BITS), kl);
    out[kl] = '\0';
    return kl;
}

size_t vnspell_key_reference(const struct vnspell *vs, const char *w, size_t n, char *out,
                             size_t cap)
{
    if (cap < n + 2)
        return 0;
    if (!vnspell_is_syllable(vs, w, n)) {
        memcpy(out, w, n);
        out[n] = '\0';
        return n;
    }
    return syllable_key(w, n, out);
}
