"""The end of a guided flow end to end (issues 4 and 13): the dossier code
step (followed after the owner check, or pending until the dossier arrives,
timed in /admin/stats), consent and saved-data reuse, erase-my-data, ratings,
staff hand-off, volunteers, /metrics. Through the web chat and Telegram,
against a real Redis."""
import hashlib
import json
import time

from flowwalk import COMMUNE, STAFF_CHAT, STAFF_MEMBER, FlowBase, all_strings, dossier, walk
from harness import Chat, payloads, texts, wait_until

class FlowEndTest(FlowBase):
    """The code step, consent, saved data, ratings, volunteers, hand-off."""

    def test_the_code_step_refuses_dates_and_text_and_can_wait(self):
        chat = Chat(self)
        w = walk(chat, "xac_nhan_cu_tru")
        r = chat.say("05/01/2026")
        self.assertIn("Đây là ngày tháng, chưa phải mã hồ sơ", r[0]["text"])
        self.assertIn("Đã nộp xong? Gõ mã hồ sơ", r[0]["text"])
        r = chat.say("chưa có mã")
        self.assertIn("Chưa thấy mã hồ sơ", r[0]["text"])
        self.assertIn("i:gap_can_bo", payloads(r))             # "Chưa nộp được"
        before = self.stats()["flows"]["xac_nhan_cu_tru"]
        r = chat.press("f:nocode")                             # "Để sau": no code, the flow ends
        self.assertTrue("consent:yes" in payloads(r) or "rate:5" in payloads(r), r)
        self.assertNotIn("flow", self.session(chat))
        after = self.stats()["flows"]["xac_nhan_cu_tru"]
        self.assertEqual(after["code_given"], before["code_given"])
        self.assertEqual(after["abandoned"], before["abandoned"])
        self.assertGreaterEqual(after["finished"], 1)
        self.assertTrue(w.screens)

    def test_a_wrong_owner_proof_does_not_follow_the_dossier(self):
        code = "000.00.12.H50-260105-9001"
        self.upload(dossier(code, "tam_vang"))
        chat = Chat(self, "telegram")
        walk(chat, "tam_vang")
        r = chat.say("mã hồ sơ của tôi là %s nhé" % code)       # a code inside a sentence
        self.assertIn("Đã ghi nhận mã hồ sơ " + code, r[0]["text"])
        r = chat.say("1111")
        self.assertIn("Không tìm thấy hồ sơ", r[0]["text"])
        self.assertEqual(self.redis("SISMEMBER", "sub:" + code, chat.key), 0)
        self.assertEqual(self.stats()["flows"]["tam_vang"]["code_given"], 1)  # timed anyway

    def test_consent_saved_commune_reuse_and_erase_leaves_no_key(self):
        code = "000.00.12.H50-260105-9002"
        self.upload(dossier(code, "khai_sinh", phone="0868 111 222"))
        mine = {"name": ("mùa a sểnh", "Mùa A Sểnh"), "commune": ("Nậm Tăm", "Nậm Tăm")}
        chat = Chat(self, "telegram")
        walk(chat, "khai_sinh", values=mine, code=code)
        r = chat.say("1222")
        self.assertIn("consent:yes", payloads(r))
        self.assertIn("Xã/phường", r[-1]["text"])               # what would be kept
        self.assertEqual(self.redis("EXISTS", "p:{%s}" % chat.key), 0)   # nothing before consent
        r = chat.press("consent:yes")
        self.assertIn("rate:5", payloads(r))
        profile = dict(zip(*[iter(self.redis("HGETALL", "p:{%s}" % chat.key))] * 2))
        self.assertEqual(profile["consent"], "yes")
        self.assertLess(abs(int(profile["consent_at"]) - time.time()), 60)
        self.assertEqual(profile["commune"], "Nậm Tăm")
        self.assertEqual(set(profile) - {"consent", "consent_at", "commune"}, set())
        chat.press("rate:4")
        chat.say("Hướng dẫn rất dễ hiểu")

        # A second flow offers the saved commune as one tap and skips its question.
        r = chat.press("flow:trich_luc_ho_tich")
        self.assertIn("Dùng thông tin đã lưu: Nậm Tăm", r[-1]["text"])
        r = chat.press("f:prof:yes")
        w = walk(chat, "trich_luc_ho_tich", replies=r)
        self.assertNotIn("xa_phuong", [s for s, _ in w.questions])
        self.assertIn("Xã/phường: Nậm Tăm", w.screen_text("find"))
        r = chat.press("f:nocode")
        self.assertNotIn("consent:yes", payloads(r))          # asked once
        self.assertIn("rate:1", payloads(r))

        # Shared structures hold the user too: a ticket, the volunteer set, a subscription.
        chat.say("cho tôi gặp cán bộ")
        chat.press("ho:end")
        self.bot.admin_json("POST", "/admin/volunteers", {"add": [chat.key]})
        chat.press("flow:tam_tru")                                # a flow in progress
        self.assertTrue([k for k in self.redis.keys() if chat.key in k])

        r = chat.say("xóa dữ liệu của tôi")
        self.assertIn("erase:yes", payloads(r))
        r = chat.press("erase:yes")
        self.assertIn("Đã xóa", r[0]["text"])
        self.assertIn("Thông tin cá nhân đã lưu", r[0]["text"])
        self.assertIn("Góp ý của anh/chị", r[0]["text"])
        secret = [chat.key, str(chat.user), "Hướng dẫn rất dễ hiểu"]
        for key in self.redis.keys():
            for s in secret:
                self.assertNotIn(s, key)
                for value in all_strings(self.redis, key):
                    self.assertNotIn(s, value or "", "%s still in %s" % (s, key))

    def test_refused_consent_keeps_nothing_and_is_not_asked_again(self):
        chat = Chat(self)
        walk(chat, "thuong_tru")
        r = chat.press("f:nocode")
        r = chat.press("consent:no")
        self.assertIn("rate:3", payloads(r))
        self.assertEqual(self.redis("HKEYS", "p:{%s}" % chat.key), ["consent", "consent_at"])
        r = chat.press("flow:tam_tru")
        self.assertNotIn("f:prof:yes", payloads(r))

    def test_erase_can_be_declined(self):
        chat = Chat(self)
        chat.say("xin chào")
        r = chat.say("xoa du lieu")
        r = chat.press("erase:no")
        self.assertIn("giữ nguyên", r[0]["text"])
        self.assertEqual(self.redis("EXISTS", "u:{%s}" % chat.key), 1)

    def test_rating_and_comment_are_stored_per_procedure_and_commune(self):
        before = self.stats()
        chat = Chat(self)
        walk(chat, "dang_ky_xe")
        chat.press("f:nocode")
        chat.press("consent:no")
        r = chat.press("rate:5")
        self.assertIn("fb:skip", payloads(r))
        r = chat.say("Nhanh và rõ ràng")
        self.assertIn("Cảm ơn góp ý", r[0]["text"])
        r = chat.press("rate:1")                                 # one rating per flow
        self.assertIn("đã đánh giá", r[0]["text"])
        after = self.stats()
        sat = after["satisfaction"]["dang_ky_xe"]
        old = before["satisfaction"].get("dang_ky_xe", {"count": 0, "stars": {"5": 0}})
        self.assertEqual(sat["count"], old["count"] + 1)
        self.assertEqual(sat["stars"]["5"], old["stars"]["5"] + 1)
        commune = after["communes"]["chieng coi"]
        self.assertEqual(commune["name"], COMMUNE)
        self.assertGreaterEqual(commune["ratings"], 1)
        comments = json.loads(self.redis("LINDEX", "fb:{%s}" % chat.key, 0))
        self.assertEqual(comments["comment"], "Nhanh và rõ ràng")
        self.assertEqual(comments["procedure"], "dang_ky_xe")
        self.assertEqual(comments["stars"], 5)
        self.assertIsNotNone(self.redis("ZSCORE", "{stats}:comments", chat.key))
        self.assertEqual(self.redis("SISMEMBER", "refs:{%s}" % chat.key, "{stats}:comments"), 1)
        r = chat.say("góp ý")
        self.assertIn("rate:3", payloads(r))
        chat.press("rate:3")
        chat.press("fb:skip")
        self.assertGreaterEqual(self.stats()["satisfaction"]["chung"]["count"], 1)

    def test_volunteer_assists_a_resident_without_following_their_dossier(self):
        vol = Chat(self)
        other = Chat(self)
        status, _ = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]}, token=None)
        self.assertEqual(status, 401)
        status, body = self.bot.admin_json("POST", "/admin/volunteers", {"add": ["bad key"]})
        self.assertEqual(status, 400)
        status, body = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]})
        self.assertEqual((status, body["added"]), (200, 1))
        r = other.say("/hotro")
        self.assertIn("Tổ công nghệ số", r[0]["text"])
        before = self.stats()
        r = vol.say("/hotro")
        self.assertIn("xã/phường nào", r[0]["text"])
        r = vol.say("Tân Uyên")
        self.assertIn("Tân Uyên", r[0]["text"])
        r = vol.press("flow:bhyt_gia_han")
        self.assertNotIn("f:prof:yes", payloads(r))
        w = walk(vol, "bhyt_gia_han", replies=r)
        self.assertNotIn("xa_phuong", [s for s, _ in w.questions])     # the resident's commune
        self.assertIn("Xã/phường: Tân Uyên", w.screen_text("find"))
        self.assertIn("vol:start", payloads(w.replies))
        self.assertIn("hh:start", payloads(w.replies))
        code = "000.00.12.H50-260105-9003"
        r = vol.say(code)
        self.assertIn("nhắn cho bot \"tra cứu hồ sơ %s\"" % code, r[0]["text"])
        self.assertEqual(self.redis("EXISTS", "sub:" + code), 0)     # not on the volunteer's account
        self.assertNotIn("consent:yes", payloads(r))
        self.assertEqual(self.redis("EXISTS", "p:{%s}" % vol.key), 0)
        after = self.stats()
        self.assertEqual(after["volunteers"]["assists_by_volunteer"][vol.key], 1)
        self.assertEqual(after["communes"]["tan uyen"]["assists"], 1)
        self.assertEqual(after["counters"]["assists"], before["counters"].get("assists", 0) + 1)
        self.assertEqual(after["flows"]["bhyt_gia_han"]["code_given"], 1)
        r = vol.press("vol:start")                              # the next resident
        self.assertIn("xã/phường nào", r[0]["text"])
        r = vol.press("vol:end")
        self.assertIn("Đã kết thúc", r[0]["text"])

    def test_a_volunteer_names_the_residents_commune_from_the_2025_list(self):
        vol = Chat(self)
        self.assertEqual(self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]})[0], 200)
        vol.say("/hotro")
        r = vol.say("01/02/2026")                                  # a date is no commune
        self.assertIn("Chưa tìm thấy xã/phường", r[0]["text"])
        self.assertIn("vol:end", payloads(r))
        self.assertNotIn("assist", self.session(vol))
        r = vol.say("xa chieng ngan")                              # an old commune, no diacritics
        self.assertIn("xã Chiềng Ngần cũ nay là phường Chiềng Sinh", r[0]["text"])
        self.assertIn("Đang hỗ trợ người dân xã/phường Chiềng Sinh", texts(r))
        self.assertEqual(self.session(vol)["assist"]["commune"], "Chiềng Sinh")
        vol.press("vol:start")
        r = vol.say("Đoàn Kết")                                    # one in each province
        units = [p for p in payloads(r) if p.startswith("vol:cm:")]
        self.assertEqual(len(units), 2, r)
        self.assertNotIn("assist", self.session(vol))
        r = vol.press(units[1])
        commune = self.session(vol)["assist"]["commune"]
        self.assertIn("Đoàn Kết", commune)
        self.assertIn("Đang hỗ trợ người dân xã/phường " + commune, texts(r))
        # a unit button outside the commune question starts nothing
        other = Chat(self)
        other.press(units[0])
        self.assertNotIn("assist", self.session(other))

    def test_handoff_round_trip_through_the_staff_chat(self):
        staff = Chat(self, "telegram", user=STAFF_MEMBER, chat=STAFF_CHAT)
        user = Chat(self, "telegram")
        seen = len(self.tg.sent_to(STAFF_CHAT))
        r = user.say("cho tôi gặp cán bộ")
        self.assertIn("ho:end", payloads(r))
        ticket = self.redis("HGET", "ho:{%s}" % user.key, "ticket")
        self.assertIn("#" + ticket, r[0]["text"])
        new = [c["json"]["text"] for c in self.tg.sent_to(STAFF_CHAT)[seen:]]
        self.assertTrue(any("#" + ticket in t and "cho tôi gặp cán bộ" in t for t in new), new)
        self.assertEqual(len(new), 1)
        self.assertTrue(any("#" + ticket in c["json"]["text"] for c in self.tg.sent_to(12345)))
        staff_before = len(self.tg.sent_to(STAFF_CHAT))
        r = user.say("khai sinh cho con cần giấy tờ gì?")
        self.assertIn("Đã chuyển", r[0]["text"])
        self.assertNotIn("flow:khai_sinh", payloads(r))
        r = user.say("xin chào")
        self.assertEqual(r, [])                                 # acknowledged once, not answered
        forwarded = [c["json"]["text"] for c in self.tg.sent_to(STAFF_CHAT)[staff_before:]]
        self.assertTrue(any("khai sinh cho con" in t for t in forwarded))
        self.assertTrue(any("xin chào" in t for t in forwarded))
        r = staff.say("/reply %s Chào bạn, cần giấy chứng sinh." % ticket)
        self.assertIn("Đã gửi", texts(r))
        got = self.tg.sent_to(user.user)[-1]["json"]["text"]
        self.assertIn("Chào bạn, cần giấy chứng sinh.", got)
        r = staff.say("hôm nay đông quá")                       # chatter among staff: ignored
        self.assertEqual(r, [])
        r = staff.say("/reply 999999 hello")
        self.assertIn("Không có phiếu", texts(r))
        r = staff.say("/lenh")
        self.assertIn("/reply", texts(r))
        r = staff.say("/close@dvcbot %s" % ticket)
        self.assertIn("Đã đóng", texts(r))
        self.assertIn("kết thúc hỗ trợ", self.tg.sent_to(user.user)[-1]["json"]["text"])
        r = staff.say("/reply %s muộn rồi" % ticket)
        self.assertIn("Không có phiếu #" + ticket, texts(r))
        r = user.say("xin chào")
        self.assertIn("Xin chào", r[0]["text"])
        self.assertEqual(self.redis("EXISTS", "ho:{%s}" % user.key), 0)

    def test_handoff_reply_reaches_a_webchat_user(self):
        staff = Chat(self, "telegram", user=STAFF_MEMBER, chat=STAFF_CHAT)
        user = Chat(self)
        r = user.press("i:gap_can_bo")
        ticket = self.redis("HGET", "ho:{%s}" % user.key, "ticket")
        self.assertTrue(ticket)
        r = user.say("/start")                                  # still waiting for staff
        self.assertIn("ho:end", payloads(r))
        staff.say("/reply %s Xin chào từ cán bộ" % ticket)
        status, _, body = self.bot.request("GET", "/webchat/messages?user=" + user.user)
        inbox = json.loads(body)["replies"]
        self.assertTrue(any("Xin chào từ cán bộ" in m["text"] for m in inbox), inbox)
        r = user.press("ho:end")
        self.assertIn("Đã kết thúc", r[0]["text"])
        wait_until(lambda: any("đã kết thúc phiếu #" + ticket in c["json"]["text"]
                               for c in self.tg.sent_to(STAFF_CHAT)), what="the staff notice")

    def test_admin_stats_needs_a_token_and_reports_durations(self):
        status, _ = self.bot.admin_json("GET", "/admin/stats", token=None)
        self.assertEqual(status, 401)
        status, _ = self.bot.admin_json("GET", "/admin/stats", token="wrong-token-0123456789")
        self.assertEqual(status, 403)
        chat = Chat(self)
        chat.say("đổi bằng lái xe")
        walk(chat, "doi_gplx", code="000.00.12.H50-260105-9004")
        stats = self.stats()
        f = stats["flows"]["doi_gplx"]
        self.assertGreaterEqual(f["finished"], 1)
        for k in ("median_s", "p90_s", "durations", "started", "abandoned", "code_given",
                  "code_median_s", "code_p90_s", "code_durations", "code_under_5min"):
            self.assertIn(k, f)
        self.assertEqual(f["code_given"], 1)
        self.assertLessEqual(f["median_s"], f["p90_s"])
        self.assertGreaterEqual(stats["intents"]["doi_gplx"], 1)
        m = self.bot.metrics()
        self.assertGreaterEqual(m['dvcbot_flows_total{procedure="doi_gplx",event="finished"}'], 1)
        self.assertGreaterEqual(m['dvcbot_flow_duration_seconds_count{procedure="doi_gplx"}'], 1)


