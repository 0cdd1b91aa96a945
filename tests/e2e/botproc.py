"""The real dvcbot binary under test: `dvcbot serve` on a free port of
127.0.0.1 with a test clock (Dvcbot), requests to it, its metrics and its log
checked at stop; and one-shot CLI commands (run_cli)."""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import basics
import procs
from basics import ADMIN_TOKEN, ROOT, SLOW, TG_SECRET, TG_TOKEN, ZL_APP_ID, ZL_APP_SECRET, ZL_OA_SECRET, \
    free_port, wait_until
from redisproc import Redis
from stubs import zl_sign


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
            self.proc = subprocess.Popen(procs.dies_with_me() + basics.WRAP + [basics.BIN, "serve"], env=self.env,
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
    return subprocess.run(basics.WRAP + [basics.BIN] + list(args), env=full, cwd=ROOT, input=input,
                          capture_output=True, timeout=timeout * SLOW)
