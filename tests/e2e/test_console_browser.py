"""The staff console in a real browser (Debian chromium through
chromium-driver, see browser.py), the way a commune officer uses it on an
office PC: sign in, send a broadcast to a test segment and watch it finish
against the Telegram stub, upload a CSV with one bad row and read the error,
read an indicator that matches the uploaded dossiers, download a CSV, sign
out and be refused. Also: the page asks nothing from outside 127.0.0.1 and
weighs less than 100 KB.
"""
import csv
import datetime
import os

from browser import Browser, need_browser
from console_client import SCOPED_TOKEN, TOKENS, Console, dossier, to_csv
from harness import ADMIN_TOKEN, Chat, ServiceTest, seed_user

DESKTOP = (1280, 900)
TEST_COMMUNE = "Mường Lầm"  # communes of the 2025 list: the console takes no other
BROWSER_COMMUNE = "Xã Kiểm Thử Trình Duyệt"


class DesktopBrowserTest(ServiceTest):
    """The service and one desktop browser per class (no test of its own)."""

    @classmethod
    def setUpClass(cls):
        cls.browser = Browser.for_class(cls, viewport=DESKTOP, pixel_ratio=1.0)
        super().setUpClass()

    def setUp(self):
        need_browser(self)


class ConsoleBrowserTest(DesktopBrowserTest):
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    # ------------------------------------------------------------ helpers

    def url(self, path="/admin"):
        return "http://127.0.0.1:%d%s" % (self.bot.port, path)

    def sign_in(self, token=ADMIN_TOKEN):
        """The console, signed in (a sign-in left by an earlier test is kept)."""
        b = self.browser
        b.open(self.url())
        if not b.find_all("#token"):
            b.wait_js("return document.body.getAttribute('data-ready') === '1'", what="the console")
            return b
        b.fill("#token", token)
        self.press("#login button", "Đăng nhập")
        b.wait_js("return document.body.getAttribute('data-ready') === '1'", what="the console")
        return b

    def tearDown(self):
        if self.browser:
            self.browser.console()  # what one test logged is not the next one's
            self.browser.requests()

    def press(self, css, label):
        """Clicks the element css once it shows label (fewer driver round trips
        than searching every button by its text)."""
        b = self.browser
        b.wait_js("var e = document.querySelector(arguments[0]);"
                  "return !!e && e.offsetParent !== null && !e.disabled &&"
                  " e.textContent.trim() === arguments[1]", css, label, what=repr(label))
        b.find(css).click()
        return b

    TABS = {"Phát tin": "bc", "Hồ sơ": "hs", "Chỉ số": "cs", "Góp ý, khiếu nại": "gy",
            "Tình nguyện viên": "tnv", "Chờ cán bộ": "cb", "Nhật ký đăng nhập": "nk"}

    def tab(self, name):
        return self.press('#tabs a[href="#%s"]' % self.TABS[name], name)

    def unnamed_fields(self):
        """The visible form fields with no label, aria-label or title."""
        return self.browser.js(
            "return Array.from(document.querySelectorAll('input, select, textarea'))"
            ".filter(function (e) { return e.type !== 'hidden' && e.offsetParent !== null &&"
            "  !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.title; })"
            ".map(function (e) { return e.outerHTML.slice(0, 80); })")

    def upload(self, path, stored, refused):
        """The file uploaded in the Hồ sơ tab, its answer read."""
        b = self.sign_in()
        self.tab("Hồ sơ")
        b.find("#hs-file").send_keys(path)
        self.press("#hs-upload button", "Tải lên")
        b.wait(lambda: "bị từ chối %d" % refused in b.find("#hs-result").text, what="the upload result")
        self.assertIn("lưu %d" % stored, b.find("#hs-result").text)
        return b

    def sign_out(self):
        b = self.browser
        self.press("#logout button", "Đăng xuất")
        b.wait_js("return !!document.getElementById('token')", what="the sign-in form")

    # ------------------------------------------------------------ tests

    def test_sign_in_broadcast_to_a_test_segment_and_watch_it_finish_then_sign_out(self):
        users = []
        for _ in range(3):
            uid = self.new_user()
            seed_user(self.redis, "tg:%d" % uid, commune=TEST_COMMUNE)
            users.append(uid)
        seed_user(self.redis, "tg:%d" % self.new_user(), commune="Xã Khác")
        b = self.sign_in()
        b.requests()
        self.assertIn("expiry", b.cookies()["dvcbot_console"])  # not a browser-session cookie
        self.assertTrue(b.cookies()["dvcbot_console"]["httpOnly"])
        self.assertIsNone(b.js("return document.cookie.match(/dvcbot_console/)"))  # HttpOnly

        text = "Thông báo thử: UBND xã nhận hồ sơ cả sáng thứ Bảy."
        b.fill("#bc-text", text)
        b.fill("#bc-form .btnrow .bl", "Tra cứu hồ sơ")
        b.select("#bc-form .btnrow .bp", "i:tra_cuu_ho_so")
        for channel in b.js("return Array.from(document.querySelectorAll('#bc-channels input:checked'))"
                            ".map(function (e) { return e.value; })"):
            if channel != "telegram":
                b.find('#bc-channels input[value="%s"]' % channel).click()
        b.fill("#bc-communes", TEST_COMMUNE)
        self.assertEqual(b.texts("#bc-preview"), [text])  # the phone preview follows the form
        self.assertEqual(b.texts("#bc-pbtn span"), ["Tra cứu hồ sơ"])
        self.assertFalse(b.find("#bc-send").is_enabled())  # no sending before the count

        self.press("#bc-check", "Kiểm tra số người nhận")
        b.wait(lambda: "3 người" in b.find("#bc-count").text, what="the recipient count")
        self.press("#bc-send", "Gửi tin cho 3 người")
        b.wait_js("return document.getElementById('bcf-status').getAttribute('data-status') === 'done'",
                  timeout=20, what="the broadcast to finish")
        self.assertEqual(b.find("#bcf-sent").text, "3")
        self.assertEqual(b.find("#bcf-remaining").text, "0")
        sent = [c for c in self.tg.of("sendMessage") if c["json"]["text"] == text]
        self.assertEqual(sorted(c["json"]["chat_id"] for c in sent), sorted(users))
        self.assertIn(text, b.texts("#bc-list td"))

        b.download_dir  # noqa: B018 - allows downloads before the click
        b.click("#bc-list .csv")
        with open(b.wait_download("phat-tin.csv"), encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        self.assertIn(text, [r["Nội dung"] for r in rows])

        outside = [u for _, u in b.requests() if not u.startswith(("http://127.0.0.1", "blob:", "data:"))]
        self.assertEqual(outside, [])
        self.assertEqual(b.console_errors(), [])

        self.sign_out()
        self.assertNotIn("dvcbot_console", b.cookies())
        refused = b.js("return fetch('/admin/ui/broadcasts', {credentials: 'same-origin'})"
                       ".then(function (r) { return r.status; })")
        self.assertEqual(refused, 401)

    def test_half_filled_buttons_are_named_a_lost_answer_can_be_sent_again_and_a_reload_keeps_the_progress(self):
        commune = "Xã Tà Xùa"
        for _ in range(2):
            seed_user(self.redis, "tg:%d" % self.new_user(), commune=commune)
        text = "Thông báo thử: lịch tiếp dân tuần sau."
        b = self.sign_in()
        b.fill("#bc-text", text)
        b.fill("#bc-communes", commune)
        b.fill("#bc-form .btnrow .bl", "Xem thủ tục")  # ...and no action chosen beside it
        self.press("#bc-check", "Kiểm tra số người nhận")
        b.wait(lambda: "Xem thủ tục" in b.find("#bc-error").text, what="the half-filled button named")
        self.assertIn("chưa chọn việc của nút", b.find("#bc-error").text)
        self.assertFalse(b.find("#bc-send").is_enabled())
        b.fill("#bc-form .btnrow .bl", "")
        b.select("#bc-form .btnrow .bp", "i:tra_cuu_ho_so")  # an action alone takes its name
        self.assertEqual(b.find("#bc-form .btnrow .bl").get_attribute("value"), "Tra cứu hồ sơ")
        self.assertEqual(b.texts("#bc-pbtn span"), ["Tra cứu hồ sơ"])
        def send_at(when):
            b.js("var e = document.getElementById('bc-when'); e.value = arguments[0];"
                 "e.dispatchEvent(new Event('change', {bubbles: true}));", when.strftime("%Y-%m-%dT%H:%M"))
        now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7)))
        send_at(now - datetime.timedelta(days=366))  # last year's date typed for tomorrow's reminder
        self.press("#bc-check", "Kiểm tra số người nhận")
        b.wait(lambda: "đã qua" in b.find("#bc-error").text, what="the time that has passed refused")
        self.assertFalse(b.find("#bc-send").is_enabled())
        send_at(now + datetime.timedelta(hours=2))
        self.press("#bc-check", "Kiểm tra số người nhận")
        b.wait(lambda: "2 người" in b.find("#bc-count").text, what="the recipient count")

        b.block("*/admin/ui/broadcasts")  # the connection drops: no answer
        self.press("#bc-send", "Gửi tin cho 2 người")
        b.wait(lambda: "Không kết nối được" in b.find("#bc-error").text, what="the lost answer")
        b.block()
        b.console()  # the dropped request's own line
        self.press("#bc-send", "Gửi tin cho 2 người")  # pressed again: sent once
        b.wait_js("return document.getElementById('bcf-status').getAttribute('data-status') === 'scheduled'",
                  what="the scheduled broadcast")
        followed = b.find("#bcf-id").text

        b.reload()  # the officer presses F5 while it waits
        b.wait_js("return document.getElementById('bcf-status').getAttribute('data-status') === 'scheduled'",
                  what="the progress shown again")
        self.assertEqual(b.find("#bcf-id").text, followed)
        self.press("#bcf-cancel", "Dừng gửi")  # one press only asks for a second
        self.assertEqual(self.redis("HGET", "bc:" + followed, "status"), "scheduled")
        self.press("#bcf-cancel", "Bấm lần nữa để dừng hẳn (không gửi tiếp được)")
        b.wait_js("return document.getElementById('bcf-status').getAttribute('data-status') === 'cancelled'",
                  what="the broadcast stopped")
        rows = b.wait(lambda: [r for r in b.js(
            "return Array.from(document.querySelectorAll('#bc-list tbody tr')).map(function (r) {"
            "  return Array.from(r.cells).map(function (c) { return c.textContent; }); })")
            if text in r and "đã dừng" in r], what="the stopped broadcast listed")
        self.assertEqual(len(rows), 1)  # one broadcast, not two
        self.assertEqual(b.console_errors(), [])

    def test_upload_a_csv_with_a_bad_row_then_read_the_indicator_it_makes(self):
        now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7)))
        received = now.isoformat(timespec="seconds")
        rows = [dossier("BRW.04-0001", commune=BROWSER_COMMUNE, received=received),
                dossier("BRW.04-0002", commune=BROWSER_COMMUNE, received=received, fee=20000,
                        paid_online=True),
                dossier("BRW.04-0003", commune=BROWSER_COMMUNE, received=received, online=False),
                dossier("BRW.04-0004", commune=BROWSER_COMMUNE, received="hôm qua"),
                dossier("BRW.04-0005", commune="", received=received)]
        path = os.path.join(self.tmp, "ho-so-xuat.csv")
        with open(path, "wb") as f:
            f.write(to_csv(rows))
        b = self.upload(path, stored=4, refused=1)
        cells = b.texts("#hs-errors td")
        self.assertEqual(cells[:3], ["5", "BRW.04-0004", "Ngày nhận"])  # line 5: header + 4
        self.assertIn("2025-03-14T08:00:00+07:00", cells[3])  # the reason, in Vietnamese

        b.fill("#hs-code", "brw.04-0002")
        self.press("#hs-search button", "Tìm")
        b.wait(lambda: "BRW.04-0002" in b.texts("#hs-found td"), what="the dossier found")
        found = dict(zip(b.texts("#hs-found td")[::2], b.texts("#hs-found td")[1::2]))
        self.assertEqual(found["Ngày nhận"], now.strftime("%d/%m/%Y %H:%M"))  # not 2025-...T08:00:00+07:00
        self.assertEqual(found["Hạn trả"], "20/01/2025")

        self.tab("Chỉ số")
        row = b.wait_js("var name = arguments[0];"
                        "var rows = Array.from(document.querySelectorAll('#cs-table tbody tr'));"
                        "var r = rows.filter(function (r) { return r.cells[0].textContent === name; })[0];"
                        "return r && Array.from(r.cells).map(function (c) {"
                        "  return [c.textContent, c.firstElementChild ? c.firstElementChild.className : ''];"
                        "});", BROWSER_COMMUNE, what="the commune's row")
        self.assertEqual([c[0] for c in row[1:4]], ["3", "2", "66.7%"])  # received, online, share
        self.assertEqual(row[3][1], "bad")  # below the 70 % target
        self.assertIn(BROWSER_COMMUNE, b.texts("#cs-table svg.chart text"))  # the inline chart
        # records without a commune (a procedure that asks none, such as nop_phat_giao_thong)
        names = b.texts("#cs-table tbody tr td:first-child")
        self.assertIn("Không theo xã", names)
        self.assertNotIn("", names)

        b.download_dir  # noqa: B018 - allows downloads before the click
        b.click("#cs-table .csv")
        period = b.find("#cs-period").get_attribute("value")
        with open(b.wait_download("chi-so-%s-commune.csv" % period), encoding="utf-8-sig") as f:
            table = {r["Xã/phường"]: r for r in csv.DictReader(f)}
        self.assertEqual(table[BROWSER_COMMUNE]["Hồ sơ nhận"], "3")
        self.assertEqual(table[BROWSER_COMMUNE]["Tỷ lệ toàn trình"], "66.7")
        self.assertEqual(b.console_errors(), [])

    def test_an_excel_csv_with_day_month_dates_and_status_names_is_read_and_ambiguous_rows_named(self):
        path = os.path.join(self.tmp, "xuat-tu-excel.csv")
        with open(path, "w", encoding="utf-8-sig", newline="") as f:  # Excel's "CSV UTF-8", ';'
            f.write("code;procedure;phone;status;received_at;due_at\r\n"
                    "XLB.01-0001;khai_sinh;0912345678;Chờ nộp lệ phí;20/11/2024 8:00;25/11/2024\r\n"
                    "XLB.01-0002;khai_sinh;0912345678;Đang xử lý;11/20/2024;\r\n"
                    "XLB.01-0003;khai_sinh;0912345678;Đang xử lý;20/11/24;\r\n")
        b = self.upload(path, stored=1, refused=2)
        rows = b.js("return Array.from(document.querySelectorAll('#hs-errors tbody tr')).map(function (r) {"
                    "  return Array.from(r.cells).slice(0, 4).map(function (c) { return c.textContent; }); })")
        self.assertEqual([r[:3] for r in rows], [["3", "XLB.01-0002", "Ngày nhận"],
                                                 ["4", "XLB.01-0003", "Ngày nhận"]])
        self.assertIn("kiểu tháng/ngày", rows[0][3])  # in Vietnamese, on the row it names
        self.assertIn("ghi đủ 4 chữ số", rows[1][3])
        b.fill("#hs-code", "XLB.01-0001")
        self.press("#hs-search button", "Tìm")
        b.wait(lambda: "XLB.01-0001" in b.texts("#hs-found td"), what="the dossier found")
        found = dict(zip(b.texts("#hs-found td")[::2], b.texts("#hs-found td")[1::2]))
        self.assertEqual(found["Trạng thái"], "Chờ nộp lệ phí")
        self.assertEqual(found["Ngày nhận"], "20/11/2024 08:00")
        self.assertEqual(found["Hạn trả"], "25/11/2024")
        self.assertEqual(b.console_errors(), [])

    def test_the_sign_in_trail_shows_who_signed_in_with_which_token_and_counts_wrong_tries_on_a_phone(self):
        import hashlib
        b = self.browser
        b.open(self.url())
        if not b.find_all("#token"):
            self.sign_out()
        b.fill("#token", "mat-khau-go-nham-0123456789")
        self.press("#login button", "Đăng nhập")
        # The form is there before the answer too: wait for the refusal itself, or
        # sign_in() below navigates away while the wrong try is still in flight.
        b.wait_js("var e = document.querySelector('.m-bad');"
                  "return !!e && e.offsetParent !== null && !!document.getElementById('token')",
                  what="the refusal of the wrong code")
        self.sign_in()
        try:
            b.resize(390, 844)  # an officer's phone
            self.tab("Nhật ký đăng nhập")
            b.wait(lambda: b.texts("#nk-list tbody td"), what="the trail")
            first = b.js("return Array.from(document.querySelectorAll('#nk-list tbody tr')[0].cells)"
                         ".map(function (c) { return c.textContent; })")
            self.assertEqual(first[1:], ["Đăng nhập", hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()[:12],
                                         "Toàn tỉnh", "127.0.0.*", ""])  # no resident named
            failed = b.texts("#nk-failed tbody td")
            self.assertEqual(failed[1:], ["127.0.0.*", "1"])
            self.assertFalse(b.js("return document.documentElement.scrollWidth > window.innerWidth"))
            self.assertEqual(self.unnamed_fields(), [])
        finally:
            b.resize(*DESKTOP)
        self.assertNotIn("mat-khau-go-nham", " ".join(self.redis("KEYS", "*")))
        refused = "/admin/login - Failed to load resource: the server responded with a status of 401"
        self.assertEqual([e for e in b.console_errors() if refused not in e], [])  # but the wrong try's

    def test_communes_are_offered_from_the_2025_list_and_an_unknown_one_is_refused_with_the_nearest(self):
        b = self.sign_in()
        try:
            b.resize(390, 844)  # an officer's phone
            self.tab("Tình nguyện viên")
            offered = b.js("var l = document.getElementById('tv-commune').list;"
                           "return Array.from(l.options).map(function (o) { return [o.value, o.textContent]; })")
            self.assertEqual(len(offered), 113)
            self.assertIn(["Chiềng Cơi", "phường Chiềng Cơi, Sơn La"], offered)
            self.assertEqual(b.js("return document.getElementById('tnv-commune').list.id"), "commune-names")
            b.fill("#tv-commune", "Hua La")  # an old commune, merged in 2025
            b.fill("#tv-name", "Bản Phiêng Ngùa")
            b.fill("#tv-households", "30")
            self.press("#tnv-village button", "Lưu thôn/bản")
            b.wait(lambda: "Hua La" in b.find("#tv-error").text, what="the refusal")
            self.assertIn("Tên gần nhất: Chiềng Cơi", b.find("#tv-error").text)
            self.assertNotIn("Bản Phiêng Ngùa", str(self.redis("HGETALL", "coverage:villages")))
            self.assertFalse(b.js("return document.documentElement.scrollWidth > window.innerWidth"))
            self.tab("Phát tin")
            b.fill("#bc-communes", "Chiềng Cơi, Mư")  # the second name completed, the first kept
            suggested = b.js("return Array.from(document.getElementById('bc-commune-names').options)"
                             ".map(function (o) { return o.value; })")
            self.assertIn("Chiềng Cơi, Mường Bú", suggested)
            self.assertFalse(b.js("return document.documentElement.scrollWidth > window.innerWidth"))
            self.assertEqual(self.unnamed_fields(), [])
        finally:
            b.resize(*DESKTOP)
        b.console()  # the refused call's own 422 line

    def test_every_section_opens_and_fills_without_an_error(self):
        self.redis("SADD", "volunteers", "tg:777000111")
        self.redis("HSET", "vol:{tg:777000111}", "commune", "Mường Bú")
        # a payment the gateway confirmed that the dossier did not take (test_console.py makes real ones)
        now = str(int(self.bot.now()))
        self.redis("HSET", "dossier:BRW.05-0001", "code", "BRW.05-0001", "procedure", "khai_sinh",
                   "commune", "Mường Bú", "status", "cho_thanh_toan", "fee", "50000")
        self.redis("HSET", "pay:DVCBRW05", "amount", "30000", "code", "BRW.05-0001", "status", "paid",
                   "applied", "0", "reason", "fee_changed", "paid_at", now, "transaction_no", "5550001")
        self.redis("ZADD", "pay:unapplied", now, "DVCBRW05")
        b = self.sign_in()
        for name, box in (("Góp ý, khiếu nại", "#gy-list"), ("Tình nguyện viên", "#tnv-cov"),
                          ("Chờ cán bộ", "#cb-list"), ("Hồ sơ", "#hs-errors"), ("Chỉ số", "#cs-table"),
                          ("Phát tin", "#bc-list")):
            self.tab(name)
            b.wait_js("var e = document.querySelector(arguments[0]);"
                      "return e.offsetParent !== null && e.textContent.trim() !== ''", box,
                      what="the %s section" % name)
            self.assertEqual(self.unnamed_fields(), [], name)  # a screen reader names every field
        self.tab("Hồ sơ")
        b.wait(lambda: "BRW.05-0001" in b.texts("#hs-unapplied td"), what="the payment not applied")
        self.assertIn("Lệ phí đã thay đổi sau khi tạo liên kết", b.texts("#hs-unapplied td"))
        self.assertIn("30.000", b.texts("#hs-unapplied td"))
        # refunded by hand: a second press confirms, the row leaves, the record says so
        self.press("#hs-unapplied td .actions button", "Đã hoàn tiền")
        self.assertEqual(self.redis("HGET", "pay:DVCBRW05", "applied"), "0")   # one press: not yet
        self.press("#hs-unapplied td .actions button", "Bấm lần nữa: đã hoàn tiền")
        b.wait(lambda: "BRW.05-0001" not in b.texts("#hs-unapplied td"), what="the row to leave")
        self.assertIn("Đã ghi là hoàn tiền: BRW.05-0001", b.texts("#notice")[0])
        self.assertEqual(self.redis("HGET", "pay:DVCBRW05", "applied"), "refunded")
        self.tab("Tình nguyện viên")
        b.wait(lambda: "tg:777000111" in b.texts("#tnv-list td"), what="the volunteer")
        b.fill("#tnv-user", "0912345678")  # a phone number where the user key goes: the browser says how
        self.assertIn("tg:123456789", b.js("return document.getElementById('tnv-user').validationMessage"))
        b.fill("#tnv-user", "")
        self.press("#tnv-list td button", "Xóa")  # one press only asks for a second
        self.assertEqual(self.redis("SISMEMBER", "volunteers", "tg:777000111"), 1)
        self.press("#tnv-list td button", "Bấm lần nữa để xóa")
        b.wait(lambda: "tg:777000111" not in b.texts("#tnv-list td"), what="the volunteer removed")
        self.assertEqual(self.redis("SISMEMBER", "volunteers", "tg:777000111"), 0)
        b.fill("#tv-commune", "Mường Bú")
        b.fill("#tv-name", "Bản Huổi Phạ")
        b.fill("#tv-households", "12")
        self.press("#tnv-village button", "Lưu thôn/bản")
        b.wait(lambda: "Bản Huổi Phạ" in b.texts("#tnv-cov td"), what="the village")
        self.assertEqual(b.console_errors(), [])

    def test_page_weight_is_under_100_kb(self):
        staff = Console(self.bot)
        staff.sign_in(ADMIN_TOKEN)
        total = 0
        for path in ("/admin", "/admin/static/console_texts.js", "/admin/static/console.js",
                     "/admin/static/console.css"):
            status, _, body = staff.request("GET", path)
            self.assertEqual(status, 200, path)
            total += len(body)
        self.assertIsNotNone(staff.csrf)  # that was the console, not the sign-in form
        print("\nconsole page weight: %d bytes" % total)
        self.assertLess(total, 100 * 1024)


