"""Reminders: subscribers of a dossier waiting on them (documents, fee) are
reminded every DVCBOT_REMIND_EVERY, at most DVCBOT_REMIND_MAX times per status
change; a dossier past its due date gets one late notice per due date; nothing
in the quiet hours; each reminder once across processes; only current
subscribers. The interval is an hour, as an operator might set it; the tests
move dvcbot's clock forward (DVCBOT_TEST_CLOCK) instead of waiting, and wait
for what Redis says (remind:due) instead of sleeping: a dossier that left
remind:due will get nothing more."""
import datetime
import json
import re

from harness import ADMIN_TOKEN, Chat, Dvcbot, advance_clocks, buttons_of, seed_user, wait_until
from test_dossiers import DossierTestBase, record

EVERY = 3600
MAX = 3
LEASE = 120              # REMINDER_LEASE_S
VN = datetime.timezone(datetime.timedelta(hours=7))
ENV = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_REMIND_EVERY": str(EVERY), "DVCBOT_REMIND_MAX": str(MAX),
       "DVCBOT_REMIND_TICK_MS": "100", "DVCBOT_QUIET_HOURS": ""}
NUDGE = "Nhắc việc"      # templates/reminder_can_bo_sung.txt, reminder_cho_thanh_toan.txt
LATE = "quá hẹn trả"     # templates/reminder_late.txt


def vn_iso(t):
    return datetime.datetime.fromtimestamp(int(t), VN).isoformat(timespec="seconds")


def metric(bot, kind, result="sent"):
    return bot.metrics().get('dvcbot_reminder_messages_total{kind="%s",result="%s"}' % (kind, result), 0)


class ReminderTestBase(DossierTestBase):
    telegram = False
    extra_env = ENV

    def new_code(self):
        return "NHC.00.00.H50-%06d-0001" % self.next_id()

    def set_dossier(self, code, **fields):
        status, body = self.upload([record(code, **fields)])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["invalid"], 0, body)

    def follow(self, chat, code):
        """Subscribes a Chat through the dialog: lookup, 4 digits, Nhận thông báo."""
        chat.say("tra cứu hồ sơ")
        chat.say(code)
        chat.say("5678")
        self.assertIn("Đã đăng ký", chat.press("hs:sub:" + code)[0]["text"])

    def notices(self, user):
        """What waits in a web chat user's inbox, without taking it."""
        return [json.loads(m) for m in self.redis("LRANGE", "wc:inbox:{wc:%s}" % user, 0, -1)]

    def reminders(self, user, marker=NUDGE):
        return [n for n in self.notices(user) if marker in n["text"]]

    def wait_reminders(self, user, n, marker=NUDGE):
        return wait_until(lambda: (lambda got: len(got) >= n and got)(self.reminders(user, marker)),
                          what="%d reminders" % n)

    def scheduled(self, code):
        score = self.redis("ZSCORE", "remind:due", code)
        return None if score is None else float(score)

    def wait_scheduled(self, code, at):
        wait_until(lambda: self.scheduled(code) == at, what="%s scheduled at %s" % (code, at))

    def wait_unscheduled(self, code):
        """The dossier left remind:due: nothing more is sent about it."""
        wait_until(lambda: self.scheduled(code) is None, what="%s out of remind:due" % code)

    def looked_at(self, code):
        """The reminder look that follows an upload is over: remind:due
        scores the code later than a lease would (the upload scored it now,
        a look in progress at now + 120 s)."""
        score = self.scheduled(code)
        return score is not None and score > self.bot.now() + LEASE

    def wait_looked_at(self, code):
        wait_until(lambda: self.looked_at(code), what="%s looked at" % code)

    def next_interval(self, bots=None):
        """One interval (and a second) later: what was due is taken at once."""
        advance_clocks(bots or [self.bot], EVERY + 1)


