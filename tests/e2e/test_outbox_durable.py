"""No acknowledged message lost: a webhook is answered 200 only once its
replies are stored in Redis (outbox:<channel>:<process>), so
they survive kill -9, SIGTERM and a Redis restart, are sent by the next
start or by another process, and keep one user's order. Past a bound the
webhook answers 503 (the channel redelivers) and the backlog stays bounded.

Each test runs its own Redis (append-only, fsync always), Telegram stub and
dvcbot; nothing sleeps to synchronise: the tests wait for the stub's calls or
the metrics."""
import json
import os
import re
import shutil
import tempfile
import threading
import unittest

from harness import ROOT, Dvcbot, Redis, TelegramStub, tg_message, wait_until
from stubs import part_held

GREETING = "Xin chào"            # reply to "xin chao"
KHAI_SINH = "Đăng ký khai sinh"  # reply to "dk khai sinh cho con"
SLOW_RATE = {"DVCBOT_TELEGRAM_RATE": "1"}   # sends per second: a backlog builds up
FAST_RATE = {"DVCBOT_TELEGRAM_RATE": "1000"}


class HeldTelegramStub(TelegramStub):
    """A Bot API whose sendMessage answers only once release() is called:
    what dvcbot sends meanwhile stays in flight or queued."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        # An answer released after dvcbot went away meets a closed socket.
        self.httpd.handle_error = lambda request, address: None

    def handle(self, method, path, body, headers):
        if self.route_key(method, path) == "sendMessage":
            self.gate.wait(30)
        return super().handle(method, path, body, headers)

    def release(self):
        self.gate.set()

    def stop(self):
        self.release()
        super().stop()


class OneChatThrottledStub(HeldTelegramStub):
    """sendMessage to the chats in `throttled` fails (500: a transient error,
    tried again after a back-off): their replies stay in dvcbot's outbox while
    the others go (a 429 would hold the whole channel)."""

    def __init__(self):
        super().__init__()
        self.throttled = set()

    def handle(self, method, path, body, headers):
        if self.route_key(method, path) == "sendMessage":
            try:
                chat = json.loads(body).get("chat_id")
            except (ValueError, AttributeError):
                chat = None
            if chat in self.throttled:
                return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        return super().handle(method, path, body, headers)


class DurableTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-e2e-")
        self.redis = Redis.start(self.tmp, persist=True)
        self.tg = HeldTelegramStub.start()
        self.tg.release()  # tests that need it hold the Bot API again
        self.bots = []
        self._uid = 300000

    def tearDown(self):
        try:
            for bot in self.bots:
                if bot.proc and bot.proc.poll() is None:
                    bot.stop(expect_code=None)
        finally:
            self.tg.stop()
            self.redis.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_bot(self, env=None, tg=None):
        bot = Dvcbot.start(self.tmp, self.redis, telegram=tg or self.tg, env=env)
        self.bots.append(bot)
        return bot

    def update(self, user, text):
        self._uid += 1
        return tg_message(self._uid, user, text)

    def converse(self, bot, users):
        """Each user says hello, then asks about a birth registration: two
        acknowledged updates per user, each answered 200 only once stored."""
        for text in ("xin chao", "dk khai sinh cho con"):
            for u in users:
                status, _, _ = bot.telegram(self.update(u, text))
                self.assertEqual(status, 200)

    def backlog(self, bot):
        m = bot.metrics()
        return m.get("dvcbot_outbox_queued", 0) + m.get("dvcbot_outbox_inflight", 0)

    def pending_in_redis(self):
        """Replies stored and not settled, in every process's stream."""
        return sum(self.redis("XLEN", k) for k in self.redis.keys("outbox:telegram:*")
                   if not k.endswith(":processes"))

    def replies_of(self, user):
        return [c["json"]["text"] for c in self.tg.sent_to(user) if c["status"] == 200]

    def assert_every_user_answered_in_order(self, users):
        def answered(u):
            texts = self.replies_of(u)
            return any(GREETING in t for t in texts) and any(KHAI_SINH in t for t in texts)
        wait_until(lambda: all(answered(u) for u in users), 15, what="both replies of every user")
        for u in users:
            texts = self.replies_of(u)
            first_greeting = next(i for i, t in enumerate(texts) if GREETING in t)
            first_khai_sinh = next(i for i, t in enumerate(texts) if KHAI_SINH in t)
            self.assertLess(first_greeting, first_khai_sinh, texts)
        wait_until(lambda: self.pending_in_redis() == 0, what="every stored reply settled")

    def rss_kb(self, bot):
        """Resident memory of the process, or None under a sanitizer (its own
        allocator keeps freed memory for a while)."""
        if "libasan" in open("/proc/%d/maps" % bot.proc.pid).read() or "valgrind" in " ".join(
                bot.proc.args if isinstance(bot.proc.args, list) else [bot.proc.args]):
            return None
        return int(open("/proc/%d/status" % bot.proc.pid).read().split("VmRSS:")[1].split()[0])

    def users(self, n, base):
        return [base + i for i in range(n)]


