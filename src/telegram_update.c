/* telegram_update — the fields of a Telegram update, from its text or from
 * a cJSON tree. See include/dvcbot/telegram_update.h. */
#include "dvcbot/telegram_update.h"
#include "dvcbot/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Where each field sits: its parent (-1: the root object) and its name. */
static const struct {
    int parent;
    const char *name;
    size_t name_len;
} paths[TG_FIELDS] = {
#define P(f, parent, name) [f] = {parent, name, sizeof name - 1}
    P(TG_UPDATE_ID, -1, "update_id"),
    P(TG_MESSAGE, -1, "message"),
    P(TG_MESSAGE_CHAT, TG_MESSAGE, "chat"),
    P(TG_MESSAGE_CHAT_ID, TG_MESSAGE_CHAT, "id"),
    P(TG_MESSAGE_FROM, TG_MESSAGE, "from"),
    P(TG_MESSAGE_FROM_ID, TG_MESSAGE_FROM, "id"),
    P(TG_MESSAGE_TEXT, TG_MESSAGE, "text"),
    P(TG_MESSAGE_DATE, TG_MESSAGE, "date"),
    P(TG_CALLBACK, -1, "callback_query"),
    P(TG_CALLBACK_ID, TG_CALLBACK, "id"),
    P(TG_CALLBACK_FROM, TG_CALLBACK, "from"),
    P(TG_CALLBACK_FROM_ID, TG_CALLBACK_FROM, "id"),
    P(TG_CALLBACK_MESSAGE, TG_CALLBACK, "message"),
    P(TG_CALLBACK_CHAT, TG_CALLBACK_MESSAGE, "chat"),
    P(TG_CALLBACK_CHAT_ID, TG_CALLBACK_CHAT, "id"),
    P(TG_CALLBACK_DATA, TG_CALLBACK, "data"),
#undef P
};

#define NO_FIELD (-2)
#define ROOT (-1)
#define MAX_DIGITS 16
#define EXACT_LIMIT 9007199254740992ULL /* 2^53: every integer up to it is a double */

/* ===== The tree ===== */

static void value_of(const cJSON *item, struct tg_value *v)
{
    memset(v, 0, sizeof *v);
    if (!item)
        return;
    if (cJSON_IsObject(item)) {
        v->kind = TG_OBJECT;
    } else if (cJSON_IsString(item)) {
        v->kind = TG_STRING;
        v->str = item->valuestring;
        v->len = strlen(item->valuestring);
    } else if (cJSON_IsNumber(item)) {
        v->kind = TG_NUMBER;
        v->number = item->valuedouble;
    } else {
        v->kind = TG_OTHER;
    }
}

void telegram_update_from_tree(const cJSON *root, struct tg_update *u)
{
    const cJSON *node[TG_FIELDS] = {0};
    memset(u, 0, sizeof *u);
    u->root_object = cJSON_IsObject(root);
    if (!u->root_object)
        return;
    for (int f = 0; f < TG_FIELDS; f++) { /* parents come before their children */
        const cJSON *parent = paths[f].parent == ROOT ? root : node[paths[f].parent];
        if (!cJSON_IsObject(parent))
            continue;
        node[f] = cJSON_GetObjectItemCaseSensitive(parent, paths[f].name);
        value_of(node[f], &u->f[f]);
    }
}

void telegram_update_free(struct tg_update *u)
{
    free(u->scratch);
    u->scratch = NULL;
}

/* ===== The scan ===== */

struct scan {
    const unsigned char *p, *end;
    size_t text_len;
    struct tg_update *u;
    char *out;         /* next free byte of u->scratch */
    unsigned seen;     /* a bit per field met */
    int depth;
};

/* cJSON skips every byte up to the space as white space; a NUL is left to
 * cJSON itself (the scan gives up on it). */
static void skip_ws(struct scan *s)
{
    while (s->p < s->end && *s->p <= ' ' && *s->p != '\0')
        s->p++;
}

