/* Unit tests: procedure_reply — summary, ask_which and list replies render
 * from templates/ with valid buttons. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/catalog.h"
#include "dvcbot/clock.h"
#include "dvcbot/mem.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/procedure_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    struct catalog *cat;
    struct tpl_set *tpl;
};

static int setup(void **state)
{
    char *err = NULL;
    struct fixture *f = xcalloc(1, sizeof *f);
    f->cat = catalog_load("intents", &err);
    if (f->cat)
        f->tpl = tpl_set_load("templates", &err);
    if (!f->tpl) {
        print_error("setup: %s\n", err ? err : "?");
        free(err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tpl_set_free(f->tpl);
    catalog_free(f->cat);
    free(f);
    return 0;
}

/* Characters, not bytes: Vietnamese letters take 2-3 bytes. */
static size_t count_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static size_t count_lines(const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_summary_of_every_procedure_fits_one_screen(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < catalog_size(f->cat); i++) {
        const struct intent *in = catalog_at(f->cat, i);
        if (in->kind != INTENT_PROCEDURE)
            continue;
        struct bot_replies out;
        bot_replies_init(&out);
        assert_int_equal(procedure_reply_summary(f->tpl, in, &out), 0);
        assert_int_equal(out.n, 1);
        const struct bot_reply *r = &out.items[0];
        assert_non_null(strstr(r->text, in->name));
        assert_non_null(strstr(r->text, "Lệ phí"));
        assert_null(strstr(r->text, "{{"));
        /* one phone screen: 600 characters with the button labels, at most
         * 18 lines before wrapping (tests/e2e/test_summary_screen.py wraps) */
        size_t chars = count_chars(r->text);
        for (size_t b = 0; b < r->n_buttons; b++)
            chars += count_chars(r->buttons[b].label);
        if (chars > 600 || count_lines(r->text) > 18)
            fail_msg("%s: summary too long (%zu chars, %zu lines)", in->id, chars,
                     count_lines(r->text));
        /* "Xem đầy đủ" always: the full view says who the procedure is
         * for, which the summary never does */
        bool more = in->proc->audience && *in->proc->audience;
        assert_true(more);
        assert_int_equal(r->n_buttons, 4);
        char flow[80], full[80];
        snprintf(flow, sizeof flow, "flow:%s", in->id);
        snprintf(full, sizeof full, "full:%s", in->id);
        assert_string_equal(r->buttons[0].payload, flow);
        assert_string_equal(r->buttons[1].payload, full);
        assert_string_equal(r->buttons[r->n_buttons - 2].payload, "i:tra_cuu_ho_so");
        assert_string_equal(r->buttons[r->n_buttons - 1].payload, "menu:thu_tuc");
        bot_replies_free(&out);
    }
}

/* The full view holds every document and the whole fee text, exemptions
 * included, where the summary cut them. */
static void test_full_view_shows_what_the_summary_cut(void **state)
{
    struct fixture *f = *state;
    size_t cut_somewhere = 0;
    for (size_t i = 0; i < catalog_size(f->cat); i++) {
        const struct intent *in = catalog_at(f->cat, i);
        if (in->kind != INTENT_PROCEDURE)
            continue;
        struct bot_replies out;
        bot_replies_init(&out);
        assert_int_equal(procedure_reply_full(f->tpl, in, &out), 0);
        assert_int_equal(out.n, 1);
        const char *text = out.items[0].text;
        assert_null(strstr(text, "{{"));
        assert_non_null(strstr(text, procedure_fee_at(in->proc, clock_now()).text));
        assert_non_null(strstr(text, in->proc->agency));
        for (size_t d = 0; d < in->proc->n_documents; d++)
            assert_non_null(strstr(text, in->proc->documents[d]));
        char flow[80];
        snprintf(flow, sizeof flow, "flow:%s", in->id);
        assert_string_equal(out.items[0].buttons[0].payload, flow);
        bot_replies_free(&out);
        bot_replies_init(&out);
        assert_int_equal(procedure_reply_summary(f->tpl, in, &out), 0);
        cut_somewhere += strstr(out.items[0].text, "\xe2\x80\xa6") != NULL;
        bot_replies_free(&out);
    }
    assert_true(cut_somewhere > 0); /* the case the button exists for */
    struct bot_replies out;
    bot_replies_init(&out);
    assert_int_equal(procedure_reply_full(f->tpl, catalog_find(f->cat, "gop_y"), &out), -1);
    assert_int_equal(out.n, 0);
    bot_replies_free(&out);
}