class KillTest(DurableTest):

    def test_kill_9_loses_no_acknowledged_reply(self):
        bot = self.start_bot(SLOW_RATE)
        users = self.users(12, 7300000000)
        self.converse(bot, users)
        self.assertGreater(self.backlog(bot), 0, "nothing was pending at the kill: the test proves nothing")
        bot.kill()
        self.assertGreater(self.pending_in_redis(), 0)
        bot.env.update(FAST_RATE)
        bot.launch()  # same port: same consumer name, reads its pending replies back
        self.assert_every_user_answered_in_order(users)
        self.assertGreater(bot.metrics().get('dvcbot_outbox_recovered_total{channel="telegram",how="own"}', 0), 0)

    def test_another_process_takes_over_a_killed_ones_replies(self):
        env = dict(SLOW_RATE, DVCBOT_OUTBOX_CLAIM_MS="600")
        a = self.start_bot(dict(env, DVCBOT_WORKER_ID="proc-a"))
        b = self.start_bot(dict(FAST_RATE, DVCBOT_OUTBOX_CLAIM_MS="600", DVCBOT_WORKER_ID="proc-b"))
        users = self.users(10, 7310000000)
        self.converse(a, users)
        self.assertGreater(self.backlog(a), 0)
        a.kill()
        self.assert_every_user_answered_in_order(users)
        self.assertGreater(b.metrics().get('dvcbot_outbox_recovered_total{channel="telegram",how="claimed"}', 0), 0)


class TrimTest(DurableTest):

    def test_a_reply_held_back_survives_the_trim_of_later_ones_and_a_kill_9(self):
        # The settle trims the stream below the oldest entry not settled
        # (XTRIM MINID, outbox_ledger.h): a user's replies held back by the
        # channel are older than the settled ones after them and must stay.
        self.tg.stop()
        self.tg = tg = OneChatThrottledStub.start()   # stopped by tearDown
        tg.release()
        bot = self.start_bot(FAST_RATE)
        early = self.users(4, 7320000000)
        self.converse(bot, early)
        wait_until(lambda: self.pending_in_redis() == 0, what="the first users' replies settled")
        held = 7320000100
        tg.throttled.add(held)
        later = self.users(6, 7320000200)
        self.converse(bot, [held] + later)
        wait_until(lambda: all(len(self.replies_of(u)) >= 2 for u in later), 15, what="the later users answered")
        wait_until(lambda: self.pending_in_redis() == 2, what="all but the held user's two replies settled")
        self.assertIn("cmdstat_xtrim:", self.redis("INFO", "commandstats"))  # fails before library 22's trim
        bot.kill()
        self.assertEqual(self.pending_in_redis(), 2)
        tg.throttled.clear()
        bot.launch()  # same consumer: reads its stream back
        self.assert_every_user_answered_in_order([held])


