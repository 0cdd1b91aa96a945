"""Broadcasts: staff API, segments, rate limits behind user replies, durability.

Users are seeded as u:{<user key>} hashes the way the core writes them. Each
test takes its own communes of the 2025 list (the API refuses other names),
so segments of different tests never overlap in the shared Redis of a class.
"""
import datetime
import json
import os
import re
import shutil
import tempfile
import time
import unittest

from harness import (ROOT, ADMIN_TOKEN, SLOW, Dvcbot, Redis, ServiceTest, TelegramStub, buttons_of,
                     seed_user, tg_callback, tg_message, wait_until)

ENV = {"ADMIN_TOKENS": ADMIN_TOKEN}


VN = datetime.timezone(datetime.timedelta(hours=7))


def listed_communes():
    """The names of the 2025 list (intents/_communes.json), one per folded name."""
    with open(os.path.join(ROOT, "intents", "_communes.json"), encoding="utf-8") as f:
        data = json.load(f)
    seen = {}
    for p in data["provinces"]:
        for u in p["units"]:
            seen.setdefault(fold(u["name"]), u["name"])
    return list(seen.values())


def fold(name):
    """A name as typed without diacritics, in lower case ("chieng coi")."""
    import unicodedata
    plain = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if not unicodedata.combining(c)).lower()


class BroadcastMixin:
    def commune(self, label):
        """A commune of the 2025 list for this test's `label`, used by no other
        test of the class."""
        mine = self.__dict__.setdefault("_communes", {})
        if label not in mine:
            cls = type(self)
            if "_free_communes" not in cls.__dict__:
                cls._free_communes = listed_communes()
            mine[label] = cls._free_communes.pop(0)
        return mine[label]

    def iso_in(self, seconds):
        """A moment `seconds` ahead of dvcbot's clock, as staff write it."""
        return datetime.datetime.fromtimestamp(self.bot.now() + seconds, VN).isoformat(timespec="seconds")

    def settled(self):
        """The worker holds no broadcast and the outbox is idle: nothing more
        of any broadcast can go out."""
        return self.bot.metrics().get("dvcbot_broadcast_runs", 0) == 0 and self.bot.outbox_idle()

    def admin(self, method, path, body=None, headers=None, token=ADMIN_TOKEN):
        """A staff call; returns (status, parsed JSON or None, headers)."""
        status, resp_headers, data = self.bot.admin(method, path, body, token=token, headers=headers)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return status, parsed, resp_headers

    def create(self, text, segment, headers=None, **extra):
        body = dict(extra, text=text, segment=segment)
        return self.admin("POST", "/admin/broadcasts", body, headers)

    def status(self, bid):
        code, body, _ = self.admin("GET", "/admin/broadcasts/" + bid)
        self.assertEqual(code, 200, body)
        return body

    def wait_status(self, bid, want="done", timeout=15):
        return wait_until(lambda: (lambda s: s if s["status"] == want else None)(self.status(bid)),
                          timeout, interval=0.05, what=f"broadcast {bid} {want}")

    def tg_users(self, n, commune, **fields):
        users = []
        for _ in range(n):
            uid = self.new_user()
            seed_user(self.redis, "tg:%d" % uid, commune=commune, **fields)
            users.append(uid)
        return users

    def bulk_sends(self, text):
        return [c for c in self.tg.of("sendMessage") if c["json"] and c["json"].get("text") == text]


