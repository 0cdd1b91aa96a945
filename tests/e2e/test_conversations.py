"""Conversations the way villagers type them: short yes/no words instead of
buttons, words for the options instead of the labels, "hủy" typed in the
middle of something. Each test is one exchange a tester found wrong (the
reply it got is in its comment). Against a real Redis, through the web chat
and the Telegram stub."""
import datetime
import json
import os
import re

from harness import ROOT, Chat, ServiceTest, payloads, start_flow_past_checks, texts

STEP = re.compile(r"Bước (\d+)/(\d+)")


def flow_steps(proc):
    with open(os.path.join(ROOT, "intents", proc + ".json"), encoding="utf-8") as f:
        return json.load(f)["flow"]["steps"]


def step_no(replies):
    m = STEP.search(replies[-1]["text"])
    return int(m.group(1)) if m else None


class TypedYesNoTest(ServiceTest):

    def mode(self, chat):
        raw = self.redis("GET", "s:{%s}" % chat.key)
        return json.loads(raw).get("mode") if raw else None

    def test_yes_and_no_typed_at_a_readiness_check(self):
        steps = flow_steps("khai_sinh")
        self.assertIn("check", steps[0])
        # "có" used to open the dossier lookup, "vâng" the tạm vắng procedure
        # (folded "vang"), "ừ"/"không"/"ko" got "press a button".
        for yes in ("có", "vâng", "ừ", "dạ có", "Có ạ"):
            chat = Chat(self)
            self.assertEqual(step_no(chat.press("flow:khai_sinh")), 1)
            r = chat.say(yes)
            self.assertEqual(step_no(r), 2, (yes, r))
            self.assertIn("f:yes:1", payloads(r))          # the next check's buttons
            self.assertEqual(self.mode(chat), "flow", yes)
        for no in ("không", "ko", "chưa"):
            chat = Chat(self, "telegram")
            chat.press("flow:khai_sinh")
            r = chat.say(no)
            self.assertIn("VNeID mức 2", r[-1]["text"], (no, r))  # the check's "no" screen
            self.assertEqual(self.mode(chat), "flow", no)
            r = chat.say("có")                                   # made it now: going on
            self.assertEqual(step_no(r), 2, r)

    def test_yes_and_no_typed_at_the_saved_data_offer(self):
        # "có" under "Dùng thông tin đã lưu: …?" got "press a button below".
        for typed, asked in (("có", False), ("vâng", False), ("không", True)):
            chat = Chat(self)
            self.redis("HSET", "p:{%s}" % chat.key, "consent", "yes", "consent_at", "1764600000",
                       "commune", "Nậm Tăm")
            r = chat.press("flow:trich_luc_ho_tich")
            self.assertIn("Dùng thông tin đã lưu: Nậm Tăm", r[-1]["text"])
            seen = []
            r = chat.say(typed)
            self.assertNotIn("f:prof:yes", payloads(r), typed)
            for _ in range(30):                    # on through the flow, first options
                seen.append(r[-1]["text"])
                nxt = [p for p in payloads(r) if p.startswith(("f:yes:", "f:next:", "f:opt:"))]
                if "xã/phường nào" in r[-1]["text"] or not nxt:
                    break
                r = chat.press(nxt[0])
            self.assertIn("f:nocode" if not asked else "f:cancel", payloads(r), (typed, seen))
            self.assertEqual(any("xã/phường nào" in t for t in seen), asked, (typed, seen))


