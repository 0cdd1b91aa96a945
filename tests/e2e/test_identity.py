"""Identities never merge (an id that does not fit is refused, never cut),
and what links a user to dossiers expires with the user (refs:{user},
dossier:access:<code>; the hourly sweep takes a user whose refs:{} expired
out of the dossiers they followed and out of the comment index)."""
import json
import time

from harness import ADMIN_TOKEN, Chat, ServiceTest, run_cli, texts, wait_until
from test_dossiers import ndjson, record

USER_TTL = 5000
RENEW = 3600  # DIALOG_TTL_RENEW_S (dialog.h)


class WebChatIdTest(ServiceTest):
    telegram = False

    def post(self, user, text):
        return self.bot.request("POST", "/webchat/messages", {"user": user, "text": text})

    def test_ids_up_to_63_bytes_are_distinct_users(self):
        a, b = "a" * 62 + "1", "a" * 62 + "2"
        for user in (a, b):
            status, _, _ = self.post(user, "tra cứu hồ sơ")
            self.assertEqual(status, 200)
        self.assertEqual(self.redis("EXISTS", "s:{wc:%s}" % a, "s:{wc:%s}" % b), 2)
        self.assertEqual(self.redis("KEYS", "*{wc:}*"), [])
        status, _, _ = self.post("a" * 8, "xin chào")
        self.assertEqual(status, 200)

    def test_an_id_of_64_bytes_is_refused_and_stores_nothing(self):
        for user in ("b" * 64, "c" * 63 + "d", "e" * 7, "f" * 200):
            status, _, body = self.post(user, "tra cứu hồ sơ")
            self.assertEqual(status, 400, user)
            self.assertIn("8-63", json.loads(body)["error"])
            status, _, _ = self.bot.request("GET", "/webchat/messages?user=" + user)
            self.assertEqual(status, 400)
        self.assertEqual(self.redis("KEYS", "*{wc:}*"), [])
        self.assertEqual(self.redis("KEYS", "*bbbbbbbb*"), [])


class CliUserTest(ServiceTest):
    telegram = False

    def test_a_chat_user_that_does_not_fit_is_refused(self):
        proc = run_cli(["chat", "--user", "u" * 64], {"REDIS_URL": self.redis.url}, input=b"xin chao\n")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"--user", proc.stderr)
        self.assertEqual(self.redis("KEYS", "*{cli:}*"), [])


class LinkExpiryTest(ServiceTest):
    """refs:{user} and dossier:access:<code> follow DVCBOT_USER_TTL. The load
    renews a user's TTLs at most once an hour (DIALOG_TTL_RENEW_S), each set
    an hour longer; every writer of refs:{} sets its TTL when it adds, so a set
    made between two renewals has one. Telegram users: their events have ids,
    so their loads renew only when due (a web chat message without id renews
    every time)."""
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_USER_TTL": str(USER_TTL),
                 "DVCBOT_STAFF_CHATS": "-100777"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, _, body = cls.bot.admin("POST", "/admin/dossiers",
                                        ndjson([record("TTL.00.00.H50-000000-0001")]))
        assert status == 200, body

    def ttl_ok(self, key):
        # Set by a writer (USER_TTL) or by a renewal (an hour more), maybe
        # just after the reply went out.
        fresh = lambda: USER_TTL - 120 < self.redis("TTL", key) <= USER_TTL + RENEW
        wait_until(fresh, what="the TTL of %s near %d s (now %s)" % (key, USER_TTL, self.redis("TTL", key)))

    def chat(self):
        chat = Chat(self, "telegram")
        chat.say("xin chào")  # the first message renews: refs:{} does not exist yet
        self.assertEqual(self.redis("EXISTS", "refs:{%s}" % chat.key), 0)
        return chat

    def test_a_lookup_and_a_follow_expire_with_the_user(self):
        chat = self.chat()
        code = "TTL.00.00.H50-000000-0001"
        chat.say("tra cứu hồ sơ " + code)
        self.assertIn("Đang xử lý", texts(chat.say("5678")))
        self.ttl_ok("dossier:access:" + code)
        self.ttl_ok("refs:{%s}" % chat.key)
        self.redis("EXPIRE", "refs:{%s}" % chat.key, 60)
        chat.press("hs:sub:" + code)
        self.ttl_ok("refs:{%s}" % chat.key)

    def test_access_entries_older_than_the_user_ttl_are_dropped(self):
        code = "TTL.00.00.H50-000000-0001"
        self.redis("ZADD", "dossier:access:" + code, int(time.time()) - USER_TTL - 10, "wc:gone-user")
        chat = Chat(self)
        chat.say("tra cứu hồ sơ " + code)
        chat.say("5678")
        members = self.redis("ZRANGE", "dossier:access:" + code, 0, -1)
        self.assertNotIn("wc:gone-user", members)
        self.assertIn(chat.key, members)

    def test_a_message_renews_refs_and_the_record_once_an_hour(self):
        chat = self.chat()
        chat.say("tra cứu hồ sơ TTL.00.00.H50-000000-0001")
        chat.say("5678")
        refs, record = "refs:{%s}" % chat.key, "u:{%s}" % chat.key
        self.redis("EXPIRE", refs, 60)
        self.redis("EXPIRE", record, 60)
        chat.say("xin chào")  # renewed less than an hour ago: left alone
        self.assertLessEqual(self.redis("TTL", refs), 60)
        self.assertLessEqual(self.redis("TTL", record), 60)
        seen = int(self.redis("HGET", record, "seen"))
        self.bot.advance_clock(RENEW)
        chat.say("xin chào")
        self.ttl_ok(refs)
        self.ttl_ok(record)
        self.assertGreaterEqual(int(self.redis("HGET", record, "seen")), seen + RENEW)

    def test_comments_hand_offs_flows_and_volunteer_lists_set_the_ttl_too(self):
        chat = self.chat()
        chat.press("rate:4")
        chat.say("Hướng dẫn rất dễ hiểu")
        self.ttl_ok("refs:{%s}" % chat.key)
        other = self.chat()
        other.press("i:gap_can_bo")
        self.assertTrue(self.redis("HGET", "ho:{%s}" % other.key, "ticket"))
        self.ttl_ok("refs:{%s}" % other.key)
        flow = self.chat()
        flow.press("flow:khai_sinh")
        self.assertTrue(self.redis("SMEMBERS", "refs:{%s}" % flow.key))
        self.ttl_ok("refs:{%s}" % flow.key)
        vol = Chat(self)
        status, body = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]})
        self.assertEqual(status, 200, body)
        self.ttl_ok("refs:{%s}" % vol.key)


