#!/usr/bin/env python3
"""The whole Telegram path of dvcbot next to nginx, in one run on this machine.

  python3 bench/webhook.py --build build [--seconds 8] [--connections 64] [--rate 5000]
                           [--env NAME=VALUE ...]   (dvcbot's environment, e.g.
                                                    DVCBOT_TELEGRAM_INLINE_REPLY=1)

Prints, side by side:
  - nginx's fixed 200 (one worker): requests/s under wrk (the ceiling of this machine);
  - dvcbot, saturated by wrk with real-shaped updates from 10 000 users:
      accepted  = webhooks answered 200 per second of the wrk run (503s are refused work);
      delivered = replies per second, from the start of the run until every accepted
                  update's reply has arrived (the drain): sendMessage calls received by the
                  Bot API stub, plus those that rode in webhook responses (a 200 whose body
                  is a sendMessage call, DVCBOT_TELEGRAM_INLINE_REPLY; counted by wrk's Lua
                  response(), which every run has, so wrk does the same work in both modes);
  - dvcbot at a fixed offered rate (--rate updates/s, one timetable of slots shared by all
    connections, wrk Lua delay()): p50 / p90 / p99 of the webhook and the rate achieved;
  - dvcbot's peak RSS (VmHWM) over all of it, and the load average before and after.

The Bot API stub is the same nginx (fixed 200 with a Telegram-shaped body); it counts what
it received (stub_status). Redis runs on a unix socket without persistence. Telegram's rate
limit is lifted (DVCBOT_TELEGRAM_RATE) to measure the path, not the limiter. Needs wrk and
nginx (Debian packages wrk and nginx-light: installed here when missing, as root).
"""
import argparse
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
USERS = 10000

# One update per request; users and texts rotate. With `interval` (ms) > 0,
# requests follow one timetable, a slot every `interval` ms: each connection,
# once it is free, takes the next slot and waits for it (wrk's delay(), which
# counts whole ms), so the offered rate holds whatever the latency (a fixed
# pause per connection would offer less as latency grows). interval 0:
# no delay(), every connection sends as fast as it is answered.
LUA = r'''
local counter = 0
local offset = %(offset)d
local interval = %(interval)f
local texts = {"dk khai sinh cho con", "lam lai cccd o dau", "xin chao",
               "ho so cua toi den dau roi", "phi lam ho chieu bao nhieu",
               "dang ky ket hon can giay to gi", "gia vang hom nay", "menu"}
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end
function init(args)
  counter = tid * 100000000
  inline_replies = 0
end
-- A reply that rode in the webhook's 200 (Telegram's "reply in the webhook").
function response(status, headers, body)
  if status == 200 and body:find('"method":"sendMessage"', 1, true) then
    inline_replies = inline_replies + 1
  end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("inline_replies") end
  io.write(string.format("inline replies: %%d\n", n))
end
if interval > 0 then
  local ffi = require("ffi")
  ffi.cdef[[ typedef struct { long sec; long nsec; } bench_ts;
             int clock_gettime(int clock, bench_ts *ts); ]]
  local ts = ffi.new("bench_ts")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.sec) * 1000 + tonumber(ts.nsec) / 1e6
  end
  local next_slot = nil
  function delay()
    local now = now_ms()
    next_slot = next_slot or now
    local wait = next_slot - now
    next_slot = next_slot + interval
    if wait <= 0 then return 0 end
    return math.floor(wait)
  end
end
request = function()
  counter = counter + 1
  local uid = 7000000000 + (counter %% %(users)d)
  local t = texts[(counter %% #texts) + 1]
  local body = string.format('{"update_id":%%d,"message":{"message_id":%%d,"date":1700000000,' ..
    '"text":"%%s","from":{"id":%%d,"first_name":"B"},"chat":{"id":%%d,"type":"private"}}}',
    offset + counter, counter, t, uid, uid)
  return wrk.format("POST", "/webhook/telegram", {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "%(secret)s"}, body)
end
'''