class QuantityTypedTest(ServiceTest):

    def answers(self, chat):
        raw = self.redis("GET", "s:{%s}" % chat.key)
        return json.loads(raw).get("flow", {}).get("a", {}) if raw else {}

    def test_a_number_typed_at_quantity_options_is_the_quantity(self):
        # "Đóng cho bao nhiêu tháng?" [3 tháng, 6 tháng, 12 tháng]: "3" was kept
        # as the third option, "12 tháng"; "6" and "12" were refused.
        chat = Chat(self)
        chat.press("flow:bhyt_gia_han")
        r = chat.press("f:yes:0")
        self.assertIn("mấy người", r[-1]["text"])
        r = chat.say("2")
        self.assertIn("bao nhiêu tháng", r[-1]["text"])
        r = chat.say("3")
        self.assertIn("xã/phường nào", r[-1]["text"])
        self.assertEqual(self.answers(chat).get("so_thang"), "3 tháng")
        self.assertEqual(self.answers(chat).get("so_nguoi"), "2 người")
        # "Hộ mới có mấy người?" [1 người, 2–3 người, 4 người trở lên]: "3" was "4 người trở lên".
        chat = Chat(self)
        r, i = start_flow_past_checks(chat, "tach_ho")
        r = chat.press("f:opt:%d:0" % i)
        self.assertIn("mấy người", r[-1]["text"])
        r = chat.say("3")
        self.assertEqual(self.answers(chat).get("so_nguoi"), "2–3 người")
        r = chat.say("quay lại")
        r = chat.say("6 người")
        self.assertEqual(self.answers(chat).get("so_nguoi"), "4 người trở lên")


class LookupCancelTest(ServiceTest):
    telegram = False
    code = "000.00.12.H50-241120-0003"

    def mode(self, chat):
        raw = self.redis("GET", "s:{%s}" % chat.key)
        return json.loads(raw).get("mode") if raw else None

    def test_cancel_words_typed_in_the_lookup_end_it(self):
        # "huy" at the code step got "a dossier code is digits and letters,
        # type it again"; at the 4-digit step "type just the 4 digits"; "hủy"
        # there got "you have nothing in progress".
        chat = Chat(self)
        chat.say("tra cứu hồ sơ")
        self.assertEqual(self.mode(chat), "lookup")
        r = chat.say("huy")
        self.assertIn("đã dừng", r[0]["text"])
        self.assertIn("i:tra_cuu_ho_so", payloads(r))
        self.assertIsNone(self.mode(chat))
        chat.say("tra cứu hồ sơ")
        self.assertIn("4 chữ số cuối", chat.say(self.code)[0]["text"])
        for word in ("hủy", "huy"):
            r = chat.say(word)
            self.assertIn("đã dừng", r[0]["text"], word)
            self.assertNotIn("không có việc nào", r[0]["text"])
            self.assertIsNone(self.mode(chat))
            chat.say("tra cứu hồ sơ")
            chat.say(self.code)
        chat.say("thôi")
        r = chat.say("5678")                                # no longer taken as the 4 digits
        self.assertNotIn(self.code, " ".join(x["text"] for x in r))
        chat.say("thanh toán")
        self.assertEqual(self.mode(chat), "lookup")
        self.assertIn("đã dừng", chat.say("Thôi")[0]["text"])
        self.assertIsNone(self.mode(chat))

    def test_the_request_typed_again_at_the_code_asks_again(self):
        # "thanh toán" typed again where the code is asked got "a dossier code
        # is digits and letters, type it again".
        chat = Chat(self)
        chat.say("tra cứu hồ sơ")
        r = chat.say("thanh toán")
        self.assertIn("Để thanh toán", r[0]["text"])
        self.assertNotIn("Mã hồ sơ gồm", r[0]["text"])
        r = chat.say("tra cứu hồ sơ")
        self.assertNotIn("Mã hồ sơ gồm", r[0]["text"])
        self.assertEqual(self.mode(chat), "lookup")
        self.assertIn("4 chữ số cuối", chat.say(self.code)[0]["text"])
        r = chat.say("thanh toán")                          # at the 4 digits: still asked for them
        self.assertIn("4 chữ số cuối", r[0]["text"])
        self.assertEqual(self.mode(chat), "lookup")


