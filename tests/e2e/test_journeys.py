"""Whole journeys a tester walked as a villager, each test one thing found
wrong on the way (the reply it got is in its comment): the menu's number
typed right after the greeting, a dossier's digits typed again after a
wrong try, erasing data in the middle of a guided flow. Against a real
Redis, through the web chat and the Telegram stub."""
import json

from console_client import Console
from flowwalk import walk
from harness import ADMIN_TOKEN, Chat, ServiceTest, payloads, start_flow_past_checks, texts

CODE = "000.00.12.H50-261120-0004"


class GreetingNumberTest(ServiceTest):

    def test_a_number_right_after_the_greeting_presses_the_menu(self):
        # A new user: "/start" (or "xin chào"), then "2" got "Xin lỗi, tôi
        # chưa hiểu câu hỏi" (no session was kept for a greeting).
        for channel, first in (("telegram", "/start"), ("webchat", "xin chào"), ("telegram", "chào em"),
                               ("webchat", "menu")):
            chat = Chat(self, channel)
            r = chat.say(first)
            self.assertEqual(payloads(r)[1], "i:tra_cuu_ho_so", (channel, first))
            r = chat.say("2")
            self.assertIn("mã hồ sơ", r[0]["text"], (channel, first))
            self.assertNotIn("chưa hiểu", texts(r), (channel, first))

    def test_a_web_chat_page_load_still_stores_nothing(self):
        chat = Chat(self)
        chat.say("/start")                                   # what every page load sends
        self.assertEqual(self.redis.keys("s:{%s}" % chat.key), [])


class DossierJourney(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def upload(self, record):
        status, _, _ = self.bot.admin("POST", "/admin/dossiers", json.dumps([record]).encode(),
                                      token=ADMIN_TOKEN, headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200)


class LookupRetryTest(DossierJourney):

    def test_the_digits_typed_again_after_a_wrong_try_are_a_new_try(self):
        # After "Không tìm thấy hồ sơ khớp…", the right 4 digits typed got
        # "Xin lỗi, tôi chưa hiểu câu hỏi": only the button "Thử lại" went
        # on, and it asked for the whole code again.
        self.upload({"code": CODE, "procedure": "tam_tru", "applicant_name": "Cầm Thị Hoa",
                     "phone": "0987654321", "status": "dang_xu_ly",
                     "received_at": "2026-11-20T08:00:00+07:00"})
        chat = Chat(self)
        chat.say("tra cứu hồ sơ")
        chat.say(CODE)
        r = chat.say("5678")
        self.assertIn("Không tìm thấy hồ sơ", r[0]["text"])
        self.assertIn("gõ lại 4 chữ số", r[0]["text"])
        r = chat.say("4321")
        self.assertIn("Cầm T. H.", texts(r))
        self.assertIn("Đang xử lý", texts(r))
        self.assertEqual(self.redis("HGET", "hs:g:d:" + CODE, "n"), "1")   # the wrong try counted


class EraseMidFlowTest(ServiceTest):
    telegram = False

    def test_keeping_the_data_offers_the_flow_back(self):
        # "xóa dữ liệu của tôi" in the middle of đăng ký tạm trú, then "Không
        # xóa": "Đã hủy, dữ liệu … giữ nguyên" with only "Menu chính"; the
        # flow's answers waited in the session with no way back shown.
        chat = Chat(self)
        start_flow_past_checks(chat, "tam_tru")
        r = chat.say("bản Nà Pản, xã Chiềng Cơi")
        asked = r[-1]["text"]
        chat.say("xóa dữ liệu của tôi")
        r = chat.say("không")
        self.assertIn("giữ nguyên", r[0]["text"])
        self.assertIn("f:resume", payloads(r))
        r = chat.press("f:resume")
        self.assertEqual(r[-1]["text"], asked)
        chat = Chat(self)                                      # nothing half-done: no such button
        chat.say("xóa dữ liệu của tôi")
        self.assertNotIn("f:resume", payloads(chat.press("erase:no")))

    def test_a_number_typed_under_the_confirmation_is_its_button(self):
        # "2" under [Xóa hết, Không xóa] got "Xin lỗi, tôi chưa hiểu"; "1"
        # asks for the button itself (nothing is erased on a typed word).
        chat = Chat(self)
        chat.say("khai sinh")
        chat.say("xóa dữ liệu của tôi")
        r = chat.say("2")
        self.assertIn("giữ nguyên", r[0]["text"])
        chat.say("xóa dữ liệu của tôi")
        r = chat.say("1")
        self.assertIn("erase:yes", payloads(r))
        self.assertNotEqual(self.redis.keys("s:{%s}" % chat.key), [])    # nothing erased yet

    def test_the_erasure_says_no_empty_list(self):
        # "Đã gỡ anh/chị khỏi 0 danh sách dùng chung."
        chat = Chat(self)
        chat.say("khai sinh")
        chat.say("xóa dữ liệu của tôi")
        r = chat.press("erase:yes")
        self.assertIn("Đã xóa", r[0]["text"])
        self.assertNotIn(" 0 danh sách", r[0]["text"])


class ComingBackTest(ServiceTest):
    telegram = False

    def test_a_greeting_the_next_day_offers_the_flow_back(self):
        # Đăng ký khai sinh left at "Trẻ sinh ngày nào?"; the next day "chào
        # em" got "Chưa đọc được ngày. Gõ theo ngày/tháng/năm".
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        r = chat.say("Lò Văn An")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        self.bot.advance_clock(20 * 3600)                        # within DVCBOT_FLOW_IDLE (a day)
        r = chat.say("chào em")
        self.assertNotIn("Chưa đọc được ngày", texts(r))
        self.assertIn("đang làm dở: Đăng ký khai sinh", r[0]["text"])
        self.assertIn("f:resume", payloads(r))
        r = chat.press("f:resume")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        flow = json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]
        self.assertEqual(flow["a"]["ho_ten_tre"], "Lò Văn An")


    def test_a_flow_paused_for_another_question_is_offered_back(self):
        # Khai sinh left at the birth date to look at kết hôn, the page
        # opened again the next day (/start) or "xin chào": only the
        # greeting, the child's name waiting unseen in the session.
        for first in ("/start", "xin chào"):
            chat = Chat(self)
            start_flow_past_checks(chat, "khai_sinh")
            chat.say("Lò Văn An")
            self.assertIn("kết hôn", chat.say("đăng ký kết hôn")[0]["text"])   # paused
            self.bot.advance_clock(3 * 3600)
            r = chat.say(first)
            self.assertIn("đang làm dở: Đăng ký khai sinh", r[0]["text"], first)
            r = chat.press("f:resume")
            self.assertIn("Trẻ sinh ngày nào", r[-1]["text"], first)
        chat = Chat(self)                                    # nothing of the user's: greeted
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("đăng ký kết hôn")
        self.assertIn("Xin chào", chat.say("/start")[0]["text"])


