#!/usr/bin/env python3
"""Throughput and latency of the whole Telegram webhook path, next to nginx.

dvcbot: secret check, JSON parse, dedupe + session in Redis, intent match,
reply rendered and sent (to nginx acting as the Bot API). Baseline: nginx
answering a fixed 200 on this machine with one worker. Load: wrk, one thread,
32 connections, 10 s, 1000 users typing a mix of questions.

  python3 bench/webhook.py --build build [--seconds 10] [--connections 32]

Needs wrk and nginx (installed with apt-get when missing and run as root).
Set DVCBOT_TELEGRAM_INLINE_REPLY=1 to measure the mode that answers in the
webhook response instead of calling sendMessage.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "bench-secret-token"
TOKEN = "1:BENCH"

LUA = r'''
counter = 0
offset = %d
texts = {"dk khai sinh cho con", "lam lai cccd o dau", "xin chao",
         "ho so cua toi den dau roi", "phi lam ho chieu bao nhieu", "dang ky ket hon can giay to gi",
         "gia vang hom nay", "menu"}
request = function()
  counter = counter + 1
  local uid = 7000000000 + (counter %% 1000)
  local t = texts[(counter %% #texts) + 1]
  local body = string.format('{"update_id":%%d,"message":{"message_id":%%d,"date":1700000000,' ..
    '"text":"%%s","from":{"id":%%d,"first_name":"B"},"chat":{"id":%%d,"type":"private"}}}',
    offset + counter, counter, t, uid, uid)
  return wrk.format("POST", "/webhook/telegram", {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "%s"}, body)
end
'''

NGINX_CONF = '''
worker_processes 1;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            default_type application/json;
            return 200 '{"ok":true,"result":{"message_id":1}}';
        }
    }
}
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(tool, package):
    if shutil.which(tool):
        return
    if os.geteuid() != 0:
        sys.exit(f"bench: {tool} missing (apt-get install {package})")
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def wait_http(url, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return r.read()
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench: {url} did not come up")


def run_wrk(url, seconds, connections, script=None):
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for q in ("50%", "90%", "99%"):
        m = re.search(r"\s%s\s+([\d.]+)(us|ms|s)" % re.escape(q), out)
        v = float(m.group(1))
        lat[q] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat, int(errors.group(1)) if errors else 0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(port, name):
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    need("wrk", "wrk")
    need("nginx", "nginx-light")
    tmp = tempfile.mkdtemp(prefix="dvcbot-bench-")
    procs = []
    try:
        nport, bport = free_port(), free_port()
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF % {"dir": tmp, "port": nport})
        procs.append(subprocess.Popen(["nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf")],
                                      stderr=subprocess.DEVNULL))
        sock = os.path.join(tmp, "redis.sock")
        procs.append(subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{nport}/")

        rps_n, lat_n, _ = run_wrk(f"http://127.0.0.1:{nport}/", args.seconds, args.connections)

        mode = "inline reply" if os.environ.get("DVCBOT_TELEGRAM_INLINE_REPLY") == "1" else "sendMessage via outbox"
        env = dict(os.environ, DVCBOT_LISTEN=f"127.0.0.1:{bport}", REDIS_URL="unix://" + sock,
                   DVCBOT_DATA_DIR=ROOT, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET,
                   TELEGRAM_API_BASE=f"http://127.0.0.1:{nport}", DVCBOT_TELEGRAM_RATE="1000000",
                   DVCBOT_LOG_LEVEL="warn")
        bot = subprocess.Popen([os.path.join(ROOT, args.build, "dvcbot"), "serve"], env=env,
                               stderr=open(os.path.join(tmp, "dvcbot.log"), "w"))
        procs.append(bot)
        wait_http(f"http://127.0.0.1:{bport}/healthz")
        time.sleep(0.3)
        lua = os.path.join(tmp, "update.lua")
        with open(lua, "w") as f:
            f.write(LUA % (int(time.time() * 1000) * 1000, SECRET))
        cpu0 = {p.pid: cpu_seconds(p.pid) for p in procs}
        t0 = time.time()
        rps_d, lat_d, errors = run_wrk(f"http://127.0.0.1:{bport}/webhook/telegram", args.seconds,
                                       args.connections, lua)
        wall = time.time() - t0
        cpu = {p.pid: (cpu_seconds(p.pid) - cpu0[p.pid]) / wall * 100 for p in procs}
        # Every update must have produced a reply at the stub.
        deadline = time.time() + 30
        while time.time() < deadline:
            handled = metric(bport, "dvcbot_messages_total")
            sent = metric(bport, "dvcbot_replies_sent_total")
            if sent >= handled:
                break
            time.sleep(0.2)
        rss_kb = int(open(f"/proc/{bot.pid}/status").read().split("VmRSS:")[1].split()[0])

        print(f"nginx fixed 200      : {rps_n:10.0f} req/s  p50 {lat_n['50%']:.2f} ms  p99 {lat_n['99%']:.2f} ms")
        print(f"mode: {mode}")
        print(f"dvcbot webhook path  : {rps_d:10.0f} req/s  p50 {lat_d['50%']:.2f} ms  p99 {lat_d['99%']:.2f} ms"
              f"  (non-2xx: {errors})")
        print(f"ratio dvcbot/nginx   : {100 * rps_d / rps_n:.0f} %  (goal >= 50 %, p99 < 10 ms)")
        print(f"updates handled {handled:.0f}, replies delivered to the API stub {sent:.0f}, "
              f"dvcbot RSS {rss_kb / 1024:.1f} MiB")
        print(f"CPU during the dvcbot run: dvcbot {cpu[bot.pid]:.0f} %, redis {cpu[procs[1].pid]:.0f} % "
              f"of one core")
        print(f"(wrk -t1 -c{args.connections} -d{args.seconds}s on {os.cpu_count()} cores, "
              f"nginx also serving as the Bot API for dvcbot, Redis on a unix socket)")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
