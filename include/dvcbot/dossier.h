/* dossier — the dossier record (hồ sơ) staff systems send, checked field by
 * field and kept in Redis as the hash dossier:<CODE>.
 *
 * Fields (../shared/DESIGN.md): code, procedure (catalog id), applicant_name,
 * phone, id_number, commune, agency, status, received_at, due_at, fee, paid,
 * submitted_online, paid_online, finished_at, note. Required: code,
 * procedure, status, received_at, and a phone or id_number with 4+ digits
 * (the citizen proves ownership with their last 4 digits). A field absent
 * from a record keeps its stored value; "" clears a text field. Unknown
 * fields are ignored. In the hash, booleans are "1"/"0", fee is a decimal
 * integer (VND), dates are kept as sent (ISO 8601 with an offset, or a bare
 * date meaning 00:00 +07:00), the code is upper case. dvcbot adds
 * created_at/updated_at (unix s) and, once its own payment gateway confirmed
 * a payment, paid_via: such a dossier stays paid even if a later export still
 * says unpaid.
 *
 * Upsert: one Redis function (dossier_upsert in redis/dvcbot.lua) compares, writes only changed
 * fields, and when an existing dossier's status changes appends
 * "<CODE> <new status>" to the list dossier:changes, which notify.c drains.
 * It also keeps status_at (unix s the dossier entered its status) and, when
 * the dossier is new or its status or due_at changed, puts the code in the
 * sorted set remind:due (scored now: look at it at once) unless the status
 * is final, where it takes it out; reminder.c owns that set.
 * The record's personal fields (name, phone, id_number) are never logged.
 *
 * Ownership: a struct dossier owns its strings; dossier_clear frees them.
 * Everything here is synchronous and keeps no state. */
#ifndef DVCBOT_DOSSIER_H
#define DVCBOT_DOSSIER_H

#include "dvcbot/catalog.h"

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define DOSSIER_CODE_MIN 6
#define DOSSIER_CODE_MAX 40      /* keeps "hs:unsub:<code>" within a 64-byte payload */
#define DOSSIER_TEXT_MAX 500     /* bytes of a text field */
#define DOSSIER_NOTE_MAX 2000
#define DOSSIER_FEE_MAX 1000000000000LL
#define DOSSIER_KEY_PREFIX "dossier:"
#define DOSSIER_KEY_MAX (sizeof DOSSIER_KEY_PREFIX + DOSSIER_CODE_MAX)
#define DOSSIER_CHANGES_KEY "dossier:changes"
#define DOSSIER_CHANGES_MAX 100000 /* entries kept when nobody drains the list */
#define DOSSIER_REMIND_KEY "remind:due"
#define DOSSIER_PENDING_PREFIX "hs:p:" /* follows waiting for it (lookup_guard.h) */

enum dossier_status {
    DOSSIER_DA_TIEP_NHAN,
    DOSSIER_DANG_XU_LY,
    DOSSIER_CAN_BO_SUNG,
    DOSSIER_CHO_THANH_TOAN,
    DOSSIER_DA_CO_KET_QUA,
    DOSSIER_DA_TRA_KET_QUA,
    DOSSIER_TU_CHOI,
    DOSSIER_STATUS_COUNT,
};

enum dossier_field {
    DF_CODE,
    DF_PROCEDURE,
    DF_APPLICANT_NAME,
    DF_PHONE,
    DF_ID_NUMBER,
    DF_COMMUNE,
    DF_AGENCY,
    DF_STATUS,
    DF_RECEIVED_AT,
    DF_DUE_AT,
    DF_FEE,
    DF_PAID,
    DF_SUBMITTED_ONLINE,
    DF_PAID_ONLINE,
    DF_FINISHED_AT,
    DF_NOTE,
    DF_COUNT,
};

struct dossier {
    char *v[DF_COUNT]; /* owned; NULL = absent */
};

/* Why a record was refused: the field ("" for the whole record) and a
 * lower-case reason for the staff who sent it. */
struct dossier_error {
    const char *field;
    char reason[160];
};

const char *dossier_field_name(enum dossier_field f);
const char *dossier_status_name(enum dossier_status s);
/* Returns the status, or -1 for an unknown name. */
int dossier_status_from_name(const char *name);
/* A result was given or the dossier was refused: nothing more will happen. */
bool dossier_status_final(enum dossier_status s);

/* ===== Records ===== */

/* Checks one record (a JSON object; numbers and booleans may also come as
 * strings, as from CSV) and fills d with normalized values. Returns 0, or -1
 * with the first problem in *err (d is then empty). cat may be NULL to skip
 * the catalog check. */
