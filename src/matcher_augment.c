/* matcher_augment — typing slips, applied to training lines. */
#include "dvcbot/matcher_augment.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* One word of three letters or more slips in every copy, a second one in
 * this many out of 1000; out of 1000, per space two words are glued, per
 * word (in lines of four words or more) one is left out. */
#define P_SECOND_SLIP 300
#define P_GLUE 80
#define P_DROP 50

struct rng {
    uint64_t s;
};

static unsigned next(struct rng *r, unsigned n)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (unsigned)((r->s >> 11) % n);
}

/* The letters around each one on a phone's QWERTY keyboard. */
static const char *neighbours(char c)
{
    static const char *const near[26] = {
        "qswz", "vghn", "xdfv", "serfcx", "wsdr", "drtgvc", "ftyhbv", "gyujnb", "ujko",
        "huikmn", "jiolm", "kop", "njk", "bhjm", "iklp", "ol", "wa", "edft", "awedxz",
        "rfgy", "yhji", "cfgb", "qase", "zsdc", "tghu", "asx",
    };
    return c >= 'a' && c <= 'z' ? near[c - 'a'] : "";
}

/* One slip inside a word w[0..n) copied to out; returns the new length. */
static size_t slip(struct rng *r, const char *w, size_t n, char *out)
{
    size_t i = 1 + next(r, (unsigned)(n - 1)); /* the first letter is rarely wrong */
    memcpy(out, w, n);
    switch (next(r, 4)) {
    case 0: /* dropped */
        memmove(out + i, out + i + 1, n - i - 1);
        return n - 1;
    case 1: /* doubled */
        memmove(out + i + 1, out + i, n - i);
        return n + 1;
    case 2: /* swapped with the previous one */
        out[i] = w[i - 1];
        out[i - 1] = w[i];
        return n;
    default: { /* a neighbouring key */
        const char *near = neighbours(w[i]);
        size_t k = strlen(near);
        if (k)
            out[i] = near[next(r, (unsigned)k)];
        return n;
    }
    }
}

static size_t count_words(const char *s, size_t len)
{
    size_t n = len ? 1 : 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == ' ';
    return n;
}

size_t matcher_augment_line(const char *folded, size_t len, unsigned variant, char *out,
                            size_t cap)
{
    struct rng r = {0x9e3779b97f4a7c15ull * (variant + 1)};
    for (size_t i = 0; i < len; i++)
        r.s = (r.s ^ (unsigned char)folded[i]) * 0x100000001b3ull;
    r.s |= 1;
    size_t words = count_words(folded, len), o = 0, w = 0;
    bool can_drop = words >= 4;
    /* the words that slip: one, sometimes two (a word too short to slip
     * just does not) */
    size_t slip1 = words ? next(&r, (unsigned)words) : 0;
    size_t slip2 = words && next(&r, 1000) < P_SECOND_SLIP ? next(&r, (unsigned)words) : slip1;
    for (size_t i = 0; i < len; w++) {
        size_t j = i;
        while (j < len && folded[j] != ' ')
            j++;
        size_t n = j - i;
        if (o + n + 2 >= cap)
            return 0;
        if (can_drop && w != slip1 && next(&r, 1000) < P_DROP) {
            /* left out */
        } else if (n >= 3 && (w == slip1 || w == slip2)) {
            o += slip(&r, folded + i, n, out + o);
        } else {
            memcpy(out + o, folded + i, n);
            o += n;
        }
        if (j < len && o && out[o - 1] != ' ' && next(&r, 1000) >= P_GLUE)
            out[o++] = ' ';
        i = j + 1;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return o && (o != len || memcmp(out, folded, len) != 0) ? o : 0;
}
