/* validate — slot validators: dates, CCCD numbers, phones, names, text, options. */
#include "dvcbot/validate.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"
#include "dvcbot/option_span.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define VN_UTC_OFFSET_S (7 * 3600)

static const char *const code_names[VALID_CODE_COUNT] = {
    "ok", "empty", "date_format", "date_no_year", "date_not_exist", "date_future", "date_past",
    "date_too_old",
    "cccd_digits", "cccd_invalid", "phone", "option", "text_short", "text_long", "text_chars",
    "name_chars",
};

const char *validate_code_name(enum valid_code code)
{
    return (unsigned)code < VALID_CODE_COUNT ? code_names[code] : "unknown";
}

static bool put(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        return false;
    memcpy(out, s, n + 1);
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ===== Dates ===== */

static int days_in_month(int m, int y)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static struct tm today_vn(time_t now)
{
    time_t t = now + VN_UTC_OFFSET_S;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    return tm;
}

static int parse_uint(const char *s, size_t len)
{
    int v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* The next word of a folded line (words are split by spaces): its start,
 * its length in *len, *p moved past it; NULL when none is left. */
static const char *next_word(const char **p, size_t *len)
{
    while (**p == ' ')
        (*p)++;
    const char *w = *p;
    while (**p && **p != ' ')
        (*p)++;
    *len = (size_t)(*p - w);
    return *len ? w : NULL;
}

/* Splits the folded text into day, month and year parts (as typed). */
static bool date_parts(const char *folded, int *d, int *m, int *y, size_t *ylen)
{
    const char *num[3];
    size_t nlen[3], n = 0;
    const char *p = folded, *w;
    size_t len;
    while ((w = next_word(&p, &len))) {
        bool digits = true;
        for (size_t i = 0; i < len; i++)
            digits = digits && is_digit(w[i]);
        if (digits) {
            if (n == 3)
                return false;
            num[n] = w;
            nlen[n++] = len;
        } else if (!((len == 4 && strncmp(w, "ngay", 4) == 0) ||
                     (len == 4 && (strncmp(w, "mung", 4) == 0 || strncmp(w, "mong", 4) == 0)) ||
                     (len == 5 && strncmp(w, "thang", 5) == 0) ||
                     (len == 3 && strncmp(w, "nam", 3) == 0))) { /* "mùng 3 tháng 11" */
            return false;
        }
    }
    if (n == 2 && nlen[0] <= 2 && nlen[1] <= 2) { /* "5/11": no year */
        *d = parse_uint(num[0], nlen[0]);
        *m = parse_uint(num[1], nlen[1]);
        *y = 0;
        *ylen = 0;
        return true;
    }
    if (n == 1 && nlen[0] == 8) {
        *d = parse_uint(num[0], 2);
        *m = parse_uint(num[0] + 2, 2);
        *y = parse_uint(num[0] + 4, 4);
        *ylen = 4;
        return true;
    }
    if (n != 3 || nlen[0] > 2 || nlen[1] > 2 || (nlen[2] != 2 && nlen[2] != 4))
        return false;
    *d = parse_uint(num[0], nlen[0]);
    *m = parse_uint(num[1], nlen[1]);
    *y = parse_uint(num[2], nlen[2]);
    *ylen = nlen[2];
    return true;
}

/* "hôm qua", "ngày mai" (folded): the day they name, counted from today. */
static const struct {
    const char *words;
    int days;
} day_words[] = {
    {"hom nay", 0}, {"hom qua", -1}, {"hom kia", -2}, {"ngay mai", 1}, {"mai", 1}, {"ngay kia", 2},
};

static bool day_word(const char *folded, time_t now, int *d, int *m, int *y)
{
    for (size_t i = 0; i < sizeof day_words / sizeof day_words[0]; i++) {
        if (strcmp(folded, day_words[i].words) != 0)
            continue;
        struct tm tm = today_vn(now + (time_t)day_words[i].days * 86400);
        *d = tm.tm_mday;
        *m = tm.tm_mon + 1;
        *y = tm.tm_year + 1900;
        return true;
    }
    return false;
}

enum valid_code validate_date(const char *in, enum valid_date_rule rule, time_t now, char *out,
                              size_t cap)
{
    size_t flen;
    char *folded = norm_fold(in, strlen(in), &flen);
    if (!folded)
        return VALID_DATE_FORMAT;
    if (flen == 0) {
        free(folded);
        return VALID_EMPTY;
    }
    int d, m, y;
    size_t ylen = 4;
    bool ok = day_word(folded, now, &d, &m, &y) || date_parts(folded, &d, &m, &y, &ylen);
    free(folded);
    if (!ok)
        return VALID_DATE_FORMAT;
    struct tm today = today_vn(now);
    int this_year = today.tm_year + 1900;
    long now_day = (long)this_year * 10000 + (today.tm_mon + 1) * 100 + today.tm_mday;
    bool past = rule == VALID_DATE_NOT_FUTURE || rule == VALID_DATE_RECENT;
    bool future = rule == VALID_DATE_NOT_PAST || rule == VALID_DATE_UPCOMING;
    if (ylen == 0 && (m < 1 || m > 12 || d < 1 || d > days_in_month(m, 2000)))
        return VALID_DATE_NOT_EXIST;
    if (ylen == 0 && rule != VALID_DATE_RECENT && rule != VALID_DATE_UPCOMING)
        return VALID_DATE_NO_YEAR;
    if (ylen == 0) { /* the last such day, or the next */
        long md = m * 100 + d, today_md = now_day % 10000;
        y = this_year + (past && md > today_md ? -1 : future && md < today_md ? 1 : 0);
    }
    if (ylen == 2)
        y += (future || 2000 + y <= this_year) ? 2000 : 1900;
    if (y > 2100 || m < 1 || m > 12 || d < 1 || d > days_in_month(m, y))
        return VALID_DATE_NOT_EXIST;
    if (y < 1900)
        return VALID_DATE_TOO_OLD;
    long given = (long)y * 10000 + m * 100 + d;
    if (past && given > now_day)
        return VALID_DATE_FUTURE;
    if (future && given < now_day)
        return VALID_DATE_PAST;
    char buf[32];
    snprintf(buf, sizeof buf, "%02d/%02d/%04d", d, m, y);
    return put(out, cap, buf) ? VALID_OK : VALID_TEXT_LONG;
}

bool validate_date_implied(const char *in)
{
    size_t flen;
    char *folded = norm_fold(in, strlen(in), &flen);
    int d, m, y;
    size_t ylen = 1;
    bool implied = folded && (day_word(folded, 0, &d, &m, &y) ||
                              (date_parts(folded, &d, &m, &y, &ylen) && ylen == 0));
    free(folded);
    return implied;
}

/* ===== CCCD ===== */

/* Province codes of the 12-digit personal identification number (Thông tư
 * 59/2021/TT-BCA): the 63 provinces as they were when the numbers were given;
 * numbers keep their code after the 2025 merger of provinces. */
static const char *const provinces[] = {
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020",
    "022", "024", "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038",
    "040", "042", "044", "045", "046", "048", "049", "051", "052", "054", "056", "058", "060",
    "062", "064", "066", "067", "068", "070", "072", "074", "075", "077", "079", "080", "082",
    "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
};

bool validate_cccd_province(const char *three_digits)
{
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0]; i++)
        if (strncmp(provinces[i], three_digits, 3) == 0)
            return true;
    return false;
}

