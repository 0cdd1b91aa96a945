/* reminder_rules: quiet hours in Vietnam time, the reminder schedule (every
 * interval, at most max per status, one late notice per due date), who may
 * get a proactive message; and DVCBOT_QUIET_HOURS as config reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/config.h"
#include "dvcbot/dossier.h"
#include "dvcbot/reminder_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600
#define DAY (24 * HOUR)
#define EVERY (2 * DAY)

static const struct reminder_rules NIGHTS = {.every_s = EVERY, .max = 3, .quiet_from = 21, .quiet_to = 7};
static const struct reminder_rules ALWAYS = {.every_s = EVERY, .max = 3, .quiet_from = -1, .quiet_to = -1};

/* A moment written in Vietnam time. */
static int64_t at(const char *iso)
{
    time_t t;
    if (dossier_time_parse(iso, &t) != 0)
        fail_msg("bad time %s", iso);
    return (int64_t)t;
}

/* ===== Quiet hours ===== */

static void test_nights_are_quiet_in_vietnam_time(void **state)
{
    (void)state;
    assert_false(reminder_quiet(&NIGHTS, at("2025-03-01T20:59:59+07:00")));
    assert_true(reminder_quiet(&NIGHTS, at("2025-03-01T21:00:00+07:00")));
    assert_true(reminder_quiet(&NIGHTS, at("2025-03-01T23:59:59+07:00")));
    assert_true(reminder_quiet(&NIGHTS, at("2025-03-02T00:00:00+07:00")));
    assert_true(reminder_quiet(&NIGHTS, at("2025-03-02T06:59:59+07:00")));
    assert_false(reminder_quiet(&NIGHTS, at("2025-03-02T07:00:00+07:00")));
    /* 14:30 UTC is 21:30 in Vietnam, whatever TZ the process has. */
    assert_true(reminder_quiet(&NIGHTS, at("2025-03-01T14:30:00Z")));
    assert_false(reminder_quiet(&ALWAYS, at("2025-03-01T23:00:00+07:00")));
}

static void test_quiet_moments_move_to_the_morning(void **state)
{
    (void)state;
    int64_t morning = at("2025-03-02T07:00:00+07:00");
    assert_int_equal(reminder_after_quiet(&NIGHTS, at("2025-03-01T21:00:00+07:00")), morning);
    assert_int_equal(reminder_after_quiet(&NIGHTS, at("2025-03-01T23:30:00+07:00")), morning);
    assert_int_equal(reminder_after_quiet(&NIGHTS, at("2025-03-02T03:10:00+07:00")), morning);
    int64_t day = at("2025-03-02T09:15:00+07:00");
    assert_int_equal(reminder_after_quiet(&NIGHTS, day), day);
    assert_int_equal(reminder_after_quiet(&ALWAYS, at("2025-03-01T23:30:00+07:00")),
                     at("2025-03-01T23:30:00+07:00"));
}

static void test_quiet_hours_within_one_day(void **state)
{
    (void)state;
    const struct reminder_rules lunch = {.every_s = EVERY, .max = 3, .quiet_from = 12, .quiet_to = 14};
    assert_false(reminder_quiet(&lunch, at("2025-03-01T11:59:59+07:00")));
    assert_true(reminder_quiet(&lunch, at("2025-03-01T12:00:00+07:00")));
    assert_false(reminder_quiet(&lunch, at("2025-03-01T14:00:00+07:00")));
    assert_false(reminder_quiet(&lunch, at("2025-03-01T23:00:00+07:00")));
    assert_int_equal(reminder_after_quiet(&lunch, at("2025-03-01T13:20:00+07:00")),
                     at("2025-03-01T14:00:00+07:00"));
}

/* ===== DVCBOT_QUIET_HOURS and the other settings ===== */

static int load_quiet(const char *value, struct config *cfg)
{
    if (value)
        setenv("DVCBOT_QUIET_HOURS", value, 1);
    else
        unsetenv("DVCBOT_QUIET_HOURS");
    const char *err = NULL;
    int rc = config_load(cfg, &err);
    if (rc == 0)
        config_free(cfg);
    else
        assert_non_null(strstr(err, "DVCBOT_QUIET_HOURS"));
    unsetenv("DVCBOT_QUIET_HOURS");
    return rc;
}

