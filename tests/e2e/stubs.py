"""Local stubs of the Telegram Bot API and the Zalo OA API on 127.0.0.1
(recording every call), and the webhook updates and events each channel
sends dvcbot, in that channel's wire format."""
import hashlib
import http.server
import json
import re
import threading
import time
import urllib.parse

from basics import SLOW, TG_TOKEN, ZL_APP_ID, ZL_APP_SECRET, ZL_MARK, ZL_OA_ID, ZL_OA_SECRET


class StubServer:
    """A threaded HTTP server recording every request. `respond` decides the
    answer: a function (method, path, body_bytes, headers) -> (status, dict)."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Condition()
        self.scripted = {}  # key -> list of (status, body) served first, in order
        self.delays = {}    # key -> seconds to wait before answering
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = stub.handle(self.command, self.path, body, self.headers)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = _serve
            do_GET = _serve

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @classmethod
    def start(cls):
        s = cls()
        s.thread.start()
        return s

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, key, *responses):
        with self.lock:
            self.scripted.setdefault(key, []).extend(responses)

    def default_response(self, method, path, body, headers):
        return 200, {"ok": True}

    def route_key(self, method, path):
        return path

    def handle(self, method, path, body, headers):
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        key = self.route_key(method, path)
        with self.lock:
            queue = self.scripted.get(key)
            scripted = queue.pop(0) if queue else None
            self.calls.append({"method": method, "path": path, "key": key, "json": parsed,
                               "raw": body, "headers": dict(headers), "time": time.time(),
                               "status": scripted[0] if scripted else 200})
            call = self.calls[-1]
            self.lock.notify_all()
        delay = self.delays.get(key)
        if delay:
            time.sleep(delay)
        answer = scripted or self.default_response(method, path, body, headers)
        with self.lock:
            call["response"] = answer[1]
        return answer

    def of(self, key):
        with self.lock:
            return [c for c in self.calls if c["key"] == key]

    def wait_calls(self, key, n, timeout=5.0):
        deadline = time.time() + timeout * SLOW
        with self.lock:
            while True:
                got = [c for c in self.calls if c["key"] == key]
                if len(got) >= n:
                    return got
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"expected {n} calls to {key}, got {len(got)}: "
                                         f"{[c['json'] for c in got]}")
                self.lock.wait(left)

    def reset(self):
        with self.lock:
            self.calls.clear()
            self.scripted.clear()
            self.delays.clear()


class TelegramStub(StubServer):
    """Bot API stub: /bot<token>/<method>; records calls under the method name."""

    def route_key(self, method, path):
        m = re.match(r"^/bot([^/]+)/(\w+)$", path)
        return m.group(2) if m and m.group(1) == TG_TOKEN else "bad-token:" + path

    def default_response(self, method, path, body, headers):
        if self.route_key(method, path).startswith("bad-token"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return 200, {"ok": True, "result": {"message_id": len(self.calls)}}

    def sent_to(self, chat_id):
        return [c for c in self.of("sendMessage") if c["json"] and c["json"].get("chat_id") == chat_id]


class ZaloStub(StubServer):
    """Zalo OA API v3 (POST /v3.0/oa/message/cs, recorded as "cs") and OAuth v4
    (POST /v4/oa/access_token, recorded as "token") on 127.0.0.1.

    Like Zalo it knows one valid access token and one valid refresh token; a
    refresh spends the refresh token and issues a new pair. `expire()` makes
    the access token dvcbot holds invalid (error -216), as after 25 hours.
    Messages breaking Zalo's limits get -201."""

    MAX_TEXT = 2000
    MAX_BUTTONS = 5
    MAX_TITLE = 100

    def __init__(self):
        super().__init__()
        self.access = "zl-access-0"
        self.refresh = "zl-refresh-0"
        self.generation = 0
        self.expires_in = "90000"  # Zalo sends a string
        self.token_error = None    # when set, every refresh fails with it

    def route_key(self, method, path):
        return {"/v3.0/oa/message/cs": "cs", "/v4/oa/access_token": "token"}.get(path, "unknown:" + path)

    def expire(self):
        with self.lock:
            self.access = "zl-access-revoked-%d" % self.generation

    def default_response(self, method, path, body, headers):
        key = self.route_key(method, path)
        if key == "token":
            return self._refresh(body, headers)
        if key == "cs":
            return self._send(body, headers)
        return 404, {"error": -404, "message": "not found"}

    def _refresh(self, body, headers):
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        with self.lock:
            if self.token_error is not None:
                return 200, {"error": self.token_error, "error_name": "Invalid refresh token",
                             "error_description": "the refresh token is invalid or expired"}
            if headers.get("secret_key") != ZL_APP_SECRET or form.get("app_id") != [ZL_APP_ID]:
                return 200, {"error": -14002, "error_name": "Invalid app", "error_description": "bad app"}
            if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [self.refresh]:
                return 200, {"error": -14014, "error_name": "Invalid refresh token",
                             "error_description": "the refresh token was used or is unknown"}
            self.generation += 1
            self.access = "zl-access-%d" % self.generation
            self.refresh = "zl-refresh-%d" % self.generation
            return 200, {"access_token": self.access, "refresh_token": self.refresh,
                         "expires_in": self.expires_in}

    def _send(self, body, headers):
        with self.lock:
            if headers.get("access_token") != self.access:
                return 200, {"error": -216, "message": "Access token is invalid"}
            n = len(self.calls)
        try:
            msg = json.loads(body)
            user = msg["recipient"]["user_id"]
            text = msg["message"]["text"]
            buttons = ((msg["message"].get("attachment") or {}).get("payload") or {}).get("buttons", [])
        except (ValueError, KeyError, TypeError):
            return 200, {"error": -201, "message": "body is invalid"}
        if not text or len(text) > self.MAX_TEXT or len(buttons) > self.MAX_BUTTONS or \
                any(len(b["title"]) > self.MAX_TITLE or b["type"] != "oa.query.hide" for b in buttons):
            return 200, {"error": -201, "message": "message is invalid"}
        return 200, {"error": 0, "message": "Success", "data": {"message_id": "m%d" % n, "user_id": user}}

    def sent_to(self, user):
        """Accepted /message/cs calls for a user, in order."""
        return [c for c in self.to(user) if (c.get("response") or {}).get("error") == 0]

    def to(self, user):
        """Every /message/cs call for a user (also refused ones), in order."""
        return [c for c in self.of("cs") if c["json"] and c["json"]["recipient"]["user_id"] == user]


