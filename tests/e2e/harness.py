"""End-to-end test harness: a real redis-server, local API stubs and the real
dvcbot binary, all on 127.0.0.1. Python standard library only.

    redis = Redis.start(tmpdir)         # redis-server on a unix socket
    tg = TelegramStub.start()           # fake https://api.telegram.org
    zl = ZaloStub.start()               # fake openapi.zalo.me + oauth.zaloapp.com
    bot = Dvcbot.start(tmpdir, redis, telegram=tg, zalo=zl)
    status, headers, body = bot.request("GET", "/healthz")
    bot.stop()                          # SIGTERM, must exit 0 and log cleanly

DVCBOT_BIN (set by tests/run_suite.py) names the binary; DVCBOT_WRAP a command
prefix such as valgrind.
"""
import datetime
import hashlib
import http.client
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import procs

ROOT = os.environ.get("DVCBOT_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DVCBOT_BIN") or os.path.join(ROOT, "build", "dvcbot")
WRAP = shlex.split(os.environ.get("DVCBOT_WRAP", ""))
SLOW = 8 if WRAP else 1  # valgrind runs everything several times slower

TG_TOKEN = "123456:TEST-token"
TG_SECRET = "s3cret-webhook-token"
ADMIN_TOKEN = "test-admin-token-0123456789"  # put it in ADMIN_TOKENS via extra_env

ZL_APP_ID = "3141592653589793238"
ZL_OA_ID = "2718281828459045235"
ZL_OA_SECRET = "oa-secret-key-for-tests"
ZL_APP_SECRET = "app-secret-key-for-tests"
ZL_MARK = "dvc:"  # our button payloads come back as hidden text with this prefix
ZL_MORE_BUTTONS = "Lựa chọn khác:"  # templates/zalo_more_buttons.txt


VN = datetime.timezone(datetime.timedelta(hours=7))  # Vietnam time


def fee_in_force(proc, now):
    """fee_text of the first of proc's fee_periods whose last day (Vietnam
    time) has not ended at unix time now, else the lasting one."""
    today = datetime.datetime.fromtimestamp(now, VN).date().isoformat()
    for period in proc.get("fee_periods", []):
        if today <= period["until"]:
            return period["fee_text"]
    return proc["fee_text"]


def start_flow_past_checks(chat, proc):
    """Starts proc's guided flow and answers its readiness checks "yes".
    Returns the last replies and the index of the first step after them."""
    with open(os.path.join(ROOT, "intents", proc + ".json"), encoding="utf-8") as f:
        steps = json.load(f)["flow"]["steps"]
    r = chat.press("flow:" + proc)
    i = 0
    while "check" in steps[i]:
        r = chat.press("f:yes:%d" % i)
        i += 1
    return r, i


