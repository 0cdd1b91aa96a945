"""Guided submission end to end (issue 4): every procedure's flow walked to
the end, invalid answers, back/edit/cancel, restart mid-flow, idle expiry,
consent and saved-data reuse, erase-my-data, ratings, staff hand-off,
volunteers, /admin/stats and /metrics. Through the web chat and the Telegram
stub, against a real Redis."""
import datetime
import json
import os
import time

from harness import (ADMIN_TOKEN, ROOT, Chat, ServiceTest, payloads, texts, wait_until)

STAFF_CHAT = -100555000111
STAFF_MEMBER = 7999000111

NAME, NAME_OUT = "lò văn minh", "Lò Văn Minh"
CCCD = "014090001234"
PHONE, PHONE_OUT = "0912 345 678", "0912345678"
COMMUNE = "Chiềng Cơi"


def intent(proc):
    with open(os.path.join(ROOT, "intents", proc + ".json"), encoding="utf-8") as f:
        return json.load(f)


def procedures():
    with open(os.path.join(ROOT, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        rows = [line.split("\t") for line in f if line.strip() and not line.startswith("#")]
    return [r[0] for r in rows if r[1] == "procedure"]


def valid_answer(step, values=None):
    """(what to type, what the bot keeps) for a question step; values may
    replace the defaults by slot type."""
    t = step["type"]
    if values and t in values:
        return values[t]
    if t == "name":
        return NAME, NAME_OUT
    if t == "date":
        if step.get("when") == "future":
            d = datetime.date.today() + datetime.timedelta(days=30)
            return d.strftime("%d/%m/%Y"), d.strftime("%d/%m/%Y")
        return "5/9/1990", "05/09/1990"
    if t == "cccd":
        return CCCD, CCCD
    if t == "phone":
        return PHONE, PHONE_OUT
    if t == "commune":
        return COMMUNE, COMMUNE
    text = "Bản Hua La, xã Chiềng Cơi, tỉnh Sơn La"
    lo, hi = step.get("min", 2), step.get("max", 200)
    text = (text * 4)[:hi] if len(text) < lo or len(text) > hi else text
    return text.strip() if len(text.strip()) >= lo else text, None


def walk(chat, proc, replies=None, skip=(), values=None, first=0, finish=True):
    """Answers every step of proc's flow from step `first` (starting the flow
    unless `replies` holds the last replies of one in progress), skipping the
    slots in skip (filled already); returns (replies to f:done, {label: kept
    answer}); with finish=False stops at the review instead."""
    steps = intent(proc)["flow"]["steps"]
    n = len(steps)
    replies = replies or chat.press("flow:" + proc)
    kept = {}
    for i, step in enumerate(steps):
        if i < first or step.get("slot") in skip:
            continue
        assert "Bước %d/%d" % (i + 1, n) in replies[-1]["text"], (proc, i, replies)
        if "ask" not in step:
            replies = chat.press("f:next:%d" % i)
        elif step["type"] == "choice":
            kept[step["label"]] = step["options"][0]
            replies = chat.press("f:opt:%d:0" % i)
        else:
            typed, out = valid_answer(step, values)
            kept[step["label"]] = out
            replies = chat.say(typed)
    review = replies[-1]["text"]
    assert "Kiểm tra lại" in review, (proc, replies)
    for label, value in kept.items():
        if value is not None:
            assert "%s: %s" % (label, value) in review, (proc, label, review)
    return (chat.press("f:done") if finish else replies), kept


def all_strings(redis, key):
    """Every string stored under key, whatever its type."""
    kind = redis("TYPE", key)
    if kind == "string":
        return [redis("GET", key)]
    if kind == "hash":
        return redis("HGETALL", key)
    if kind == "set":
        return redis("SMEMBERS", key)
    if kind == "zset":
        return redis("ZRANGE", key, 0, -1)
    if kind == "list":
        return redis("LRANGE", key, 0, -1)
    return []


class FlowTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_STAFF_CHATS": "%d, 12345" % STAFF_CHAT}

    def stats(self):
        status, body = self.bot.admin_json("GET", "/admin/stats")
        self.assertEqual(status, 200)
        return body

    # ---------------------------------------------------------- flows

    def test_every_procedure_flow_walks_to_the_end(self):
        before = self.stats()["flows"]
        procs = procedures()
        self.assertEqual(len(procs), 36)
        for proc in procs:
            data = intent(proc)
            chat = Chat(self)
            done, kept = walk(chat, proc)
            finish, copy = done[0]["text"], done[1]["text"]
            p = data["procedure"]
            self.assertIn(data["name"], finish)
            self.assertIn(p["documents"][0], finish)          # checklist
            self.assertIn(p["portal_url"], finish)            # portal link
            self.assertIn(p["fee_text"], finish)              # fee
            self.assertEqual("i:thanh_toan" in payloads(done[:1]), p["fee_vnd"] != 0, proc)
            for label, value in kept.items():
                if value is not None:
                    self.assertIn("%s: %s" % (label, value), copy)
            # asked once, after the first flow that asked something about the user
            about_user = any("profile" in step for step in data["flow"]["steps"])
            self.assertEqual("consent:yes" in payloads(done), about_user, proc)
            for _, payload in [b for r in done for b in r["buttons"]]:
                self.assertLessEqual(len(payload.encode()), 64)
            self.assertIsNone(self.redis("GET", "s:{%s}" % chat.key) and
                              json.loads(self.redis("GET", "s:{%s}" % chat.key)).get("mode"))
        after = self.stats()["flows"]
        for proc in procs:
            self.assertEqual(after[proc]["finished"] - before[proc]["finished"], 1, proc)
            self.assertEqual(after[proc]["started"] - before[proc]["started"], 1, proc)
            self.assertGreaterEqual(after[proc]["durations"], 1)

    def test_typed_question_and_procedure_button_reach_the_same_flow(self):
        typed = Chat(self, "telegram")
        summary = typed.say("đăng ký khai sinh cho con")
        self.assertIn("flow:khai_sinh", payloads(summary))
        tapped = Chat(self, "telegram")
        summary2 = tapped.press("i:khai_sinh")
        self.assertIn("flow:khai_sinh", payloads(summary2))
        first = typed.press("flow:khai_sinh")
        second = tapped.press("flow:khai_sinh")
        self.assertEqual(texts(first), texts(second))
        self.assertIn("Bước 1/", first[-1]["text"])
        self.assertIn("f:next:0", payloads(first))

    def test_invalid_answers_are_reasked_with_a_reason_then_help_is_offered(self):
        chat = Chat(self, "telegram")
        chat.press("flow:khai_sinh")
        chat.press("f:next:0")
        r = chat.press("f:next:1")
        self.assertIn("Họ và tên của bạn", r[-1]["text"])
        r = chat.say("Nguyen Van 2")
        self.assertIn("chữ cái", r[0]["text"])
        self.assertIn("Bước 3/", r[0]["text"])                # the same question again
        r = chat.say(NAME)
        self.assertIn("Số căn cước", r[-1]["text"])
        r = chat.say("12345")
        self.assertIn("12 chữ số", r[0]["text"])
        self.assertIn("Số căn cước", r[0]["text"])
        r = chat.say("003090001234")                           # no such province
        self.assertIn("không đúng", r[0]["text"])
        self.assertNotIn("i:gap_can_bo", payloads(r))
        r = chat.say("abc")                                    # third failure
        self.assertIn("i:gap_can_bo", payloads(r))
        self.assertIn("f:help", payloads(r))
        r = chat.press("f:help")
        self.assertIn("12 chữ số", texts(r))
        r = chat.press("f:resume")
        self.assertIn("Số căn cước", r[-1]["text"])
        r = chat.say(CCCD)
        self.assertIn("Số điện thoại", r[-1]["text"])
        r = chat.say("0212345678")                             # a landline
        self.assertIn("di động", r[0]["text"])
        chat.say(PHONE)
        chat.press("f:opt:5:1")
        chat.say("lò thị ánh")
        future = (datetime.date.today() + datetime.timedelta(days=3)).strftime("%d/%m/%Y")
        r = chat.say(future)
        self.assertIn("chưa tới", r[0]["text"])
        r = chat.say("31/02/2024")
        self.assertIn("không có trên lịch", r[0]["text"])
        r = chat.say("1.2.24")
        self.assertIn("Giới tính", r[-1]["text"])
        r = chat.say("nữ")                                     # an option typed
        self.assertIn("Xã/phường", r[-1]["text"])
        chat.say("hủy")

    def test_back_edit_and_cancel(self):
        chat = Chat(self)
        chat.press("flow:tam_tru")
        chat.press("f:next:0")
        chat.press("f:next:1")
        chat.say(NAME)
        r = chat.say("quay lại")
        self.assertIn("Bước 3/", r[-1]["text"])
        self.assertIn(("Giữ: " + NAME_OUT, "f:keep:2"), r[-1]["buttons"])
        r = chat.press("f:keep:2")
        self.assertIn("Bước 4/", r[-1]["text"])
        r = chat.press("f:back:3")
        self.assertIn("Bước 3/", r[-1]["text"])
        r = chat.press("f:back:3")                             # a double tap: stale
        self.assertIn("Bước 3/", r[-1]["text"])
        r = chat.press("f:next:0")                             # an old message's button
        self.assertIn("Bước 3/", r[-1]["text"])
        # Go on to the review, then correct two answers from there.
        walk(chat, "tam_tru", replies=chat.press("f:keep:2"), first=3, finish=False)
        r = chat.press("f:edit")
        self.assertIn("f:edit:ho_ten", payloads(r))
        r = chat.press("f:edit:ho_ten")
        self.assertIn("Họ và tên", r[-1]["text"])
        r = chat.say("hà thị lan")
        self.assertIn("Kiểm tra lại", r[-1]["text"])           # back where we were
        self.assertIn("Họ tên người nộp hồ sơ: Hà Thị Lan", r[-1]["text"])
        r = chat.say("sửa ngày sinh")
        self.assertIn("Ngày sinh của bạn", r[-1]["text"])
        r = chat.say("02/03/1991")
        self.assertIn("Ngày sinh: 02/03/1991", r[-1]["text"])
        r = chat.say("sửa màu xe")
        self.assertIn("Chưa có mục đó", r[0]["text"])
        before = self.stats()["flows"]["tam_tru"]["abandoned"]
        r = chat.say("hủy")
        self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
        self.assertIn("flow:tam_tru", payloads(r))
        r = chat.say("xin chào")                               # no longer in the flow
        self.assertIn("Xin chào", r[0]["text"])
        r = chat.press("f:done")                               # stale flow button
        self.assertIn("đã kết thúc", r[0]["text"])
        self.assertEqual(self.stats()["flows"]["tam_tru"]["abandoned"], before + 1)

    def test_start_offers_to_resume_a_running_flow_on_every_channel(self):
        name = intent("ho_chieu")["name"]
        n = len(intent("ho_chieu")["flow"]["steps"])
        for channel in ("webchat", "telegram"):
            chat = Chat(self, channel)
            chat.press("flow:ho_chieu")
            r = chat.press("f:next:0")
            self.assertIn("Bước 2/%d" % n, r[-1]["text"])
            r = chat.say("/start")                               # a reload of the web chat sends it too
            self.assertEqual(len(r), 1, r)
            self.assertEqual(r[0]["text"], "Anh/chị đang làm dở: %s, bước 2/%d — tiếp tục?" % (name, n))
            self.assertEqual(payloads(r), ["f:resume", "f:cancel", "menu"])
            self.assertEqual(json.loads(self.redis("GET", "s:{%s}" % chat.key))["mode"], "flow")
            r = chat.press("f:resume")
            self.assertIn("Bước 2/%d" % n, r[-1]["text"])
            r = chat.say("/start")
            r = chat.press("f:cancel")
            self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
            r = chat.say("/start")
            self.assertIn("Xin chào", r[0]["text"])              # nothing left to resume

    def test_menu_and_other_questions_leave_a_flow(self):
        chat = Chat(self)
        chat.press("flow:ho_chieu")
        r = chat.say("làm lại căn cước")                       # another question at an instruction step
        self.assertIn("flow:can_cuoc", payloads(r))
        chat.press("flow:ho_chieu")
        r = chat.say("menu")
        self.assertNotIn("Bước", texts(r))

    def test_restart_of_dvcbot_mid_flow_then_continue(self):
        chat = Chat(self, "telegram")
        chat.press("flow:can_cuoc")
        chat.press("f:next:0")
        chat.press("f:next:1")
        chat.say(NAME)
        self.bot.stop()
        self.bot.launch()
        r = chat.say("5/9/1990")
        self.assertIn("Bước 5/", r[-1]["text"])                 # the CCCD question, after the date
        r, _ = walk(chat, "can_cuoc", replies=r, first=4, finish=False)
        self.assertIn("Ngày sinh: 05/09/1990", r[-1]["text"])
        self.assertIn("Họ tên người nộp hồ sơ: " + NAME_OUT, r[-1]["text"])
        r = chat.press("f:done")
        self.assertIn("Hoàn tất hướng dẫn", r[0]["text"])

    # ---------------------------------------------------------- give data once, erase

    def test_consent_saved_data_reuse_and_erase_leaves_no_key(self):
        # Answers no other test uses, so that none may be left anywhere.
        mine = {"name": ("mùa a sểnh", "Mùa A Sểnh"), "cccd": ("012 2 04 987654", "012204987654"),
                "phone": ("+84 868 111 222", "0868111222"), "commune": ("Nậm Tăm", "Nậm Tăm")}
        chat = Chat(self, "telegram")
        done, _ = walk(chat, "khai_sinh", values=mine)
        self.assertIn("consent:yes", payloads(done))
        self.assertEqual(self.redis("EXISTS", "p:{%s}" % chat.key), 0)   # nothing before consent
        r = chat.press("consent:yes")
        self.assertIn("rate:5", payloads(r))
        profile = dict(zip(*[iter(self.redis("HGETALL", "p:{%s}" % chat.key))] * 2))
        self.assertEqual(profile["consent"], "yes")
        self.assertLess(abs(int(profile["consent_at"]) - time.time()), 60)
        self.assertEqual(profile["name"], "Mùa A Sểnh")
        self.assertEqual(profile["cccd"], "012204987654")
        self.assertEqual(profile["phone"], "0868111222")
        self.assertEqual(profile["commune"], "Nậm Tăm")
        chat.press("rate:4")
        chat.say("Hướng dẫn rất dễ hiểu")

        # A second flow offers the saved data as one tap and skips those questions.
        r = chat.press("flow:ly_lich_tu_phap")
        offer = r[-1]["text"]
        self.assertIn("Dùng thông tin đã lưu: Mùa A Sểnh, …7654, …1222, Nậm Tăm", offer)
        r = chat.press("f:prof:yes")
        self.assertIn("Bước 1/", r[-1]["text"])
        # The steps of the saved answers are not asked (walk checks the numbers).
        r, _ = walk(chat, "ly_lich_tu_phap", replies=r, finish=False,
                    skip=("ho_ten", "so_cccd", "so_dien_thoai", "xa_phuong"))
        self.assertIn("Số căn cước/định danh: 012204987654", r[-1]["text"])
        self.assertIn("Họ tên người nộp hồ sơ: Mùa A Sểnh", r[-1]["text"])
        done = chat.press("f:done")
        self.assertNotIn("consent:yes", payloads(done))          # asked once
        self.assertIn("rate:1", payloads(done))
        profile = dict(zip(*[iter(self.redis("HGETALL", "p:{%s}" % chat.key))] * 2))
        self.assertEqual(profile["birth_date"], "05/09/1990")    # kept after consent

        # Shared structures hold the user too: a ticket, the volunteer set.
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
        self.assertIn("Góp ý của bạn", r[0]["text"])
        # (Per-commune counters keep commune names, linked to nobody.)
        secret = [chat.key, str(chat.user), "012204987654", "0868111222", "Mùa A Sểnh",
                  "Hướng dẫn rất dễ hiểu"]
        for key in self.redis.keys():
            for s in secret:
                self.assertNotIn(s, key)
                for value in all_strings(self.redis, key):
                    self.assertNotIn(s, value or "", "%s still in %s" % (s, key))

    def test_refused_consent_keeps_nothing_and_is_not_asked_again(self):
        chat = Chat(self)
        done, _ = walk(chat, "thuong_tru")
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

    # ---------------------------------------------------------- satisfaction

    def test_rating_and_comment_are_stored_per_procedure_and_commune(self):
        before = self.stats()
        chat = Chat(self)
        walk(chat, "dang_ky_xe")
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
        # A general rating (intent gop_y).
        r = chat.say("góp ý")
        self.assertIn("rate:3", payloads(r))
        chat.press("rate:3")
        chat.press("fb:skip")
        self.assertGreaterEqual(self.stats()["satisfaction"]["chung"]["count"], 1)

    # ---------------------------------------------------------- hand-off

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
        # While the ticket is open the bot forwards instead of answering.
        staff_before = len(self.tg.sent_to(STAFF_CHAT))
        r = user.say("khai sinh cho con cần giấy tờ gì?")
        self.assertIn("Đã chuyển", r[0]["text"])
        self.assertNotIn("flow:khai_sinh", payloads(r))
        r = user.say("xin chào")
        self.assertEqual(r, [])                                 # acknowledged once, not answered
        forwarded = [c["json"]["text"] for c in self.tg.sent_to(STAFF_CHAT)[staff_before:]]
        self.assertTrue(any("khai sinh cho con" in t for t in forwarded))
        self.assertTrue(any("xin chào" in t for t in forwarded))
        # Staff answer through the bot.
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
        # Auto-answers again.
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
        # The web chat answer is synchronous, the staff notice goes out after it.
        wait_until(lambda: any("đã kết thúc phiếu #" + ticket in c["json"]["text"]
                               for c in self.tg.sent_to(STAFF_CHAT)), what="the staff notice")

    # ---------------------------------------------------------- volunteers

    def test_volunteer_assists_a_resident_without_saving_a_profile(self):
        vol = Chat(self)
        other = Chat(self)
        status, _ = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]}, token=None)
        self.assertEqual(status, 401)
        status, body = self.bot.admin_json("POST", "/admin/volunteers", {"add": ["bad key"]})
        self.assertEqual(status, 400)
        status, body = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]})
        self.assertEqual((status, body["added"]), (200, 1))
        status, body = self.bot.admin_json("GET", "/admin/volunteers")
        self.assertIn(vol.key, body["volunteers"])
        r = other.say("/hotro")
        self.assertIn("Tổ công nghệ số", r[0]["text"])
        before = self.stats()
        r = vol.say("/hotro")
        self.assertIn("xã/phường nào", r[0]["text"])
        r = vol.say("Tân Uyên")
        self.assertIn("Tân Uyên", r[0]["text"])
        self.assertIn("i:bhyt_gia_han", payloads(r))
        vol.press("i:bhyt_gia_han")
        r = vol.press("flow:bhyt_gia_han")
        self.assertNotIn("f:prof:yes", payloads(r))
        r, _ = walk(vol, "bhyt_gia_han", replies=r, skip=("xa_phuong",), finish=False)
        self.assertIn("Xã/phường cư trú: Tân Uyên", r[-1]["text"])
        done = vol.press("f:done")
        self.assertIn("vol:start", payloads(done))
        self.assertNotIn("consent:yes", payloads(done))
        self.assertEqual(self.redis("EXISTS", "p:{%s}" % vol.key), 0)
        after = self.stats()
        self.assertEqual(after["volunteers"]["assists_by_volunteer"][vol.key], 1)
        self.assertEqual(after["communes"]["tan uyen"]["assists"], 1)
        self.assertEqual(after["counters"]["assists"], before["counters"].get("assists", 0) + 1)
        self.assertGreaterEqual(after["volunteers"]["registered"], 1)
        r = vol.press("vol:start")                              # the next resident
        self.assertIn("xã/phường nào", r[0]["text"])
        r = vol.press("vol:end")
        self.assertIn("Đã kết thúc", r[0]["text"])

    # ---------------------------------------------------------- operators

    def test_admin_stats_needs_a_token_and_reports_durations(self):
        status, _ = self.bot.admin_json("GET", "/admin/stats", token=None)
        self.assertEqual(status, 401)
        status, _ = self.bot.admin_json("GET", "/admin/stats", token="wrong-token-0123456789")
        self.assertEqual(status, 403)
        chat = Chat(self)
        chat.say("đổi bằng lái xe")
        walk(chat, "doi_gplx")
        stats = self.stats()
        f = stats["flows"]["doi_gplx"]
        self.assertGreaterEqual(f["finished"], 1)
        for k in ("median_s", "p90_s", "durations", "started", "abandoned"):
            self.assertIn(k, f)
        self.assertLessEqual(f["median_s"], f["p90_s"])
        self.assertGreaterEqual(stats["intents"]["doi_gplx"], 1)
        m = self.bot.metrics()
        self.assertGreaterEqual(m['dvcbot_flows_total{procedure="doi_gplx",event="finished"}'], 1)
        self.assertGreaterEqual(m['dvcbot_flow_duration_seconds_count{procedure="doi_gplx"}'], 1)


class FlowExpiryTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_FLOW_IDLE": "2"}

    def abandoned(self, proc):
        status, body = self.bot.admin_json("GET", "/admin/stats")
        return body["flows"][proc]["abandoned"]

    def test_idle_flow_expires_and_the_user_is_told_on_the_next_message(self):
        chat, restarting = Chat(self), Chat(self)
        chat.press("flow:khai_tu")
        restarting.press("flow:khai_tu")
        self.bot.advance_clock(3)
        r = chat.say("xin chào")
        self.assertIn("hết hạn", r[0]["text"])
        self.assertIn("flow:khai_tu", payloads(r))
        self.assertIn("Xin chào", r[1]["text"])                 # and the message is answered
        r = chat.press("f:next:0")
        self.assertIn("đã kết thúc", r[0]["text"])
        r = restarting.say("/start")                            # nothing to resume: told, then greeted
        self.assertIn("hết hạn", r[0]["text"])
        self.assertIn("Xin chào", r[1]["text"])
        self.assertEqual(self.abandoned("khai_tu"), 2)          # counted once each (sweep or reply)

    def test_sweep_counts_a_flow_left_idle_as_abandoned(self):
        chat = Chat(self)
        chat.press("flow:ket_hon")
        self.assertEqual(self.abandoned("ket_hon"), 0)
        self.bot.advance_clock(3)  # past DVCBOT_FLOW_IDLE: the sweep runs at once
        wait_until(lambda: self.abandoned("ket_hon") == 1, what="the sweep")
        self.assertEqual(self.redis("ZSCORE", "{stats}:active", chat.key), None)
        m = self.bot.metrics()
        self.assertEqual(m['dvcbot_flows_total{procedure="ket_hon",event="abandoned"}'], 1)