/* A fee line cut to one screen still says what to pay first, then that
 * many pay nothing (the amounts were cut off after the exemptions once). */
static void test_fee_summary_says_the_amount_then_who_is_exempt(void **state)
{
    struct fixture *f = *state;
    const char *ids[] = {"can_cuoc", "thuong_tru", "tam_tru", "ly_lich_tu_phap", "tach_ho"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const struct intent *in = catalog_find(f->cat, ids[i]);
        assert_non_null(in);
        struct bot_replies out;
        bot_replies_init(&out);
        assert_int_equal(procedure_reply_summary(f->tpl, in, &out), 0);
        const char *line = strstr(out.items[0].text, "Lệ phí: ");
        assert_non_null(line);
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char shown[512];
        assert_true(len < sizeof shown);
        memcpy(shown, line, len);
        shown[len] = '\0';
        const char *amount = strstr(shown, ".000 đ");
        const char *exempt = strstr(shown, "miễn");
        if (!exempt)
            exempt = strstr(shown, "không mất tiền");
        assert_non_null(amount);
        assert_non_null(exempt);
        assert_true(amount < exempt);
        bot_replies_free(&out);
    }
}

static void test_summary_refuses_non_procedures(void **state)
{
    struct fixture *f = *state;
    struct bot_replies out;
    bot_replies_init(&out);
    assert_int_equal(procedure_reply_summary(f->tpl, catalog_find(f->cat, "chao_hoi"), &out), -1);
    assert_int_equal(out.n, 0);
    bot_replies_free(&out);
}

static void test_ask_which_offers_both_ids(void **state)
{
    struct fixture *f = *state;
    struct bot_replies out;
    bot_replies_init(&out);
    assert_int_equal(procedure_reply_ask_which(f->tpl, catalog_find(f->cat, "thuong_tru"),
                                               catalog_find(f->cat, "tam_tru"), &out), 0);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].n_buttons, 2);
    assert_string_equal(out.items[0].buttons[0].payload, "i:thuong_tru");
    assert_string_equal(out.items[0].buttons[1].payload, "i:tam_tru");
    assert_non_null(strstr(out.items[0].text, "Đăng ký tạm trú"));
    bot_replies_free(&out);
}

/* The procedure menu: one message of topic buttons, then each topic on one
 * screen; every procedure is on exactly one of them, as the topics of
 * intents/_groups.json say. */
static void test_list_is_one_screen_of_topics_then_one_screen_per_topic(void **state)
{
    struct fixture *f = *state;
    struct bot_replies out;
    bot_replies_init(&out);
    assert_int_equal(procedure_reply_list(f->tpl, f->cat, NULL, &out), 0);
    assert_int_equal(out.n, 1);
    const struct bot_reply *menu = &out.items[0];
    static const char *const topics[] = {"Hộ tịch", "Cư trú, căn cước", "Đất đai, xây dựng", "Xe, giao thông",
                                         "Bảo hiểm, trợ cấp", "Kinh doanh và khác"};
    assert_int_equal(menu->n_buttons, 6 + 1);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(menu->buttons[i].label, topics[i]);
        assert_int_equal(strncmp(menu->buttons[i].payload, PROCEDURE_REPLY_GROUP_PREFIX,
                                 strlen(PROCEDURE_REPLY_GROUP_PREFIX)), 0);
    }
    assert_string_equal(menu->buttons[6].payload, "menu");
    size_t want = 0, seen = 0;
    int times[64] = {0};
    for (size_t i = 0; i < catalog_size(f->cat); i++)
        want += catalog_at(f->cat, i)->kind == INTENT_PROCEDURE;
    for (size_t g = 0; g < 6; g++) {
        const char *id = menu->buttons[g].payload + strlen(PROCEDURE_REPLY_GROUP_PREFIX);
        struct bot_replies screen;
        bot_replies_init(&screen);
        assert_int_equal(procedure_reply_group(f->tpl, f->cat, id, NULL, &screen), 0);
        assert_int_equal(screen.n, 1);
        const struct bot_reply *r = &screen.items[0];
        assert_non_null(strstr(r->text, topics[g]));
        assert_true(r->n_buttons <= 10); /* two Zalo messages at most */
        assert_string_equal(r->buttons[r->n_buttons - 1].payload, "menu:thu_tuc");
        for (size_t b = 0; b + 1 < r->n_buttons; b++) {
            const char *p = r->buttons[b].payload;
            assert_int_equal(strncmp(p, "i:", 2), 0);
            int k = catalog_index(f->cat, p + 2);
            assert_true(k >= 0 && k < 64);
            assert_int_equal(catalog_at(f->cat, (size_t)k)->kind, INTENT_PROCEDURE);
            times[k]++;
            seen++;
        }
        bot_replies_free(&screen);
    }
    assert_int_equal(seen, want);
    for (size_t i = 0; i < catalog_size(f->cat) && i < 64; i++)
        assert_true(times[i] <= 1);
    struct bot_replies none;
    bot_replies_init(&none);
    assert_int_equal(procedure_reply_group(f->tpl, f->cat, "khong_co", NULL, &none), -1);
    assert_int_equal(none.n, 0);
    bot_replies_free(&out);
}

