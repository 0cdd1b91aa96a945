/* dossier — record validation, the Redis hash, dates and amounts. */
#include "dvcbot/dossier.h"
#include "dvcbot/dossier_input.h"
#include "dvcbot/mem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#define VN_OFFSET_S (7 * 3600)
#define STR_(x) #x
#define STR(x) STR_(x)

enum ftype { FT_CODE, FT_PROCEDURE, FT_TEXT, FT_PHONE, FT_ID, FT_STATUS, FT_DATE, FT_FEE, FT_BOOL };

static const struct {
    const char *name;
    enum ftype type;
    bool required;
    size_t max;
} fields[DF_COUNT] = {
    [DF_CODE] = {"code", FT_CODE, true, DOSSIER_CODE_MAX},
    [DF_PROCEDURE] = {"procedure", FT_PROCEDURE, true, 64},
    [DF_APPLICANT_NAME] = {"applicant_name", FT_TEXT, false, DOSSIER_TEXT_MAX},
    [DF_PHONE] = {"phone", FT_PHONE, false, 32},
    [DF_ID_NUMBER] = {"id_number", FT_ID, false, 20},
    [DF_COMMUNE] = {"commune", FT_TEXT, false, DOSSIER_TEXT_MAX},
    [DF_AGENCY] = {"agency", FT_TEXT, false, DOSSIER_TEXT_MAX},
    [DF_STATUS] = {"status", FT_STATUS, true, 32},
    [DF_RECEIVED_AT] = {"received_at", FT_DATE, true, 40},
    [DF_DUE_AT] = {"due_at", FT_DATE, false, 40},
    [DF_FEE] = {"fee", FT_FEE, false, 20},
    [DF_PAID] = {"paid", FT_BOOL, false, 8},
    [DF_SUBMITTED_ONLINE] = {"submitted_online", FT_BOOL, false, 8},
    [DF_PAID_ONLINE] = {"paid_online", FT_BOOL, false, 8},
    [DF_FINISHED_AT] = {"finished_at", FT_DATE, false, 40},
    [DF_NOTE] = {"note", FT_TEXT, false, DOSSIER_NOTE_MAX},
};

static const char *const status_names[DOSSIER_STATUS_COUNT] = {
    "da_tiep_nhan", "dang_xu_ly", "can_bo_sung", "cho_thanh_toan",
    "da_co_ket_qua", "da_tra_ket_qua", "tu_choi",
};

const char *dossier_field_name(enum dossier_field f)
{
    return f < DF_COUNT ? fields[f].name : "";
}

const char *dossier_status_name(enum dossier_status s)
{
    return s < DOSSIER_STATUS_COUNT ? status_names[s] : "";
}

int dossier_status_from_name(const char *name)
{
    for (int i = 0; i < DOSSIER_STATUS_COUNT; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

bool dossier_status_final(enum dossier_status s)
{
    return s == DOSSIER_DA_CO_KET_QUA || s == DOSSIER_DA_TRA_KET_QUA || s == DOSSIER_TU_CHOI;
}

/* ===== Codes ===== */

static bool code_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_' || c == '/';
}

bool dossier_code_normalize(const char *in, size_t len, char *out)
{
    while (len && isspace((unsigned char)*in)) {
        in++;
        len--;
    }
    while (len && isspace((unsigned char)in[len - 1]))
        len--;
    if (len < DOSSIER_CODE_MIN || len > DOSSIER_CODE_MAX)
        return false;
    if (!isalnum((unsigned char)in[0]) || !isalnum((unsigned char)in[len - 1]))
        return false;
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        if (!code_char(in[i]) || (in[i] & 0x80))
            return false;
        digit |= isdigit((unsigned char)in[i]) != 0;
        out[i] = (char)toupper((unsigned char)in[i]);
    }
    out[len] = '\0';
    return digit;
}

bool dossier_code_find(const char *text, char *out)
{
    for (const char *p = text; *p;) {
        if (!code_char(*p) || (*p & 0x80)) {
            p++;
            continue;
        }
        const char *start = p;
        while (*p && code_char(*p) && !(*p & 0x80))
            p++;
        const char *s = start, *e = p;
        while (s < e && !isalnum((unsigned char)*s))
            s++;
        while (e > s && !isalnum((unsigned char)e[-1]))
            e--;
        /* A word glued to letters with diacritics ("mãABC") is not a code. */
        bool glued = (start > text && (start[-1] & 0x80)) || (*p & 0x80);
        if (!glued && dossier_code_normalize(s, (size_t)(e - s), out))
            return true;
    }
    return false;
}

