"""Wrong answers found while attacking the service: each message gets the
answer it asks for."""
import json

from harness import ADMIN_TOKEN, Chat, ServiceTest, payloads, texts, tg_message
from test_dossiers import ndjson, record

STAFF_CHAT = -1009876543210


class WrongAnswersTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_STAFF_CHATS": str(STAFF_CHAT)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, _, body = cls.bot.admin("POST", "/admin/dossiers",
                                        ndjson([record("WRG.00.00.H50-000000-0001")]))
        assert status == 200, body

    def test_a_lookup_after_a_rating_is_handled_not_stored_as_a_comment(self):
        chat = Chat(self)
        self.assertIn("fb:skip", payloads(chat.press("rate:5")))
        r = chat.say("tra cứu hồ sơ WRG.00.00.H50-000000-0001")
        self.assertIn("4 chữ số cuối", texts(r))
        self.assertEqual(self.redis("EXISTS", "fb:{%s}" % chat.key), 0)
        self.assertIn("Đang xử lý", texts(chat.say("5678")))
        # A real comment after a rating is still kept.
        other = Chat(self)
        other.press("rate:4")
        other.say("Bot trả lời nhanh, dễ hiểu")
        third = Chat(self)
        third.press("rate:2")
        third.say("hồ sơ của tôi xử lý chậm quá")
        for who, said in ((other, "Bot trả lời nhanh, dễ hiểu"), (third, "hồ sơ của tôi xử lý chậm quá")):
            comments = [json.loads(c)["comment"] for c in self.redis("LRANGE", "fb:{%s}" % who.key, 0, -1)]
            self.assertEqual(comments, [said])

    def test_hotro_with_a_commune_at_the_commune_prompt_takes_the_commune(self):
        vol = Chat(self)
        status, _ = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]})
        self.assertEqual(status, 200)
        self.assertIn("xã/phường nào", texts(vol.say("/hotro")))
        r = vol.say("/hotro Chiềng Sinh")
        self.assertIn("Chiềng Sinh", texts(r))
        session = json.loads(self.redis("GET", "s:{%s}" % vol.key))
        self.assertEqual(session["assist"]["commune"], "Chiềng Sinh")
        # Any other command is not a commune either.
        self.assertIn("xã/phường nào", texts(vol.press("vol:start")))
        self.assertIn("xã/phường nào", texts(vol.say("/abc Mường La")))
        session = json.loads(self.redis("GET", "s:{%s}" % vol.key))
        self.assertNotIn("assist", session)

    def test_an_edited_message_is_not_handled_again(self):
        chat = Chat(self, "telegram")
        chat.say("tra cứu hồ sơ WRG.00.00.H50-000000-0001")
        before = len(self.tg.sent_to(chat.chat))
        update = tg_message(self.next_id(), chat.user, "1234")
        update["edited_message"] = update.pop("message")
        status, _, _ = self.bot.telegram(update)
        self.assertEqual(status, 200)
        self.assertIn("Đang xử lý", texts(chat.say("5678")))  # the PIN step is still waiting
        sent = [c["json"]["text"] for c in self.tg.sent_to(chat.chat)[before:]]
        self.assertEqual(len(sent), 1, sent)
        self.assertEqual(self.redis("KEYS", "hs:g:d:*"), [])  # no wrong try was counted

    def test_a_staff_reply_to_an_impossible_ticket_number_gets_the_staff_help(self):
        staff = Chat(self, "telegram", user=7000000555, chat=STAFF_CHAT)
        r = texts(staff.say("/reply 99999999999999999999999 hi"))
        self.assertIn("Lệnh cho cán bộ", r)
        self.assertNotIn("9223372036854775807", r)
        self.assertNotIn("chưa hiểu", r)
        r = texts(staff.say("/close 99999999999999999999999"))
        self.assertIn("Lệnh cho cán bộ", r)
