#!/usr/bin/env python3
"""What this machine allows: the floor of each path issue 10 asks for, next to nginx, in one run.

  flock /work/team/cpu.lock python3 bench/bound.py [--build build] [--seconds 8] [--rounds 3]
                                                   [--connections 64] [--no-dvcbot]

Every target is measured with webhook.py's wrk settings (wrk -t1 -cN -dS), round after round,
the order rotated each round:
  a      nginx's fixed 200, webhook.py's baseline exactly (same config, bare wrk, GET /);
  a+lua  the same nginx under webhook.py's Lua script (Telegram-shaped ~250-byte POSTs, response()
         looking for an inline reply): what the generator itself costs;
  b      default-mode network floor: a second nginx (one worker) proxy_passes each webhook to the
         stub nginx over a keep-alive upstream (HTTP/1.1, Connection ""): one outbound exchange per
         update before the 200. Rate = requests the stub counted (stub_status) per second;
  b2     the same path without nginx's proxy: bench/bound_server.c (below) answers an empty 200 at
         once, then POSTs a fixed sendMessage to the stub over a pool of 64 keep-alive connections;
  e      default-mode floor with durability: b2, the 200 sent once Redis acknowledged XADD + SET
         (as c plain), then the sendMessage. b2 and e: rate = stub's count per second until drained;
  c0     inline-mode HTTP floor: bench/bound_server.c answering a fixed ~200-byte sendMessage JSON
         at once (reads end of headers + Content-Length only);
  c      inline-mode durability floor: the same server, the 200 sent only once Redis (unix socket,
         no persistence) acknowledged the update's write: "plain" = XADD + SET EX pipelined,
         "fcall" = one Lua function doing both;
  d      dvcbot itself (--build), default and inline (DVCBOT_TELEGRAM_INLINE_REPLY=1), with the
         deployment's GLIBC_TUNABLES; accepted = 200s per second of the wrk run, delivered = replies
         (stub + inline) per second until the drain ends, as webhook.py.
For each: req/s, % of a and of a+lua, CPU per request of each process (/proc/<pid>/stat, user+system;
wrk's from wait4), the machine's idle % (/proc/stat), and the idle-machine model: the rate the measured
CPU per request allows when nothing else runs (each process one thread, so at most one core; all share
the cores: min(cores / sum, 1 / max)), as a % of a's model rate: the ratio without the other tenants. At the end: median and spread (min–max) per target.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import shutil
import signal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webhook  # noqa: E402  (its nginx config, Lua script and helpers)

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")

FORWARDER_CONF = webhook.NGINX_HTTP_HEAD + '''    upstream botapi {
        server 127.0.0.1:%(stub)d;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://botapi/bot1:BENCH/sendMessage;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
'''

LIBRARY = ("#!lua name=bound\nredis.register_function('bound_store', function(k, a) "
           "redis.call('XADD', k[1], 'MAXLEN', '~', '10000', '*', 'b', a[1]); "
           "redis.call('SET', k[2], a[1], 'EX', '60'); return 1 end)")


def cpu_of(pids):
    """(user, system) seconds of processes and their children (nginx's worker)."""
    u = s = 0.0
    for pid in pids:
        for p in [pid] + webhook.children(pid):
            try:
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            u += int(f[11]) / TICK
            s += int(f[12]) / TICK
    return u, s


def machine():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return f[3] + f[4], sum(f[:8])  # idle + iowait, all (guest counted in user)


def stub_count(port):
    """nginx's request counter (each read counts itself: callers subtract 1 per read in between)."""
    body = webhook.urllib.request.urlopen(f"http://127.0.0.1:{port}/nginx_status").read().decode()
    return int(body.split("\n")[2].split()[2])


def wrk(url, seconds, connections, script=None):
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    p = subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"bound: wrk failed: {out}")
    m = webhook.re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    secs = float(m.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(3)]
    bad = webhook.re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = webhook.re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    inline = webhook.re.search(r"inline replies: (\d+)", out)
    total = int(m.group(1))
    return {"total": total, "secs": secs, "ok": total - (int(bad.group(1)) if bad else 0),
            "errors": sum(int(x) for x in errs.groups()) if errs else 0,
            "inline": int(inline.group(1)) if inline else 0, "cpu": (ru.ru_utime, ru.ru_stime)}