void dossier_key(char *out, size_t len, const char *code)
{
    snprintf(out, len, "%s%s", DOSSIER_KEY_PREFIX, code);
}

/* ===== Dates ===== */

static bool take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* "Z", "+07:00", "+0700" or "+07" after the time. */
static int parse_offset(const char *p, long *off)
{
    if (*p == 'Z' && p[1] == '\0') {
        *off = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p++ == '-' ? -1 : 1, hh, mm = 0;
    if (!take_digits(&p, 2, &hh))
        return -1;
    if (*p == ':')
        p++;
    if (*p && !take_digits(&p, 2, &mm))
        return -1;
    if (*p || hh > 14 || mm > 59)
        return -1;
    *off = sign * (hh * 3600L + mm * 60L);
    return 0;
}

int dossier_time_parse(const char *s, time_t *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    long off = VN_OFFSET_S;
    if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) || *p++ != '-' ||
        !take_digits(&p, 2, &d))
        return -1;
    if (*p) {
        if (*p != 'T' && *p != ' ')
            return -1;
        p++;
        if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (!take_digits(&p, 2, &sec))
                return -1;
            if (*p == '.' && isdigit((unsigned char)p[1]))
                for (p++; isdigit((unsigned char)*p); p++)
                    ;
        }
        if (parse_offset(p, &off) != 0)
            return -1;
    }
    if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 59)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    *out = timegm(&tm) - off;
    return 0;
}

static void vn_tm(time_t t, struct tm *tm)
{
    time_t local = t + VN_OFFSET_S;
    gmtime_r(&local, tm);
}

void dossier_format_date(time_t t, char out[16])
{
    struct tm tm;
    vn_tm(t, &tm);
    if (strftime(out, 16, "%d/%m/%Y", &tm) == 0)
        out[0] = '\0';
}

void dossier_format_datetime(time_t t, char out[24])
{
    struct tm tm;
    vn_tm(t, &tm);
    if (strftime(out, 24, "%H:%M %d/%m/%Y", &tm) == 0)
        out[0] = '\0';
}

void dossier_format_vnd(long long amount, char *out, size_t len)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", amount < 0 ? 0 : amount);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = '.';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

bool dossier_due_end(const struct dossier *d, time_t *out)
{
    const char *due_s = dossier_get(d, DF_DUE_AT);
    if (!*due_s || dossier_time_parse(due_s, out) != 0)
        return false;
    if (strlen(due_s) == 10)
        *out += 24 * 3600; /* a bare date is due until the end of that day */
    return true;
}

long dossier_days_late(const struct dossier *d, time_t now)
{
    time_t due, ref = now;
    if (!dossier_due_end(d, &due))
        return 0;
    int st = dossier_status(d);
    if (st >= 0 && dossier_status_final((enum dossier_status)st)) {
        const char *fin = dossier_get(d, DF_FINISHED_AT);
        if (!*fin || dossier_time_parse(fin, &ref) != 0)
            return 0;
    }
    if (ref <= due)
        return 0;
    return (long)((ref - due + 24 * 3600 - 1) / (24 * 3600));
}

void dossier_mask_name(const char *name, char *out, size_t len)
{
    size_t o = 0;
    bool first = true;
    out[0] = '\0';
    for (const char *p = name; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t wlen = (size_t)(p - w);
        if (!first) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)wlen, &cp);
            wlen = n > 0 ? (size_t)n : 1;
        }
        if (o + wlen + 3 >= len)
            break;
        if (o)
            out[o++] = ' ';
        memcpy(out + o, w, wlen);
        o += wlen;
        if (!first)
            out[o++] = '.';
        out[o] = '\0';
        first = false;
    }
}

/* ===== Validation ===== */

static void fail(struct dossier_error *err, enum dossier_field f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct dossier_error *err, enum dossier_field f, const char *fmt, ...)
{
    err->field = f < DF_COUNT ? fields[f].name : "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
}

static bool utf8_valid(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0)
            return false;
        p += n;
        left -= n;
    }
    return true;
}

static size_t count_digits(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += isdigit((unsigned char)*s) != 0;
    return n;
}

/* The item as text: strings as they are; numbers and booleans printed (for
 * fee and flags). Returns NULL for other types. */
static const char *item_text(const cJSON *it, char *tmp, size_t len)
{
    if (cJSON_IsString(it))
        return it->valuestring;
    if (cJSON_IsNull(it))
        return "";
    if (cJSON_IsBool(it))
        return cJSON_IsTrue(it) ? "true" : "false";
    if (cJSON_IsNumber(it)) {
        double v = it->valuedouble;
        if (v != (double)(long long)v)
            return "x"; /* not an integer: refused by the fee check */
        snprintf(tmp, len, "%lld", (long long)v);
        return tmp;
    }
    return NULL;
}