class ReminderTest(ReminderTestBase):
    telegram = True

    def test_missing_documents_are_reminded_each_interval_and_stop_after_the_maximum(self):
        code = self.new_code()
        self.set_dossier(code, due_at="")
        chat = Chat(self, "telegram")
        self.follow(chat, code)
        before = metric(self.bot, "can_bo_sung")
        self.set_dossier(code, due_at="", status="can_bo_sung", note="Thiếu bản sao giấy chứng sinh.")

        def nudges():
            return [c for c in self.tg.sent_to(chat.user) if NUDGE in c["json"]["text"]]
        # One interval after the change, then one interval after each other.
        self.wait_scheduled(code, int(self.stored(code)["status_at"]) + EVERY)
        for n in range(1, MAX + 1):
            self.assertEqual(len(nudges()), n - 1)
            self.next_interval()
            wait_until(lambda: len(nudges()) >= n, what="reminder %d" % n)
            if n < MAX:
                self.wait_scheduled(code, int(self.stored(code)["remind_last"]) + EVERY)
        got = nudges()
        text = got[0]["json"]["text"]
        for part in (code, "Đăng ký khai sinh", "Thiếu bản sao giấy chứng sinh.", "UBND phường Chiềng Cơi"):
            self.assertIn(part, text)
        self.assertEqual(buttons_of(got[0]), [("Tra cứu hồ sơ", "hs:code:" + code),
                                   ("Ngừng nhận thông báo", "hs:unsub:" + code)])

        self.wait_unscheduled(code)  # no due date, nothing more to say
        self.assertEqual(len(nudges()), MAX)
        self.assertEqual(self.stored(code)["remind_n"], str(MAX))
        wait_until(lambda: metric(self.bot, "can_bo_sung") - before >= MAX, what="the reminders counted")

    def test_fee_reminder_offers_payment_and_stops_once_paid(self):
        code = self.new_code()
        self.set_dossier(code, due_at="", fee=50000)
        chat = Chat(self)
        self.follow(chat, code)
        self.set_dossier(code, due_at="", fee=50000, status="cho_thanh_toan")
        self.wait_looked_at(code)
        self.next_interval()
        first = self.wait_reminders(chat.user, 1)[0]
        self.assertIn("50.000 đồng", first["text"])
        self.assertIn({"label": "Thanh toán", "payload": "hs:pay:" + code}, first["buttons"])
        self.set_dossier(code, due_at="", fee=50000, status="cho_thanh_toan", paid=True)
        self.next_interval()  # when the next reminder was due: paid, nothing to say
        self.wait_unscheduled(code)
        self.assertEqual(len(self.reminders(chat.user)), 1)

    def test_a_change_to_dang_xu_ly_stops_the_reminders(self):
        code = self.new_code()
        self.set_dossier(code, due_at="")
        chat = Chat(self)
        self.follow(chat, code)
        self.set_dossier(code, due_at="", status="can_bo_sung")
        self.wait_looked_at(code)
        self.next_interval()
        self.wait_reminders(chat.user, 1)
        self.set_dossier(code, due_at="", status="dang_xu_ly")
        wait_until(lambda: [n for n in self.notices(chat.user) if "Đang xử lý" in n["text"]],
                   what="the status notice")
        self.wait_unscheduled(code)
        self.next_interval()
        self.assertEqual(len(self.reminders(chat.user)), 1)

    def test_a_late_dossier_gets_one_notice_per_due_date(self):
        code = self.new_code()
        due = self.bot.now() + 600
        self.set_dossier(code, due_at=vn_iso(due), agency="UBND xã Nậm Tăm")
        # Looked at once at once, then scheduled for its first late second.
        self.wait_scheduled(code, int(due) + 1)
        chat = Chat(self)
        self.follow(chat, code)
        self.assertEqual(self.reminders(chat.user, LATE), [])
        self.bot.advance_clock(601)
        notice = self.wait_reminders(chat.user, 1, LATE)[0]
        self.assertIn(code, notice["text"])
        self.assertIn("UBND xã Nậm Tăm", notice["text"])
        self.assertIn({"label": "Tra cứu hồ sơ", "payload": "hs:code:" + code}, notice["buttons"])
        self.assertIn({"label": "Ngừng nhận thông báo", "payload": "hs:unsub:" + code}, notice["buttons"])
        self.wait_unscheduled(code)
        self.assertEqual(len(self.reminders(chat.user, LATE)), 1)
        self.assertEqual(self.stored(code)["late_for"], vn_iso(due))
        # The same due date again: nothing; a new one, also past: one more notice.
        self.set_dossier(code, due_at=vn_iso(due), agency="UBND xã Nậm Tăm")
        self.set_dossier(code, due_at=vn_iso(due - 86400), agency="UBND xã Nậm Tăm")
        self.wait_reminders(chat.user, 2, LATE)
        self.wait_unscheduled(code)
        self.assertEqual(len(self.reminders(chat.user, LATE)), 2)

    def test_unsubscribed_and_erased_users_get_nothing(self):
        code = self.new_code()
        self.set_dossier(code, due_at="")
        stays, leaves, erased = Chat(self), Chat(self), Chat(self)
        for chat in (stays, leaves, erased):
            self.follow(chat, code)
        self.assertIn("không nhận thông báo", leaves.press("hs:unsub:" + code)[0]["text"])
        erased.say("xóa dữ liệu của tôi")
        self.assertIn("Đã xóa", erased.press("erase:yes")[0]["text"])
        erased.say("xin chào")  # back again: a user record, but no subscription
        self.assertEqual(self.redis("HGET", "u:{%s}" % erased.key, "ch"), "webchat")
        self.assertEqual(self.redis("SMEMBERS", "sub:" + code), [stays.key])

        self.set_dossier(code, due_at="", status="can_bo_sung")
        self.wait_looked_at(code)
        for n in (1, 2):
            self.next_interval()
            self.wait_reminders(stays.user, n)
        self.assertEqual(self.notices(leaves.user), [])
        self.assertEqual(self.notices(erased.user), [])