class NameWithoutMarksTest(ServiceTest):
    telegram = False

    def test_a_name_typed_without_marks_gets_a_reminder(self):
        # "lo van an" at "Trẻ tên là gì? Gõ đủ họ và tên, có dấu." was kept
        # silently; the portal's form (and the birth certificate) needs "Lò
        # Văn An".
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        r = chat.say("lo van an")
        self.assertIn("Đã ghi tên: Lo Van An", r[-1]["text"])
        self.assertIn("gõ tên có dấu", r[-1]["text"])
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        r = chat.say("Lò Văn An")                                     # with marks: no reminder
        self.assertNotIn("gõ tên có dấu", texts(r))


class MindChangedTest(ServiceTest):
    telegram = False

    def answers(self, chat):
        return json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]["a"]

    def test_the_answer_before_typed_again_changes_it(self):
        # After "bé trai", at "Anh/chị là gì của trẻ?": "nhầm rồi, bé gái"
        # and "à nhầm, sinh ngày 4/11" got "Chưa rõ anh/chị chọn gì".
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Văn An")
        chat.say("3/11")
        r = chat.say("bé trai")
        self.assertIn("là gì của trẻ", r[-1]["text"])
        r = chat.say("nhầm rồi, bé gái")
        self.assertIn('Đã sửa "Giới tính của trẻ": Nữ (con gái)', r[-1]["text"])
        self.assertIn("là gì của trẻ", r[-1]["text"])                # the question stays
        self.assertEqual(self.answers(chat)["gioi_tinh_tre"], "Nữ (con gái)")
        r = chat.say("sai rồi")                                       # a way back, typed
        self.assertIn("con trai hay con gái", r[-1]["text"])
        r = chat.say("à nhầm, sinh ngày 4/11")                        # the date before this one
        self.assertIn("04/11/", r[-1]["text"])
        self.assertTrue(self.answers(chat)["ngay_sinh_tre"].startswith("04/11/"))
        self.assertIn("con trai hay con gái", r[-1]["text"])
        r = chat.say("nhầm, mùng 5 tháng 11")                         # "mùng": was "Chưa rõ"
        self.assertTrue(self.answers(chat)["ngay_sinh_tre"].startswith("05/11/"))
        r = chat.say("con mèo")                                       # neither: asked again
        self.assertIn("Chưa rõ", r[-1]["text"])
        chat.say("bé gái")
        r = chat.say("bố")
        self.assertIn("xã/phường nào", r[-1]["text"])
        r = chat.say("nhầm, là mẹ cháu")                              # at the commune question
        self.assertIn('Đã sửa "Người đi khai là": Mẹ', r[-1]["text"])
        self.assertIn("xã/phường nào", r[-1]["text"])

    def test_another_procedure_typed_at_the_name_is_no_name(self):
        # At "Trẻ tên là gì?": "tôi muốn đăng ký kết hôn" was kept as the
        # child's name and the flow went on to the birth date.
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        r = chat.say("tôi muốn đăng ký kết hôn")
        self.assertNotIn("Trẻ sinh ngày nào", texts(r))
        self.assertIn("kết hôn", r[0]["text"])
        raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
        self.assertNotIn("ho_ten_tre", raw["flow"]["a"])
        self.assertIsNone(raw.get("mode"))                            # paused, "tiếp tục" goes on
        self.assertIn("Trẻ tên là gì", chat.say("tiếp tục")[-1]["text"])
        r = chat.say("Quàng Văn Hôn")                                 # a name is still a name
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])


