/* outbox_store's group commit: the commits of one loop turn written in one
 * call of outbox_commit_many_flat (the arguments they share once, then each
 * commit's argument count and its own arguments), 64 at most per call and
 * only while the shared ones agree, one commit alone by outbox_commit; each
 * commit answered once with its own result and its replies delivered in
 * order; a failed call fails each of its commits once; commits still queued
 * when the store closes are answered "failed" once — the whole engine
 * (app_fixture.h), web chat replies made durable, against a real
 * redis-server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <cmocka.h>

#include "app_fixture.h"
#include "dvcbot/config.h"
#include "dvcbot/outbox_entry.h"
#include "dvcbot/outbox_store.h"

#define MAX_COMMITS 70

struct slot {
    struct outbox_commit c;
    struct bot_replies replies;
    char user_key[32], index[48], event[16], dedupe[64], skey[48], session[48];
    int answers;
    enum outbox_commit_result result;
};

struct commits {
    struct slot s[MAX_COMMITS];
    int n, answered;
};

static void on_commit(enum outbox_commit_result r, void *ud)
{
    struct slot *s = ud;
    s->answers++;
    s->result = r;
}

static bool all_answered(void *ud)
{
    struct commits *k = ud;
    for (int i = 0; i < k->n; i++)
        if (!k->s[i].answers)
            return false;
    return true;
}

/* Web chat replies go through the stored outbox from now on. */
static void make_webchat_durable(struct afx *f)
{
    outbox_store_enable(f->app.obstore, BOT_CH_WEBCHAT);
    outbox_store_connected(f->app.obstore);
}

/* Commits, without turning the loop, a turn of user wc:<user> with
 * n_replies replies ("<user> 1", "<user> 2"...) and a new session that
 * lives ttl_s. */
static struct slot *commit_ttl(struct afx *f, struct commits *k, const char *user, int n_replies,
                               unsigned ttl_s)
{
    assert_true(k->n < MAX_COMMITS);
    struct slot *s = &k->s[k->n++];
    snprintf(s->user_key, sizeof s->user_key, "wc:%s", user);
    snprintf(s->index, sizeof s->index, "dd:{wc:%s}", user);
    snprintf(s->event, sizeof s->event, "ev%d", k->n);
    snprintf(s->dedupe, sizeof s->dedupe, "dd:{wc:%s}:ev%d", user, k->n);
    /* the event in hand, as the turn's load marks it */
    fx_do("ZADD %s %lld %s", s->index, OUTBOX_MARK_SCORE(time(NULL), OUTBOX_MARK_IN_HAND), s->event);
    snprintf(s->skey, sizeof s->skey, "s:{wc:%s}", user);
    snprintf(s->session, sizeof s->session, "{\"turn\":%d}", k->n);
    bot_replies_init(&s->replies);
    for (int i = 1; i <= n_replies; i++) {
        char text[48];
        snprintf(text, sizeof text, "%s %d", user, i);
        assert_true(bot_reply_add_button(bot_replies_add(&s->replies, text), "Menu", "menu"));
    }
    s->c = (struct outbox_commit){
        .channel = BOT_CH_WEBCHAT, .user_key = s->user_key, .chat = s->user_key + 3,
        .replies = &s->replies, .dedupe_key = s->dedupe, .session_key = s->skey,
        .session_op = OUTBOX_SESSION_SET, .session_json = s->session, .session_ttl_s = ttl_s,
    };
    assert_int_equal(outbox_store_commit(f->app.obstore, &s->c, on_commit, s), 0);
    return s;
}

static struct slot *commit(struct afx *f, struct commits *k, const char *user, int n_replies)
{
    return commit_ttl(f, k, user, n_replies, 60);
}

static void commits_free(struct commits *k)
{
    for (int i = 0; i < k->n; i++)
        bot_replies_free(&k->s[i].replies);
}

static bool sent_at_least(void *ud)
{
    struct afx *f = ud;
    return f->wc.n >= 3;
}

/* From now on Redis's slow log keeps every command (with its arguments). */
static void log_every_command(void)
{
    fx_do("CONFIG SET slowlog-max-len 1024");
    fx_do("CONFIG SET slowlog-log-slower-than 0");
    fx_do("SLOWLOG RESET");
}

struct commit_call_seen {
    char fn[32];
    long nkeys;
    char stream[64];      /* the first ARGV element: this process's stream, shared */
    char first_count[16]; /* the element after the shared ones ("" past the log's 32) */
};

