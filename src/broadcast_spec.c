/* broadcast_spec — request checks, segment matching, times, reasons. */
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/commune.h"
#include "dvcbot/recipient.h"
#include "dvcbot/buf.h"
#include "dvcbot/dossier.h"
#include "dvcbot/mem.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define VN_OFFSET_S (7 * 3600)

static int fail(char err[BROADCAST_ERR_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char err[BROADCAST_ERR_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, BROADCAST_ERR_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

/* Characters in valid UTF-8, or -1. */
static long utf8_chars(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    long n = 0;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate(p, left, &cp);
        if (step <= 0)
            return -1;
        p += step;
        left -= step;
        n++;
    }
    return n;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* The first member of obj not named in allowed (NULL-terminated), or NULL. */
static const char *unknown_member(const cJSON *obj, const char *const *allowed)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        bool known = false;
        for (size_t i = 0; allowed[i]; i++)
            if (m->string && strcmp(m->string, allowed[i]) == 0)
                known = true;
        if (!known)
            return m->string ? m->string : "";
    }
    return NULL;
}

/* ===== Request body ===== */

static int parse_text(const cJSON *text, struct broadcast_spec *out, char *err)
{
    if (!cJSON_IsString(text) || blank(text->valuestring))
        return fail(err, "text is required: a non-empty string");
    long chars = utf8_chars(text->valuestring);
    if (chars < 0)
        return fail(err, "text is not valid UTF-8");
    if (chars > BROADCAST_TEXT_MAX)
        return fail(err, "text has %ld characters; at most %d (one phone screen)", chars,
                    BROADCAST_TEXT_MAX);
    out->reply.text = xstrdup(text->valuestring);
    return 0;
}

/* 1..max bytes of printable ASCII (spaces only when allowed). */
static bool printable_ascii(const char *p, size_t max, bool spaces)
{
    size_t n = strlen(p);
    if (n == 0 || n > max)
        return false;
    for (; *p; p++)
        if (*p < (spaces ? 0x20 : 0x21) || *p > 0x7e)
            return false;
    return true;
}

bool broadcast_idem_key_valid(const char *key)
{
    return printable_ascii(key, BROADCAST_IDEM_MAX, true);
}

static int parse_button(const cJSON *b, size_t i, struct broadcast_spec *out, char *err)
{
    static const char *const allowed[] = {"label", "payload", NULL};
    if (!cJSON_IsObject(b))
        return fail(err, "buttons[%zu] must be an object {\"label\", \"payload\"}", i);
    const char *unknown = unknown_member(b, allowed);
    if (unknown)
        return fail(err, "buttons[%zu]: unknown field '%.40s'", i, unknown);
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(b, "label");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(b, "payload");
    if (!cJSON_IsString(label) || blank(label->valuestring))
        return fail(err, "buttons[%zu].label is required: a non-empty string", i);
    long chars = utf8_chars(label->valuestring);
    if (chars < 0 || chars > BROADCAST_LABEL_MAX)
        return fail(err, "buttons[%zu].label must be valid UTF-8, at most %d characters", i,
                    BROADCAST_LABEL_MAX);
    if (!cJSON_IsString(payload) || !printable_ascii(payload->valuestring, BOT_PAYLOAD_MAX, false))
        return fail(err, "buttons[%zu].payload must be 1-%d bytes of printable ASCII without spaces",
                    i, BOT_PAYLOAD_MAX);
    if (!bot_reply_add_button(&out->reply, label->valuestring, payload->valuestring))
        return fail(err, "buttons[%zu] does not fit", i);
    return 0;
}

static int parse_buttons(const cJSON *buttons, struct broadcast_spec *out, char *err)
{
    if (!buttons || cJSON_IsNull(buttons)) {
        out->buttons_json = xstrdup("[]");
        return 0;
    }
    if (!cJSON_IsArray(buttons))
        return fail(err, "buttons must be an array of {\"label\", \"payload\"}");
    int n = cJSON_GetArraySize(buttons);
    if (n > BROADCAST_BUTTONS_MAX)
        return fail(err, "at most %d buttons", BROADCAST_BUTTONS_MAX);
    for (int i = 0; i < n; i++)
        if (parse_button(cJSON_GetArrayItem(buttons, i), (size_t)i, out, err) != 0)
            return -1;
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '[');
    for (size_t i = 0; i < out->reply.n_buttons; i++) {
        buf_puts(&b, i ? ",{\"label\":" : "{\"label\":");
        buf_json_str(&b, out->reply.buttons[i].label);
        buf_puts(&b, ",\"payload\":");
        buf_json_str(&b, out->reply.buttons[i].payload);
        buf_putc(&b, '}');
    }
    buf_putc(&b, ']');
    out->buttons_json = buf_steal(&b);
    return 0;
}