class QuietHoursTest(ReminderTestBase):
    """Quiet hours that hold now (Vietnam time): reminders wait for their end."""
    hour = datetime.datetime.now(VN).hour
    extra_env = dict(ENV, DVCBOT_QUIET_HOURS="%d-%d" % (hour, (hour + 3) % 24))

    def test_reminders_due_in_quiet_hours_wait_for_the_morning(self):
        code = self.new_code()
        self.set_dossier(code, due_at="")
        chat = Chat(self)
        self.follow(chat, code)
        self.set_dossier(code, due_at="", status="can_bo_sung")
        now = datetime.datetime.now(VN)
        end = now.replace(hour=(self.hour + 3) % 24, minute=0, second=0, microsecond=0)
        if end <= now:
            end += datetime.timedelta(days=1)
        # Looked at once at once: the reminder is due within the quiet hours
        # and moves to their end, so nothing can go before.
        self.wait_scheduled(code, end.timestamp())
        self.assertEqual(self.reminders(chat.user), [])
        self.assertEqual(self.stored(code).get("remind_n", "0"), "0")
        self.assertEqual(metric(self.bot, "can_bo_sung"), 0)


class TwoProcessTest(ReminderTestBase):
    """Two dvcbot processes on one Redis share the reminders: each goes once.
    They look every 5 ms, so both reach for the same due dossiers; their
    clocks move together."""
    extra_env = dict(ENV, DVCBOT_REMIND_MAX="2", DVCBOT_REMIND_TICK_MS="5")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = Dvcbot.start(cls.tmp, cls.redis, env=cls.extra_env)

    def all_due_later(self, pairs):
        """Every dossier was looked at after its upload (scheduled ahead)."""
        wait_until(lambda: all(self.looked_at(c) for c, _ in pairs), what="every dossier looked at")

    @classmethod
    def tearDownClass(cls):
        try:
            unmasked = re.findall(r"\d{9,}", cls.other.stop())
            if unmasked:
                raise AssertionError(f"log holds unmasked long numbers: {unmasked[:5]}")
        finally:
            super().tearDownClass()

    def followers(self, n):
        """n dossiers waiting for documents, one web chat subscriber each
        (subscriptions written the way lookup.c writes them)."""
        pairs = [(self.new_code(), self.new_web_user()) for _ in range(n)]
        self.assertEqual(self.upload([record(c, due_at="") for c, _ in pairs])[1]["created"], n)
        for code, user in pairs:
            key = "wc:" + user
            seed_user(self.redis, key)
            self.redis("SADD", "sub:" + code, key)
            self.redis("SADD", "refs:{%s}" % key, "sub:" + code)
        # One upload: all due in the same second.
        changed = self.upload([record(c, due_at="", status="can_bo_sung") for c, _ in pairs])[1]
        self.assertEqual(changed["updated"], n)
        return pairs

    def test_two_processes_send_each_reminder_once(self):
        bots = (self.bot, self.other)
        before = sum(metric(b, "can_bo_sung") for b in bots)
        pairs = self.followers(60)
        for n in (1, 2):
            self.all_due_later(pairs)
            self.next_interval(bots)
            for _, user in pairs:
                self.wait_reminders(user, n)
        for code, _ in pairs:
            self.wait_unscheduled(code)
        for code, user in pairs:
            self.assertEqual(len(self.reminders(user)), 2, code)
            self.assertEqual(self.stored(code)["remind_n"], "2")
        counted = wait_until(lambda: (lambda n: n >= 120 and n)(sum(metric(b, "can_bo_sung") for b in bots) - before),
                             what="the reminders counted")
        self.assertEqual(counted, 120)

    def test_a_stopped_process_leaves_nothing_behind(self):
        third = Dvcbot.start(self.tmp, self.redis, env=self.extra_env, clock_offset=self.bot.clock_offset)
        pairs = self.followers(20)
        self.all_due_later(pairs)
        self.next_interval([self.bot, self.other, third])
        wait_until(lambda: all(self.reminders(u) for _, u in pairs), what="the first reminders")
        third.stop()  # what it had not taken waits in remind:due for the others
        self.all_due_later(pairs)
        self.next_interval([self.bot, self.other])
        for _, user in pairs:
            self.wait_reminders(user, 2)
        for code, _ in pairs:
            self.wait_unscheduled(code)
        self.assertEqual([len(self.reminders(u)) for _, u in pairs], [2] * len(pairs))