/* The FCALLs of outbox_commit* logged since log_every_command, oldest
 * first (up to max); returns how many. */
static int commit_calls_logged(struct commit_call_seen *out, int max)
{
    redisReply *r = fx_cmd("SLOWLOG GET 1024");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    int n = 0;
    for (size_t i = r->elements; i-- > 0;) { /* newest first */
        const redisReply *argv = r->element[i]->element[3];
        if (argv->elements < 3 || strcasecmp(argv->element[0]->str, "FCALL") != 0 ||
            strncmp(argv->element[1]->str, "outbox_commit", 13) != 0)
            continue;
        if (n < max) {
            snprintf(out[n].fn, sizeof out[n].fn, "%s", argv->element[1]->str);
            out[n].nkeys = strtol(argv->element[2]->str, NULL, 10);
            size_t at = 3 + (size_t)out[n].nkeys;
            snprintf(out[n].stream, sizeof out[n].stream, "%s",
                     at < argv->elements && at < 31 ? argv->element[at]->str : "");
            at += OUTBOX_COMMIT_SHARED;
            snprintf(out[n].first_count, sizeof out[n].first_count, "%s",
                     at < argv->elements && at < 31 ? argv->element[at]->str : "");
        }
        n++;
    }
    freeReplyObject(r);
    fx_do("CONFIG SET slowlog-log-slower-than 10000");
    return n;
}

static void assert_get(const char *key, const char *want)
{
    redisReply *r = fx_cmd("GET %s", key);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, want);
    freeReplyObject(r);
}

/* The commit marked its event done in the user's index. */
static void assert_marked_done(const struct slot *s)
{
    redisReply *r = fx_cmd("ZSCORE %s %s", s->index, s->event);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(OUTBOX_MARK_STATE(strtoll(r->str, NULL, 10)), OUTBOX_MARK_DONE);
    freeReplyObject(r);
}

static void test_the_commits_of_one_loop_turn_are_written_in_one_call(void **state)
{
    struct afx *f = *state;
    struct commits *k = calloc(1, sizeof *k);
    make_webchat_durable(f);
    log_every_command();
    commit(f, k, "gc1", 1);
    commit(f, k, "gc2", 2);
    commit(f, k, "gc3", 0);
    assert_true(afx_run_until(f, all_answered, k));
    assert_true(afx_run_until(f, sent_at_least, f));
    struct commit_call_seen seen[4];
    assert_int_equal(commit_calls_logged(seen, 4), 1);
    assert_string_equal(seen[0].fn, "outbox_commit_many_flat");
    assert_int_equal(seen[0].nkeys, 9);
    assert_true(strncmp(seen[0].stream, "outbox:webchat:", 15) == 0);
    assert_string_equal(seen[0].first_count, "9"); /* gc1: 7 own arguments + text and buttons of 1 reply */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(k->s[i].answers, 1);
        assert_int_equal(k->s[i].result, OUTBOX_COMMIT_STORED);
        assert_get(k->s[i].skey, k->s[i].session);
        assert_marked_done(&k->s[i]);
    }
    assert_int_equal(f->wc.n, 3);
    assert_string_equal(f->wc.sent[0].text, "gc1 1");
    assert_string_equal(f->wc.sent[1].text, "gc2 1");
    assert_string_equal(f->wc.sent[2].text, "gc2 2");
    assert_string_equal(f->wc.chat[2], "gc2");
    assert_string_equal(f->wc.sent[2].buttons[0].payload, "menu");
    commits_free(k);
    free(k);
}

static void test_a_commit_alone_is_written_by_outbox_commit(void **state)
{
    struct afx *f = *state;
    struct commits *k = calloc(1, sizeof *k);
    make_webchat_durable(f);
    log_every_command();
    commit(f, k, "gc4", 1);
    assert_true(afx_run_until(f, all_answered, k));
    struct commit_call_seen seen[2];
    assert_int_equal(commit_calls_logged(seen, 2), 1);
    assert_string_equal(seen[0].fn, "outbox_commit");
    assert_int_equal(seen[0].nkeys, 3);
    assert_true(strncmp(seen[0].stream, "outbox:webchat:", 15) == 0);
    assert_string_equal(seen[0].first_count, "1"); /* the dedupe op: no count before the own arguments */
    assert_int_equal(k->s[0].answers, 1);
    assert_int_equal(k->s[0].result, OUTBOX_COMMIT_STORED);
    assert_get(k->s[0].skey, k->s[0].session);
    commits_free(k);
    free(k);
}

