"""Telegram end to end: webhook → dialog → sendMessage on a local Bot API stub.

What must NOT happen is shown without sleeping: one user's messages are
handled in order, so once a later message of the same user (a probe) is
handled and its reply delivered, anything before it is over."""
import concurrent.futures
import json

from harness import TG_SECRET, ServiceTest, buttons_of, delivered, delivery_mark, settle, tg_callback, \
    tg_message, wait_until


def probe(test, user, update_id=None):
    """Sends the user a /start and waits until it is handled and every reply
    delivered."""
    mark = delivery_mark(test)
    assert test.bot.telegram(tg_message(update_id or test.next_id(), user, "/start"))[0] == 200
    settle(test, mark)


class TelegramTest(ServiceTest):

    def send(self, update, secret=TG_SECRET):
        status, _, _ = self.bot.telegram(update, secret)
        return status

    def test_start_greets_with_menu_buttons(self):
        user = self.new_user()
        self.assertEqual(self.send(tg_message(self.next_id(), user, "/start")), 200)
        call = wait_until(lambda: self.tg.sent_to(user), what="sendMessage")[0]
        body = call["json"]
        self.assertEqual(body["chat_id"], user)
        self.assertEqual(body["parse_mode"], "HTML")
        self.assertIn("Xin chào", body["text"])
        self.assertEqual([b[0] for b in buttons_of(call)], ["Thủ tục", "Tra cứu hồ sơ", "Thanh toán", "Hỗ trợ"])
        for _, data in buttons_of(call):
            self.assertLessEqual(len(data.encode()), 64)

    def test_forged_secret_is_401_and_nothing_is_sent(self):
        user = self.new_user()
        self.assertEqual(self.send(tg_message(self.next_id(), user, "/start"), secret="wrong"), 401)
        self.assertEqual(self.send(tg_message(self.next_id(), user, "/start"), secret=None), 401)
        probe_id = self.next_id()
        probe(self, user, probe_id)
        self.assertEqual(len(self.tg.sent_to(user)), 1)
        # Only the probe was handled (a handled update leaves its mark in the
        # user's index of events, and no key of its own).
        self.assertEqual(self.redis("ZRANGE", "dd:{tg:%d}" % user, 0, -1), [str(probe_id)])
        self.assertEqual(self.redis.keys("dd:{tg:%d}:*" % user), [])
        # the probe (/start) leaves only the menu it showed, for a typed "2"
        session = json.loads(self.redis("GET", "s:{tg:%d}" % user) or "{}")
        self.assertEqual(list(session), ["nb"])

    def test_duplicate_update_is_answered_once(self):
        user = self.new_user()
        update = tg_message(self.next_id(), user, "/start")
        self.assertEqual(self.send(update), 200)
        self.assertEqual(self.send(update), 200)
        wait_until(lambda: self.tg.sent_to(user), what="first reply")
        probe(self, user)
        self.assertEqual(len(self.tg.sent_to(user)), 2)  # the first and the probe's

    def test_unknown_update_types_are_ignored_with_200(self):
        status = self.send({"update_id": self.next_id(), "channel_post": {"message_id": 1}})
        self.assertEqual(status, 200)

    def test_malformed_update_is_400(self):
        status, _, _ = self.bot.request("POST", "/webhook/telegram", b"{oops",
                                        {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
        self.assertEqual(status, 400)
        self.assertEqual(self.send({"message": {"text": "no update id"}}), 400)

    def test_button_press_is_answered_and_acknowledged(self):
        user = self.new_user()
        update = tg_callback(self.next_id(), user, "menu")
        self.assertEqual(self.send(update), 200)
        acks = wait_until(lambda: [c for c in self.tg.of("answerCallbackQuery")
                                   if c["json"]["callback_query_id"] == update["callback_query"]["id"]],
                          what="answerCallbackQuery")
        self.assertEqual(len(acks), 1)
        wait_until(lambda: self.tg.sent_to(user), what="menu reply")

    def test_photo_gets_polite_text_only_reply(self):
        user = self.new_user()
        update = tg_message(self.next_id(), user, "x")
        del update["message"]["text"]
        update["message"]["photo"] = [{"file_id": "abc", "width": 1, "height": 1}]
        self.assertEqual(self.send(update), 200)
        call = wait_until(lambda: self.tg.sent_to(user), what="reply")[0]
        self.assertIn("chữ", call["json"]["text"])

    def test_429_is_retried_after_retry_after(self):
        user = self.new_user()
        self.tg.script("sendMessage", (429, {"ok": False, "error_code": 429,
                                             "description": "Too Many Requests: retry after 1",
                                             "parameters": {"retry_after": 1}}))
        self.send(tg_message(self.next_id(), user, "/start"))
        calls = wait_until(lambda: len(self.tg.sent_to(user)) >= 2 and self.tg.sent_to(user), 6,
                           what="retried sendMessage")
        gap = calls[1]["time"] - calls[0]["time"]
        self.assertGreaterEqual(gap, 0.95)
        self.assertEqual(calls[0]["status"], 429)
        self.assertEqual(calls[1]["status"], 200)

    def test_5xx_is_retried_with_backoff(self):
        user = self.new_user()
        self.tg.script("sendMessage", (502, {"ok": False}), (500, {"ok": False}))
        self.send(tg_message(self.next_id(), user, "/start"))
        calls = wait_until(lambda: len(self.tg.sent_to(user)) >= 3 and self.tg.sent_to(user), 6,
                           what="third attempt")
        self.assertEqual([c["status"] for c in calls[:3]], [502, 500, 200])

    def test_403_marks_user_blocked_and_stops_sending(self):
        user = self.new_user()
        self.tg.script("sendMessage", (403, {"ok": False, "error_code": 403,
                                             "description": "Forbidden: bot was blocked by the user"}))
        self.send(tg_message(self.next_id(), user, "/start"))
        wait_until(lambda: self.redis("SISMEMBER", "blocked:telegram", str(user)) == 1,
                   what="blocked mark in redis")
        self.assertEqual(len(self.tg.sent_to(user)), 1)
        m = self.bot.metrics()
        self.assertGreaterEqual(m.get('dvcbot_send_errors_total{channel="telegram",reason="blocked"}', 0), 1)

    def test_blocked_user_who_writes_again_is_unblocked(self):
        user = self.new_user()
        self.tg.script("sendMessage", (403, {"ok": False, "error_code": 403, "description": "Forbidden"}))
        self.send(tg_message(self.next_id(), user, "/start"))
        wait_until(lambda: self.redis("SISMEMBER", "blocked:telegram", str(user)) == 1, what="blocked")
        self.send(tg_message(self.next_id(), user, "/start"))
        wait_until(lambda: len(self.tg.sent_to(user)) >= 2, what="reply after unblocking")
        self.assertEqual(self.redis("SISMEMBER", "blocked:telegram", str(user)), 0)

    def test_messages_of_one_user_are_answered_in_order(self):
        user = self.new_user()
        texts = ["/start", "xin chao", "menu", "/start", "xin chao"]
        for t in texts:
            self.send(tg_message(self.next_id(), user, t))
        calls = wait_until(lambda: len(self.tg.sent_to(user)) >= len(texts) and self.tg.sent_to(user),
                           what="all replies")
        ids = [c["time"] for c in calls]
        self.assertEqual(ids, sorted(ids))


    def test_typed_messages_sent_at_once_are_each_counted(self):
        # Counts of one loop turn are added up in memory and written at its
        # end: many webhooks at once must still count one each, before the
        # webhooks are answered.
        def counts():
            intents = self.redis("HGETALL", "{stats}:intents")
            per_intent = {intents[i]: int(intents[i + 1]) for i in range(0, len(intents), 2)}
            msg = khac = 0
            for key in self.redis.keys("{stats}:day:*"):
                msg += int(self.redis("HGET", key, "msg") or 0)
                khac += int(self.redis("HGET", key, "msg_khac") or 0)
            return per_intent, msg, khac
        texts = ["qwzx vbnm plkj", "làm giấy khai sinh cho con", "xin chào"]
        updates = [tg_message(self.next_id(), self.new_user(), texts[i % 3]) for i in range(24)]
        before, msg0, khac0 = counts()
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            self.assertEqual(list(pool.map(self.send, updates)), [200] * 24)
        after, msg1, khac1 = counts()
        added = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        self.assertEqual(sum(added.values()), 24, added)
        self.assertEqual(msg1 - msg0, 24)
        self.assertEqual(khac1 - khac0, added.get("khac", 0))
        self.assertGreaterEqual(added.get("khac", 0), 8)


class RedisOutageTest(ServiceTest):

    def test_redis_killed_and_restarted_service_survives(self):
        user = 7100000001
        self.bot.telegram(tg_message(900001, user, "/start"))
        wait_until(lambda: self.tg.sent_to(user), what="reply before outage")
        self.redis.kill()
        wait_until(lambda: not self.bot.redis_up(), what="dvcbot to notice redis is down")
        # Still answers, without Redis.
        status, _, _ = self.bot.telegram(tg_message(900002, user, "dk khai sinh cho con"))
        self.assertEqual(status, 200)
        wait_until(lambda: len(self.tg.sent_to(user)) >= 3, what="reply and note during outage")
        during = [c["json"]["text"] for c in self.tg.sent_to(user)[1:3]]
        self.assertIn("Đăng ký khai sinh", during[0])
        self.assertIn("gián đoạn", during[1])
        self.redis.restart()
        wait_until(self.bot.redis_up, 10, what="dvcbot to reconnect")
        self.bot.telegram(tg_message(900003, user, "/start"))
        wait_until(lambda: len(self.tg.sent_to(user)) >= 4, what="reply after restart")
        # Dedupe works again (it needs Redis), and the outage note is gone.
        self.bot.telegram(tg_message(900003, user, "/start"))
        probe(self, user, 900004)
        self.assertEqual(len(self.tg.sent_to(user)), 5)  # nothing for the duplicate
        self.assertNotIn("gián đoạn", self.tg.sent_to(user)[3]["json"]["text"])


class ShutdownTest(ServiceTest):

    def test_sigterm_flushes_pending_replies_and_exits_zero(self):
        user = 7200000001
        self.tg.script("sendMessage", (502, {"ok": False}))
        self.bot.telegram(tg_message(910001, user, "/start"))
        self.bot.stop()  # asserts exit code 0 and a clean log
        self.assertGreaterEqual(len(self.tg.sent_to(user)), 2, "the retried reply was not flushed")
        self.bot.launch()  # tearDownClass stops it again


class InlineReplyTest(ServiceTest):
    extra_env = {"DVCBOT_TELEGRAM_INLINE_REPLY": "1"}

    def test_first_reply_rides_in_the_webhook_response(self):
        import json as _json
        user = self.new_user()
        status, _, body = self.bot.telegram(tg_message(self.next_id(), user, "/start"))
        self.assertEqual(status, 200)
        answer = _json.loads(body)
        self.assertEqual(answer["method"], "sendMessage")
        self.assertEqual(answer["chat_id"], user)
        self.assertIn("Xin chào", answer["text"])
        self.assertTrue(answer["reply_markup"]["inline_keyboard"])
        # A button press goes through the API: once it is there, the /start
        # before it is long over.
        self.bot.telegram(tg_callback(self.next_id(), user, "menu"))
        calls = wait_until(lambda: self.tg.sent_to(user), what="the menu via sendMessage")
        self.assertEqual(len(calls), 1, "the reply must not be sent twice")
        self.assertIn("Anh/chị cần làm gì", calls[0]["json"]["text"])

    def test_button_press_still_goes_through_the_api_with_ack(self):
        user = self.new_user()
        status, _, body = self.bot.telegram(tg_callback(self.next_id(), user, "menu"))
        self.assertEqual((status, body), (200, b"{}"))
        wait_until(lambda: self.tg.sent_to(user), what="menu via sendMessage")


class CurlForHttpTest(ServiceTest):
    """DVCBOT_HTTP_CLIENT=curl: the Bot API stub (http://) is reached through
    libcurl, as before the own client; every other class here goes through
    the own client. (Which client sent a request is not visible at the stub;
    test_http_client_curl and test_http_keepalive_curl check curl's path.)"""
    extra_env = {"DVCBOT_HTTP_CLIENT": "curl"}

    def test_replies_and_retries_still_go_out(self):
        user = self.new_user()
        self.tg.script("sendMessage", (502, {"ok": False}))
        self.assertEqual(self.bot.telegram(tg_message(self.next_id(), user, "/start"))[0], 200)
        calls = wait_until(lambda: len(self.tg.sent_to(user)) >= 2 and self.tg.sent_to(user), 6,
                           what="the retried reply")
        self.assertEqual([c["status"] for c in calls[:2]], [502, 200])
        self.assertIn("Xin chào", calls[1]["json"]["text"])