class CodeTypedEarlyTest(DossierJourney):

    def test_the_code_typed_at_the_payment_screen_ends_the_flow(self):
        # At step 14/15 (the payment screen, "Xong, tiếp tục") the user, who
        # had submitted, typed "mã hồ sơ 000.00…": the flow was left
        # unfinished (no consent, no rating, not counted finished) and the
        # code looked up as if asked out of the blue.
        code = "000.00.12.H50-261120-0005"
        self.upload({"code": code, "procedure": "khai_sinh", "applicant_name": "Lò Văn Bình",
                     "phone": "0912345678", "status": "da_tiep_nhan",
                     "received_at": "2026-11-20T08:00:00+07:00"})
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        for typed in ("Lò Văn An", "hôm qua", "bé trai", "bố", "Chiềng Cơi"):
            r = chat.say(typed)
        for _ in range(15):
            if 'Màn hình "Thanh toán"' in r[-1]["text"]:
                break
            r = chat.press([p for p in payloads(r) if p.startswith("f:next:")][0])
        self.assertIn('Màn hình "Thanh toán"', r[-1]["text"])
        r = chat.say("mã hồ sơ " + code)
        self.assertIn("Đã ghi nhận mã hồ sơ " + code, texts(r))
        r = chat.say("5678")
        self.assertEqual(self.redis("SISMEMBER", "sub:" + code, chat.key), 1)
        self.assertIn("muốn lưu Xã/phường", texts(r))                  # the flow's closing questions
        status, _, body = self.bot.admin("GET", "/admin/stats", None, token=ADMIN_TOKEN)
        flows = json.loads(body)["flows"]["khai_sinh"]
        self.assertEqual((flows["finished"], flows["code_given"]), (1, 1))


class HelpingGrandparentTest(ServiceTest):
    telegram = False

    def test_an_age_said_in_words_picks_the_age_range(self):
        # A grandchild asking for a grandmother, at "Người đề nghị bao nhiêu
        # tuổi? [Từ 75 tuổi, Từ 70 đến dưới 75, Dưới 70]": "bà 80 tuổi rồi"
        # got "Chưa rõ anh/chị chọn gì" ("80" alone was taken).
        chat = Chat(self)
        r, _ = start_flow_past_checks(chat, "huu_tri_xa_hoi")
        self.assertIn("bao nhiêu tuổi", r[-1]["text"])
        r = chat.say("bà 80 tuổi rồi")
        self.assertNotIn("Chưa rõ", texts(r))
        flow = json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]
        self.assertEqual(flow["a"]["tuoi"], "Từ 75 tuổi")