static void test_a_loop_turns_commits_past_sixty_four_take_a_second_call(void **state)
{
    struct afx *f = *state;
    struct commits *k = calloc(1, sizeof *k);
    make_webchat_durable(f);
    log_every_command();
    char user[16];
    for (int i = 0; i < MAX_COMMITS; i++) {
        snprintf(user, sizeof user, "gcb%d", i);
        commit(f, k, user, i % 3);
    }
    assert_true(afx_run_until(f, all_answered, k));
    struct commit_call_seen seen[4];
    assert_int_equal(commit_calls_logged(seen, 4), 2);
    assert_string_equal(seen[0].fn, "outbox_commit_many_flat");
    assert_int_equal(seen[0].nkeys, 3 * 64);
    /* (the slow log shows the first 32 strings of a command only) */
    assert_string_equal(seen[1].fn, "outbox_commit_many_flat");
    assert_int_equal(seen[1].nkeys, 3 * (MAX_COMMITS - 64));
    assert_string_equal(seen[1].first_count, "9"); /* gcb64: one reply */
    for (int i = 0; i < MAX_COMMITS; i++) {
        assert_int_equal(k->s[i].answers, 1);
        assert_int_equal(k->s[i].result, OUTBOX_COMMIT_STORED);
        assert_get(k->s[i].skey, k->s[i].session);
    }
    commits_free(k);
    free(k);
}

static bool sent_four(void *ud)
{
    struct afx *f = ud;
    return f->wc.n >= 4;
}

static void test_commits_whose_shared_arguments_differ_go_in_calls_of_their_own(void **state)
{
    struct afx *f = *state;
    struct commits *k = calloc(1, sizeof *k);
    make_webchat_durable(f);
    log_every_command();
    commit(f, k, "gs1", 1);
    commit(f, k, "gs2", 1);
    commit_ttl(f, k, "gs3", 1, 90); /* another session TTL, a shared argument */
    commit(f, k, "gs4", 1);
    assert_true(afx_run_until(f, all_answered, k));
    struct commit_call_seen seen[4];
    assert_int_equal(commit_calls_logged(seen, 4), 3);
    assert_string_equal(seen[0].fn, "outbox_commit_many_flat");
    assert_int_equal(seen[0].nkeys, 6);
    assert_string_equal(seen[1].fn, "outbox_commit");
    assert_string_equal(seen[2].fn, "outbox_commit");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(k->s[i].answers, 1);
        assert_int_equal(k->s[i].result, OUTBOX_COMMIT_STORED);
        assert_get(k->s[i].skey, k->s[i].session);
        assert_marked_done(&k->s[i]);
    }
    redisReply *r = fx_cmd("TTL %s", k->s[2].skey);
    assert_true(r->integer > 60 && r->integer <= 90);
    freeReplyObject(r);
    assert_true(afx_run_until(f, sent_four, f));
    assert_string_equal(f->wc.sent[0].text, "gs1 1");
    assert_string_equal(f->wc.sent[3].text, "gs4 1");
    commits_free(k);
    free(k);
}

static void test_a_failed_call_fails_each_of_its_commits_once(void **state)
{
    struct afx *f = *state;
    struct commits *k = calloc(1, sizeof *k);
    make_webchat_durable(f);
    char consumer[128];
    config_worker_name(&f->app.cfg, consumer, sizeof consumer);
    fx_do("SET outbox:webchat:%s not-a-stream", consumer); /* XADD fails: wrong type */
    commit(f, k, "gc5", 1);
    commit(f, k, "gc6", 1);
    assert_true(afx_run_until(f, all_answered, k));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(k->s[i].answers, 1);
        assert_int_equal(k->s[i].result, OUTBOX_COMMIT_FAILED);
    }
    assert_int_equal(f->wc.n, 0);
    /* the next turn's commit goes out on its own, and is stored */
    fx_do("DEL outbox:webchat:%s", consumer);
    struct slot *s = commit(f, k, "gc7", 1);
    assert_true(afx_run_until(f, all_answered, k));
    assert_int_equal(s->answers, 1);
    assert_int_equal(s->result, OUTBOX_COMMIT_STORED);
    assert_int_equal(k->s[0].answers, 1);
    commits_free(k);
    free(k);
}

static bool sent_two(void *ud)
{
    struct afx *f = ud;
    return f->wc.n >= 2;
}

/* The event's mark as the load left it: in hand. */
static void assert_still_in_hand(const struct slot *s)
{
    redisReply *r = fx_cmd("ZSCORE %s %s", s->index, s->event);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(OUTBOX_MARK_STATE(strtoll(r->str, NULL, 10)), OUTBOX_MARK_IN_HAND);
    freeReplyObject(r);
}

