"""docker/nginx.conf: behind nginx every connection reaches dvcbot from the
proxy (a trusted, exempt address), so nginx applies dvcbot's own connection
caps per client address and in all, with the same numbers; run with this
machine's nginx (when installed), the 33rd connection of one address is
refused while 32 are held, and served once one ends."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import procs
from harness import ROOT, free_port, wait_until

CONF = os.path.join(ROOT, "docker", "nginx.conf")


def dvcbot_default(name):
    """The default of a numeric setting, from src/config.c."""
    with open(os.path.join(ROOT, "src", "config.c"), encoding="utf-8") as f:
        m = re.search(r'\{"%s", ([0-9]+),' % re.escape(name), f.read())
    assert m, name
    return int(m.group(1))


def servers(conf):
    """The text of each top-level server { } block."""
    out, depth, start = [], 0, None
    for m in re.finditer(r"server\s*\{|\{|\}", conf):
        if m.group(0) == "}":
            depth -= 1
            if depth == 0 and start is not None:
                out.append(conf[start:m.end()])
                start = None
        else:
            if depth == 0 and m.group(0).startswith("server"):
                start = m.start()
            depth += 1
    return out


class NginxConfTest(unittest.TestCase):
    def setUp(self):
        with open(CONF, encoding="utf-8") as f:
            self.conf = f.read()

    def test_the_server_in_front_of_dvcbot_caps_connections_per_address_and_in_all_as_dvcbot_does(self):
        zones = dict((z, key) for key, z in re.findall(r"limit_conn_zone\s+(\S+)\s+zone=(\w+):", self.conf))
        blocks = [b for b in servers(self.conf) if "proxy_pass http://dvcbot" in b]
        self.assertEqual(len(blocks), 1)        # the TLS server (port 80 only redirects)
        for block in blocks:
            caps = {zones.get(z): int(n) for z, n in re.findall(r"limit_conn\s+(\w+)\s+(\d+);", block)}
            self.assertEqual(caps.get("$binary_remote_addr"), dvcbot_default("DVCBOT_HTTP_MAX_CONNS_PER_ADDR"),
                             block[:60])
            self.assertEqual(caps.get("$server_name"), dvcbot_default("DVCBOT_HTTP_MAX_CONNS"), block[:60])


class HeldUpstream(ThreadingHTTPServer):
    """dvcbot's stand-in: holds every request until released."""
    daemon_threads = True
    # nginx opens its 32 upstream connections at once: with socketserver's
    # listen backlog of 5 a loaded machine drops SYNs, whose retries can
    # outlast nginx's proxy_connect_timeout
    request_queue_size = 128

    def __init__(self):
        self.release = threading.Event()
        self.held = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with server.lock:
                    server.held += 1
                server.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        super().__init__(("127.0.0.1", 0), Handler)


class NginxRunTest(unittest.TestCase):
    """The TLS server of docker/nginx.conf, run on loopback without TLS."""

    def setUp(self):
        if not shutil.which("nginx"):
            self.skipTest("nginx is not installed (Debian nginx-light; bench/webhook.py installs it)")
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-nginx-")
        self.upstream = HeldUpstream()
        threading.Thread(target=self.upstream.serve_forever, daemon=True).start()
        self.port = free_port()
        conf = self.conf_for_loopback()
        path = os.path.join(self.tmp, "nginx.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(conf)
        self.nginx = subprocess.Popen(procs.dies_with_me() + ["nginx", "-p", self.tmp, "-c", path],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(self.listening, 10, what="nginx to listen")
        self.socks = []

    def tearDown(self):
        if not hasattr(self, "nginx"):
            return
        self.upstream.release.set()
        for s in self.socks:
            s.close()
        self.nginx.kill()
        self.nginx.wait()
        self.upstream.shutdown()
        self.upstream.server_close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def conf_for_loopback(self):
        with open(CONF, encoding="utf-8") as f:
            conf = f.read()
        for old, new in (("listen 80;", "listen 127.0.0.1:%d;" % free_port()),
                         ("listen 443 ssl http2;", "listen 127.0.0.1:%d;" % self.port),
                         ("server dvcbot:8080;", "server 127.0.0.1:%d;" % self.upstream.server_address[1])):
            self.assertIn(old, conf)
            conf = conf.replace(old, new)
        conf = re.sub(r"^\s*ssl_\w+ .*$", "", conf, flags=re.M)
        temp = "".join("    %s_temp_path %s/%s;\n" % (t, self.tmp, t)
                       for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return ("daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
                "events { worker_connections 512; }\nhttp {\n    access_log off;\n%s%s\n}\n"
                % (self.tmp, self.tmp, temp, conf))

    def listening(self):
        if self.nginx.poll() is not None:
            raise AssertionError("nginx ended: " + self.nginx.stderr.read().decode())
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def open_request(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot.example.vn\r\n\r\n")
        self.socks.append(s)
        return s

    def status_of(self, s):
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None

    def test_the_33rd_connection_of_one_address_is_refused_until_one_ends(self):
        cap = dvcbot_default("DVCBOT_HTTP_MAX_CONNS_PER_ADDR")
        held = [self.open_request() for _ in range(cap)]
        wait_until(lambda: self.upstream.held == cap, 10, what="%d requests held upstream" % cap)
        extra = [self.open_request() for _ in range(3)]
        self.assertEqual([self.status_of(s) for s in extra], [503, 503, 503])
        self.assertEqual(self.upstream.held, cap)                   # none of them reached dvcbot
        self.upstream.release.set()
        self.assertEqual([self.status_of(s) for s in held], [200] * cap)
        for s in held + extra:
            s.close()
        self.socks.clear()
        wait_until(lambda: self.status_of(self.open_request()) == 200, 10, what="a new connection served")


if __name__ == "__main__":
    unittest.main()