def resp(sock_path, *args):
    """One command to Redis over its unix socket; the reply's first line."""
    cmd = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock_path)
        s.sendall(cmd.encode())
        return s.recv(65536).decode().split("\r\n")[0]


def start_redis(tmp, name, procs):
    sock = os.path.join(tmp, name + ".sock")
    procs.append(subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL))
    deadline = time.time() + 10
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.05)
    return procs[-1], sock


def start_nginx(dirname, conf, procs):
    os.makedirs(dirname, exist_ok=True)
    path = os.path.join(dirname, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    procs.append(subprocess.Popen(["nginx", "-p", dirname, "-c", path], stderr=subprocess.DEVNULL))
    return procs[-1]


def build_server(tmp):
    out = os.path.join(tmp, "bound_server")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libuv", "hiredis"], capture_output=True,
                           text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", out,
                    os.path.join(HERE, "bound_server.c")] + flags, check=True)
    return out


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bound: port {port} did not come up")


def setup(args, tmp, procs):
    """Start every server once; returns the targets: name -> how to measure it."""
    stub_port, fwd_port = webhook.free_port(), webhook.free_port()
    stub = start_nginx(os.path.join(tmp, "stub"), webhook.NGINX_CONF % {"dir": os.path.join(tmp, "stub"),
                                                                        "port": stub_port}, procs)
    fwd = start_nginx(os.path.join(tmp, "fwd"), FORWARDER_CONF % {"dir": os.path.join(tmp, "fwd"),
                                                                  "port": fwd_port, "stub": stub_port}, procs)
    redis, rsock = start_redis(tmp, "redis-c", procs)
    if resp(rsock, "FUNCTION", "LOAD", LIBRARY) != "$5":
        sys.exit("bound: FUNCTION LOAD failed")
    exe = build_server(tmp)
    servers = {}
    webhook.wait_http(f"http://127.0.0.1:{stub_port}/")
    for mode, sock, api in (("none", rsock, None), ("plain", rsock, None), ("fcall", rsock, None),
                            ("none", "-", stub_port), ("plain", rsock, stub_port)):
        port = webhook.free_port()
        procs.append(subprocess.Popen([exe, str(port), mode, sock] + ([str(api)] if api else [])))
        servers[mode + ("+send" if api else "")] = (procs[-1], port)
        wait_port(port)
    webhook.wait_http(f"http://127.0.0.1:{stub_port}/")
    wait_port(fwd_port)
    hook = "/webhook/telegram"
    t = {
        "a": dict(url=f"http://127.0.0.1:{stub_port}/", lua=False, procs={"nginx": stub}),
        "a+lua": dict(url=f"http://127.0.0.1:{stub_port}{hook}", lua=True, procs={"nginx": stub}),
        "b forward": dict(url=f"http://127.0.0.1:{fwd_port}{hook}", lua=True, count="stub",
                          procs={"forwarder": fwd, "stub": stub}),
        "b2 C send": dict(url=f"http://127.0.0.1:{servers['none+send'][1]}{hook}", lua=True, count="stub",
                          procs={"server": servers["none+send"][0], "stub": stub}),
        "e C store+send": dict(url=f"http://127.0.0.1:{servers['plain+send'][1]}{hook}", lua=True, count="stub",
                               procs={"server": servers["plain+send"][0], "redis": redis, "stub": stub}),
        "c0 no redis": dict(url=f"http://127.0.0.1:{servers['none'][1]}{hook}", lua=True, inline=True,
                            procs={"server": servers["none"][0]}),
        "c plain": dict(url=f"http://127.0.0.1:{servers['plain'][1]}{hook}", lua=True, inline=True,
                        procs={"server": servers["plain"][0], "redis": redis}),
        "c fcall": dict(url=f"http://127.0.0.1:{servers['fcall'][1]}{hook}", lua=True, inline=True,
                        procs={"server": servers["fcall"][0], "redis": redis}),
    }
    bot = os.path.join(webhook.ROOT, args.build, "dvcbot")
    if not args.no_dvcbot and os.path.exists(bot):
        for name, extra in (("d dvcbot default", {}), ("d dvcbot inline", {"DVCBOT_TELEGRAM_INLINE_REPLY": "1"})):
            r, sock = start_redis(tmp, "redis-" + name.split()[-1], procs)
            port = webhook.free_port()
            env = dict(os.environ, DVCBOT_LISTEN=f"127.0.0.1:{port}", REDIS_URL="unix://" + sock,
                       DVCBOT_DATA_DIR=webhook.ROOT, TELEGRAM_BOT_TOKEN=webhook.TOKEN,
                       TELEGRAM_WEBHOOK_SECRET=webhook.SECRET, TELEGRAM_API_BASE=f"http://127.0.0.1:{stub_port}",
                       DVCBOT_TELEGRAM_RATE="1000000", DVCBOT_LOG_LEVEL="warn",
                       DVCBOT_TRUSTED_PROXIES="127.0.0.1", GLIBC_TUNABLES="glibc.malloc.tcache_count=256",
                       **extra)
            procs.append(subprocess.Popen([bot, "serve"], env=env,
                                          stderr=open(os.path.join(tmp, name.split()[-1] + ".log"), "w")))
            webhook.wait_http(f"http://127.0.0.1:{port}/healthz")
            t[name] = dict(url=f"http://127.0.0.1:{port}{hook}", lua=True, count="dvcbot", port=port,
                           inline=bool(extra),
                           procs={"dvcbot": procs[-1], "redis": r, "stub": stub})
    return t, stub_port


