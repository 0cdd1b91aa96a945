"""Staff console at /admin over plain HTTP: sign-in, session cookies, CSRF,
expiry, sign-in limits, commune scope, the short-token refusal at start, and
the broadcast calls of the page (the browser walk-through is in
test_console_browser.py).
"""
import csv
import io
import json
import os
import re
import time
import unittest
import urllib.parse

import test_dossiers
import test_payments
from harness import ADMIN_TOKEN, ROOT, SLOW, ServiceTest, run_cli, seed_user, wait_until

SCOPED_TOKEN = "commune-officer-token-0042"
SCOPED_COMMUNE = "Mường Thanh"
TOKENS = "%s, %s@%s" % (ADMIN_TOKEN, SCOPED_TOKEN, SCOPED_COMMUNE)
TTL = 3600

_addr = iter(range(1, 250))


def fresh_addr():
    """A client address of its own (X-Forwarded-For from a trusted proxy), so
    sign-in limits of one test never reach another."""
    return "10.9.%d.%d" % divmod(next(_addr) + 300, 256)


def cookies_of(headers):
    """{name: (value, attributes lower-cased)} of every Set-Cookie."""
    out = {}
    raw = [v for k, v in headers if k.lower() == "set-cookie"] if isinstance(headers, list) else []
    for line in raw:
        first, _, attrs = line.partition(";")
        name, _, value = first.strip().partition("=")
        out[name] = (value, attrs.lower())
    return out