class BroadcastApiTest(BroadcastMixin, ServiceTest):
    extra_env = ENV

    def test_missing_token_is_401_and_wrong_token_403(self):
        ids_before = self.redis("GET", "bc:next")
        body = {"text": "x", "segment": {"channels": ["telegram"]}}
        status, _, headers = self.admin("POST", "/admin/broadcasts", body, token=None)
        self.assertEqual(status, 401)
        self.assertIn("Bearer", headers.get("WWW-Authenticate", ""))
        status, _, _ = self.admin("POST", "/admin/broadcasts", body, token="wrong-token-0123456789")
        self.assertEqual(status, 403)
        self.assertEqual(self.admin("GET", "/admin/broadcasts/1", token=None)[0], 401)
        self.assertEqual(self.admin("POST", "/admin/broadcasts/1/cancel",
                                        token="wrong-token-0123456789")[0], 403)
        self.assertEqual(self.redis("GET", "bc:next"), ids_before)  # nothing created

    def test_invalid_bodies_are_400_with_a_clear_message(self):
        ids_before = self.redis("GET", "bc:next")
        seg = {"channels": ["telegram"]}
        cases = [
            (b"{not json", "JSON object"),
            ({"segment": seg}, "text is required"),
            ({"text": "x" * 1001, "segment": seg}, "at most 1000"),
            ({"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "p"}] * 4}, "at most 3 buttons"),
            ({"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "p" * 65}]}, "1-64 bytes"),
            ({"text": "x", "segment": {"channels": ["sms"]}}, "unknown channel 'sms'"),
            ({"text": "x", "segment": {"channels": ["zalo"]}}, "'zalo' is not enabled"),
            ({"text": "x", "segment": seg, "priority": "high"}, "unknown field 'priority'"),
            ({"text": "x", "segment": {"channels": ["telegram"], "district": "x"}}, "unknown field 'district'"),
            ({"text": "x", "segment": {"channels": ["telegram"], "seen_within_days": -1}}, "seen_within_days"),
            ({"text": "x", "segment": seg, "not_before": "next monday"}, "ISO 8601"),
        ]
        for body, want in cases:
            with self.subTest(want=want):
                if isinstance(body, bytes):
                    status, _, raw = self.bot.request("POST", "/admin/broadcasts", body,
                                                      {"Authorization": "Bearer " + ADMIN_TOKEN})
                    err = json.loads(raw)["error"]
                else:
                    status, parsed, _ = self.admin("POST", "/admin/broadcasts", body)
                    err = parsed["error"]
                self.assertEqual(status, 400)
                self.assertIn(want, err)
        self.assertEqual(self.redis("GET", "bc:next"), ids_before)  # nothing created

    def test_broadcast_reaches_exactly_the_segment(self):
        tag = str(self.next_id())
        here, there = self.commune("Chiềng Cơi"), self.commune("Chiềng Sinh")
        now = int(time.time())
        inside = self.tg_users(2, here)
        folded = self.tg_users(1, fold(self.commune("Chiềng Cơi")))          # typed without diacritics
        other_commune = self.tg_users(1, there)
        stale = self.tg_users(1, here, seen=now - 40 * 86400)  # not seen within 30 days
        blocked = self.tg_users(1, here)
        self.redis("SADD", "blocked:telegram", str(blocked[0]))
        web_in, web_out = "webin" + tag, "webout" + tag
        seed_user(self.redis, "wc:" + web_in, commune=here)
        seed_user(self.redis, "wc:" + web_out, commune=there)
        seed_user(self.redis, "zl:zalo" + tag, commune=here)   # zalo: not in the segment
        text = "Nhắc lịch tiêm chủng " + tag

        status, body, _ = self.create(text, {"channels": ["telegram", "webchat"], "communes": [here],
                                             "seen_within_days": 30},
                                      buttons=[{"label": "Xem thủ tục", "payload": "menu"}])
        self.assertEqual(status, 202, body)
        self.assertEqual(body["recipients"], 5)  # 2 + folded + blocked + web_in
        done = self.wait_status(body["id"])

        self.assertEqual(done["counts"], {"sent": 4, "failed": 0, "blocked": 1, "skipped": 0, "remaining": 0})
        self.assertEqual(done["reasons"], {"blocked": 1})
        self.assertEqual(done["failures"], [{"user": "tg:%d" % blocked[0], "reason": "blocked"}])
        for uid in inside + folded:
            sent = self.tg.sent_to(uid)
            self.assertEqual(len(sent), 1)
            self.assertEqual(sent[0]["json"]["text"], text)
            self.assertEqual(buttons_of(sent[0]), [("Xem thủ tục", "menu")])
        for uid in other_commune + stale + blocked:
            self.assertEqual(self.tg.sent_to(uid), [])
        inbox = self.bot.inbox(web_in)
        self.assertEqual([m["text"] for m in inbox], [text])
        self.assertEqual(inbox[0]["buttons"], [{"label": "Xem thủ tục", "payload": "menu"}])
        self.assertEqual(self.bot.inbox(web_out), [])

        # Nothing about recipients is left but the failure list, which
        # erase-my-data can find through refs:{<user key>}.
        bid = body["id"]
        self.assertEqual(self.redis.keys("bc:%s:*" % bid), ["bc:%s:fail" % bid])
        self.assertIn("bc:%s:fail" % bid, self.redis("SMEMBERS", "refs:{tg:%d}" % blocked[0]))
        self.assertIn("bc:%s:b:1" % bid, self.redis("SMEMBERS", "refs:{tg:%d}" % inside[0]))
        self.assertEqual(self.redis("ZSCORE", "bc:active", bid), None)
        metrics = self.bot.metrics()
        self.assertGreaterEqual(metrics.get('dvcbot_broadcast_messages_total{channel="telegram",result="sent"}', 0), 3)
        self.assertGreaterEqual(metrics.get('dvcbot_broadcast_messages_total{channel="webchat",result="sent"}', 0), 1)
        self.assertGreaterEqual(metrics.get('dvcbot_broadcast_messages_total{channel="telegram",result="blocked"}', 0), 1)

    def test_users_marked_blocked_in_their_record_or_gone_are_not_messaged(self):
        tag = str(self.next_id())
        commune = self.commune("Mường Giàng")
        ok = self.tg_users(1, commune)
        flagged = self.tg_users(1, commune, blocked="1")
        gone = self.tg_users(1, commune)
        text = "Thông báo " + tag
        # Scheduled, so that one can be erased between resolving and sending.
        status, body, _ = self.create(text, {"channels": ["telegram"], "communes": [commune]},
                                      not_before=self.iso_in(3600))
        self.assertEqual(body["recipients"], 3)
        self.redis("DEL", "u:{tg:%d}" % gone[0])  # the record is gone
        self.bot.advance_clock(3601)
        done = self.wait_status(body["id"])
        self.assertEqual(done["counts"]["sent"], 1)
        self.assertEqual(done["counts"]["blocked"], 1)
        self.assertEqual(done["counts"]["skipped"], 1)
        self.assertEqual(done["reasons"], {"blocked": 1, "no_user": 1})
        self.assertEqual(len(self.tg.sent_to(ok[0])), 1)
        self.assertEqual(self.tg.sent_to(flagged[0]), [])
        self.assertEqual(self.tg.sent_to(gone[0]), [])

    def test_dossier_status_segment_reaches_the_subscribers_of_dossiers_in_that_status(self):
        tag = str(self.next_id())
        waiting, other_status, not_subscribed = (self.tg_users(2, self.commune("Hua La")),
                                                 self.tg_users(1, self.commune("Hua La")),
                                                 self.tg_users(1, self.commune("Hua La")))
        web = "webdos" + tag
        seed_user(self.redis, "wc:" + web)
        code_a, code_b = "H50-%s-0001" % tag, "H50-%s-0002" % tag
        self.redis("HSET", "dossier:" + code_a, "code", code_a, "status", "can_bo_sung")
        self.redis("HSET", "dossier:" + code_b, "code", code_b, "status", "dang_xu_ly")
        self.redis("SADD", "sub:" + code_a, *["tg:%d" % u for u in waiting], "wc:" + web)
        self.redis("SADD", "sub:" + code_b, "tg:%d" % other_status[0])
        for key, code in [("tg:%d" % u, code_a) for u in waiting] + [("wc:" + web, code_a),
                                                                       ("tg:%d" % other_status[0], code_b)]:
            self.redis("SADD", "refs:{%s}" % key, "sub:" + code)  # as a follow writes it (ref_sweep.h)
        text = "Hồ sơ của bạn cần bổ sung giấy tờ " + tag
        _, body, _ = self.create(text, {"channels": ["telegram"], "dossier_status": "can_bo_sung"})
        self.assertEqual(body["recipients"], 2)  # the web chat subscriber is on another channel
        self.wait_status(body["id"])
        for uid in waiting:
            self.assertEqual([c["json"]["text"] for c in self.tg.sent_to(uid)], [text])
        for uid in other_status + not_subscribed:
            self.assertEqual(self.tg.sent_to(uid), [])
        self.assertEqual(self.bot.inbox(web), [])

    def test_commune_comes_from_the_user_record_or_a_consented_profile(self):
        tag = str(self.next_id())
        commune = self.commune("Chiềng Ngần")
        in_record = self.tg_users(1, commune)
        consented, refused = self.new_user(), self.new_user()
        for uid, consent in ((consented, "yes"), (refused, "no")):
            seed_user(self.redis, "tg:%d" % uid)
            self.redis("HSET", "p:{tg:%d}" % uid, "consent", consent, "commune", commune)
        text = "Theo xã " + tag
        _, body, _ = self.create(text, {"channels": ["telegram"], "communes": [commune]})
        self.assertEqual(body["recipients"], 2)
        self.wait_status(body["id"])
        self.assertEqual(len(self.tg.sent_to(in_record[0])), 1)
        self.assertEqual(len(self.tg.sent_to(consented)), 1)
        self.assertEqual(self.tg.sent_to(refused), [])

    def test_erase_my_data_removes_the_user_from_broadcast_lists(self):
        tag = str(self.next_id())
        commune = self.commune("Nậm Cần")
        blocked, waiting = self.tg_users(1, commune), self.tg_users(1, self.commune("Nậm Ét"))
        self.redis("SADD", "blocked:telegram", str(blocked[0]))
        _, first, _ = self.create("Một " + tag, {"channels": ["telegram"], "communes": [commune]})
        self.wait_status(first["id"])
        fail_key = "bc:%s:fail" % first["id"]
        self.assertEqual(self.redis("HKEYS", fail_key), ["tg:%d" % blocked[0]])
        _, later, _ = self.create("Hai " + tag, {"channels": ["telegram"], "communes": [self.commune("Nậm Ét")]},
                                  not_before=self.iso_in(3600))
        batch_key = "bc:%s:b:1" % later["id"]
        self.assertEqual(self.redis("SMEMBERS", batch_key), ["tg:%d" % waiting[0]])

        for uid in blocked + waiting:
            self.bot.telegram(tg_callback(self.next_id(), uid, "erase:yes"))
            wait_until(lambda: self.redis("EXISTS", "u:{tg:%d}" % uid) == 0, what="erasure")
        wait_until(lambda: self.redis("HKEYS", fail_key) == [], what="failure entry erased")
        self.assertEqual(self.redis("SMEMBERS", batch_key), [])
        self.assertEqual(self.bot.admin("POST", "/admin/broadcasts/%s/cancel" % later["id"])[0], 200)

    def test_erase_while_a_send_is_in_flight_leaves_no_key_of_the_user(self):
        tag = str(self.next_id())
        commune = self.commune("Pa Tần")
        uid = self.tg_users(1, commune)[0]
        text = "Ba " + tag
        # The send is refused, a second later: the user erases their data meanwhile.
        self.tg.script("sendMessage", (400, {"ok": False, "error_code": 400,
                                             "description": "Bad Request: chat not found"}))
        self.tg.delays["sendMessage"] = 1.0 * SLOW
        try:
            _, body, _ = self.create(text, {"channels": ["telegram"], "communes": [commune]})
            wait_until(lambda: self.bulk_sends(text), what="the broadcast send")
            self.bot.telegram(tg_callback(self.next_id(), uid, "erase:yes"))
            wait_until(lambda: self.redis("EXISTS", "u:{tg:%d}" % uid) == 0, what="erasure")
            done = self.wait_status(body["id"])
        finally:
            self.tg.delays.pop("sendMessage", None)
        self.assertEqual(done["counts"]["failed"], 0)   # erased: not counted as a failure
        self.assertEqual([k for k in self.redis.keys() if str(uid) in k], [])
        self.assertEqual(self.redis("HKEYS", "bc:%s:fail" % body["id"]), [])

    def test_rate_limit_spreads_sends_and_a_user_reply_goes_before_the_remaining_bulk(self):
        tag = str(self.next_id())
        users = self.tg_users(120, self.commune("Noong Hẹt"))
        text = "Hạn nộp thuế đất " + tag
        status, body, _ = self.create(text, {"channels": ["telegram"], "communes": [self.commune("Noong Hẹt")]})
        self.assertEqual(body["recipients"], 120)
        bid = body["id"]
        wait_until(lambda: len(self.bulk_sends(text)) >= 20, 10, what="first bulk sends")
        progress = self.status(bid)
        self.assertEqual(progress["status"], "running")
        self.assertLess(progress["counts"]["sent"], 120)

        # A citizen writes mid-broadcast: the reply must not wait behind the
        # bulk queue (up to 2 s of bulk at 30/s).
        citizen = self.new_user()
        posted = time.time()
        self.assertEqual(self.bot.telegram(tg_message(self.next_id(), citizen, "/start"))[0], 200)
        reply = wait_until(lambda: self.tg.sent_to(citizen), 10, what="reply to the citizen")[0]
        done = self.wait_status(bid, timeout=20)
        self.assertEqual(done["counts"]["sent"], 120)

        bulk = sorted(c["time"] for c in self.bulk_sends(text))
        self.assertEqual(len(bulk), 120)
        self.assertEqual({c["json"]["chat_id"] for c in self.bulk_sends(text)}, set(users))
        # 120 messages at 30/s with a burst of 30 take about 3 s; never under 2.5 s.
        self.assertGreaterEqual(bulk[-1] - bulk[0], 2.5)
        # Any 1.5 s window holds at most a burst plus 1.5 s of rate.
        for i in range(len(bulk)):
            window = [t for t in bulk[i:] if t - bulk[i] <= 1.5]
            self.assertLessEqual(len(window), 30 + 46)
        overtaken_by = [t for t in bulk if posted < t < reply["time"]]
        after = [t for t in bulk if t > reply["time"]]
        self.assertLess(len(overtaken_by), 15, "the reply waited behind bulk messages")
        self.assertGreaterEqual(len(after), 20)

    def test_not_before_waits_and_status_says_scheduled(self):
        tag = str(self.next_id())
        users = self.tg_users(2, self.commune("Tà Xùa"))
        text = "Lịch làm việc " + tag
        status, body, _ = self.create(text, {"channels": ["telegram"], "communes": [self.commune("Tà Xùa")]},
                                      not_before=self.iso_in(3600))
        self.assertEqual(status, 202)
        self.assertEqual(body["status"], "scheduled")
        # One due now, created after it, goes out: the worker has looked since.
        self.tg_users(1, self.commune("Tà Xùa khác"))
        _, now_body, _ = self.create("Ngay bây giờ " + tag, {"channels": ["telegram"],
                                                            "communes": [self.commune("Tà Xùa khác")]})
        self.wait_status(now_body["id"])
        st = self.status(body["id"])
        self.assertEqual(st["status"], "scheduled")
        self.assertIsNotNone(st["not_before"])
        self.assertEqual(self.bulk_sends(text), [])
        self.bot.advance_clock(3601)
        self.wait_status(body["id"])
        for uid in users:
            self.assertEqual(len(self.tg.sent_to(uid)), 1)

    def test_cancel_stops_a_scheduled_broadcast_and_removes_its_recipients(self):
        tag = str(self.next_id())
        users = self.tg_users(3, self.commune("Bản Lầm"))
        text = "Sẽ bị hủy " + tag
        _, body, _ = self.create(text, {"channels": ["telegram"], "communes": [self.commune("Bản Lầm")]},
                                 not_before=self.iso_in(3600))
        bid = body["id"]
        self.assertTrue(self.redis.keys("bc:%s:b:*" % bid))
        status, resp, _ = self.admin("POST", "/admin/broadcasts/%s/cancel" % bid)
        self.assertEqual((status, resp["status"]), (200, "cancelled"))
        self.assertEqual(self.status(bid)["status"], "cancelled")
        self.assertEqual(self.redis.keys("bc:%s:*" % bid), [])
        self.assertIsNone(self.redis("ZSCORE", "bc:active", bid))
        status, resp, _ = self.admin("POST", "/admin/broadcasts/%s/cancel" % bid)
        self.assertEqual(status, 409)
        self.assertIn("cancelled", resp["error"])
        for uid in users:
            self.assertEqual(self.tg.sent_to(uid), [])

    def test_cancel_mid_broadcast_stops_sending(self):
        tag = str(self.next_id())
        self.tg_users(150, self.commune("Pá Khoang"))
        text = "Dừng giữa chừng " + tag
        _, body, _ = self.create(text, {"channels": ["telegram"], "communes": [self.commune("Pá Khoang")]})
        wait_until(lambda: len(self.bulk_sends(text)) >= 10, 10, what="first sends")
        status, _, _ = self.admin("POST", "/admin/broadcasts/%s/cancel" % body["id"])
        self.assertEqual(status, 200)
        # What was already on its way (at most 2 s at 30/s) goes out, then nothing.
        wait_until(self.settled, what="the worker to let the broadcast go")
        sent = len(self.bulk_sends(text))
        self.assertLess(sent, 120)
        self.assertEqual(self.status(body["id"])["status"], "cancelled")
        self.assertEqual(self.bot.metrics().get("dvcbot_broadcast_runs"), 0)
        self.assertEqual(len(self.bulk_sends(text)), sent)

    def test_idempotency_key_returns_the_same_broadcast(self):
        tag = str(self.next_id())
        users = self.tg_users(2, self.commune("Nà Nhạn"))
        text = "Một lần thôi " + tag
        seg = {"channels": ["telegram"], "communes": [self.commune("Nà Nhạn")]}
        key = {"Idempotency-Key": "reminder-" + tag}
        s1, b1, h1 = self.create(text, seg, headers=key)
        s2, b2, h2 = self.create(text, seg, headers=key)
        self.assertEqual((s1, s2), (202, 202))
        self.assertEqual(b1["id"], b2["id"])
        self.assertEqual(b2["recipients"], 2)
        self.assertNotIn("Idempotent-Replayed", h1)
        self.assertEqual(h2.get("Idempotent-Replayed"), "true")
        s3, b3, _ = self.create(text + " khác", seg, headers=key)
        self.assertEqual(s3, 422)
        self.assertIn("different body", b3["error"])
        self.wait_status(b1["id"])
        wait_until(self.settled, what="every send over")
        for uid in users:
            self.assertEqual(len(self.tg.sent_to(uid)), 1)

    def test_empty_segment_is_done_at_once_and_unknown_ids_are_404(self):
        status, body, _ = self.create("Không ai", {"channels": ["telegram"], "communes": [self.commune("nobody")]})
        self.assertEqual(status, 202)
        self.assertEqual((body["recipients"], body["status"]), (0, "done"))
        self.assertEqual(self.status(body["id"])["counts"]["remaining"], 0)
        self.assertEqual(self.admin("GET", "/admin/broadcasts/999999")[0], 404)
        self.assertEqual(self.admin("GET", "/admin/broadcasts/abc")[0], 404)
        self.assertEqual(self.admin("POST", "/admin/broadcasts/999999/cancel")[0], 404)
        self.assertEqual(self.admin("DELETE", "/admin/broadcasts/1")[0], 405)
        self.assertEqual(self.admin("GET", "/admin/broadcasts/1/other")[0], 404)


class BroadcastZaloTest(BroadcastMixin, ServiceTest):
    """Zalo recipients: windows, unfollows and refusals become reasons."""
    telegram = False
    zalo = True
    extra_env = ENV

    def zl_user(self, commune, **fields):
        uid = self.new_zalo_user()
        seed_user(self.redis, "zl:" + uid, commune=commune, **fields)
        return uid

    def test_zalo_recipients_respect_windows_unfollows_and_refusals(self):
        tag = str(self.next_id())
        commune = self.commune("Mường Lay")
        now = int(time.time())
        fresh = self.zl_user(commune, zl_in=now - 86400, zl_out=0)
        closed = self.zl_user(commune, zl_in=now - 10 * 86400, zl_out=0)  # past the 7-day window
        gone = self.zl_user(commune, zl_in=now - 3600, unfollowed="1")
        text = "Nhắc lịch họp " + tag
        _, body, _ = self.create(text, {"channels": ["zalo"], "communes": [commune]})
        self.assertEqual(body["recipients"], 3)
        done = self.wait_status(body["id"])
        self.assertEqual(done["counts"], {"sent": 1, "failed": 0, "blocked": 1, "skipped": 1, "remaining": 0})
        self.assertEqual(done["reasons"], {"unfollowed": 1, "zalo_no_recent_interaction": 1})
        self.assertEqual([c["json"]["message"]["text"] for c in self.zl.sent_to(fresh)], [text])
        self.assertEqual(self.zl.to(closed), [])
        self.assertEqual(self.zl.to(gone), [])

        # Zalo refuses a user (quota): failed, with the reason staff can read.
        quota = self.zl_user(self.commune("Nậm Hàng"), zl_in=now - 3600, zl_out=0)
        self.zl.script("cs", (200, {"error": -211, "message": "out of quota"}))
        _, body, _ = self.create(text, {"channels": ["zalo"], "communes": [self.commune("Nậm Hàng")]})
        done = self.wait_status(body["id"])
        self.assertEqual(done["counts"]["failed"], 1)
        self.assertEqual(done["failures"], [{"user": "zl:" + quota, "reason": "zalo_quota"}])
        self.assertEqual(self.bot.metrics().get(
            'dvcbot_broadcast_messages_total{channel="zalo",result="failed"}'), 1)


class BroadcastDurabilityTest(BroadcastMixin, ServiceTest):
    """A dvcbot stopped mid-broadcast: another process finishes the job.
    Each test has its own Redis and starts its own processes."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dvcbot-e2e-")
        cls.tg = TelegramStub.start()
        cls._next_id = 200000

    @classmethod
    def tearDownClass(cls):
        cls.tg.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.redis = Redis.start(tempfile.mkdtemp(dir=self.tmp))
        self.bot = None
        self.bots = []

    def tearDown(self):
        try:
            if self.bot:
                self.bot.stop()
        finally:
            self.redis.stop()
        for bot in self.bots:
            unmasked = re.findall(r"\d{9,}", bot.read_log())
            self.assertEqual(unmasked, [], "log holds unmasked long numbers")

    def start_bot(self, **env):
        self.bot = Dvcbot.start(self.tmp, self.redis, telegram=self.tg, env=dict(ENV, **env))
        self.bots.append(self.bot)
        return self.bot

    def test_sigkill_mid_broadcast_then_another_process_completes_it(self):
        tag = str(self.next_id())
        users = self.tg_users(150, self.commune("Chiềng An"))
        text = "Bền vững " + tag
        self.start_bot(DVCBOT_BROADCAST_CLAIM_MS="1000")
        _, body, _ = self.create(text, {"channels": ["telegram"], "communes": [self.commune("Chiềng An")]})
        bid = body["id"]
        wait_until(lambda: len(self.bulk_sends(text)) >= 40, 10, what="sends before the kill")
        self.bot.kill()
        before = self.status_in_redis(bid)
        self.assertEqual(before["status"], "running")
        self.assertLess(int(before["sent"]), 150)

        # A new process (another consumer name) claims the idle batches.
        self.start_bot(DVCBOT_BROADCAST_CLAIM_MS="1000")
        done = self.wait_status(bid, timeout=30)
        self.assertEqual(done["recipients"], 150)
        self.assertEqual(done["counts"], {"sent": 150, "failed": 0, "blocked": 0, "skipped": 0, "remaining": 0})
        got = {c["json"]["chat_id"] for c in self.bulk_sends(text)}
        self.assertEqual(got, set(users))
        self.assertEqual(self.redis.keys("bc:%s:*" % bid), [])

    def test_sigterm_mid_broadcast_finishes_in_flight_sends_and_resumes_without_repeats(self):
        tag = str(self.next_id())
        users = self.tg_users(150, self.commune("Chiềng Xôm"))
        text = "Dừng êm " + tag
        # Same worker id both times: the restarted process takes back its own
        # pending batches at once, without waiting for the claim time.
        self.start_bot(DVCBOT_WORKER_ID="worker-a", DVCBOT_BROADCAST_CLAIM_MS="600000")
        _, body, _ = self.create(text, {"channels": ["telegram"], "communes": [self.commune("Chiềng Xôm")]})
        bid = body["id"]
        wait_until(lambda: len(self.bulk_sends(text)) >= 40, 10, what="sends before the stop")
        self.bot.stop()
        self.bot = None
        stopped = self.status_in_redis(bid)
        self.assertEqual(stopped["status"], "running")
        self.assertEqual(int(stopped["sent"]), len(self.bulk_sends(text)))  # all in-flight sends recorded

        self.start_bot(DVCBOT_WORKER_ID="worker-a", DVCBOT_BROADCAST_CLAIM_MS="600000")
        done = self.wait_status(bid, timeout=30)
        self.assertEqual(done["counts"]["sent"], 150)
        chats = [c["json"]["chat_id"] for c in self.bulk_sends(text)]
        self.assertEqual(sorted(chats), sorted(users))  # each exactly once

    def status_in_redis(self, bid):
        flat = self.redis("HGETALL", "bc:" + bid)
        return dict(zip(flat[::2], flat[1::2]))


if __name__ == "__main__":
    unittest.main()


class BroadcastAbortTest(ServiceTest):
    """A broadcast refused half-way (too many recipients) leaves nothing behind:
    no batch and no entry in anybody's refs:{user}."""
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_BROADCAST_MAX_RECIPIENTS": "50"}

    def test_a_refused_broadcast_leaves_no_batch_and_no_reference(self):
        for i in range(120):
            seed_user(self.redis, "wc:abortuser%04d" % i)
        status, body = self.bot.admin_json("POST", "/admin/broadcasts", {
            "text": "Nhắc lịch tiêm chủng.", "segment": {"channels": ["webchat"]}})
        self.assertEqual(status, 422, body)
        self.assertIn("50", body["error"])
        self.assertEqual(self.redis("KEYS", "bc:*:b:*"), [])
        left = [k for k in self.redis("KEYS", "refs:*") if any(m.startswith("bc:") for m in self.redis("SMEMBERS", k))]
        self.assertEqual(left, [])
