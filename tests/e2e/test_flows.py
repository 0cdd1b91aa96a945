"""Guided submission end to end (issues 4 and 13): every procedure's flow walked
from its readiness checks through every portal screen to "Nộp hồ sơ", the
payment and the closing dossier code; branches, the commune list, invalid
answers, back/edit/cancel, restart mid-flow, idle expiry, on the web chat,
Telegram and Zalo, against a real Redis. What happens at and after the code
step (consent, ratings, hand-off, volunteers, follows) is in test_flow_end.py;
the helpers are in flowwalk.py."""
import concurrent.futures
import datetime

from flowwalk import (NAME, NAME_OUT, PHONE_OUT, STEP, VNEID_FILLS, FlowBase, dossier, intent, portal_link,
                      procedures, step_index, valid_answer, walk)
from harness import (ADMIN_TOKEN, Chat, ServiceTest, fee_in_force, payloads, start_flow_past_checks, texts,
                     wait_until)

class FlowWalkTest(FlowBase):
    """Every procedure, walked the way an outsider would."""

    def walk_one(self, proc, n):
        code = "000.00.12.H50-260105-%04d" % n
        chat = Chat(self)
        w = walk(chat, proc, no_checks=n % 2 == 0)   # half of them try "no" at every check
        data, p = intent(proc), intent(proc)["procedure"]
        steps = w.steps
        # readiness checks first: VNeID level 2 (or the chip card for VNeID itself)
        self.assertIn("check", steps[0], proc)
        self.assertIn(steps[0]["check"], ("vneid", "chip"), proc)
        first = w.texts[1] if len(w.texts) > 1 else ""
        self.assertIn("Bước 1/", first, proc)
        # only what the portal cannot fill: no repeated question, nothing VNeID fills
        asked = [slot for slot, _ in w.questions]
        self.assertEqual(len(asked), len(set(asked)), proc)
        for slot, text in w.questions:
            for pattern in VNEID_FILLS:
                self.assertIsNone(pattern.search(text), (proc, slot, text))
            self.assertRegex(text, r'Cần khi điền màn hình "[^"]+" trên Cổng', (proc, slot))
        for step in steps:
            self.assertNotIn(step.get("profile"), ("name", "birth_date", "cccd", "phone"), proc)
        # "bước k/n": one more each time, the last one is the code step
        ks = [k for k, _ in w.numbers]
        self.assertEqual(ks, list(range(1, len(ks) + 1)), (proc, w.numbers))
        self.assertEqual(w.numbers[-1][0], w.numbers[-1][1], (proc, w.numbers))
        # every portal screen to "Nộp hồ sơ" and the payment; the procedure's own link
        for screen in ("find", "submit", "pay"):
            self.assertIn(screen, w.screens, proc)
        self.assertLess(w.screens.index("submit"), len(w.screens), proc)
        self.assertIn("Mở trang thủ tục: " + portal_link(proc), w.screen_text("find"), proc)
        self.assertIn("Lệ phí: " + fee_in_force(p, self.bot.now()), w.screen_text("pay"), proc)
        for label, value in w.kept.items():
            if value is not None:
                self.assertIn("%s: %s" % (label, value), "\n".join(w.texts), (proc, label))
        self.assertIn("Đã nộp xong? Gõ mã hồ sơ", w.replies[-1]["text"], proc)
        # the code: noted, then the owner check, then followed
        r = chat.say(code)
        self.assertIn("Đã ghi nhận mã hồ sơ " + code, r[0]["text"], proc)
        self.assertIn("4 chữ số cuối", r[-1]["text"], proc)
        r = chat.say(PHONE_OUT[-4:])
        self.assertIn("Đã đăng ký", r[0]["text"], (proc, r))
        self.assertIn("hs:unsub:" + code, payloads(r), proc)
        self.assertEqual(self.redis("SISMEMBER", "sub:" + code, chat.key), 1, proc)
        # then, once, the consent to keep the commune (or the rating)
        self.assertTrue("consent:yes" in payloads(r) or "rate:5" in payloads(r), (proc, r))
        self.assertEqual(data["name"] in "\n".join(w.texts), True)
        return proc, len(asked)

    def test_every_procedure_walks_to_submission_payment_and_a_followed_code(self):
        before = self.stats()["flows"]
        procs = procedures()
        self.assertEqual(len(procs), 36)
        self.upload(*[dossier("000.00.12.H50-260105-%04d" % n, proc) for n, proc in enumerate(procs)])
        asked = {}
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for proc, n in pool.map(lambda a: self.walk_one(a[1], a[0]), enumerate(procs)):
                asked[proc] = n
        after = self.stats()["flows"]
        for proc in procs:
            self.assertEqual(after[proc]["started"] - before[proc]["started"], 1, proc)
            self.assertEqual(after[proc]["finished"] - before[proc]["finished"], 1, proc)
            self.assertEqual(after[proc]["code_given"] - before[proc]["code_given"], 1, proc)
            self.assertGreaterEqual(after[proc]["code_durations"], 1, proc)
            self.assertLessEqual(after[proc]["code_median_s"], after[proc]["code_p90_s"])
            self.assertEqual(after[proc]["code_under_5min"], after[proc]["code_durations"], proc)
        self.assertLessEqual(max(asked.values()), 6, asked)


