"""Outbound HTTP end to end, with a relay on 127.0.0.1 between dvcbot and the
Telegram stub: a forward proxy from http_proxy is used (the relay sees the
absolute URL of a host nobody could resolve) except for no_proxy hosts, and
the keep-alive race never doubles a reply: a kept connection the server
closed is replaced, and a sendMessage the server read and then hung up on is
not sent again by the HTTP client but once more by the outbox (counted as a
retry), so the user reads each reply once."""
import http.client
import http.server
import socket
import threading
import urllib.parse

from harness import ServiceTest, tg_message, wait_until

UNRESOLVABLE_API = "http://api.telegram.invalid:8081"  # .invalid never resolves (RFC 6761)


class Relay:
    """An HTTP/1.1 server that passes each request on to the Telegram stub
    (upstream() gives its port) and records it: its request target (an
    absolute URL when it is used as a proxy), its connection and its turn on
    that connection. Misbehaviour:
      hang_up_reused — once: the first sendMessage that comes as the 2nd or
                       later request of a connection is read, not passed on,
                       and the connection closed without an answer;
      close_idle()   — closes every connection waiting for its next request."""

    def __init__(self, upstream):
        self.calls = []
        self.connections = 0
        self.open = set()  # sockets of connections not closed yet
        self.hang_up_reused = False
        self.lock = threading.Lock()
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                self.turn = 0
                with relay.lock:
                    relay.connections += 1
                    self.connection_no = relay.connections
                    relay.open.add(self.connection)

            def finish(self):
                with relay.lock:
                    relay.open.discard(self.connection)
                super().finish()

            def _relay(self):
                self.turn += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                call = {"method": self.command, "target": self.path, "connection": self.connection_no,
                        "turn": self.turn, "body": body}
                with relay.lock:
                    hang = relay.hang_up_reused and self.turn > 1 and self.path.endswith("/sendMessage")
                    relay.hang_up_reused = relay.hang_up_reused and not hang
                    call["hung_up"] = hang
                    relay.calls.append(call)
                if hang:
                    self.close_connection = True  # read, never answered
                    return
                status, data = relay.forward(self.command, self.path, body, upstream())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _relay
            do_POST = _relay

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def forward(method, target, body, port):
        parts = urllib.parse.urlsplit(target)
        path = parts.path + ("?" + parts.query if parts.query else "")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(method, path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def close_idle(self):
        """Closes the connections waiting for a request (the caller knows none
        is busy) and waits until they are gone; returns how many."""
        with self.lock:
            idle = list(self.open)
        for sock in idle:
            sock.shutdown(socket.SHUT_RDWR)  # FIN; its handler reads the end and finishes
        wait_until(lambda: not (self.open & set(idle)), what="the relay's connections to close")
        return len(idle)

    def sends(self):
        with self.lock:
            return [c for c in self.calls if c["target"].endswith("/sendMessage")]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RelayTest(ServiceTest):
    """ServiceTest with a Relay in front of the Telegram stub; relay_env(base)
    gives the environment that points dvcbot at it."""

    @classmethod
    def relay_env(cls, base):
        return {}

    @classmethod
    def setUpClass(cls):
        cls.relay = Relay(lambda: cls.tg.httpd.server_address[1])
        cls.extra_env = cls.relay_env(cls.relay.base)
        try:
            super().setUpClass()
        except BaseException:
            cls.relay.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.relay.stop()

    def counter(self, name, **labels):
        key = name + "{" + ",".join('%s="%s"' % kv for kv in labels.items()) + "}"
        return self.bot.metrics().get(key, 0)

    def say(self, user, text):
        """Sends text and waits until its replies are all delivered; returns them."""
        before = len(self.tg.sent_to(user))
        self.bot.telegram(tg_message(self.next_id(), user, text))
        wait_until(lambda: len(self.tg.sent_to(user)) > before and self.bot.outbox_idle(),
                   what="the replies to %r" % text)
        return self.tg.sent_to(user)[before:]


class ThroughProxyTest(RelayTest):
    """http_proxy set, the API host not in no_proxy: the request goes through
    the proxy (libcurl), which alone can reach a host that does not resolve."""

    @classmethod
    def relay_env(cls, base):
        return {"http_proxy": base, "no_proxy": "localhost,127.0.0.1,.example.org",
                "TELEGRAM_API_BASE": UNRESOLVABLE_API}

    def test_replies_go_through_the_proxy(self):
        user = self.new_user()
        replies = self.say(user, "/start")
        through = self.relay.sends()
        self.assertEqual(len(through), len(self.tg.of("sendMessage")))
        self.assertGreaterEqual(len(through), len(replies))
        for call in through:
            self.assertTrue(call["target"].startswith(UNRESOLVABLE_API + "/bot"), call["target"])
        self.assertIn("through libcurl where the proxy applies", self.bot.read_log())


class NoProxyTest(RelayTest):
    """http_proxy set, the API host in no_proxy: straight to the API."""

    @classmethod
    def relay_env(cls, base):
        return {"http_proxy": base, "no_proxy": "example.org, 127.0.0.1"}

    def test_no_proxy_host_is_reached_directly(self):
        user = self.new_user()
        self.say(user, "/start")
        self.assertEqual(self.relay.calls, [])


class KeptConnectionTest(RelayTest):
    """The relay is the Bot API (TELEGRAM_API_BASE) and drops connections."""

    @classmethod
    def relay_env(cls, base):
        return {"TELEGRAM_API_BASE": base}

    def test_kept_connection_the_server_closed_is_replaced_and_the_reply_sent_once(self):
        user = self.new_user()
        first = self.say(user, "/start")
        connections = self.relay.connections
        self.assertGreaterEqual(self.relay.close_idle(), 1)
        retries = self.counter("dvcbot_send_retries_total", channel="telegram")
        replies = self.say(user, "/start")
        self.assertGreater(self.relay.connections, connections)
        self.assertEqual(len(self.relay.sends()), len(self.tg.of("sendMessage")))
        self.assertEqual(self.counter("dvcbot_send_retries_total", channel="telegram"), retries)
        self.assertEqual([r["json"]["text"] for r in replies], [r["json"]["text"] for r in first])

    def test_send_cut_off_after_the_server_read_it_is_sent_again_by_the_outbox_only(self):
        user = self.new_user()
        first = self.say(user, "/start")
        retries = self.counter("dvcbot_send_retries_total", channel="telegram")
        self.relay.hang_up_reused = True
        replies = self.say(user, "/start")
        cut = [c for c in self.relay.sends() if c["hung_up"]]
        self.assertEqual(len(cut), 1)
        # Not sent again by the client: the failure reached the outbox, which
        # counted a retry and sent it once more.
        self.assertEqual(self.counter("dvcbot_send_retries_total", channel="telegram"), retries + 1)
        self.assertEqual(len(self.relay.sends()), len(self.tg.of("sendMessage")) + 1)
        # The user reads each reply once, in order: the same replies as before.
        self.assertEqual([r["json"]["text"] for r in replies], [r["json"]["text"] for r in first])
        self.assertIn("Empty reply from server", self.bot.read_log())
