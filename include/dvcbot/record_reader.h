/* record_reader — one record at a time out of a bulk upload: a JSON array,
 * NDJSON (one JSON object per line) or CSV with a header row.
 *
 * The data stays where it is (the request body, a file read whole); the
 * reader walks it and parses only the record it returns, so a caller can
 * take a slice of records per loop turn and 100 000 records never become one
 * cJSON tree. A JSON array is split by a scanner that follows strings and
 * nesting, so a malformed element is reported and the next one still read.
 * CSV (RFC 4180: quotes, "" inside quotes, CRLF, line breaks inside quotes; a
 * UTF-8 BOM is skipped) gives objects of strings named by the header. Its
 * cells are split by ',' or, when the header row holds more ';' than ','
 * outside quotes, by ';': what Excel writes as "CSV" where the list
 * separator is ';' (Vietnamese Windows among them).
 *
 * Each record comes with the line it starts on (1-based) and its position
 * (1-based) so errors can be reported back. The reader owns the CSV header
 * only; record_reader_free releases it. The data must outlive the reader. */
#ifndef DVCBOT_RECORD_READER_H
#define DVCBOT_RECORD_READER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define RECORD_CSV_MAX_COLUMNS 64

enum record_format { RECORD_JSON_ARRAY, RECORD_NDJSON, RECORD_CSV };

struct record_reader {
    const char *p, *end;
    enum record_format format;
    size_t line;        /* line at p */
    size_t record;      /* records returned so far (good or bad) */
    bool started;       /* array: '[' seen; CSV: header read */
    bool need_comma;    /* array: an element was read */
    bool done;
    char sep;           /* CSV: ',' or ';' (the header row's) */
    char *header[RECORD_CSV_MAX_COLUMNS];
    size_t n_header;
};

/* '[' → JSON array, '{' → NDJSON, anything else → CSV (after blanks/BOM). */
enum record_format record_format_guess(const char *data, size_t len);
void record_reader_init(struct record_reader *r, const char *data, size_t len,
                        enum record_format format);
void record_reader_free(struct record_reader *r);

/* Returns 1 with a record: *obj (caller cJSON_Deletes it), or *obj == NULL and
 * *err (a static lower-case reason) when that record cannot be read. Returns
 * 0 at the end. *line gets the record's first line, *index its position. */
int record_reader_next(struct record_reader *r, cJSON **obj, size_t *line, size_t *index,
                       const char **err);

#endif
