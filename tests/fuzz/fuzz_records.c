/* fuzz_records — the dossier record reader (bulk uploads of the staff
 * API and `dvcbot import`): a JSON array, NDJSON or CSV with a header row.
 *
 * Input: one mode byte (0: the format record_format_guess picks, 1 JSON
 * array, 2 NDJSON, 3 CSV), then the data. Every record is read to the end.
 *
 * Properties: each call either ends the data or returns a record (an
 * object, or an error reason) numbered one more than the last, on a line
 * that never goes back and never passes the data's line count; a CSV
 * record is an object of strings named by the header. */
#include "fuzz.h"
#include "dvcbot/record_reader.h"

#include <cjson/cJSON.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

static void check_record(const cJSON *obj, enum record_format format, const char *err)
{
    if (!obj) {
        if (!err || !*err)
            fuzz_fail("a bad record without a reason");
        return;
    }
    if (!cJSON_IsObject(obj))
        fuzz_fail("a record that is not an object");
    if (format != RECORD_CSV)
        return;
    const cJSON *f;
    cJSON_ArrayForEach(f, obj)
        if (!cJSON_IsString(f) || !f->string)
            fuzz_fail("a CSV field that is not a named string");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    enum record_format format;
    switch (data[0] & 3) {
    case 1: format = RECORD_JSON_ARRAY; break;
    case 2: format = RECORD_NDJSON; break;
    case 3: format = RECORD_CSV; break;
    default: format = record_format_guess(text, len); break;
    }
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    struct record_reader r;
    record_reader_init(&r, text, len, format);
    size_t last_line = 0, last_index = 0;
    for (size_t calls = 0;; calls++) {
        if (calls > len + 2)
            fuzz_fail("the reader returns more records than the data has bytes");
        cJSON *obj = NULL;
        size_t line = 0, index = 0;
        const char *err = NULL;
        int rc = record_reader_next(&r, &obj, &line, &index, &err);
        if (rc == 0) {
            if (obj)
                fuzz_fail("an object returned at the end");
            break;
        }
        if (rc != 1)
            fuzz_fail("record_reader_next returned neither 0 nor 1");
        if (index != last_index + 1 || line < last_line || line < 1 || line > lines)
            fuzz_fail("record numbering or line out of order");
        last_index = index;
        last_line = line;
        check_record(obj, format, err);
        cJSON_Delete(obj);
    }
    /* Once at the end, it stays there. */
    cJSON *obj = NULL;
    size_t line, index;
    const char *err;
    if (record_reader_next(&r, &obj, &line, &index, &err) != 0)
        fuzz_fail("the reader started again after its end");
    record_reader_free(&r);
    return 0;
}