def script(tmp, name, t, args):
    """webhook.py's wrk script: "format" (sessions 1-11's, response() always: session 12's figures) or
    "hand" (gen12's, response() only where replies ride in the 200)."""
    return webhook.lua_file(tmp, name, 0, args.generator, count_inline=bool(t.get("inline")))


def measure(name, t, args, tmp, stub_port):
    procs = t["procs"]
    cpu0 = {k: cpu_of([p.pid]) for k, p in procs.items()}
    idle0, all0 = machine()
    s0 = stub_count(stub_port)
    reads = 1  # status reads after s0's, the last one included: each counts itself
    # A fresh script each run: new update_ids (dvcbot answers a redelivered update without a new reply)
    lua = script(tmp, "sat.lua", t, args) if t["lua"] else None
    w = wrk(t["url"], args.seconds, args.connections, lua)
    drain = 0.0  # from wrk's end until every 200's reply reached the stub (as webhook.py)
    if t.get("count"):
        t1 = time.time()
        deadline = t1 + 60
        while time.time() < deadline:
            got = stub_count(stub_port) - s0 - reads + w["inline"]
            reads += 1
            if got >= w["ok"] and (t["count"] != "dvcbot" or webhook.metric(t["port"], "dvcbot_outbox_queued") +
                                   webhook.metric(t["port"], "dvcbot_outbox_inflight") == 0):
                break
            time.sleep(0.01)
            drain = None
        if drain is None:
            drain = time.time() - t1
    idle1, all1 = machine()
    cpu1 = {k: cpu_of([p.pid]) for k, p in procs.items()}
    stub_delta = stub_count(stub_port) - s0 - reads
    r = {"ok": w["ok"], "secs": w["secs"], "errors": w["errors"], "non2xx": w["total"] - w["ok"],
         "idle": 100.0 * (idle1 - idle0) / max(all1 - all0, 1)}
    if t.get("count") == "stub":
        r["count"] = stub_delta
        r["rate"] = stub_delta / (w["secs"] + drain)
    elif t.get("count") == "dvcbot":
        r["count"] = w["inline"] + stub_delta
        r["rate"] = r["count"] / (w["secs"] + drain)
        r["accepted"] = w["ok"] / w["secs"]
    else:
        r["count"] = w["ok"]
        r["rate"] = w["ok"] / w["secs"]
        if t.get("inline") and w["inline"] != w["ok"]:
            print(f"  ! {name}: {w['inline']} inline replies for {w['ok']} 200s", flush=True)
    n = max(r["count"], 1)
    r["cpu"] = {k: tuple(1e6 * (cpu1[k][i] - cpu0[k][i]) / n for i in (0, 1)) for k in procs}
    r["cpu"]["wrk"] = tuple(1e6 * x / n for x in w["cpu"])
    return r