class EraseTypedAnswerTest(ServiceTest):
    telegram = False

    def keys_of(self, chat):
        return [k for k in self.redis("KEYS", "*") if "{%s}" % chat.key in k]

    def test_typed_answers_to_the_erase_question_never_erase(self):
        # Under "Anh/chị muốn xóa toàn bộ dữ liệu...?" a typed "có" got the
        # dossier lookup's "type the code", "hủy" "you have nothing in
        # progress", "co" "not understood".
        chat = Chat(self)
        chat.press("flow:tam_tru")                         # something stored
        self.assertTrue(self.keys_of(chat))
        r = chat.say("xóa dữ liệu của tôi")
        self.assertIn("erase:yes", payloads(r))
        for yes in ("có", "co", "ok"):
            r = chat.say(yes)
            self.assertIn("Xóa hết", r[0]["text"], yes)    # press the button to confirm
            self.assertEqual(payloads(r), ["erase:yes", "erase:no"])
            self.assertIn("s:{%s}" % chat.key, self.keys_of(chat))
        r = chat.say("hủy")
        self.assertIn("giữ nguyên", r[0]["text"])
        self.assertIn("s:{%s}" % chat.key, self.keys_of(chat))
        r = chat.say("có")                                  # the question is over
        self.assertNotIn("erase:yes", payloads(r))
        chat.say("xoa du lieu")
        self.assertIn("giữ nguyên", chat.say("không")[0]["text"])
        chat.say("xoa du lieu")
        r = chat.press("erase:yes")                         # the real request
        self.assertIn("Đã xóa", r[0]["text"])
        self.assertEqual(self.keys_of(chat), [])


class OptionWordsTest(ServiceTest):
    telegram = False

    def test_the_questions_own_words_pick_an_option(self):
        # "Trẻ là con trai hay con gái?" [Nam, Nữ]: "con gái" and "gái" were refused.
        for proc in ("khai_sinh", "lien_thong_khai_sinh"):
            for typed, kept in (("con gái", "Nữ"), ("trai", "Nam"), ("nữ", "Nữ")):
                chat = Chat(self)
                start_flow_past_checks(chat, proc)
                r = chat.say("Lò Thị Mai")
                for _ in range(3):
                    if "con trai hay con gái" in r[-1]["text"]:
                        break
                    r = chat.say("01/10/2026")
                r = chat.say(typed)
                self.assertNotIn("con trai hay con gái", r[-1]["text"], (proc, typed, r))
                raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
                self.assertTrue(raw["flow"]["a"]["gioi_tinh_tre"].startswith(kept), raw["flow"]["a"])


class FeedbackTypedTest(ServiceTest):
    telegram = False

    def comments(self, chat):
        return [json.loads(x) for x in self.redis("LRANGE", "fb:{%s}" % chat.key, 0, -1)]

    def test_a_comment_typed_before_the_stars_is_kept(self):
        # "góp ý" then "bot trả lời chậm quá": the rating was asked again and
        # the comment lost; "5" typed for the stars got "not understood".
        chat = Chat(self)
        self.assertIn("rate:5", payloads(chat.say("góp ý")))
        r = chat.say("bot trả lời chậm quá")
        self.assertIn("Cảm ơn góp ý", r[0]["text"])
        self.assertEqual([(c["comment"], c["stars"]) for c in self.comments(chat)],
                         [("bot trả lời chậm quá", 0)])
        chat.say("góp ý")
        r = chat.say("4 sao")
        self.assertIn("fb:skip", payloads(r))               # rated: a comment is asked
        chat.say("hướng dẫn dễ hiểu")
        self.assertEqual((self.comments(chat)[0]["comment"], self.comments(chat)[0]["stars"]),
                         ("hướng dẫn dễ hiểu", 4))
        chat.say("góp ý")
        r = chat.say("tra cứu hồ sơ")                       # a request, not a comment
        self.assertIn("mã hồ sơ", r[0]["text"])
        self.assertEqual(len(self.comments(chat)), 2)

    def test_yes_or_no_under_any_more_comments_is_no_comment(self):
        # "Anh/chị có góp ý gì thêm không?" "không" was stored as the comment
        # "không" and thanked for ("Cảm ơn góp ý"), "có" likewise.
        chat = Chat(self)
        chat.say("góp ý")
        chat.press("rate:5")
        r = chat.say("không")
        self.assertIn("đã đánh giá", r[0]["text"])
        self.assertEqual(self.comments(chat), [])
        chat.say("góp ý")
        chat.press("rate:4")
        r = chat.say("có")
        self.assertIn("gõ góp ý", r[0]["text"])
        self.assertIn("fb:skip", payloads(r))
        chat.say("chữ to dễ đọc")
        self.assertEqual([c["comment"] for c in self.comments(chat)], ["chữ to dễ đọc"])
        chat.say("góp ý")
        r = chat.say("thôi")                                # before any stars
        self.assertTrue(r[0]["text"].startswith("Dạ."), r)
        self.assertEqual(len(self.comments(chat)), 1)