static int hex4(const unsigned char *h)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = h[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* One \u escape at s->p (its backslash), surrogate pairs as cJSON joins
 * them; the UTF-8 goes to *out when out is not NULL. */
static bool unicode_escape(struct scan *s, const unsigned char *close, char **out)
{
    if (close - s->p < 6)
        return false;
    int first = hex4(s->p + 2);
    unsigned long cp;
    if (first <= 0 || (first >= 0xDC00 && first <= 0xDFFF))
        return false; /* not hex, \u0000 or a lone low surrogate: cJSON's own reading */
    if (first >= 0xD800 && first <= 0xDBFF) {
        if (close - s->p < 12 || s->p[6] != '\\' || s->p[7] != 'u')
            return false;
        int second = hex4(s->p + 8);
        if (second < 0xDC00 || second > 0xDFFF)
            return false;
        cp = 0x10000 + ((((unsigned long)first & 0x3FF) << 10) | ((unsigned long)second & 0x3FF));
        s->p += 12;
    } else {
        cp = (unsigned long)first;
        s->p += 6;
    }
    if (!out)
        return true;
    char *o = *out;
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    *out = o;
    return true;
}

/* The string at s->p (its opening quote). keep: its value is wanted in v. */
static bool string(struct scan *s, bool keep, struct tg_value *v)
{
    const unsigned char *start = ++s->p, *close = start;
    bool escaped = false;
    while (close < s->end && *close != '"') {
        if (*close == '\0')
            return false;
        if (*close == '\\') {
            escaped = true;
            if (close + 1 >= s->end)
                return false;
            close++;
        }
        close++;
    }
    if (close >= s->end)
        return false;
    if (!escaped) {
        s->p = close + 1;
        if (keep) {
            v->kind = TG_STRING;
            v->str = (const char *)start;
            v->len = (size_t)(close - start);
        }
        return true;
    }
    char *o = NULL;
    if (keep) {
        if (!s->u->scratch) {
            s->u->scratch = xmalloc(s->text_len + 1); /* all kept strings fit: quotes are not kept */
            s->out = s->u->scratch;
        }
        o = s->out;
    }
    const char *kept = o;
    while (s->p < close) {
        if (*s->p != '\\') {
            const unsigned char *run = s->p;
            while (s->p < close && *s->p != '\\')
                s->p++;
            if (o) {
                memcpy(o, run, (size_t)(s->p - run));
                o += s->p - run;
            }
            continue;
        }
        char c;
        switch (s->p[1]) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case '"': case '\\': case '/': c = (char)s->p[1]; break;
        case 'u':
            if (!unicode_escape(s, close, o ? &o : NULL))
                return false;
            continue;
        default:
            return false;
        }
        if (o)
            *o++ = c;
        s->p += 2;
    }
    s->p = close + 1;
    if (o) {
        *o++ = '\0';
        v->kind = TG_STRING;
        v->str = kept;
        v->len = (size_t)(o - 1 - kept);
        s->out = o;
    }
    return true;
}

static bool number(struct scan *s, struct tg_value *v)
{
    bool neg = *s->p == '-';
    const unsigned char *d = s->p + neg, *q = d;
    unsigned long long n = 0;
    while (q < s->end && *q >= '0' && *q <= '9') {
        if (q - d == MAX_DIGITS)
            return false;
        n = n * 10 + (unsigned)(*q - '0');
        q++;
    }
    if (q == d || (*d == '0' && (q - d > 1 || neg)) || n > EXACT_LIMIT)
        return false;
    if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E' || *q == '+' || *q == '-'))
        return false;
    s->p = q;
    if (v) {
        v->kind = TG_NUMBER;
        v->number = neg ? -(double)n : (double)n;
    }
    return true;
}