static void test_quiet_hours_setting(void **state)
{
    (void)state;
    struct config cfg;
    assert_int_equal(load_quiet(NULL, &cfg), 0);
    assert_int_equal(cfg.quiet_from, 21);
    assert_int_equal(cfg.quiet_to, 7);
    assert_int_equal(cfg.remind_every_s, 2 * 24 * 3600);
    assert_int_equal(cfg.remind_max, 3);
    assert_int_equal(cfg.remind_tick_ms, 30000);
    assert_int_equal(load_quiet("", &cfg), 0);
    assert_int_equal(cfg.quiet_from, -1);
    assert_int_equal(cfg.quiet_to, -1);
    assert_int_equal(load_quiet("22-6", &cfg), 0);
    assert_int_equal(cfg.quiet_from, 22);
    assert_int_equal(cfg.quiet_to, 6);
    assert_int_equal(load_quiet("0-5", &cfg), 0);
    assert_int_equal(cfg.quiet_from, 0);
    static const char *const bad[] = {"21", "21-", "-7", "7-7", "24-6", "21-7x", "a-b", "21 - 7", "021-7"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (load_quiet(bad[i], &cfg) == 0)
            fail_msg("DVCBOT_QUIET_HOURS=%s was accepted", bad[i]);
}

static void test_zero_interval_is_refused(void **state)
{
    (void)state;
    struct config cfg;
    const char *err = NULL;
    setenv("DVCBOT_REMIND_EVERY", "0", 1);
    assert_int_equal(config_load(&cfg, &err), -1);
    assert_non_null(strstr(err, "DVCBOT_REMIND_EVERY"));
    setenv("DVCBOT_REMIND_EVERY", "5", 1);
    assert_int_equal(config_load(&cfg, &err), 0);
    assert_int_equal(cfg.remind_every_s, 5);
    config_free(&cfg);
    unsetenv("DVCBOT_REMIND_EVERY");
}

/* ===== The plan ===== */

static struct reminder_state waiting(int status, int64_t since)
{
    return (struct reminder_state){.status = status, .fee_due = true, .cycle = since};
}

static void test_missing_documents_are_reminded_every_interval_up_to_max(void **state)
{
    (void)state;
    int64_t t0 = at("2025-03-03T09:00:00+07:00");
    struct reminder_state s = waiting(DOSSIER_CAN_BO_SUNG, t0);
    struct reminder_plan p;

    reminder_plan(&NIGHTS, &s, t0, &p); /* just changed: the first one is one interval away */
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.next, t0 + EVERY);
    assert_int_equal(p.cycle, t0);

    int64_t now = t0 + EVERY;
    for (unsigned n = 1; n <= 3; n++) {
        reminder_plan(&NIGHTS, &s, now, &p);
        assert_int_equal(p.send, REMINDER_CAN_BO_SUNG);
        assert_int_equal(p.count, n);
        assert_int_equal(p.last, now);
        assert_int_equal(p.next, n < 3 ? now + EVERY : 0); /* no due date: then nothing more */
        s.counted = p.cycle;
        s.count = p.count;
        s.last = p.last;
        /* too early for the next one */
        reminder_plan(&NIGHTS, &s, now + EVERY - 1, &p);
        assert_int_equal(p.send, REMINDER_NONE);
        now += EVERY;
    }
    reminder_plan(&NIGHTS, &s, now + 10 * EVERY, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.next, 0);
}

static void test_a_status_change_starts_the_count_again(void **state)
{
    (void)state;
    int64_t t0 = at("2025-03-03T09:00:00+07:00");
    struct reminder_state s = waiting(DOSSIER_CHO_THANH_TOAN, t0 + 5 * DAY);
    s.counted = t0; /* three reminders were for an earlier can_bo_sung */
    s.count = 3;
    s.last = t0 + 4 * DAY;
    struct reminder_plan p;
    reminder_plan(&NIGHTS, &s, t0 + 5 * DAY + EVERY, &p);
    assert_int_equal(p.send, REMINDER_CHO_THANH_TOAN);
    assert_int_equal(p.count, 1);
    assert_int_equal(p.cycle, t0 + 5 * DAY);
}

static void test_paid_or_other_statuses_get_no_status_reminder(void **state)
{
    (void)state;
    int64_t t0 = at("2025-03-03T09:00:00+07:00");
    struct reminder_plan p;
    struct reminder_state paid = waiting(DOSSIER_CHO_THANH_TOAN, t0);
    paid.fee_due = false;
    reminder_plan(&NIGHTS, &paid, t0 + EVERY, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.next, 0);
    struct reminder_state busy = waiting(DOSSIER_DANG_XU_LY, t0);
    reminder_plan(&NIGHTS, &busy, t0 + EVERY, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.next, 0);
    struct reminder_state done = waiting(DOSSIER_DA_CO_KET_QUA, t0);
    done.late_at = t0 - DAY;
    reminder_plan(&NIGHTS, &done, t0 + EVERY, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.next, 0);
}

static void test_unknown_start_counts_from_now(void **state)
{
    (void)state;
    int64_t now = at("2025-03-03T09:00:00+07:00");
    struct reminder_state s = waiting(DOSSIER_CAN_BO_SUNG, 0); /* stored before status_at existed */
    struct reminder_plan p;
    reminder_plan(&NIGHTS, &s, now, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.cycle, now);
    assert_int_equal(p.next, now + EVERY);
}

