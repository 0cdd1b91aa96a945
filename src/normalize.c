/* normalize — Vietnamese-friendly folding with utf8proc. */
#include "dvcbot/normalize.h"
#include "dvcbot/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Options for one code point: canonical + compatibility decomposition, case
 * fold, marks dropped. Decomposing and dropping every mark gives the same
 * result as NFC followed by stripping, whatever the tone placement. */
#define FOLD_OPTIONS (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK)

/* Longest expansion of one code point under FOLD_OPTIONS is 18 code points
 * (U+FDFA); leave room. */
#define FOLD_MAX_CP 32

struct out {
    char *p;
    size_t len, cap;
    bool pending_space; /* a separator was seen after the last kept char */
};

static bool out_byte(struct out *o, char c)
{
    if (o->pending_space) {
        o->pending_space = false;
        if (o->len) {
            if (o->len + 1 >= o->cap)
                return false;
            o->p[o->len++] = ' ';
        }
    }
    if (o->len + 1 >= o->cap)
        return false;
    o->p[o->len++] = c;
    return true;
}

static bool out_cp(struct out *o, utf8proc_int32_t cp)
{
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, enc);
    for (utf8proc_ssize_t i = 0; i < n; i++)
        if (!out_byte(o, (char)enc[i]))
            return false;
    return true;
}

static bool is_kept_category(utf8proc_category_t c)
{
    switch (c) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

static bool is_mark_category(utf8proc_category_t c)
{
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

/* Folds one non-ASCII code point. Returns false when out is full. */
static bool fold_cp(struct out *o, utf8proc_int32_t cp)
{
    /* đ/Đ have no decomposition: fold them by hand. */
    if (cp == 0x0111 || cp == 0x0110)
        return out_byte(o, 'd');
    utf8proc_int32_t dst[FOLD_MAX_CP];
    int boundclass = UTF8PROC_BOUNDCLASS_START;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, dst, FOLD_MAX_CP, FOLD_OPTIONS, &boundclass);
    if (n < 0 || n > FOLD_MAX_CP) {
        o->pending_space = true;
        return true;
    }
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        utf8proc_int32_t c = dst[i];
        if (c == 0x0111)
            c = 'd';
        utf8proc_category_t cat = utf8proc_category(c);
        if (c < 0x80) {
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                if (!out_byte(o, (char)c))
                    return false;
            } else if (c >= 'A' && c <= 'Z') {
                if (!out_byte(o, (char)(c - 'A' + 'a')))
                    return false;
            } else {
                o->pending_space = true;
            }
        } else if (is_kept_category(cat)) {
            if (!out_cp(o, c))
                return false;
        } else if (!is_mark_category(cat)) {
            o->pending_space = true;
        }
    }
    return true;
}

/* The ASCII fast path: the folded byte, or 0 for a separator. */
static char ascii_fold(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)c;
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    if (c >= '0' && c <= '9')
        return (char)c;
    return 0;
}

/* Folds into outp; on NORM_ERROR, *invalid says whether the input was bad
 * UTF-8 (true) or the buffer too small (false). */
static size_t fold(const char *text, size_t len, char *outp, size_t cap, bool *invalid)
{
    struct out o = {.p = outp, .len = 0, .cap = cap, .pending_space = false};
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    size_t i = 0;
    *invalid = false;
    if (cap == 0)
        return NORM_ERROR;
    while (i < len) {
        if (s[i] < 0x80) {
            char f = ascii_fold(s[i++]);
            if (!f)
                o.pending_space = true;
            else if (!out_byte(&o, f))
                return NORM_ERROR;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0 || cp < 0) {
            *invalid = true;
            return NORM_ERROR;
        }
        i += (size_t)n;
        if (!fold_cp(&o, cp))
            return NORM_ERROR;
    }
    o.p[o.len] = '\0';
    return o.len;
}

size_t norm_fold_into(const char *text, size_t len, char *out, size_t cap)
{
    bool invalid = false;
    return fold(text, len, out, cap, &invalid);
}

char *norm_fold(const char *text, size_t len, size_t *out_len)
{
    /* Folding never grows a byte by more than this, except for rare
     * compatibility expansions: retry with room for those. */
    size_t cap = len + 16;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool invalid = false;
        char *out = xmalloc(cap);
        size_t n = fold(text, len, out, cap, &invalid);
        if (n != NORM_ERROR) {
            if (out_len)
                *out_len = n;
            return out;
        }
        free(out);
        if (invalid)
            return NULL;
        /* 18 code points of 4 bytes per input byte bounds any expansion. */
        cap = len * 72 + 16;
    }
    return NULL;
}

/* ===== Marked words ===== */

