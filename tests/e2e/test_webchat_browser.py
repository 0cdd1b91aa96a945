"""The web chat in a real browser (Debian chromium, phone viewport 390x844),
as a villager on a weak connection would use it: a whole guided flow with a
reload in the middle that resumes, two messages sent during a slow reply both
answered in order, a 1 990-character Vietnamese message accepted (a longer one
kept with a polite note), a link that opens, a notification shown after a
status change, HTML shown as text, a failed send kept and sent again, the
connection lost and back, polling that slows down in a hidden tab, the looks,
and a page under 50 KB that asks nothing from outside. See browser.py."""
import json
import os
import time
import urllib.parse

from browser import PHONE, Browser, need_browser
from flowwalk import intent, valid_answer
from harness import ADMIN_TOKEN, ServiceTest, StubServer
from test_dossiers import ndjson, record

INJECTION = '<img src=x onerror="window.pwned=1"><b>đậm</b>'
PAY_SECRET = "VNPAY-browser-secret-0123456789"

# The page's state, read in one call: every bubble in order, the pending states.
READ_LOG = """
return Array.from(document.querySelectorAll('#log .msg')).map(function (e) {
  return [e.classList.contains('me') ? 'me' : 'bot', e.textContent];
});"""


class PaymentPageStub(StubServer):
    """The gateway's payment page: records who opened it."""

    def route_key(self, method, path):
        return method + " " + urllib.parse.urlsplit(path).path