static void test_quiet_hours_postpone_to_the_morning(void **state)
{
    (void)state;
    int64_t t0 = at("2025-03-03T22:00:00+07:00");
    int64_t due = t0 + EVERY; /* 22:00 two days later */
    int64_t morning = at("2025-03-06T07:00:00+07:00");
    struct reminder_state s = waiting(DOSSIER_CAN_BO_SUNG, t0);
    struct reminder_plan p;
    reminder_plan(&NIGHTS, &s, t0, &p);
    assert_int_equal(p.next, morning); /* scheduled where it may go */
    reminder_plan(&NIGHTS, &s, due, &p); /* looked at in the night anyway */
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.count, 0);
    assert_int_equal(p.next, morning);
    reminder_plan(&NIGHTS, &s, morning, &p);
    assert_int_equal(p.send, REMINDER_CAN_BO_SUNG);
    assert_int_equal(p.next, morning + EVERY); /* a whole interval after the one sent */
    reminder_plan(&ALWAYS, &s, due, &p);
    assert_int_equal(p.send, REMINDER_CAN_BO_SUNG);
}

static void test_late_dossier_gets_one_notice_per_due_date(void **state)
{
    (void)state;
    int64_t t0 = at("2025-03-03T09:00:00+07:00");
    int64_t late = at("2025-03-10T17:00:01+07:00");
    struct reminder_state s = waiting(DOSSIER_DANG_XU_LY, t0);
    s.late_at = late;
    struct reminder_plan p;
    reminder_plan(&NIGHTS, &s, t0, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.next, late);
    reminder_plan(&NIGHTS, &s, late, &p);
    assert_int_equal(p.send, REMINDER_LATE);
    assert_true(p.late_told);
    assert_int_equal(p.next, 0);
    s.late_told = true; /* late_for = that due date */
    reminder_plan(&NIGHTS, &s, late + DAY, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_false(p.late_told);
    assert_int_equal(p.next, 0);
    /* late at 23:00: told at 07:00 */
    s.late_told = false;
    s.late_at = at("2025-03-10T23:00:00+07:00");
    reminder_plan(&NIGHTS, &s, s.late_at, &p);
    assert_int_equal(p.send, REMINDER_NONE);
    assert_int_equal(p.next, at("2025-03-11T07:00:00+07:00"));
}

static void test_late_notice_carries_a_status_reminder_due_with_it(void **state)
{
    (void)state;
    int64_t t0 = at("2025-03-03T09:00:00+07:00");
    struct reminder_state s = waiting(DOSSIER_CAN_BO_SUNG, t0);
    s.late_at = t0 + DAY;
    struct reminder_plan p;
    reminder_plan(&NIGHTS, &s, t0 + DAY, &p); /* late, reminder not yet due */
    assert_int_equal(p.send, REMINDER_LATE);
    assert_int_equal(p.count, 0);
    assert_int_equal(p.next, t0 + EVERY);
    reminder_plan(&NIGHTS, &s, t0 + EVERY, &p); /* both due: one message */
    assert_int_equal(p.send, REMINDER_LATE);
    assert_int_equal(p.count, 1);
    assert_int_equal(p.next, t0 + 2 * EVERY);
}

static void test_kind_names_are_template_suffixes(void **state)
{
    (void)state;
    assert_string_equal(reminder_kind_name(REMINDER_CAN_BO_SUNG), "can_bo_sung");
    assert_string_equal(reminder_kind_name(REMINDER_CHO_THANH_TOAN), "cho_thanh_toan");
    assert_string_equal(reminder_kind_name(REMINDER_LATE), "late");
    assert_string_equal(reminder_kind_name(REMINDER_KIND_COUNT), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nights_are_quiet_in_vietnam_time),
        cmocka_unit_test(test_quiet_moments_move_to_the_morning),
        cmocka_unit_test(test_quiet_hours_within_one_day),
        cmocka_unit_test(test_quiet_hours_setting),
        cmocka_unit_test(test_zero_interval_is_refused),
        cmocka_unit_test(test_missing_documents_are_reminded_every_interval_up_to_max),
        cmocka_unit_test(test_a_status_change_starts_the_count_again),
        cmocka_unit_test(test_paid_or_other_statuses_get_no_status_reminder),
        cmocka_unit_test(test_unknown_start_counts_from_now),
        cmocka_unit_test(test_quiet_hours_postpone_to_the_morning),
        cmocka_unit_test(test_late_dossier_gets_one_notice_per_due_date),
        cmocka_unit_test(test_late_notice_carries_a_status_reminder_due_with_it),
        cmocka_unit_test(test_kind_names_are_template_suffixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