class Console:
    """One browser-like client of the console: keeps its cookies, reads the
    CSRF token from the page, sends the page's calls."""

    def __init__(self, bot, addr=None):
        self.bot = bot
        self.addr = addr or fresh_addr()
        self.jar = {}
        self.csrf = None

    def request(self, method, path, body=None, headers=None, raw_headers=False):
        h = {"X-Forwarded-For": self.addr}
        if self.jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.jar.items())
        h.update(headers or {})
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.bot.port, timeout=10 * SLOW)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            hdrs = resp.getheaders()
            data = resp.read()
        finally:
            conn.close()
        for name, (value, attrs) in cookies_of(hdrs).items():
            if "max-age=0" in attrs:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return resp.status, hdrs, data

    def page(self):
        status, headers, body = self.request("GET", "/admin")
        html = body.decode()
        m = re.search(r'<meta name="csrf" content="([0-9a-f]+)">', html)
        self.csrf = m.group(1) if m else None
        return status, headers, html

    def login_form_csrf(self):
        status, _, html = self.page()
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        assert m, html[:400]
        return m.group(1)

    def sign_in(self, token, expect=303):
        form = self.login_form_csrf()
        body = urllib.parse.urlencode({"csrf": form, "token": token}).encode()
        status, headers, data = self.request(
            "POST", "/admin/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == expect, (status, data[:300])
        if status == 303:
            self.page()
        return status, headers, data

    def sign_out(self):
        body = urllib.parse.urlencode({"csrf": self.csrf or ""}).encode()
        return self.request("POST", "/admin/logout", body,
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def call(self, method, path, body=None, csrf=True, content_type=None):
        """A call of the page to /admin/ui/<path>: (status, parsed JSON or None)."""
        headers = {}
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        if content_type:
            headers["Content-Type"] = content_type
        status, _, data = self.request(method, "/admin/ui/" + path, body, headers)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    @property
    def sid(self):
        return self.jar["dvcbot_console"].split(".")[0]


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
        self.assertEqual(c.call("GET", "meta")[0], 401)
        status, _, html = c.page()
        self.assertIn('action="/admin/login"', html)

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
        for tokens in ("short-token", ADMIN_TOKEN + ",tiny", "tiny@Mường Thanh",
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


class ConsoleBroadcastTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def users(self, n, commune):
        out = []
        for _ in range(n):
            key = "tg:%d" % self.new_user()
            seed_user(self.redis, key, commune=commune)
            out.append(key)
        return out

    def test_count_before_sending_matches_the_segment_and_stores_nothing(self):
        self.users(3, "Thanh Nưa")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        before = self.redis("GET", "bc:next")
        status, body = c.call("POST", "broadcasts/count", {
            "text": "Lịch tiếp dân", "segment": {"channels": ["telegram"], "communes": ["Thanh Nưa"]}})
        self.assertEqual((status, body), (200, {"recipients": 3, "dry_run": True}))
        self.assertEqual(self.redis("GET", "bc:next"), before)
        status, body = c.call("POST", "broadcasts/count", {"text": "", "segment": {}})
        self.assertEqual(status, 400)

    def test_commune_officer_sends_to_their_commune_only_and_sees_only_its_broadcasts(self):
        self.users(2, SCOPED_COMMUNE)
        self.users(2, "Thanh Luông")
        province = Console(self.bot)
        province.sign_in(ADMIN_TOKEN)
        status, other = province.call("POST", "broadcasts", {
            "text": "Tin cho Thanh Luông", "segment": {"channels": ["telegram"], "communes": ["Thanh Luông"]}})
        self.assertEqual(status, 202, other)
        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        seg = {"channels": ["telegram"], "communes": ["Thanh Luông", "Thanh Nưa"]}
        status, body = officer.call("POST", "broadcasts/count", {"text": "x", "segment": seg})
        self.assertEqual(body["recipients"], 2)
        status, mine = officer.call("POST", "broadcasts", {"text": "Tin của xã", "segment": seg})
        self.assertEqual(status, 202, mine)
        self.assertEqual(mine["recipients"], 2)
        stored = json.loads(self.redis("HGET", "bc:" + mine["id"], "segment"))
        self.assertEqual(stored["communes"], [SCOPED_COMMUNE])
        ids = [b["id"] for b in officer.call("GET", "broadcasts")[1]["broadcasts"]]
        self.assertIn(mine["id"], ids)
        self.assertNotIn(other["id"], ids)
        self.assertEqual(officer.call("GET", "broadcasts/" + other["id"])[0], 404)
        self.assertEqual(officer.call("POST", "broadcasts/%s/cancel" % other["id"])[0], 404)
        status, followed = officer.call("GET", "broadcasts/" + mine["id"])
        self.assertEqual(status, 200)
        self.assertEqual(followed["recipients"], 2)
        all_ids = [b["id"] for b in province.call("GET", "broadcasts")[1]["broadcasts"]]
        self.assertTrue({mine["id"], other["id"]} <= set(all_ids))


    def test_every_refusal_of_a_broadcast_reads_in_vietnamese_on_the_page(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        seg = {"channels": ["telegram"]}
        bad = [
            {"segment": seg},
            {"text": "x" * 2000, "segment": seg},
            {"text": "x", "segment": seg, "buttons": "no"},
            {"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "b"}] * 4},
            {"text": "x", "segment": seg, "buttons": [{"label": "", "payload": "b"}]},
            {"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "có dấu"}]},
            {"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "b", "x": 1}]},
            {"text": "x", "segment": seg, "buttons": ["a"]},
            {"text": "x"},
            {"text": "x", "segment": {}},
            {"text": "x", "segment": {"channels": ["sms"]}},
            {"text": "x", "segment": {"channels": ["zalo"]}},
            {"text": "x", "segment": {"channels": [1]}},
            {"text": "x", "segment": dict(seg, communes="Thanh Nưa")},
            {"text": "x", "segment": dict(seg, communes=[""])},
            {"text": "x", "segment": dict(seg, seen_within_days=0)},
            {"text": "x", "segment": dict(seg, dossier_status="xong")},
            {"text": "x", "segment": dict(seg, procedure="khai_sinh")},
            {"text": "x", "segment": dict(seg, tuoi=30)},
            {"text": "x", "segment": seg, "not_before": "mai"},
            {"text": "x", "segment": seg, "not_before": "2099-01-01T08:00:00+07:00"},
            {"text": "x", "segment": seg, "priority": "high"},
            [],
        ]
        seen = set()
        for body in bad:
            status, answer = c.call("POST", "broadcasts/count", body)
            self.assertEqual(status, 400, (body, answer))
            english = answer["error"]
            vi = console_error_vi(english)
            self.assertNotEqual(vi, english, english)
            self.assertNotIn("$", vi)
            seen.add(vi)
        self.assertGreater(len(seen), 15)  # one message per kind of refusal
        for english in ["no such broadcast", "store unavailable",
                        "broadcast is done; only a scheduled or running one can be cancelled",
                        "segment matches more than 100000 users; narrow it (communes, seen_within_days)",
                        "the broadcast with this Idempotency-Key is still being prepared; retry"]:
            self.assertNotEqual(console_error_vi(english), english)
        self.assertIn("done", console_error_vi(
            "broadcast is done; only a scheduled or running one can be cancelled"))


class ConsoleExpiryTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_CONSOLE_TTL": "600",
                 "DVCBOT_CONSOLE_MAX_AGE": "1500"}

    def test_a_session_left_unused_for_its_lifetime_ends(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.bot.advance_clock(601)
        self.assertEqual(c.call("GET", "meta")[0], 401)
        status, _, html = c.page()
        self.assertIn('action="/admin/login"', html)

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


CSV_FIELDS = ["code", "procedure", "applicant_name", "phone", "commune", "agency", "status",
              "received_at", "due_at", "fee", "paid", "submitted_online", "paid_online",
              "finished_at"]


def dossier(code, commune="Mường Thanh", agency="UBND xã Mường Thanh", procedure="khai_sinh",
            received="2025-01-10T08:00:00+07:00", due="2025-01-20", finished="", fee=0,
            paid=False, online=True, paid_online=False, status="dang_xu_ly"):
    return {"code": code, "procedure": procedure, "applicant_name": "Lò Văn Pọm",
            "phone": "0988 123 456", "commune": commune, "agency": agency,
            "status": status if not finished else "da_tra_ket_qua", "received_at": received,
            "due_at": due, "fee": str(fee), "paid": "true" if paid or paid_online else "false",
            "submitted_online": "true" if online else "false",
            "paid_online": "true" if paid_online else "false", "finished_at": finished}


def console_reason_vi(reason):
    """What the console page shows for an API reason: the first of its
    reasons (templates/console/console_texts.js) that matches, else the reason."""
    for pattern, text in console_table("reasons"):
        if re.search(pattern, reason):
            return text
    return reason


def console_table(name):
    """The [/pattern/, 'text'] pairs of the page's table `name`."""
    with open(os.path.join(ROOT, "templates", "console", "console_texts.js"), encoding="utf-8") as f:
        js = f.read()
    table = js[js.index("%s: [" % name):]
    table = table[:table.index("\n    ]")]
    return re.findall(r"\[/(.*?)/, '(.*?)'\]", table)


def console_error_vi(error):
    """What the console page shows for an API error message: the text of the
    first of its errors (templates/console/console_texts.js) that matches,
    with its $1, $2 filled in, else the message as it is."""
    for pattern, text in console_table("errors"):
        m = re.search(pattern, error)
        if m:
            return re.sub(r"\$(\d)", lambda d: m.group(int(d.group(1))) or "", text)
    return error


def to_csv(rows):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return out.getvalue().encode()


class ConsoleDossierTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def upload(self, c, rows, raw=None):
        return c.call("POST", "dossiers", raw if raw is not None else to_csv(rows),
                      content_type="text/csv")

    def test_upload_reports_each_bad_row_and_stores_the_others(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        rows = [dossier("CSL.01-0001"), dossier("CSL.01-0002"), dossier("CSL.01-0003")]
        rows[1]["status"] = "xong_roi"
        status, body = self.upload(c, rows)
        self.assertEqual(status, 200, body)
        self.assertEqual((body["received"], body["stored"], body["invalid"]), (3, 2, 1))
        self.assertEqual(body["errors"][0]["line"], 3)  # the header is line 1
        self.assertEqual(body["errors"][0]["field"], "status")
        self.assertEqual(body["errors"][0]["code"], "CSL.01-0002")
        self.assertEqual(self.redis("EXISTS", "dossier:CSL.01-0002"), 0)
        status, found = c.call("GET", "dossiers/csl.01-0003")
        self.assertEqual(status, 200)
        self.assertEqual(found["code"], "CSL.01-0003")
        self.assertEqual(found["phone_last4"], "3456")
        self.assertEqual(found["applicant"], "Lò V. P.")
        self.assertNotIn("0988", json.dumps(found))
        self.assertEqual(c.call("GET", "dossiers/CSL.01-0404")[0], 404)

    def test_commune_officer_uploads_and_finds_their_communes_dossiers_only(self):
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        rows = [dossier("SCP.02-0001", commune="Xã Mường Thanh"),
                dossier("SCP.02-0002", commune="Thanh Nưa")]
        status, body = self.upload(c, rows)
        self.assertEqual((status, body["stored"], body["invalid"]), (200, 1, 1))
        self.assertEqual(body["errors"][0]["field"], "commune")
        self.assertEqual(self.redis("EXISTS", "dossier:SCP.02-0002"), 0)
        self.bot.admin("POST", "/admin/dossiers", [dossier("SCP.02-0003", commune="Thanh Nưa")])
        self.assertEqual(c.call("GET", "dossiers/SCP.02-0001")[0], 200)
        self.assertEqual(c.call("GET", "dossiers/SCP.02-0003")[0], 404)

    def test_commune_officer_cannot_take_over_another_communes_dossier(self):
        self.bot.admin("POST", "/admin/dossiers", [
            dossier("MOV.05-0001", commune="Thanh Nưa", agency="UBND xã Thanh Nưa"),
            dict(dossier("MOV.05-0002"), commune=""),            # no commune yet
            dossier("MOV.05-0003", commune="Xã Mường Thanh")])  # theirs, spelled another way
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        rows = [dossier("MOV.05-0001", status="tu_choi"), dossier("MOV.05-0002", status="tu_choi"),
                dossier("MOV.05-0003", status="can_bo_sung"), dossier("MOV.05-0004")]
        status, body = self.upload(c, rows)
        self.assertEqual(status, 200, body)
        self.assertEqual((body["received"], body["stored"], body["invalid"]), (4, 2, 2), body)
        refused = {e["code"]: e for e in body["errors"]}
        self.assertEqual(set(refused), {"MOV.05-0001", "MOV.05-0002"})
        self.assertEqual({e["field"] for e in refused.values()}, {"commune"})
        self.assertEqual(refused["MOV.05-0001"]["reason"], "belongs to another commune")
        self.assertEqual(refused["MOV.05-0002"]["reason"], "stored without a commune")
        self.assertEqual(refused["MOV.05-0001"]["line"], 2)
        # nothing of the refused rows was written
        self.assertEqual(self.redis("HMGET", "dossier:MOV.05-0001", "commune", "status", "agency"),
                         ["Thanh Nưa", "dang_xu_ly", "UBND xã Thanh Nưa"])
        self.assertEqual(self.redis("HMGET", "dossier:MOV.05-0002", "commune", "status"), ["", "dang_xu_ly"])
        # their own dossier is updated (and keeps the new spelling), a new one created
        self.assertEqual(self.redis("HMGET", "dossier:MOV.05-0003", "commune", "status"),
                         ["Mường Thanh", "can_bo_sung"])
        self.assertEqual(self.redis("HGET", "dossier:MOV.05-0004", "commune"), "Mường Thanh")
        # the page shows the reason in Vietnamese
        self.assertIn("đã có ở xã khác", console_reason_vi(refused["MOV.05-0001"]["reason"]))
        self.assertIn("chưa ghi xã", console_reason_vi(refused["MOV.05-0002"]["reason"]))
        # a full token still moves a dossier between communes
        self.bot.admin("POST", "/admin/dossiers", [dossier("MOV.05-0001", commune="Mường Thanh")])
        self.assertEqual(self.redis("HGET", "dossier:MOV.05-0001", "commune"), "Mường Thanh")

    def test_a_signed_in_upload_may_be_larger_than_a_mebibyte(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        rows = [dossier("BIG.03-%05d" % i, agency="UBND xã Mường Thanh, bộ phận một cửa " * 3)
                for i in range(6000)]
        raw = to_csv(rows)
        self.assertGreater(len(raw), 1024 * 1024)
        status, body = self.upload(c, rows, raw=raw)
        self.assertEqual(status, 200)
        self.assertEqual((body["received"], body["stored"]), (6000, 6000))


class ConsoleIndicatorTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        q1 = [
            # Mường Thanh: 3 received in Q1; 2 fully online (one with a fee paid online);
            # one with a fee paid at the counter; finished: one on time, one late
            dossier("IND.01-0001", received="2024-12-15T00:00:00+07:00", due="2025-01-05",
                    finished="2025-01-04T10:00:00+07:00"),
            dossier("IND.01-0002", fee=50000, paid_online=True, received="2025-03-14T23:59:00+07:00"),
            dossier("IND.01-0003", fee=30000, paid=True, received="2025-02-01T08:00:00+07:00",
                    due="2025-02-10T17:00:00+07:00", finished="2025-02-11T08:00:00+07:00"),
            # Thanh Nưa: one paper dossier in Q1, one received after the cut-off (Q2)
            dossier("IND.01-0004", commune="Thanh Nưa", agency="UBND xã Thanh Nưa", online=False,
                    procedure="ket_hon", received="2025-01-20T08:00:00+07:00"),
            dossier("IND.01-0005", commune="Thanh Nưa", agency="UBND xã Thanh Nưa",
                    received="2025-03-15T00:00:00+07:00"),
            # before the period: received 14/12, out of Q1
            dossier("IND.01-0006", received="2024-12-14T23:59:59+07:00"),
        ]
        status, _, body = cls.bot.admin("POST", "/admin/dossiers", q1)
        assert status == 200, body
        # the bot's records of two days, the second one past the cut-off
        cls.redis("HSET", "{stats}:day:20250314", "rate|khai_sinh|xa muong thanh|5", 3,
                  "rate|khai_sinh|xa muong thanh|3", 1, "rate|ket_hon|thanh nua|4", 2,
                  "assist|muong thanh", 4, "count|handoff_opened", 2, "msg", 40, "msg_khac", 6)
        cls.redis("HSET", "{stats}:day:20250315", "rate|khai_sinh|xa muong thanh|1", 9,
                  "msg", 100, "msg_khac", 100)
        cls.redis("RPUSH", "{stats}:code:20250314", "khai_sinh|xa muong thanh|300",
                  "khai_sinh|xa muong thanh|900", "ket_hon|thanh nua|600")

    def report(self, c, period="2025-Q1", by="commune"):
        status, body = c.call("GET", "indicators?period=%s&by=%s" % (period, by))
        self.assertEqual(status, 200, body)
        return body

    def test_q1_indicators_per_commune_add_up_dossiers_and_day_records(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        r = self.report(c)
        self.assertEqual(r["period"], {"id": "2025-Q1", "from": "2024-12-15", "to": "2025-03-14"})
        self.assertEqual(r["targets"], {"fully_online_pct": 70, "on_time_pct": 100, "satisfaction_pct": 95})
        rows = {row["name"]: row for row in r["rows"]}
        mt = rows["Mường Thanh"]
        self.assertEqual((mt["received"], mt["fully_online"]), (3, 2))
        self.assertAlmostEqual(mt["fully_online_pct"], 66.7)
        self.assertEqual((mt["fee_paid"], mt["fee_paid_online"], mt["fee_online_pct"]), (2, 1, 50.0))
        self.assertEqual((mt["finished"], mt["on_time"], mt["on_time_pct"]), (2, 1, 50.0))
        self.assertEqual((mt["ratings"], mt["satisfied"], mt["satisfaction_pct"]), (4, 3, 75.0))
        self.assertEqual((mt["code_n"], mt["code_median_s"]), (2, 600))
        self.assertEqual(mt["assists"], 4)
        tn = rows["Thanh Nưa"]
        self.assertEqual((tn["received"], tn["fully_online"], tn["fully_online_pct"]), (1, 0, 0.0))
        self.assertIsNone(tn["on_time_pct"])  # nothing finished: no share, not 0 %
        t = r["total"]
        self.assertEqual((t["received"], t["fully_online"], t["ratings"], t["satisfied"]), (4, 2, 6, 5))
        self.assertEqual((t["messages"], t["not_understood"], t["not_understood_pct"]), (40, 6, 15.0))
        self.assertEqual((t["handoffs"], t["code_n"], t["code_median_s"]), (2, 3, 600))

    def test_by_agency_and_by_procedure(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        rows = {row["name"]: row for row in self.report(c, by="agency")["rows"]}
        self.assertEqual(rows["UBND xã Mường Thanh"]["received"], 3)
        self.assertEqual(rows["UBND xã Thanh Nưa"]["received"], 1)
        rows = {row["key"]: row for row in self.report(c, by="procedure")["rows"]}
        self.assertEqual(rows["khai_sinh"]["received"], 3)
        self.assertEqual(rows["khai_sinh"]["satisfaction_pct"], 75.0)
        self.assertEqual(rows["ket_hon"]["received"], 1)
        self.assertEqual(rows["ket_hon"]["code_median_s"], 600)

    def test_the_next_quarter_starts_on_the_15th_of_march(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        t = self.report(c, period="2025-Q2")["total"]
        self.assertEqual((t["received"], t["ratings"], t["satisfied"]), (1, 9, 0))
        self.assertEqual(t["messages"], 100)

    def test_commune_officer_sees_their_commune_only(self):
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        r = self.report(c)
        self.assertEqual([row["name"] for row in r["rows"]], ["Mường Thanh"])
        self.assertEqual((r["total"]["received"], r["total"]["ratings"]), (3, 4))
        self.assertIsNone(r["total"]["messages"])  # province-wide counters are not theirs

    def test_bad_period_is_400(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.assertEqual(c.call("GET", "indicators?period=2025-Q5")[0], 400)
        self.assertEqual(c.call("GET", "indicators?by=village")[0], 400)

    def test_ratings_and_messages_typed_now_count_in_the_current_quarter(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        before = self.current(c)
        u1, u2 = "wcindic00001", "wcindic00002"
        self.bot.webchat(u1, "qwzx vbnm plkj")
        for user, stars in ((u1, "5"), (u2, "2")):
            self.bot.webchat(user, "góp ý")
            self.bot.webchat(user, button="rate:" + stars)
        after = wait_until(lambda: (lambda t: t if t["ratings"] >= before["ratings"] + 2 else None)(
            self.current(c)), what="the ratings to be counted")
        self.assertEqual(after["ratings"] - before["ratings"], 2)
        self.assertEqual(after["satisfied"] - before["satisfied"], 1)
        self.assertGreaterEqual(after["not_understood"] - before["not_understood"], 1)
        self.assertGreaterEqual(after["messages"] - before["messages"], 3)

    def current(self, c):
        status, body = c.call("GET", "indicators")
        self.assertEqual(status, 200)
        return body["total"]


def buttons(replies):
    return [b["payload"] for r in replies for b in r["buttons"]]


def labels(replies):
    return {b["payload"]: b["label"] for r in replies for b in r["buttons"]}


class ConsoleFeedbackTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def comment(self, user, stars, text):
        self.bot.webchat(user, "góp ý")
        self.bot.webchat(user, button="rate:%d" % stars)
        status, body = self.bot.webchat(user, text)
        self.assertEqual(status, 200)
        return body

    def complain(self, user, text):
        self.bot.webchat(user, button="fb:complaint")
        return self.bot.webchat(user, text)[1]

    def test_comments_and_complaints_are_listed_newest_first_and_can_be_marked_handled(self):
        user_a, user_b = "wcfeedback0001", "wcfeedback0002"
        self.redis("HSET", "u:{wc:%s}" % user_b, "commune", "Mường Thanh")
        self.comment(user_a, 2, "Hướng dẫn khó hiểu quá")
        self.bot.advance_clock(2)
        self.complain(user_b, "Cán bộ hẹn mãi không trả kết quả")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        status, body = c.call("GET", "feedback")
        self.assertEqual(status, 200)
        items = [i for i in body["items"] if i["comment"] in
                 ("Hướng dẫn khó hiểu quá", "Cán bộ hẹn mãi không trả kết quả")]
        self.assertEqual([i["kind"] for i in items], ["complaint", "comment"])  # newest first
        complaint, comment = items
        self.assertEqual(comment["stars"], 2)
        self.assertEqual(comment["channel"], "webchat")
        self.assertEqual(complaint["commune"], "Mường Thanh")  # from the user's record
        self.assertIsNone(complaint["handled_at"])
        self.assertEqual(c.call("POST", "feedback/handled", {"id": complaint["id"]})[0], 200)
        items = {i["id"]: i for i in c.call("GET", "feedback")[1]["items"]}
        self.assertIsNotNone(items[complaint["id"]]["handled_at"])
        self.assertIsNone(items[comment["id"]]["handled_at"])
        self.assertEqual(c.call("POST", "feedback/handled",
                                {"id": complaint["id"], "handled": False})[0], 200)
        self.assertIsNone({i["id"]: i for i in c.call("GET", "feedback")[1]["items"]}
                          [complaint["id"]]["handled_at"])
        self.assertEqual(c.call("POST", "feedback/handled", {"id": "wc:nobody0000|" + "0" * 16})[0], 404)
        self.assertEqual(c.call("POST", "feedback/handled", {"id": "rubbish"})[0], 400)

        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        seen = [i["comment"] for i in officer.call("GET", "feedback")[1]["items"]]
        self.assertIn("Cán bộ hẹn mãi không trả kết quả", seen)
        self.assertNotIn("Hướng dẫn khó hiểu quá", seen)  # no commune: not theirs
        self.assertEqual(officer.call("POST", "feedback/handled", {"id": comment["id"]})[0], 404)

    def test_a_complaint_typed_after_a_rating_is_stored_and_listed_as_a_complaint(self):
        user = "wcfeedback0003"
        body = self.comment(user, 1, "Cán bộ xã hạch sách, tôi muốn khiếu nại")
        self.assertIn("Đã ghi nhận phản ánh", body["replies"][0]["text"])  # complaint_saved
        stored = [json.loads(x) for x in self.redis("LRANGE", "fb:{wc:%s}" % user, 0, -1)]
        self.assertEqual([s["kind"] for s in stored], ["complaint"])
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        items = [i for i in c.call("GET", "feedback")[1]["items"] if i["id"].startswith("wc:" + user)]
        self.assertEqual([(i["kind"], i["stars"]) for i in items], [("complaint", 1)])

    def test_erase_my_data_removes_the_handled_marks_too(self):
        user = "wcfeedback0003"
        self.comment(user, 5, "Rất tiện, cảm ơn")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        item = [i for i in c.call("GET", "feedback")[1]["items"] if i["comment"] == "Rất tiện, cảm ơn"][0]
        c.call("POST", "feedback/handled", {"id": item["id"]})
        self.assertEqual(self.redis("EXISTS", "fbh:{wc:%s}" % user), 1)
        self.bot.webchat(user, "xóa dữ liệu của tôi")
        self.bot.webchat(user, button="erase:yes")
        self.assertEqual(self.redis("EXISTS", "fbh:{wc:%s}" % user), 0)
        self.assertNotIn("Rất tiện, cảm ơn", [i["comment"] for i in c.call("GET", "feedback")[1]["items"]])


class ConsoleHandoffTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": TOKENS, "DVCBOT_STAFF_CHATS": "55501"}

    def test_open_handoffs_are_listed_with_how_long_they_waited(self):
        waiting, other = "wchandoff0001", "wchandoff0002"
        self.redis("HSET", "u:{wc:%s}" % waiting, "commune", "Xã Mường Thanh")
        self.bot.webchat(waiting, "cho tôi gặp cán bộ")
        self.bot.webchat(other, "cho tôi gặp cán bộ")
        self.bot.advance_clock(600)
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        tickets = c.call("GET", "handoffs")[1]["tickets"]
        self.assertEqual(len(tickets), 2)
        mine = [t for t in tickets if t["commune"] == "Xã Mường Thanh"][0]
        self.assertEqual(mine["channel"], "webchat")
        self.assertGreaterEqual(mine["waited_s"], 600)
        self.assertLess(mine["waited_s"], 660)
        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        self.assertEqual([t["ticket"] for t in officer.call("GET", "handoffs")[1]["tickets"]],
                         [mine["ticket"]])
        self.bot.webchat(waiting, button="ho:end")  # the user closes it
        left = [t["ticket"] for t in c.call("GET", "handoffs")[1]["tickets"]]
        self.assertNotIn(mine["ticket"], left)
        self.assertEqual(len(left), 1)


class ConsoleVolunteerTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def test_a_volunteer_closes_a_household_visit_in_two_taps_after_the_residents_consent(self):
        vol = "wcvolunteer01"
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.assertEqual(c.call("POST", "volunteers", {"user": "wc:" + vol, "commune": "Mường Thanh"})[0], 200)
        for village, households in (("Bản Phiêng Lơi", 40), ("Bản Noong Bua", 25)):
            self.assertEqual(c.call("POST", "villages", {"commune": "Mường Thanh", "village": village,
                                                          "households": households})[0], 200)
        self.assertEqual(c.call("POST", "villages", {"commune": "Thanh Nưa", "village": "Bản Co Mần",
                                                      "households": 30})[0], 200)
        # the consent question comes first
        r = self.bot.webchat(vol, button="hh:start")[1]["replies"]
        self.assertEqual(set(buttons(r)), {"hh:c:y", "hh:c:n"})
        self.assertIn("đồng ý", r[0]["text"])
        # an outcome tap before consent is refused
        r = self.bot.webchat(vol, button="hh:o:111")[1]["replies"]
        self.assertEqual(set(buttons(r)), {"hh:c:y", "hh:c:n"})
        r = self.bot.webchat(vol, button="hh:c:y")[1]["replies"]
        villages = labels(r)
        self.assertEqual([villages[p] for p in ("hh:v:1", "hh:v:2")], ["Bản Noong Bua", "Bản Phiêng Lơi"])
        self.assertNotIn("Bản Co Mần", villages.values())  # another commune's
        # tap one: the village; tap two: the outcome
        r = self.bot.webchat(vol, button="hh:v:2")[1]["replies"]
        self.assertEqual(len([p for p in buttons(r) if p.startswith("hh:o:")]), 6)
        r = self.bot.webchat(vol, button="hh:o:110")[1]["replies"]
        self.assertIn("Bản Phiêng Lơi", r[0]["text"])
        # a second household, village typed, all three done
        self.bot.webchat(vol, button="hh:start")
        self.bot.webchat(vol, button="hh:c:y")
        self.bot.webchat(vol, "Bản Phiêng Lơi")
        self.bot.webchat(vol, button="hh:o:111")
        # a third: the resident says no
        self.bot.webchat(vol, button="hh:start")
        r = self.bot.webchat(vol, button="hh:c:n")[1]["replies"]
        self.assertIn("không ghi", r[0]["text"])

        rows = {(v["commune_key"], v["village"]): v for v in c.call("GET", "coverage")[1]["villages"]}
        pl = rows[("muong thanh", "Bản Phiêng Lơi")]
        self.assertEqual((pl["households"], pl["visits"], pl["vneid"], pl["online"], pl["paid"], pl["met"]),
                         (40, 2, 2, 2, 1, 1))
        self.assertEqual(pl["coverage_pct"], 2.5)
        self.assertEqual(rows[("muong thanh", "")]["refused"], 1)
        self.assertEqual(rows[("muong thanh", "Bản Noong Bua")]["visits"], 0)
        log = [json.loads(x) for x in self.redis("LRANGE", "coverage:log", 0, -1)]
        self.assertEqual(len(log), 2)
        self.assertTrue(all(e["consent"] == "yes" and e["village"] == "Bản Phiêng Lơi" for e in log))
        self.assertNotIn(vol, json.dumps(log))  # the record names nobody
        listed = {v["user"]: v for v in c.call("GET", "volunteers")[1]["volunteers"]}
        self.assertEqual(listed["wc:" + vol]["households"], 2)
        self.assertEqual(listed["wc:" + vol]["commune"], "Mường Thanh")

        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        communes = {v["commune_key"] for v in officer.call("GET", "coverage")[1]["villages"]}
        self.assertEqual(communes, {"muong thanh"})
        # a commune officer adds volunteers to their own commune only
        officer.call("POST", "volunteers", {"user": "tg:424242", "commune": "Thanh Nưa"})
        self.assertEqual(self.redis("HGET", "vol:{tg:424242}", "commune"), SCOPED_COMMUNE)
        self.assertEqual(officer.call("POST", "volunteers", {"user": "wc:" + vol, "remove": True})[0], 200)
        self.assertEqual(self.redis("SISMEMBER", "volunteers", "wc:" + vol), 0)

    def test_someone_not_registered_cannot_record_households(self):
        before = self.redis("LLEN", "coverage:log")
        r = self.bot.webchat("wcnotavolunteer", button="hh:start")[1]["replies"]
        self.assertNotIn("hh:c:y", buttons(r))
        r = self.bot.webchat("wcnotavolunteer", button="hh:o:111")[1]["replies"]
        self.assertNotIn("hh:o:111", buttons(r))
        self.assertEqual(self.redis("LLEN", "coverage:log"), before)


class ConsoleUnappliedPaymentTest(ServiceTest):
    """Payments the gateway confirmed (00) that were not applied to their
    dossier (applied=0: fee changed, link expired...) are listed for staff,
    who refund or settle them by hand; commune-scoped like the rest."""
    telegram = False
    extra_env = dict(test_payments.PaymentBase.extra_env, ADMIN_TOKENS=TOKENS)

    def pay(self, commune, fee=30000):
        """A dossier of commune, its owner verified and a payment link: (code, link query)."""
        code = "UNP.00.%05d.H50-000000-0001" % self.next_id()
        status, _, body = self.bot.admin("POST", "/admin/dossiers", test_dossiers.ndjson([test_dossiers.record(code, fee=fee, commune=commune)]))
        self.assertEqual(status, 200, body)
        user = self.payer = "unpaid%08d" % self.next_id()
        self.bot.webchat(user, "tra cứu hồ sơ " + code)
        self.assertIn("Đang xử lý", self.bot.webchat(user, "5678")[1]["replies"][0]["text"])
        text = self.bot.webchat(user, button="hs:pay:" + code)[1]["replies"][0]["text"]
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(re.search(r"https://\S+", text).group(0)).query))
        return code, q

    def ipn(self, q, pay_ts):
        p = {"vnp_Amount": q["vnp_Amount"], "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP1",
             "vnp_CardType": "ATM", "vnp_OrderInfo": q["vnp_OrderInfo"],
             "vnp_PayDate": test_payments.pay_date(pay_ts),
             "vnp_ResponseCode": "00", "vnp_TmnCode": "DVCTEST1", "vnp_TransactionNo": "5550%s" % q["vnp_TxnRef"][-4:],
             "vnp_TransactionStatus": "00", "vnp_TxnRef": q["vnp_TxnRef"]}
        status, _, body = self.bot.request("GET", "/pay/ipn?" + test_payments.gateway_query(p))
        self.assertEqual((status, json.loads(body)["RspCode"]), (200, "00"))

    def test_payments_confirmed_but_not_applied_are_listed_with_the_reason_by_commune(self):
        raised, q1 = self.pay(SCOPED_COMMUNE)                   # the fee is raised before payment
        self.bot.admin("POST", "/admin/dossiers",
                       test_dossiers.ndjson([test_dossiers.record(raised, fee=50000, commune=SCOPED_COMMUNE)]))
        self.ipn(q1, time.time())
        late, q2 = self.pay("Chiềng Cơi")                        # paid an hour after the link expired
        self.ipn(q2, time.time() + 2 * 3600)
        fine, q3 = self.pay(SCOPED_COMMUNE)                      # applied: not listed
        self.ipn(q3, time.time())
        self.assertEqual(self.redis("HGET", "dossier:" + fine, "paid"), "1")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        status, body = c.call("GET", "payments/unapplied")
        self.assertEqual(status, 200, body)
        got = [(p["code"], p["reason"], p["amount"], p["commune"]) for p in body["payments"]
               if p["code"] in (raised, late, fine)]
        self.assertEqual(got, [(late, "expired", 30000, "Chiềng Cơi"),          # newest first
                               (raised, "fee_changed", 30000, SCOPED_COMMUNE)])
        first = [p for p in body["payments"] if p["code"] == late][0]
        self.assertEqual(first["ref"], q2["vnp_TxnRef"])
        self.assertEqual(first["transaction_no"], "5550" + q2["vnp_TxnRef"][-4:])
        self.assertEqual(first["procedure_name"], "Đăng ký khai sinh")
        self.assertLessEqual(abs(first["paid_at"] - self.bot.now()), 60)
        self.assertNotIn("Nguyễn", json.dumps(body, ensure_ascii=False))   # no applicant's name
        scoped = Console(self.bot)
        scoped.sign_in(SCOPED_TOKEN)
        status, body = scoped.call("GET", "payments/unapplied")
        self.assertEqual(status, 200)
        self.assertEqual([p["code"] for p in body["payments"] if p["code"] in (raised, late, fine)], [raised])
        self.assertEqual(Console(self.bot).call("GET", "payments/unapplied")[0], 401)
        page = c.page()[2]
        self.assertIn('id="hs-unapplied"', page)

    def unapplied(self, console):
        status, body = console.call("GET", "payments/unapplied")
        self.assertEqual(status, 200, body)
        return [p["ref"] for p in body["payments"]]

    def test_staff_settle_one_by_hand_and_the_payer_is_told(self):
        late, q = self.pay(SCOPED_COMMUNE)                       # paid after the link expired
        payer = self.payer
        self.ipn(q, time.time() + 2 * 3600)
        ref = q["vnp_TxnRef"]
        wait_until(lambda: self.bot.inbox(payer), what="the not-applied notice")
        c, scoped, other = Console(self.bot), Console(self.bot), Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        scoped.sign_in(SCOPED_TOKEN)
        self.assertIn(ref, self.unapplied(c))
        for bad in ({}, {"ref": ref}, {"ref": ref, "how": "lost"}, {"ref": "pay:x y", "how": "refunded"}):
            self.assertEqual(c.call("POST", "payments/settled", bad)[0], 400, bad)
        self.assertEqual(Console(self.bot).call("POST", "payments/settled", {"ref": ref, "how": "refunded"})[0], 401)
        # another commune's officer cannot see or settle it
        elsewhere, q2 = self.pay("Chiềng Cơi")
        self.ipn(q2, time.time() + 2 * 3600)
        status, body = scoped.call("POST", "payments/settled", {"ref": q2["vnp_TxnRef"], "how": "refunded"})
        self.assertEqual(status, 404, body)
        self.assertIn(q2["vnp_TxnRef"], self.unapplied(c))
        # the commune's officer refunds theirs: it leaves the list, the payer is told
        status, body = scoped.call("POST", "payments/settled", {"ref": ref, "how": "refunded"})
        self.assertEqual((status, body), (200, {"settled": "refunded"}))
        self.assertNotIn(ref, self.unapplied(c))
        applied, by, at = (self.redis("HGET", "pay:" + ref, f) for f in ("applied", "settled_by", "settled_at"))
        self.assertEqual(applied, "refunded")
        self.assertRegex(by, "^[0-9a-f]{12}$")
        self.assertLessEqual(abs(int(at) - self.bot.now()), 60)
        self.assertNotEqual(self.redis("HGET", "dossier:" + late, "paid"), "1")
        notice = wait_until(lambda: self.bot.inbox(payer), what="the refund notice")
        self.assertIn("đã được hoàn lại", notice[0]["text"])
        self.assertIn(ref, notice[0]["text"])
        self.assertEqual(scoped.call("POST", "payments/settled", {"ref": ref, "how": "applied"})[0], 404)

    def test_applied_by_hand_marks_the_dossier_paid_unless_it_is_paid_already(self):
        raised, q = self.pay(SCOPED_COMMUNE)                     # the fee is raised before payment
        payer = self.payer
        self.bot.admin("POST", "/admin/dossiers",
                       test_dossiers.ndjson([test_dossiers.record(raised, fee=50000, commune=SCOPED_COMMUNE)]))
        self.ipn(q, time.time())
        wait_until(lambda: self.bot.inbox(payer), what="the not-applied notice")
        late, q3 = self.pay(SCOPED_COMMUNE)                      # paid after the link expired,
        self.ipn(q3, time.time() + 2 * 3600)
        self.redis("HSET", "dossier:" + late, "paid", "1")       # then at the counter in cash
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        status, body = c.call("POST", "payments/settled", {"ref": q["vnp_TxnRef"], "how": "applied"})
        self.assertEqual((status, body), (200, {"settled": "applied"}))
        self.assertEqual(self.redis("HGET", "dossier:" + raised, "paid"), "1")
        self.assertEqual(self.redis("HGET", "dossier:" + raised, "paid_amount"), "30000")
        notice = wait_until(lambda: self.bot.inbox(payer), what="the notice")
        self.assertIn("đã ghi nhận", notice[0]["text"])
        # a payment cannot be applied to a dossier already paid: refund it
        status, body = c.call("POST", "payments/settled", {"ref": q3["vnp_TxnRef"], "how": "applied"})
        self.assertEqual(status, 409, body)
        self.assertIn(q3["vnp_TxnRef"], self.unapplied(c))
        self.assertEqual(c.call("POST", "payments/settled", {"ref": q3["vnp_TxnRef"], "how": "refunded"})[0], 200)
