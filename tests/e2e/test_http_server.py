"""The HTTP server: limits, malformed input, pipelining, keep-alive, timeouts."""
import re
import socket
import threading
import time

from harness import SLOW, ServiceTest, wait_until


class HttpServerTest(ServiceTest):
    telegram = False
    extra_env = {"DVCBOT_HTTP_TIMEOUT_MS": "1500", "DVCBOT_HTTP_IDLE_MS": "3000"}

    def test_healthz_answers_ok_with_redis_state(self):
        status, headers, body = self.bot.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertIn(b'"status":"ok"', body)
        wait_until(self.bot.redis_up, what="redis connected")

    def test_unknown_path_is_404_and_wrong_method_405(self):
        self.assertEqual(self.bot.request("GET", "/nope")[0], 404)
        self.assertEqual(self.bot.request("DELETE", "/healthz")[0], 405)

    def test_body_over_one_mebibyte_is_413_and_server_goes_on(self):
        body = b"x" * (1024 * 1024 + 1)
        status, _, _ = self.bot.request("POST", "/webchat/messages", body,
                                        {"Content-Type": "application/json"})
        self.assertEqual(status, 413)
        self.assertEqual(self.bot.request("GET", "/healthz")[0], 200)

    def test_chunked_body_over_limit_is_413(self):
        chunk = b"x" * 65536
        req = b"POST /webchat/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        req += (b"10000\r\n" + chunk + b"\r\n") * 17 + b"0\r\n\r\n"
        out = self.bot.raw(req)
        self.assertTrue(out.startswith(b"HTTP/1.1 413"), out[:80])

    def test_garbage_bytes_get_400_and_next_request_works(self):
        out = self.bot.raw(b"\x00\xff\x13garbage\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:80])
        self.assertEqual(self.bot.request("GET", "/healthz")[0], 200)

    def test_content_length_with_transfer_encoding_is_refused(self):
        out = self.bot.raw(b"POST /webchat/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:80])

    def test_transfer_encoding_twice_is_refused(self):
        out = self.bot.raw(b"POST /webchat/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:80])

    def test_headers_over_16k_are_refused(self):
        out = self.bot.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431"), out[:80])

    def test_pipelined_requests_are_answered_in_order(self):
        req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = self.bot.raw(req)
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", out)
        self.assertEqual(statuses, [b"200", b"404", b"200"])

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        with socket.create_connection(("127.0.0.1", self.bot.port), timeout=5 * SLOW) as s:
            for _ in range(3):
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                data = s.recv(65536)
                self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:60])
                self.assertIn(b"Connection: keep-alive", data)

    def test_slow_client_is_dropped_after_timeout(self):
        with socket.create_connection(("127.0.0.1", self.bot.port), timeout=10 * SLOW) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            start = time.time()
            for _ in range(20):  # trickle a header byte now and then
                try:
                    s.sendall(b"X")
                except OSError:
                    break
                time.sleep(0.2)
                s.setblocking(False)
                try:
                    if s.recv(1) == b"":
                        break
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
            elapsed = time.time() - start
        self.assertLess(elapsed, 3.9 * SLOW, "slow client kept the connection too long")
        self.assertEqual(self.bot.request("GET", "/healthz")[0], 200)

    def test_many_concurrent_connections_are_served(self):
        results = []

        def one():
            try:
                results.append(self.bot.request("GET", "/healthz")[0])
            except OSError as e:
                results.append(str(e))

        threads = [threading.Thread(target=one) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 100)

    def test_metrics_count_requests_by_route_and_code(self):
        self.bot.request("GET", "/nope")
        m = self.bot.metrics()
        self.assertGreaterEqual(m.get('dvcbot_http_requests_total{route="unmatched",code="404"}', 0), 1)
        self.assertIn("dvcbot_redis_connected", m)
        self.bot.webchat("metricsuser1", "/start")
        m = self.bot.metrics()
        self.assertGreaterEqual(m.get("dvcbot_handle_seconds_count", 0), 1)
        self.assertGreaterEqual(m.get('dvcbot_messages_total{channel="webchat"}', 0), 1)
