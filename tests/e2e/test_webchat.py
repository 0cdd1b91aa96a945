"""The web chat: page, message API, validation, inbox."""
import json

from harness import ServiceTest


class WebchatTest(ServiceTest):
    telegram = False

    def test_page_loads_in_vietnamese(self):
        status, headers, body = self.bot.request("GET", "/webchat")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        page = body.decode()
        self.assertIn('lang="vi"', page)
        self.assertIn("/webchat/messages", page)

    def test_start_message_gets_the_menu_with_buttons(self):
        status, data = self.bot.webchat("webuser0001", "/start")
        self.assertEqual(status, 200)
        reply = data["replies"][0]
        self.assertIn("Xin chào", reply["text"])
        labels = [b["label"] for b in reply["buttons"]]
        self.assertEqual(labels, ["Thủ tục", "Tra cứu hồ sơ", "Thanh toán", "Hỗ trợ"])

    def test_greeting_without_diacritics_gets_the_menu(self):
        status, data = self.bot.webchat("webuser0002", "xin chao")
        self.assertEqual(status, 200)
        self.assertIn("Xin chào", data["replies"][0]["text"])

    def test_menu_button_is_understood(self):
        status, data = self.bot.webchat("webuser0003", button="menu")
        self.assertEqual(status, 200)
        self.assertTrue(data["replies"][0]["buttons"])

    def test_bad_json_is_400(self):
        status, _, body = self.bot.request("POST", "/webchat/messages", b"{not json",
                                           {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn("error", json.loads(body))

    def test_bad_user_id_is_400(self):
        status, _, _ = self.bot.request("POST", "/webchat/messages", {"user": "x y", "text": "hi"})
        self.assertEqual(status, 400)

    def test_inbox_is_empty_then_delivers_once(self):
        user = "webuser0004"
        self.redis("RPUSH", "wc:inbox:{wc:%s}" % user, json.dumps({"text": "Hồ sơ đã có kết quả", "buttons": []}))
        status, _, body = self.bot.request("GET", "/webchat/messages?user=" + user)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["replies"][0]["text"], "Hồ sơ đã có kết quả")
        status, _, body = self.bot.request("GET", "/webchat/messages?user=" + user)
        self.assertEqual(json.loads(body)["replies"], [])
