/* reminder_rules — when the reminder timer writes to a dossier's
 * subscribers: the arithmetic alone, without I/O, so it is unit-tested.
 *
 * A dossier in can_bo_sung, or in cho_thanh_toan with its fee still due, is
 * reminded of every `every_s` after it entered that status (status_at), at
 * most `max` times per status change. A dossier past its due date and not
 * finished gets one late notice per due date; a status reminder due at the
 * same moment goes with it (the late notice says what to do too). Nothing
 * is sent inside the quiet hours: what falls there waits for their end.
 * Finished dossiers get nothing.
 *
 * Everything is in unix seconds; hours are Vietnam time (UTC+7, no DST). */
#ifndef DVCBOT_REMINDER_RULES_H
#define DVCBOT_REMINDER_RULES_H

#include <stdbool.h>
#include <stdint.h>

enum reminder_kind {
    REMINDER_NONE,
    REMINDER_CAN_BO_SUNG,    /* documents missing */
    REMINDER_CHO_THANH_TOAN, /* fee waiting */
    REMINDER_LATE,           /* past due_at, no result */
    REMINDER_KIND_COUNT,
};

struct reminder_rules {
    int64_t every_s;      /* between two status reminders, > 0 */
    unsigned max;         /* status reminders per status change */
    int quiet_from;       /* first quiet hour (0-23), or -1: no quiet hours */
    int quiet_to;         /* first hour after them */
};

/* What the dossier hash says (reminder.c reads it). */
struct reminder_state {
    int status;           /* enum dossier_status, -1 unknown */
    bool fee_due;         /* a fee is set and not paid */
    int64_t cycle;        /* status_at: when the status began; 0 unknown */
    int64_t counted;      /* remind_at: the cycle `count` and `last` belong to */
    unsigned count;       /* remind_n: status reminders sent in that cycle */
    int64_t last;         /* remind_last: when the last one was sent */
    int64_t late_at;      /* first late second (dossier_due_end + 1); 0: no due date */
    bool late_told;       /* late_for equals the current due_at */
};

/* What to do now and what to write back. */
struct reminder_plan {
    enum reminder_kind send; /* REMINDER_NONE: nothing now */
    int64_t cycle;        /* status_at / remind_at to store (now when unknown) */
    unsigned count;       /* remind_n to store */
    int64_t last;         /* remind_last to store */
    bool late_told;       /* store late_for = the current due_at */
    int64_t next;         /* when to look again; 0: never (until the dossier changes) */
};

/* True when t falls in the quiet hours. */
bool reminder_quiet(const struct reminder_rules *r, int64_t t);
/* t, or the end of the quiet hours t falls in. */
int64_t reminder_after_quiet(const struct reminder_rules *r, int64_t t);
void reminder_plan(const struct reminder_rules *r, const struct reminder_state *s, int64_t now,
                   struct reminder_plan *out);
/* "can_bo_sung", "cho_thanh_toan", "late" (metric labels, template names). */
const char *reminder_kind_name(enum reminder_kind k);

#endif
