"""Browser harness: Debian's chromium driven through chromium-driver with
python3-selenium (all three are Debian packages in the Makefile's DEB_PKGS, so
`make deps` installs them). Used by the web chat tests and meant for any page
dvcbot serves (the staff console too).

    from browser import Browser, need_browser
    from harness import ServiceTest

    class MyPageTest(ServiceTest):
        @classmethod
        def setUpClass(cls):
            cls.browser = Browser.for_class(cls)  # one browser per test module, or None
            super().setUpClass()

        def setUp(self):
            need_browser(self)                    # skips (or fails in CI) with the reason

        def test_something(self):
            b = self.browser
            b.open("http://127.0.0.1:%d/webchat" % self.bot.port)  # waits for load
            b.type("#t", "xin chao", enter=True)
            b.wait_js("return document.querySelectorAll('.bot').length > 1", what="a reply")
            b.click_text("button", "Thủ tục")           # a button by its visible text
            with b.throttled(latency_ms=2000):          # slow network (DevTools protocol)
                ...
            b.set_offline(True)                          # no network at all
            b.block("*/webchat/messages*")               # these requests fail, the rest work
            urls = b.requests()                          # every URL the pages asked for
            errors = b.console_errors()                  # SEVERE lines of the console
            path = b.wait_download("phat-tin.csv")       # a file the page saved

What it does for every test:
- runs chromium headless with the flags this machine and CI need
  (--no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-sync --no-first-run ...) and a fresh
  --user-data-dir in its own temp dir; chromedriver on a port of its own, so
  several modules can run in parallel;
- emulates a phone: viewport 390x844 at pixel ratio 2 (Browser.start(viewport=(w, h),
  pixel_ratio=1.0) for an office screen, which also renders four times fewer
  pixels; `b.resize(w, h)` changes the size later);
- records every request the pages make (the DevTools performance log), so a
  test can assert that nothing left 127.0.0.1, and the console.

When chromium, chromedriver or selenium is missing, or chromium cannot start,
for_class returns None and every test of the class is skipped by need_browser
with the reason, printed in the test run ("skipped '...'"). With
DVCBOT_REQUIRE_BROWSER=1 (set by .ci/run: CI installs the packages) the same
reason fails each test instead.

Debian's python3-selenium lives in /usr/lib/python3/dist-packages; when the
python3 running the suite is another one (pyenv), that directory is added to
sys.path so the Debian package is still found. Chromium's own binary can be
named with CHROMIUM=/path, chromedriver with CHROMEDRIVER=/path.
"""
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time

import procs
from harness import SLOW, free_port

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
DEBIAN_PYTHON_PACKAGES = "/usr/lib/python3/dist-packages"
PHONE = (390, 844)

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--password-store=basic", "--use-mock-keychain", "--lang=vi",
]


def _import_selenium():
    """The selenium modules, or raises ImportError with the reason."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        if os.path.isdir(DEBIAN_PYTHON_PACKAGES) and DEBIAN_PYTHON_PACKAGES not in sys.path:
            sys.path.append(DEBIAN_PYTHON_PACKAGES)
        import selenium  # noqa: F401
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    return webdriver, Service, By, Keys


def unavailable_reason():
    """Why no browser test can run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return "chromium not installed (Debian package chromium; make deps installs it)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return "chromedriver not installed (Debian package chromium-driver; make deps installs it)"
    try:
        _import_selenium()
    except ImportError as e:
        return "selenium not importable (Debian package python3-selenium): %s" % e
    return None


def need_browser(test):
    """In setUp: skips the test (fails it under DVCBOT_REQUIRE_BROWSER=1) when
    its class got no browser from Browser.for_class; replaces a browser whose
    tab crashed (the kernel's OOM killer picks renderers first), so one crash
    fails one test, not every test after it."""
    b = getattr(test, "browser", None)
    if b is not None:
        if not b.alive():
            type(test).browser = b.restarted()
        return
    reason = getattr(type(test), "no_browser", None) or "no browser started"
    if os.environ.get("DVCBOT_REQUIRE_BROWSER") == "1":
        test.fail("browser tests required (DVCBOT_REQUIRE_BROWSER=1) but " + reason)
    test.skipTest(reason)


