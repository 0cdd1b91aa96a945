"""Zalo OA end to end: signed webhook → dialog → /v3.0/oa/message/cs on a local
stub of the OA API, token refresh against a stub of oauth.zaloapp.com."""
import json
import os
import re
import shutil
import tempfile
import threading
import time
import unittest

from harness import (ROOT, SLOW, ZL_APP_ID, ZL_MARK, ZL_OA_SECRET, Dvcbot, Redis, ServiceTest, ZaloStub,
                     delivered, delivery_mark, settle, wait_until, zl_button, zl_buttons, zl_event, zl_sign,
                     zl_text)

MENU = ["Thủ tục", "Tra cứu hồ sơ", "Thanh toán", "Hỗ trợ"]


class ZaloTest(ServiceTest):
    telegram = False
    zalo = True

    def send(self, event, signature=True):
        status, _, _ = self.bot.zalo(event, signature)
        return status

    def replies(self, user, n, what="replies"):
        return wait_until(lambda: len(self.zl.sent_to(user)) >= n and self.zl.sent_to(user),
                          what=what)

    def probe(self, user):
        """Sends the user's next message and waits for its reply (it quotes
        the message). One user's events are handled, and their replies sent,
        in order: whatever came before is over. Returns the calls to the user
        before that reply: a proof that nothing else was sent, without
        sleeping."""
        event = zl_text(user, "xin chao")
        self.assertEqual(self.send(event), 200)
        msg_id = event["message"]["msg_id"]
        calls = wait_until(lambda: (lambda c: c if any(x["json"]["message"].get("react_message_id") == msg_id
                                                       for x in c) else None)(self.zl.sent_to(user)),
                           what="the reply to the probe")
        first = next(i for i, x in enumerate(calls) if x["json"]["message"].get("react_message_id") == msg_id)
        return self.zl.to(user)[:len(self.zl.to(user)) - (len(calls) - first)]

    def handled(self, user):
        """How many of the user's events were handled (their marks)."""
        return self.redis("ZCARD", "dd:{zl:%s}" % user)

    # ------------------------------------------------------------ inbound

    def test_signed_text_gets_reply_to_the_sender_with_text_buttons_and_quote(self):
        user = self.new_zalo_user()
        event = zl_text(user, "xin chao")
        self.assertEqual(self.send(event), 200)
        call = self.replies(user, 1)[0]
        body = call["json"]
        self.assertEqual(body["recipient"], {"user_id": user})
        self.assertIn("Xin chào", body["message"]["text"])
        self.assertEqual(body["message"]["react_message_id"], event["message"]["msg_id"])
        self.assertEqual([t for t, _ in zl_buttons(call)], MENU)
        self.assertEqual([p for _, p in zl_buttons(call)],
                         ["menu:thu_tuc", "i:tra_cuu_ho_so", "i:thanh_toan", "i:tro_giup"])
        self.assertEqual(call["headers"]["access_token"], self.zl.access)

    def test_bad_signature_is_401_and_nothing_is_processed(self):
        user = self.new_zalo_user()
        event = zl_text(user, "xin chao")
        body = json.dumps(event).encode()
        forged = [
            None,                                                            # no header
            "mac=" + "0" * 64,                                               # made up
            zl_sign(body, event["timestamp"], secret="not-the-oa-secret"),   # wrong key
            zl_sign(body, event["timestamp"], app_id="1111111111111111111"),  # other app
            zl_sign(body, str(int(event["timestamp"]) + 1)),                 # other timestamp
            zl_sign(body, event["timestamp"])[4:],                           # without "mac="
        ]
        for signature in forged:
            status, _, _ = self.bot.request("POST", "/webhook/zalo", body,
                                            {"X-ZEvent-Signature": signature} if signature else {})
            self.assertEqual(status, 401, signature)
        # A correctly signed body changed afterwards.
        tampered = body.replace(b"xin chao", b"xin chaO")
        status, _, _ = self.bot.request("POST", "/webhook/zalo", tampered,
                                        {"X-ZEvent-Signature": zl_sign(body, event["timestamp"])})
        self.assertEqual(status, 401)
        self.assertEqual(self.probe(user), [])
        self.assertEqual(self.handled(user), 1)  # the probe only
        m = self.bot.metrics()
        self.assertGreaterEqual(m.get('dvcbot_zalo_events_refused_total{reason="signature"}', 0), 7)

    def test_stale_or_future_timestamp_is_refused(self):
        user = self.new_zalo_user()
        now = int(time.time() * 1000)
        before = self.bot.metrics().get('dvcbot_zalo_events_refused_total{reason="stale"}', 0)
        for ts in (now - 13 * 3600 * 1000, now + 10 * 60 * 1000):
            # Signed correctly: a replay of a real event older than Zalo
            # redelivers (12 h), or a clock far ahead.
            self.assertEqual(self.send(zl_text(user, "xin chao", timestamp=str(ts))), 200)
        m = self.bot.metrics()
        self.assertEqual(m.get('dvcbot_zalo_events_refused_total{reason="stale"}', 0), before + 2)
        # Within the window (ZALO_MAX_EVENT_AGE, 12 h by default) it is answered:
        # an event Zalo redelivers an hour late too.
        self.send(zl_text(user, "xin chao", timestamp=str(now - 3600 * 1000)))
        self.replies(user, 1)
        self.assertEqual(self.probe(user), self.zl.to(user)[:1])
        self.assertEqual(self.handled(user), 2)  # the one in the window and the probe

    def test_timestamp_as_json_number_is_accepted(self):
        user = self.new_zalo_user()
        event = zl_text(user, "xin chao")
        event["timestamp"] = int(event["timestamp"])
        self.assertEqual(self.send(event), 200)
        self.replies(user, 1)

    def test_malformed_body_is_400_and_nothing_is_processed(self):
        for body in (b"{oops", b"[]", b'{"event_name":"user_send_text"}'):
            status, _, _ = self.bot.request("POST", "/webhook/zalo", body,
                                            {"X-ZEvent-Signature": "mac=" + "0" * 64})
            self.assertEqual(status, 400)

    def test_duplicate_msg_id_is_answered_once(self):
        user = self.new_zalo_user()
        event = zl_text(user, "xin chao")
        self.assertEqual(self.send(event), 200)
        self.assertEqual(self.send(event), 200)
        self.replies(user, 1)
        key = "u:{zl:%s}" % user
        wait_until(lambda: self.redis("HGET", key, "zl_out") == "1", what="reply counted")
        dups = self.bot.metrics().get("dvcbot_duplicates_total", 0)
        self.assertEqual(self.send(event), 200)  # redelivered later
        wait_until(lambda: self.bot.metrics().get("dvcbot_duplicates_total", 0) > dups, what="the duplicate dropped")
        self.assertEqual(len(self.zl.to(user)), 1)
        self.assertEqual(self.redis("HGET", key, "zl_out"), "1", "a redelivery reset the count")

    def test_image_sticker_and_location_get_polite_text_only_reply(self):
        user = self.new_zalo_user()
        events = [
            zl_event("user_send_image", user, message={"msg_id": "img1", "attachments": [
                {"type": "image", "payload": {"url": "https://example.org/a.jpg", "thumbnail": ""}}]}),
            zl_event("user_send_sticker", user, message={"msg_id": "stk1", "attachments": [
                {"type": "sticker", "payload": {"id": "abc", "url": "https://example.org/s"}}]}),
            zl_event("user_send_location", user, message={"msg_id": "loc1", "attachments": [
                {"type": "location", "payload": {"coordinates": {"latitude": "21.32", "longitude": "103.9"}}}]}),
        ]
        for e in events:
            self.assertEqual(self.send(e), 200)
        calls = self.replies(user, 3)
        for call in calls:
            self.assertIn("chỉ đọc được tin nhắn chữ", call["json"]["message"]["text"])
            self.assertTrue(zl_buttons(call))

    def test_other_events_are_acknowledged_and_ignored(self):
        user = self.new_zalo_user()
        for name in ("user_seen_message", "user_received_message", "oa_send_text", "anonymous_send_text"):
            self.assertEqual(self.send(zl_event(name, user, message={"msg_id": "x" + name})), 200)
        self.assertEqual(self.probe(user), [])

    def test_button_payload_is_routed_like_a_button(self):
        user = self.new_zalo_user()
        self.send(zl_button(user, "menu"))
        call = self.replies(user, 1)[0]
        self.assertIn("Anh/chị cần làm gì", call["json"]["message"]["text"])
        self.assertEqual([t for t, _ in zl_buttons(call)], MENU)

    def test_follow_greets_and_chat_now_greets(self):
        for name in ("follow", "user_click_chatnow"):
            user = self.new_zalo_user()
            self.assertEqual(self.send(zl_event(name, user)), 200)
            call = self.replies(user, 1, name)[0]
            self.assertIn("Xin chào", call["json"]["message"]["text"])
            self.assertNotIn("react_message_id", call["json"]["message"])

    def test_unfollow_stops_sending_keeps_only_the_mark_and_follow_clears_it(self):
        user = self.new_zalo_user()
        self.send(zl_text(user, "xin chao"))
        self.replies(user, 1)
        self.assertTrue(self.redis.keys("s:{zl:%s}" % user) or True)
        # Two more replies: the first is slow at Zalo, the second waits behind it.
        self.zl.delays["cs"] = 0.8 * SLOW
        try:
            mark = delivery_mark(self, "zalo")
            self.send(zl_text(user, "menu"))
            self.send(zl_text(user, "tro giup"))
            wait_until(lambda: len(self.zl.to(user)) == 2, what="the first reply at Zalo")
            self.assertEqual(self.send(zl_event("unfollow", user)), 200)
            # Both messages handled, the slow send over, nothing queued.
            wait_until(lambda: (lambda d: d[0] >= mark[0] + 2 and d[1] == 0)(delivered(self, "zalo")),
                       what="the outbox to settle")
        finally:
            self.zl.delays.clear()
        self.assertEqual(len(self.zl.to(user)), 2, "a reply was sent after the unfollow")
        record = self.redis("HGETALL", "u:{zl:%s}" % user)
        fields = dict(zip(record[::2], record[1::2]))
        self.assertIn("unfollowed", fields)
        for gone in ("zl_in", "zl_out", "zl_msg"):
            self.assertNotIn(gone, fields)
        self.assertEqual(self.redis.keys("s:{zl:%s}" % user), [])
        self.assertEqual(self.redis("SISMEMBER", "blocked:zalo", user), 0)
        # Following again clears the mark and greets.
        self.send(zl_event("follow", user))
        wait_until(lambda: len(self.zl.sent_to(user)) >= 3, what="greeting after follow")
        self.assertEqual(self.redis("HGET", "u:{zl:%s}" % user, "unfollowed"), None)

    # ------------------------------------------------------------ outbound

    def test_many_buttons_go_out_in_groups_the_zalo_limit_allows(self):
        # The procedure menu: one button per topic and "Về menu chính"; a topic:
        # its procedures and "Nhóm khác" (intents/_groups.json). Each reply is
        # sent as groups of at most 5 buttons under Zalo's limit.
        with open(os.path.join(ROOT, "intents", "_groups.json"), encoding="utf-8") as f:
            topics = json.load(f)["groups"]
        biggest = max(topics, key=lambda g: len(g["procedures"]))
        for payload, n in (("menu:thu_tuc", len(topics) + 1),
                           ("menu:thu_tuc:" + biggest["id"], len(biggest["procedures"]) + 1)):
            user = self.new_zalo_user()
            self.send(zl_button(user, payload))
            want = [5] * (n // 5) + ([n % 5] if n % 5 else [])
            calls = self.replies(user, len(want))
            self.assertEqual(len(self.probe(user)), len(want))
            self.assertEqual([len(zl_buttons(c)) for c in calls], want)
            self.assertLessEqual(len(want), 2)                 # two Zalo messages at most
            texts = [c["json"]["message"]["text"] for c in calls]
            self.assertEqual(texts[1:], ["Lựa chọn khác:"] * (len(want) - 1))
            payloads = [p for c in calls for _, p in zl_buttons(c)]
            self.assertEqual(len(payloads), len(set(payloads)))
        self.assertIn("i:" + biggest["procedures"][0], payloads)
        self.assertEqual(payloads[-1], "menu:thu_tuc")            # back to the topics

    def test_window_and_count_are_tracked_per_user(self):
        user = self.new_zalo_user()
        event = zl_text(user, "xin chao")
        self.send(event)
        self.replies(user, 1)
        self.send(zl_text(user, "menu"))
        self.replies(user, 2)
        key = "u:{zl:%s}" % user
        wait_until(lambda: self.redis("HGET", key, "zl_out") == "1", what="zl_out counted")
        self.assertLessEqual(abs(int(self.redis("HGET", key, "zl_in")) - time.time()), 5)
        self.assertTrue(self.redis("HGET", key, "zl_msg").startswith("7a1f"))
        m = self.bot.metrics()
        self.assertGreaterEqual(m.get('dvcbot_zalo_messages_total{window="free"}', 0), 2)

    def test_refusals_are_recorded_per_user_and_not_retried(self):
        for code, reason in ((-211, "quota"), (-213, "not_follower"), (-230, "no_recent_interaction"),
                             (-232, "no_recent_interaction")):
            user = self.new_zalo_user()
            self.zl.script("cs", (200, {"error": code, "message": "refused"}))
            self.send(zl_text(user, "xin chao"))
            key = "u:{zl:%s}" % user
            wait_until(lambda: self.redis("HGET", key, "last_error") == reason, what=reason)
            self.assertEqual(self.redis("HGET", key, "last_error_code"), str(code))
            self.assertLessEqual(abs(int(self.redis("HGET", key, "last_error_at")) - time.time()), 5)
            self.assertEqual(len(self.probe(user)), 1, "refusal %d was retried" % code)
        m = self.bot.metrics()
        self.assertGreaterEqual(m.get('dvcbot_zalo_send_errors_total{reason="no_recent_interaction"}', 0), 2)
        self.assertGreaterEqual(m.get('dvcbot_zalo_send_errors_total{reason="quota"}', 0), 1)

    def test_server_errors_are_retried(self):
        user = self.new_zalo_user()
        self.zl.script("cs", (502, {"error": -1}), (200, {"error": -32, "message": "rate limit"}))
        self.send(zl_text(user, "xin chao"))
        self.replies(user, 1)
        self.assertEqual(len(self.zl.to(user)), 3)

    def test_quoted_reply_refused_is_sent_unquoted(self):
        user = self.new_zalo_user()
        self.zl.script("cs", (200, {"error": -201, "message": "react_message_id is invalid"}))
        self.send(zl_text(user, "xin chao"))
        call = self.replies(user, 1)[0]
        self.assertNotIn("react_message_id", call["json"]["message"])
        self.assertIn("react_message_id", self.zl.to(user)[0]["json"]["message"])

    def test_expired_token_is_refreshed_then_the_message_resent(self):
        user = self.new_zalo_user()
        old_refresh = self.zl.refresh
        self.zl.expire()
        tokens_before = len(self.zl.of("token"))
        self.send(zl_text(user, "xin chao"))
        calls = wait_until(lambda: self.zl.sent_to(user) and self.zl.to(user), what="resent reply")
        self.assertEqual([c["response"]["error"] for c in calls], [-216, 0])
        refresh = self.zl.of("token")[tokens_before:]
        self.assertEqual(len(refresh), 1)
        self.assertEqual(refresh[0]["headers"]["secret_key"], "app-secret-key-for-tests")
        form = refresh[0]["raw"].decode()
        self.assertIn("grant_type=refresh_token", form)
        self.assertIn("refresh_token=" + old_refresh, form)
        self.assertIn("app_id=" + ZL_APP_ID, form)
        self.assertEqual(calls[1]["headers"]["access_token"], self.zl.access)
        # The new pair is in Redis (saved after the resend may have gone out), with its expiry.
        stored = wait_until(lambda: (lambda d: d if d.get("access") == self.zl.access else None)(
            (lambda flat: dict(zip(flat[::2], flat[1::2])))(self.redis("HGETALL", "zalo:token"))),
            what="the new pair in Redis")
        self.assertEqual(stored["access"], self.zl.access)
        self.assertEqual(stored["refresh"], self.zl.refresh)
        self.assertAlmostEqual(int(stored["expires_at"]), time.time() + 90000, delta=30)
        m = self.bot.metrics()
        self.assertGreater(m["dvcbot_zalo_token_expires_in_seconds"], 89000)
        self.assertGreaterEqual(m["dvcbot_zalo_token_refreshes_total"], 1)

    def test_expired_error_220_also_refreshes(self):
        user = self.new_zalo_user()
        tokens_before = len(self.zl.of("token"))
        self.zl.script("cs", (200, {"error": -220, "message": "access_token is expired or removed"}))
        self.send(zl_text(user, "xin chao"))
        self.replies(user, 1)
        self.assertEqual(len(self.zl.of("token")), tokens_before + 1)

    # ------------------------------------------------------------ a whole conversation

    def walk(self, user, steps):
        """Runs steps (kind, value, check) one after the other: kind "text",
        "button" or "follow"; check(new_calls) asserts on the messages the step
        produced. A guided flow (issue 4) is one more step in the list."""
        seen = len(self.zl.sent_to(user))
        for kind, value, check in steps:
            event = {"text": lambda: zl_text(user, value), "button": lambda: zl_button(user, value),
                     "follow": lambda: zl_event("follow", user)}[kind]()
            mark = delivery_mark(self, "zalo")
            self.assertEqual(self.send(event), 200)
            settle(self, mark, channel="zalo")  # handled, and every reply delivered
            calls = self.zl.sent_to(user)
            check(calls[seen:])
            seen = len(calls)

    def test_conversation_greeting_menu_procedure_summary_and_button(self):
        user = self.new_zalo_user()

        def greeting(calls):
            self.assertIn("Xin chào", calls[0]["json"]["message"]["text"])
            self.assertEqual([t for t, _ in zl_buttons(calls[0])], MENU)

        def topics(calls):
            payloads = [p for c in calls for _, p in zl_buttons(c)]
            self.assertIn("menu:thu_tuc:ho_tich", payloads)

        def procedure_list(calls):
            payloads = [p for c in calls for _, p in zl_buttons(c)]
            self.assertIn("i:khai_sinh", payloads)

        def summary(calls):
            text = calls[0]["json"]["message"]["text"]
            self.assertIn("khai sinh", text.lower())
            self.assertIn("Lệ phí", text)
            payloads = [p for _, p in zl_buttons(calls[-1])]
            self.assertIn("flow:khai_sinh", payloads)
            self.assertIn("i:tra_cuu_ho_so", payloads)

        def lookup(calls):
            self.assertTrue(calls[0]["json"]["message"]["text"])

        self.walk(user, [
            ("follow", None, greeting),
            ("button", "menu:thu_tuc", topics),
            ("button", "menu:thu_tuc:ho_tich", procedure_list),
            ("text", "dang ky khai sinh cho con", summary),
            ("button", "i:tra_cuu_ho_so", lookup),
        ])


class ZaloRefreshFailureTest(ServiceTest):
    telegram = False
    zalo = True

    def test_refresh_failure_is_logged_and_counted_without_crashing(self):
        user = self.new_zalo_user()
        self.zl.token_error = -14014
        self.zl.expire()
        self.bot.zalo(zl_text(user, "xin chao"))
        wait_until(lambda: self.zl.of("token"), what="refresh attempt")
        wait_until(lambda: self.bot.metrics().get(
            'dvcbot_zalo_token_refresh_failures_total{reason="oauth"}', 0) >= 1, what="failure metric")
        wait_until(lambda: "zalo token refresh failed" in self.bot.read_log(), what="failure logged")
        self.assertEqual(self.zl.sent_to(user), [])
        status, _, _ = self.bot.request("GET", "/healthz")
        self.assertEqual(status, 200)
        # The stored pair is untouched: nothing half written.
        self.assertEqual(self.redis("HGET", "zalo:token", "refresh"), "zl-refresh-0")
        self.assertIsNone(self.redis("GET", "zalo:lock"))


class ZaloTimerRefreshTest(ServiceTest):
    """A token that expires soon is refreshed ahead of time, with no failed send."""
    telegram = False
    zalo = True

    def test_token_is_refreshed_before_it_expires(self):
        user = self.new_zalo_user()
        self.zl.expires_in = "4"  # the first refresh gives a short-lived token
        self.zl.expire()
        self.bot.zalo(zl_text(user, "xin chao"))
        wait_until(lambda: self.zl.sent_to(user), what="reply after the first refresh")
        self.zl.expires_in = "90000"
        first = self.zl.access
        # Half of 4 s before expiry: about 2 s later, without any send failing.
        wait_until(lambda: len(self.zl.of("token")) >= 2, 8, what="refresh ahead of expiry")
        self.assertNotEqual(self.zl.access, first)
        wait_until(lambda: self.redis("HGET", "zalo:token", "access") == self.zl.access, what="stored")
        self.bot.zalo(zl_text(user, "menu"))
        calls = wait_until(lambda: len(self.zl.sent_to(user)) >= 2 and self.zl.to(user), what="reply")
        self.assertEqual(calls[-1]["headers"]["access_token"], self.zl.access)
        self.assertEqual([c["response"]["error"] for c in calls], [-216, 0, 0])


class ZaloRedisOutageTest(ServiceTest):
    telegram = False
    zalo = True

    def test_replies_go_out_while_redis_is_down(self):
        user = self.new_zalo_user()
        self.bot.zalo(zl_text(user, "xin chao"))
        wait_until(lambda: self.zl.sent_to(user), what="reply before the outage")
        self.redis.kill()
        wait_until(lambda: not self.bot.redis_up(), what="dvcbot to notice redis is down")
        self.assertEqual(self.bot.zalo(zl_text(user, "menu"))[0], 200)
        wait_until(lambda: len(self.zl.sent_to(user)) >= 2, what="reply during the outage")
        self.redis.restart()
        wait_until(self.bot.redis_up, 10, what="dvcbot to reconnect")
        self.bot.zalo(zl_text(user, "tro giup"))
        wait_until(lambda: len(self.zl.sent_to(user)) >= 3, what="reply after the outage")


class ZaloTwoProcessesTest(unittest.TestCase):
    """Two dvcbot processes share Redis and the OA: only one refreshes."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-e2e-")
        self.redis = Redis.start(self.tmp)
        self.zl = ZaloStub.start()
        self.bots = [Dvcbot.start(self.tmp, self.redis, zalo=self.zl) for _ in range(2)]

    def tearDown(self):
        try:
            for bot in self.bots:
                bot.stop()
        finally:
            self.zl.stop()
            self.redis.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def test_only_one_process_refreshes_and_both_resend(self):
        users = [str(5500000000000000001 + i) for i in range(2)]
        self.zl.delays["token"] = 0.8 * SLOW  # a slow OAuth server: the other process must wait
        self.zl.expire()
        threads = [threading.Thread(target=bot.zalo, args=(zl_text(u, "xin chao"),))
                   for bot, u in zip(self.bots, users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for u in users:
            wait_until(lambda: self.zl.sent_to(u), 10, what="reply after the refresh")
        self.assertEqual(len(self.zl.of("token")), 1, "both processes refreshed")
        for u in users:
            self.assertEqual(self.zl.sent_to(u)[0]["headers"]["access_token"], self.zl.access)


class ZaloRestartTest(ServiceTest):
    """After a refresh Redis holds the pair: a restart does not go back to the
    (now spent) tokens of the environment; new ones in the environment win."""
    telegram = False
    zalo = True

    def test_refreshed_pair_survives_a_restart_and_new_env_tokens_replace_it(self):
        user = self.new_zalo_user()
        self.zl.expire()
        self.bot.zalo(zl_text(user, "xin chao"))
        wait_until(lambda: self.zl.sent_to(user), what="reply after refresh")
        self.assertEqual(len(self.zl.of("token")), 1)
        self.bot.stop()
        self.bot.launch()
        self.bot.zalo(zl_text(user, "menu"))
        wait_until(lambda: len(self.zl.sent_to(user)) >= 2, what="reply after restart")
        self.assertEqual(len(self.zl.of("token")), 1, "restart spent the refresh token again")
        self.assertEqual(self.zl.to(user)[-1]["response"]["error"], 0, "restart used the spent env token")
        # An administrator authorized the app again: new tokens in the environment.
        self.bot.stop()
        with self.zl.lock:
            self.zl.access, self.zl.refresh = "zl-access-admin", "zl-refresh-admin"
        self.bot.env.update({"ZALO_ACCESS_TOKEN": "zl-access-admin", "ZALO_REFRESH_TOKEN": "zl-refresh-admin"})
        self.bot.launch()
        self.bot.zalo(zl_text(user, "tro giup"))
        calls = wait_until(lambda: len(self.zl.sent_to(user)) >= 3 and self.zl.sent_to(user),
                           what="reply with the new tokens")
        self.assertEqual(calls[-1]["headers"]["access_token"], "zl-access-admin")
        self.assertEqual(self.redis("HGET", "zalo:token", "refresh"), "zl-refresh-admin")
        self.assertEqual(len(self.zl.of("token")), 1)


if __name__ == "__main__":
    unittest.main()