class OfferNumberTest(ServiceTest):
    telegram = False

    def at_gender(self):
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Văn An")
        r = chat.say("3/11")
        self.assertIn("con trai hay con gái", r[-1]["text"])
        return chat

    def answers(self, chat):
        return json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]["a"]

    def test_a_number_under_the_resume_offer_presses_its_button(self):
        # Khai sinh left at "Bé là con trai hay con gái? [Nam, Nữ]", the page
        # opened again: "đang làm dở … tiếp tục? [Tiếp tục, Hủy hướng dẫn,
        # Menu chính]"; "1" was taken as "Nam (con trai)" and the flow went
        # on to the next question, "2" as "Nữ".
        chat = self.at_gender()
        r = chat.say("/start")
        self.assertIn("đang làm dở: Đăng ký khai sinh", r[0]["text"])
        r = chat.say("1")
        self.assertIn("con trai hay con gái", r[-1]["text"])          # Tiếp tục: the question again
        self.assertNotIn("gioi_tinh_tre", self.answers(chat))
        r = chat.say("1")                                             # now it is the answer
        self.assertEqual(self.answers(chat)["gioi_tinh_tre"], "Nam (con trai)")
        chat = self.at_gender()
        chat.say("chào em")
        r = chat.say("2")                                             # Hủy hướng dẫn
        self.assertIn("Đã dừng hướng dẫn Đăng ký khai sinh", r[0]["text"])

    def test_a_number_under_the_switch_offer_presses_its_button(self):
        # At the same question, "Hướng dẫn nộp trực tuyến" of tạm trú: "Làm
        # tiếp việc đang dở, hay bỏ để làm Đăng ký tạm trú? [Làm tiếp, Bỏ,
        # làm việc mới]"; "2" was taken as "Nữ (con gái)".
        chat = self.at_gender()
        r = chat.press("flow:tam_tru")
        self.assertIn("flow:tam_tru:new", payloads(r))
        r = chat.say("2")
        self.assertIn("Đăng ký tạm trú", texts(r))
        flow = json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]
        self.assertEqual(flow["id"], "tam_tru")


class StayLengthTest(ServiceTest):
    telegram = False

    def test_about_a_year_is_six_to_twelve_months(self):
        # Tạm trú, "Anh/chị ở đó bao lâu? [Dưới 6 tháng, 6–12 tháng, Trên 1
        # năm]": "ở khoảng 1 năm" was taken as "Trên 1 năm" (the words it
        # shares), "2" got "Chưa rõ anh/chị chọn gì" (read as 2 months).
        for typed, option in (("ở khoảng 1 năm", "6–12 tháng"), ("2", "6–12 tháng"),
                              ("hơn 1 năm", "Trên 1 năm"), ("chắc 3 tháng", "Dưới 6 tháng")):
            chat = Chat(self)
            start_flow_past_checks(chat, "tam_tru")
            r = chat.say("bản Nà Pản, số 5")
            self.assertIn("ở đó bao lâu", r[-1]["text"])
            r = chat.say(typed)
            self.assertNotIn("Chưa rõ", texts(r), typed)
            flow = json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]
            self.assertEqual(flow["a"]["thoi_han"], option, typed)


class CancelUndoTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def session(self, chat):
        return json.loads(self.redis("GET", "s:{%s}" % chat.key))

    def cancelled_at_the_birth_date(self):
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Văn An")
        r = chat.say("hủy")
        self.assertIn("Đã dừng hướng dẫn Đăng ký khai sinh", r[0]["text"])
        self.assertEqual(payloads(r)[0], "f:undo")
        return chat

    def test_a_cancel_by_mistake_is_taken_back(self):
        # "hủy" typed by mistake at "Trẻ sinh ngày nào?": "Đã dừng hướng
        # dẫn … Thông tin vừa nhập không được lưu", only "Làm lại từ đầu";
        # the child's name had to be typed again.
        for back in ("1", "tiếp tục"):                 # the button by its number, or typed
            chat = self.cancelled_at_the_birth_date()
            r = chat.say(back)
            self.assertIn("Đã mở lại hồ sơ vừa hủy", r[0]["text"], back)
            self.assertIn("Trẻ sinh ngày nào", r[-1]["text"], back)
            s = self.session(chat)
            self.assertEqual((s["mode"], s["flow"]["a"]["ho_ten_tre"]), ("flow", "Lò Văn An"))
            self.assertNotIn("fu", s)
            r = chat.say("3/11")                        # and it goes on
            self.assertIn("con trai hay con gái", r[-1]["text"])

    def test_an_undone_cancel_is_not_counted_abandoned(self):
        # /admin/stats after "hủy" then "Tiếp tục hồ sơ vừa hủy": started 2,
        # abandoned 1 for one flow the user went on with and finished.
        def counts():
            status, _, body = self.bot.admin("GET", "/admin/stats")
            self.assertEqual(status, 200)
            report = json.loads(body)
            f = report["flows"]["khai_sinh"]
            return f["started"], f["finished"], f["abandoned"], report["flows_in_progress"]
        base = counts()

        def since():
            return tuple(n - b for n, b in zip(counts(), base))
        chat = self.cancelled_at_the_birth_date()
        self.assertEqual(since(), (1, 0, 1, 0))
        chat.press("f:undo")
        self.assertEqual(since(), (1, 0, 0, 1))                 # in progress again
        walk(chat, "khai_sinh", replies=chat.press("f:resume"))
        self.assertEqual(since(), (1, 1, 0, 0))                 # finished once, never abandoned
        chat = self.cancelled_at_the_birth_date()               # undone by typing, then left for good
        chat.say("tiếp tục")
        self.assertEqual(since(), (2, 1, 0, 1))
        chat.say("hủy")
        self.assertEqual(since(), (2, 1, 1, 0))

    def test_the_cancelled_answers_go_after_half_an_hour(self):
        chat = self.cancelled_at_the_birth_date()
        self.bot.advance_clock(31 * 60)
        r = chat.press("f:undo")
        self.assertIn("không còn giữ", r[0]["text"])
        self.assertNotIn("Lò Văn An", self.redis("GET", "s:{%s}" % chat.key) or "")
        chat = self.cancelled_at_the_birth_date()
        self.bot.advance_clock(31 * 60)
        chat.say("xin chào")                            # any message after the half hour
        self.assertNotIn("Lò Văn An", self.redis("GET", "s:{%s}" % chat.key) or "")
        chat = self.cancelled_at_the_birth_date()
        chat.press("flow:tam_tru")                      # another flow started: left for good
        r = chat.press("f:undo")
        self.assertEqual(self.session(chat)["flow"]["id"], "tam_tru")
        self.assertNotIn("Lò Văn An", self.redis("GET", "s:{%s}" % chat.key))


