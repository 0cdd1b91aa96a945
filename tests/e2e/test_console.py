"""Staff console at /admin over plain HTTP: sign-in, session cookies, CSRF,
expiry, sign-in limits, commune scope and the short-token refusal at start.
What officers do once signed in is in test_console_records.py (dossiers,
indicators, payments) and test_console_residents.py (broadcasts, feedback,
hand-offs, volunteers); the client is console_client.py, the browser
walk-through test_console_browser.py.
"""
import json
import time
import unittest
import urllib.parse

from console_client import SCOPED_COMMUNE, SCOPED_TOKEN, TOKENS, Console, console_error_vi, cookies_of
from harness import ADMIN_TOKEN, ServiceTest, run_cli

TTL = 3600


class ConsoleAuthTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": TOKENS, "DVCBOT_CONSOLE_TTL": str(TTL),
                 "DVCBOT_CONSOLE_MAX_AGE": str(4 * TTL),
                 "DVCBOT_CONSOLE_LOGIN_LIMIT": "3", "DVCBOT_TRUSTED_PROXIES": "127.0.0.1"}

    def test_sign_in_page_is_a_form_with_its_own_csrf_cookie(self):
        c = Console(self.bot)
        status, headers, html = c.page()
        self.assertEqual(status, 200)
        self.assertIn('action="/admin/login"', html)
        self.assertIn("Mã đăng nhập", html)
        self.assertIsNone(c.csrf)  # no console before signing in
        cookie = cookies_of(headers)["dvcbot_login"]
        self.assertIn("httponly", cookie[1])
        self.assertIn("samesite=strict", cookie[1])
        self.assertIn("Content-Security-Policy", dict(headers))

    def test_token_exchanges_for_an_httponly_strict_expiring_session_cookie_stored_in_redis(self):
        c = Console(self.bot)
        status, headers, _ = c.sign_in(ADMIN_TOKEN)
        self.assertEqual(dict(headers)["Location"], "/admin")
        value, attrs = cookies_of(headers)["dvcbot_console"]
        # the cookie lasts the absolute maximum; the session in Redis slides by TTL
        for attr in ("httponly", "samesite=strict", "path=/admin", "max-age=%d" % (4 * TTL)):
            self.assertIn(attr, attrs)
        self.assertNotIn("secure", attrs)  # PUBLIC_BASE_URL is not https here
        self.assertNotIn(ADMIN_TOKEN, value)
        session = self.redis("HGETALL", "console:s:" + c.sid)
        fields = dict(zip(session[::2], session[1::2]))
        self.assertEqual(fields["csrf"], c.csrf)
        self.assertEqual(fields["commune"], "")
        self.assertNotIn(ADMIN_TOKEN, json.dumps(fields))  # only a fingerprint
        ttl = self.redis("TTL", "console:s:" + c.sid)
        self.assertTrue(TTL - 60 < ttl <= TTL, ttl)
        self.assertEqual(int(fields["expires"]) - int(fields["created"]), TTL)
        status, _, html = c.page()
        self.assertIn("Đăng xuất", html)

    def test_wrong_token_is_refused_and_repeated_failures_lock_the_address(self):
        c = Console(self.bot)
        for _ in range(3):
            status, _, data = c.sign_in("wrong-token-0123456789abc", expect=401)
            self.assertIn("s-bad", data.decode())
        status, _, data = c.sign_in(ADMIN_TOKEN, expect=429)  # even the right token, now
        self.assertIn("s-limited", data.decode())
        self.assertNotIn("dvcbot_console", c.jar)
        other = Console(self.bot)  # another address is not locked
        other.sign_in(ADMIN_TOKEN)

    def test_sign_in_without_the_forms_csrf_cookie_is_refused(self):
        c = Console(self.bot)
        form = c.login_form_csrf()
        c.jar.pop("dvcbot_login")
        body = urllib.parse.urlencode({"csrf": form, "token": ADMIN_TOKEN}).encode()
        status, _, data = c.request("POST", "/admin/login", body,
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 403)
        self.assertNotIn("dvcbot_console", c.jar)

    def test_page_calls_need_a_session_and_posts_need_the_csrf_token(self):
        anon = Console(self.bot)
        self.assertEqual(anon.call("GET", "meta")[0], 401)
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        status, meta = c.call("GET", "meta")
        self.assertEqual(status, 200)
        self.assertIn("khai_sinh", [p["id"] for p in meta["procedures"]])
        body = {"text": "x", "segment": {"channels": ["telegram"]}}
        self.assertEqual(c.call("POST", "broadcasts/count", body, csrf=False)[0], 403)
        c.csrf, good = "0" * 32, c.csrf
        self.assertEqual(c.call("POST", "broadcasts/count", body)[0], 403)
        c.csrf = good
        self.assertEqual(c.call("POST", "broadcasts/count", body)[0], 200)

    def test_expired_session_is_refused(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.assertEqual(c.call("GET", "meta")[0], 200)
        self.redis("HSET", "console:s:" + c.sid, "expires", int(time.time()) - 1)
        status, refused = c.call("GET", "meta")
        self.assertEqual(status, 401)
        # the page says it in Vietnamese, and the sign-in form says why it is back
        self.assertIn("Phiên làm việc đã kết thúc", console_error_vi(refused["error"]))
        status, _, html = c.page()
        self.assertIn('action="/admin/login"', html)
        self.assertRegex(html, r'<body class="login s-ended">')
        c.jar.pop("dvcbot_console")  # a first visit says nothing of the kind
        self.assertRegex(c.page()[2], r'<body class="login ">')

    def test_forged_or_tampered_cookies_are_refused(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        sid, mac = c.jar["dvcbot_console"].split(".")
        c.jar["dvcbot_console"] = sid + "." + ("0" if mac[0] != "0" else "1") + mac[1:]
        self.assertEqual(c.call("GET", "meta")[0], 401)
        c.jar["dvcbot_console"] = "f" * 48 + "." + mac
        self.assertEqual(c.call("GET", "meta")[0], 401)
        # an unsigned cookie gets no more than the usual body limit
        status, _, _ = c.request("POST", "/admin/ui/dossiers", b"x" * (1024 * 1024 + 10),
                                 {"Content-Type": "text/csv"})
        self.assertEqual(status, 413)

    def test_sign_out_ends_the_session_everywhere(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        old_cookie = c.jar["dvcbot_console"]
        sid = c.sid
        status, headers, _ = c.sign_out()
        self.assertEqual(status, 303)
        self.assertIn("max-age=0", cookies_of(headers)["dvcbot_console"][1])
        self.assertEqual(self.redis("EXISTS", "console:s:" + sid), 0)
        c.jar["dvcbot_console"] = old_cookie  # a copy of the cookie is worth nothing now
        self.assertEqual(c.call("GET", "meta")[0], 401)

    def test_sign_out_without_csrf_does_not_sign_out(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        good, c.csrf = c.csrf, ""
        c.sign_out()
        c.csrf = good
        self.assertEqual(c.call("GET", "meta")[0], 200)

    def test_commune_token_is_for_the_console_only(self):
        status, _, body = self.bot.admin("GET", "/admin/stats", token=SCOPED_TOKEN)
        self.assertEqual(status, 403)
        self.assertIn("console", body.decode())
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        self.assertEqual(c.call("GET", "meta")[1]["scope"], SCOPED_COMMUNE)
        status, _, html = c.page()
        self.assertIn('data-scope="%s"' % SCOPED_COMMUNE, html)
        self.assertEqual(self.bot.admin("GET", "/admin/stats")[0], 200)  # bearer API unchanged

    def test_sign_ins_and_outs_are_in_a_bounded_trail_with_token_ids_and_masked_addresses(self):
        import hashlib
        self.redis("DEL", "console:audit")
        for i in range(1000):  # a full trail: the oldest event makes room
            self.redis("RPUSH", "console:audit", '{"at":%d,"event":"sign_in","token":"old","label":"","from":""}' % i)
        wrong = "wrong-token-audit-0123456789"
        c = Console(self.bot, addr="10.9.77.5")
        c.sign_in(wrong, expect=401)
        c.sign_in(ADMIN_TOKEN)
        officer = Console(self.bot, addr="10.9.78.6")
        officer.sign_in(SCOPED_TOKEN)
        officer.sign_out()
        status, trail = c.call("GET", "audit")
        self.assertEqual(status, 200)
        events = [(e["event"], e["token"], e["label"], e["from"]) for e in trail["events"][:3]]
        fp = lambda t: hashlib.sha256(t.encode()).hexdigest()[:12]
        self.assertEqual(events, [("sign_out", fp(SCOPED_TOKEN), SCOPED_COMMUNE, "10.9.78.*"),
                                  ("sign_in", fp(SCOPED_TOKEN), SCOPED_COMMUNE, "10.9.78.*"),
                                  ("sign_in", fp(ADMIN_TOKEN), "", "10.9.77.*")])
        self.assertEqual(self.redis("LLEN", "console:audit"), 1000)
        self.assertEqual(len(trail["events"]), 200)
        self.assertIn({"day": trail["failed"][0]["day"], "from": "10.9.77.*", "count": 1}, trail["failed"])
        stored = " ".join(self.redis("LRANGE", "console:audit", "0", "-1"))
        for key in self.redis("KEYS", "console:audit:failed:*"):
            stored += " ".join(self.redis("HGETALL", key)) + key
        for secret in (wrong, ADMIN_TOKEN, SCOPED_TOKEN, "10.9.77.5", "10.9.78.6",
                       hashlib.sha256(wrong.encode()).hexdigest()[:12]):
            self.assertNotIn(secret, stored)
        officer.sign_in(SCOPED_TOKEN)
        status, body = officer.call("GET", "audit")
        self.assertEqual(status, 403)  # the trail is the province's
        self.assertEqual(console_error_vi(body["error"]), "Nhật ký đăng nhập chỉ dành cho cán bộ cấp tỉnh.")


    def test_addresses_in_the_trail_and_the_log_are_masked_ipv6_to_its_48_however_written(self):
        # The mask cut the compressed /64 group at its third ':': "2001:db8::1"
        # showed as "2001:db8::*", "2001:db8:0:1::1" as "2001:db8:0:*", "2001::1"
        # as nothing; and the log of a refused sign-in had the address unmasked.
        # Session 10: the trail and the log show an IPv6 /48 ("2001:db8:0:*"),
        # not the /64, which is one subscriber's line: as precise as a whole
        # IPv4 address, where IPv4 shows its /24. Limits still count per /64.
        c = Console(self.bot, addr="2001:db8::1")
        c.sign_in(ADMIN_TOKEN)
        Console(self.bot, addr="2001:0db8:0000:0001:0000:0000:0000:0001").sign_in(ADMIN_TOKEN)
        Console(self.bot, addr="::ffff:10.9.79.7").sign_in(ADMIN_TOKEN)
        wrong = "wrong-token-mask-0123456789"
        Console(self.bot, addr="2001:db8:0:2::5").sign_in(wrong, expect=401)
        Console(self.bot, addr="2001:db8:77:3::5").sign_in(wrong, expect=401)
        Console(self.bot, addr="10.9.80.8").sign_in(wrong, expect=401)
        status, trail = c.call("GET", "audit")
        self.assertEqual(status, 200)
        self.assertEqual([e["from"] for e in trail["events"][:3]],
                         ["10.9.79.*", "2001:db8:0:*", "2001:db8:0:*"])  # IPv4-mapped, full, compressed
        failed = {f["from"]: f["count"] for f in trail["failed"]}
        self.assertEqual((failed.get("2001:db8:0:*"), failed.get("2001:db8:77:*"), failed.get("10.9.80.*")),
                         (1, 1, 1))
        log = self.bot.read_log()
        for shown in ('"addr":"2001:db8:0:*"', '"addr":"2001:db8:77:*"', '"addr":"10.9.80.*"'):
            self.assertIn(shown, log)
        for clear in ("2001:db8:0:2", "2001:db8:77:3", "2001:db8::", "10.9.80.8", "10.9.79.7"):
            self.assertNotIn(clear, log)
        stored = " ".join(self.redis("LRANGE", "console:audit", 0, -1))
        self.assertNotIn("2001:db8:0:1", stored)
        # the limit still holds one /64 only: its neighbour in the same /48 signs in
        for _ in range(2):  # with the one above: DVCBOT_CONSOLE_LOGIN_LIMIT (3)
            Console(self.bot, addr="2001:db8:0:2::6").sign_in(wrong + "x", expect=401)
        Console(self.bot, addr="2001:db8:0:2::7").sign_in(ADMIN_TOKEN, expect=429)
        Console(self.bot, addr="2001:db8:0:4::7").sign_in(ADMIN_TOKEN)


class ConsoleSecureCookieTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "PUBLIC_BASE_URL": "https://dvc.example.vn"}

    def test_cookies_are_secure_when_the_public_url_is_https(self):
        c = Console(self.bot)
        _, headers, _ = c.page()
        self.assertIn("secure", cookies_of(headers)["dvcbot_login"][1])
        _, headers, _ = c.sign_in(ADMIN_TOKEN)
        self.assertIn("secure", cookies_of(headers)["dvcbot_console"][1])


class ShortTokenTest(unittest.TestCase):
    def test_a_short_admin_token_is_refused_at_start_with_a_clear_message(self):
        for tokens in ("short-token", ADMIN_TOKEN + ",tiny", "tiny@Mường Bú",
                       ADMIN_TOKEN + "@"):
            proc = run_cli(["serve"], {"ADMIN_TOKENS": tokens, "DVCBOT_LISTEN": "127.0.0.1:0",
                                       "REDIS_URL": "redis://127.0.0.1:1"}, timeout=20)
            self.assertNotEqual(proc.returncode, 0, tokens)
            err = proc.stderr.decode()
            self.assertIn("ADMIN_TOKENS", err)
            if "@" not in tokens or tokens.startswith("tiny"):
                self.assertIn("shorter than 16 characters", err)
            self.assertNotIn("tiny", err)
            self.assertNotIn("short-token", err)


class ConsoleExpiryTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_CONSOLE_TTL": "600",
                 "DVCBOT_CONSOLE_MAX_AGE": "1500"}

    def test_a_session_left_unused_for_its_lifetime_ends(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.bot.advance_clock(601)
        status, refused = c.call("GET", "meta")
        self.assertEqual(status, 401)
        # the page says it in Vietnamese, and the sign-in form says why it is back
        self.assertIn("Phiên làm việc đã kết thúc", console_error_vi(refused["error"]))
        status, _, html = c.page()
        self.assertIn('action="/admin/login"', html)
        self.assertRegex(html, r'<body class="login s-ended">')
        c.jar.pop("dvcbot_console")  # a first visit says nothing of the kind
        self.assertRegex(c.page()[2], r'<body class="login ">')

    def test_a_session_in_use_goes_on_until_its_absolute_maximum(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        for _ in range(3):                               # 450 s apart: more than 600 s in all
            self.bot.advance_clock(450)
            self.assertEqual(c.call("GET", "meta")[0], 200)
        self.assertLessEqual(self.redis("TTL", "console:s:" + c.sid), 600)
        self.bot.advance_clock(200)                      # 1550 s after signing in
        self.assertEqual(c.call("GET", "meta")[0], 401)


_limit_addr = iter(range(1, 60000))


def limit_addr():
    return "10.77.%d.%d" % divmod(next(_limit_addr), 256)


class ConsoleSignInLimitTest(ServiceTest):
    """Failed sign-ins count per address and per token tried; everyone's
    together only past a much higher ceiling, which never locks out an
    address that signed in before."""
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS, "DVCBOT_CONSOLE_LOGIN_LIMIT": "2",
                 "DVCBOT_TRUSTED_PROXIES": "127.0.0.1"}

    def setUp(self):
        # each test starts with no failure counted (the flood fills the ceiling)
        for key in self.redis("KEYS", "console:fail:*"):
            self.redis("DEL", key)

    def test_one_wrong_token_tried_from_many_addresses_is_limited_by_itself(self):
        token = "guessed-token-00000000000001"
        for _ in range(2):
            Console(self.bot, limit_addr()).sign_in(token, expect=401)
        third = Console(self.bot, limit_addr())
        status, _, data = third.sign_in(token, expect=429)
        self.assertIn("s-limited", data.decode())
        third.sign_in(ADMIN_TOKEN)                        # its address is not locked

    def test_a_flood_does_not_lock_out_officers_who_signed_in_before(self):
        known = Console(self.bot, limit_addr())
        known.sign_in(ADMIN_TOKEN)
        known.sign_out()
        ceiling = 2 * 50                                  # the limit x CONSOLE_FAIL_ALL_FACTOR
        for i in range(ceiling // 2):
            attacker = Console(self.bot, limit_addr())
            for k in range(2):
                attacker.sign_in("flood-token-%04d-%d-000000000" % (i, k), expect=401)
        newcomer = Console(self.bot, limit_addr())
        newcomer.sign_in(ADMIN_TOKEN, expect=429)          # a new address waits
        Console(self.bot, known.addr).sign_in(ADMIN_TOKEN)  # an officer's address does not
