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
import json
import math
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

# One update per request; users and texts rotate. LUA is the generator of sessions
# 1-11 (`--generator format`, and redis_cost.py's): per request a string.format
# of the body and wrk.format (a headers table, a string.format per header,
# table.concat), and a response() in every mode, so wrk makes a Lua table of
# headers and a body string of every response. LUA_HAND below sends the same
# bytes for less (`--check-generator` compares them). With `interval` (ms) > 0,
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

# The default generator: LUA's requests, byte for byte, with less work per
# request. wrk.format's request is made once (in init) and cut around its
# Content-Length value; the end of each body (date, text, user ids) is
# formatted once per user (texts follow users: `period` = lcm(users, texts));
# a request is then one string.format of its two ids (the update id has 16
# digits, which LuaJIT's tostring would print as 1.7e+15) and one concatenation
# (wrk's loop under callgrind, `--wrk-cost --callgrind`: request() ~3 800
# instructions against ~15 800 with wrk.format, ~730 returning a fixed string).
# response() (and done()) only with `count` true: the inline mode's count
# of replies that rode in the 200; the default mode's replies are all counted
# by the Bot API stub, so wrk makes no Lua table or string of each response.
LUA_HAND = r'''
local counter = 0
local offset = %(offset)d
local interval = %(interval)f
local period = %(period)d
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
local head, mid, mid_open
local open = '{"update_id":'
local tails = {}
function init(args)
  counter = tid * 100000000
  inline_replies = 0
  local probe = wrk.format("POST", "/webhook/telegram", {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "%(secret)s"}, "#")
  local a, b = probe:find("\r\nContent-Length: 1\r\n", 1, true)
  head = probe:sub(1, a + 17)         -- up to and with "Content-Length: "
  mid = probe:sub(b - 1, -2)          -- its line's end, the headers after it, the blank line
  assert(head .. "1" .. mid .. "#" == probe)
  mid_open = mid .. open
  for i = 0, period - 1 do
    local uid = 7000000000 + (i %% %(users)d)
    tails[i] = string.format(',"date":1700000000,"text":"%%s","from":{"id":%%d,"first_name":"B"},' ..
      '"chat":{"id":%%d,"type":"private"}}}', texts[(i %% #texts) + 1], uid, uid)
  end
end
if %(count)s then
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
local format = string.format
request = function()
  counter = counter + 1
  local ids = format('%%d,"message":{"message_id":%%d', offset + counter, counter)
  local tail = tails[counter %% period]
  return head .. (#open + #ids + #tail) .. mid_open .. ids .. tail
end
'''

# One nginx worker in a private directory, up to its http block's servers
# (bound.py's forwarder starts the same way).
NGINX_HTTP_HEAD = '''
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
'''