static int parse_channels(const cJSON *channels, unsigned enabled, struct broadcast_segment *seg,
                          char *err)
{
    if (!cJSON_IsArray(channels) || cJSON_GetArraySize(channels) == 0)
        return fail(err, "segment.channels is required: a non-empty array of \"telegram\", "
                         "\"zalo\", \"webchat\"");
    const cJSON *c;
    cJSON_ArrayForEach(c, channels) {
        if (!cJSON_IsString(c))
            return fail(err, "segment.channels must hold strings");
        int ch = bot_channel_from_name(c->valuestring);
        if (ch < 0 || !(BROADCAST_CHANNELS & (1u << ch)) ||
            strcmp(c->valuestring, bot_channel_name((enum bot_channel)ch)) != 0)
            return fail(err, "segment.channels: unknown channel '%.40s' (use telegram, zalo, webchat)",
                        c->valuestring);
        if (!(enabled & (1u << ch)))
            return fail(err, "segment.channels: channel '%s' is not enabled on this server",
                        c->valuestring);
        seg->channels |= 1u << ch;
    }
    return 0;
}

static int parse_communes(const cJSON *communes, struct broadcast_segment *seg, char *err)
{
    if (!communes || cJSON_IsNull(communes))
        return 0;
    int n = cJSON_GetArraySize(communes);
    if (!cJSON_IsArray(communes) || n == 0 || n > BROADCAST_COMMUNES_MAX)
        return fail(err, "segment.communes must be an array of 1-%d commune names",
                    BROADCAST_COMMUNES_MAX);
    seg->communes = xcalloc((size_t)n, sizeof *seg->communes);
    const cJSON *c;
    cJSON_ArrayForEach(c, communes) {
        if (!cJSON_IsString(c) || blank(c->valuestring) ||
            strlen(c->valuestring) > BROADCAST_COMMUNE_MAX)
            return fail(err, "segment.communes must hold non-empty names of at most %d bytes",
                        BROADCAST_COMMUNE_MAX);
        char key[COMMUNE_KEY_MAX];
        commune_key(c->valuestring, key, sizeof key);
        if (!key[0])
            return fail(err, "segment.communes: a name is not valid UTF-8");
        seg->communes[seg->n_communes++] = xstrdup(key);
    }
    return 0;
}

static int parse_seen(const cJSON *seen, struct broadcast_segment *seg, char *err)
{
    if (!seen || cJSON_IsNull(seen))
        return 0;
    if (!cJSON_IsNumber(seen) || seen->valuedouble != floor(seen->valuedouble) ||
        seen->valuedouble < 1 || seen->valuedouble > BROADCAST_SEEN_DAYS_MAX)
        return fail(err, "segment.seen_within_days must be a whole number of days, 1-%d",
                    BROADCAST_SEEN_DAYS_MAX);
    seg->seen_within_days = (unsigned)seen->valuedouble;
    return 0;
}

static int parse_dossier_status(const cJSON *st, struct broadcast_segment *seg, char *err)
{
    if (!st || cJSON_IsNull(st))
        return 0;
    if (!cJSON_IsString(st) || dossier_status_from_name(st->valuestring) < 0)
        return fail(err, "segment.dossier_status must be a dossier status such as can_bo_sung or "
                         "cho_thanh_toan");
    snprintf(seg->dossier_status, sizeof seg->dossier_status, "%s", st->valuestring);
    return 0;
}

