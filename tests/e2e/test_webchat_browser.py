"""The web chat in a real browser (Debian chromium, phone viewport 390x844),
as a villager on a weak connection would use it. See browser.py."""
import json

from browser import Browser, need_browser
from harness import ADMIN_TOKEN, ServiceTest
from test_dossiers import ndjson, record

INJECTION = '<img src=x onerror="window.pwned=1"><b>đậm</b>'


class WebchatBrowserTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    @classmethod
    def setUpClass(cls):
        cls.browser = Browser.for_class(cls)
        super().setUpClass()

    def setUp(self):
        need_browser(self)

    # ------------------------------------------------------------ helpers

    def page_url(self):
        return "http://127.0.0.1:%d/webchat" % self.bot.port

    def fresh_page(self):
        """The page as a first-time visitor sees it (a new browser id)."""
        b = self.browser
        b.open(self.page_url())
        b.new_storage()
        b.open(self.page_url())
        b.wait_js("return document.querySelectorAll('.msg.bot').length >= 1", what="the greeting")
        b.requests()
        b.console()
        return b

    def bot_texts(self):
        return self.browser.texts(".msg.bot")

    def say(self, text):
        """Types text and Enter; returns the bot bubbles that came after it."""
        b = self.browser
        before = len(self.bot_texts())
        b.type("#t", text, enter=True)
        b.wait(lambda: len(self.bot_texts()) > before, what="a reply to %r" % text[:40])
        return self.bot_texts()[before:]

    def upload(self, *records):
        status, _, body = self.bot.admin("POST", "/admin/dossiers", ndjson(records))
        self.assertEqual(status, 200, body)
        return json.loads(body)

    # ------------------------------------------------------------ tests

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
        self.assertEqual(b.js("return document.querySelectorAll('#log img, #log b').length"), 0)
        self.assertIsNone(b.js("return window.pwned"))