/* Copies the digits of in, skipping the separators people type; false when
 * anything else is there or there are more than max digits. */
static bool digits_only(const char *in, const char *separators, char *digits, size_t max,
                        size_t *n)
{
    *n = 0;
    for (const char *p = in; *p; p++) {
        if (is_digit(*p)) {
            if (*n == max)
                return false;
            digits[(*n)++] = *p;
        } else if (!strchr(separators, *p)) {
            return false;
        }
    }
    digits[*n] = '\0';
    return true;
}

enum valid_code validate_cccd(const char *in, time_t now, char *out, size_t cap)
{
    char d[16];
    size_t n;
    if (!digits_only(in, " .-\t", d, 13, &n))
        return VALID_CCCD_DIGITS;
    if (n == 0)
        return VALID_EMPTY;
    if (n != 12)
        return VALID_CCCD_DIGITS;
    if (!validate_cccd_province(d))
        return VALID_CCCD_INVALID;
    int century = d[3] - '0';
    if (century > 3)
        return VALID_CCCD_INVALID;
    int year = (century < 2 ? 1900 : 2000) + parse_uint(d + 4, 2);
    if (year > today_vn(now).tm_year + 1900)
        return VALID_CCCD_INVALID;
    return put(out, cap, d) ? VALID_OK : VALID_TEXT_LONG;
}

/* ===== Phone ===== */