NGINX_CONF = '''
worker_processes 1;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/nginx-error.log warn;
events { worker_connections 4096; }
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
        location = /nginx_status { stub_status; }
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
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def need_load_tools(valgrind=False):
    """wrk and nginx (the Bot API stub), which every run of the path takes,
    and valgrind for a run under callgrind (profile.py, redis_cost.py)."""
    need("wrk", "wrk")
    need("nginx", "nginx-light")
    if valgrind:
        need("valgrind", "valgrind")


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
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))
    took = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    secs = float(took.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[took.group(2)]
    lat = {}
    for q in ("50%", "90%", "99%"):
        m = re.search(r"\s%s\s+([\d.]+)(us|ms|s)" % re.escape(q), out)
        v = float(m.group(1))
        lat[q] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(errors.group(1)) if errors else 0
    sock_err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = sum(int(x) for x in sock_err.groups()) if sock_err else 0
    inline = re.search(r"inline replies: (\d+)", out)
    return {"total": total, "secs": secs, "rps": total / secs, "ok": total - bad, "non2xx": bad,
            "sock_errors": failed, "lat": lat, "inline": int(inline.group(1)) if inline else 0}


STATUS_READS = [0]


def stub_requests(port):
    """Requests nginx served, less our own reads of this counter."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/nginx_status").read().decode()
    STATUS_READS[0] += 1
    # "server accepts handled requests\n a b c": c counts this read too
    return int(body.split("\n")[2].split()[2]) - STATUS_READS[0]


def metric(port, name):
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def cpu_seconds(pid):
    """CPU time of a process and its children (nginx's worker)."""
    total = 0.0
    for p in [pid] + children(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children(pid):
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def proc_kb(pid, field):
    return int(open(f"/proc/{pid}/status").read().split(field + ":")[1].split()[0])


def stop_all(procs, timeout=15):
    """SIGTERM to each process still running, newest first; kill after timeout s."""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def env_args(pairs):
    """--env NAME=VALUE options as a dict."""
    out = {}
    for p in pairs or []:
        name, sep, value = p.partition("=")
        if not sep:
            sys.exit(f"bench: --env wants NAME=VALUE, not {p!r}")
        out[name] = value
    return out


def lua_file(tmp, name, interval_ms):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(LUA % {"offset": int(time.time() * 1000) * 1000, "interval": interval_ms, "users": USERS,
                       "secret": SECRET})
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rate", type=int, default=5000, help="offered updates/s of the latency run")
    ap.add_argument("--drain-timeout", type=int, default=60)
    ap.add_argument("--env", action="append", metavar="NAME=VALUE", help="set in dvcbot's environment")
    args = ap.parse_args()
    need_load_tools()
    tmp = tempfile.mkdtemp(prefix="dvcbot-bench-")
    procs = []
    load_before = loadavg()
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

        nginx = run_wrk(f"http://127.0.0.1:{nport}/", args.seconds, args.connections)

        env = dict(os.environ, DVCBOT_LISTEN=f"127.0.0.1:{bport}", REDIS_URL="unix://" + sock,
                   DVCBOT_DATA_DIR=ROOT, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET,
                   TELEGRAM_API_BASE=f"http://127.0.0.1:{nport}", DVCBOT_TELEGRAM_RATE="1000000",
                   DVCBOT_LOG_LEVEL="warn",
                   DVCBOT_TRUSTED_PROXIES="127.0.0.1")  # wrk is the proxy: 64 connections from one address
        env.update(env_args(args.env))
        bot = subprocess.Popen([os.path.join(ROOT, args.build, "dvcbot"), "serve"], env=env,
                               stderr=open(os.path.join(tmp, "dvcbot.log"), "w"))
        procs.append(bot)
        wait_http(f"http://127.0.0.1:{bport}/healthz")
        rss_idle = proc_kb(bot.pid, "VmRSS")

        # 1. Saturated: accepted per second, then delivered including the drain.
        stub0 = stub_requests(nport)
        cpu0 = {name: cpu_seconds(p.pid) for name, p in (("nginx", procs[0]), ("redis", procs[1]),
                                                          ("dvcbot", bot))}
        t0 = time.time()
        sat = run_wrk(f"http://127.0.0.1:{bport}/webhook/telegram", args.seconds, args.connections,
                      lua_file(tmp, "sat.lua", 0))
        accepted = sat["ok"]
        deadline = time.time() + args.drain_timeout
        while time.time() < deadline:
            # Every accepted update has its reply, at the stub or in its response.
            got = stub_requests(nport) - stub0 + sat["inline"]
            if got >= accepted and metric(bport, "dvcbot_outbox_queued") + \
                    metric(bport, "dvcbot_outbox_inflight") == 0:
                break
            time.sleep(0.01)
        drained = time.time()
        delivered = stub_requests(nport) - stub0 + sat["inline"]
        cpu = {name: cpu_seconds(p.pid) - cpu0[name]
               for name, p in (("nginx", procs[0]), ("redis", procs[1]), ("dvcbot", bot))}
        rss_sat = proc_kb(bot.pid, "VmHWM")

        # 2. Fixed offered rate: the webhook's latency when not saturated.
        interval = 1000.0 / args.rate  # one timetable for all connections
        fixed = run_wrk(f"http://127.0.0.1:{bport}/webhook/telegram", args.seconds, args.connections,
                        lua_file(tmp, "fixed.lua", interval))
        time.sleep(0.5)
        rss_peak = proc_kb(bot.pid, "VmHWM")
        load_after = loadavg()

        n = nginx["rps"]
        acc_rate = accepted / sat["secs"]
        del_rate = delivered / (drained - t0)
        print(f"nginx fixed 200        : {n:9.0f} req/s  p50 {nginx['lat']['50%']:.2f} ms  "
              f"p99 {nginx['lat']['99%']:.2f} ms")
        print(f"dvcbot accepted        : {acc_rate:9.0f} updates/s ({100 * acc_rate / n:.0f} % of nginx; "
              f"goal >= 60 %)  503: {sat['non2xx']}, socket errors: {sat['sock_errors']}")
        print(f"dvcbot delivered       : {del_rate:9.0f} replies/s ({100 * del_rate / n:.0f} % of nginx; "
              f"goal >= 50 %)  {delivered} replies ({sat['inline']} in webhook responses) for {accepted} accepted, "
              f"drain {drained - t0 - sat['secs']:.1f} s")
        print(f"dvcbot at {args.rate} updates/s: p50 {fixed['lat']['50%']:.2f} ms  p90 {fixed['lat']['90%']:.2f} ms"
              f"  p99 {fixed['lat']['99%']:.2f} ms (goal < 10 ms)  achieved {fixed['rps']:.0f}/s, "
              f"non-2xx {fixed['non2xx']}")
        print(f"dvcbot RSS             : idle {rss_idle / 1024:.1f} MiB, peak {rss_peak / 1024:.1f} MiB "
              f"(after the saturated run {rss_sat / 1024:.1f} MiB; goal < 50 MiB)")
        per = {k: 1e6 * v / max(accepted, 1) for k, v in cpu.items()}
        print(f"CPU per update         : dvcbot {per['dvcbot']:.0f} us, redis {per['redis']:.0f} us, "
              f"nginx as Bot API {per['nginx']:.0f} us (saturated run and drain)")
        print(f"machine                : {os.cpu_count()} cores, load average {load_before} before, "
              f"{load_after} after; wrk -t1 -c{args.connections} -d{args.seconds}s, {USERS} users"
              + "".join(f"; {k}={v}" for k, v in env_args(args.env).items()))
    finally:
        stop_all(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