class VolunteerJourney(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def volunteer(self, commune):
        """A volunteer staff added in the console for commune."""
        vol = Chat(self)
        console = Console(self.bot)
        console.sign_in(ADMIN_TOKEN)
        status, _ = console.call("POST", "volunteers", {"user": vol.key, "commune": commune})
        self.assertEqual(status, 200)
        return vol


class VolunteerCommuneTest(VolunteerJourney):

    def test_hotro_offers_the_volunteers_own_commune(self):
        # A volunteer the commune registered for Chiềng Cơi typed "/hotro":
        # "Người dân anh/chị đang hỗ trợ ở xã/phường nào? Gõ tên xã/phường"
        # with only "Thôi, không hỗ trợ"; "1" then was read as a commune name.
        vol = self.volunteer("Chiềng Cơi")
        r = vol.say("/hotro")
        self.assertIn("xã/phường nào", r[0]["text"])
        self.assertEqual(r[0]["buttons"][0][0], "Chiềng Cơi")
        self.assertTrue(r[0]["buttons"][0][1].startswith("vol:cm:"))
        r = vol.say("1")
        self.assertIn("Đang hỗ trợ người dân xã/phường Chiềng Cơi", r[0]["text"])
        vol.press("vol:start")                                   # another commune, typed
        r = vol.say("Mường Bú")
        self.assertIn("Đang hỗ trợ người dân xã/phường Mường Bú", r[0]["text"])
        other = self.volunteer("")                               # none registered: asked as before
        r = other.say("/hotro")
        self.assertEqual(payloads(r), ["vol:end"])

    def test_two_residents_in_a_row(self):
        vol = self.volunteer("Chiềng Cơi")
        vol.say("/hotro")
        vol.say("1")
        w = walk(vol, "tam_tru", code="000.00.12.H50-261120-0101")
        self.assertIn("Người dân theo dõi hồ sơ", w.replies[0]["text"])
        r = vol.press("vol:start")                               # "Hỗ trợ người khác"
        self.assertEqual(r[0]["buttons"][0][0], "Chiềng Cơi")
        r = vol.say("1")
        self.assertIn("Đang hỗ trợ người dân xã/phường Chiềng Cơi", r[0]["text"])
        r = vol.press("flow:khai_sinh")
        self.assertNotIn("f:prof:yes", payloads(r))              # nothing of the first resident
        self.assertNotIn("đang làm dở", texts(r))
        w = walk(vol, "khai_sinh", replies=r)
        self.assertIn("Người dân là gì của trẻ?", dict(w.questions)["quan_he"])
        self.assertIn("Xã/phường: Chiềng Cơi", w.screen_text("find"))
        self.assertEqual(self.redis("EXISTS", "p:{%s}" % vol.key), 0)


class VolunteerWordingTest(VolunteerJourney):

    def test_an_assisted_flow_speaks_of_the_resident(self):
        # In a flow run for a resident the volunteer read "Anh/chị đã có tài
        # khoản VNeID mức 2 chưa?", "Anh/chị ở đó bao lâu?" and at the end
        # "Tôi sẽ nhắn anh/chị khi hồ sơ có kết quả" (the volunteer is not
        # notified: the resident follows the dossier on their own phone).
        vol = self.volunteer("Chiềng Cơi")
        vol.say("/hotro")
        vol.say("1")
        r = vol.press("flow:tam_tru")
        self.assertIn("Người dân đã có tài khoản VNeID mức 2 chưa?", r[-1]["text"])
        w = walk(vol, "tam_tru", replies=r)
        asked = dict(w.questions)
        self.assertIn("Người dân ở đó bao lâu?", asked["thoi_han"])
        self.assertIn("người dân ở tạm", asked["dia_chi_tam_tru"])
        self.assertNotIn("Anh/chị", "\n".join(asked.values()))
        self.assertNotIn("Tôi sẽ nhắn anh/chị", w.replies[-1]["text"])
        self.assertIn("hh:start", payloads(w.replies))
        resident = Chat(self)                                    # a resident on their own: as before
        r = resident.press("flow:tam_tru")
        self.assertIn("Anh/chị đã có tài khoản VNeID mức 2 chưa?", r[-1]["text"])
        w = walk(resident, "tam_tru", replies=r)
        self.assertIn("Anh/chị ở đó bao lâu?", dict(w.questions)["thoi_han"])
        self.assertIn("Tôi sẽ nhắn anh/chị", w.replies[-1]["text"])


class VolunteerResidentWordsTest(VolunteerJourney):

    def test_choices_summaries_and_the_menu_speak_of_the_resident(self):
        # Assisting, the volunteer read "Anh/chị cần làm thủ tục về việc gì?"
        # (the topics), "Chọn thủ tục anh/chị cần", the option "Chính
        # anh/chị" for who receives the allowance and "Người hưởng: Chính
        # anh/chị" on the portal screen: as if the volunteer were the applicant.
        vol = self.volunteer("Chiềng Cơi")
        vol.say("/hotro")
        r = vol.say("1")
        self.assertIn("Người dân cần làm thủ tục về việc gì?", texts(r))
        self.assertNotIn("Anh/chị cần làm thủ tục", texts(r))
        group = [p for p in payloads(r) if p.startswith("menu:thu_tuc:")][0]
        r = vol.press(group)
        self.assertIn("Chọn thủ tục người dân cần", r[0]["text"])
        vol.press("flow:tro_cap_xa_hoi")
        vol.press("f:yes:0")
        vol.press("f:yes:1")
        r = vol.press("f:opt:2:0")
        self.assertIn("Ai được hưởng trợ cấp?", r[-1]["text"])
        labels = [label for label, _ in r[-1]["buttons"]]
        self.assertIn("Chính người dân", labels)
        self.assertNotIn("Chính anh/chị", labels)
        r = vol.say("chinh nguoi dan")                           # the option as shown, typed
        self.assertNotIn("Chưa rõ", texts(r))
        s = json.loads(self.redis("GET", "s:{%s}" % vol.key))
        self.assertEqual(s["flow"]["a"]["nguoi_lam"], "Chính anh/chị")  # the answer itself is the option
        w = walk(vol, "tro_cap_xa_hoi", replies=r)
        self.assertIn("Người hưởng: Chính người dân", w.screen_text("form"))
        self.assertNotIn("anh/chị", w.screen_text("form").replace("Anh/chị", "anh/chị").split("Điền")[-1])
        resident = Chat(self)                                    # on their own: as before
        r = resident.press("menu:thu_tuc")
        self.assertIn("Anh/chị cần làm thủ tục về việc gì?", r[0]["text"])
        w = walk(resident, "tro_cap_xa_hoi")
        self.assertIn("Người hưởng: Chính anh/chị", w.screen_text("form"))


class VolunteerRatingTest(VolunteerJourney):

    def stats(self):
        status, _, body = self.bot.admin("GET", "/admin/stats")
        self.assertEqual(status, 200)
        return json.loads(body)

    def test_the_volunteer_is_not_asked_the_residents_satisfaction(self):
        # After each flow run for a resident the volunteer got "Anh/chị hài
        # lòng với hướng dẫn … ở mức nào?" and their stars counted in the
        # residents' satisfaction (the ≥ 95 % figure).
        vol = self.volunteer("Chiềng Cơi")
        vol.say("/hotro")
        vol.say("1")
        before = self.stats()
        w = walk(vol, "tam_tru", code="000.00.12.H50-261120-0201")
        self.assertNotIn("rate:5", payloads(w.replies))
        self.assertNotIn("hài lòng", texts(w.replies))
        self.assertIn("hh:start", payloads(w.replies))
        r = vol.say("5")                                        # no rating waits for it
        walk(vol, "tam_tru")
        r = vol.press("f:nocode")                               # "Để sau"
        self.assertIn("người dân nhắn cho bot", r[0]["text"])
        self.assertNotIn("rate:5", payloads(r))
        self.assertEqual(payloads(r)[:2], ["hh:start", "vol:start"])
        after = self.stats()
        self.assertEqual(after["satisfaction"].get("tam_tru"), before["satisfaction"].get("tam_tru"))
        f = after["flows"]["tam_tru"]
        self.assertEqual((f["finished"], f["assisted"]), (2, 2))
        resident = Chat(self)                                   # on their own: asked
        walk(resident, "tam_tru")
        r = resident.press("f:nocode")
        if "consent:no" in payloads(r):                         # keeping the commune, asked first
            r = resident.press("consent:no")
        self.assertIn("rate:5", payloads(r))
        resident.press("rate:5")
        after = self.stats()
        self.assertEqual(after["satisfaction"]["tam_tru"]["count"], 1)
        self.assertEqual(after["flows"]["tam_tru"]["assisted"], 2)


class VolunteerOwnFlowTest(VolunteerJourney):

    def own_flow_at_the_birth_date(self, chat):
        start_flow_past_checks(chat, "khai_sinh")
        r = chat.say("Lò Văn An")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])

    def test_hotro_typed_mid_flow_asks_and_sets_the_flow_aside(self):
        # "/hotro" typed by a volunteer at "Trẻ sinh ngày nào?" of their own
        # flow got "Họ tên chỉ gồm chữ cái" / "Chưa đọc được ngày": assisting
        # never started.
        vol = self.volunteer("Chiềng Cơi")
        self.own_flow_at_the_birth_date(vol)
        r = vol.say("/hotro")
        self.assertIn("Anh/chị đang làm dở: Đăng ký khai sinh", r[0]["text"])
        self.assertEqual(payloads(r), ["vol:start", "f:resume"])
        r = vol.say("2")                                        # "Làm tiếp việc đang dở"
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        vol.say("/hotro")
        r = vol.say("1")                                        # "Tạm dừng, hỗ trợ người dân"
        self.assertIn("xã/phường nào", r[0]["text"])
        vol.say("1")
        r = vol.press("flow:tam_tru")                           # the resident's: no "bỏ việc đang dở?"
        self.assertNotIn("đang làm dở", texts(r))
        self.assertIn("Người dân đã có tài khoản VNeID", r[-1]["text"])
        walk(vol, "tam_tru", replies=r, code="000.00.12.H50-261120-0301")
        r = vol.press("vol:end")                                # assisting ends: the own flow is back
        self.assertIn("Việc anh/chị đang làm dở: Đăng ký khai sinh", r[0]["text"])
        self.assertEqual(payloads(r)[0], "f:resume")
        r = vol.press("f:resume")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        r = vol.say("3/11/2025")
        self.assertIn("con trai hay con gái", r[-1]["text"])
        s = json.loads(self.redis("GET", "s:{%s}" % vol.key))
        self.assertEqual(s["flow"]["a"]["ho_ten_tre"], "Lò Văn An")
        self.assertNotIn("fh", s)

    def test_start_after_assisting_offers_the_own_flow_back(self):
        vol = self.volunteer("Chiềng Cơi")
        self.own_flow_at_the_birth_date(vol)
        vol.say("/hotro")
        vol.press("vol:start")
        vol.say("1")
        r = vol.say("/start")
        self.assertIn("Anh/chị đang làm dở: Đăng ký khai sinh", r[0]["text"])
        self.assertNotIn("assist", json.loads(self.redis("GET", "s:{%s}" % vol.key)))

    def test_hotro_typed_mid_flow_by_a_resident_keeps_the_flow(self):
        resident = Chat(self)
        self.own_flow_at_the_birth_date(resident)
        r = resident.say("/hotro")
        self.assertIn("Tổ công nghệ số cộng đồng", r[0]["text"])
        self.assertEqual(payloads(r)[0], "f:resume")
        r = resident.say("3/11/2025")                           # the flow still runs
        self.assertIn("con trai hay con gái", r[-1]["text"])