/* The letter standing for a combining mark, or 0 for other marks. */
static char mark_letter(utf8proc_int32_t c)
{
    switch (c) {
    case 0x0301: return 'S';
    case 0x0300: return 'F';
    case 0x0309: return 'R';
    case 0x0303: return 'X';
    case 0x0323: return 'J';
    case 0x0302: return 'A';
    case 0x0306: return 'W';
    case 0x031B: return 'H';
    default: return 0;
    }
}

struct marked {
    char word[64], marks[32];
    size_t wn, mn;
};

/* Appends the current word when it has marks; false when out is full. */
static bool marked_flush(struct marked *m, struct out *o)
{
    bool ok = true;
    if (m->mn && m->wn + m->mn < sizeof m->word) {
        o->pending_space = o->len > 0;
        for (size_t i = 0; ok && i < m->wn; i++)
            ok = out_byte(o, m->word[i]);
        for (size_t i = 0; ok && i < m->mn; i++)
            ok = out_byte(o, m->marks[i]);
    }
    m->wn = m->mn = 0;
    return ok;
}

static void marked_letter(struct marked *m, char c)
{
    if (m->wn < sizeof m->word)
        m->word[m->wn++] = c;
}

static void marked_mark(struct marked *m, char c)
{
    if (m->mn < sizeof m->marks)
        m->marks[m->mn++] = c;
}

/* One code point of a word; false when it ends the word. */
static bool marked_cp(struct marked *m, utf8proc_int32_t cp)
{
    if (cp < 0x80) {
        char f = ascii_fold((unsigned char)cp);
        if (f)
            marked_letter(m, f);
        return f != 0;
    }
    if (cp == 0x0111 || cp == 0x0110) {
        marked_letter(m, 'd');
        marked_mark(m, 'D');
        return true;
    }
    utf8proc_int32_t dst[FOLD_MAX_CP];
    int boundclass = UTF8PROC_BOUNDCLASS_START;
    utf8proc_ssize_t n = utf8proc_decompose_char(
        cp, dst, FOLD_MAX_CP, UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD, &boundclass);
    bool letter = false;
    for (utf8proc_ssize_t i = 0; n > 0 && n <= FOLD_MAX_CP && i < n; i++) {
        char k = mark_letter(dst[i]);
        if (k) {
            marked_mark(m, k);
            letter = true;
        } else if (dst[i] < 0x80 && ascii_fold((unsigned char)dst[i])) {
            marked_letter(m, ascii_fold((unsigned char)dst[i]));
            letter = true;
        } else if (is_mark_category(utf8proc_category(dst[i]))) {
            letter = true; /* another mark: part of the word, not named */
        }
    }
    return letter;
}

size_t norm_marked_words(const char *text, size_t len, char *outp, size_t cap)
{
    struct out o = {.p = outp, .len = 0, .cap = cap, .pending_space = false};
    struct marked m = {.wn = 0, .mn = 0};
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    if (!cap)
        return NORM_ERROR;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp = s[i];
        utf8proc_ssize_t n = 1;
        if (s[i] >= 0x80) {
            n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
            if (n <= 0 || cp < 0)
                return NORM_ERROR;
        }
        i += (size_t)n;
        if (!marked_cp(&m, cp) && !marked_flush(&m, &o))
            return NORM_ERROR;
    }
    if (!marked_flush(&m, &o))
        return NORM_ERROR;
    o.p[o.len] = '\0';
    return o.len;
}

bool norm_has_words(const char *text, size_t len, const char *words, size_t n)
{
    const char *end = text + len;
    for (const char *at = text; n && at + n <= end;) {
        const char *hit = memmem(at, (size_t)(end - at), words, n);
        if (!hit)
            return false;
        if ((hit == text || hit[-1] == ' ') && (hit + n == end || hit[n] == ' '))
            return true;
        at = hit + 1;
    }
    return false;
}

#define SAME_WORD_CAP 64

bool norm_same_word(const char *a, size_t an, const char *b, size_t bn)
{
    char fa[SAME_WORD_CAP], fb[SAME_WORD_CAP], ma[SAME_WORD_CAP * 2], mb[SAME_WORD_CAP * 2];
    size_t la = norm_fold_into(a, an, fa, sizeof fa), lb = norm_fold_into(b, bn, fb, sizeof fb);
    if (la == NORM_ERROR || lb == NORM_ERROR || !la || la != lb || memcmp(fa, fb, la) != 0)
        return false;
    la = norm_marked_words(a, an, ma, sizeof ma);
    lb = norm_marked_words(b, bn, mb, sizeof mb);
    return la != NORM_ERROR && la == lb && memcmp(ma, mb, la) == 0;
}

static bool is_word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

const char *norm_next_word(const char **at, const char *end, size_t *n)
{
    const char *p = *at;
    while (p < end && !is_word_byte((unsigned char)*p))
        p++;
    const char *start = p;
    while (p < end && is_word_byte((unsigned char)*p))
        p++;
    *at = p;
    *n = (size_t)(p - start);
    return *n ? start : NULL;
}