static int check_fee(const char *s, char **value)
{
    if (!*s) {
        *value = xstrdup("0");
        return 0;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end || v < 0 || v > DOSSIER_FEE_MAX)
        return -1;
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", v);
    *value = xstrdup(buf);
    return 0;
}

static int check_bool(const char *s, char **value)
{
    if (!*s || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *value = xstrdup("0");
    else if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *value = xstrdup("1");
    else
        return -1;
    return 0;
}

static bool phone_ok(const char *s)
{
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !strchr(" .-()+", *p))
            return false;
    size_t n = count_digits(s);
    return n >= 8 && n <= 15;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p))
            return false;
    return n >= 6 && n <= 20;
}

/* A status code, or the name the console shows (dossier_input.h). */
static int check_status(enum dossier_field f, const char *s, const struct catalog *cat,
                        char **value, struct dossier_error *err)
{
    const char *why = NULL;
    const char *code = dossier_status_read(cat, s, &why);
    if (!code) {
        fail(err, f, "%s '%.40s' (want da_tiep_nhan, dang_xu_ly, can_bo_sung, cho_thanh_toan, "
                     "da_co_ket_qua, da_tra_ket_qua or tu_choi, or their names in the console)",
             why, s);
        return -1;
    }
    *value = xstrdup(code);
    return 0;
}

/* ISO 8601, or day/month/year as Excel writes it, kept as ISO. */
static int check_date(enum dossier_field f, const char *s, char **value,
                      struct dossier_error *err)
{
    time_t t;
    char iso[DOSSIER_ISO_MAX];
    const char *why = NULL;
    if (!*s || dossier_time_parse(s, &t) == 0) {
        *value = xstrdup(s);
        return 0;
    }
    int rc = dossier_dmy_to_iso(s, iso, &why);
    if (rc == 0) {
        *value = xstrdup(iso);
        return 0;
    }
    if (rc < 0)
        fail(err, f, "%s", why);
    else
        fail(err, f, "must be ISO 8601 with an offset, e.g. 2024-11-20T08:00:00+07:00, or "
                     "day/month/year, e.g. 20/11/2024 08:00");
    return -1;
}

static int check_value(enum dossier_field f, const char *s, const struct catalog *cat,
                       char **value, struct dossier_error *err)
{
    char code[DOSSIER_CODE_MAX + 1];
    switch (fields[f].type) {
    case FT_CODE:
        if (!dossier_code_normalize(s, strlen(s), code)) {
            fail(err, f, "must be 6-40 characters of A-Z 0-9 . - _ / with a digit");
            return -1;
        }
        *value = xstrdup(code);
        return 0;
    case FT_PROCEDURE: {
        const struct intent *in = cat ? catalog_find(cat, s) : NULL;
        if (cat && (!in || in->kind != INTENT_PROCEDURE)) {
            fail(err, f, "unknown procedure '%.40s' (want a catalog id such as khai_sinh)", s);
            return -1;
        }
        break;
    }
    case FT_STATUS:
        return check_status(f, s, cat, value, err);
    case FT_DATE:
        return check_date(f, s, value, err);
    case FT_FEE:
        if (check_fee(s, value) != 0) {
            fail(err, f, "must be an integer amount in VND, 0 or more");
            return -1;
        }
        return 0;
    case FT_BOOL:
        if (check_bool(s, value) != 0) {
            fail(err, f, "must be true or false");
            return -1;
        }
        return 0;
    case FT_PHONE:
        if (*s && !phone_ok(s)) {
            fail(err, f, "must hold 8-15 digits (spaces . - ( ) + allowed)");
            return -1;
        }
        break;
    case FT_ID:
        if (*s && !id_ok(s)) {
            fail(err, f, "must be 6-20 letters or digits");
            return -1;
        }
        break;
    case FT_TEXT:
        break;
    }
    *value = xstrdup(s);
    return 0;
}

static int check_field(const cJSON *obj, enum dossier_field f, const struct catalog *cat,
                       struct dossier *d, struct dossier_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, fields[f].name);
    char tmp[32];
    const char *s = it ? item_text(it, tmp, sizeof tmp) : NULL;
    bool text_type = fields[f].type != FT_FEE && fields[f].type != FT_BOOL;
    if (it && (!s || (text_type && !cJSON_IsString(it) && !cJSON_IsNull(it)))) {
        fail(err, f, "must be a string");
        return -1;
    }
    if (!it || (fields[f].required && !*s)) {
        if (fields[f].required) {
            fail(err, f, "missing");
            return -1;
        }
        return 0;
    }
    if (!utf8_valid(s)) {
        fail(err, f, "not valid UTF-8");
        return -1;
    }
    if (strlen(s) > fields[f].max) {
        fail(err, f, "too long (at most %zu bytes)", fields[f].max);
        return -1;
    }
    return check_value(f, s, cat, &d->v[f], err);
}