static void test_a_commit_that_fails_alone_writes_nothing_and_spares_the_others(void **state)
{
    struct afx *f = *state;
    struct commits *k = calloc(1, sizeof *k);
    make_webchat_durable(f);
    fx_do("SET u:{wc:gc8} not-a-hash"); /* its HMGET fails: wrong type */
    struct slot *bad = commit(f, k, "gc8", 1);
    struct slot *good = commit(f, k, "gc9", 2);
    assert_true(afx_run_until(f, all_answered, k));
    assert_int_equal(bad->answers, 1);
    assert_int_equal(bad->result, OUTBOX_COMMIT_FAILED);
    assert_int_equal(good->answers, 1);
    assert_int_equal(good->result, OUTBOX_COMMIT_STORED);
    /* the failed one wrote nothing: no session, its event still in hand
     * (handled again when redelivered), no reply queued */
    redisReply *r = fx_cmd("EXISTS %s", bad->skey);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    assert_still_in_hand(bad);
    assert_get(good->skey, good->session);
    assert_marked_done(good);
    assert_true(afx_run_until(f, sent_two, f));
    assert_int_equal(f->wc.n, 2);
    assert_string_equal(f->wc.sent[0].text, "gc9 1");
    assert_string_equal(f->wc.sent[1].text, "gc9 2");
    commits_free(k);
    free(k);
}

static void test_commits_queued_when_the_store_closes_are_answered_failed_once(void **state)
{
    (void)state;
    struct afx *f = calloc(1, sizeof *f);
    struct commits *k = calloc(1, sizeof *k);
    fx_do("FLUSHALL");
    afx_open(f);
    make_webchat_durable(f);
    commit(f, k, "gc8", 1);
    commit(f, k, "gc9", 2);
    afx_close(f); /* app_close first: the loop never writes them */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(k->s[i].answers, 1);
        assert_int_equal(k->s[i].result, OUTBOX_COMMIT_FAILED);
    }
    redisReply *r = fx_cmd("EXISTS %s %s", k->s[0].skey, k->s[1].skey);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    commits_free(k);
    free(k);
    free(f);
}

/* A kept reply (outbox_entry.h): "<bytes of the buttons>:" buttons text,
 * as outbox_commit writes it; anything else adds nothing. */
static void test_a_kept_reply_reads_back_and_a_malformed_one_adds_nothing(void **state)
{
    (void)state;
    struct bot_replies rs;
    bot_replies_init(&rs);
    static const char kept[] = "14:Menu\x1f" "menu\x1e" "A\x1f" "a\x1e" "Chào 1:2";
    const struct bot_reply *r = outbox_entry_kept(&rs, kept, sizeof kept - 1);
    assert_non_null(r);
    assert_string_equal(r->text, "Chào 1:2");
    assert_int_equal(r->n_buttons, 2);
    assert_string_equal(r->buttons[0].label, "Menu");
    assert_string_equal(r->buttons[1].payload, "a");
    r = outbox_entry_kept(&rs, "0:", 2);
    assert_non_null(r);
    assert_string_equal(r->text, "");
    assert_int_equal(rs.n, 2);
    static const char *const bad[] = {"", "x:abc", "5:abc", ":abc", "12345678901:a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(outbox_entry_kept(&rs, bad[i], strlen(bad[i])));
    assert_int_equal(rs.n, 2);
    bot_replies_free(&rs);
}

/* Each test on an empty Redis and a fresh engine. */
#define ENGINE_TEST(fn) cmocka_unit_test_setup_teardown(fn, afx_setup, afx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ENGINE_TEST(test_the_commits_of_one_loop_turn_are_written_in_one_call),
        ENGINE_TEST(test_a_commit_alone_is_written_by_outbox_commit),
        ENGINE_TEST(test_a_loop_turns_commits_past_sixty_four_take_a_second_call),
        ENGINE_TEST(test_commits_whose_shared_arguments_differ_go_in_calls_of_their_own),
        ENGINE_TEST(test_a_failed_call_fails_each_of_its_commits_once),
        ENGINE_TEST(test_a_commit_that_fails_alone_writes_nothing_and_spares_the_others),
        cmocka_unit_test(test_commits_queued_when_the_store_closes_are_answered_failed_once),
        cmocka_unit_test(test_a_kept_reply_reads_back_and_a_malformed_one_adds_nothing),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
