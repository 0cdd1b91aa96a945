/* log — one JSON object per line on stderr, personal numbers masked.
 *
 * Every line is {"ts":"...","level":"...","msg":"...",<fields>}. `msg` is
 * lower case and says the error first ("send failed"). Fields are given as a
 * printf format producing JSON members, e.g.
 *     log_fmt(LOG_WARN, "send failed", "\"status\":%ld,\"channel\":%s", st, log_q(ch));
 * Strings from outside must go through log_q(), which quotes and escapes them.
 * Before a line is written, any run of 9 or more digits (phone, CCCD/CMND,
 * chat ids) is masked to its last 3 digits: "*********789". User-typed text is
 * never logged; log the intent or the length instead. */
#ifndef DVCBOT_LOG_H
#define DVCBOT_LOG_H

#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the minimum level written (default LOG_INFO) and the stream (default stderr). */
void log_setup(enum log_level min, FILE *out);
/* Parses "debug", "info", "warn", "error"; unknown names give LOG_INFO. */
enum log_level log_level_from_name(const char *name);

void log_msg(enum log_level level, const char *msg);
void log_fmt(enum log_level level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns s as a quoted, escaped JSON string in one of 8 rotating static
 * buffers (so up to 8 may appear in one log call). Long strings are cut. */
const char *log_q(const char *s);

/* Masks digit runs of 9+ digits in place (spaces, dots and dashes inside a
 * run count as part of it, so "0912 345 678" is masked too). Keeps the last 3
 * digits. Used by the logger; exposed for tests and for other sinks. */
void log_mask_digits(char *s, size_t len);

#endif