class FlowOnZaloTest(ServiceTest):
    """The guided flows work the same on a Zalo OA as on Telegram."""
    zalo = True

    def test_flows_walk_to_the_end_on_zalo(self):
        for proc in ("khai_sinh", "ket_hon", "can_cuoc"):
            chat = Chat(self, "zalo")
            summary = chat.say(intent(proc)["name"])
            self.assertIn("flow:" + proc, payloads(summary))
            done, kept = walk(chat, proc)
            p = intent(proc)["procedure"]
            self.assertIn(p["portal_url"], done[0]["text"])
            self.assertIn(p["fee_text"], done[0]["text"])
            for label, value in kept.items():
                if value is not None:
                    self.assertIn("%s: %s" % (label, value), done[1]["text"])
            for call in self.zl.sent_to(chat.user):
                self.assertLessEqual(len(call["json"]["message"]["text"]), 2000)

    def test_erase_on_zalo_leaves_no_key_once_its_answer_is_sent(self):
        chat = Chat(self, "zalo")
        chat.say("xin chào")
        r = chat.say("xóa dữ liệu của tôi")
        self.assertIn("erase:yes", payloads(r))
        r = chat.press("erase:yes")
        self.assertIn("Đã xóa", r[0]["text"])
        # The answer was sent (and counted); a command sent after it on the
        # same Redis connection has answered, so every write about it is done.
        self.bot.inbox("zlerase%08d" % self.next_id())
        self.assertEqual([k for k in self.redis.keys() if chat.user in k], [])

    def test_erase_on_zalo_leaves_no_key_when_its_answer_is_refused(self):
        chat = Chat(self, "zalo")
        chat.say("xin chào")
        chat.say("xóa dữ liệu của tôi")
        self.zl.script("cs", (200, {"error": -230, "message": "no interaction in 7 days"}))
        chat.press("erase:yes")
        wait_until(lambda: self.bot.metrics().get(
            'dvcbot_zalo_send_errors_total{reason="no_recent_interaction"}', 0) >= 1,
            what="the refusal")
        self.bot.inbox("zlerase%08d" % self.next_id())
        self.assertEqual([k for k in self.redis.keys() if chat.user in k], [])