PENDING = "Hồ sơ chưa có trong hệ thống tra cứu; khi có, tôi sẽ báo anh/chị."


class FlowPendingFollowTest(FlowBase):
    """A dossier submitted a minute ago is not in Redis yet: its code at the
    end of a flow becomes a pending follow, checked when staff systems upsert
    the dossier — no wrong try counted, nothing learned before the check."""

    def counted(self, code, *chats):
        """The wrong tries counted against the dossier, everyone and the chats' accounts."""
        keys = ["hs:g:d:" + code] + ["hs:g:s:" + hashlib.sha256(("acct:" + c.key).encode()).hexdigest()
                                     for c in chats]
        return [self.redis("HGET", k, "n") for k in keys] + [self.redis("HGET", "hs:g:all", "n")]

    def end_flow_with(self, chat, proc, code, proof):
        walk(chat, proc)
        r = chat.say(code)
        self.assertIn("Đã ghi nhận mã hồ sơ " + code, r[0]["text"])
        return chat.say(proof)

    def test_the_owner_is_told_plainly_and_followed_once_the_dossier_arrives(self):
        code = "000.00.12.H50-261201-7001"
        owner, guesser = Chat(self, "telegram"), Chat(self, "telegram")
        r = self.end_flow_with(owner, "tam_vang", code, "5678")     # last 4 digits of PHONE
        self.assertIn(PENDING, r[0]["text"])
        self.assertTrue({"consent:yes", "rate:5"} & set(payloads(r)), r)  # the flow's closing questions
        everyone = self.redis("HGET", "hs:g:all", "n")
        r = self.end_flow_with(guesser, "tam_vang", code, "1111")
        self.assertIn(PENDING, r[0]["text"])                      # the same words: nothing learned
        self.assertEqual(self.counted(code, owner, guesser), [None, None, None, everyone])  # nothing counted
        self.assertEqual(self.redis("EXISTS", "sub:" + code), 0)
        seen = len(self.tg.sent_to(guesser.user))
        before = len(self.tg.sent_to(owner.user))
        self.upload(dossier(code, "tam_vang"))
        notice = wait_until(lambda: self.tg.sent_to(owner.user)[before:], what="the owner's notice")[0]
        self.assertIn(code, notice["json"]["text"])
        self.assertEqual(self.redis("SMEMBERS", "sub:" + code), [owner.key])
        self.assertEqual(self.redis("EXISTS", "hs:p:" + code), 0)
        # the wrong proof was checked then, and counted like a try at that moment
        self.assertEqual(self.redis("HGET", "hs:g:d:" + code, "n"), "1")
        self.assertEqual(self.counted(code, guesser)[1], "1")
        self.assertEqual(self.counted(code, owner)[1], None)
        self.assertEqual(len(self.tg.sent_to(guesser.user)), seen)   # and told nothing
        self.assertEqual(self.redis("ZRANGE", "dossier:access:" + code, 0, -1), [owner.key])

    def test_an_existing_dossier_is_checked_at_once_as_before(self):
        code = "000.00.12.H50-261201-7002"
        self.upload(dossier(code, "tam_vang"))
        chat = Chat(self, "telegram")
        r = self.end_flow_with(chat, "tam_vang", code, "1111")
        self.assertIn("Không tìm thấy hồ sơ", r[0]["text"])
        self.assertNotIn(PENDING, r[0]["text"])
        self.assertEqual(self.redis("HGET", "hs:g:d:" + code, "n"), "1")
        self.assertEqual(self.redis("EXISTS", "hs:p:" + code), 0)

    def test_pending_follows_are_bounded_per_user_and_erased_with_the_user(self):
        chat = Chat(self, "telegram")
        codes = ["000.00.12.H50-261201-71%02d" % i for i in range(5)]
        for code in codes[:3]:
            r = self.end_flow_with(chat, "tam_vang", code, "5678")
            self.assertIn(PENDING, r[0]["text"])
        r = self.end_flow_with(chat, "tam_vang", codes[3], "5678")    # one too many
        self.assertIn("Không tìm thấy hồ sơ", r[0]["text"])
        self.assertNotIn(PENDING, r[0]["text"])
        self.assertEqual(self.redis("HGET", "hs:g:d:" + codes[3], "n"), "1")  # a wrong try
        # erase-my-data takes the user out of the pending follows
        chat.say("xóa dữ liệu của tôi")
        chat.press("erase:yes")
        for code in codes[:3]:
            self.assertEqual(self.redis("HKEYS", "hs:p:" + code), [])
        self.upload(dossier(codes[0], "tam_vang"))
        self.assertEqual(self.redis("EXISTS", "sub:" + codes[0]), 0)


