"""A real redis-server on a unix socket for the end-to-end tests, and a
minimal RESP2 client to read and write its keys (no redis-py here)."""
import os
import socket
import subprocess

import procs
from basics import wait_until


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