class ConsentTypedTest(ServiceTest):
    telegram = False

    def test_yes_or_no_typed_at_the_consent_question(self):
        # "Anh/chị có muốn lưu Xã/phường ...?" "có" opened the dossier lookup,
        # "không" got "not understood"; nothing was answered.
        from flowwalk import walk
        for typed, consent in (("có", "yes"), ("đồng ý", "yes"), ("không", "no")):
            chat = Chat(self)
            walk(chat, "tam_tru")
            r = chat.press("f:nocode")
            self.assertIn("consent:yes", payloads(r))
            r = chat.say(typed)
            self.assertIn("rate:5", payloads(r), (typed, r))   # answered: on to the rating
            self.assertEqual(self.redis("HGET", "p:{%s}" % chat.key, "consent"), consent)
            saved = self.redis("HGET", "p:{%s}" % chat.key, "commune")
            self.assertEqual(saved is not None, consent == "yes", saved)
        chat = Chat(self)                                   # a question instead: answered as usual
        walk(chat, "tam_tru")
        chat.press("f:nocode")
        r = chat.say("làm căn cước ở đâu")
        self.assertNotIn("consent:yes", payloads(r))
        self.assertIsNone(self.redis("HGET", "p:{%s}" % chat.key, "consent"))
        r = chat.say("có")                                  # no longer taken as consent
        self.assertIsNone(self.redis("HGET", "p:{%s}" % chat.key, "consent"))


class LoneYesNoTest(ServiceTest):
    telegram = False

    def test_a_lone_yes_or_no_with_no_question_waiting(self):
        # "có" got "type your dossier code", "vâng" the tạm vắng procedure
        # (folded "vang"), "không" "not understood".
        for word in ("có", "vâng", "không"):
            chat = Chat(self)
            r = chat.say(word)
            self.assertTrue(r[0]["text"].startswith("Dạ."), (word, r))
            self.assertIn("menu", payloads(r))
            self.assertNotIn("mã hồ sơ", r[0]["text"])
        chat = Chat(self)                                  # a flow paused for another question
        chat.press("flow:khai_sinh")
        chat.press("f:yes:0")
        r = chat.say("đăng ký khai tử")
        self.assertIn("Đăng ký khai tử", r[0]["text"])
        r = chat.say("vâng")
        self.assertIn("đang làm dở", r[0]["text"])          # offered, not jumped into
        self.assertIn("f:resume", payloads(r))


class ConsentWithdrawTest(ServiceTest):
    telegram = False

    def test_no_pressed_after_yes_forgets_what_was_kept(self):
        # "Đồng ý lưu" then the same message's "Không lưu": the bot said "không
        # lưu thông tin" but p:{} kept the commune (consent "no").
        from flowwalk import walk
        chat = Chat(self)
        walk(chat, "tam_tru")
        chat.press("f:nocode")
        chat.press("consent:yes")
        key = "p:{%s}" % chat.key
        self.assertEqual(self.redis("HGET", key, "commune"), "Chiềng Cơi")
        r = chat.press("consent:no")
        self.assertIn("không lưu", r[0]["text"])
        self.assertEqual(self.redis("HGET", key, "consent"), "no")
        self.assertIsNone(self.redis("HGET", key, "commune"))
        r = chat.press("flow:trich_luc_ho_tich")           # nothing offered any more
        self.assertNotIn("f:prof:yes", payloads(r))


class OldIdNumberTest(ServiceTest):
    telegram = False

    def test_an_old_9_digit_number_says_where_the_12_digits_are(self):
        # 9 digits (the old CMND) got only "must have exactly 12 digits".
        chat = Chat(self)
        start_flow_past_checks(chat, "ket_hon")
        chat.say("Lò Thị Mai")
        r = chat.say("05/05/1999")
        self.assertIn("Số căn cước", r[-1]["text"])
        r = chat.say("123 456 789")
        self.assertIn("12 chữ số", r[0]["text"])
        self.assertIn("VNeID", r[0]["text"])
        self.assertIn("9 số cũ", r[0]["text"])
        r = chat.say("014 099 001 234")                     # with spaces: taken
        self.assertNotIn("12 chữ số", r[0]["text"])