static int parse_segment(const cJSON *segment, unsigned enabled, struct broadcast_spec *out,
                         char *err)
{
    static const char *const allowed[] = {"channels", "communes", "seen_within_days",
                                          "dossier_status", NULL};
    if (!cJSON_IsObject(segment))
        return fail(err, "segment is required: {\"channels\": [...], \"communes\": [...], "
                         "\"seen_within_days\": N, \"dossier_status\": \"...\"}");
    /* Named in the product brief, but nothing records it per user yet. */
    if (cJSON_GetObjectItemCaseSensitive(segment, "procedure"))
        return fail(err, "segment.procedure is not supported yet");
    const char *unknown = unknown_member(segment, allowed);
    if (unknown)
        return fail(err, "segment: unknown field '%.40s'", unknown);
    struct broadcast_segment *seg = &out->segment;
    if (parse_channels(cJSON_GetObjectItemCaseSensitive(segment, "channels"), enabled, seg, err) != 0 ||
        parse_communes(cJSON_GetObjectItemCaseSensitive(segment, "communes"), seg, err) != 0 ||
        parse_seen(cJSON_GetObjectItemCaseSensitive(segment, "seen_within_days"), seg, err) != 0 ||
        parse_dossier_status(cJSON_GetObjectItemCaseSensitive(segment, "dossier_status"), seg, err) != 0)
        return -1;
    out->segment_json = cJSON_PrintUnformatted(segment);
    if (!out->segment_json)
        return fail(err, "segment cannot be stored");
    return 0;
}

static int parse_not_before(const cJSON *nb, int64_t now, struct broadcast_spec *out, char *err)
{
    if (!nb || cJSON_IsNull(nb))
        return 0;
    int64_t t;
    if (!cJSON_IsString(nb) || broadcast_parse_time(nb->valuestring, &t) != 0)
        return fail(err, "not_before must be an ISO 8601 time such as 2025-03-01T08:00:00+07:00");
    if (t > now + BROADCAST_AHEAD_MAX_S)
        return fail(err, "not_before is more than a year ahead");
    out->not_before = t > now ? t : 0;
    return 0;
}

int broadcast_spec_parse(const char *json, size_t len, unsigned enabled, int64_t now,
                         struct broadcast_spec *out, char err[BROADCAST_ERR_MAX])
{
    static const char *const allowed[] = {"text", "buttons", "segment", "not_before", NULL};
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json ? json : "", len);
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        fail(err, "body must be a JSON object: {\"text\", \"buttons\", \"segment\", \"not_before\"}");
        goto out_free_root;
    }
    const char *unknown = unknown_member(root, allowed);
    if (unknown) {
        fail(err, "unknown field '%.40s'", unknown);
        goto out_free_root;
    }
    if (parse_text(cJSON_GetObjectItemCaseSensitive(root, "text"), out, err) != 0 ||
        parse_buttons(cJSON_GetObjectItemCaseSensitive(root, "buttons"), out, err) != 0 ||
        parse_segment(cJSON_GetObjectItemCaseSensitive(root, "segment"), enabled, out, err) != 0 ||
        parse_not_before(cJSON_GetObjectItemCaseSensitive(root, "not_before"), now, out, err) != 0)
        goto out_free_root;
    rc = 0;
out_free_root:
    cJSON_Delete(root);
    return rc;
}

void broadcast_spec_free(struct broadcast_spec *spec)
{
    bot_reply_clear(&spec->reply);
    for (size_t i = 0; i < spec->segment.n_communes; i++)
        free(spec->segment.communes[i]);
    free(spec->segment.communes);
    free(spec->buttons_json);
    cJSON_free(spec->segment_json);
    memset(spec, 0, sizeof *spec);
}

/* ===== Segment ===== */

static bool commune_in(const struct broadcast_segment *seg, const char *commune)
{
    char key[COMMUNE_KEY_MAX];
    commune_key(commune, key, sizeof key);
    if (!key[0])
        return false;
    for (size_t i = 0; i < seg->n_communes; i++)
        if (strcmp(seg->communes[i], key) == 0)
            return true;
    return false;
}

bool broadcast_segment_match(const struct broadcast_segment *seg, const char *user_key,
                             const char *seen, const char *commune, int64_t now)
{
    int ch = recipient_channel(user_key);
    if (ch < 0 || !(seg->channels & (1u << ch)))
        return false;
    if (seg->n_communes && !commune_in(seg, commune))
        return false;
    if (seg->seen_within_days) {
        char *end;
        long long t = seen ? strtoll(seen, &end, 10) : 0;
        if (!seen || !*seen || *end || t < now - (int64_t)seg->seen_within_days * 86400)
            return false;
    }
    return true;
}