NGINX_CONF = NGINX_HTTP_HEAD + '''    server {
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
    """wrk's figures, its own CPU time (rusage: user + system, all threads) and
    the machine's (/proc/stat) over the run."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    machine0 = proc_stat()
    wrk = subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, text=True)
    out = wrk.stdout.read()
    _, status, usage = os.wait4(wrk.pid, 0)
    wrk.returncode = os.waitstatus_to_exitcode(status)
    machine = [b - a for a, b in zip(machine0, proc_stat())]
    if wrk.returncode != 0:
        sys.exit(f"bench: wrk failed ({wrk.returncode}): {out}")
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
            "sock_errors": failed, "lat": lat, "inline": int(inline.group(1)) if inline else None,
            "wrk_cpu": usage.ru_utime + usage.ru_stime, "wrk_user": usage.ru_utime, "machine": machine}


def proc_stat():
    """The machine's CPU time so far, in ticks: user (with nice), system (with
    irq and softirq), idle (with iowait), steal."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return [f[0] + f[1], f[2] + f[5] + f[6], f[3] + f[4], f[7]]


def machine_use(run):
    """ "user u % sys s % idle i %" of the machine over a run (all cores)."""
    total = max(sum(run["machine"]), 1)
    user, system, idle, steal = (100.0 * x / total for x in run["machine"])
    return f"user {user:.0f} %, sys {system:.0f} %, idle {idle:.0f} %" + (f", steal {steal:.0f} %" if steal >= 1 else "")


def wrk_use(run):
    """wrk's CPU per request (of it in user space: its own code and Lua; the
    rest is the kernel's, loopback TCP) and its share of one core over a run."""
    n = max(run["total"], 1)
    return (f"{1e6 * run['wrk_cpu'] / n:.1f} us/request (user {1e6 * run['wrk_user'] / n:.1f}; "
            f"{100 * run['wrk_cpu'] / run['secs']:.0f} % of a core)")


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


def lua_file(tmp, name, interval_ms, generator="hand", count_inline=False, offset=None, users=USERS):
    """A wrk script of updates from `users` users: LUA_HAND (with response()
    when count_inline) or LUA (generator "format", response() always)."""
    path = os.path.join(tmp, name)
    params = {"offset": int(time.time() * 1000) * 1000 if offset is None else offset, "interval": interval_ms,
              "users": users, "secret": SECRET}
    if generator == "hand":
        params.update(period=users * 8 // math.gcd(users, 8), count="true" if count_inline else "false")
    with open(path, "w") as f:
        f.write((LUA_HAND if generator == "hand" else LUA) % params)
    return path


def inline_mode(env):
    """Whether dvcbot answers with the reply (DVCBOT_TELEGRAM_INLINE_REPLY, a number: not 0)."""
    value = env.get("DVCBOT_TELEGRAM_INLINE_REPLY", "0").strip() or "0"
    try:
        return int(value) != 0
    except ValueError:
        return True  # not a number: count, so nothing delivered goes uncounted


def start_nginx(tmp):
    """The nginx of the fixed 200 and the Bot API stub; returns (process, port)."""
    port = free_port()
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF % {"dir": tmp, "port": port})
    proc = subprocess.Popen(["nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf")], stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc, port


def capture(srv, url, script, n, timeout=120):
    """The first n requests wrk sends with `script` over one connection (so in
    the order of its request() calls) to the listening socket srv, each
    answered with an empty 200."""
    wrk = subprocess.Popen(["wrk", "-t1", "-c1", f"-d{timeout}s", "--timeout", "10s", "-s", script, url],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    got, buf, conn = [], b"", None
    try:
        while len(got) < n:
            data = conn.recv(65536) if conn else b""
            if not data:  # wrk's resolve() connects once and closes: take the next connection
                if conn:
                    conn.close()
                conn, buf = srv.accept()[0], b""
                conn.settimeout(timeout)
                continue
            buf += data
            while len(got) < n:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                length = re.search(rb"\r\nContent-Length: (\d+)\r\n", buf[:end + 2])
                size = end + 4 + (int(length.group(1)) if length else 0)
                if len(buf) < size:
                    break
                got.append(buf[:size])
                buf = buf[size:]
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    finally:
        wrk.kill()  # (SIGINT may reach its worker thread while its main one sleeps on)
        err = wrk.communicate(timeout=30)[1].decode()
        if conn:
            conn.close()
    if len(got) < n:
        sys.exit(f"bench: wrk sent {len(got)} of {n} requests with {script}: {err}")
    return got


CHECK_LUA = r"""
-- LUA's request(), after LUA_HAND's, in the same Lua state
local hand_request, hand_init = request, init
%(format_request)s
local format_request = request
request = hand_request
function init(args)
  hand_init(args)
  for i = 1, %(n)d do
    local before = counter
    local want = format_request()
    counter = before
    local got = hand_request()
    if got ~= want then
      io.write("request ", i, " differs:\nwrk.format: ", want, "\nby hand:    ", got, "\n")
      os.exit(1)
    end
  end
  io.write("same\n")
  os.exit(0)
end
"""


def check_generator(n):
    """LUA_HAND (without and with the inline count) sends LUA's requests.
    wrk.format writes the headers in the order of a Lua table's pairs(), which
    differs from one Lua state to the next (LuaJIT seeds its string hashes at
    random: two threads of one wrk may differ), so: (1) in one Lua state, the
    first n requests of each are compared byte for byte; (2) on the wire, n
    requests of each (same update ids): the same bodies byte for byte, the same
    request lines and header lines (order aside), unique ids, all users and texts."""
    need("wrk", "wrk")
    tmp = tempfile.mkdtemp(prefix="dvcbot-gencheck-")
    srv = socket.socket()  # one port: the Host header is the same
    try:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        srv.settimeout(120)
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/webhook/telegram"
        offset = int(time.time() * 1000) * 1000
        fmt = LUA[LUA.index("request = function()"):] % {"users": USERS, "secret": SECRET}
        for count in (False, True):
            path = lua_file(tmp, "check.lua", 0, "hand", count_inline=count, offset=offset)
            with open(path, "a") as f:
                f.write(CHECK_LUA % {"format_request": fmt, "n": n})
            out = subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", path, url], capture_output=True, text=True)
            if out.returncode != 0 or out.stdout.strip() != "same":
                sys.exit(f"generator check, one Lua state (count_inline={count}): {out.stdout}{out.stderr}")
        want = capture(srv, url, lua_file(tmp, "format.lua", 0, "format", offset=offset), n)
        same_order = 0
        for count in (False, True):
            got = capture(srv, url, lua_file(tmp, f"hand{count}.lua", 0, "hand", count_inline=count, offset=offset), n)
            for i in range(n):
                if got[i] != want[i] and split_request(got[i]) != split_request(want[i]):
                    sys.exit(f"generator check, on the wire: request {i} differs (count_inline={count}):\n"
                             f"wrk.format: {want[i]!r}\nby hand:    {got[i]!r}")
            same_order += got[0] == want[0]
        ids, users, texts = set(), set(), set()
        for req in want:
            head, _, body = req.partition(b"\r\n\r\n")
            assert head.startswith(b"POST /webhook/telegram HTTP/1.1\r\n"), head
            assert f"\r\nContent-Length: {len(body)}\r".encode() in head + b"\r", head
            assert f"\r\nX-Telegram-Bot-Api-Secret-Token: {SECRET}\r".encode() in head + b"\r", head
            assert b"\r\nContent-Type: application/json\r" in head + b"\r", head
            update = json.loads(body)
            ids.add(update["update_id"])
            users.add(update["message"]["from"]["id"])
            texts.add(update["message"]["text"])
        assert len(ids) == n, "update ids repeat"
        assert len(users) == min(n, USERS) and len(texts) == min(n, 8), (len(users), len(texts))
        print(f"generator check: the first {n} requests by hand, with and without response(), are wrk.format's "
              f"byte for byte in one Lua state; on the wire the same bodies and header lines ({same_order} of 2 "
              f"runs in the same header order); {len(ids)} update ids, {len(users)} users, {len(texts)} texts. "
              f"First:\n{want[0].decode()}")
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def split_request(req):
    """A request's first line, its header lines (sorted) and its body."""
    head, _, body = req.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    return lines[0], sorted(lines[1:]), body


def wrk_cost(args):
    """wrk's own cost per request against nginx's fixed 200 (the same server
    for each): bare, then each generator, `args.rounds` times in turn. CPU time
    (rusage; moves with the machine's load), or with --callgrind wrk's
    instructions in its event loop (aeMain: start-up and init() left out; the
    kernel's work is not counted, and it is the same for both generators)."""
    need_load_tools(valgrind=args.callgrind)
    tmp = tempfile.mkdtemp(prefix="dvcbot-wrkcost-")
    nginx = None
    try:
        nginx, port = start_nginx(tmp)
        url = f"http://127.0.0.1:{port}/"
        kinds = [("bare wrk (no script)", None),
                 ("format (sessions 1-11, response())", lua_file(tmp, "format.lua", 0, "format")),
                 ("hand, default mode (no response())", lua_file(tmp, "hand.lua", 0, "hand")),
                 ("hand, inline mode (response())", lua_file(tmp, "handc.lua", 0, "hand", count_inline=True))]
        for _ in range(args.rounds):
            for name, script in kinds:
                if args.callgrind:
                    print(f"{name:38s}: {wrk_instructions(tmp, url, args, script)}", flush=True)
                    continue
                run = run_wrk(url, args.seconds, args.connections, script)
                print(f"{name:38s}: {run['rps']:7.0f} req/s, wrk {wrk_use(run)}; machine {machine_use(run)}",
                      flush=True)
        print(f"machine: {os.cpu_count()} cores, load average {loadavg()}; wrk -t1 -c{args.connections} "
              f"-d{args.seconds}s against nginx's fixed 200 (one worker)")
    finally:
        stop_all([nginx] if nginx else [])
        shutil.rmtree(tmp, ignore_errors=True)


def wrk_instructions(tmp, url, args, script):
    """wrk's instructions per request under callgrind: its event loop, and in
    it script_request (request()) and script_response (response())."""
    out = os.path.join(tmp, "wrk.callgrind")
    cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=aeMain", f"--callgrind-out-file={out}",
           "wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "30s"]
    text = subprocess.run(cmd + (["-s", script] if script else []) + [url], capture_output=True, text=True,
                          check=True).stdout
    n = int(re.search(r"(\d+) requests in", text).group(1))
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                            capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", report).group(1).replace(",", ""))

    def fn(name):
        m = re.search(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*:" + name + r"\b", report, re.M)
        return int(m.group(1).replace(",", "")) / n if m else 0

    return (f"{total / n:7.0f} instructions/request (request() {fn('script_request'):6.0f}, "
            f"response() {fn('script_response'):6.0f}); {n} requests")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rate", type=int, default=5000, help="offered updates/s of the latency run")
    ap.add_argument("--drain-timeout", type=int, default=60)
    ap.add_argument("--env", action="append", metavar="NAME=VALUE", help="set in dvcbot's environment")
    ap.add_argument("--generator", choices=("hand", "format"), default="hand",
                    help="dvcbot's load: requests built by hand (default) or by wrk.format as in sessions 1-11")
    ap.add_argument("--check-generator", type=int, metavar="N",
                    help="only check that the first N requests by hand are wrk.format's, byte for byte")
    ap.add_argument("--wrk-cost", action="store_true",
                    help="only measure wrk's CPU per request against nginx: bare and each generator")
    ap.add_argument("--rounds", type=int, default=1, help="with --wrk-cost: times each kind runs, in turn")
    ap.add_argument("--callgrind", action="store_true",
                    help="with --wrk-cost: wrk's instructions per request (callgrind) instead of its CPU time")
    args = ap.parse_args()
    if args.check_generator:
        return check_generator(args.check_generator)
    if args.wrk_cost:
        return wrk_cost(args)
    sitting(args)


def sitting(args):
    need_load_tools()
    tmp = tempfile.mkdtemp(prefix="dvcbot-bench-")
    procs = []
    load_before = loadavg()
    try:
        nginx_proc, nport = start_nginx(tmp)
        procs.append(nginx_proc)
        bport = free_port()
        sock = os.path.join(tmp, "redis.sock")
        procs.append(subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL))

        nginx = run_wrk(f"http://127.0.0.1:{nport}/", args.seconds, args.connections)

        env = dict(os.environ, DVCBOT_LISTEN=f"127.0.0.1:{bport}", REDIS_URL="unix://" + sock,
                   DVCBOT_DATA_DIR=ROOT, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET,
                   TELEGRAM_API_BASE=f"http://127.0.0.1:{nport}", DVCBOT_TELEGRAM_RATE="1000000",
                   DVCBOT_LOG_LEVEL="warn",
                   DVCBOT_TRUSTED_PROXIES="127.0.0.1")  # wrk is the proxy: 64 connections from one address
        env.update(env_args(args.env))
        inline = inline_mode(env)
        count = inline or args.generator == "format"  # LUA counts in every mode
        bot = subprocess.Popen([os.path.join(ROOT, args.build, "dvcbot"), "serve"], env=env,
                               stderr=open(os.path.join(tmp, "dvcbot.log"), "w"))
        procs.append(bot)
        wait_http(f"http://127.0.0.1:{bport}/healthz")
        rss_idle = proc_kb(bot.pid, "VmRSS")

        # 1. Saturated: accepted per second, then delivered including the drain.
        stub0 = stub_requests(nport)
        sent0 = metric(bport, "dvcbot_replies_sent_total")
        cpu0 = {name: cpu_seconds(p.pid) for name, p in (("nginx", procs[0]), ("redis", procs[1]),
                                                          ("dvcbot", bot))}
        t0 = time.time()
        sat = run_wrk(f"http://127.0.0.1:{bport}/webhook/telegram", args.seconds, args.connections,
                      lua_file(tmp, "sat.lua", 0, args.generator, count_inline=inline))
        accepted = sat["ok"]
        in_body = sat["inline"] or 0  # replies that rode in a 200, as wrk saw them
        deadline = time.time() + args.drain_timeout
        while time.time() < deadline:
            # Every accepted update has its reply, at the stub or in its response.
            got = stub_requests(nport) - stub0 + in_body
            if got >= accepted and metric(bport, "dvcbot_outbox_queued") + \
                    metric(bport, "dvcbot_outbox_inflight") == 0:
                break
            time.sleep(0.01)
        drained = time.time()
        at_stub = stub_requests(nport) - stub0
        delivered = at_stub + in_body
        said_inline = metric(bport, "dvcbot_replies_sent_total") - sent0 - at_stub  # dvcbot's own count
        cpu = {name: cpu_seconds(p.pid) - cpu0[name]
               for name, p in (("nginx", procs[0]), ("redis", procs[1]), ("dvcbot", bot))}
        rss_sat = proc_kb(bot.pid, "VmHWM")

        # 2. Fixed offered rate: the webhook's latency when not saturated.
        interval = 1000.0 / args.rate  # one timetable for all connections
        fixed = run_wrk(f"http://127.0.0.1:{bport}/webhook/telegram", args.seconds, args.connections,
                        lua_file(tmp, "fixed.lua", interval, args.generator, count_inline=inline))
        time.sleep(0.5)
        rss_peak = proc_kb(bot.pid, "VmHWM")
        load_after = loadavg()

        n = nginx["rps"]
        acc_rate = accepted / sat["secs"]
        del_rate = delivered / (drained - t0)
        if count:
            riding = f"{in_body} in webhook responses, counted by wrk; dvcbot says {said_inline:.0f}"
        else:
            riding = f"default mode: all at the stub; dvcbot says {said_inline:.0f} in responses"
        print(f"nginx fixed 200        : {n:9.0f} req/s  p50 {nginx['lat']['50%']:.2f} ms  "
              f"p99 {nginx['lat']['99%']:.2f} ms")
        print(f"dvcbot accepted        : {acc_rate:9.0f} updates/s ({100 * acc_rate / n:.0f} % of nginx; "
              f"goal >= 60 %)  503: {sat['non2xx']}, socket errors: {sat['sock_errors']}")
        print(f"dvcbot delivered       : {del_rate:9.0f} replies/s ({100 * del_rate / n:.0f} % of nginx; "
              f"goal >= 50 %)  {delivered} replies ({riding}) for {accepted} accepted, "
              f"drain {drained - t0 - sat['secs']:.1f} s")
        print(f"dvcbot at {args.rate} updates/s: p50 {fixed['lat']['50%']:.2f} ms  p90 {fixed['lat']['90%']:.2f} ms"
              f"  p99 {fixed['lat']['99%']:.2f} ms (goal < 10 ms)  achieved {fixed['rps']:.0f}/s, "
              f"non-2xx {fixed['non2xx']}")
        print(f"dvcbot RSS             : idle {rss_idle / 1024:.1f} MiB, peak {rss_peak / 1024:.1f} MiB "
              f"(after the saturated run {rss_sat / 1024:.1f} MiB; goal < 50 MiB)")
        per = {k: 1e6 * v / max(accepted, 1) for k, v in cpu.items()}
        print(f"CPU per update         : dvcbot {per['dvcbot']:.0f} us, redis {per['redis']:.0f} us, "
              f"nginx as Bot API {per['nginx']:.0f} us (saturated run and drain)")
        print(f"machine, saturated     : nginx's run {machine_use(nginx)}; dvcbot's run {machine_use(sat)}")
        print(f"load generator (wrk)   : nginx's run {wrk_use(nginx)}; dvcbot's saturated run {wrk_use(sat)}; "
              f"at {args.rate}/s {wrk_use(fixed)}; generator {args.generator}"
              f"{', response() counts replies in the 200' if count else ', no response()'}")
        print(f"machine                : {os.cpu_count()} cores, load average {load_before} before, "
              f"{load_after} after; wrk -t1 -c{args.connections} -d{args.seconds}s, {USERS} users"
              + "".join(f"; {k}={v}" for k, v in env_args(args.env).items()))
    finally:
        stop_all(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