class InHandTest(DurableTest):
    """Event marks live in the user's index dd:{<user>} (redis/dvcbot.lua,
    "Event marks"): the event id scored -(4 x the time it was marked + 1)
    done, -(... + 2) in hand. The version before scored 4 x the time + the
    state (still read); a mark of before both is scored with the time and a
    key dd:{<user>}:<id> holds its state."""

    def index(self, user):
        return "dd:{tg:%d}" % user

    def state(self, user, update):
        score = self.redis("ZSCORE", self.index(user), update["update_id"])
        return score and {1: "done", 2: "in hand"}[abs(int(score)) % 4]

    def test_an_update_whose_handler_died_before_storing_is_handled_when_redelivered(self):
        bot = self.start_bot(FAST_RATE)
        user = 7370000001
        update = self.update(user, "xin chao")
        # What a process killed between reading the session and storing the
        # turn leaves: the event marked "in hand" (for a minute), no reply.
        self.redis("ZADD", self.index(user), -(4 * int(bot.now()) + 2), update["update_id"])
        status, headers, _ = bot.telegram(update)
        self.assertEqual((status, headers.get("Retry-After")), (503, "5"))
        self.assertEqual(self.tg.sent_to(user), [])
        bot.advance_clock(61)  # the mark is stale; Telegram sends the update again
        self.assertEqual(bot.telegram(update)[0], 200)
        wait_until(lambda: self.tg.sent_to(user), what="the reply")
        self.assertEqual(self.state(user, update), "done")
        self.assertEqual(bot.telegram(update)[0], 200)  # now a plain duplicate
        wait_until(lambda: self.pending_in_redis() == 0, what="settled")
        self.assertEqual(len(self.tg.sent_to(user)), 1)
        self.assertEqual(self.redis.keys("dd:{tg:%d}:*" % user), [])  # no key per event

    def test_a_redelivery_after_the_commit_is_a_duplicate_even_before_the_reply_is_sent(self):
        self.tg.gate.clear()  # the first reply is stored, not sent
        bot = self.start_bot(FAST_RATE)
        user = 7370000002
        update = self.update(user, "xin chao")
        self.assertEqual(bot.telegram(update)[0], 200)
        self.assertEqual(self.state(user, update), "done")
        self.assertLess(int(self.redis("ZSCORE", self.index(user), update["update_id"])), 0)
        self.assertEqual(bot.telegram(update)[0], 200)  # recognised: not answered again
        self.tg.release()
        wait_until(lambda: self.pending_in_redis() == 0, what="settled")
        self.assertEqual(len(self.tg.sent_to(user)), 1)
        ttl = int(self.redis("TTL", self.index(user)))
        self.assertGreater(ttl, 24 * 3600)  # the index lives the dedupe TTL (24 h) + the hour
        self.assertLessEqual(ttl, 25 * 3600)  # of DIALOG_TTL_RENEW_S (renewed at most hourly)

    def test_marks_made_before_the_upgrade_are_honoured(self):
        bot = self.start_bot(FAST_RATE)
        now = int(bot.now())
        done, in_hand, stale = 7370000003, 7370000004, 7370000005
        ups = {u: self.update(u, "xin chao") for u in (done, in_hand, stale)}
        for u, mark in ((done, "1"), (in_hand, "p"), (stale, None)):
            self.redis("ZADD", self.index(u), now - 5, ups[u]["update_id"])
            if mark:
                self.redis("SET", "dd:{tg:%d}:%d" % (u, ups[u]["update_id"]), mark, "EX", 60)
        self.expect_done_in_hand_stale(bot, ups, done, in_hand, stale)

    def expect_done_in_hand_stale(self, bot, ups, done, in_hand, stale):
        """The three users' first updates as marked: done is a duplicate
        (200, no reply), in hand is refused for later (503), stale is
        handled; then a new update of done gets its one reply."""
        self.assertEqual(bot.telegram(ups[done])[0], 200)                # a duplicate
        self.assertEqual(bot.telegram(ups[in_hand])[0], 503)             # in hand: later
        self.assertEqual(bot.telegram(ups[stale])[0], 200)               # stale: handled
        wait_until(lambda: self.tg.sent_to(stale), what="the reply to the stale one")
        self.assertEqual(self.state(stale, ups[stale]), "done")
        probe = self.update(done, "xin chao")
        self.assertEqual(bot.telegram(probe)[0], 200)
        wait_until(lambda: self.tg.sent_to(done), what="the probe's reply")
        self.assertEqual(len(self.tg.sent_to(done)), 1)                  # the probe's only
        self.assertEqual(self.tg.sent_to(in_hand), [])

    def test_marks_of_the_version_before_are_honoured(self):
        # That version scored 4 x the time + the state (a rolling upgrade
        # leaves its marks, and an old process may still be writing them).
        bot = self.start_bot(FAST_RATE)
        now = int(bot.now())
        done, in_hand, stale = 7370000007, 7370000008, 7370000009
        ups = {u: self.update(u, "xin chao") for u in (done, in_hand, stale)}
        self.redis("ZADD", self.index(done), 4 * (now - 5) + 1, ups[done]["update_id"])
        self.redis("ZADD", self.index(in_hand), 4 * (now - 5) + 2, ups[in_hand]["update_id"])
        self.redis("ZADD", self.index(stale), 4 * (now - 61) + 2, ups[stale]["update_id"])
        self.expect_done_in_hand_stale(bot, ups, done, in_hand, stale)

    def test_the_index_drops_marks_older_than_the_dedupe_ttl(self):
        bot = self.start_bot(FAST_RATE)
        user = 7370000006
        now = int(bot.now())
        for i in range(10):
            self.redis("ZADD", self.index(user), -(4 * (now - 2 * 86400 - i) + 1), "old%d" % i)
            self.redis("ZADD", self.index(user), 4 * (now - 2 * 86400 - i) + 2, "oldprev%d" % i)  # version before
            self.redis("ZADD", self.index(user), now - 2 * 86400 - i, "older%d" % i)  # before both
        self.redis("ZADD", self.index(user), -(4 * (now - 3600) + 1), "recent")
        self.redis("ZADD", self.index(user), 4 * (now - 3600) + 1, "recent_prev")
        self.redis("ZADD", self.index(user), now - 3600, "recent_of_before")
        # Every 16th load trims (one process's count, from its start).
        made = set()
        for _ in range(16):
            up = self.update(user, "xin chao")
            self.assertEqual(bot.telegram(up)[0], 200)
            made.add(str(up["update_id"]))
        members = self.redis("ZRANGE", self.index(user), 0, -1)
        self.assertEqual([m for m in members if m.startswith("old")], [])
        self.assertIn("recent", members)
        self.assertIn("recent_prev", members)
        self.assertIn("recent_of_before", members)
        self.assertEqual(len(members), 19)
        self.assertEqual(set(members[:16]), made)  # the newest first


