#!/usr/bin/env python3
"""Instructions per Telegram update on the whole path, by callgrind: a figure that
does not move with the machine's load (the other benchmarks' do).

  python3 bench/profile.py --build build [--seconds 15] [--top 25] [--perf] [--env NAME=VALUE ...]

dvcbot runs under `valgrind --tool=callgrind --toggle-collect=uv_run` (the loop
only: start-up and data loading are left out) with the same nginx Bot API stub,
Redis on a unix socket and wrk updates as bench/webhook.py. The counts are cut
in three with `callgrind_control --dump` (vgdb): the loop's start (Redis connect,
library load), the traffic (from just before wrk starts until every reply went
out) and the shutdown (drain, app_close: ~20 M instructions). The figure printed
first is the traffic's, less the cron's ticks in it (they go by the clock, not by
update): it does not depend on how many updates a run got. The whole run divided
by the updates (this script's figure before session 9, which moved ±1-2 % between
runs) is printed beside it. The functions that cost the most per update
(inclusive) are the traffic's. Redis's own share is printed from its INFO commandstats: microseconds
per update by command (these are times, so they do move with the load).
With --syscalls, dvcbot runs natively and `perf stat` counts its system calls by kind
(tracepoints, no sampling) while wrk runs: per update delivered, with the reads and
peeks that found nothing (EAGAIN), page faults and context switches; --rate paces wrk
(updates/s, as webhook.py's latency run) instead of saturating.
With --perf, dvcbot runs natively under `perf record -e cpu-clock` (this machine's
virtual CPUs count no hardware events: `perf stat -e instructions true` says "not
supported") while wrk saturates it, and the script prints where its CPU time went,
kernel included (system calls, loopback TCP), which callgrind does not see.
Needs valgrind, wrk, nginx and (for --perf) linux-perf.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import webhook  # noqa: E402  (same stub, users and texts)


def redis_cli(sock, *args):
    return subprocess.run(["redis-cli", "-s", sock] + list(args), capture_output=True, text=True).stdout


def print_perf(data, handled, top):
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym"],
                            capture_output=True, text=True).stdout
    samples = re.search(r"of event 'cpu-clock'.*?\n# Event count \(approx.\): (\d+)", report, re.S)
    print(f"dvcbot under perf (cpu-clock): {handled:.0f} updates")
    kernel = 0.0
    rows = []
    for line in report.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if m:
            pct, dso, ring, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
            if ring == "k":
                kernel += pct
            rows.append((pct, dso, sym))
    print(f"kernel (system calls, TCP on loopback): {kernel:.1f} % of dvcbot's CPU time")
    for pct, dso, sym in rows[:top]:
        print(f"  {pct:5.1f} %  {dso:24.24s} {sym}")
    if samples:
        print(f"(event count {samples.group(1)})")


# System calls counted by --syscalls: the ones the Telegram path makes, and the
# ones that would show a leak of work (allocation, threads, files).
SYSCALLS = ["read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
            "epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "close", "shutdown", "connect",
            "socket", "setsockopt", "getsockopt", "getpeername", "ioctl", "fcntl", "brk", "mmap",
            "munmap", "madvise", "futex", "openat", "clock_gettime", "timerfd_settime"]
EAGAIN_EXITS = ["read", "recvfrom", "write", "writev", "accept4"]


def perf_stat_events():
    events = [f"syscalls:sys_enter_{c}" for c in SYSCALLS]
    events += [f"syscalls:sys_exit_{c}" for c in EAGAIN_EXITS]
    events += ["page-faults", "context-switches"]
    filters = []
    for e in events:
        filters += ["-e", e]
        if e.startswith("syscalls:sys_exit_"):
            filters += ["--filter", "ret == -11"]
    return filters


def print_syscalls(path, n):
    counts = {}
    for line in open(path):
        f = line.strip().split(",")
        if len(f) > 2 and f[0].replace(".", "").isdigit():
            counts[f[2]] = float(f[0])
    total = sum(v for k, v in counts.items() if k.startswith("syscalls:sys_enter_"))
    print(f"dvcbot system calls per update ({n:.0f} updates): {total / n:.2f} in all")
    rows = sorted(((v, k) for k, v in counts.items() if v > 0), reverse=True)
    for v, k in rows:
        name = k.replace("syscalls:sys_enter_", "").replace("syscalls:sys_exit_", "")
        if k.startswith("syscalls:sys_exit_"):
            name += " -> EAGAIN"
        print(f"  {v / n:8.3f}  {name}")


def callgrind_dump(pid):
    """Writes the counts so far to the next part file and zeroes them."""
    subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, check=True, timeout=120)


def annotate(path):
    return subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], capture_output=True,
                          text=True).stdout


def program_total(report):
    return int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", report).group(1).replace(",", ""))


def inclusive(report, where):
    """Inclusive cost of the function `where` (file:function) in an annotate report, 0 if absent."""
    for line in report.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+)", line)
        if m and m.group(2).endswith(where):
            return int(m.group(1).replace(",", ""))
    return 0


def print_redis(stats, cpu, n):
    """INFO commandstats per update. FCALL's time includes the commands its
    function runs (they are also counted on their own lines); Redis's whole CPU
    (its process, event loop and socket I/O included) is the last line."""
    print("redis, microseconds per update by command (times: they grow with the machine's load;")
    print("fcall includes the commands inside it, which are listed too):")
    for line in stats.splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+)", line)
        if m and int(m.group(3)) / n >= 0.05:
            print(f"  {int(m.group(3)) / n:8.2f} us  {int(m.group(2)) / n:5.2f} calls  {m.group(1)}")
    print(f"  {1e6 * cpu / n:8.2f} us  redis-server's whole CPU time (user + system)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--perf", action="store_true", help="perf record (time, kernel included)")
    ap.add_argument("--syscalls", action="store_true", help="perf stat: system calls per update by kind")
    ap.add_argument("--rate", type=int, default=0, help="with --syscalls: offered updates/s (0: saturate)")
    ap.add_argument("--keep", help="copy the callgrind output of the traffic (or perf's) to this file")
    ap.add_argument("--env", action="append", metavar="NAME=VALUE",
                    help="set in dvcbot's environment (e.g. DVCBOT_TELEGRAM_INLINE_REPLY=1)")
    args = ap.parse_args()
    webhook.need_load_tools(valgrind=True)
    tmp = tempfile.mkdtemp(prefix="dvcbot-profile-")
    procs = []
    try:
        nport, bport = webhook.free_port(), webhook.free_port()
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(webhook.NGINX_CONF % {"dir": tmp, "port": nport})
        procs.append(subprocess.Popen(["nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf")],
                                      stderr=subprocess.DEVNULL))
        sock = os.path.join(tmp, "redis.sock")
        procs.append(subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL))
        webhook.wait_http(f"http://127.0.0.1:{nport}/")
        env = dict(os.environ, DVCBOT_LISTEN=f"127.0.0.1:{bport}", REDIS_URL="unix://" + sock,
                   DVCBOT_DATA_DIR=webhook.ROOT, TELEGRAM_BOT_TOKEN=webhook.TOKEN,
                   TELEGRAM_WEBHOOK_SECRET=webhook.SECRET, TELEGRAM_API_BASE=f"http://127.0.0.1:{nport}",
                   DVCBOT_TELEGRAM_RATE="1000000", DVCBOT_LOG_LEVEL="warn",
                   DVCBOT_TRUSTED_PROXIES="127.0.0.1")
        env.update(webhook.env_args(args.env))
        out = os.path.join(tmp, "callgrind.out")
        binary = os.path.join(webhook.ROOT, args.build, "dvcbot")
        if args.perf:
            webhook.need("perf", "linux-perf")
            out = os.path.join(tmp, "perf.data")
            wrap = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-o", out, "--"]
        elif args.syscalls:
            webhook.need("perf", "linux-perf")
            out = os.path.join(tmp, "perf-stat.csv")
            wrap = []
        else:
            wrap = ["valgrind", "--tool=callgrind", "--toggle-collect=uv_run", f"--callgrind-out-file={out}"]
        bot = subprocess.Popen(wrap + [binary, "serve"], env=env,
                               stderr=open(os.path.join(tmp, "dvcbot.log"), "w"))
        procs.append(bot)
        webhook.wait_http(f"http://127.0.0.1:{bport}/healthz", timeout=120)
        redis_cli(sock, "CONFIG", "RESETSTAT")
        redis_cpu0 = webhook.cpu_seconds(procs[1].pid)
        handled0 = webhook.metric(bport, "dvcbot_messages_total")
        callgrind = not (args.perf or args.syscalls)
        if callgrind:  # part 1: the loop's start; part 2 from here: the traffic
            callgrind_dump(bot.pid)
        if args.syscalls:  # counts from now until the last reply went out
            stat = subprocess.Popen(["perf", "stat", "-x,", "-o", out, "-p", str(bot.pid)] + perf_stat_events())
            procs.append(stat)
            time.sleep(0.5)  # perf attaches (a few updates before it would only be missed)
        lua = webhook.lua_file(tmp, "update.lua", 1000.0 / args.rate if args.syscalls and args.rate else 0)
        subprocess.run(["wrk", "-t1", "-c64" if args.perf or args.syscalls else "-c8", f"-d{args.seconds}s", "--timeout", "30s",
                        "-s", lua, f"http://127.0.0.1:{bport}/webhook/telegram"], capture_output=True, check=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            handled = webhook.metric(bport, "dvcbot_messages_total")
            if webhook.metric(bport, "dvcbot_replies_sent_total") >= handled:
                break
            time.sleep(0.2)
        stats = redis_cli(sock, "INFO", "commandstats")
        redis_cpu = webhook.cpu_seconds(procs[1].pid) - redis_cpu0
        if args.syscalls:
            stat.send_signal(signal.SIGINT)
            stat.wait(timeout=30)
            print_syscalls(out, max(handled - handled0, 1))
            print(f"load average {webhook.loadavg()}")
            return
        if callgrind:  # part 2: the traffic; the rest (the shutdown) goes to the final file
            callgrind_dump(bot.pid)
        bot.send_signal(signal.SIGINT if args.perf else signal.SIGTERM)  # perf passes SIGINT on
        bot.wait(timeout=120)
        if args.keep:  # callgrind: the traffic's part
            shutil.copy(out + ".2" if callgrind else out, args.keep)
        if args.perf:
            print_perf(out, handled, args.top)
            print_redis(stats, redis_cpu, max(handled, 1))
            return
        start, shutdown = program_total(annotate(out + ".1")), program_total(annotate(out))
        report = annotate(out + ".2")
        traffic = program_total(report)
        cron = inclusive(report, "cron.c:on_timer")
        n = max(handled - handled0, 1)
        whole = max(handled, 1)
        print(f"dvcbot: {(traffic - cron) / n:,.0f} instructions per update ({n:.0f} updates, the loop "
              f"during the traffic, the cron's ticks left out)")
        print(f"  the traffic with the cron ({cron / n:,.0f} per update): {traffic / n:,.0f}; the whole "
              f"loop with start ({start:,}) and shutdown ({shutdown:,}) over {whole:.0f} updates: "
              f"{(start + traffic + shutdown) / whole:,.0f}")
        print("most per update during the traffic (inclusive), function:")
        seen = set()
        shown = 0
        for line in report.splitlines():
            m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+)", line)
            if not m or "PROGRAM TOTALS" in line:
                continue
            name = re.sub(r" \[.*", "", m.group(2)).split(":")[-1]
            if name in seen or name.startswith("0x") or name in (
                    "uv_run", "(below", "main", "cmd_serve", "__libc_start_main@@GLIBC_2.34"):
                continue
            seen.add(name)
            print(f"  {int(m.group(1).replace(',', '')) / n:10,.0f}  {name}")
            shown += 1
            if shown >= args.top:
                break
        print_redis(stats, redis_cpu, n)
        print(f"load average {webhook.loadavg()} (instructions do not depend on it)")
    finally:
        webhook.stop_all(procs, timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