class Browser:
    """One headless chromium and its chromedriver. Not thread-safe: one test
    at a time drives it."""

    def __init__(self, viewport=PHONE, pixel_ratio=2.0):
        webdriver, Service, self.By, self.Keys = _import_selenium()
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-browser-")
        self.viewport = viewport
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            opts.add_argument(flag)
        opts.add_argument("--user-data-dir=" + os.path.join(self.tmp, "profile"))
        opts.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": viewport[0], "height": viewport[1], "pixelRatio": pixel_ratio}})
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        service = Service(CHROMEDRIVER, port=free_port(),
                          log_path=os.path.join(self.tmp, "chromedriver.log"))
        prefix = procs.dies_with_me()
        if prefix:  # chromedriver (and so its chromium) die with this test's process
            args = service.command_line_args
            service.path = prefix[0]
            service.command_line_args = lambda: prefix[1:] + [CHROMEDRIVER] + args()
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.driver.set_page_load_timeout(30 * SLOW)
        self.driver.set_script_timeout(30 * SLOW)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self._requests = []
        self._console = []

    @classmethod
    def start(cls, viewport=PHONE, pixel_ratio=2.0):
        return cls(viewport, pixel_ratio)

    @classmethod
    def for_class(cls, test_class, viewport=PHONE, pixel_ratio=2.0):
        """A browser quit by test_class's class cleanup, or None with the
        reason in test_class.no_browser (printed once)."""
        reason = unavailable_reason()
        b = None
        if not reason:
            try:
                b = cls(viewport, pixel_ratio)
            except Exception as e:  # WebDriverException and OSError alike: say why
                reason = "chromium did not start: %s" % str(e).strip().splitlines()[0][:300]
        if b is None:
            test_class.no_browser = reason
            print("\nbrowser tests of %s skipped: %s" % (test_class.__name__, reason), file=sys.stderr)
            return None
        # Quits the class's browser at the end, a replacement (need_browser) too.
        test_class.addClassCleanup(lambda: test_class.browser and test_class.browser.quit())
        return b

    def quit(self):
        if self.driver is None:
            return
        try:
            self.driver.quit()
        finally:
            self.driver = None
            shutil.rmtree(self.tmp, ignore_errors=True)

    def alive(self):
        """True while the browser and its current tab answer."""
        try:
            return self.driver is not None and self.driver.execute_script("return 1") == 1
        except Exception:
            return False

    def restarted(self):
        """A fresh browser like this one (this one is quit)."""
        self.quit()
        return Browser(self.viewport)

    # ------------------------------------------------------------ pages

    def open(self, url):
        """Loads url and waits for its load event."""
        self.driver.get(url)

    def reload(self):
        self.driver.refresh()

    def js(self, script, *args):
        """Runs script (a function body: use `return`) in the page."""
        return self.driver.execute_script(script, *args)

    def wait(self, pred, timeout=10.0, what="condition", interval=0.05):
        """Polls pred() until it returns something true, and returns that."""
        deadline = time.time() + timeout * SLOW
        last = None
        while time.time() < deadline:
            try:
                value = pred()
            except Exception as e:  # a node replaced under us: try again
                last = e
                value = None
            if value:
                return value
            time.sleep(interval)
        raise AssertionError("timed out waiting for %s%s" % (what, " (%s)" % last if last else ""))

    def wait_js(self, script, *args, timeout=10.0, what="condition"):
        return self.wait(lambda: self.js(script, *args), timeout, what)

    def find(self, css):
        return self.driver.find_element(self.By.CSS_SELECTOR, css)

    def click(self, css, what=None):
        """Clicks the element matching css, found again when the page redrew
        it between finding and clicking (a list that refreshes itself), as a
        user's second tap would."""
        def clicked():
            self.find(css).click()
            return True
        self.wait(clicked, what=what or "a click on %s" % css)

    def find_all(self, css):
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    def texts(self, css):
        """The text (textContent) of every element matching css, in order."""
        return self.js("return Array.from(document.querySelectorAll(arguments[0]))"
                       ".map(function (e) { return e.textContent; })", css)

    def type(self, css, text, enter=False):
        """Types into the element like a user (key events), then Enter if asked."""
        el = self.find(css)
        el.send_keys(text + (self.Keys.ENTER if enter else ""))
        return el

    def click_text(self, css, text, last=True):
        """Clicks the last (or first) element matching css whose text is text."""
        def found():
            els = [e for e in self.find_all(css) if e.text.strip() == text and e.is_displayed()]
            return els and (els[-1] if last else els[0])
        el = self.wait(found, what="%s %r" % (css, text))
        el.click()
        return el

    def resize(self, width, height):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.viewport = (width, height)

    def new_storage(self):
        """Forgets this origin's localStorage (a new visitor on the next load)."""
        self.js("localStorage.clear()")

    def screenshot(self, path):
        self.driver.save_screenshot(path)

    def fill(self, css, text):
        """Replaces the value of an input or textarea, as a user selecting all
        and typing would (input events fire)."""
        el = self.find(css)
        el.clear()
        if text:
            el.send_keys(text)
        return el

    def select(self, css, value):
        """Picks the option with this value in a <select> (change fires)."""
        from selenium.webdriver.support.ui import Select
        Select(self.find(css)).select_by_value(value)

    def cookies(self):
        """{name: cookie dict} of the current page's cookies (HttpOnly ones too)."""
        return {c["name"]: c for c in self.driver.get_cookies()}

    # ------------------------------------------------------------ downloads

    @property
    def download_dir(self):
        """Where files the pages save land; downloads are allowed on first use."""
        path = os.path.join(self.tmp, "downloads")
        if not os.path.isdir(path):
            os.makedirs(path)
            self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
                "behavior": "allow", "downloadPath": path, "eventsEnabled": True})
        return path

    def wait_download(self, name, timeout=10.0):
        """Waits until the file `name` is completely saved; returns its path."""
        path = os.path.join(self.download_dir, name)
        self.wait(lambda: os.path.exists(path) and not os.path.exists(path + ".crdownload"),
                  timeout, what="download of " + name)
        return path

    # ------------------------------------------------------------ network

    def _conditions(self, offline=False, latency_ms=0, down_kbps=-1, up_kbps=-1):
        kbps = lambda v: -1 if v < 0 else int(v * 1000 / 8)  # noqa: E731
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": offline, "latency": latency_ms,
            "downloadThroughput": kbps(down_kbps), "uploadThroughput": kbps(up_kbps)})

    def throttle(self, latency_ms=2000, down_kbps=256, up_kbps=64):
        """Slows every request of the page: latency_ms more per request and a
        2G-like bandwidth, through the DevTools protocol."""
        self._conditions(latency_ms=latency_ms, down_kbps=down_kbps, up_kbps=up_kbps)

    def unthrottle(self):
        self._conditions()

    @contextlib.contextmanager
    def throttled(self, **kw):
        self.throttle(**kw)
        try:
            yield self
        finally:
            self.unthrottle()

    def set_offline(self, offline=True):
        self._conditions(offline=offline)

    def block(self, *patterns):
        """Makes requests whose URL matches a pattern ("*" wildcards) fail as
        a dropped connection would; block() with none lets them through again."""
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": list(patterns)})

    # ------------------------------------------------------------ logs

    def _drain_performance(self):
        for entry in self.driver.get_log("performance"):
            try:
                msg = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            if msg.get("method") == "Network.requestWillBeSent":
                req = msg["params"]["request"]
                self._requests.append((req.get("method", "GET"), req["url"]))

    def requests(self, clear=True):
        """[(method, url)] of every request the pages sent since the last call."""
        self._drain_performance()
        out = list(self._requests)
        if clear:
            self._requests = []
        return out

    def console(self, clear=True):
        """Console entries since the last call: [{"level": ..., "message": ...}]."""
        self._console.extend(self.driver.get_log("browser"))
        out = list(self._console)
        if clear:
            self._console = []
        return out

    def console_errors(self, clear=True):
        return [e["message"] for e in self.console(clear) if e.get("level") == "SEVERE"]
