/* record_reader — split JSON arrays, NDJSON and CSV into records. */
#include "dvcbot/record_reader.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_bom(const char *p, const char *end)
{
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        return p + 3;
    return p;
}

enum record_format record_format_guess(const char *data, size_t len)
{
    const char *end = data + len, *p = skip_bom(data, end);
    while (p < end && is_ws(*p))
        p++;
    if (p < end && *p == '[')
        return RECORD_JSON_ARRAY;
    if (p < end && *p == '{')
        return RECORD_NDJSON;
    return RECORD_CSV;
}

/* ';' when the first line holds more of them than ',' outside quotes. */
static char csv_separator(const char *p, const char *end)
{
    size_t commas = 0, semicolons = 0;
    bool quoted = false;
    for (; p < end && (quoted || *p != '\n'); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == ',')
            commas++;
        else if (!quoted && *p == ';')
            semicolons++;
    }
    return semicolons > commas ? ';' : ',';
}

void record_reader_init(struct record_reader *r, const char *data, size_t len,
                        enum record_format format)
{
    memset(r, 0, sizeof *r);
    r->end = data + len;
    r->p = skip_bom(data, r->end);
    r->format = format;
    r->line = 1;
    r->sep = format == RECORD_CSV ? csv_separator(r->p, r->end) : ',';
}

void record_reader_free(struct record_reader *r)
{
    for (size_t i = 0; i < r->n_header; i++)
        free(r->header[i]);
    r->n_header = 0;
}

static void skip_ws(struct record_reader *r)
{
    while (r->p < r->end && is_ws(*r->p)) {
        if (*r->p == '\n')
            r->line++;
        r->p++;
    }
}

/* ===== JSON array ===== */

/* Returns the end of the JSON value starting at start, or NULL when the
 * data ends inside it. Counts the newlines it passes. */
static const char *scan_value(struct record_reader *r, const char *start)
{
    int depth = 0;
    bool in_str = false;
    for (const char *p = start; p < r->end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\' && p + 1 < r->end) {
                c = *++p; /* escaped: never closes the string */
            } else if (c == '"') {
                in_str = false;
                if (depth == 0)
                    return p + 1;
            }
            if (c == '\n')
                r->line++;
            continue;
        }
        if (depth == 0 && p != start && (c == ',' || c == ']' || is_ws(c)))
            return p; /* end of a bare value */
        if (c == '\n')
            r->line++;
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth <= 0)
                return p + 1;
        }
    }
    return depth == 0 && !in_str ? r->end : NULL;
}

static int array_end(struct record_reader *r, const char **err)
{
    r->p++;
    skip_ws(r);
    r->done = true;
    if (r->p < r->end) {
        *err = "unexpected content after the closing ]";
        return 1;
    }
    return 0;
}

static int next_in_array(struct record_reader *r, cJSON **obj, size_t *line, const char **err)
{
    if (!r->started) {
        skip_ws(r);
        r->started = true;
        if (r->p >= r->end || *r->p != '[') {
            r->done = true;
            *err = "body must be a JSON array";
            return 1;
        }
        r->p++;
    }
    skip_ws(r);
    if (r->p < r->end && *r->p == ']')
        return array_end(r, err);
    if (r->need_comma) {
        if (r->p < r->end && *r->p != ',') {
            r->done = true;
            *err = "expected ',' or ']' after a record";
            return 1;
        }
        r->p++;
        skip_ws(r);
    }
    if (r->p >= r->end) {
        r->done = true;
        *err = "the array is not closed with ]";
        return 1;
    }
    if (*r->p == ']')
        return array_end(r, err); /* a trailing comma is forgiven */
    const char *start = r->p;
    *line = r->line;
    const char *stop = scan_value(r, start);
    if (!stop) {
        r->done = true;
        *err = "record not terminated (unbalanced braces or quotes)";
        return 1;
    }
    r->p = stop;
    r->need_comma = true;
    *obj = cJSON_ParseWithLength(start, (size_t)(stop - start));
    if (!*obj)
        *err = "not valid JSON";
    return 1;
}

/* ===== NDJSON ===== */

