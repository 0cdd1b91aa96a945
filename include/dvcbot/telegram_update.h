/* telegram_update — the fields of a Telegram update that dvcbot reads.
 *
 * Two readers fill the same struct tg_update. telegram_update_from_tree
 * reads a cJSON tree (cJSON_GetObjectItemCaseSensitive: the first item of a
 * name). telegram_update_scan reads the update's text in one pass without a
 * tree: a tree cost ~11 000 instructions per update (cJSON's strtod on every
 * number, one allocation per item), the scan ~2 000.
 *
 * The scan knows only the plain form Telegram sends: objects, arrays,
 * strings (escapes \" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs), whole
 * numbers of at most 16 digits up to 2^53, true, false, null. On anything
 * else it answers false WITHOUT deciding — a fraction or exponent, a longer
 * number, a leading zero, a key with an escape, a NUL byte, \u0000, a broken
 * surrogate, a field it reads twice in one object, nesting deeper than
 * TG_SCAN_DEPTH, a BOM — and the caller reads the text with cJSON, as
 * before. Every update therefore reads as cJSON reads it
 * (tests/unit/test_telegram_update.c and fuzz_telegram compare the two).
 *
 * A string value points into the text (no escape) or into u->scratch (one
 * allocation the size of the text, only when a string it keeps has an
 * escape); it is NUL-terminated only in the scratch or the tree, so use
 * str/len. telegram_update_free releases the scratch; the tree's strings
 * belong to the tree. */
#ifndef DVCBOT_TELEGRAM_UPDATE_H
#define DVCBOT_TELEGRAM_UPDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define TG_SCAN_DEPTH 32

enum tg_field {
    TG_UPDATE_ID,
    TG_MESSAGE,
    TG_MESSAGE_CHAT,
    TG_MESSAGE_CHAT_ID,
    TG_MESSAGE_FROM,
    TG_MESSAGE_FROM_ID,
    TG_MESSAGE_TEXT,
    TG_MESSAGE_DATE,
    TG_CALLBACK,
    TG_CALLBACK_ID,
    TG_CALLBACK_FROM,
    TG_CALLBACK_FROM_ID,
    TG_CALLBACK_MESSAGE,
    TG_CALLBACK_CHAT,
    TG_CALLBACK_CHAT_ID,
    TG_CALLBACK_DATA,
    TG_FIELDS
};

/* TG_ABSENT also when the field's parent is not an object. */
enum tg_kind { TG_ABSENT, TG_OBJECT, TG_STRING, TG_NUMBER, TG_OTHER };

struct tg_value {
    enum tg_kind kind;
    double number;   /* TG_NUMBER */
    const char *str; /* TG_STRING: len bytes, no NUL among them */
    size_t len;
};

struct tg_update {
    bool root_object; /* the text is a JSON object */
    struct tg_value f[TG_FIELDS];
    char *scratch;    /* owned; NULL until a kept string has an escape */
};

/* Reads the text; false: not in the plain form (u holds nothing to free). */
bool telegram_update_scan(const char *json, size_t len, struct tg_update *u);
/* Fills u from a parsed tree (root may be NULL); u borrows root's strings. */
void telegram_update_from_tree(const cJSON *root, struct tg_update *u);
void telegram_update_free(struct tg_update *u);

#endif