class RequestAtAnAnswerTest(ServiceTest):
    telegram = False

    def test_a_request_typed_where_an_answer_is_asked_is_not_the_answer(self):
        # At "Trẻ tên là gì?": "gặp cán bộ" was kept as the child's name
        # "Gặp Cán Bộ" (and "xóa dữ liệu của tôi" as "Xóa Dữ Liệu Của Tôi"),
        # and the flow went on to the birth date.
        for typed, expect in (("gặp cán bộ", "cán bộ"), ("xóa dữ liệu của tôi", "erase:yes"),
                              ("tra cứu hồ sơ", "mã hồ sơ")):
            chat = Chat(self)
            r, _ = start_flow_past_checks(chat, "khai_sinh")
            self.assertIn("Trẻ tên là gì", r[-1]["text"])
            r = chat.say(typed)
            self.assertIn(expect, " ".join(x["text"] for x in r) + " ".join(payloads(r)), typed)
            raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
            self.assertNotIn("ho_ten_tre", raw["flow"].get("a", {}), typed)
            if typed == "gặp cán bộ":
                r = chat.say("tiếp tục")                    # the flow waits where it was
                self.assertIn("Trẻ tên là gì", r[-1]["text"])
                r = chat.say("Lò Văn Cán")                  # a name is still a name
                self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])


def vn_date(unix):
    """The date in Vietnam (UTC+7) at unix time."""
    return datetime.datetime.fromtimestamp(unix + 7 * 3600, datetime.timezone.utc).date()


class DateWithoutYearTest(ServiceTest):
    telegram = False

    def answers(self, chat):
        return json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]["a"]

    def test_a_recent_date_without_its_year_takes_the_last_such_day(self):
        # "Trẻ sinh ngày nào?": "5/11" and "ngay 5 thang 11" got "Chưa đọc
        # được ngày" (a newborn's birth: the year goes without saying).
        today = vn_date(self.bot.now())
        ahead = today + datetime.timedelta(days=10)
        for day, typed in ((today, "%d/%d"), (ahead, "ngay %d thang %d")):
            want = day.replace(year=today.year)
            if want > today:
                want = want.replace(year=today.year - 1)
            chat = Chat(self)
            start_flow_past_checks(chat, "khai_sinh")
            chat.say("Lò Thị Mai")
            r = chat.say(typed % (day.day, day.month))
            full = want.strftime("%d/%m/%Y")
            self.assertIn("Đã ghi ngày " + full, r[-1]["text"], typed)   # said back
            self.assertIn("con trai hay con gái", r[-1]["text"])
            self.assertEqual(self.answers(chat)["ngay_sinh_tre"], full)
            r = chat.say("quay lại")                                        # and put right
            self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])

    def test_a_birth_date_of_an_adult_without_its_year_asks_for_it(self):
        # The partner's birth date: "5/11" cannot be guessed; it got "Chưa
        # đọc được ngày" and no word about the year. Impossible days are still refused.
        chat = Chat(self)
        start_flow_past_checks(chat, "ket_hon")
        chat.say("Lò Thị Mai")
        r = chat.say("5/11")
        self.assertIn("thêm năm", r[-1]["text"])
        self.assertIn("Người đó sinh ngày nào", r[-1]["text"])
        r = chat.say("31/2")
        self.assertIn("không có trên lịch", r[-1]["text"])
        r = chat.say("5/11/1999")
        self.assertIn("Số căn cước", r[-1]["text"])


