"""DVCBOT_TELEGRAM_INLINE_REPLY=1: the first reply rides in the webhook's 200
as a sendMessage call (Telegram's "reply in the webhook"), and is as safe as
one sent through the Bot API: the webhook is answered only once the turn is
stored in Redis, with that reply kept under its event (dd:{<user>}:<id>:r),
so a response lost on the way or a process killed before it leaves the
update unacknowledged, and Telegram's redelivery gets the reply. Replies
after it, or a reply that cannot ride (the chat has something on its way,
the text is longer than one message), go through the Bot API, stored, in
order.

Each test runs its own Redis (append-only), Bot API stub and dvcbot; nothing
sleeps to synchronise."""
import json
import os
import shutil
import socket
import threading

from harness import ROOT, TG_SECRET, Dvcbot, tg_callback, wait_until
from test_outbox_durable import GREETING, KHAI_SINH, DurableTest

INLINE = {"DVCBOT_TELEGRAM_INLINE_REPLY": "1", "DVCBOT_TELEGRAM_RATE": "1000"}
FLOW_INTRO = "Hướng dẫn nộp trực tuyến"   # first reply to "1" after the procedure: the flow starts
FLOW_STEP_1 = "Bước 1/"                     # its second reply


class HeldRedisProxy:
    """Stands between dvcbot and Redis (unix sockets) and passes everything
    on until armed; once armed, the first command naming `marker` reaches
    Redis, but nothing Redis says from then on reaches dvcbot: Redis has
    done that command and dvcbot never hears of it, as if it had been killed
    right after sending it."""

    def __init__(self, target, path):
        self.target, self.path = target, path
        self.marker = None
        self.holding = threading.Event()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "unix://" + self.path

    def arm(self, marker):
        self.marker = marker

    def _accept(self):
        while True:
            try:
                client, _ = self.srv.accept()
            except OSError:
                return
            redis = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            redis.connect(self.target)
            threading.Thread(target=self._pipe, args=(client, redis, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(redis, client, False), daemon=True).start()

    def _pipe(self, src, dst, to_redis):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if to_redis and self.marker and self.marker in data:
                    self.holding.set()
                if not to_redis and self.holding.is_set():
                    continue
                dst.sendall(data)
        except OSError:
            pass
        finally:
            src.close()
            dst.close()

    def stop(self):
        self.srv.close()


class InlineTest(DurableTest):

    def index(self, user):
        return "dd:{tg:%d}" % user

    def done(self, user, update):
        """The update's turn is stored (its mark says done)."""
        score = self.redis("ZSCORE", self.index(user), update["update_id"])
        return score is not None and abs(int(score)) % 4 == 1

    def answer(self, bot, update):
        """The webhook's 200 and the reply it carries (None: an empty answer)."""
        status, _, body = bot.telegram(update)
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        if answer == {}:
            return None
        self.assertEqual(answer["method"], "sendMessage")
        self.assertEqual(answer["chat_id"], update["message"]["chat"]["id"])
        self.assertEqual(answer["parse_mode"], "HTML")
        return answer

    def test_the_reply_rides_in_the_response_kept_for_a_redelivery_only(self):
        bot = self.start_bot(INLINE)
        user = 7380000001
        update = self.update(user, "xin chao")
        answer = self.answer(bot, update)
        self.assertIn(GREETING, answer["text"])
        self.assertTrue(answer["reply_markup"]["inline_keyboard"])
        # Not streamed (nothing to send or settle), counted as settled, kept
        # under the event as long as a redelivery is a duplicate (24 h).
        self.assertEqual(self.pending_in_redis(), 0)
        record = self.redis("HGETALL", "u:{tg:%d}" % user)
        fields = dict(zip(record[::2], record[1::2]))
        self.assertEqual((fields["oq"], fields["od"]), ("1", "1"))
        kept = "dd:{tg:%d}:%d:r" % (user, update["update_id"])
        self.assertGreater(int(self.redis("TTL", kept)), 24 * 3600 - 60)
        self.assertLessEqual(int(self.redis("TTL", kept)), 24 * 3600)
        # The next message's reply rides too: the first is settled.
        self.assertIn(KHAI_SINH, self.answer(bot, self.update(user, "dk khai sinh cho con"))["text"])
        self.assertEqual(self.tg.sent_to(user), [])
        self.assertEqual(bot.metrics().get('dvcbot_replies_sent_total{channel="telegram"}'), 2)

    def test_a_response_the_client_dropped_is_given_again_to_the_redelivery(self):
        bot = self.start_bot(INLINE)
        user = 7380000002
        update = self.update(user, "xin chao")
        body = json.dumps(update).encode()
        with socket.create_connection(("127.0.0.1", bot.port)) as s:  # gone before the answer
            s.sendall(b"POST /webhook/telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"X-Telegram-Bot-Api-Secret-Token: %s\r\nContent-Length: %d\r\n\r\n%s"
                       % (TG_SECRET.encode(), len(body), body))
        wait_until(lambda: self.done(user, update), what="the turn to be stored")
        answer = self.answer(bot, update)  # Telegram got no 200: it sends the update again
        self.assertIsNotNone(answer, "the redelivery was answered without the reply")
        self.assertIn(GREETING, answer["text"])
        self.assertIn(GREETING, self.answer(bot, update)["text"])  # and again, if need be
        self.assertEqual(self.tg.sent_to(user), [])
        self.assertEqual(bot.metrics().get("dvcbot_handed_again_total"), 2)

    def test_past_the_bound_a_redelivery_is_answered_with_its_kept_reply_and_a_new_update_refused(self):
        bot = self.start_bot(dict(INLINE, DVCBOT_MAX_BACKLOG="1"))
        user = 7380000009
        update = self.update(user, "xin chao")
        self.assertIn(GREETING, self.answer(bot, update)["text"])
        # A button press's reply goes through the Bot API, which holds it: the bound is reached.
        self.tg.gate.clear()
        self._uid += 1
        self.assertEqual(bot.telegram(tg_callback(self._uid, 7380000010, "menu"))[0], 200)
        wait_until(lambda: self.backlog(bot) >= 1, what="the backlog at the bound")
        self.assertEqual(bot.telegram(self.update(7380000011, "xin chao"))[0], 503)
        # Telegram did not get the first 200: its redelivery is no new work
        # and gets the kept reply again.
        answer = self.answer(bot, update)
        self.assertIsNotNone(answer, "the redelivery was answered without the reply")
        self.assertIn(GREETING, answer["text"])
        self.assertEqual(bot.metrics().get("dvcbot_handed_again_total"), 1)
        self.tg.release()

    def test_a_process_killed_after_the_commit_gives_the_reply_to_the_redelivery(self):
        proxy = HeldRedisProxy(self.redis.sock, os.path.join(self.tmp, "proxy.sock"))
        try:
            bot = Dvcbot.start(self.tmp, proxy.url, telegram=self.tg, env=INLINE)
            self.bots.append(bot)
            user = 7380000003
            update = self.update(user, "xin chao")
            proxy.arm(b"outbox_commit")
            answers = []

            def post():
                try:
                    answers.append(bot.telegram(update))
                except OSError as e:  # the process is killed: no answer
                    answers.append(e)
            poster = threading.Thread(target=post)
            poster.start()
            wait_until(lambda: self.done(user, update), what="the commit to be done in Redis")
            self.assertTrue(proxy.holding.is_set(), "the turn was not stored by a commit")
            bot.kill()  # after the commit, before the response
            poster.join()
            self.assertIsInstance(answers[0], OSError, "the webhook was answered before the kill")
        finally:
            proxy.stop()
        self.assertEqual(self.pending_in_redis(), 0)  # nothing that a restart would send
        bot.env["REDIS_URL"] = self.redis.url
        bot.launch()
        answer = self.answer(bot, update)  # Telegram's redelivery
        self.assertIsNotNone(answer, "the redelivery was answered without the reply")
        self.assertIn(GREETING, answer["text"])
        self.assertEqual(self.tg.sent_to(user), [])

    def test_several_replies_the_first_in_the_response_the_others_after_it_through_the_api(self):
        self.tg.gate.clear()  # the Bot API holds the first call it gets
        bot = self.start_bot(INLINE)
        user = 7380000004
        self.assertIn(KHAI_SINH, self.answer(bot, self.update(user, "dk khai sinh cho con"))["text"])
        answer = self.answer(bot, self.update(user, "1"))  # the flow starts: two replies
        self.assertIsNotNone(answer, "the first of two replies did not ride in the response")
        self.assertIn(FLOW_INTRO, answer["text"])
        wait_until(lambda: bot.metrics().get("dvcbot_outbox_inflight"), what="the second reply in flight")
        # The chat has a reply on its way: the next one must not overtake it.
        self.assertIsNone(self.answer(bot, self.update(user, "1")))
        self.tg.release()
        texts = wait_until(lambda: len(self.replies_of(user)) >= 2 and self.replies_of(user),
                           what="the held reply and the next")
        self.assertIn(FLOW_STEP_1, texts[0])
        self.assertNotIn(FLOW_STEP_1, texts[1])
        self.assertEqual(len(texts), 2, texts)
        wait_until(lambda: self.pending_in_redis() == 0, what="both settled")

    def test_a_reply_too_long_for_one_message_goes_through_the_api_stored(self):
        data = os.path.join(self.tmp, "data")
        for d in ("intents", "templates", "redis"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(data, d))
        with open(os.path.join(ROOT, "templates", "greeting.txt")) as f:
            greeting = f.read()
        long_line = "Dòng dài để thử tin nhắn nhiều phần. " * 120  # ~4 700 bytes: two messages
        with open(os.path.join(data, "templates", "greeting.txt"), "w") as f:
            f.write(greeting.replace("\n---\n", "\n" + long_line + "\n---\n", 1))
        self.tg.gate.clear()  # nothing gets through before the kill
        bot = self.start_bot(dict(INLINE, DVCBOT_DATA_DIR=data))
        user = 7380000005
        self.assertIsNone(self.answer(bot, self.update(user, "xin chao")))
        self.assertEqual(self.pending_in_redis(), 1)  # stored, as every reply through the API
        bot.kill()
        self.tg.release()
        bot.launch()
        texts = wait_until(lambda: len(self.replies_of(user)) >= 2 and self.replies_of(user),
                           what="the long reply in two parts")
        self.assertIn(GREETING, texts[0])
        wait_until(lambda: self.pending_in_redis() == 0, what="settled")