class ShutdownTest(DurableTest):

    def test_sigterm_leaves_what_was_not_sent_in_redis_for_the_next_start(self):
        self.tg.gate.clear()  # nothing gets through before the stop
        bot = self.start_bot(dict(FAST_RATE, DVCBOT_SHUTDOWN_MS="200"))
        users = self.users(12, 7320000000)
        self.converse(bot, users)
        self.assertEqual(self.backlog(bot), 2 * len(users))
        log = bot.stop()  # exit status 0: nothing was lost
        self.assertIn("outbox flush timed out", log)
        self.assertEqual(self.pending_in_redis(), 2 * len(users))
        self.tg.release()
        bot.launch()
        self.assert_every_user_answered_in_order(users)

    def test_sigterm_says_in_its_exit_status_what_could_not_be_saved(self):
        bot = self.start_bot(dict(SLOW_RATE, DVCBOT_SHUTDOWN_MS="200"))
        self.redis.kill()
        wait_until(lambda: not bot.redis_up(), what="dvcbot to notice redis is down")
        for u in self.users(6, 7330000000):  # answered from memory, as Redis is away
            self.assertEqual(bot.telegram(self.update(u, "xin chao"))[0], 200)
        log = bot.stop(expect_code=3)
        self.assertIn("outbox not saved", log)
        self.redis.launch()