static void test_shorten_cuts_at_words_and_keeps_utf8_whole(void **state)
{
    (void)state;
    char *s = procedure_reply_shorten("Giấy chứng sinh do cơ sở y tế cấp", 20);
    assert_true(strlen(s) <= 20);
    assert_non_null(strstr(s, "\xe2\x80\xa6"));
    free(s);
    s = procedure_reply_shorten("ngắn", 20);
    assert_string_equal(s, "ngắn");
    free(s);
    s = procedure_reply_shorten("đđđđđđđđđđ", 7); /* 2-byte chars, no spaces */
    assert_true(strlen(s) <= 7);
    assert_string_equal(s, "đđ\xe2\x80\xa6");
    free(s);
}

/* The rows a phone shows (as tests/e2e/test_summary_screen.py measures):
 * 40 characters wrap to two rows, an empty line is one, a word longer than
 * a row fills it and goes on; the long button has a keyboard row of its
 * own, the two short ones share one. */
static void test_screen_rows_wrap_lines_and_count_keyboard_rows(void **state)
{
    (void)state;
    char text[] = "aaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\nc";
    char flow[] = "Hướng dẫn nộp trực tuyến", full[] = "Xem đầy đủ", lookup[] = "Tra cứu hồ sơ";
    struct bot_reply r = {.text = text, .n_buttons = 3};
    r.buttons[0].label = flow;
    r.buttons[1].label = full;
    r.buttons[2].label = lookup;
    assert_int_equal(procedure_reply_screen_rows(&r), 2 + 1 + 1 + 2 * PROCEDURE_REPLY_KEYBOARD_ROW);
    char wide[] = "đđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđ"; /* 36 two-byte letters: one row */
    struct bot_reply w = {.text = wide};
    assert_int_equal(procedure_reply_screen_rows(&w), 1);
    char long_word[] = "ab https://dichvucong.gov.vn/p/home/dvc-tim-kiem-thu-tuc.html"; /* 3 + 58 */
    struct bot_reply l = {.text = long_word};
    assert_int_equal(procedure_reply_screen_rows(&l), 2); /* 36 on the first row, 25 on the next */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_of_every_procedure_fits_one_screen),
        cmocka_unit_test(test_full_view_shows_what_the_summary_cut),
        cmocka_unit_test(test_fee_summary_says_the_amount_then_who_is_exempt),
        cmocka_unit_test(test_summary_refuses_non_procedures),
        cmocka_unit_test(test_ask_which_offers_both_ids),
        cmocka_unit_test(test_list_is_one_screen_of_topics_then_one_screen_per_topic),
        cmocka_unit_test(test_shorten_cuts_at_words_and_keeps_utf8_whole),
        cmocka_unit_test(test_screen_rows_wrap_lines_and_count_keyboard_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