class SentTwiceTest(ServiceTest):
    telegram = False

    def session(self, chat):
        return json.loads(self.redis("GET", "s:{%s}" % chat.key))

    def test_an_answer_sent_twice_is_not_the_next_answer(self):
        # On a weak network each answer arrived twice: "Lò Văn An" again at
        # "Trẻ sinh ngày nào?" got "Chưa đọc được ngày", "bé trai" again at
        # "Anh/chị là gì của trẻ?" "Chưa rõ anh/chị chọn gì" (counted toward
        # "Câu này có vẻ khó"), and "Chiềng Cơi" again at the login
        # instruction left the flow with the answer about the commune.
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        for typed, now_asked in (("Lò Văn An", "Trẻ sinh ngày nào"), ("3/11", "con trai hay con gái"),
                                 ("bé trai", "là gì của trẻ"), ("bố", "xã/phường nào"),
                                 ("Chiềng Cơi", 'Màn hình "Đăng nhập"')):
            r = chat.say(typed)
            self.assertIn(now_asked, r[-1]["text"], typed)
            r = chat.say(typed)                                   # the same message again
            self.assertIn("đã nhận rồi", r[0]["text"], typed)
            self.assertIn(now_asked, r[-1]["text"], typed)
            self.assertEqual((self.session(chat)["mode"], self.session(chat)["flow"]["f"]), ("flow", 0))
        flow = self.session(chat)["flow"]
        self.assertEqual(flow["a"]["ho_ten_tre"], "Lò Văn An")
        self.assertNotIn("Lò Văn An", json.dumps(flow["ty"]))      # a hash, not the text

    def test_much_later_or_when_it_answers_it_is_an_answer(self):
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Văn An")
        self.bot.advance_clock(15 * 60)                            # not a resend any more
        r = chat.say("Lò Văn An")
        self.assertIn("Chưa đọc được ngày", r[0]["text"])
        chat = Chat(self)                                          # "không" twice: two answers
        start_flow_past_checks(chat, "huu_tri_xa_hoi")
        chat.say("bà 80 tuổi rồi")
        r = chat.say("không")
        self.assertIn("lương hưu", r[-1]["text"])
        r = chat.say("không")
        self.assertNotIn("đã nhận rồi", texts(r))
        self.assertEqual(self.session(chat)["flow"]["a"]["luong_huu"], "Không có")