def model_rate(r):
    """Requests/s the measured CPU per request allows on an otherwise idle machine: every process is
    one thread (at most one core each), all of them share os.cpu_count() cores."""
    per = [sum(c) for c in r["cpu"].values()]
    return 1e6 * min(os.cpu_count() / sum(per), 1 / max(per))


def show(name, r, base):
    pct = "".join(f"  {100 * r['rate'] / base[k]:5.1f} % of {k}" for k in ("a", "a+lua") if base.get(k))
    extra = f"  (accepted {r['accepted']:.0f}/s)" if "accepted" in r else ""
    cpu = ", ".join(f"{k} {u + s:.1f} ({u:.1f}+{s:.1f})" for k, (u, s) in r["cpu"].items())
    bad = f"  non-2xx {r['non2xx']} errors {r['errors']}" if r["non2xx"] or r["errors"] else ""
    total = sum(sum(c) for c in r["cpu"].values())
    print(f"{name:17s} {r['rate']:8.0f}/s{pct}{extra}  idle {r['idle']:4.1f} %{bad}\n"
          f"{'':17s} CPU µs/request (user+sys): {cpu}; all {total:.1f}; idle-machine model "
          f"{model_rate(r):.0f}/s = {100 * r['model']:.1f} % of a's", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-dvcbot", action="store_true", help="leave out the d rows")
    ap.add_argument("--generator", choices=("format", "hand"), default="format",
                    help="webhook.py's wrk script (format: the one of session 12's figures)")
    args = ap.parse_args()
    webhook.need_load_tools()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bound: terminated"))
    signal.signal(signal.SIGINT, lambda *_: sys.exit("bound: interrupted"))
    tmp = tempfile.mkdtemp(prefix="dvcbot-bound-")
    procs = []
    try:
        targets, stub_port = setup(args, tmp, procs)
        print(f"machine: {os.cpu_count()} cores, load average {webhook.loadavg()}; wrk -t1 "
              f"-c{args.connections} -d{args.seconds}s; warming up", flush=True)
        for t in targets.values():
            wrk(t["url"], 1, args.connections, script(tmp, "warm.lua", t, args) if t["lua"] else None)
        names = list(targets)
        results = {k: [] for k in names}
        for rnd in range(args.rounds):
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            print(f"--- round {rnd + 1} (load average {webhook.loadavg()})", flush=True)
            got = {k: measure(k, targets[k], args, tmp, stub_port) for k in order}
            base = {k: got[k]["rate"] for k in ("a", "a+lua")}
            for k in names:
                got[k]["pct"] = {b: 100 * got[k]["rate"] / base[b] for b in base}
                got[k]["model"] = model_rate(got[k]) / model_rate(got["a"])
                results[k].append(got[k])
                show(k, got[k], base)
        print(f"--- median (min–max) over {args.rounds} rounds; % of the same round's a / a+lua")
        for k in names:
            rs = results[k]
            rates = [r["rate"] for r in rs]
            pa = [r["pct"]["a"] for r in rs]
            pl = [r["pct"]["a+lua"] for r in rs]
            cpu = ", ".join(f"{p} {statistics.median(sum(r['cpu'][p]) for r in rs):.1f}" for p in rs[0]["cpu"])
            cpu += f"; all {statistics.median(sum(sum(c) for c in r['cpu'].values()) for r in rs):.1f}"
            mo = [100 * r["model"] for r in rs]
            print(f"{k:17s} {statistics.median(rates):8.0f}/s ({min(rates):.0f}–{max(rates):.0f})  "
                  f"{statistics.median(pa):5.1f} % of a ({min(pa):.1f}–{max(pa):.1f})  "
                  f"{statistics.median(pl):5.1f} % of a+lua ({min(pl):.1f}–{max(pl):.1f})  "
                  f"idle {statistics.median(r['idle'] for r in rs):.1f} %\n{'':17s} CPU µs/request: {cpu}; "
                  f"idle-machine model {statistics.median(mo):.1f} % of a's ({min(mo):.1f}–{max(mo):.1f})")
    finally:
        webhook.stop_all(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
