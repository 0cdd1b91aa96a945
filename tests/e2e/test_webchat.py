"""The web chat: page, message API, validation, inbox."""
import json

from harness import ADMIN_TOKEN, ServiceTest, wait_until
from test_dossiers import ndjson, record


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


class WebchatPageTest(ServiceTest):
    """What the browser gets besides the chat: HEAD, ETag, the icon."""
    telegram = False

    def test_head_answers_like_get_without_a_body(self):
        status, got, page = self.bot.request("GET", "/webchat")
        status_h, head, body = self.bot.request("HEAD", "/webchat")
        self.assertEqual((status, status_h), (200, 200))
        self.assertEqual(body, b"")
        for name in ("Content-Type", "Content-Length", "ETag", "Content-Security-Policy"):
            self.assertEqual(head[name], got[name])
        self.assertEqual(int(head["Content-Length"]), len(page))

    def test_page_under_50_kb_with_limits_filled_in_and_revalidated_by_etag(self):
        status, headers, page = self.bot.request("GET", "/webchat")
        self.assertLess(len(page), 50 * 1024)
        self.assertNotIn(b"{{", page)                       # {{max_chars}}, {{poll_s}} filled in
        self.assertIn(b"2000", page)
        status, again, body = self.bot.request("GET", "/webchat", headers={"If-None-Match": headers["ETag"]})
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(again["ETag"], headers["ETag"])
        status, _, body = self.bot.request("GET", "/webchat", headers={"If-None-Match": '"other"'})
        self.assertEqual((status, body), (200, page))

    def test_favicon_is_answered_without_an_error(self):
        status, headers, body = self.bot.request("GET", "/favicon.ico")
        self.assertEqual((status, body), (204, b""))
        self.assertIn("max-age", headers["Cache-Control"])
        self.assertNotIn("Content-Length", headers)


class WebchatHistoryTest(ServiceTest):
    """Length limit, history for reloads, polling with a cursor, resending."""
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def post(self, body):
        status, _, data = self.bot.request("POST", "/webchat/messages", body)
        return status, json.loads(data)

    def history(self, user, cursor="0"):
        status, headers, data = self.bot.request("GET", "/webchat/messages?user=%s&after=%s" % (user, cursor))
        return status, (json.loads(data) if data else None)

    def test_limit_is_characters_and_the_refusal_is_polite_vietnamese(self):
        user = "histuser0001"
        status, data = self.post({"user": user, "text": "ệ" * 2000})    # 6 000 bytes
        self.assertEqual(status, 200, data)
        self.assertTrue(data["replies"])
        status, data = self.post({"user": user, "text": "ệ" * 2001})
        self.assertEqual(status, 400)
        self.assertIn("Tin nhắn dài quá: 2001 ký tự, tối đa 2000 ký tự", data["error"])
        status, data = self.history(user)
        self.assertEqual([len(i["text"]) for i in data["items"] if i["from"] == "me"], [2000])

    def test_conversation_comes_back_after_a_reload_without_the_start(self):
        user = "histuser0002"
        self.post({"user": user, "text": "/start"})
        status, first = self.post({"user": user, "text": "xin chào"})
        status, second = self.post({"user": user, "button": "menu:thu_tuc", "label": "Thủ tục"})
        status, data = self.history(user)
        self.assertEqual(status, 200)
        items = data["items"]
        self.assertEqual([(i["from"], i["text"]) for i in items[:2]],
                         [("me", "xin chào"), ("bot", first["replies"][0]["text"])])
        self.assertEqual(items[2]["text"], "Thủ tục")               # the button as the user saw it
        self.assertEqual([i["id"] for i in items],
                         [first["id"]] + first["ids"] + [second["id"]] + second["ids"])
        self.assertEqual(items[1]["buttons"], first["replies"][0]["buttons"])
        self.assertEqual(data["cursor"], items[-1]["id"])
        status, nothing = self.history(user, data["cursor"])
        self.assertEqual((status, nothing), (204, None))            # polling costs no body
        ttl = self.redis("TTL", "wc:hist:{wc:%s}" % user)
        self.assertGreater(ttl, 7 * 24 * 3600 - 60)                 # DVCBOT_SESSION_TTL, as the session
        self.assertLessEqual(ttl, 7 * 24 * 3600)
        self.assertEqual(self.history(user, "not-a-cursor")[0], 400)

    def test_notification_reaches_the_polling_page_after_its_cursor(self):
        code = "HIS.00.00.H50-000000-0001"
        status, _, body = self.bot.admin("POST", "/admin/dossiers", ndjson([record(code)]))
        self.assertEqual(status, 200, body)
        user = "histuser0003"
        for text in ("tra cứu hồ sơ", code, "5678"):
            self.post({"user": user, "text": text})
        self.post({"user": user, "button": "hs:sub:" + code, "label": "Nhận thông báo"})
        cursor = self.history(user)[1]["cursor"]
        self.bot.admin("POST", "/admin/dossiers", ndjson([record(code, status="can_bo_sung", note="Thiếu ảnh")]))
        status, data = wait_until(lambda: (lambda r: r if r[0] == 200 else None)(self.history(user, cursor)),
                                  what="the notice after the cursor")
        self.assertEqual(len(data["items"]), 1)
        self.assertEqual(data["items"][0]["from"], "bot")
        self.assertIn(code, data["items"][0]["text"])
        self.assertEqual(self.redis("EXISTS", "wc:inbox:{wc:%s}" % user), 0)  # read there, not twice

    def test_a_message_sent_again_with_its_id_is_answered_once(self):
        user = "histuser0004"
        status, first = self.post({"user": user, "text": "khai sinh", "id": "m1-abc"})
        self.assertTrue(first["replies"])
        status, again = self.post({"user": user, "text": "khai sinh", "id": "m1-abc"})
        self.assertEqual((status, again["replies"]), (200, []))
        items = self.history(user)[1]["items"]
        self.assertEqual([i["text"] for i in items if i["from"] == "me"], ["khai sinh"])
        self.assertEqual(self.post({"user": user, "text": "x", "id": "bad id!"})[0], 400)

    def test_erase_my_data_takes_the_history_and_leaves_no_key(self):
        user = "histuser0005"
        self.post({"user": user, "text": "xin chào"})
        status, data = self.post({"user": user, "text": "xóa dữ liệu của tôi"})
        self.assertIn("erase:yes", [b["payload"] for b in data["replies"][0]["buttons"]])
        status, data = self.post({"user": user, "button": "erase:yes", "label": "Xóa"})
        self.assertIn("Lịch sử trò chuyện trên trang web", data["replies"][0]["text"])
        self.assertNotIn("ids", data)                                 # the answer was not kept
        self.assertEqual([k for k in self.redis.keys() if user in k], [])