class RedisRestartTest(DurableTest):

    def test_redis_restart_then_kill_9_loses_no_acknowledged_reply(self):
        bot = self.start_bot(SLOW_RATE)
        users = self.users(12, 7340000000)
        self.converse(bot, users)
        self.assertGreater(self.backlog(bot), 0)
        self.redis.restart()  # killed and started again from its append-only file
        wait_until(bot.redis_up, 10, what="dvcbot to reconnect")
        bot.kill()
        bot.env.update(FAST_RATE)
        bot.launch()
        self.assert_every_user_answered_in_order(users)


class TwoProcessOrderTest(DurableTest):

    def test_one_users_replies_keep_their_order_across_two_processes(self):
        slow = TelegramStub.start()  # process A's Bot API answers after a second
        slow.delays["sendMessage"] = 1.0
        try:
            a = self.start_bot(dict(FAST_RATE, DVCBOT_WORKER_ID="proc-a"), tg=slow)
            b = self.start_bot(dict(FAST_RATE, DVCBOT_WORKER_ID="proc-b"))
            user = 7350000001
            self.assertEqual(a.telegram(self.update(user, "xin chao"))[0], 200)
            self.assertEqual(b.telegram(self.update(user, "dk khai sinh cho con"))[0], 200)
            first = slow.wait_calls("sendMessage", 1)[0]
            second = wait_until(lambda: self.tg.sent_to(user), what="B's reply")[0]
            self.assertIn(GREETING, first["json"]["text"])
            self.assertIn(KHAI_SINH, second["json"]["text"])
            # B waited for A's reply to be answered by the API before sending its own.
            self.assertGreaterEqual(second["time"], first["time"] + 0.95)
            wait_until(lambda: self.pending_in_redis() == 0, what="both settled")
        finally:
            for bot in self.bots:
                bot.stop()
            self.bots = []
            slow.stop()


class BackpressureTest(DurableTest):

    def test_past_the_bound_webhooks_get_503_and_redelivered_ones_are_answered(self):
        bound = 8
        self.tg.gate.clear()  # the Bot API does not answer: the backlog fills
        bot = self.start_bot(dict(FAST_RATE, DVCBOT_MAX_BACKLOG=str(bound)))
        users = self.users(30, 7360000000)
        refused = []
        for u in users:
            update = self.update(u, "xin chao")
            status, headers, _ = bot.telegram(update)
            self.assertIn(status, (200, 503))
            if status == 503:
                self.assertEqual(headers.get("Retry-After"), "5")
                refused.append((u, update))
            self.assertLessEqual(self.backlog(bot), bound)
        self.assertEqual(len(refused), len(users) - bound)
        m = bot.metrics()
        self.assertEqual(m.get('dvcbot_webhooks_refused_total{channel="telegram",reason="overloaded"}'),
                         len(refused))
        # A flood past the bound is refused without keeping anything of it.
        rss0 = self.rss_kb(bot)
        for i in range(400):
            self.assertEqual(bot.telegram(self.update(7369000000 + i, "xin chao"))[0], 503)
        if rss0 is not None:
            self.assertLess(self.rss_kb(bot) - rss0, 8 * 1024, "memory grew with refused work")
        # Telegram sends a refused update again later, until it is accepted.
        self.tg.release()
        for u, update in refused:
            wait_until(lambda: bot.telegram(update)[0] == 200, what="a redelivery to be accepted")
        wait_until(lambda: all(self.tg.sent_to(u) for u in users), what="every user answered")

    def test_past_the_bound_a_redelivery_of_a_stored_update_is_acknowledged_and_a_new_one_refused(self):
        self.tg.gate.clear()  # the Bot API does not answer: the backlog fills
        bot = self.start_bot(dict(FAST_RATE, DVCBOT_MAX_BACKLOG="2"))
        stored = [self.update(u, "xin chao") for u in self.users(2, 7361000000)]
        for update in stored:
            self.assertEqual(bot.telegram(update)[0], 200)
        wait_until(lambda: self.backlog(bot) == 2, what="the backlog at the bound")
        new = self.update(7361000009, "xin chao")
        self.assertEqual(bot.telegram(new)[0], 503)
        # Telegram repeats an update whose 200 it did not get: stored, so it
        # is acknowledged even at the bound, and handled no second time.
        for update in stored:
            self.assertEqual(bot.telegram(update)[0], 200, "a stored update refused at the bound")
        self.assertEqual(bot.telegram(new)[0], 503, "new work taken past the bound")
        self.assertEqual(bot.metrics().get('dvcbot_webhooks_refused_total{channel="telegram",reason="overloaded"}'),
                         2)
        self.tg.release()
        wait_until(lambda: bot.telegram(new)[0] == 200, what="the new update accepted once there is room")
        users = [u["message"]["from"]["id"] for u in stored + [new]]
        wait_until(lambda: all(self.replies_of(u) for u in users), what="every user answered")
        wait_until(lambda: self.pending_in_redis() == 0 and bot.outbox_idle(), what="settled")
        for u in users:
            self.assertEqual(len(self.replies_of(u)), 1, u)


