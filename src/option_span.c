/* option_span — lengths of time said in words, and options that are ranges
 * of them (see option_span.h). */
#include "dvcbot/option_span.h"
#include "dvcbot/normalize.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SPAN_WORDS_MAX 24

struct word {
    const char *s;
    size_t len;
};

static bool word_is(const struct word *w, const char *s)
{
    return w->len == strlen(s) && strncmp(w->s, s, w->len) == 0;
}

static size_t split(const char *f, struct word *w, size_t cap)
{
    size_t n = 0;
    while (*f && n < cap) {
        while (*f == ' ')
            f++;
        const char *start = f;
        while (*f && *f != ' ')
            f++;
        if (f > start)
            w[n++] = (struct word){start, (size_t)(f - start)};
    }
    return n;
}

/* Days of a unit word, 0 for another word. */
static long unit_days(const struct word *w)
{
    static const struct { const char *word; long days; } units[] = {
        {"nam", 360}, {"thang", 30}, {"tuan", 7}, {"ngay", 1},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (word_is(w, units[i].word))
            return units[i].days;
    return 0;
}

/* A count in halves ("nửa" 1, "2" 4, "ba" 6), 0 for another word. */
static long halves(const struct word *w)
{
    static const char *const said[] = {"mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam",
                                       "chin", "muoi"};
    if (word_is(w, "nua"))
        return 1;
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++)
        if (word_is(w, said[i]))
            return 2 * ((long)i + 1);
    if (w->len == 0 || w->len > 4)
        return 0;
    long v = 0;
    for (size_t i = 0; i < w->len; i++) {
        if (w->s[i] < '0' || w->s[i] > '9')
            return 0;
        v = v * 10 + (w->s[i] - '0');
    }
    return 2 * v;
}

/* The count in halves ending at word i ("mười hai": 24), its first word
 * in *first; 0 when word i is no count. */
static long count_at(const struct word *w, size_t i, size_t *first)
{
    long h = halves(&w[i]);
    *first = i;
    if (h && h < 20 && i >= 1 && word_is(&w[i - 1], "muoi")) {
        *first = i - 1;
        h += 20;
    }
    return h;
}

/* The one "<count> <unit>" of the answer in days (a "rưỡi" after it adds
 * half a unit), nudged a day by "hơn"/"trên" or "dưới"/"gần" before the
 * count; -1 when it holds none, -2 when several. */
static long said_span(const struct word *w, size_t n)
{
    long span = -1;
    for (size_t i = 1; i < n; i++) {
        size_t first;
        long unit = unit_days(&w[i]), h = unit ? count_at(w, i - 1, &first) : 0;
        if (!h)
            continue;
        if (span >= 0)
            return -2;
        if (i + 1 < n && word_is(&w[i + 1], "ruoi"))
            h++;
        span = h * unit / 2;
        const struct word *before = first ? &w[first - 1] : NULL;
        if (before && (word_is(before, "hon") || word_is(before, "tren")))
            span++;
        else if (before && (word_is(before, "duoi") || word_is(before, "gan")))
            span--;
    }
    return span;
}

/* An option's range in days: "duoi 6 thang" ..179, "6 12 thang" 180..360,
 * "tren 1 nam" 361.., "3 thang" 90..90, its unit's days in *unit_out.
 * False unless it is a span. */
static bool option_range(const char *o, long *lo, long *hi, long *unit_out)
{
    struct word w[SPAN_WORDS_MAX];
    size_t n = split(o, w, SPAN_WORDS_MAX);
    long count[2] = {0, 0}, unit = 0;
    size_t nc = 0;
    bool below = false, above = false;
    for (size_t i = 0; i < n; i++) {
        long h = halves(&w[i]);
        if (h && !unit_days(&w[i]) && nc < 2)
            count[nc++] = h;
        else if (nc && !unit)
            unit = unit_days(&w[i]);
        below = below || word_is(&w[i], "duoi");
        above = above || word_is(&w[i], "tren") || word_is(&w[i], "hon");
    }
    if (!nc || !unit)
        return false;
    *unit_out = unit;
    *lo = count[0] * unit / 2;
    *hi = (nc == 2 ? count[1] : count[0]) * unit / 2;
    if (below && nc == 1)
        *lo = 0, *hi -= 1;
    else if (above)
        *lo += 1, *hi = LONG_MAX;
    return true;
}

/* The option holding span (-1 when none or several; span -1: none does),
 * OPTION_SPAN_NONE when an option is no span; *mixed: the options' units
 * differ. */
static int pick(long span, const char *const *options, size_t n, bool *mixed)
{
    int found = -1, hits = 0;
    long first_unit = 0;
    *mixed = false;
    for (size_t i = 0; i < n; i++) {
        char *o = norm_fold(options[i], strlen(options[i]), NULL);
        long lo, hi, unit;
        bool is_span = o && option_range(o, &lo, &hi, &unit);
        free(o);
        if (!is_span)
            return OPTION_SPAN_NONE;
        *mixed = *mixed || (first_unit && unit != first_unit);
        first_unit = unit;
        if (span >= 0 && span >= lo && span <= hi) {
            found = (int)i;
            hits++;
        }
    }
    return hits == 1 ? found : -1;
}

int option_span_pick(const char *folded, const char *const *options, size_t n)
{
    struct word w[SPAN_WORDS_MAX];
    long span = said_span(w, split(folded, w, SPAN_WORDS_MAX));
    bool mixed;
    return span == -1 ? OPTION_SPAN_NONE : pick(span, options, n, &mixed); /* several: none */
}

bool option_span_units_differ(const char *const *options, size_t n)
{
    bool mixed;
    return pick(-1, options, n, &mixed) != OPTION_SPAN_NONE && mixed;
}
