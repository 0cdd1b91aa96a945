#!/usr/bin/env python3
"""Exhaustion benchmark: what a stranger can make dvcbot hold, with the
default limits, against a private redis-server and the real binary.

    python3 bench/exhaustion.py --build build [--conns 2000] [--ids 5000] [--keys 450000]

1. Bodies: --conns connections from 100 loopback addresses (127.0.x.y, as
   many clients), each announcing a 1 MiB body and sending 512 KiB of it.
   Prints how many were accepted, refused at the door (per address, total)
   or answered 503 (bodies held at once), the process's RSS before, at the
   peak and after they closed.
2. Web chat identities: --ids fresh web chat ids from one address, then from
   100 addresses (one id each... as many as each is allowed), each saying
   "xin chào": how many got through, keys and bytes Redis gained.
3. Erase: --keys other keys in Redis, then one user's erase-my-data: the
   time of that request.

The figures go in bench/README.md and the README's security section.
"""
import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
os.environ.setdefault("DVCBOT_ROOT", ROOT)
import basics  # noqa: E402 (after the path)
import harness  # noqa: E402
from harness import rss_kb  # noqa: E402


def redis_memory(redis):
    for line in redis("INFO", "memory").splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


def source_address(i):
    return "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)


def bodies(bot, n):
    pid = bot.proc.pid
    before = rss_kb(pid)
    socks, refused_at_door = [], 0
    head = b"POST /webchat/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"
    chunk = b" " * (512 * 1024)
    for i in range(n):
        s = socket.socket()
        s.settimeout(10)
        s.bind((source_address(i % 100), 0))
        try:
            s.connect(("127.0.0.1", bot.port))
            s.sendall(head + chunk)
            socks.append(s)
        except OSError:
            refused_at_door += 1
            s.close()
    time.sleep(2)  # let the server read what it will
    peak = rss_kb(pid)
    m = bot.metrics()
    answered_503, closed = 0, 0
    for s in socks:
        s.settimeout(0.05)
        try:
            data = s.recv(64)
            if data.startswith(b"HTTP/1.1 503"):
                answered_503 += 1
            elif not data:
                closed += 1
        except OSError:
            pass
    held = m.get("dvcbot_http_buffered_bytes", 0)
    for s in socks:
        s.close()
    deadline = time.time() + 20
    while time.time() < deadline and bot.metrics().get("dvcbot_http_connections", 99) > 1:
        time.sleep(0.2)
    time.sleep(1)
    bot.metrics()
    after = rss_kb(pid)
    refused = {r: m.get('dvcbot_http_refused_total{reason="%s"}' % r, 0)
               for r in ("connections", "per_address", "buffered")}
    print("bodies: %d connections from 100 addresses, 1 MiB announced, 512 KiB sent each" % n)
    print("  refused on accept: %d per address, %d over the total; %d bodies answered 503; "
          "%d failed to connect; %.1f MiB held at the peak"
          % (refused["per_address"], refused["connections"], answered_503, refused_at_door,
             held / 1048576))
    print("  rss: %.1f MiB before, %.1f MiB at the peak, %.1f MiB after they closed"
          % (before / 1024, peak / 1024, after / 1024))


def identities(bot, redis, n):
    keys0, mem0 = redis("DBSIZE"), redis_memory(redis)
    ok = too_many = 0
    for i in range(n):
        status, _ = bot.webchat("floodid%07d" % i, "xin chào", address="198.51.100.7")
        ok += status == 200
        too_many += status == 429
    keys1, mem1 = redis("DBSIZE"), redis_memory(redis)
    print("web chat ids: %d fresh ids from one address: %d answered, %d refused (429); Redis +%d keys, "
          "+%.1f KiB" % (n, ok, too_many, keys1 - keys0, (mem1 - mem0) / 1024))
    ok = 0
    for a in range(100):
        for i in range(n // 100):
            status, _ = bot.webchat("spreadid%03d%05d" % (a, i), "xin chào", address="203.0.113.%d" % a)
            ok += status == 200
    keys2, mem2 = redis("DBSIZE"), redis_memory(redis)
    print("web chat ids: %d fresh ids from 100 addresses: %d answered; Redis +%d keys, +%.1f KiB"
          % (n, ok, keys2 - keys1, (mem2 - mem1) / 1024))
    t0 = time.perf_counter()
    for i in range(1000):
        bot.webchat("pageload%07d" % i, "/start", address="198.51.100.8")
    dt = time.perf_counter() - t0
    print("web chat ids: 1000 page loads (/start) of fresh ids: Redis +%d keys (%.0f loads/s)"
          % (redis("DBSIZE") - keys2, 1000 / dt))


def erase(bot, redis, n):
    user = "erasebench01"
    for text in ("khai sinh", "tra cứu hồ sơ", "xin chào"):
        bot.webchat(user, text, address="192.0.2.1")
    bot.webchat(user, button="rate:5", address="192.0.2.1")
    bot.webchat(user, "Rất dễ dùng", address="192.0.2.1")
    batch = 10000
    for start in range(0, n, batch):
        redis("MSET", *[x for i in range(start, min(n, start + batch)) for x in ("bench:other:%d" % i, "v")])
    bot.webchat(user, "xóa dữ liệu của tôi", address="192.0.2.1")
    t0 = time.perf_counter()
    status, data = bot.webchat(user, button="erase:yes", address="192.0.2.1")
    dt = time.perf_counter() - t0
    left = redis("KEYS", "*{wc:%s}*" % user)
    print("erase: one user's data with %d other keys in Redis: %.1f ms (status %d, %d keys left)"
          % (redis("DBSIZE"), dt * 1000, status, len(left)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--ids", type=int, default=5000)
    ap.add_argument("--keys", type=int, default=450000)
    args = ap.parse_args()
    basics.BIN = os.path.abspath(os.path.join(ROOT, args.build, "dvcbot"))
    tmp = tempfile.mkdtemp(prefix="dvcbot-bench-")
    redis = harness.Redis.start(tmp)
    # The service's defaults (the test harness raises some for loopback).
    defaults = {"DVCBOT_WEBCHAT_NEW_IDS": "60", "DVCBOT_HTTP_MAX_CONNS_PER_ADDR": "32",
                "DVCBOT_HTTP_MAX_CONNS": "1024", "DVCBOT_HTTP_MAX_BUFFERED_MB": "64"}
    bot = harness.Dvcbot.start(tmp, redis, env=dict(defaults, DVCBOT_TRUSTED_PROXIES="127.0.0.1"))
    try:
        bodies(bot, args.conns)
        identities(bot, redis, args.ids)
        erase(bot, redis, args.keys)
    finally:
        bot.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
