/* validate — checks and normalises what a citizen types into a flow slot.
 *
 * Pure functions: no I/O, no globals; "now" is passed in so tests can fix it.
 * Each writes the normalised answer into out (cap bytes, NUL-terminated) and
 * returns VALID_OK, or a code saying why the answer was refused (the flow
 * engine turns the code into the template "flow_invalid_<code name>").
 *
 * Accepted forms (intents/README.md repeats them for data authors):
 *   date   d/m/yyyy with '/', '-', '.' or spaces between the parts ("1/2/1990",
 *          "01-02-1990", "1.2.1990"), "ngày 1 tháng 2 năm 1990", and ddmmyyyy
 *          ("01021990"). A 2-digit year is read as 20yy when that is not after
 *          the current year, else 19yy (for VALID_DATE_FUTURE dates: always 20yy).
 *          "d/m" (no year) only for the rules RECENT and UPCOMING (below).
 *          "hôm nay", "hôm qua", "hôm kia", "(ngày) mai", "ngày kia": that day.
 *          Years 1900..2100; the day must exist. Out: "dd/mm/yyyy". Dates are
 *          compared with today in Vietnam (UTC+7).
 *   cccd   12 digits (spaces, dots, dashes ignored): a province code of the
 *          63 pre-2025 provinces (the first 3 digits), a century/sex digit 0..3
 *          (born 1900..2099) and a birth year (digits 5-6) not in the future.
 *          Out: the 12 digits.
 *   phone  Vietnamese mobile numbers: 0xxxxxxxxx, +84xxxxxxxxx, 84xxxxxxxxx,
 *          0084xxxxxxxxx with spaces, dots, dashes or brackets; the network
 *          prefix must be 03, 05, 07, 08 or 09. Out: "0xxxxxxxxx".
 *   name   letters (any script, with diacritics), spaces, "'" "-" "."; every
 *          word capitalised ("nguyễn văn an" → "Nguyễn Văn An").
 *   text   any printable text; NFC, runs of white space become one space.
 *   option a button's number ("2"), its label, or an unambiguous part of it,
 *          compared without case and diacritics.
 * Lengths are counted in characters (code points) after normalisation. */
#ifndef DVCBOT_VALIDATE_H
#define DVCBOT_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Longest text answer a slot may allow, in characters. */
#define VALIDATE_TEXT_MAX_CHARS 300
/* Enough for any normalised answer (4 bytes per character at most). */
#define VALIDATE_OUT_MAX (VALIDATE_TEXT_MAX_CHARS * 4 + 1)

enum valid_code {
    VALID_OK,
    VALID_EMPTY,
    VALID_DATE_FORMAT,     /* not a date we can read */
    VALID_DATE_NO_YEAR,    /* "5/11" where the year cannot be taken for granted */
    VALID_DATE_NOT_EXIST,  /* 31/02, month 13 */
    VALID_DATE_FUTURE,     /* after today where the date must be past */
    VALID_DATE_PAST,       /* before today where the date must be future */
    VALID_DATE_TOO_OLD,    /* before 1900 */
    VALID_CCCD_DIGITS,     /* not 12 digits */
    VALID_CCCD_INVALID,    /* 12 digits, but no such province or birth year */
    VALID_PHONE,           /* not a Vietnamese mobile number */
    VALID_OPTION,          /* none (or more than one) of the options */
    VALID_TEXT_SHORT,
    VALID_TEXT_LONG,
    VALID_TEXT_CHARS,      /* control characters or invalid UTF-8 */
    VALID_NAME_CHARS,      /* digits or symbols in a name */
    VALID_CODE_COUNT
};

/* RECENT and UPCOMING are NOT_FUTURE and NOT_PAST where the year may be
 * left out ("5/11"): the last such day up to today, or the next from today
 * (a newborn's birth, a guest's leaving). Elsewhere "5/11" is
 * VALID_DATE_NO_YEAR. */
enum valid_date_rule {
    VALID_DATE_ANY, VALID_DATE_NOT_FUTURE, VALID_DATE_NOT_PAST, VALID_DATE_RECENT,
    VALID_DATE_UPCOMING
};

/* "date_format", "cccd_digits"... (lower case, for template names). */
const char *validate_code_name(enum valid_code code);

enum valid_code validate_date(const char *in, enum valid_date_rule rule, time_t now, char *out,
                              size_t cap);
/* True when in leaves its date to be worked out: a day and month without a
 * year ("5/11", "ngày 5 tháng 11") or a day word ("hôm qua"); worth saying
 * the full date back. */
bool validate_date_implied(const char *in);
enum valid_code validate_cccd(const char *in, time_t now, char *out, size_t cap);
enum valid_code validate_phone(const char *in, char *out, size_t cap);
enum valid_code validate_name(const char *in, size_t min_chars, size_t max_chars, char *out,
                              size_t cap);
enum valid_code validate_text(const char *in, size_t min_chars, size_t max_chars, char *out,
                              size_t cap);
/* Index of the option the answer names, or -1 (VALID_OPTION). */
int validate_option(const char *in, const char *const *options, size_t n);

/* True when code is a known 3-digit CCCD province code ("014" Sơn La). */
bool validate_cccd_province(const char *three_digits);

#endif
