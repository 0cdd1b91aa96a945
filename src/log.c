/* log — JSON-lines logger with masking of personal numbers. */
#include "dvcbot/log.h"
#include "dvcbot/buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static FILE *log_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level min, FILE *out)
{
    min_level = min;
    log_out = out;
}

enum log_level log_level_from_name(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return (enum log_level)i;
    return LOG_INFO;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_joiner(char c)
{
    return c == ' ' || c == '.' || c == '-';
}

/* Length of the digit run starting at s[i] (joiners allowed between digits);
 * *ndigits receives how many digits it holds. */
static size_t digit_run(const char *s, size_t len, size_t i, size_t *ndigits)
{
    size_t end = i, n = 0;
    while (end < len) {
        if (is_digit(s[end])) {
            n++;
            end++;
        } else if (is_joiner(s[end]) && end + 1 < len && is_digit(s[end + 1]) && end > i) {
            end++;
        } else {
            break;
        }
    }
    *ndigits = n;
    return end - i;
}

void log_mask_digits(char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (!is_digit(s[i])) {
            i++;
            continue;
        }
        size_t ndigits, run = digit_run(s, len, i, &ndigits);
        if (ndigits >= 9) {
            size_t keep = 3, seen = 0;
            for (size_t j = i + run; j-- > i;) {
                if (!is_digit(s[j]))
                    continue;
                if (seen++ >= keep)
                    s[j] = '*';
            }
        }
        i += run;
    }
}

const char *log_q(const char *s)
{
    static char ring[8][256];
    static unsigned next;
    char *out = ring[next++ % 8];
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = s ? s : ""; *p && o < sizeof ring[0] - 8; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            out[o++] = '?';
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

static void write_line(enum log_level level, const char *msg, const char *fields)
{
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000L);

    struct buf line;
    buf_init(&line);
    buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
    buf_json_str(&line, msg);
    if (fields && *fields) {
        buf_putc(&line, ',');
        buf_puts(&line, fields);
    }
    buf_puts(&line, "}\n");
    log_mask_digits(line.data, line.len);
    FILE *out = log_out ? log_out : stderr;
    fwrite(line.data, 1, line.len, out);
    fflush(out);
    buf_free(&line);
}

void log_msg(enum log_level level, const char *msg)
{
    if (level < min_level)
        return;
    write_line(level, msg, NULL);
}

void log_fmt(enum log_level level, const char *msg, const char *fields_fmt, ...)
{
    if (level < min_level)
        return;
    struct buf fields;
    buf_init(&fields);
    va_list ap;
    va_start(ap, fields_fmt);
    buf_vprintf(&fields, fields_fmt, ap);
    va_end(ap);
    write_line(level, msg, buf_cstr(&fields));
    buf_free(&fields);
}
