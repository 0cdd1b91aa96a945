/* json_print — cJSON_PrintUnformatted's text, whole numbers without printf. */
#include "dvcbot/json_print.h"
#include "dvcbot/buf.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The number as cJSON 1.7.15's print_number writes it. */
static void put_number(struct buf *b, double d)
{
    if (isnan(d) || isinf(d)) {
        buf_puts(b, "null");
        return;
    }
    if (d == 0) {
        buf_puts(b, signbit(d) ? "-0" : "0");
        return;
    }
    if (fabs(d) < 1e15 && d == floor(d)) {
        long long v = (long long)d;
        if (v < 0)
            buf_putc(b, '-');
        buf_put_udecimal(b, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
        return;
    }
    /* cJSON: 15 digits when they read back within DBL_EPSILON, else 17. */
    char tmp[32];
    double test = 0;
    int n = snprintf(tmp, sizeof tmp, "%1.15g", d);
    if (sscanf(tmp, "%lg", &test) == 1) {
        double max = fabs(d) > fabs(test) ? fabs(d) : fabs(test);
        if (fabs(test - d) <= max * DBL_EPSILON) {
            buf_append(b, tmp, (size_t)n);
            return;
        }
    }
    n = snprintf(tmp, sizeof tmp, "%1.17g", d);
    buf_append(b, tmp, (size_t)n);
}

/* A string literal as cJSON's print_string_ptr writes it: " \ and the
 * control characters escaped (\u00xx in lower case), every other byte as is. */
static void put_string(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    if (s) {
        const unsigned char *p = (const unsigned char *)s, *run = p;
        for (; *p; p++) {
            if (*p >= 32 && *p != '"' && *p != '\\')
                continue;
            buf_append(b, run, (size_t)(p - run));
            run = p + 1;
            buf_putc(b, '\\');
            switch (*p) {
            case '"': buf_putc(b, '"'); break;
            case '\\': buf_putc(b, '\\'); break;
            case '\b': buf_putc(b, 'b'); break;
            case '\f': buf_putc(b, 'f'); break;
            case '\n': buf_putc(b, 'n'); break;
            case '\r': buf_putc(b, 'r'); break;
            case '\t': buf_putc(b, 't'); break;
            default: {
                static const char hex[] = "0123456789abcdef";
                char u[5] = {'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
                buf_append(b, u, sizeof u);
            }
            }
        }
        buf_append(b, run, (size_t)(p - run));
    }
    buf_putc(b, '"');
}

static bool put_value(struct buf *b, const cJSON *item)
{
    switch (item->type & 0xFF) {
    case cJSON_NULL: buf_puts(b, "null"); return true;
    case cJSON_False: buf_puts(b, "false"); return true;
    case cJSON_True: buf_puts(b, "true"); return true;
    case cJSON_Number: put_number(b, item->valuedouble); return true;
    case cJSON_Raw:
        if (!item->valuestring)
            return false;
        buf_puts(b, item->valuestring);
        return true;
    case cJSON_String: put_string(b, item->valuestring); return true;
    case cJSON_Array:
    case cJSON_Object: {
        bool object = (item->type & 0xFF) == cJSON_Object;
        buf_putc(b, object ? '{' : '[');
        for (const cJSON *c = item->child; c; c = c->next) {
            if (object) {
                put_string(b, c->string);
                buf_putc(b, ':');
            }
            if (!put_value(b, c))
                return false;
            if (c->next)
                buf_putc(b, ',');
        }
        buf_putc(b, object ? '}' : ']');
        return true;
    }
    default: return false;
    }
}

char *json_print(const cJSON *item)
{
    if (!item)
        return NULL;
    struct buf b;
    buf_init(&b);
    if (!put_value(&b, item)) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}
