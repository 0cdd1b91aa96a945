#!/usr/bin/env python3
"""Dossier benchmark: ingest rate of POST /admin/dossiers and lookup latency
through the web chat API, with redis-server on TCP loopback.

    python3 bench/dossiers.py --build build [--records 100000] [--lookups 2000]

Starts a private redis-server (127.0.0.1, no persistence) and `dvcbot serve`,
uploads N generated dossiers as one NDJSON body and reports records/s (time
from the first byte sent to the answer), the worst /healthz latency seen
while the batch was being stored (how long the loop was ever held), then
runs verified lookups (code, then the 4 digits) over one keep-alive
connection and reports p50/p99 of the verification step and of the whole
three-message dialogue.

Measured 2026-11-24 on the shared 2-core dev machine (other suites running):
ingest 24 000-31 000 records/s for 100 000 records (42.8 MB), Redis-bound
(~30 us of redis-server CPU per record in the upsert script, ~14 us of
dvcbot CPU); worst /healthz latency during the batch 18-40 ms; verification
step p50 0.6-0.7 ms, p99 1-4 ms; whole lookup dialogue p50 1.5-1.7 ms.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
os.environ.setdefault("DVCBOT_ROOT", ROOT)

TOKEN = "bench-admin-token-0123456789"
PROCEDURES = ["khai_sinh", "ket_hon", "can_cuoc", "thuong_tru", "ly_lich_tu_phap", "dat_dai"]
STATUSES = ["da_tiep_nhan", "dang_xu_ly", "can_bo_sung", "cho_thanh_toan", "da_co_ket_qua"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def code_of(i):
    return "000.00.%02d.H50-2411%02d-%04d" % (i // 1000000 % 100, i // 10000 % 100, i % 10000)


def records(n, seed=1):
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        lines.append(json.dumps({
            "code": code_of(i), "procedure": rng.choice(PROCEDURES),
            "applicant_name": "Nguyễn Văn %d" % i, "phone": "09%08d" % rng.randrange(10 ** 8),
            "id_number": "0%011d" % rng.randrange(10 ** 11), "commune": "Chiềng Cơi",
            "agency": "UBND phường Chiềng Cơi", "status": rng.choice(STATUSES),
            "received_at": "2024-11-20T08:00:00+07:00", "due_at": "2024-12-05",
            "fee": rng.choice([0, 20000, 150000]), "paid": False, "submitted_online": True,
            "paid_online": False, "finished_at": "", "note": ""}, ensure_ascii=False))
    return lines


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, r.read()

    def chat(self, user, text):
        t0 = time.perf_counter()
        status, body = self.call("POST", "/webchat/messages",
                                 json.dumps({"user": user, "text": text}).encode(),
                                 {"Content-Type": "application/json"})
        dt = time.perf_counter() - t0
        assert status == 200, (status, body)
        return dt, json.loads(body)["replies"]


def watch_health(port, stop, worst):
    c = Client(port)
    while not stop.is_set():
        t0 = time.perf_counter()
        c.call("GET", "/healthz")
        worst[0] = max(worst[0], time.perf_counter() - t0)
        worst[1] += 1
        time.sleep(0.005)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--lookups", type=int, default=2000)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="dvcbot-bench-")
    rport, bport = free_port(), free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", tmp],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DVCBOT_LISTEN="127.0.0.1:%d" % bport,
               REDIS_URL="redis://127.0.0.1:%d" % rport, DVCBOT_DATA_DIR=ROOT,
               DVCBOT_LOG_LEVEL="warn", ADMIN_TOKENS=TOKEN)
    log = open(os.path.join(tmp, "dvcbot.log"), "wb")
    bot = None
    try:
        time.sleep(0.3)
        bot = subprocess.Popen([os.path.join(args.build, "dvcbot"), "serve"], env=env, cwd=ROOT,
                               stdout=log, stderr=log)
        client = Client(bport)
        for _ in range(100):
            try:
                if json.loads(client.call("GET", "/healthz")[1])["redis"]:
                    break
            except OSError:
                client = Client(bport)
            time.sleep(0.05)

        body = "\n".join(records(args.records)).encode()
        stop, worst = threading.Event(), [0.0, 0]
        watcher = threading.Thread(target=watch_health, args=(bport, stop, worst))
        watcher.start()
        cpu0 = cpu_seconds(bot.pid), cpu_seconds(redis.pid)
        t0 = time.perf_counter()
        status, answer = client.call("POST", "/admin/dossiers", body,
                                     {"Authorization": "Bearer " + TOKEN,
                                      "Content-Type": "application/x-ndjson"})
        ingest_s = time.perf_counter() - t0
        cpu = cpu_seconds(bot.pid) - cpu0[0], cpu_seconds(redis.pid) - cpu0[1]
        stop.set()
        watcher.join()
        result = json.loads(answer)
        assert status == 200 and result["created"] == args.records, (status, answer[:300])
        print("ingest: %d records (%.1f MB NDJSON) in %.2f s = %.0f records/s"
              % (args.records, len(body) / 1e6, ingest_s, args.records / ingest_s))
        print("ingest: CPU dvcbot %.2f s, redis-server %.2f s" % cpu)
        print("ingest: loop stayed responsive, worst /healthz latency during the batch %.1f ms "
              "(%d probes)" % (worst[0] * 1000, worst[1]))

        rng = random.Random(2)
        pins = {}
        flat = records(args.records)  # same seed: phones known to the bench
        verify, whole = [], []
        for n in range(args.lookups):
            i = rng.randrange(args.records)
            code = code_of(i)
            pin = pins.get(i) or json.loads(flat[i])["phone"][-4:]
            user = "benchuser%06d" % n
            d1, _ = client.chat(user, "tra cứu hồ sơ")
            d2, _ = client.chat(user, code)
            d3, replies = client.chat(user, pin)
            assert code in replies[0]["text"], replies
            verify.append(d3)
            whole.append(d1 + d2 + d3)
        print("lookup: %d verified lookups over one keep-alive connection" % args.lookups)
        print("lookup: verification step p50 %.2f ms, p99 %.2f ms, mean %.2f ms"
              % (quantile(verify, .5) * 1000, quantile(verify, .99) * 1000,
                 statistics.mean(verify) * 1000))
        print("lookup: whole dialogue (3 messages) p50 %.2f ms, p99 %.2f ms"
              % (quantile(whole, .5) * 1000, quantile(whole, .99) * 1000))
    finally:
        if bot:
            bot.terminate()
            bot.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
