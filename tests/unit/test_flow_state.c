/* Unit tests: a flow's place decoded from and encoded to session.flow, and
 * "bước k/n" on a branching flow. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/flow_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    struct catalog *cat;
    struct flow_set *set;
};

static int setup(void **state)
{
    char *err = NULL;
    struct fixture *f = calloc(1, sizeof *f);
    f->cat = catalog_load("intents", &err);
    free(err);
    err = NULL;
    f->set = f->cat ? flow_set_load(f->cat, catalog_report_keep_first, &err) : NULL;
    free(err);
    *state = f;
    return f->set ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    flow_set_free(f->set);
    catalog_free(f->cat);
    free(f);
    return 0;
}

static const struct flow_def *khai_sinh(void **state)
{
    return flow_set_find(((struct fixture *)*state)->set, "khai_sinh");
}

static void a_state_survives_the_round_trip_through_json(void **state)
{
    const struct flow_def *def = khai_sinh(state);
    struct flow_state s;
    flow_state_init(&s, def, 1000);
    int name = flow_def_slot_step(def, "ho_ten_tre"), commune = flow_def_slot_step(def, "xa_phuong");
    flow_state_set_answer(&s, (size_t)name, "Lò Văn An");
    flow_state_set_answer(&s, (size_t)commune, "Chiềng Cơi");
    s.pre |= 1u << commune;
    s.i = (size_t)name + 1;
    s.ret = 3;
    s.detour = true;
    s.finished = true;
    snprintf(s.pc, sizeof s.pc, "yes");
    snprintf(s.cand[0], FLOW_CANDIDATE_MAX, "03670");
    s.n_cand = 1;
    cJSON *js = flow_state_encode(&s);
    struct flow_state back;
    assert_int_equal(flow_state_decode(js, ((struct fixture *)*state)->set, &back), 0);
    assert_ptr_equal(back.def, def);
    assert_int_equal(back.i, s.i);
    assert_string_equal(flow_state_answer(&back, (size_t)name), "Lò Văn An");
    assert_true(flow_state_prefilled(&back, (size_t)commune));
    assert_false(flow_state_prefilled(&back, (size_t)name));
    assert_int_equal(back.t0, 1000);
    assert_int_equal(back.ret, 3);
    assert_true(back.detour && back.finished);
    assert_string_equal(back.pc, "yes");
    assert_int_equal(back.n_cand, 1);
    assert_string_equal(back.cand[0], "03670");
    /* answering again forgets that it came from the saved profile */
    flow_state_set_answer(&back, (size_t)commune, "Nậm Tăm");
    assert_false(flow_state_prefilled(&back, (size_t)commune));
    flow_state_clear(&back);
    flow_state_clear(&s);
    cJSON_Delete(js);
}

static void broken_or_foreign_state_is_refused_or_clamped(void **state)
{
    const struct flow_set *set = ((struct fixture *)*state)->set;
    struct flow_state s;
    cJSON *js = cJSON_Parse("{\"id\": \"tra_cuu_ho_so\", \"i\": 2}");
    assert_int_equal(flow_state_decode(js, set, &s), -1);
    cJSON_Delete(js);
    assert_int_equal(flow_state_decode(NULL, set, &s), -1);
    js = cJSON_Parse("{\"id\": \"khai_sinh\", \"i\": 999, \"a\": {\"nope\": \"x\", \"ho_ten_tre\": 5},"
                     " \"ret\": 500, \"pc\": \"maybe\", \"cm\": [\"0367000000\", 7]}");
    assert_int_equal(flow_state_decode(js, set, &s), 0);
    assert_int_equal(s.i, s.def->n_steps);            /* the code step at most */
    assert_int_equal(s.ret, -1);
    assert_string_equal(s.pc, "");
    assert_int_equal(s.n_cand, 0);
    for (size_t k = 0; k < s.def->n_steps; k++)
        assert_null(flow_state_answer(&s, k));
    flow_state_clear(&s);
    cJSON_Delete(js);
}

static void a_branch_counts_its_steps_only_when_taken(void **state)
{
    const struct flow_def *def = khai_sinh(state);
    int rel = flow_def_slot_step(def, "quan_he");
    size_t extra = 0, plain = 0;
    for (size_t k = 0; k < def->n_steps; k++) {
        if (def->steps[k].cond.step == rel)
            extra = k;
        plain += def->steps[k].cond.step < 0;
    }
    assert_true(extra > 0);
    struct flow_state s;
    flow_state_init(&s, def, 0);
    size_t n, total;
    flow_state_position(&s, 0, &n, &total);
    assert_int_equal(n, 1);
    assert_int_equal(total, plain + 1);               /* + the code step */
    assert_false(flow_state_applies(&s, extra));
    flow_state_set_answer(&s, (size_t)rel, "Người thân khác");
    assert_true(flow_state_applies(&s, extra));
    flow_state_position(&s, def->n_steps, &n, &total);
    assert_int_equal(total, plain + 2);
    assert_int_equal(n, total);                       /* the code step is the last */
    flow_state_set_answer(&s, (size_t)rel, "Mẹ");
    assert_false(flow_state_applies(&s, extra));
    flow_state_position(&s, extra + 1, &n, &total);
    assert_int_equal(total, plain + 1);
    flow_state_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_state_survives_the_round_trip_through_json),
        cmocka_unit_test(broken_or_foreign_state_is_refused_or_clamped),
        cmocka_unit_test(a_branch_counts_its_steps_only_when_taken),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