const char *broadcast_user_commune(const char *record_commune, const char *consent,
                                   const char *profile_commune)
{
    if (record_commune && record_commune[0])
        return record_commune;
    if (consent && strcmp(consent, "yes") == 0 && profile_commune && profile_commune[0])
        return profile_commune;
    return NULL;
}

bool broadcast_user_key(const char *record_key, char *out, size_t outlen)
{
    if (strncmp(record_key, "u:{", 3) != 0)
        return false;
    const char *start = record_key + 3;
    const char *close = strchr(start, '}');
    if (!close || close[1] != '\0' || close == start || (size_t)(close - start) >= outlen)
        return false;
    if (memchr(start, '{', (size_t)(close - start)) || !memchr(start, ':', (size_t)(close - start)))
        return false;
    memcpy(out, start, (size_t)(close - start));
    out[close - start] = '\0';
    return true;
}

/* ===== Times ===== */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool lit(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static bool parse_offset(const char *p, int *offset_s)
{
    int oh, om;
    if (*p == '\0') {
        *offset_s = VN_OFFSET_S;
        return true;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *offset_s = 0;
        return true;
    }
    int sign = *p == '+' ? 1 : *p == '-' ? -1 : 0;
    p++;
    if (!sign || !digits(&p, 2, &oh) || !lit(&p, ':') || !digits(&p, 2, &om) || *p || oh > 14 ||
        om > 59)
        return false;
    *offset_s = sign * (oh * 3600 + om * 60);
    return true;
}

int broadcast_parse_time(const char *iso, int64_t *out)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = iso;
    int y, mo, d, h, mi, s = 0, offset;
    if (!digits(&p, 4, &y) || !lit(&p, '-') || !digits(&p, 2, &mo) || !lit(&p, '-') ||
        !digits(&p, 2, &d) || !(lit(&p, 'T') || lit(&p, ' ')) || !digits(&p, 2, &h) ||
        !lit(&p, ':') || !digits(&p, 2, &mi))
        return -1;
    if (lit(&p, ':')) {
        if (!digits(&p, 2, &s))
            return -1;
        if (lit(&p, '.')) {
            if (*p < '0' || *p > '9')
                return -1;
            while (*p >= '0' && *p <= '9')
                p++;
        }
    }
    if (!parse_offset(p, &offset))
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || s > 60)
        return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = days * 86400 + h * 3600 + mi * 60 + s - offset;
    return 0;
}

void broadcast_format_time(int64_t t, char out[32])
{
    int64_t local = t + VN_OFFSET_S;
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int64_t secs = local - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[96]; /* room for any int the compiler imagines; real years have 4 digits */
    snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d+07:00", y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    snprintf(out, 32, "%.31s", tmp);
}

/* ===== Verdicts ===== */

/* ===== Keys and records ===== */

void broadcast_key(char *out, size_t outlen, const char *id, const char *suffix)
{
    snprintf(out, outlen, "bc:%s%s", id, suffix ? suffix : "");
}

bool broadcast_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++)
        if (id[n] < '0' || id[n] > '9')
            return false;
    return n >= 1 && n <= 18 && id[0] != '0';
}

int broadcast_reply_from_record(const char *text, const char *buttons_json, struct bot_reply *out)
{
    memset(out, 0, sizeof *out);
    out->text = xstrdup(text ? text : "");
    cJSON *root = cJSON_Parse(buttons_json ? buttons_json : "[]");
    int rc = cJSON_IsArray(root) ? 0 : -1;
    const cJSON *list = rc == 0 ? root : NULL, *b;
    cJSON_ArrayForEach(b, list) {
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(b, "label");
        const cJSON *payload = cJSON_GetObjectItemCaseSensitive(b, "payload");
        if (!cJSON_IsString(label) || !cJSON_IsString(payload) ||
            !bot_reply_add_button(out, label->valuestring, payload->valuestring))
            rc = -1;
    }
    cJSON_Delete(root);
    return rc;
}