class ChildSexWordsTest(ServiceTest):
    telegram = False

    def test_be_gai_and_be_trai_answer_the_sex_question(self):
        # "Trẻ là con trai hay con gái?" [Nam (con trai), Nữ (con gái)]:
        # "bé gái", "bé trai", "cháu trai ạ" got "Chưa rõ anh/chị chọn gì".
        for typed, kept in (("bé gái", "Nữ"), ("be trai", "Nam"), ("cháu trai ạ", "Nam"),
                            ("gai", "Nữ"), ("con trai", "Nam")):
            chat = Chat(self)
            start_flow_past_checks(chat, "khai_sinh")
            chat.say("Lò Thị Mai")
            r = chat.say("01/10/2026")
            self.assertIn("con trai hay con gái", r[-1]["text"])
            r = chat.say(typed)
            self.assertIn("là gì của trẻ", r[-1]["text"], (typed, r))
            raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
            self.assertTrue(raw["flow"]["a"]["gioi_tinh_tre"].startswith(kept), (typed, raw))
        chat = Chat(self)                                  # "em là mẹ cháu" at "là gì của trẻ?"
        start_flow_past_checks(chat, "khai_sinh")
        for line in ("Lò Thị Mai", "01/10/2026", "bé gái"):
            r = chat.say(line)
        r = chat.say("em là mẹ cháu")
        self.assertIn("xã/phường nào", r[-1]["text"])

    def test_bo_answers_cha(self):
        # "Anh/chị là gì của trẻ?" [Cha, Mẹ, ...]: "bố" (how the North says
        # it) and "tôi là bố cháu" got "Chưa rõ anh/chị chọn gì".
        for typed in ("bố", "toi la bo chau"):
            chat = Chat(self)
            start_flow_past_checks(chat, "khai_sinh")
            for line in ("Lò Thị Mai", "01/10/2026", "bé gái"):
                chat.say(line)
            r = chat.say(typed)
            self.assertIn("xã/phường nào", r[-1]["text"], typed)
            raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
            self.assertEqual(raw["flow"]["a"]["quan_he"], "Cha")


class AnotherFlowMidFlowTest(ServiceTest):
    telegram = False

    def flow_of(self, chat):
        raw = json.loads(self.redis("GET", "s:{%s}" % chat.key) or "{}")
        return raw.get("flow", {}).get("id"), raw.get("flow", {}).get("a", {}), raw.get("mode")

    def test_another_procedures_flow_asks_before_dropping_the_answers(self):
        # Mid khai sinh (name given), "đăng ký khai tử" then its "Hướng dẫn
        # nộp trực tuyến": the khai sinh flow and its answers went, silently.
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Thị Mai")
        r = chat.press("flow:khai_tu")                       # pressed mid-flow
        self.assertIn("đang làm dở: Đăng ký khai sinh", r[-1]["text"])
        self.assertIn("Đăng ký khai tử", r[-1]["text"])
        self.assertEqual(payloads(r), ["f:resume", "flow:khai_tu:new"])
        self.assertEqual(self.flow_of(chat)[:2], ("khai_sinh", {"ho_ten_tre": "Lò Thị Mai"}))
        r = chat.press("f:resume")                           # go on: where it stopped
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        chat.say("làm giấy khai tử thế nào")                 # paused for a question...
        r = chat.press("flow:khai_tu")                       # ...and the other one pressed
        self.assertEqual(payloads(r), ["f:resume", "flow:khai_tu:new"])
        r = chat.press("flow:khai_tu:new")                   # leave it: the new one starts
        self.assertIn("Đăng ký khai tử", " ".join(x["text"] for x in r))
        self.assertEqual(self.flow_of(chat)[0], "khai_tu")
        i = 0
        while "check" in flow_steps("khai_tu")[i]:
            chat.press("f:yes:%d" % i)
            i += 1
        asked = chat.say("Lò Văn Pảng")[-1]["text"]
        r = chat.press("flow:khai_tu")                       # the same again: goes on
        self.assertIn("đang làm dở hướng dẫn này", r[-1]["text"])
        self.assertIn(asked.split("?")[0], r[-1]["text"])
        self.assertEqual(self.flow_of(chat)[2], "flow")

    def test_nothing_typed_yet_the_other_flow_starts_at_once(self):
        chat = Chat(self)
        chat.press("flow:khai_sinh")
        r = chat.press("flow:khai_tu")
        self.assertNotIn("f:resume", payloads(r))
        self.assertEqual(self.flow_of(chat)[0], "khai_tu")

    def test_a_paused_flows_old_button_goes_on_instead_of_ended(self):
        # A step's button pressed after a question paused the flow got
        # "Hướng dẫn này đã kết thúc" though the flow waited in the session.
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Thị Mai")
        chat.say("gặp cán bộ")
        self.assertEqual(self.flow_of(chat)[2], None)        # paused
        r = chat.press("f:back:3")
        self.assertNotIn("đã kết thúc", r[-1]["text"])
        self.assertIn("Bước", r[-1]["text"])
        self.assertEqual(self.flow_of(chat)[2], "flow")