class NoAgencyTest(DossierJourney):

    def test_a_dossier_without_its_agency_names_no_dash(self):
        # A dossier staff uploaded without "agency", waiting for its fee:
        # "… thanh toán trực tuyến bằng nút bên dưới hoặc nộp tại —."
        self.upload({"code": CODE, "procedure": "khai_sinh", "applicant_name": "Lò Văn Bình",
                     "phone": "0912345678", "status": "cho_thanh_toan", "fee": 8000, "paid": False,
                     "received_at": "2026-11-20T08:00:00+07:00"})
        chat = Chat(self)
        chat.say("tra cứu hồ sơ " + CODE)
        r = chat.say("5678")
        self.assertIn("hoặc nộp tại nơi đã nhận hồ sơ.", texts(r))
        self.assertNotIn("tại —", texts(r))
        self.assertIn("Nơi giải quyết: —", texts(r))                  # the field itself: unknown
        self.upload({"code": CODE, "procedure": "khai_sinh", "applicant_name": "Lò Văn Bình",
                     "phone": "0912345678", "status": "can_bo_sung", "agency": "UBND phường Chiềng Cơi",
                     "received_at": "2026-11-20T08:00:00+07:00"})
        r = chat.press("hs:code:" + CODE)
        self.assertIn("mang đến UBND phường Chiềng Cơi", texts(r))