PartHeldTelegramStub = part_held(TelegramStub, "sendMessage")


class PartsTest(DurableTest):
    """A text longer than one Telegram message goes as several; each part
    sent is recorded in the reply's stored entry (field p, the byte offset
    where the next part starts), so kill -9 between parts resumes at the
    first part not sent: the user sees no part twice and misses none."""

    def long_greeting_data(self, repeat):
        data = os.path.join(self.tmp, "data")
        for d in ("intents", "templates", "redis"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(data, d))
        with open(os.path.join(ROOT, "templates", "greeting.txt")) as f:
            greeting = f.read()
        lines = "".join("Dòng %03d để thử tin nhắn nhiều phần, đủ dài cho ba tin.\n" % i
                        for i in range(repeat))
        with open(os.path.join(data, "templates", "greeting.txt"), "w") as f:
            f.write(greeting.replace("\n---\n", "\n" + lines + "---\n", 1))
        return data

    def stored_parts(self):
        out = []
        for k in self.redis.keys("outbox:telegram:*"):
            if not k.endswith(":processes"):
                out += [dict(zip(f[::2], f[1::2])).get("p") for _, f in self.redis("XRANGE", k, "-", "+")]
        return out

    def test_a_long_reply_resumes_after_kill_9_at_its_first_unsent_part(self):
        tg = PartHeldTelegramStub.start()
        self.addCleanup(tg.stop)
        bot = self.start_bot(dict(FAST_RATE, DVCBOT_DATA_DIR=self.long_greeting_data(180)), tg=tg)
        user = 7390000001
        tg.hold_from = len(tg.of("sendMessage")) + 1  # the first part goes, the second waits
        self.assertEqual(bot.telegram(self.update(user, "xin chao"))[0], 200)
        wait_until(lambda: tg.held >= 1, what="the second part on its way")
        wait_until(lambda: any(p not in (None, "0") for p in self.stored_parts()),
                   what="the part sent recorded in the stored entry")
        self.assertEqual(len([c for c in tg.sent_to(user) if c["status"] == 200]), 1)
        bot.kill()
        tg.release()
        bot.launch()  # same consumer: reads its stored reply back
        sent = lambda: [c["json"]["text"] for c in tg.sent_to(user)
                        if c["status"] == 200 and "X-Held" not in c["headers"]]
        wait_until(lambda: self.pending_in_redis() == 0 and bot.outbox_idle(), what="settled")
        texts = sent()
        self.assertGreaterEqual(len(texts), 3, "the text should need three messages")
        self.assertIn(GREETING, texts[0])
        body = "".join(texts)
        numbers = [int(n) for n in re.findall(r"Dòng (\d{3})", body)]
        self.assertEqual(numbers, list(range(180)), "a part was lost or sent twice")
        for t in texts:
            self.assertLessEqual(len(t), 4096)