static bool literal(struct scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool value(struct scan *s, int field);

/* The fields read inside each object read (ROOT first), -1 ended. */
static const signed char children[TG_FIELDS + 1][5] = {
    [0] = {TG_UPDATE_ID, TG_MESSAGE, TG_CALLBACK, -1},
    [1 + TG_MESSAGE] = {TG_MESSAGE_CHAT, TG_MESSAGE_FROM, TG_MESSAGE_TEXT, TG_MESSAGE_DATE, -1},
    [1 + TG_MESSAGE_CHAT] = {TG_MESSAGE_CHAT_ID, -1},
    [1 + TG_MESSAGE_FROM] = {TG_MESSAGE_FROM_ID, -1},
    [1 + TG_CALLBACK] = {TG_CALLBACK_ID, TG_CALLBACK_FROM, TG_CALLBACK_MESSAGE, TG_CALLBACK_DATA, -1},
    [1 + TG_CALLBACK_FROM] = {TG_CALLBACK_FROM_ID, -1},
    [1 + TG_CALLBACK_MESSAGE] = {TG_CALLBACK_CHAT, -1},
    [1 + TG_CALLBACK_CHAT] = {TG_CALLBACK_CHAT_ID, -1},
};

/* The field named by the key just read, inside an object that is `field`
 * (an object no field lies in has an empty list: its first entry is 0,
 * TG_UPDATE_ID, whose parent is the root, so the parent check refuses it). */
static int child_of(int field, const unsigned char *key, size_t len)
{
    const signed char *c = children[field + 1];
    for (int i = 0; i < 5 && c[i] >= 0; i++) {
        int f = c[i];
        if (paths[f].parent == field && paths[f].name_len == len && memcmp(paths[f].name, key, len) == 0)
            return f;
    }
    return NO_FIELD;
}

static bool object(struct scan *s, int field)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"')
            return false;
        const unsigned char *key = s->p + 1;
        if (!string(s, false, NULL))
            return false;
        size_t key_len = (size_t)(s->p - 1 - key);
        int child = NO_FIELD;
        if (field != NO_FIELD) {
            if (memchr(key, '\\', key_len))
                return false; /* cJSON compares the name it decoded */
            child = child_of(field, key, key_len);
            if (child >= 0) {
                if (s->seen & (1u << child))
                    return false; /* cJSON reads the first; the scan does not keep both */
                s->seen |= 1u << child;
            }
        }
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        skip_ws(s);
        if (!value(s, child))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == '}') {
            s->p++;
            return true;
        }
        if (*s->p != ',')
            return false;
        s->p++;
    }
}

static bool array(struct scan *s)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (!value(s, NO_FIELD))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == ']') {
            s->p++;
            return true;
        }
        if (*s->p != ',')
            return false;
        s->p++;
    }
}

/* The value at s->p; field: where it sits (NO_FIELD: a place not read). */
static bool value(struct scan *s, int field)
{
    struct tg_value *v = field >= 0 ? &s->u->f[field] : NULL;
    if (s->p >= s->end)
        return false;
    bool ok;
    switch (*s->p) {
    case '{':
        if (++s->depth > TG_SCAN_DEPTH)
            return false;
        if (v)
            v->kind = TG_OBJECT;
        ok = object(s, field == ROOT || v ? field : NO_FIELD);
        s->depth--;
        return ok;
    case '[':
        if (++s->depth > TG_SCAN_DEPTH)
            return false;
        ok = array(s);
        s->depth--;
        if (v)
            v->kind = TG_OTHER;
        return ok;
    case '"':
        return string(s, v != NULL, v);
    case 'n':
        ok = literal(s, "null", 4);
        break;
    case 't':
        ok = literal(s, "true", 4);
        break;
    case 'f':
        ok = literal(s, "false", 5);
        break;
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return number(s, v);
        return false;
    }
    if (ok && v)
        v->kind = TG_OTHER;
    return ok;
}

bool telegram_update_scan(const char *json, size_t len, struct tg_update *u)
{
    memset(u, 0, sizeof *u);
    if (!json)
        return false;
    struct scan s = {.p = (const unsigned char *)json, .end = (const unsigned char *)json + len,
                     .text_len = len, .u = u};
    skip_ws(&s);
    /* Only an object: anything else (a BOM, an array) cJSON reads itself. */
    if (s.p >= s.end || *s.p != '{' || !value(&s, ROOT)) {
        telegram_update_free(u);
        memset(u, 0, sizeof *u);
        return false;
    }
    u->root_object = true; /* what follows the object cJSON ignores too */
    return true;
}
