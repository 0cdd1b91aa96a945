"""A browser-like client of the staff console at /admin (Console: cookies,
CSRF token, the page's calls), the tokens of an admin and of a commune
officer, dossier rows as the console's CSV upload takes them, and the texts
the page shows for an API reason or error (templates/console/console_texts.js).
Used by test_console*.py and test_console_browser.py."""
import csv
import io
import json
import os
import re
import urllib.parse

from harness import ADMIN_TOKEN, ROOT, SLOW

SCOPED_TOKEN = "commune-officer-token-0042"
SCOPED_COMMUNE = "Mường Bú"
TOKENS = "%s, %s@%s" % (ADMIN_TOKEN, SCOPED_TOKEN, SCOPED_COMMUNE)

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


CSV_FIELDS = ["code", "procedure", "applicant_name", "phone", "commune", "agency", "status",
              "received_at", "due_at", "fee", "paid", "submitted_online", "paid_online",
              "finished_at"]


def dossier(code, commune="Mường Bú", agency="UBND xã Mường Bú", procedure="khai_sinh",
            received="2025-01-10T08:00:00+07:00", due="2025-01-20", finished="", fee=0,
            paid=False, online=True, paid_online=False, status="dang_xu_ly"):
    return {"code": code, "procedure": procedure, "applicant_name": "Lò Văn Pọm",
            "phone": "0988 123 456", "commune": commune, "agency": agency,
            "status": status if not finished else "da_tra_ket_qua", "received_at": received,
            "due_at": due, "fee": str(fee), "paid": "true" if paid or paid_online else "false",
            "submitted_online": "true" if online else "false",
            "paid_online": "true" if paid_online else "false", "finished_at": finished}


def upload_texts():
    """templates/console/upload_texts.json: what the page (through meta) and
    `dvcbot import` say of a refused record."""
    with open(os.path.join(ROOT, "templates", "console", "upload_texts.json"), encoding="utf-8") as f:
        return json.load(f)


def console_reason_vi(reason, texts=None):
    """What the console page shows for an API reason: the first of the reasons
    of upload_texts.json whose English start it begins with, else the reason."""
    for start, text in (texts or upload_texts())["reasons"]:
        if reason.startswith(start):
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


def buttons(replies):
    return [b["payload"] for r in replies for b in r["buttons"]]


def labels(replies):
    return {b["payload"]: b["label"] for r in replies for b in r["buttons"]}