class CommentAfterFlowRatingTest(ServiceTest):
    telegram = False

    def comments(self, chat):
        return [json.loads(x) for x in self.redis("LRANGE", "fb:{%s}" % chat.key, 0, -1)]

    def rating_asked(self, chat):
        from test_flows import walk
        walk(chat, "tam_tru")
        chat.press("f:nocode")
        r = chat.press("consent:no")
        self.assertIn("rate:5", payloads(r))
        return r

    def test_a_comment_typed_under_the_flows_rating_is_kept_for_that_procedure(self):
        # Under "Anh/chị đánh giá hướng dẫn Đăng ký tạm trú": "hướng dẫn dễ
        # hiểu" started a general rating ("đánh giá dịch vụ") and was lost.
        chat = Chat(self)
        self.rating_asked(chat)
        r = chat.say("hướng dẫn dễ hiểu")
        self.assertIn("Cảm ơn góp ý", r[0]["text"])
        self.assertNotIn("rate:5", payloads(r))
        self.assertEqual([(c["procedure"], c["stars"], c["comment"]) for c in self.comments(chat)],
                         [("tam_tru", 0, "hướng dẫn dễ hiểu")])
        chat = Chat(self)                                   # "5" typed: the stars of that rating
        self.rating_asked(chat)
        r = chat.say("5")
        self.assertIn("fb:skip", payloads(r))
        chat.say("nhanh gọn")
        self.assertEqual([(c["procedure"], c["stars"]) for c in self.comments(chat)], [("tam_tru", 5)])

    def test_a_question_under_the_flows_rating_is_answered_not_kept(self):
        for question, answer in (("làm căn cước ở đâu", "căn cước"), ("phí bao nhiêu", "tạm trú")):
            chat = Chat(self)
            self.rating_asked(chat)
            r = chat.say(question)
            self.assertIn(answer, " ".join(x["text"] for x in r).lower(), question)
            self.assertNotIn("Cảm ơn góp ý", r[0]["text"], question)
            self.assertEqual(self.comments(chat), [], question)


class TypedButtonNumberTest(ServiceTest):
    telegram = False

    def test_a_number_typed_under_buttons_presses_that_button(self):
        # "2" under the menu (Thủ tục, Tra cứu hồ sơ, ...) got the summary of
        # "Cấp tài khoản định danh điện tử mức 2" (the matcher read "mức 2").
        chat = Chat(self)
        r = chat.say("đăng ký tạm trú")
        n = payloads(r).index("i:tra_cuu_ho_so") + 1
        r = chat.say(str(n))
        self.assertIn("mã hồ sơ", r[0]["text"])
        self.assertNotIn("định danh", r[0]["text"])
        chat = Chat(self)
        chat.say("khai sinh")
        self.assertEqual(payloads(chat.say("menu"))[0], "menu:thu_tuc")
        r = chat.say("1 ")                                    # the menu's first: Thủ tục
        self.assertIn("Chọn một nhóm", r[0]["text"])
        r = chat.say("1.")                                    # the first group's list
        self.assertIn("Thủ tục Hộ tịch", r[0]["text"])
        r = chat.say("99")                                    # no such button: read as text
        self.assertTrue(r[0]["text"])
        r = chat.press("flow:khai_sinh")                      # in a flow: the step's options
        self.assertIsNone(json.loads(self.redis("GET", "s:{%s}" % chat.key)).get("nb"))


