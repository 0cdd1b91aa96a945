/* upload_texts — what staff read about a dossier file, in Vietnamese, from
 * templates/console/upload_texts.json: the name of each record field, the
 * reason a record was refused (found by the start of the English reason the
 * service gives: dossier.h, dossier_input.h, record_reader.h), the
 * messages of `dvcbot import` and the system errors it meets (a file, Redis). The console's page gets the file through
 * /admin/ui/meta and `dvcbot import` prints from it, so both say the same.
 *
 * A struct upload_texts owns the parsed file; strings it returns live until
 * upload_texts_free. Pure after loading. */
#ifndef DVCBOT_UPLOAD_TEXTS_H
#define DVCBOT_UPLOAD_TEXTS_H

#include "dvcbot/tpl.h"

#include <stddef.h>

#define UPLOAD_TEXTS_FILE "templates/console/upload_texts.json"

struct upload_texts;

/* Reads and checks the file under data_dir (DVCBOT_DATA_DIR). Returns NULL
 * with a message in *err (caller frees) when it is missing or malformed (a
 * field, reason or message that is not a string, an "import" message
 * missing). */
struct upload_texts *upload_texts_load(const char *data_dir, char **err);
void upload_texts_free(struct upload_texts *t);

/* The Vietnamese name of a record field ("status" → "Trạng thái"), or field. */
const char *upload_texts_field(const struct upload_texts *t, const char *field);
/* The Vietnamese of the first reason whose English start reason begins
 * with, or reason itself. */
const char *upload_texts_reason(const struct upload_texts *t, const char *reason);
/* The Vietnamese of a system error (strerror, hiredis' errstr: "Connection
 * refused") from "os_errors" by its English start, else the import message
 * os_other ("lỗi hệ thống"). */
const char *upload_texts_os_error(const struct upload_texts *t, const char *error);
/* The import message key with its {{name}}s filled from vars (an unknown
 * name renders ""). Returns a string the caller frees. */
char *upload_texts_say(const struct upload_texts *t, const char *key, const struct tpl_var *vars,
                       size_t n);
/* The file as read (JSON text), for the console's page. */
const char *upload_texts_json(const struct upload_texts *t);

#endif
