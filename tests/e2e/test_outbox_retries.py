"""Outbox retries that match the channels, end to end with the test clock:
a throttle (Telegram 429 retry_after, Zalo -32) waits what the channel said
and never uses up an attempt; a transient failure backs off for minutes
(capped exponential, jittered) and finally gives up with a reason recorded in
/metrics and in Redis (outbox:failed) where staff can read it."""
from harness import ServiceTest, tg_message, wait_until, zl_text

THROTTLE_S = 60
MARGIN_S = 20  # real seconds the test may take between two steps on a loaded machine


def too_many(retry_after):
    return (429, {"ok": False, "error_code": 429,
                  "description": "Too Many Requests: retry after %d" % retry_after,
                  "parameters": {"retry_after": retry_after}})


class OutboxTest(ServiceTest):

    def outbox_state(self):
        m = self.bot.metrics()
        return m.get("dvcbot_outbox_queued", 0), m.get("dvcbot_outbox_inflight", 0)

    def waiting(self):
        """One message queued, none in flight: nothing was started."""
        return self.outbox_state() == (1, 0)

    def counter(self, name, **labels):
        key = name + "{" + ",".join('%s="%s"' % kv for kv in labels.items()) + "}"
        return self.bot.metrics().get(key, 0)

    def expect_backoffs(self, calls, durations):
        """After each failed attempt (calls() lists them) the message waits
        the next of durations (seconds, each drawn in [d/2, d]): not sent
        before d/2, sent once d has passed."""
        for n, d in enumerate(durations, start=1):
            wait_until(lambda: len(calls()) >= n, what="attempt %d" % n)
            wait_until(self.waiting, what="the message to wait")
            self.bot.advance_clock(d // 2 - MARGIN_S)
            self.assertTrue(self.waiting(), "retried after seconds, not minutes")
            self.bot.advance_clock(d - d // 2 + MARGIN_S)
        wait_until(lambda: len(calls()) > len(durations), what="the last attempt")

    def failure_record(self, chat):
        """The newest outbox:failed record of chat, once there is one."""
        def newest():
            for _, fields in reversed(self.redis("XRANGE", "outbox:failed", "-", "+")):
                rec = dict(zip(fields[::2], fields[1::2]))
                if rec["chat"] == str(chat):
                    return rec
            return None
        return wait_until(newest, what="the failure record")


class TelegramThrottleTest(OutboxTest):
    extra_env = {"DVCBOT_SEND_ATTEMPTS": "3"}

    def test_429_waits_retry_after_and_uses_no_attempt(self):
        user = self.new_user()
        throttles = 5  # more than DVCBOT_SEND_ATTEMPTS
        self.tg.script("sendMessage", *[too_many(THROTTLE_S)] * throttles)
        self.bot.telegram(tg_message(self.next_id(), user, "/start"))
        for n in range(1, throttles + 1):
            wait_until(lambda: len(self.tg.sent_to(user)) >= n, what="attempt %d" % n)
            wait_until(self.waiting, what="the throttled message to wait")
            # Well short of retry_after (a loaded machine may take seconds
            # between the 429 and this line): still waiting, nothing started.
            self.bot.advance_clock(THROTTLE_S - MARGIN_S)
            self.assertTrue(self.waiting(), "sent before retry_after")
            self.bot.advance_clock(MARGIN_S)
        calls = wait_until(lambda: len(self.tg.sent_to(user)) > throttles and self.tg.sent_to(user),
                           what="the message after the throttles")
        self.assertEqual([c["status"] for c in calls], [429] * throttles + [200])
        self.assertEqual(self.counter("dvcbot_send_throttled_total", channel="telegram"), throttles)
        self.assertEqual(self.counter("dvcbot_send_errors_total", channel="telegram", reason="gave_up"), 0)
        self.assertEqual(self.redis("XLEN", "outbox:failed"), 0)


class TelegramBackoffTest(OutboxTest):
    extra_env = {"DVCBOT_RETRY_BASE_MS": "120000", "DVCBOT_RETRY_MAX_MS": "480000",
                 "DVCBOT_SEND_ATTEMPTS": "4"}

    def test_5xx_backs_off_for_minutes_then_gives_up_with_a_record(self):
        user = self.new_user()
        self.tg.script("sendMessage", *[(502, {"ok": False})] * 4)
        self.bot.telegram(tg_message(self.next_id(), user, "/start"))
        # Backoffs of 2, 4, 8 minutes, each drawn in [d/2, d].
        self.expect_backoffs(lambda: self.tg.sent_to(user), (120, 240, 480))
        rec = self.failure_record(user)
        self.assertEqual((rec["channel"], rec["chat"], rec["reason"], rec["attempts"], rec["error"]),
                         ("telegram", str(user), "gave_up", "4", "502"))
        self.assertIn("Xin chào", rec["text"])
        self.assertEqual(self.counter("dvcbot_send_errors_total", channel="telegram", reason="gave_up"), 1)
        self.assertEqual(self.outbox_state(), (0, 0))
        self.assertEqual(len(self.tg.sent_to(user)), 4)


class ZaloRetryTest(OutboxTest):
    """Zalo's answers as the OA API gives them: -32 (the app's call rate) or
    HTTP 429 is a throttle; HTTP 5xx or a body that is not Zalo's is
    transient (backs off for minutes, gives up with a record); a refusal for
    the user (-213 not a follower, -230/-232 no interaction in the window,
    -211 quota...) is final: recorded, never retried."""
    telegram = False
    zalo = True
    extra_env = {"DVCBOT_SEND_ATTEMPTS": "3", "DVCBOT_RETRY_BASE_MS": "120000", "DVCBOT_RETRY_MAX_MS": "480000"}

    def test_zalo_rate_limit_is_a_throttle_not_a_failure(self):
        for throttle in ((200, {"error": -32, "message": "rate limit"}), (429, {"error": -32})):
            user = self.new_zalo_user()
            throttles = 3  # as many as DVCBOT_SEND_ATTEMPTS: one counted would give up
            before = self.counter("dvcbot_send_throttled_total", channel="zalo")
            failed = self.redis("XLEN", "outbox:failed")
            self.zl.script("cs", *[throttle] * throttles)
            self.bot.zalo(zl_text(user, "xin chao"))
            for n in range(1, throttles + 1):
                wait_until(lambda: len(self.zl.to(user)) >= n, what="attempt %d" % n)
                wait_until(self.waiting, what="the throttled message to wait")
                self.bot.advance_clock(60)  # the longest throttle wait without a retry_after
            wait_until(lambda: self.zl.sent_to(user), what="the reply after the throttles")
            self.assertEqual(self.counter("dvcbot_send_throttled_total", channel="zalo"), before + throttles)
            wait_until(lambda: self.outbox_state() == (0, 0), what="settled")
            self.assertEqual(self.redis("XLEN", "outbox:failed"), failed)

    def test_zalo_server_errors_back_off_for_minutes_then_give_up_with_a_record(self):
        user = self.new_zalo_user()
        self.zl.script("cs", (502, {"error": -1}), (200, {"message": "not Zalo's body"}), (503, {}))
        self.bot.zalo(zl_text(user, "xin chao"))
        self.expect_backoffs(lambda: self.zl.to(user), (120, 240))
        rec = self.failure_record(user)
        self.assertEqual((rec["channel"], rec["reason"], rec["attempts"], rec["error"]),
                         ("zalo", "gave_up", "3", "503"))
        self.assertIn("Xin chào", rec["text"])
        wait_until(lambda: self.outbox_state() == (0, 0), what="settled")
        self.assertEqual(len(self.zl.to(user)), 3)

    def test_zalo_refusal_is_recorded_and_not_retried(self):
        for code in (-213, -230):
            user = self.new_zalo_user()
            self.zl.script("cs", (200, {"error": code, "message": "refused"}))
            self.bot.zalo(zl_text(user, "xin chao"))
            rec = self.failure_record(user)
            self.assertEqual((rec["channel"], rec["attempts"], rec["error"]), ("zalo", "0", str(code)))
            wait_until(lambda: self.outbox_state() == (0, 0), what="settled")
            self.bot.advance_clock(3600)  # nothing comes back, however long
            self.assertEqual(len(self.zl.to(user)), 1, "refusal %d was retried" % code)