int dossier_from_json(const cJSON *obj, const struct catalog *cat, struct dossier *d,
                      struct dossier_error *err)
{
    memset(d, 0, sizeof *d);
    if (!cJSON_IsObject(obj)) {
        fail(err, DF_COUNT, "record must be a JSON object");
        return -1;
    }
    for (int f = 0; f < DF_COUNT; f++) {
        if (check_field(obj, (enum dossier_field)f, cat, d, err) != 0) {
            dossier_clear(d);
            return -1;
        }
    }
    if (count_digits(dossier_get(d, DF_PHONE)) < 4 && count_digits(dossier_get(d, DF_ID_NUMBER)) < 4) {
        fail(err, DF_PHONE, "phone or id_number is required: citizens prove ownership with "
                            "their last 4 digits");
        dossier_clear(d);
        return -1;
    }
    return 0;
}

int dossier_from_hash(const redisReply *r, struct dossier *d)
{
    memset(d, 0, sizeof *d);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0 || r->elements % 2)
        return -1;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        for (int f = 0; f < DF_COUNT; f++) {
            if (strcmp(k->str, fields[f].name) == 0 && !d->v[f]) {
                d->v[f] = xstrndup(v->str, v->len);
                break;
            }
        }
    }
    return d->v[DF_CODE] ? 0 : -1;
}

void dossier_clear(struct dossier *d)
{
    for (int f = 0; f < DF_COUNT; f++)
        xfree_ptr(&d->v[f]);
}

const char *dossier_get(const struct dossier *d, enum dossier_field f)
{
    return f < DF_COUNT && d->v[f] ? d->v[f] : "";
}

int dossier_status(const struct dossier *d)
{
    return dossier_status_from_name(dossier_get(d, DF_STATUS));
}

long long dossier_fee(const struct dossier *d)
{
    return strtoll(dossier_get(d, DF_FEE), NULL, 10);
}

bool dossier_flag(const struct dossier *d, enum dossier_field f)
{
    return strcmp(dossier_get(d, f), "1") == 0;
}

/* ===== Upsert ===== */


void dossier_upsert_prepare(const struct dossier *d, time_t now, const char *stored_commune,
                            struct dossier_upsert *u)
{
    dossier_key(u->key, sizeof u->key, dossier_get(d, DF_CODE));
    snprintf(u->now, sizeof u->now, "%lld", (long long)now);
    if (stored_commune)
        snprintf(u->guard, sizeof u->guard, "=%s", stored_commune);
    else
        u->guard[0] = '\0';
    int n = 0;
    u->argv[n++] = u->key;
    u->argv[n++] = DOSSIER_CHANGES_KEY;
    u->argv[n++] = DOSSIER_REMIND_KEY;
    snprintf(u->pending_key, sizeof u->pending_key, "%s%s", DOSSIER_PENDING_PREFIX, dossier_get(d, DF_CODE));
    u->argv[n++] = u->pending_key;
    u->nkeys = n;
    u->argv[n++] = u->now;
    u->argv[n++] = dossier_get(d, DF_CODE);
    u->argv[n++] = u->guard;
    for (int f = 0; f < DF_COUNT; f++) {
        if (!d->v[f])
            continue;
        u->argv[n++] = fields[f].name;
        u->argv[n++] = d->v[f];
    }
    for (int i = 0; i < n; i++)
        u->lens[i] = strlen(u->argv[i]);
    u->argc = n;
}

int dossier_upsert_result(const redisReply *r, const char *new_status,
                          enum dossier_outcome *outcome, bool *status_changed,
                          const char **stored_commune)
{
    *status_changed = false;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING)
        return -1;
    long long o = r->element[0]->integer;
    if (o < 0 || o > DOSSIER_OTHER_COMMUNE)
        return -1;
    *outcome = (enum dossier_outcome)o;
    const char *old = r->element[1]->str;
    if (stored_commune)
        *stored_commune = o == DOSSIER_OTHER_COMMUNE ? old : NULL;
    *status_changed = o == DOSSIER_UPDATED && *old && new_status && strcmp(old, new_status) != 0;
    return 0;
}
