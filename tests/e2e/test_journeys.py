"""Whole journeys a tester walked as a villager, each test one thing found
wrong on the way (the reply it got is in its comment): the menu's number
typed right after the greeting, a dossier's digits typed again after a
wrong try, erasing data in the middle of a guided flow. Against a real
Redis, through the web chat and the Telegram stub."""
import json

from harness import ADMIN_TOKEN, Chat, ServiceTest, payloads, start_flow_past_checks, texts

CODE = "000.00.12.H50-261120-0004"


class GreetingNumberTest(ServiceTest):

    def test_a_number_right_after_the_greeting_presses_the_menu(self):
        # A new user: "/start" (or "xin chào"), then "2" got "Xin lỗi, tôi
        # chưa hiểu câu hỏi" (no session was kept for a greeting).
        for channel, first in (("telegram", "/start"), ("webchat", "xin chào"), ("telegram", "chào em")):
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


class LookupRetryTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def upload(self, record):
        status, _, _ = self.bot.admin("POST", "/admin/dossiers", json.dumps([record]).encode(),
                                      token=ADMIN_TOKEN, headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200)

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

    def test_the_erasure_says_no_empty_list(self):
        # "Đã gỡ anh/chị khỏi 0 danh sách dùng chung."
        chat = Chat(self)
        chat.say("khai sinh")
        chat.say("xóa dữ liệu của tôi")
        r = chat.press("erase:yes")
        self.assertIn("Đã xóa", r[0]["text"])
        self.assertNotIn(" 0 danh sách", r[0]["text"])