class EditSaidTest(ServiceTest):
    telegram = False

    def test_an_edited_answer_is_said_back(self):
        # Tạm trú at the login screen: "sửa địa chỉ", the new address typed:
        # back at the login screen with no word that the address changed.
        chat = Chat(self)
        start_flow_past_checks(chat, "tam_tru")
        chat.say("bản Nà Pản, số 5")
        chat.say("khoảng 1 năm")
        r = chat.say("Chiềng Cơi")
        self.assertIn('Màn hình "Đăng nhập"', r[-1]["text"])
        r = chat.say("sửa địa chỉ")
        self.assertIn("Giữ: bản Nà Pản, số 5", [label for label, _ in r[-1]["buttons"]])
        r = chat.say("bản Nà Pản, số 7")
        self.assertIn('Đã sửa "Địa chỉ tạm trú": bản Nà Pản, số 7.', r[-1]["text"])
        self.assertIn('Màn hình "Đăng nhập"', r[-1]["text"])
        r = chat.say("sửa thời hạn")
        r = chat.press([p for p in payloads(r) if p.startswith("f:keep:")][0])   # kept: nothing said
        self.assertNotIn("Đã sửa", r[-1]["text"])
        self.assertIn('Màn hình "Đăng nhập"', r[-1]["text"])