def zl_sign(body, timestamp, app_id=ZL_APP_ID, secret=ZL_OA_SECRET):
    """X-ZEvent-Signature: mac= + sha256(app id + body + timestamp + OA secret key)."""
    data = app_id.encode() + body + str(timestamp).encode() + secret.encode()
    return "mac=" + hashlib.sha256(data).hexdigest()


def zl_now():
    return str(int(time.time() * 1000))


def zl_event(name, user, timestamp=None, **fields):
    event = {"app_id": ZL_APP_ID, "user_id_by_app": "app" + user[-6:], "event_name": name,
             "timestamp": timestamp or zl_now()}
    if name in ("follow", "unfollow"):
        event.update({"oa_id": ZL_OA_ID, "follower": {"id": user}, "source": "oa_profile"})
    else:
        event.update({"sender": {"id": user}, "recipient": {"id": ZL_OA_ID}})
    event.update(fields)
    return event


_zl_msg_ids = iter(range(1, 10 ** 9))


def zl_text(user, text, msg_id=None, timestamp=None):
    msg_id = msg_id or "7a1f%012d" % next(_zl_msg_ids)
    return zl_event("user_send_text", user, timestamp, message={"text": text, "msg_id": msg_id})


def zl_button(user, payload, **kw):
    """What Zalo sends when the user taps one of our oa.query.hide buttons."""
    return zl_text(user, ZL_MARK + payload, **kw)


def zl_buttons(call):
    """[(title, payload without the mark)] of a recorded /message/cs call."""
    attachment = call["json"]["message"].get("attachment") or {}
    out = []
    for b in (attachment.get("payload") or {}).get("buttons", []):
        assert b["type"] == "oa.query.hide" and b["payload"].startswith(ZL_MARK), b
        out.append((b["title"], b["payload"][len(ZL_MARK):]))
    return out


def tg_message(update_id, user_id, text, chat_id=None):
    chat_id = chat_id or user_id
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": int(time.time()), "text": text,
                        "from": {"id": user_id, "is_bot": False, "first_name": "Test"},
                        "chat": {"id": chat_id, "type": "private"}}}


def tg_callback(update_id, user_id, data, chat_id=None):
    chat_id = chat_id or user_id
    return {"update_id": update_id,
            "callback_query": {"id": "cb%d" % update_id, "data": data, "chat_instance": "1",
                               "from": {"id": user_id, "is_bot": False, "first_name": "Test"},
                               "message": {"message_id": 1, "date": int(time.time()),
                                           "chat": {"id": chat_id, "type": "private"}}}}


def buttons_of(send_call):
    """Flattened [(text, callback_data)] of a recorded sendMessage call."""
    markup = (send_call["json"] or {}).get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


def part_held(stub_class, route):
    """A subclass of stub_class that answers `route` calls until hold_from of
    them have been answered; later ones wait for release() and are recorded
    with the header X-Held (their answer may reach a process killed
    meanwhile, as a request lost on the way would)."""

    class PartHeld(stub_class):
        def __init__(self):
            super().__init__()
            self.gate = threading.Event()
            self.gate.set()
            self.hold_from = None
            self.held = 0
            self.httpd.handle_error = lambda request, address: None

        def handle(self, method, path, body, headers):
            if self.route_key(method, path) == route:
                with self.lock:
                    hold = self.hold_from is not None and len(self.of(route)) >= self.hold_from
                    if hold:
                        self.gate.clear()
                        self.held += 1
                        self.lock.notify_all()
                if hold:
                    headers = dict(headers, **{"X-Held": "1"})
                    self.gate.wait(30)
            return super().handle(method, path, body, headers)

        def release(self):
            with self.lock:
                self.hold_from = None
            self.gate.set()

        def stop(self):
            self.release()
            super().stop()

    PartHeld.__name__ = "PartHeld" + stub_class.__name__
    return PartHeld