enum valid_code validate_phone(const char *in, char *out, size_t cap)
{
    const char *p = in;
    while (*p == ' ' || *p == '\t')
        p++;
    bool plus = *p == '+';
    char d[24];
    size_t n;
    if (!digits_only(plus ? p + 1 : p, " .-()\t", d, 16, &n))
        return VALID_PHONE;
    if (n == 0 && !plus)
        return VALID_EMPTY;
    const char *national;
    if (plus)
        national = n == 11 && strncmp(d, "84", 2) == 0 ? d + 2 : NULL;
    else if (n == 13 && strncmp(d, "0084", 4) == 0)
        national = d + 4;
    else if (n == 11 && strncmp(d, "84", 2) == 0)
        national = d + 2;
    else if (n == 10 && d[0] == '0')
        national = d + 1;
    else
        national = NULL;
    if (!national || !strchr("35789", national[0]))
        return VALID_PHONE;
    char buf[32];
    snprintf(buf, sizeof buf, "0%s", national);
    return put(out, cap, buf) ? VALID_OK : VALID_TEXT_LONG;
}

/* ===== Text and names ===== */

struct cps {
    utf8proc_int32_t *cp;
    size_t n;
};

/* NFC, white space collapsed and trimmed, control characters refused. */
static enum valid_code text_cps(const char *in, struct cps *out)
{
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t len = utf8proc_map((const utf8proc_uint8_t *)in, 0, &nfc,
                                        UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (len < 0)
        return VALID_TEXT_CHARS;
    out->cp = xcalloc((size_t)len + 1, sizeof *out->cp);
    out->n = 0;
    bool space = false;
    for (utf8proc_ssize_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(nfc + i, len - i, &c);
        if (k <= 0) {
            free(nfc);
            return VALID_TEXT_CHARS;
        }
        i += k;
        utf8proc_category_t cat = utf8proc_category(c);
        bool white = c == '\n' || c == '\t' || c == '\r' || cat == UTF8PROC_CATEGORY_ZS;
        if (!white && (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                       cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO ||
                       cat == UTF8PROC_CATEGORY_CN)) {
            free(nfc);
            return VALID_TEXT_CHARS;
        }
        if (white) {
            space = out->n > 0;
            continue;
        }
        if (space)
            out->cp[out->n++] = ' ';
        space = false;
        out->cp[out->n++] = c;
    }
    free(nfc);
    return out->n ? VALID_OK : VALID_EMPTY;
}

static enum valid_code cps_write(const struct cps *c, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < c->n; i++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t k = utf8proc_encode_char(c->cp[i], enc);
        if (len + (size_t)k + 1 > cap)
            return VALID_TEXT_LONG;
        memcpy(out + len, enc, (size_t)k);
        len += (size_t)k;
    }
    out[len] = '\0';
    return VALID_OK;
}

static enum valid_code length_code(size_t n, size_t min_chars, size_t max_chars)
{
    if (n < min_chars)
        return VALID_TEXT_SHORT;
    if (n > max_chars || n > VALIDATE_TEXT_MAX_CHARS)
        return VALID_TEXT_LONG;
    return VALID_OK;
}

/* The end of a text's validation: rc when it is already an error, else its
 * length's verdict, else it written to out. Frees c's code points. */
static enum valid_code cps_finish(struct cps *c, enum valid_code rc, size_t min_chars, size_t max_chars,
                                  char *out, size_t cap)
{
    if (rc == VALID_OK)
        rc = length_code(c->n, min_chars, max_chars);
    if (rc == VALID_OK)
        rc = cps_write(c, out, cap);
    free(c->cp);
    return rc;
}

enum valid_code validate_text(const char *in, size_t min_chars, size_t max_chars, char *out,
                              size_t cap)
{
    struct cps c = {NULL, 0};
    enum valid_code rc = text_cps(in, &c);
    return cps_finish(&c, rc, min_chars, max_chars, out, cap);
}