int dossier_from_json(const cJSON *obj, const struct catalog *cat, struct dossier *d,
                      struct dossier_error *err);
/* Fills d from an HGETALL reply (field/value pairs). Returns 0, or -1 when
 * the reply is not a non-empty array of pairs. */
int dossier_from_hash(const redisReply *r, struct dossier *d);
void dossier_clear(struct dossier *d);
/* The value of a field, "" when absent. */
const char *dossier_get(const struct dossier *d, enum dossier_field f);
/* Status of a stored dossier, or -1. */
int dossier_status(const struct dossier *d);
long long dossier_fee(const struct dossier *d);
bool dossier_flag(const struct dossier *d, enum dossier_field f);

/* ===== Codes ===== */

/* Normalizes a dossier code (trimmed, upper case) into out (at least
 * DOSSIER_CODE_MAX + 1 bytes). Codes are 6..40 characters of A-Z 0-9 . - _ /,
 * start and end with a letter or digit and hold at least one digit. */
bool dossier_code_normalize(const char *in, size_t len, char *out);
/* Finds the first code-like word in what a user typed ("mã 000.00.12.H50-
 * 241120-0003 xong chưa?") and writes it normalized to out. */
bool dossier_code_find(const char *text, char *out);
void dossier_key(char *out, size_t len, const char *code);

/* ===== Upsert ===== */

/* Arguments of one upsert, after the script: KEYS = dossier:<code>,
 * dossier:changes, remind:due, hs:p:<code>; ARGV = now, code, commune
 * guard, then field/value pairs. A new dossier somebody waits for
 * (hs:p:<code>) goes into dossier:changes too. */
#define DOSSIER_UPSERT_ARGS (4 + 3 + 2 * DF_COUNT)
struct dossier_upsert {
    char key[DOSSIER_KEY_MAX];
    char pending_key[DOSSIER_KEY_MAX];
    char now[24];
    char guard[DOSSIER_TEXT_MAX + 2];
    int nkeys;
    int argc;
    const char *argv[DOSSIER_UPSERT_ARGS];
    size_t lens[DOSSIER_UPSERT_ARGS];
};
/* Points u at d's values (d must outlive u). With stored_commune non-NULL
 * the upsert writes an existing dossier only when its stored commune is
 * exactly that string ("" : none stored); otherwise it answers
 * DOSSIER_OTHER_COMMUNE and writes nothing. A new dossier is created either
 * way. NULL: no condition. */
void dossier_upsert_prepare(const struct dossier *d, time_t now, const char *stored_commune,
                            struct dossier_upsert *u);

enum dossier_outcome {
    DOSSIER_UNCHANGED = 0,
    DOSSIER_UPDATED = 1,
    DOSSIER_CREATED = 2,
    DOSSIER_OTHER_COMMUNE = 3, /* refused by the commune condition */
};
/* Reads the script's reply. Returns 0 with the outcome, or -1 for an error
 * reply. *status_changed is true when an existing dossier got a new status
 * (always false when new_status is NULL). For DOSSIER_OTHER_COMMUNE,
 * *stored_commune (when not NULL) points into r at the commune the dossier
 * has ("" for none). */
int dossier_upsert_result(const redisReply *r, const char *new_status,
                          enum dossier_outcome *outcome, bool *status_changed,
                          const char **stored_commune);

/* ===== Presentation ===== */

/* Parses "YYYY-MM-DD" (00:00 +07:00) or "YYYY-MM-DDTHH:MM[:SS[.fff]]" with
 * "Z" or "±HH:MM" into unix time. Returns 0 or -1. */
int dossier_time_parse(const char *s, time_t *out);
/* "dd/mm/yyyy" in Vietnam time (GMT+7), whatever TZ says. */
void dossier_format_date(time_t t, char out[16]);
/* "HH:MM dd/mm/yyyy" in Vietnam time. */
void dossier_format_datetime(time_t t, char out[24]);
/* 1500000 → "1.500.000" (Vietnamese grouping). */
void dossier_format_vnd(long long amount, char *out, size_t len);
/* The last second the dossier is on time: due_at, or the end of that day
 * for a bare date. Returns false without a readable due_at. */
bool dossier_due_end(const struct dossier *d, time_t *out);
/* Whole days past due_at (against finished_at once final, else now); 0 when
 * on time or when there is no due date. */
long dossier_days_late(const struct dossier *d, time_t now);
/* "Nguyễn Văn An" → "Nguyễn V. A.": the family name and initials only. */
void dossier_mask_name(const char *name, char *out, size_t len);

#endif