class FlowStepsTest(FlowBase):
    """Inside a flow: checks, branches, communes, invalid answers, moving."""

    def start(self, chat, proc):
        """Starts proc and answers its readiness checks "yes"."""
        return start_flow_past_checks(chat, proc)[0]

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
        self.assertRegex(first[0]["text"], "Làm hết trên điện thoại.*, không phải lên xã")
        self.assertIn("Bước 1/", first[-1]["text"])
        self.assertIn("Anh/chị đã có tài khoản VNeID mức 2 chưa?", first[-1]["text"])
        self.assertEqual(payloads(first)[:2], ["f:yes:0", "f:no:0"])

    def test_no_vneid_account_shows_how_to_get_one_and_stops_or_goes_on(self):
        chat = Chat(self)
        chat.press("flow:ho_chieu")
        r = chat.say("chưa có")                               # typed "no"
        self.assertIn("Công an xã", r[-1]["text"])
        self.assertIn("i:dinh_danh_dien_tu", payloads(r))
        r = chat.press("r:help_vneid_kich_hoat")              # a help screen keeps the flow
        self.assertIn("Kích hoạt VNeID", r[0]["text"])
        self.assertEqual(self.session(chat)["mode"], "flow")
        r = chat.say("có rồi")                                # back on the same check: goes on
        self.assertIn("chụp ảnh ảnh chân dung nền trắng", r[-1]["text"])
        before = self.stats()["flows"]["ho_chieu"]["abandoned"]
        r = chat.press("f:no:1")
        self.assertIn("Cách chụp ảnh giấy tờ cho rõ", r[-1]["text"])
        r = chat.press("f:cancel")
        self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
        self.assertEqual(self.stats()["flows"]["ho_chieu"]["abandoned"], before + 1)

    def test_a_branch_adds_its_steps_and_the_numbers_follow(self):
        steps = intent("khai_sinh")["flow"]["steps"]
        rel = next(i for i, s in enumerate(steps) if s.get("slot") == "quan_he")
        other = steps[rel]["options"].index("Người thân khác")
        extra = next(s["say"] for s in steps if s.get("if") == {"quan_he": "Người thân khác"})
        chat = Chat(self)
        r = self.start(chat, "khai_sinh")
        n = int(STEP.search(r[-1]["text"]).group(2))
        w = walk(chat, "khai_sinh", replies=r, choices={"quan_he": other})
        self.assertIn(extra, "\n".join(w.texts))
        self.assertEqual(w.numbers[-1], (n + 1, n + 1))          # one step more on this branch
        # back to "Mẹ": the branch's step is gone again
        r = chat.say("sửa người đi khai")
        self.assertIn("Anh/chị là gì của trẻ?", r[-1]["text"])
        r = chat.press("f:opt:%d:1" % rel)
        self.assertIn("Đã nộp xong", r[-1]["text"])                # back where the user was
        self.assertEqual(STEP.search(r[-1]["text"]).groups(), (str(n), str(n)))
        # a branch of tro_cap_xa_hoi: the beneficiary's name only when it is not the user
        plain = walk(Chat(self), "tro_cap_xa_hoi")
        other = walk(Chat(self), "tro_cap_xa_hoi", choices={"nguoi_lam": 1})
        self.assertNotIn("ho_ten_nguoi_huong", [s for s, _ in plain.questions])
        self.assertIn("ho_ten_nguoi_huong", [s for s, _ in other.questions])

    def test_communes_come_from_the_2025_list(self):
        steps = intent("tam_tru")["flow"]["steps"]
        at = next(i for i, s in enumerate(steps) if s.get("type") == "commune")
        chat = Chat(self)
        r = self.start(chat, "tam_tru")
        while step_index(r[-1]) != at:
            i = step_index(r[-1])
            s = steps[i]
            r = chat.press("f:opt:%d:0" % i) if s["type"] == "choice" else chat.say(valid_answer(s)[0])
        asked = r[-1]["text"]
        r = chat.say("01/02/2026")                             # a date: refused, nothing likely
        self.assertIn('Chưa tìm thấy xã/phường "01/02/2026" ở Sơn La, Lai Châu', r[0]["text"])
        self.assertIn(asked.split("\n")[0].split(": ", 1)[1], r[0]["text"])   # the same question
        self.assertEqual([p for p in payloads(r) if p.startswith("f:cm:")], [])
        r = chat.say("chieng coii lao")                        # random-ish: likely units as buttons
        self.assertTrue([p for p in payloads(r) if p.startswith("f:cm:%d:" % at)], r)
        r = chat.say("Đoàn Kết")                               # two provinces have one
        self.assertIn("có ở nhiều nơi", r[0]["text"])
        units = [(l, p) for x in r for l, p in x["buttons"] if p.startswith("f:cm:")]
        self.assertEqual(sorted(l for l, _ in units), ["Đoàn Kết (Lai Châu)", "Đoàn Kết (Sơn La)"])
        self.assertIn("i:gap_can_bo", payloads(r))             # third refusal: help is offered
        r = chat.press(dict(units)["Đoàn Kết (Lai Châu)"])
        self.assertEqual(step_index(r[-1]), at + 1)             # taken: the next step
        r = chat.say("sửa xã phường")
        self.assertEqual(step_index(r[-1]), at)
        r = chat.say("xa hua la")                              # an old commune: mapped, said so
        self.assertIn("xã Hua La cũ nay là phường Chiềng Cơi.", r[-1]["text"])
        self.assertEqual(step_index(r[-1]), at + 1)             # back where the user was
        chat.say("sửa xã phường")
        r = chat.say("muong te")                               # a name of today and an old one elsewhere
        self.assertIn("• xã Mường Tè, Lai Châu", r[0]["text"])
        self.assertIn("• xã Song Khủa, Sơn La: có xã Mường Tè cũ", r[0]["text"])
        units = dict((l, p) for x in r for l, p in x["buttons"] if p.startswith("f:cm:"))
        r = chat.press(units["Song Khủa"])
        w = walk(chat, "tam_tru", replies=r)
        self.assertIn("Xã/phường: Song Khủa", w.screen_text("find"))
        chat.press("f:nocode")
        # typos and missing diacritics go straight through
        w = walk(Chat(self), "tam_tru", values={"commune": ("Chieng Coj", None)})
        self.assertIn("Xã/phường: Chiềng Cơi", w.screen_text("find"))

    def test_invalid_answers_are_reasked_with_a_reason_then_help_is_offered(self):
        chat = Chat(self, "telegram")
        r = self.start(chat, "khai_sinh")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        n = STEP.search(r[-1]["text"]).group(1)
        r = chat.say("Nguyen Van 2")
        self.assertIn("chữ cái", r[0]["text"])
        self.assertIn("Bước %s/" % n, r[0]["text"])            # the same question again
        r = chat.say(NAME)
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        future = (datetime.date.today() + datetime.timedelta(days=3)).strftime("%d/%m/%Y")
        r = chat.say(future)
        self.assertIn("chưa tới", r[0]["text"])
        r = chat.say("31/02/2024")
        self.assertIn("không có trên lịch", r[0]["text"])
        self.assertNotIn("i:gap_can_bo", payloads(r))
        r = chat.say("abc")                                    # third failure
        self.assertIn("i:gap_can_bo", payloads(r))
        self.assertIn("f:help", payloads(r))
        r = chat.press("f:help")
        self.assertIn("ngày", texts(r))
        r = chat.press("f:resume")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        r = chat.say("1.2.24")
        self.assertIn("con trai hay con gái", r[-1]["text"])
        r = chat.say("bé")                                     # neither option: refused
        self.assertIn("con trai hay con gái", r[-1]["text"])
        r = chat.say("nữ")                                     # an option typed
        self.assertIn("Anh/chị là gì của trẻ", r[-1]["text"])
        chat.say("hủy")

    def test_back_edit_and_cancel(self):
        chat = Chat(self)
        r = self.start(chat, "khai_sinh")
        n = int(STEP.search(r[-1]["text"]).group(1))
        r = chat.say(NAME)
        r = chat.say("quay lại")
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        self.assertIn(("Giữ: " + NAME_OUT, "f:keep:%d" % (n - 1)), r[-1]["buttons"])
        r = chat.press("f:keep:%d" % (n - 1))
        self.assertIn("Bước %d/" % (n + 1), r[-1]["text"])
        r = chat.press("f:back:%d" % n)
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        r = chat.press("f:back:%d" % n)                         # a double tap: stale
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        r = chat.press("f:yes:0")                               # an old message's button
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        # On to the code step, then correct two answers from there.
        w = walk(chat, "khai_sinh", replies=chat.press("f:keep:%d" % (n - 1)))
        self.assertIn("Họ tên trẻ: " + NAME_OUT, w.screen_text("form"))
        r = chat.press("f:edit")
        self.assertIn("f:edit:ho_ten_tre", payloads(r))
        r = chat.press("f:edit:ho_ten_tre")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        r = chat.say("hà thị lan")
        self.assertIn("Đã nộp xong", r[-1]["text"])              # back where we were
        r = chat.say("sửa ngày sinh của trẻ")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        r = chat.say("02/03/2021")
        r = chat.press("f:back:%d" % len(w.steps))              # from the code step: the payment screen
        r = chat.say("quay lại")
        r = chat.say("quay lại")
        r = chat.say("quay lại")
        r = chat.say("quay lại")
        self.assertIn('Màn hình "Tờ khai"', r[-1]["text"])
        self.assertIn("Họ tên trẻ: Hà Thị Lan", r[-1]["text"])
        self.assertIn("Ngày sinh của trẻ: 02/03/2021", r[-1]["text"])
        r = chat.say("sửa màu xe")
        self.assertIn("Chưa có mục đó", r[0]["text"])
        before = self.stats()["flows"]["khai_sinh"]["abandoned"]
        r = chat.say("hủy")
        self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
        self.assertIn("flow:khai_sinh", payloads(r))
        r = chat.say("xin chào")                               # no longer in the flow
        self.assertIn("Xin chào", r[0]["text"])
        r = chat.press("f:nocode")                             # stale flow button
        self.assertIn("đã kết thúc", r[0]["text"])
        # finished flows (the code step was reached) are not counted abandoned
        self.assertEqual(self.stats()["flows"]["khai_sinh"]["abandoned"], before)

    def test_start_offers_to_resume_a_running_flow_on_every_channel(self):
        name = intent("ho_chieu")["name"]
        for channel in ("webchat", "telegram"):
            chat = Chat(self, channel)
            chat.press("flow:ho_chieu")
            r = chat.press("f:yes:0")
            k, n = STEP.search(r[-1]["text"]).groups()
            self.assertEqual(k, "2")
            r = chat.say("/start")                               # a reload of the web chat sends it too
            self.assertEqual(len(r), 1, r)
            self.assertEqual(r[0]["text"], "Anh/chị đang làm dở: %s, bước 2/%s — tiếp tục?" % (name, n))
            self.assertEqual(payloads(r), ["f:resume", "f:cancel", "menu"])
            self.assertEqual(self.session(chat)["mode"], "flow")
            r = chat.press("f:resume")
            self.assertIn("Bước 2/%s" % n, r[-1]["text"])
            r = chat.say("/start")
            r = chat.press("f:cancel")
            self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
            r = chat.say("/start")
            self.assertIn("Xin chào", r[0]["text"])              # nothing left to resume

    def test_menu_and_other_questions_leave_a_flow(self):
        chat = Chat(self)
        chat.press("flow:ho_chieu")
        r = chat.say("làm lại căn cước")                       # another question at a check
        self.assertIn("flow:can_cuoc", payloads(r))
        chat.press("flow:ho_chieu")
        r = chat.say("menu")
        self.assertNotIn("Bước", texts(r))

    def test_restart_of_dvcbot_mid_flow_then_continue(self):
        chat = Chat(self, "telegram")
        r = self.start(chat, "khai_tu")
        r = chat.say(NAME)
        k = int(STEP.search(r[-1]["text"]).group(1))
        self.bot.stop()
        self.bot.launch()
        r = chat.say("5/9/2025")
        self.assertIn("Bước %d/" % (k + 1), r[-1]["text"])       # the next question, after the date
        w = walk(chat, "khai_tu", replies=r)
        self.assertIn("Ngày mất: 05/09/2025", w.screen_text("form"))
        self.assertIn("Họ tên người mất: " + NAME_OUT, w.screen_text("form"))



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
        r = chat.press("f:yes:0")
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
            w = walk(chat, proc)
            self.assertIn("Mở trang thủ tục: " + portal_link(proc), w.screen_text("find"))
            self.assertIn("submit", w.screens)
            self.assertIn("pay", w.screens)
            for call in self.zl.sent_to(chat.user):
                self.assertLessEqual(len(call["json"]["message"]["text"]), 2000)

    def test_erase_on_zalo_leaves_no_key_once_its_answer_is_sent(self):
        chat = Chat(self, "zalo")
        chat.say("xin chào")
        r = chat.say("xóa dữ liệu của tôi")
        self.assertIn("erase:yes", payloads(r))
        r = chat.press("erase:yes")
        self.assertIn("Đã xóa", r[0]["text"])
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