def wait_until(pred, timeout=5.0, interval=0.02, what="condition"):
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def rss_kb(pid):
    """Resident memory of a process in KiB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- Redis

class RespError(Exception):
    pass


class RedisClient:
    """A minimal RESP2 client (no redis-py here)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RespError(f"bad reply {line!r}")

    def __call__(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return self._reply()


class Redis:
    def __init__(self, tmpdir, persist=False):
        self.dir = tmpdir
        self.sock = os.path.join(tmpdir, "redis.sock")
        self.proc = None
        self.persist = persist  # append-only file, fsync'd on every write: survives kill -9

    @classmethod
    def start(cls, tmpdir, persist=False):
        r = cls(tmpdir, persist)
        r.launch()
        return r

    @property
    def url(self):
        return "unix://" + self.sock

    def launch(self):
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            procs.dies_with_me() + ["redis-server", "--port", "0", "--unixsocket", self.sock, "--save", ""] + aof +
            ["--dir", self.dir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._pingable, 10, what="redis-server to start")

    def _pingable(self):
        try:
            c = RedisClient(self.sock)
            ok = c("PING") == "PONG"
            c.close()
            return ok
        except (OSError, RespError):  # RespError: "LOADING" its append-only file
            return False

    def __call__(self, *args):
        c = RedisClient(self.sock)
        try:
            return c(*args)
        finally:
            c.close()

    def keys(self, pattern="*"):
        return sorted(self("KEYS", pattern))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.path.exists(self.sock):
            os.unlink(self.sock)

    def restart(self):
        self.kill()
        self.launch()

    def stop(self):
        self.kill()


# ---------------------------------------------------------------- API stubs

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


# ---------------------------------------------------------------- dvcbot

class Dvcbot:
    def __init__(self, tmpdir, redis_url, telegram=None, env=None, zalo=None, clock_offset=0):
        self.tmpdir = tmpdir
        self.port = free_port()
        self.log_path = os.path.join(tmpdir, "dvcbot-%d.log" % self.port)
        self.clock_path = os.path.join(tmpdir, "clock-%d" % self.port)
        self.clock_offset = clock_offset
        self._write_clock()
        self.env = dict(os.environ)
        self.env.update({
            "DVCBOT_LISTEN": "127.0.0.1:%d" % self.port,
            "REDIS_URL": redis_url,
            "DVCBOT_DATA_DIR": ROOT,
            "DVCBOT_LOG_LEVEL": "debug",
            "DVCBOT_RETRY_BASE_MS": "100",
            "DVCBOT_REDIS_TIMEOUT_MS": str(5000 * SLOW),  # a loaded 2-core machine stalls
            "DVCBOT_SEND_TIMEOUT_MS": str(3000 * SLOW),
            "DVCBOT_TEST_CLOCK": self.clock_path,
            # Every test's web chat users come from 127.0.0.1: one address, many
            # people (classes testing these limits set their own values).
            "DVCBOT_WEBCHAT_NEW_IDS": "1000000",
            "DVCBOT_HTTP_MAX_CONNS_PER_ADDR": "1000",
        })
        if telegram:
            self.env.update({"TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
                             "TELEGRAM_API_BASE": telegram.base})
        if zalo:
            self.env.update({"ZALO_APP_ID": ZL_APP_ID, "ZALO_OA_SECRET": ZL_OA_SECRET,
                             "ZALO_APP_SECRET": ZL_APP_SECRET, "ZALO_ACCESS_TOKEN": "zl-access-0",
                             "ZALO_REFRESH_TOKEN": "zl-refresh-0", "ZALO_API_BASE": zalo.base,
                             "ZALO_OAUTH_BASE": zalo.base})
        self.env.update(env or {})
        self.proc = None
        self._launched = False

    @classmethod
    def start(cls, tmpdir, redis, telegram=None, env=None, zalo=None, clock_offset=0):
        """clock_offset: seconds its clock starts ahead (see advance_clock)."""
        bot = cls(tmpdir, redis.url if isinstance(redis, Redis) else redis, telegram, env, zalo,
                  clock_offset)
        bot.launch()
        return bot

    def launch(self):
        # free_port() only says the port was free a moment ago: another
        # suite's process may take it before dvcbot binds it. The first start
        # then moves to another port (a restart keeps its port: clients know it).
        for attempt in range(3):
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(procs.dies_with_me() + WRAP + [BIN, "serve"], env=self.env,
                                         cwd=ROOT, stdout=self.log, stderr=self.log)
            try:
                wait_until(self._healthy, 10, what="dvcbot to answer /healthz with Redis connected")
                break
            except AssertionError:
                if self._launched or attempt == 2 or "address already in use" not in self.read_log():
                    raise
                self.log.close()
                self.port = free_port()
                self.env["DVCBOT_LISTEN"] = "127.0.0.1:%d" % self.port
        self._launched = True

    def _healthy(self):
        """Up, and connected to Redis (every test starts with Redis up; a
        loaded machine may take a while to connect)."""
        if self.proc.poll() is not None:
            raise AssertionError("dvcbot exited at start:\n" + self.read_log())
        try:
            status, _, body = self.request("GET", "/healthz", timeout=1)
            return status == 200 and json.loads(body)["redis"]
        except (OSError, http.client.HTTPException):
            # HTTPException: something else answers on the port (another
            # suite's process took it before dvcbot could bind): not up yet;
            # dvcbot then exits and launch() moves to another port
            return False

    def _write_clock(self):
        tmp = self.clock_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.clock_offset)
        os.replace(tmp, self.clock_path)

    def advance_clock(self, seconds):
        """Moves dvcbot's clock (src/clock_hook.c) `seconds` forward and
        returns once it took the new offset; every cron job has then run once
        at the new time. The system clock, Redis's and ours go on as before."""
        advance_clocks([self], seconds)

    def _signal_clock(self, seconds):
        self.clock_offset += int(seconds)
        self._write_clock()
        self.proc.send_signal(signal.SIGUSR2)

    def _took_clock(self):
        return self.metrics().get("dvcbot_test_clock_offset_seconds") == self.clock_offset

    def now(self):
        """dvcbot's unix time: ours plus the test clock's offset."""
        return time.time() + self.clock_offset

    def redis_up(self):
        status, _, body = self.request("GET", "/healthz")
        return status == 200 and json.loads(body)["redis"]

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout * SLOW)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                headers = dict(headers or {}, **{"Content-Type": "application/json"})
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def raw(self, data, read_until_close=True, timeout=5):
        """Sends raw bytes, returns everything read until the server closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout * SLOW) as s:
            s.sendall(data)
            chunks = []
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if not read_until_close:
                        break
            except socket.timeout:
                pass
            return b"".join(chunks)

    def telegram(self, update, secret=TG_SECRET):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.request("POST", "/webhook/telegram", update, headers)

    def zalo(self, event, signature=True):
        """POSTs a Zalo event; signature True signs it, a string is sent as is, None omits it."""
        body = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature is True:
            headers["X-ZEvent-Signature"] = zl_sign(body, event["timestamp"])
        elif signature is not None:
            headers["X-ZEvent-Signature"] = signature
        return self.request("POST", "/webhook/zalo", body, headers)

    def webchat(self, user, text=None, button=None, address=None):
        """address: sent as X-Forwarded-For (believed when 127.0.0.1 is in
        DVCBOT_TRUSTED_PROXIES), as if the browser were at that address."""
        body = {"user": user}
        if button is not None:
            body["button"] = button
        else:
            body["text"] = text
        headers = {"X-Forwarded-For": address} if address else None
        status, _, data = self.request("POST", "/webchat/messages", body, headers)
        return status, json.loads(data)

    def admin(self, method, path, body=None, token=ADMIN_TOKEN, headers=None):
        """A staff API call with a bearer token (None: no Authorization header)."""
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        return self.request(method, path, body, headers)

    def inbox(self, user):
        """Messages waiting for a web chat user (notifications), emptied by the read."""
        status, _, body = self.request("GET", "/webchat/messages?user=" + user)
        assert status == 200, status
        return json.loads(body)["replies"]
    def admin_json(self, method, path, body=None, token=ADMIN_TOKEN):
        """A staff request with a bearer token; returns (status, parsed JSON or None)."""
        headers = {"Authorization": "Bearer " + token} if token else {}
        status, _, data = self.request(method, path, body, headers)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, None

    def outbox_idle(self):
        """Nothing queued in the outbox and nothing being delivered."""
        m = self.metrics()
        return m.get("dvcbot_outbox_queued", 0) + m.get("dvcbot_outbox_inflight", 0) == 0

    def metrics(self):
        status, _, body = self.request("GET", "/metrics")
        assert status == 200
        out = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def stop(self, expect_code=0):
        if not self.proc or self.proc.poll() is not None:
            code = self.proc.returncode if self.proc else None
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=20 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("dvcbot did not exit after SIGTERM:\n" + self.read_log()[-4000:])
        self.log.close()
        log = self.read_log()
        problems = [m for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                                "Invalid read", "Invalid write", "definitely lost", "uninitialised")
                    if m in log]
        if problems:
            raise AssertionError(f"dvcbot reported {problems}:\n" + log[-6000:])
        if expect_code is not None and code != expect_code:
            raise AssertionError(f"dvcbot exited {code}, want {expect_code}:\n" + log[-4000:])
        return log

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def advance_clocks(bots, seconds):
    """Moves the clocks of several dvcbot processes forward together (they
    share a Redis and must agree on the time)."""
    for bot in bots:
        bot._signal_clock(seconds)
    for bot in bots:
        wait_until(bot._took_clock, what="dvcbot to take the test clock")


def run_cli(args, env, input=None, timeout=60):
    """Runs `dvcbot <args>` (under DVCBOT_WRAP too) and returns the CompletedProcess."""
    full = dict(os.environ, DVCBOT_DATA_DIR=ROOT)
    full.update(env)
    return subprocess.run(WRAP + [BIN] + list(args), env=full, cwd=ROOT, input=input,
                          capture_output=True, timeout=timeout * SLOW)


# ---------------------------------------------------------------- test bases

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


def seed_user(redis, user_key, chat=None, seen=None, **fields):
    """Writes a user record u:{<user key>} the way the core does (ch, chat, seen),
    plus extra fields such as commune."""
    prefix, _, ident = user_key.partition(":")
    ch = {"tg": "telegram", "zl": "zalo", "wc": "webchat"}[prefix]
    args = ["ch", ch, "chat", chat if chat is not None else ident,
            "seen", int(time.time()) if seen is None else seen]
    for name, value in fields.items():
        args += [name, value]
    redis("HSET", "u:{%s}" % user_key, *args)


def buttons_of(send_call):
    """Flattened [(text, callback_data)] of a recorded sendMessage call."""
    markup = (send_call["json"] or {}).get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


class ServiceTest(unittest.TestCase):
    """Starts redis, a Telegram stub (a Zalo stub with zalo = True) and dvcbot
    once per test class."""
    telegram = True
    zalo = False
    extra_env = None
    clock_offset = 0  # seconds dvcbot's clock starts ahead (Dvcbot.start)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dvcbot-e2e-")
        cls.redis = Redis.start(cls.tmp)
        cls.tg = TelegramStub.start() if cls.telegram else None
        cls.zl = ZaloStub.start() if cls.zalo else None
        cls.bot = Dvcbot.start(cls.tmp, cls.redis, telegram=cls.tg, env=cls.extra_env, zalo=cls.zl,
                               clock_offset=cls.clock_offset)
        cls._next_id = 100000

    @classmethod
    def tearDownClass(cls):
        try:
            log = cls.bot.stop()
            unmasked = re.findall(r"\d{9,}", log)
            if unmasked:
                raise AssertionError(f"log holds unmasked long numbers: {unmasked[:5]}")
        finally:
            if cls.tg:
                cls.tg.stop()
            if cls.zl:
                cls.zl.stop()
            cls.redis.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def next_id(cls):
        cls._next_id += 1
        return cls._next_id

    def new_user(self):
        """A Telegram user id long enough (10 digits) to test log masking."""
        return 7000000000 + self.next_id()

    def new_zalo_user(self):
        """A Zalo user id: a long numeric string (19 digits)."""
        return str(5400000000000000000 + self.next_id())

# ---------------------------------------------------------------- conversations

class Chat:
    """One user talking to dvcbot, on the web chat or through the Telegram or
    Zalo stub: say(text) and press(payload) return the replies of that message as
    [{"text": ..., "buttons": [(label, payload), ...]}].

    On Telegram the replies arrive asynchronously; a message is settled when
    dvcbot has handled it, its outbox is empty (nothing queued or in flight,
    acknowledgements of button presses included) and as many messages were
    counted delivered as the stub received since it was sent (so run one
    conversation at a time and keep replies short enough not to be split).
    `chat` is the Telegram chat when it is not the user's private chat (a
    staff group). On Zalo, the extra messages carrying buttons that did not
    fit under one message are folded back into the reply they belong to."""

    def __init__(self, test, channel="webchat", user=None, chat=None):
        self.test, self.channel = test, channel
        if channel == "telegram":
            self.user = user or test.new_user()
            self.chat = chat or self.user
            self.key = "tg:%d" % self.user
        elif channel == "zalo":
            self.user = self.chat = user or test.new_zalo_user()
            self.key = "zl:" + self.user
        else:
            self.user = user or "webuser%08d" % test.next_id()
            self.key = "wc:" + self.user

    def say(self, text):
        return self._send(text=text)

    def press(self, payload):
        return self._send(button=payload)

    def _send(self, text=None, button=None):
        if self.channel == "webchat":
            status, data = self.test.bot.webchat(self.user, text, button)
            assert status == 200, (status, data)
            return [{"text": r["text"], "buttons": [(b["label"], b["payload"]) for b in r["buttons"]]}
                    for r in data["replies"]]
        if self.channel == "zalo":
            return self._send_zalo(text, button)
        before = len(self.test.tg.sent_to(self.chat))
        mark = delivery_mark(self.test)
        uid = self.test.next_id()
        update = (tg_callback(uid, self.user, button, self.chat) if button is not None
                  else tg_message(uid, self.user, text, self.chat))
        status, _, _ = self.test.bot.telegram(update)
        assert status == 200
        settle(self.test, mark)
        return [{"text": c["json"]["text"], "buttons": buttons_of(c)}
                for c in self.test.tg.sent_to(self.chat)[before:]]

    def _send_zalo(self, text, button):
        zl = self.test.zl
        before = len(zl.sent_to(self.user))
        mark = delivery_mark(self.test, "zalo")
        event = zl_button(self.user, button) if button is not None else zl_text(self.user, text)
        status, _, _ = self.test.bot.zalo(event)
        assert status == 200
        settle(self.test, mark, channel="zalo")
        replies = []
        for call in zl.sent_to(self.user)[before:]:
            msg = call["json"]["message"]
            if replies and msg["text"] == ZL_MORE_BUTTONS:
                replies[-1]["buttons"] += zl_buttons(call)
            else:
                replies.append({"text": msg["text"], "buttons": zl_buttons(call)})
        return replies


def _stub_deliveries(test, channel):
    if channel == "zalo":
        return len([c for c in test.zl.of("cs") if (c.get("response") or {}).get("error") == 0])
    return len([c for c in test.tg.of("sendMessage") if c["status"] == 200])


def delivered(test, channel="telegram"):
    """(messages handled, outbox busy, replies counted sent, stub deliveries)."""
    m = test.bot.metrics()
    busy = m.get("dvcbot_outbox_queued", 0) + m.get("dvcbot_outbox_inflight", 0)
    return (m.get("dvcbot_handle_seconds_count", 0), busy,
            m.get('dvcbot_replies_sent_total{channel="%s"}' % channel, 0),
            _stub_deliveries(test, channel))


def delivery_mark(test, channel="telegram"):
    """Counters before sending a message (see settle), read once nothing is
    in flight (so what the stub received has been counted)."""
    return wait_until(lambda: (lambda d: d[1] == 0 and d)(delivered(test, channel)),
                      what="the outbox to be idle")


def settle(test, mark, handled=1, channel="telegram"):
    """Waits until dvcbot has handled `handled` more messages since mark and
    delivered to the channel's stub everything queued since."""
    h0, _, sent0, calls0 = mark

    def done():
        h, busy, sent, calls = delivered(test, channel)
        # On Zalo one reply may take several API calls (buttons in groups).
        same = sent - sent0 == calls - calls0 if channel == "telegram" else calls - calls0 >= sent - sent0
        return h >= h0 + handled and busy == 0 and same
    wait_until(done, what="replies to be delivered")


def payloads(replies):
    return [p for r in replies for _, p in r["buttons"]]


def texts(replies):
    return "\n".join(r["text"] for r in replies)
