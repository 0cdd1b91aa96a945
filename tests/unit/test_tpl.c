/* Templates: variables, optional buttons, missing templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/tpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/dvcbot-tpl-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    write_file("status.txt", "## a comment\nHồ sơ {{code}}: {{status}}.\n\n---\n"
                             "Tra cứu khác | i:tra_cuu_ho_so\n{{pay_label}} | pay:{{code}}\n");
    write_file("plain.txt", "Chỉ có chữ {{ not a var }} {{x\n");
    write_file("ignored.md", "not a template");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void variables_and_buttons_render(void **state)
{
    (void)state;
    char *err;
    struct tpl_set *set = tpl_set_load(dir, &err);
    assert_non_null(set);
    assert_int_equal(tpl_count(set), 2);
    struct bot_replies out;
    bot_replies_init(&out);
    struct tpl_var vars[] = {{"code", "H12.3"}, {"status", "đang xử lý"}, {"pay_label", "Thanh toán"}};
    assert_non_null(tpl_render(set, "status", vars, 3, &out));
    assert_string_equal(out.items[0].text, "Hồ sơ H12.3: đang xử lý.");
    assert_int_equal(out.items[0].n_buttons, 2);
    assert_string_equal(out.items[0].buttons[1].label, "Thanh toán");
    assert_string_equal(out.items[0].buttons[1].payload, "pay:H12.3");
    bot_replies_free(&out);
    tpl_set_free(set);
}

static void empty_variable_hides_its_button(void **state)
{
    (void)state;
    char *err;
    struct tpl_set *set = tpl_set_load(dir, &err);
    struct bot_replies out;
    bot_replies_init(&out);
    struct tpl_var vars[] = {{"code", "H1"}, {"status", "xong"}, {"pay_label", ""}};
    tpl_render(set, "status", vars, 3, &out);
    assert_int_equal(out.items[0].n_buttons, 1);
    bot_replies_free(&out);
    tpl_set_free(set);
}

static void text_that_is_not_a_variable_stays(void **state)
{
    (void)state;
    char *err;
    struct tpl_set *set = tpl_set_load(dir, &err);
    char *text = tpl_render_text(set, "plain", NULL, 0);
    assert_string_equal(text, "Chỉ có chữ {{ not a var }} {{x");
    free(text);
    tpl_set_free(set);
}

static void missing_template_still_gives_the_user_an_answer(void **state)
{
    (void)state;
    char *err;
    struct tpl_set *set = tpl_set_load(dir, &err);
    struct bot_replies out;
    bot_replies_init(&out);
    assert_null(tpl_render(set, "nope", NULL, 0, &out));
    assert_int_equal(out.n, 1);
    assert_true(strlen(out.items[0].text) > 0);
    bot_replies_free(&out);
    tpl_set_free(set);
}

/* A value filled in at start is in the text and the buttons; the variables
 * it does not name still come from tpl_render. */
static void filled_values_stay_and_other_variables_still_render(void **state)
{
    (void)state;
    char *err;
    struct tpl_set *set = tpl_set_load(dir, &err);
    assert_non_null(set);
    const struct tpl_var fixed[] = {{"code", "H7"}, {"unused", "x"}};
    tpl_set_fill(set, fixed, 2);
    struct bot_replies out;
    bot_replies_init(&out);
    struct tpl_var vars[] = {{"status", "xong"}, {"pay_label", "Trả phí"}, {"code", "ignored"}};
    assert_non_null(tpl_render(set, "status", vars, 3, &out));
    assert_string_equal(out.items[0].text, "Hồ sơ H7: xong.");
    assert_string_equal(out.items[0].buttons[1].payload, "pay:H7");
    assert_non_null(tpl_render(set, "plain", NULL, 0, &out));
    assert_string_equal(out.items[1].text, "Chỉ có chữ {{ not a var }} {{x");
    bot_replies_free(&out);
    tpl_set_free(set);
}

static void missing_directory_is_an_error(void **state)
{
    (void)state;
    char *err = NULL;
    assert_null(tpl_set_load("/nonexistent/dvcbot", &err));
    assert_non_null(strstr(err, "cannot open templates dir"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(variables_and_buttons_render),
        cmocka_unit_test(empty_variable_hides_its_button),
        cmocka_unit_test(text_that_is_not_a_variable_stays),
        cmocka_unit_test(missing_template_still_gives_the_user_an_answer),
        cmocka_unit_test(filled_values_stay_and_other_variables_still_render),
        cmocka_unit_test(missing_directory_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