def holding(redis, needle):
    """Every key whose name or content names needle (any type)."""
    found = []
    for key in redis("KEYS", "*"):
        kind = redis("TYPE", key)
        if kind == "set":
            content = redis("SMEMBERS", key)
        elif kind == "zset":
            content = redis("ZRANGE", key, 0, -1)
        elif kind == "hash":
            content = redis("HGETALL", key)
        elif kind == "list":
            content = redis("LRANGE", key, 0, -1)
        elif kind == "string":
            content = [redis("GET", key)]
        else:
            content = []
        if needle in key or any(needle in str(c) for c in content):
            found.append(key)
    return found


def follow_and_comment(test, code, channel="webchat"):
    """A user in shared structures: follows dossier code (looked up with the
    phone's last digits 5678), rated and commented."""
    chat = Chat(test, channel)
    chat.say("tra cứu hồ sơ " + code)
    test.assertIn("Đang xử lý", texts(chat.say("5678")))
    chat.press("hs:sub:" + code)
    chat.press("rate:4")
    chat.say("Hướng dẫn rất dễ hiểu")
    test.assertEqual(test.redis("SISMEMBER", "sub:" + code, chat.key), 1)
    wait_until(lambda: test.redis("ZSCORE", "{stats}:comments", chat.key) is not None,
               what="the comment indexed")
    return chat


class RefSweepTest(ServiceTest):
    """sub:<code> and {stats}:comments have no TTL: a user whose refs:{}
    expired (DVCBOT_USER_TTL after their last message) would stay in them
    for ever, out of reach of erase-my-data. The sweep (hourly, on the cron)
    takes them out; a user still listed in their refs:{} stays."""
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}
    CODE = "SWP.00.00.H50-000000-0001"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, _, body = cls.bot.admin("POST", "/admin/dossiers", ndjson([record(cls.CODE)]))
        assert status == 200, body

    def follow_and_comment(self):
        return follow_and_comment(self, self.CODE)

    def passes(self):
        return self.bot.metrics().get("dvcbot_ref_sweep_passes_total", 0)

    def test_a_user_whose_refs_expired_leaves_the_shared_sets_and_erase_leaves_nothing(self):
        gone, kept = self.follow_and_comment(), self.follow_and_comment()
        self.redis("PEXPIRE", "refs:{%s}" % gone.key, 1)           # expires in Redis, for real
        wait_until(lambda: self.redis("EXISTS", "refs:{%s}" % gone.key) == 0, what="refs:{} to expire")
        before = self.passes()
        self.bot.advance_clock(3600)                               # the sweep is hourly
        wait_until(lambda: self.passes() > before, what="a sweep pass")
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.CODE, gone.key), 0)
        self.assertIsNone(self.redis("ZSCORE", "{stats}:comments", gone.key))
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.CODE, kept.key), 1)  # still listed
        self.assertIsNotNone(self.redis("ZSCORE", "{stats}:comments", kept.key))
        self.assertGreaterEqual(self.bot.metrics().get("dvcbot_ref_sweep_removed_total", 0), 2)
        # Erase-my-data then leaves nothing that names the user.
        self.assertIn("erase:yes", [p for r in gone.say("xóa dữ liệu của tôi") for _, p in r["buttons"]])
        gone.press("erase:yes")
        # dossier:access:<code> (the lookup log) drops its entries older than
        # DVCBOT_USER_TTL itself (test above); this one is fresh, as refs:{}
        # was expired early.
        self.assertEqual([k for k in holding(self.redis, gone.key) if not k.startswith("dossier:access:")], [])
        self.assertNotEqual(holding(self.redis, kept.key), [])