class ProcedureAtAFormedAnswerTest(ServiceTest):
    telegram = False

    def test_another_procedure_typed_where_a_date_is_asked_pauses_the_flow(self):
        # At "Trẻ sinh ngày nào?": "dang ky khai tu" and "lam cccd" got "Chưa
        # đọc được ngày. Gõ theo ngày/tháng/năm".
        for typed, name in (("dang ky khai tu", "Đăng ký khai tử"), ("lam cccd", "căn cước")):
            chat = Chat(self)
            start_flow_past_checks(chat, "khai_sinh")
            chat.say("Lò Thị Mai")
            r = chat.say(typed)
            text = " ".join(x["text"] for x in r)
            self.assertNotIn("Chưa đọc được ngày", text, typed)
            self.assertIn(name, text, typed)
            raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
            self.assertIsNone(raw.get("mode"), typed)                  # paused, answers kept
            self.assertEqual(raw["flow"]["a"], {"ho_ten_tre": "Lò Thị Mai"})
            r = chat.say("tiếp tục")
            self.assertIn("Trẻ sinh ngày nào", r[-1]["text"], typed)
        chat = Chat(self)                                               # a date is still a date
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Thị Mai")
        self.assertIn("con trai hay con gái", chat.say("hôm qua")[-1]["text"])


class OptionInOwnWordsTest(ServiceTest):
    telegram = False

    def test_an_option_said_in_other_words_is_taken(self):
        # "Thẻ BHYT cho ai?" [Trẻ dưới 6 tuổi, Hộ nghèo, cận nghèo, Dân tộc
        # thiểu số, ...Chưa rõ]: "người dân tộc Thái" and "không biết" got
        # "Chưa rõ anh/chị chọn gì".
        for typed, kept in (("người dân tộc Thái", "Dân tộc thiểu số"), ("khong biet", "Chưa rõ")):
            chat = Chat(self)
            r, _ = start_flow_past_checks(chat, "bhyt_ngan_sach")
            self.assertIn("Thẻ BHYT cho ai", r[-1]["text"])
            r = chat.say(typed)
            self.assertNotIn("Chưa rõ anh/chị chọn gì", r[-1]["text"], typed)
            raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
            self.assertEqual(raw["flow"]["a"]["dien"], kept)


class YesUnderGoOnTest(ServiceTest):
    telegram = False

    def test_yes_under_go_on_is_not_kept_as_the_answer(self):
        # "Anh/chị đang làm dở: Đăng ký khai sinh, bước 3/15 — tiếp tục?" "có"
        # was kept as the child's name "Có" and the flow went on to the birth date.
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("gặp cán bộ")
        self.assertIn("tiếp tục?", chat.say("vâng")[-1]["text"])
        r = chat.say("có")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
        self.assertNotIn("ho_ten_tre", raw["flow"].get("a", {}))
        r = chat.say("Lò Văn Cán")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])


class MenuTypedMidFlowTest(ServiceTest):
    telegram = False

    def session(self, chat):
        return json.loads(self.redis("GET", "s:{%s}" % chat.key))

    def test_menu_typed_mid_flow_pauses_it_like_the_menu_button(self):
        # "menu" typed at "Trẻ sinh ngày nào?" deleted the flow (the child's
        # name was gone, counted abandoned) while the "Menu chính" button kept
        # it to go on with; "/menu" offered to go on instead of the menu and
        # "quay lai menu" was refused as a date ("Chưa đọc được ngày").
        for how in ("button", "menu", "/menu", "quay lai menu", "Về menu chính"):
            chat = Chat(self)
            start_flow_past_checks(chat, "khai_sinh")
            chat.say("Lò Văn An")
            r = chat.press("menu") if how == "button" else chat.say(how)
            self.assertEqual(texts(r), "Anh/chị cần làm gì? Chọn một mục hoặc gõ câu hỏi.", how)
            self.assertEqual(payloads(r)[0], "menu:thu_tuc", how)
            s = self.session(chat)
            self.assertNotEqual(s.get("mode"), "flow", how)
            self.assertEqual(s["flow"]["a"]["ho_ten_tre"], "Lò Văn An", how)
            r = chat.say("/start")                             # offered back later
            self.assertIn("Anh/chị đang làm dở: Đăng ký khai sinh", r[0]["text"], how)
            r = chat.press("f:resume")
            self.assertIn("Trẻ sinh ngày nào", r[-1]["text"], how)
            r = chat.say("2")                                  # the menu's numbers are not the flow's
            self.assertIn("Chưa đọc được ngày", texts(r), how)