class WebchatBrowserTest(ServiceTest):
    telegram = False

    @classmethod
    def setUpClass(cls):
        cls.browser = Browser.for_class(cls)
        cls.pay = PaymentPageStub.start()  # the payment gateway's page, opened by the link
        cls.addClassCleanup(cls.pay.stop)
        cls.extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_WEBCHAT_POLL_S": "1",
                         "PAY_BASE_URL": cls.pay.base + "/paymentv2/vpcpay.html",
                         "PAY_TMN_CODE": "DVCTEST1", "PAY_HASH_SECRET": PAY_SECRET,
                         "PUBLIC_BASE_URL": "https://bot.example.vn/"}
        super().setUpClass()

    def setUp(self):
        need_browser(self)

    def tearDown(self):
        if self.browser and self.browser.alive():
            b = self.browser
            b.unthrottle()
            b.block()
            for handle in b.driver.window_handles[1:]:  # tabs a link opened
                b.driver.switch_to.window(handle)
                b.driver.close()
            b.driver.switch_to.window(b.driver.window_handles[0])
            b.console()
            b.requests()

    # ------------------------------------------------------------ helpers

    def page_url(self):
        return "http://127.0.0.1:%d/webchat" % self.bot.port

    def fresh_page(self):
        """The page as a first-time visitor sees it (a new browser id)."""
        b = self.browser
        b.open(self.page_url())
        b.new_storage()
        b.open(self.page_url())
        self.wait_settled()
        b.requests()
        b.console()
        return b

    def user(self):
        return self.browser.js("return localStorage.getItem('dvcbot_user')")

    def bubbles(self):
        return [tuple(x) for x in self.browser.js(READ_LOG)]

    def bot_texts(self):
        return [t for who, t in self.bubbles() if who == "bot"]

    def wait_settled(self, bots=1):
        """Until nothing waits to be sent and at least `bots` bot bubbles show."""
        self.browser.wait(lambda: not self.browser.find_all(".state") and len(self.bot_texts()) >= bots,
                          what="the page to settle")

    def say(self, text):
        """Types text and Enter; returns the bot bubbles that came after it."""
        before = len(self.bot_texts())
        self.browser.type("#t", text, enter=True)
        self.browser.wait(lambda: not self.browser.find_all(".state") and len(self.bot_texts()) > before,
                          what="a reply to %r" % text[:40])
        return self.bot_texts()[before:]

    def press(self, label):
        """Taps the last button with this label; returns the bot bubbles after it."""
        before = len(self.bot_texts())
        self.browser.click_text(".buttons button", label)
        self.browser.wait(lambda: not self.browser.find_all(".state") and len(self.bot_texts()) > before,
                          what="a reply to the button %r" % label)
        return self.bot_texts()[before:]

    def upload(self, *records):
        status, _, body = self.bot.admin("POST", "/admin/dossiers", ndjson(records))
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def history_of(self, user):
        status, _, body = self.bot.request("GET", "/webchat/messages?user=%s&after=0" % user)
        return json.loads(body)["items"] if status == 200 else []

    # ------------------------------------------------------------ the flow and a reload

    def test_whole_guided_flow_with_a_reload_in_the_middle_resumes(self):
        steps = intent("khai_sinh")["flow"]["steps"]
        # the first option of every choice takes no branch: every step but the
        # conditional ones, then the code step
        n = len([s for s in steps if "if" not in s]) + 1
        b = self.fresh_page()
        self.assertEqual([who for who, _ in self.bubbles()], ["bot"])  # no "Bắt đầu" from the user
        self.assertIn("Xin chào", self.bot_texts()[0])
        self.say("dk khai sinh cho con")
        r = self.press("Hướng dẫn nộp trực tuyến")
        self.assertIn("Bước 1/%d" % n, r[-1])
        r = self.press("Có rồi")                               # the VNeID check
        self.assertIn("Bước 2/%d" % n, r[-1])
        before = self.bubbles()
        b.reload()
        b.wait(lambda: self.bot_texts() and self.bot_texts()[-1].startswith("Anh/chị"), what="the offer")
        after = self.bubbles()
        # The conversation is shown again (the greeting of the first load was not kept) ...
        self.assertEqual(after[:-1], before[1:])
        # ... and the flow is offered, not dropped.
        self.assertEqual(after[-1], ("bot", "Anh/chị đang làm dở: Đăng ký khai sinh, bước 2/%d — tiếp tục?" % n))
        r = self.say("xong")                                   # the repro of the issue
        self.assertIn("Bước 3/%d" % n, r[-1])
        k = 3
        for step in steps[2:]:
            if "if" in step:
                continue
            self.assertIn("Bước %d/%d" % (k, n), self.bot_texts()[-1])
            if "ask" not in step:
                self.press("Xong, tiếp tục")
            elif step["type"] == "choice":
                self.press(step["options"][0])
            else:
                self.say(valid_answer(step)[0])
            k += 1
        self.assertIn("Bước %d/%d: Đã nộp xong? Gõ mã hồ sơ" % (n, n), self.bot_texts()[-1])
        portal = b.js("var a = document.querySelectorAll('.msg.bot a'); a = a[a.length - 1];"
                      "return [a.getAttribute('href'), a.rel, a.target, a.textContent];")
        self.assertTrue(portal[0].startswith("https://dichvucong.gov.vn/"), portal)  # the procedure's page
        self.assertEqual(portal[1:], ["noopener", "_blank", portal[0]])

    # ------------------------------------------------------------ a slow network

    def test_two_messages_sent_during_a_slow_reply_are_both_answered_in_order(self):
        b = self.fresh_page()
        with b.throttled(latency_ms=2000):
            b.type("#t", "khai tu", enter=True)
            b.type("#t", "ket hon", enter=True)
            self.assertEqual(b.find("#t").get_attribute("value"), "")
            states = b.texts(".state")
            self.assertEqual(states, ["đang gửi…", "đang gửi…"])   # both shown, both waiting
            b.wait(lambda: not b.find_all(".state"), timeout=30, what="both answers")
        seq = self.bubbles()[1:]
        self.assertEqual([who for who, _ in seq], ["me", "bot", "me", "bot"])
        self.assertEqual((seq[0][1], seq[2][1]), ("khai tu", "ket hon"))
        self.assertIn("khai tử", seq[1][1].lower())
        self.assertIn("kết hôn", seq[3][1].lower())
        sent = [i["text"] for i in self.history_of(self.user()) if i["from"] == "me"]
        self.assertEqual(sent, ["khai tu", "ket hon"])              # each sent once, in order

    def test_failed_send_keeps_the_text_and_gui_lai_sends_it_when_the_network_is_back(self):
        b = self.fresh_page()
        b.set_offline(True)
        b.type("#t", "dang ky ket hon", enter=True)
        b.wait(lambda: b.texts(".state.failed"), what="the failed state")
        self.assertEqual(b.texts(".state.failed"), ["Chưa gửi được.Gửi lại"])
        self.assertEqual(self.bubbles()[-1], ("me", "dang ky ket hon"))       # the text is kept
        b.wait(lambda: b.texts("#net.lost"), what="the connection lost")
        self.assertIn("Mất kết nối", b.texts("#net")[0])
        b.set_offline(False)
        b.wait(lambda: b.texts("#net.back"), timeout=15, what="the connection back")
        self.assertIn("Đã kết nối lại", b.texts("#net")[0])
        self.assertEqual(len(b.find_all(".state.failed")), 1)          # not sent behind the user's back
        b.click_text(".state button", "Gửi lại")
        b.wait(lambda: not b.find_all(".state"), what="the answer")
        self.assertIn("kết hôn", self.bot_texts()[-1].lower())
        sent = [i["text"] for i in self.history_of(self.user()) if i["from"] == "me"]
        self.assertEqual(sent, ["dang ky ket hon"])

    def test_a_page_opened_while_dvcbot_cannot_be_reached_greets_once_it_can(self):
        b = self.browser
        b.open(self.page_url())
        b.new_storage()
        b.block("*/webchat/messages*")
        b.open(self.page_url())                                   # the page came, its API does not answer
        b.wait(lambda: b.texts("#net.lost"), what="the connection lost")
        self.assertEqual(self.bubbles(), [])
        b.block()
        b.wait(lambda: self.bot_texts(), timeout=15, what="the greeting, without the user doing anything")
        self.assertIn("Xin chào", self.bot_texts()[0])
        self.assertEqual([who for who, _ in self.bubbles()], ["bot"])
        b.wait(lambda: b.texts("#net.back"), what="the connection back")

    # ------------------------------------------------------------ the length limit

    def test_1990_vietnamese_characters_are_accepted_and_2001_kept_with_a_polite_note(self):
        b = self.fresh_page()
        word = "Đăng ký khai sinh cho con ở bản Hua Là, xã Chiềng Cơi. "
        text = (word * 40)[:1990].strip()
        text = text + "ệ" * (1990 - len(text))
        self.assertEqual(len(text), 1990)
        self.assertGreater(len(text.encode()), 2000)                  # over 2 000 bytes
        b.js("var t = document.getElementById('t'); t.value = arguments[0];"
             "t.dispatchEvent(new Event('input'));", text)
        self.assertEqual(b.texts("#hint.on"), ["Còn 10 ký tự."])
        b.type("#t", "", enter=True)
        b.wait(lambda: not b.find_all(".state") and len(self.bot_texts()) > 1, what="the answer")
        self.assertEqual(b.texts("#hint.on"), [])
        self.assertEqual(self.bubbles()[-2], ("me", text))
        mine = [i["text"] for i in self.history_of(self.user()) if i["from"] == "me"]
        self.assertEqual(mine, [text])                                 # all of it reached dvcbot
        longer = text + "ạbc" + "ữ" * 8
        b.js("document.getElementById('t').value = arguments[0];", longer)
        b.requests()
        b.type("#t", "", enter=True)
        note = b.wait(lambda: b.texts("#hint.on.bad"), what="the note")[0]
        self.assertTrue(note.startswith("Tin nhắn dài quá: 2001 ký tự, tối đa 2000 ký tự."), note)
        self.assertEqual(b.find("#t").get_attribute("value"), longer)  # the text is kept
        self.assertNotIn("POST", [m for m, _ in b.requests()])       # and nothing was sent

    # ------------------------------------------------------------ notifications, links

    def test_notification_after_a_status_change_is_shown_and_its_payment_link_opens(self):
        code = "BRW.00.00.H50-000000-0001"
        self.upload(record(code, fee=50000))
        b = self.fresh_page()
        self.say("tra cứu hồ sơ")
        self.say(code)
        r = self.say("5678")
        self.assertIn("Đang xử lý", "\n".join(r))
        self.press("Nhận thông báo")
        bots = len(self.bot_texts())
        self.upload(record(code, fee=50000, status="cho_thanh_toan"))
        b.wait(lambda: len(self.bot_texts()) > bots, timeout=10, what="the notice")
        notice = self.bot_texts()[-1]
        self.assertIn("🔔 Hồ sơ %s" % code, notice)
        self.assertIn("Chờ nộp lệ phí 50.000 đồng", notice)
        r = self.press("Thanh toán lệ phí")
        self.assertIn(self.pay.base, r[-1])
        link = b.find_all(".msg.bot a")[-1]
        href = link.get_attribute("href")
        self.assertTrue(href.startswith(self.pay.base + "/paymentv2/vpcpay.html?"), href)
        self.assertEqual((link.get_attribute("rel"), link.get_attribute("target")), ("noopener", "_blank"))
        self.assertEqual(link.text, href)
        link.click()
        opened = self.pay.wait_calls("GET /paymentv2/vpcpay.html", 1)[0]
        self.assertEqual(self.pay.base + opened["path"], href)           # the very link, signed query and all
        self.assertEqual(len(b.driver.window_handles), 2)               # in a tab of its own
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(href).query))
        self.assertEqual(query["vnp_Amount"], "5000000")

    def test_html_typed_or_sent_by_staff_is_shown_as_text(self):
        code = "INJ.00.00.H50-000000-0001"
        self.upload(record(code, agency="UBND xã " + INJECTION))
        b = self.fresh_page()
        self.say(INJECTION)
        self.assertIn(INJECTION, b.texts(".msg.me"))
        self.say("tra cứu hồ sơ")
        self.say(code)
        details = self.say("5678")
        self.assertTrue(any("UBND xã " + INJECTION in t for t in details), details)
        b.reload()                                                    # from the history too
        self.wait_settled(bots=4)
        self.assertIn(INJECTION, b.texts(".msg.me"))
        self.assertEqual(b.js("return document.querySelectorAll('#log img, #log b').length"), 0)
        self.assertIsNone(b.js("return window.pwned"))

    # ------------------------------------------------------------ polling

    def polls(self, seconds):
        """Polls (GET /webchat/messages) dvcbot answered in the next seconds,
        whichever tab the browser shows."""
        def count():
            m = self.bot.metrics()
            return sum(v for k, v in m.items()
                       if k.startswith('dvcbot_http_requests_total{route="webchat_messages"') and
                       ('code="204"' in k or 'code="200"' in k))
        before = count()
        time.sleep(seconds)
        return count() - before

    def test_polling_is_cheap_and_slows_down_in_a_hidden_tab(self):
        b = self.fresh_page()
        visible = self.polls(3.5)
        self.assertGreaterEqual(visible, 2)                            # DVCBOT_WEBCHAT_POLL_S=1
        items = self.history_of(self.user())
        newest = items[-1]["id"] if items else "0"
        status, _, body = self.bot.request("GET", "/webchat/messages?user=%s&after=%s" % (self.user(), newest))
        self.assertEqual((status, body), (204, b""))                   # nothing new costs no body
        chat_tab = b.driver.current_window_handle
        b.driver.switch_to.new_window("tab")                           # the chat tab goes to the background
        self.assertTrue(b.js("return document.visibilityState === 'visible'"))
        hidden = self.polls(3.5)
        b.driver.close()
        b.driver.switch_to.window(chat_tab)
        self.assertLessEqual(hidden, 1)                                 # 6 times slower while hidden
        self.assertFalse(b.js("return document.hidden"))
        self.assertGreaterEqual(self.polls(2.5), 1)                     # and back when seen again

    # ------------------------------------------------------------ looks and weight

    def test_page_is_light_asks_nothing_from_outside_and_logs_no_error(self):
        b = self.browser
        b.open(self.page_url())
        b.new_storage()
        b.requests()
        b.console()
        b.open(self.page_url())
        self.wait_settled()
        time.sleep(1.2)                                                # a poll too
        sizes = b.js("return performance.getEntriesByType('navigation').concat("
                     "performance.getEntriesByType('resource')).map(function (e) {"
                     "return [e.name, e.decodedBodySize]; });")
        total = sum(size for _, size in sizes)
        print("\nweb chat page weight: %d bytes (%d requests)" % (total, len(sizes)))
        status, _, page = self.bot.request("GET", "/webchat")
        self.assertLess(len(page), 50 * 1024)
        origin = "http://127.0.0.1:%d/" % self.bot.port
        asked = b.requests()
        self.assertTrue(asked)
        outside = [u for _, u in asked if not u.startswith(origin) and not u.startswith("data:")]
        self.assertEqual(outside, [])
        self.assertEqual(b.console_errors(), [])                       # no favicon 404 among them

    def test_bubbles_fit_their_text_and_buttons_sit_in_the_page_font(self):
        b = self.fresh_page()
        b.resize(1280, 800)
        try:
            self.say("ok")
            geo = b.js("""
              var me = Array.from(document.querySelectorAll('.msg.me')).pop();
              var bot = document.querySelector('.msg.bot');
              var row = document.querySelector('.buttons'), btn = row.querySelector('button');
              var r = document.createRange(); r.selectNodeContents(me);
              return {me: me.getBoundingClientRect().width, meText: r.getBoundingClientRect().width,
                      bot: bot.getBoundingClientRect().left, row: row.getBoundingClientRect().left,
                      font: getComputedStyle(btn).fontFamily, page: getComputedStyle(document.body).fontFamily,
                      inputFont: getComputedStyle(document.getElementById('t')).fontFamily};""")
        finally:
            b.resize(*PHONE)
        self.assertLess(geo["me"], geo["meText"] + 30)                  # the bubble fits "ok"
        self.assertEqual(geo["font"], geo["page"])
        self.assertEqual(geo["inputFont"], geo["page"])
        self.assertAlmostEqual(geo["row"], geo["bot"], delta=1)         # buttons start where the bubble does