static int next_line(struct record_reader *r, cJSON **obj, size_t *line, const char **err)
{
    while (r->p < r->end) {
        const char *s = r->p;
        const char *nl = memchr(s, '\n', (size_t)(r->end - s));
        const char *e = nl ? nl : r->end;
        *line = r->line;
        r->p = nl ? nl + 1 : r->end;
        if (nl)
            r->line++;
        while (s < e && is_ws(*s))
            s++;
        while (e > s && is_ws(e[-1]))
            e--;
        if (s == e)
            continue;
        *obj = cJSON_ParseWithLength(s, (size_t)(e - s));
        if (!*obj)
            *err = "not valid JSON";
        return 1;
    }
    r->done = true;
    return 0;
}

/* ===== CSV ===== */

static char *trimmed_copy(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return xstrndup(s, len);
}

/* Reads one row into cells (allocated strings). Returns the number of cells,
 * or -1 with *err (the row is consumed either way). */
static int csv_row(struct record_reader *r, char **cells, const char **err)
{
    struct buf cell;
    buf_init(&cell);
    int n = 0;
    bool bad = false;
    for (;;) {
        buf_reset(&cell);
        if (r->p < r->end && *r->p == '"') {
            for (r->p++;; r->p++) {
                if (r->p >= r->end) {
                    *err = "unterminated quoted cell";
                    bad = true;
                    break;
                }
                if (*r->p == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') {
                        buf_putc(&cell, '"');
                        r->p++;
                        continue;
                    }
                    r->p++;
                    break;
                }
                if (*r->p == '\n')
                    r->line++;
                buf_putc(&cell, *r->p);
            }
        }
        while (r->p < r->end && *r->p != r->sep && *r->p != '\n' && *r->p != '\r')
            buf_putc(&cell, *r->p++);
        if (n < RECORD_CSV_MAX_COLUMNS)
            cells[n++] = trimmed_copy(buf_cstr(&cell), cell.len);
        else if (!bad) {
            *err = "too many columns";
            bad = true;
        }
        if (r->p < r->end && *r->p == r->sep) {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '\r')
            r->p++;
        if (r->p < r->end && *r->p == '\n') {
            r->p++;
            r->line++;
        }
        break;
    }
    buf_free(&cell);
    if (bad) {
        for (int i = 0; i < n; i++)
            free(cells[i]);
        return -1;
    }
    return n;
}

static void free_cells(char **cells, int n)
{
    for (int i = 0; i < n; i++)
        free(cells[i]);
}

static int next_csv(struct record_reader *r, cJSON **obj, size_t *line, const char **err)
{
    char *cells[RECORD_CSV_MAX_COLUMNS];
    while (r->p < r->end) {
        *line = r->line;
        int n = csv_row(r, cells, err);
        if (n < 0)
            return 1;
        if (n == 1 && !cells[0][0]) {
            free_cells(cells, n);
            continue; /* blank line */
        }
        if (!r->started) {
            r->started = true;
            memcpy(r->header, cells, (size_t)n * sizeof *cells);
            r->n_header = (size_t)n;
            continue;
        }
        if ((size_t)n != r->n_header) {
            free_cells(cells, n);
            *err = "row does not have as many cells as the header";
            return 1;
        }
        *obj = cJSON_CreateObject();
        for (int i = 0; i < n; i++)
            if (r->header[i][0])
                cJSON_AddStringToObject(*obj, r->header[i], cells[i]);
        free_cells(cells, n);
        return 1;
    }
    r->done = true;
    return 0;
}

int record_reader_next(struct record_reader *r, cJSON **obj, size_t *line, size_t *index,
                       const char **err)
{
    *obj = NULL;
    *err = NULL;
    if (r->done)
        return 0;
    int got;
    switch (r->format) {
    case RECORD_JSON_ARRAY:
        *line = r->line;
        got = next_in_array(r, obj, line, err);
        break;
    case RECORD_NDJSON:
        got = next_line(r, obj, line, err);
        break;
    default:
        got = next_csv(r, obj, line, err);
        break;
    }
    if (!got)
        return 0;
    *index = ++r->record;
    if (*obj && !cJSON_IsObject(*obj)) {
        cJSON_Delete(*obj);
        *obj = NULL;
        *err = "record must be a JSON object";
    }
    return 1;
}