static bool is_letter(utf8proc_int32_t c)
{
    utf8proc_category_t cat = utf8proc_category(c);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

static bool is_mark(utf8proc_int32_t c)
{
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
           cat == UTF8PROC_CATEGORY_ME;
}

enum valid_code validate_name(const char *in, size_t min_chars, size_t max_chars, char *out,
                              size_t cap)
{
    struct cps c = {NULL, 0};
    enum valid_code rc = text_cps(in, &c);
    bool letters = false, word_start = true;
    for (size_t i = 0; rc == VALID_OK && i < c.n; i++) {
        utf8proc_int32_t x = c.cp[i];
        if (is_letter(x)) {
            c.cp[i] = word_start ? utf8proc_toupper(x) : utf8proc_tolower(x);
            letters = true;
            word_start = false;
        } else if (x == ' ' || x == '-' || x == '\'' || x == '.' || x == 0x2019) {
            word_start = true;
        } else if (!is_mark(x)) {
            rc = VALID_NAME_CHARS;
        }
    }
    if (rc == VALID_OK && !letters)
        rc = VALID_NAME_CHARS;
    return cps_finish(&c, rc, min_chars, max_chars, out, cap);
}

/* ===== Options ===== */

/* True when words (folded) appear in text (folded) as whole words. */
static bool has_words(const char *text, const char *words)
{
    return norm_has_words(text, strlen(text), words, strlen(words));
}

/* The quantities a folded option stands for: "3 thang" 3, "1 2 nguoi" 1..2,
 * "tu 70 den duoi 75" 70..74, "5 nguoi tro len" / "tu 75 tuoi" 5.. / 75..,
 * "nhieu hon 3 ban" / "tren 12 thang" 4.. / 13.., "duoi 6 thang" ..5. False
 * without a number. */
static bool option_range(const char *o, long *lo, long *hi)
{
    const char *p = o + strcspn(o, "0123456789");
    if (!*p)
        return false;
    char *end;
    long a = strtol(p, &end, 10);
    const char *q = end + strcspn(end, "0123456789");
    bool below = has_words(o, "duoi");
    *lo = a;
    *hi = a;
    if (*q)
        *hi = strtol(q, NULL, 10) - below;
    else if (has_words(o, "tro len") || strncmp(o, "tu ", 3) == 0)
        *hi = LONG_MAX;
    else if (has_words(o, "hon") || has_words(o, "tren"))
        *lo = a + 1, *hi = LONG_MAX;
    else if (below)
        *lo = 0, *hi = a - 1;
    return true;
}

/* Options that are all quantities ("1 người", "2–3 người"...): a number
 * typed is a quantity ("3" → "2–3 người"), not the option's position. The
 * option whose range holds it, -1 when none or several do; -2 when the
 * options are not all quantities. */
static int option_by_quantity(long num, const char *const *options, size_t n)
{
    int found = -1, hits = 0;
    for (size_t i = 0; i < n; i++) {
        char *o = norm_fold(options[i], strlen(options[i]), NULL);
        long lo, hi;
        bool counts = o && option_range(o, &lo, &hi);
        free(o);
        if (!counts)
            return -2;
        if (num >= lo && num <= hi) {
            found = (int)i;
            hits++;
        }
    }
    return hits == 1 ? found : -1;
}

/* The option the folded answer names by its words, or -1. */
static int option_by_words(const char *f, size_t flen, const char *const *options, size_t n)
{
    int exact = -1, partial = -1, n_partial = 0;
    for (size_t i = 0; i < n && exact < 0; i++) {
        char *o = norm_fold(options[i], strlen(options[i]), NULL);
        if (!o)
            continue;
        if (strcmp(o, f) == 0)
            exact = (int)i;
        else if ((flen >= 2 && has_words(o, f)) || has_words(f, o)) {
            partial = (int)i;
            n_partial++;
        }
        free(o);
    }
    if (exact >= 0)
        return exact;
    return n_partial == 1 ? partial : -1;
}

/* Words around an answer that name no option: "bé gái", "em là mẹ cháu",
 * "trai ạ". Read past only when the answer as typed names none. */
static const char *const courtesy_words[] = {
    "a", "da", "la", "be", "chau", "em", "toi", "minh", "cua", "nhe", "nha",
};

static bool is_courtesy_word(const char *w, size_t len)
{
    for (size_t i = 0; i < sizeof courtesy_words / sizeof courtesy_words[0]; i++)
        if (strlen(courtesy_words[i]) == len && strncmp(courtesy_words[i], w, len) == 0)
            return true;
    return false;
}

/* The folded answer in the options' words, into out (flen + 1 bytes):
 * courtesy words dropped, "bố" read as the forms' "cha" ("toi la bo chau").
 * Its length; 0 when nothing else is left or nothing changed. out has room
 * for 2 * strlen(f) + 1 bytes (each "bo" grows by one). */
static size_t in_option_words(const char *f, char *out)
{
    size_t n = 0;
    bool changed = false;
    const char *p = f, *w;
    size_t len;
    while ((w = next_word(&p, &len))) {
        if (is_courtesy_word(w, len)) {
            changed = true;
            continue;
        }
        bool father = len == 2 && strncmp(w, "bo", 2) == 0;
        changed = changed || father;
        if (n)
            out[n++] = ' ';
        memcpy(out + n, father ? "cha" : w, father ? 3 : len);
        n += father ? 3 : len;
    }
    out[n] = '\0';
    return changed ? n : 0;
}

/* "không biết", "chưa rõ"... (folded): the one option that says it. */
static const char *const unsure_words[] = {
    "khong biet", "chua biet", "ko biet", "k biet", "khong ro", "chua ro", "ko ro", "khong nho",
};

static bool is_unsure(const char *f)
{
    for (size_t i = 0; i < sizeof unsure_words / sizeof unsure_words[0]; i++)
        if (strcmp(f, unsure_words[i]) == 0)
            return true;
    return false;
}

static int option_unsure(const char *f, const char *const *options, size_t n)
{
    if (!is_unsure(f))
        return -1;
    int found = -1, hits = 0;
    for (size_t i = 0; i < n; i++) {
        char *o = norm_fold(options[i], strlen(options[i]), NULL);
        if (o && is_unsure(o)) {
            found = (int)i;
            hits++;
        }
        free(o);
    }
    return hits == 1 ? found : -1;
}

/* Words the folded answer shares with the folded option. */
static size_t shared_words(const char *f, const char *o)
{
    size_t shared = 0, len;
    const char *p = f, *w;
    char word[64];
    while ((w = next_word(&p, &len)))
        if (len < sizeof word) {
            memcpy(word, w, len);
            word[len] = '\0';
            shared += has_words(o, word);
        }
    return shared;
}

/* The option sharing the most words with the answer, at least two and more
 * than any other ("người dân tộc Thái" → "Dân tộc thiểu số"), or -1. */
static int option_by_overlap(const char *f, const char *const *options, size_t n)
{
    size_t best = 0, second = 0;
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        char *o = norm_fold(options[i], strlen(options[i]), NULL);
        size_t k = o ? shared_words(f, o) : 0;
        free(o);
        if (k > best) {
            second = best;
            best = k;
            found = (int)i;
        } else if (k > second) {
            second = k;
        }
    }
    return best >= 2 && best > second ? found : -1;
}