class FlowPendingExpiryTest(FlowBase):
    def test_a_pending_follow_ends_after_a_week(self):
        code = "000.00.12.H50-261201-7201"
        chat = Chat(self, "telegram")
        walk(chat, "tam_vang")
        chat.say(code)
        self.assertIn(PENDING, chat.say("5678")[0]["text"])
        self.bot.advance_clock(8 * 24 * 3600)
        before = len(self.tg.sent_to(chat.user))
        self.upload(dossier(code, "tam_vang"))
        wait_until(lambda: self.redis("EXISTS", "hs:p:" + code) == 0, what="the pending follow settled")
        self.assertEqual(self.redis("EXISTS", "sub:" + code), 0)
        self.assertEqual(len(self.tg.sent_to(chat.user)), before)


class FlowCodeTimeTest(FlowBase):
    """The time to the code counts from the flow's start, on the test clock."""

    def test_minutes_spent_in_the_flow_are_the_time_to_the_code(self):
        chat = Chat(self)
        r = chat.press("flow:tach_ho")
        self.bot.advance_clock(170)
        w = walk(chat, "tach_ho", replies=r)
        self.bot.advance_clock(200)                           # 6 min 10 s in all: over 5 minutes
        chat.say("000.00.12.H50-260105-9005")
        f = self.stats()["flows"]["tach_ho"]
        self.assertEqual(f["code_given"], 1)
        self.assertGreaterEqual(f["code_median_s"], 370)
        self.assertLess(f["code_median_s"], 370 + 60)
        self.assertEqual(f["code_under_5min"], 0)
        self.assertGreaterEqual(f["median_s"], 170)              # to the code step
        self.assertTrue(w.questions)