class DeskErasureBrowserTest(DesktopBrowserTest):
    """A commune officer erases a resident's data at the desk, on an office
    PC: the resident reads out the code from their chat, the officer types
    it in the console's tab (a wrong one first)."""
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def sign_in(self, token):
        b = self.browser
        b.open("http://127.0.0.1:%d/admin" % self.bot.port)
        if not b.find_all("#token"):
            b.click("#logout button")
            b.wait_js("return !!document.getElementById('token')", what="the sign-in form")
        b.fill("#token", token)
        b.click("#login button")
        b.wait_js("return document.body.getAttribute('data-ready') === '1'", what="the console")
        return b

    def test_an_officer_types_the_code_a_resident_reads_out_and_the_data_is_gone(self):
        import re
        resident = Chat(self)
        resident.say("xin chào")
        resident.say("xóa dữ liệu của tôi")
        shown = resident.press("erase:desk")[-1]["text"]
        code = re.search(r"\b(\d{6})\b", shown).group(1)
        self.assertEqual(self.redis("EXISTS", "s:{%s}" % resident.key, "u:{%s}" % resident.key), 2)
        b = self.sign_in(SCOPED_TOKEN)
        b.click('#tabs a[href="#xd"]')
        b.wait_js("return document.getElementById('xd').offsetParent !== null", what="the tab")
        b.fill("#xd-code", "%06d" % ((int(code) + 1) % 1000000))
        b.click("#xd-form button")
        b.wait(lambda: b.find("#xd-error").text, what="the refusal")
        self.assertIn("Mã không đúng", b.find("#xd-error").text)
        self.assertEqual(self.redis("EXISTS", "u:{%s}" % resident.key), 1)   # nothing erased
        b.fill("#xd-code", code[:3] + " " + code[3:])                         # as read out
        b.click("#xd-form button")
        b.wait(lambda: b.find("#xd-done").text, what="the erasure")
        done = b.find("#xd-done").text
        # what was erased, as the resident's chat says it: the count and the kinds in words
        told = self.bot.inbox(resident.user)[0]["text"]
        items = re.search(r"Đã xóa (\d+) mục", told).group(1)
        self.assertIn("Đã xóa toàn bộ dữ liệu của người dân: %s mục" % items, done)
        self.assertIn("phiên trò chuyện và hướng dẫn đang làm dở", done)
        self.assertIn("thông tin kênh liên lạc", done)
        self.assertNotIn(resident.user, done)
        self.assertEqual(b.find("#xd-error").text, "")
        self.assertEqual(b.js("return document.getElementById('xd-code').value"), "")
        self.assertEqual(self.redis("EXISTS", "s:{%s}" % resident.key, "u:{%s}" % resident.key), 0)
        self.assertIn("Đã xóa", told)                                         # told in their own chat
        b.resize(390, 844)  # an officer's phone
        try:
            self.assertFalse(b.js("return document.documentElement.scrollWidth > window.innerWidth"))
        finally:
            b.resize(*DESKTOP)
        b.console()  # the wrong code's own 422 line
        # province staff have no such tab: it is the desk's
        b = self.sign_in(ADMIN_TOKEN)
        self.assertFalse(b.js("return document.querySelector('#tabs a[href=\"#xd\"]').offsetParent !== null"))
        b.open("http://127.0.0.1:%d/admin#xd" % self.bot.port)
        b.wait_js("return document.body.getAttribute('data-ready') === '1'", what="the console")
        self.assertFalse(b.js("return document.getElementById('xd').offsetParent !== null"))