/* Time units: "1 năm" among words is no quantity of months ("ở khoảng 1
 * năm" at [Dưới 6 tháng, 6–12 tháng, Trên 1 năm]). */
static const char *const time_units[] = {"nam", "thang", "tuan", "ngay"};

static bool is_time_unit(const char *w)
{
    size_t len = strcspn(w, " ");
    for (size_t i = 0; i < sizeof time_units / sizeof time_units[0]; i++)
        if (strlen(time_units[i]) == len && strncmp(time_units[i], w, len) == 0)
            return true;
    return false;
}

/* The one number among the folded answer's words ("ba 80 tuoi roi"), or -1
 * when it holds none, several ("5/11") or a time ("1 nam"). */
static long lone_number(const char *f)
{
    long num = -1;
    int seen = 0;
    for (const char *p = f; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > f && isdigit((unsigned char)p[-1])))
            continue;
        char *end;
        num = strtol(p, &end, 10);
        if (*end == ' ' && is_time_unit(end + 1))
            return -1;
        seen++;
    }
    return seen == 1 ? num : -1;
}

int validate_option(const char *in, const char *const *options, size_t n)
{
    size_t flen;
    char *f = norm_fold(in, strlen(in), &flen);
    if (!f || !flen) {
        free(f);
        return -1;
    }
    long num = -1;
    bool bare = false;
    if (isdigit((unsigned char)f[0])) {
        char *end;
        num = strtol(f, &end, 10);
        bare = *end == '\0';
    } else {
        num = lone_number(f); /* "bà 80 tuổi rồi" where the options are ages */
    }
    int q = num >= 0 ? option_by_quantity(num, options, n) : -2;
    /* "ở khoảng 1 năm": 12 months, "6–12 tháng" (not "Trên 1 năm" by its
     * words); a span no option holds is asked again */
    int span = bare ? OPTION_SPAN_NONE : option_span_pick(f, options, n);
    int k;
    if (bare && (q == -2 || option_span_units_differ(options, n))) { /* "2": the second option */
        k = num >= 1 && (size_t)num <= n ? (int)num - 1 : -1;
    } else if (bare) {              /* "3" where the options are quantities */
        k = q;
    } else if (span != OPTION_SPAN_NONE) {
        k = span;
    } else {                        /* words; "5 người" also as a quantity */
        k = option_by_words(f, flen, options, n);
        if (k < 0 && q >= 0)
            k = q;
        char *core = k < 0 ? xmalloc(2 * flen + 1) : NULL; /* "bo" grows to "cha" */
        size_t clen = core ? in_option_words(f, core) : 0;
        if (clen)
            k = option_by_words(core, clen, options, n);
        const char *content = clen ? core : f;
        if (k < 0)
            k = option_unsure(content, options, n);
        if (k < 0)
            k = option_by_overlap(content, options, n);
        free(core);
    }
    free(f);
    return k < 0 ? -1 : k;
}
