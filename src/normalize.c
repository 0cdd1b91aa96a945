/* normalize — Vietnamese-friendly folding with utf8proc. */
#include "dvcbot/normalize.h"
#include "dvcbot/mem.h"

#include <pthread.h>
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
    char *rec;          /* recording a table entry (fold_table): the actions */
    size_t rn;
};

/* A recorded separator (never an output byte: control characters fold to
 * separators). */
#define ACT_SEP '\x01'
#define ACT_CAP 7

/* out_byte when not recording: the hot path of fold. */
static inline bool put_byte(struct out *o, char c)
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

static bool out_byte(struct out *o, char c)
{
    if (o->rec) {
        if (o->rn < ACT_CAP + 1)
            o->rec[o->rn++] = c;
        return true;
    }
    return put_byte(o, c);
}

static void out_sep(struct out *o)
{
    if (o->rec && o->rn < ACT_CAP + 1)
        o->rec[o->rn++] = ACT_SEP;
    o->pending_space = true;
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
        out_sep(o);
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
                out_sep(o);
            }
        } else if (is_kept_category(cat)) {
            if (!out_cp(o, c))
                return false;
        } else if (!is_mark_category(cat)) {
            out_sep(o);
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

/* A word being read by norm_marked_words. */
struct marked {
    char word[64], marks[32];
    size_t wn, mn;
    char *rec; /* recording a table entry (marked_table): the actions */
    size_t rn;
};

/* ===== Tables of the Vietnamese code points =====
 *
 * Folding a code point depends on nothing but the code point, so the code
 * points Vietnamese text is made of (Latin-1 to IPA, the combining marks,
 * Latin Extended Additional) are folded once, by fold_cp and marked_cp
 * themselves, and their actions kept: a line then costs a table read per
 * code point instead of a utf8proc decomposition. Other code points, and
 * the few whose actions do not fit, take the utf8proc path. */

#define TABLE_A_LO 0x80
#define TABLE_A_HI 0x370
#define TABLE_B_LO 0x1E00
#define TABLE_B_HI 0x1F00
#define TABLE_SIZE ((TABLE_A_HI - TABLE_A_LO) + (TABLE_B_HI - TABLE_B_LO))
#define ACT_NONE 0xFF /* not in the table: fold with utf8proc */

/* A code point's actions in order: bytes to output (ACT_SEP: a
 * separator) for folding; for marked words, letters (lower case, digits)
 * and marks (upper case) with whether it belongs to a word. */
struct fold_entry {
    uint8_t n;
    char act[ACT_CAP];
};

struct marked_entry {
    uint8_t n, letter;
    char act[ACT_CAP - 1];
};

static struct fold_entry fold_table[TABLE_SIZE];
static struct marked_entry marked_table[TABLE_SIZE];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static int table_slot(utf8proc_int32_t cp)
{
    if (cp >= TABLE_A_LO && cp < TABLE_A_HI)
        return cp - TABLE_A_LO;
    if (cp >= TABLE_B_LO && cp < TABLE_B_HI)
        return (TABLE_A_HI - TABLE_A_LO) + cp - TABLE_B_LO;
    return -1;
}

static bool marked_cp(struct marked *m, utf8proc_int32_t cp);

static void build_tables(void)
{
    for (int k = 0; k < 2; k++) {
        utf8proc_int32_t lo = k ? TABLE_B_LO : TABLE_A_LO, hi = k ? TABLE_B_HI : TABLE_A_HI;
        for (utf8proc_int32_t cp = lo; cp < hi; cp++) {
            int slot = table_slot(cp);
            char rec[ACT_CAP + 1];
            struct out o = {.p = NULL, .len = 0, .cap = 0, .rec = rec, .rn = 0};
            fold_cp(&o, cp);
            struct fold_entry *f = &fold_table[slot];
            f->n = o.rn <= ACT_CAP ? (uint8_t)o.rn : ACT_NONE;
            memcpy(f->act, rec, o.rn <= ACT_CAP ? o.rn : 0);
            struct marked m = {.wn = 0, .mn = 0, .rec = rec, .rn = 0};
            bool letter = marked_cp(&m, cp);
            struct marked_entry *e = &marked_table[slot];
            e->n = m.rn <= sizeof e->act ? (uint8_t)m.rn : ACT_NONE;
            e->letter = letter;
            memcpy(e->act, rec, m.rn <= sizeof e->act ? m.rn : 0);
        }
    }
}

/* The table entry of cp, or NULL: fold it with utf8proc. */
static const struct fold_entry *fold_entry(utf8proc_int32_t cp)
{
    int slot = table_slot(cp);
    if (slot < 0)
        return NULL;
    pthread_once(&tables_once, build_tables);
    return fold_table[slot].n == ACT_NONE ? NULL : &fold_table[slot];
}

static const struct marked_entry *marked_entry(utf8proc_int32_t cp)
{
    int slot = table_slot(cp);
    if (slot < 0)
        return NULL;
    pthread_once(&tables_once, build_tables);
    return marked_table[slot].n == ACT_NONE ? NULL : &marked_table[slot];
}

/* The code point at s (left bytes): its length, 0 when not valid UTF-8.
 * Two-byte sequences and those of U+1000..U+1FFF (Latin Extended
 * Additional) are read here; the rest by utf8proc. */
static size_t next_cp(const utf8proc_uint8_t *s, size_t left, utf8proc_int32_t *cp)
{
    if (s[0] >= 0xC2 && s[0] <= 0xDF && left >= 2 && (s[1] & 0xC0) == 0x80) {
        *cp = ((s[0] & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (s[0] == 0xE1 && left >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
        *cp = 0x1000 | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    utf8proc_ssize_t n = utf8proc_iterate(s, (utf8proc_ssize_t)left, cp);
    return n <= 0 || *cp < 0 ? 0 : (size_t)n;
}

/* Folds into outp (with the tables or, for tests, without); on NORM_ERROR,
 * *invalid says whether the input was bad UTF-8 (true) or the buffer too
 * small (false). */
static size_t fold(const char *text, size_t len, char *outp, size_t cap, bool *invalid,
                   bool tables)
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
            else if (!put_byte(&o, f))
                return NORM_ERROR;
            continue;
        }
        utf8proc_int32_t cp;
        size_t n = next_cp(s + i, len - i, &cp);
        if (!n) {
            *invalid = true;
            return NORM_ERROR;
        }
        i += n;
        const struct fold_entry *e = tables ? fold_entry(cp) : NULL;
        if (!e) {
            if (!fold_cp(&o, cp))
                return NORM_ERROR;
            continue;
        }
        for (size_t k = 0; k < e->n; k++) {
            if (e->act[k] == ACT_SEP)
                o.pending_space = true;
            else if (!put_byte(&o, e->act[k]))
                return NORM_ERROR;
        }
    }
    o.p[o.len] = '\0';
    return o.len;
}

size_t norm_fold_into(const char *text, size_t len, char *out, size_t cap)
{
    bool invalid = false;
    return fold(text, len, out, cap, &invalid, true);
}

size_t norm_fold_reference(const char *text, size_t len, char *out, size_t cap)
{
    bool invalid = false;
    return fold(text, len, out, cap, &invalid, false);
}

char *norm_fold(const char *text, size_t len, size_t *out_len)
{
    /* Folding never grows a byte by more than this, except for rare
     * compatibility expansions: retry with room for those. */
    size_t cap = len + 16;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool invalid = false;
        char *out = xmalloc(cap);
        size_t n = fold(text, len, out, cap, &invalid, true);
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

static void marked_record(struct marked *m, char c)
{
    if (m->rn < ACT_CAP)
        m->rec[m->rn++] = c;
}

static void marked_letter(struct marked *m, char c)
{
    if (m->rec) {
        marked_record(m, c);
        return;
    }
    if (m->wn < sizeof m->word)
        m->word[m->wn++] = c;
}

static void marked_mark(struct marked *m, char c)
{
    if (m->rec) {
        marked_record(m, c);
        return;
    }
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

/* One code point of a word from its table entry; false when it ends the
 * word. */
static bool marked_replay(struct marked *m, const struct marked_entry *e)
{
    for (size_t k = 0; k < e->n; k++) {
        char c = e->act[k];
        if (c >= 'A' && c <= 'Z')
            marked_mark(m, c);
        else
            marked_letter(m, c);
    }
    return e->letter;
}

static size_t marked_words(const char *text, size_t len, char *outp, size_t cap, bool tables)
{
    struct out o = {.p = outp, .len = 0, .cap = cap, .pending_space = false};
    struct marked m = {.wn = 0, .mn = 0};
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    if (!cap)
        return NORM_ERROR;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp = s[i];
        size_t n = 1;
        const struct marked_entry *e = NULL;
        if (s[i] >= 0x80) {
            n = next_cp(s + i, len - i, &cp);
            if (!n)
                return NORM_ERROR;
            e = tables ? marked_entry(cp) : NULL;
        }
        i += n;
        bool in_word = e ? marked_replay(&m, e) : marked_cp(&m, cp);
        if (!in_word && !marked_flush(&m, &o))
            return NORM_ERROR;
    }
    if (!marked_flush(&m, &o))
        return NORM_ERROR;
    o.p[o.len] = '\0';
    return o.len;
}

size_t norm_marked_words(const char *text, size_t len, char *out, size_t cap)
{
    return marked_words(text, len, out, cap, true);
}

size_t norm_marked_words_reference(const char *text, size_t len, char *out, size_t cap)
{
    return marked_words(text, len, out, cap, false);
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
