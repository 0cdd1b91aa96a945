#!/usr/bin/env python3
"""Redis's own cost per Telegram update, in instructions: a figure that does not
move with the machine's load (Redis's microseconds in bench/profile.py do).

  python3 bench/redis_cost.py --build build [--seconds 1] [--warmup 1] [--users 1000]
                               [--connections 64] [--keep DIR] [--env NAME=VALUE ...]
  python3 bench/redis_cost.py --from DIR [--library FILE] [--rename FN=FN2 ...]

1. Capture: dvcbot (native) with the nginx Bot API stub and Redis on a unix
   socket, saturated by wrk (64 connections) for --warmup seconds, then again
   for the --seconds measured, with the updates of bench/webhook.py from
   --users users (the warm-up makes them known users, with a record, a session
   and marks, as most senders are), each time until every reply is sent and
   settled. How many updates share an FCALL depends on the run's speed, so
   the figure moves by some +-3 % between runs; --connections 1 sends one
   update at a time (every FCALL carries one, as at low traffic): steadier,
   and the cost per update at Telegram's real rates. Redis's MONITOR (on a TCP port of the
   same server; our own queries go there too and are left out) records every
   command dvcbot sends; two ECHO markers bound the measured window.
2. Replay: what came before the window (start-up: functions, outbox set-up;
   the warm-up) is replayed into a native redis-server and saved as an RDB; a fresh
   redis-server loads it under `valgrind --tool=callgrind` and the window is
   replayed into it, commands grouped per write as dvcbot sent them (a gap of
   more than 100 us in MONITOR's clock, or a settle, starts a new write).
   Stream ids differ between runs: the settles' ids are mapped to the ids the
   replayed commits made.
3. Print: Redis instructions per update = the event loop (aeMain, inclusive:
   reading, parsing, commands, Lua, replies) less serverCron (the timer, which
   runs per wall-clock time, so more under valgrind), over the updates in the window (one per dialog load). By command family
   (FCALL per function, other commands by name): calls per update and the
   instructions per update apportioned by each family's share of command time
   (a second replay under callgrind, where time follows instructions, with
   SLOWLOG logging every command: the log itself costs too much to be in the
   first): an estimate, unlike the total.
   Also Redis memory per update: used_memory (less client buffers) after the
   window less before it, over the updates.
--from DIR replays a capture kept with --keep instead of capturing (no dvcbot
run: the same commands, so two replays differ only by what Redis runs), and
--library FILE loads that file once the captured set-up and warm-up have run
(the state of the captured library, as after an upgrade) and replays the
window into it: a change of redis/dvcbot.lua alone measured without the
+-3 % of a new capture (its functions must take the captured calls);
--rename FN=FN2 sends the window's FCALLs of FN to FN2 (a function that takes
the same keys and arguments, e.g. outbox_commit_many=outbox_commit_many_flat:
a capture of the build before measured as this one calls).
Needs valgrind, wrk, nginx.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import webhook  # noqa: E402  (same stub, users and texts)

START, END = b"redis-cost:start", b"redis-cost:end"
WORKER = "rcost"
STREAM = f"outbox:telegram:{WORKER}"
GAP_US = 100


# ----------------------------------------------------------------- RESP client

class Conn:
    def __init__(self, path=None, port=None):
        if path:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.connect(path)
        else:
            self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, cmds):
        out = []
        for args in cmds:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest if t == b"+" else Exception(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError(line)

    def call(self, *args):
        self.send([[a if isinstance(a, bytes) else str(a).encode() for a in args]])
        return self.reply()


def wait_redis(path, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = Conn(path)
            if c.call("PING") == b"PONG":
                return c
        except (OSError, EOFError):
            pass
        time.sleep(0.1)
    sys.exit("redis_cost: redis-server did not come up")


# ------------------------------------------------------------- MONITOR parsing

ESC = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b", b"\\": b"\\", b'"': b'"'}
LINE = re.compile(rb'^\+?(\d+)\.(\d+) \[\d+ ([^\]]+)\] (.*)$')


def monitor_args(s):
    """The quoted arguments of a MONITOR line (sdscatrepr escapes)."""
    args, i, n = [], 0, len(s)
    while i < n:
        if s[i:i + 1] != b'"':
            i += 1
            continue
        i += 1
        cur = bytearray()
        while s[i:i + 1] != b'"':
            c = s[i:i + 1]
            if c == b"\\":
                e = s[i + 1:i + 2]
                if e == b"x":
                    cur += bytes([int(s[i + 2:i + 4], 16)])
                    i += 4
                    continue
                cur += ESC.get(e, e)
                i += 2
                continue
            cur += c
            i += 1
        args.append(bytes(cur))
        i += 1
    return args


def read_capture(path):
    """(setup, window): lists of (time_us, args) of dvcbot's commands."""
    setup, window, part = [], [], "setup"
    with open(path, "rb") as f:
        for raw in f:
            m = LINE.match(raw.rstrip(b"\r\n"))
            if not m:
                continue
            us = int(m.group(1)) * 1000000 + int(m.group(2))
            who, args = m.group(3), monitor_args(m.group(4))
            if who.startswith(b"127.0.0.1:"):  # ours (markers, INFO, XLEN)
                if args[:2] == [b"ECHO", START]:
                    part = "window"
                elif args[:2] == [b"ECHO", END]:
                    part = "after"
                continue
            if who == b"lua" or not args:
                continue
            if part == "setup":
                setup.append((us, args))
            elif part == "window":
                window.append((us, args))
    return setup, window


def family(args):
    name = args[0].upper()
    if name == b"FCALL":
        return "FCALL " + args[1].decode()
    return name.decode()


def loads_in(args):
    if args[0].upper() != b"FCALL":
        return 0
    if args[1] in (b"dialog_load", b"dialog_mark", b"dialog_mark_idx"):
        return 1
    if args[1] in (b"dialog_load_many_flat", b"dialog_mark_many_flat"):
        return int(args[2]) // 5
    if args[1] == b"dialog_mark_many_idx":   # two keys per load (library 23)
        return int(args[2]) // 2
    if args[1] == b"dialog_load_many":
        # five keys per load (before refs:{} joined it, four of 15 strings)
        nkeys, strings = int(args[2]), len(args) - 3
        return nkeys // 4 if strings * 4 == nkeys * 15 else nkeys // 5
    return 0


def is_settle(args):
    return args[0].upper() == b"FCALL" and args[1] == b"outbox_settle"


def writes(cmds):
    """Commands grouped as dvcbot wrote them (close in time), a settle alone."""
    group, last = [], None
    for us, args in cmds:
        if group and (us - last > GAP_US or is_settle(args) or is_settle(group[-1])):
            yield group
            group = []
        group.append(args)
        last = us
    if group:
        yield group


# ---------------------------------------------------------------------- replay

def unflat(reply):
    """A *_flat function's reply as the *_many one's: one list per call."""
    out, i = [], 0
    while isinstance(reply, list) and i < len(reply):
        if isinstance(reply[i], int):
            out.append(reply[i + 1:i + 1 + reply[i]])
            i += 1 + reply[i]
        else:
            out.append(reply[i])
            i += 1
    return out


def trims(args):
    """A settle of library 22 and after with a MINID first (an odd number of arguments)."""
    return (len(args) - 3 - int(args[2])) % 2 == 1


class IdMap:
    """Capture ids of the outbox streams -> ids the replay's commits made. Ids
    grow within a stream, and every entry of the window is settled in it, so
    the i-th id settled (sorted) is the i-th id added.
    A settle with a MINID (library 22, src/outbox_ledger.c) names the entries
    below it "": its entries are found by user record and seq instead (the
    replay's commits give the same seqs), and its MINID is made as the ledger
    would in the replay: the oldest id made in the window and not settled (or
    past the last), the ids below it sent as ""."""

    def __init__(self, window):
        self.capture = {}
        for _, a in window:
            if is_settle(a) and not trims(a):
                nkeys = int(a[2])
                ids = a[3 + nkeys::2]
                self.capture.setdefault(a[3], []).extend(ids)
        self.rank = {k: {i: n for n, i in enumerate(sorted(set(v), key=self._key))}
                     for k, v in self.capture.items()}
        self.made = {}
        self.byseq = {}     # (stream, record, seq) -> id made
        self.settled = {}   # stream -> ids settled (trim form)
        self.oldest = {}    # stream -> index in made of the oldest not settled
        self.unknown = 0    # trim-form entries not found by record and seq

    @staticmethod
    def _key(i):
        ms, _, seq = i.partition(b"-")
        return (int(ms), int(seq or 0))

    def note_commit(self, args, reply):
        if args[0].upper() != b"FCALL" or not args[1].startswith(b"outbox_commit"):
            return
        nkeys = int(args[2])
        if nkeys % 3 == 0 and args[3 + nkeys].startswith(b"outbox:"):  # the stream shared, 3 keys each
            streams = [args[3 + nkeys]] * (nkeys // 3)
        else:  # the version before: the stream the fourth of 4 keys
            streams = [args[3 + k] for k in range(3, nkeys, 4)]
        if args[1].startswith(b"outbox_commit_many_flat"):   # and a prototype's _flat2
            reply = unflat(reply)
        replies = [reply] if args[1] == b"outbox_commit" else reply
        if not isinstance(replies, list):
            return
        recs = [args[3 + k + 2] for k in range(0, nkeys, 3)] if nkeys % 3 == 0 else [b""] * len(streams)
        for stream, rec, r in zip(streams, recs, replies):
            if isinstance(r, list):
                ids = [x for x in r[4:] if isinstance(x, bytes)]
                self.made.setdefault(stream, []).extend(x for x in ids if x != b"k")
                if len(r) >= 4 and r[3] == 1:
                    for i, x in enumerate(r[4:]):
                        if x != b"k":
                            self.byseq[(stream, rec, str(r[2] + i + 1).encode())] = x

    def settle(self, args):
        if trims(args):
            return self.settle_trim(args)
        nkeys = int(args[2])
        stream = args[3]
        out = list(args)
        rank, made = self.rank.get(stream, {}), self.made.get(stream, [])
        for p in range(3 + nkeys, len(args), 2):
            n = rank.get(args[p])
            if n is not None and n < len(made):
                out[p] = made[n]
        return out


    def settle_trim(self, args):
        nkeys, stream = int(args[2]), args[3]
        made, done = self.made.get(stream, []), self.settled.setdefault(stream, set())
        pairs = []
        for j, p in enumerate(range(4 + nkeys, len(args), 2)):
            rid = self.byseq.get((stream, args[4 + j], args[p + 1]))
            if rid is None:
                self.unknown += 1
                rid = args[p]
            done.add(rid)
            pairs.append([rid, args[p + 1]])
        at = self.oldest.get(stream, 0)
        while at < len(made) and made[at] in done:
            at += 1
        self.oldest[stream] = at
        if at < len(made):
            minid = made[at]
        elif made:
            ms, _, sq = made[-1].partition(b"-")
            minid = ms + b"-" + str(int(sq) + 1).encode()
        else:
            minid = args[3 + nkeys]
        low = self._key(minid)
        out = list(args[:3 + nkeys]) + [minid]
        for rid, seq in pairs:
            out += [b"" if rid == b"" or self._key(rid) < low else rid, seq]
        return out


def replay(conn, cmds, idmap=None):
    for group in writes(cmds):
        if idmap:
            group = [idmap.settle(a) if is_settle(a) else a for a in group]
        conn.send(group)
        for a in group:
            r = conn.reply()
            if idmap:
                idmap.note_commit(a, r)


def redis_args(sock, extra=()):
    return ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no",
            *extra]


def make_rdb(tmp, setup):
    """The state before the window, as an RDB file in tmp/seed."""
    d = os.path.join(tmp, "seed")
    os.makedirs(d)
    sock = os.path.join(d, "r.sock")
    p = subprocess.Popen(redis_args(sock, ["--dir", d]), stdout=subprocess.DEVNULL)
    try:
        c = wait_redis(sock)
        replay(c, setup, IdMap(setup))
        c.call("SAVE")
    finally:
        p.terminate()
        p.wait()
    return d


def callgrind_replay(tmp, seed, window, slowlog):
    """Replays the window into redis-server under callgrind, started from the
    seed's RDB. Returns the callgrind output and, with slowlog, the slow log of
    every command."""
    sock = os.path.join(tmp, "cg.sock")
    out = os.path.join(tmp, "redis.callgrind" + (".slowlog" if slowlog else ""))
    shutil.copy(os.path.join(seed, "dump.rdb"), os.path.join(tmp, "dump.rdb"))
    extra = ["--dir", tmp]
    if slowlog:
        extra += ["--slowlog-log-slower-than", "0", "--slowlog-max-len", "10000000"]
    p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] +
                         redis_args(sock, extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    slow = None
    try:
        c = wait_redis(sock)
        if slowlog:
            c.call("SLOWLOG", "RESET")
        replay(c, window, IdMap(window))
        if slowlog:
            slow = c.call("SLOWLOG", "GET", "-1")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=300)
    return out, slow


def families(slow):
    """{family: (calls, microseconds)} of the commands dvcbot sent (not those
    its functions ran: their client is "?:0")."""
    fam = {}
    for e in slow:
        if isinstance(e, list) and len(e) > 4 and e[3] and e[4] != b"?:0" and e[3][0].upper() != b"SLOWLOG":
            f = family(e[3])
            calls, us = fam.get(f, (0, 0))
            fam[f] = (calls + 1, us + e[2])
    return fam


def inclusive(report, name):
    total = 0
    for line in report.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*:" + re.escape(name) + r" \[", line)
        if m:
            total = max(total, int(m.group(1).replace(",", "")))
    return total


# ----------------------------------------------------------------------- capture

def capture(args, tmp):
    nport, bport, rport = webhook.free_port(), webhook.free_port(), webhook.free_port()
    procs = []
    try:
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(webhook.NGINX_CONF % {"dir": tmp, "port": nport})
        procs.append(subprocess.Popen(["nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf")],
                                      stderr=subprocess.DEVNULL))
        sock = os.path.join(tmp, "redis.sock")
        procs.append(subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                                       "--unixsocket", sock, "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL))
        ours = None
        deadline = time.time() + 10
        while ours is None:
            try:
                ours = Conn(port=rport)
            except OSError:
                if time.time() > deadline:
                    sys.exit("redis_cost: redis-server did not come up")
                time.sleep(0.05)
        mon_path = os.path.join(tmp, "monitor.log")
        procs.append(subprocess.Popen(["redis-cli", "-p", str(rport), "MONITOR"],
                                      stdout=open(mon_path, "wb")))
        while not os.path.getsize(mon_path):  # MONITOR is on once it shows our PING
            ours.call("PING")
            time.sleep(0.05)
        webhook.wait_http(f"http://127.0.0.1:{nport}/")
        env = dict(os.environ, DVCBOT_LISTEN=f"127.0.0.1:{bport}", REDIS_URL="unix://" + sock,
                   DVCBOT_DATA_DIR=webhook.ROOT, TELEGRAM_BOT_TOKEN=webhook.TOKEN,
                   TELEGRAM_WEBHOOK_SECRET=webhook.SECRET, TELEGRAM_API_BASE=f"http://127.0.0.1:{nport}",
                   DVCBOT_TELEGRAM_RATE="1000000", DVCBOT_LOG_LEVEL="warn", DVCBOT_WORKER_ID=WORKER,
                   DVCBOT_TRUSTED_PROXIES="127.0.0.1")
        env.update(webhook.env_args(args.env))
        bot = subprocess.Popen([os.path.join(webhook.ROOT, args.build, "dvcbot"), "serve"], env=env,
                               stderr=open(os.path.join(tmp, "dvcbot.log"), "w"))
        procs.append(bot)
        webhook.wait_http(f"http://127.0.0.1:{bport}/healthz", timeout=60)
        if args.warmup:
            run_wrk(args, tmp, bport, args.warmup, 0)
            wait_settled(ours, bport)
        handled0 = webhook.metric(bport, "dvcbot_messages_total")
        mem0 = info_memory(ours)
        ours.call("ECHO", START)
        run_wrk(args, tmp, bport, args.seconds, 1)
        handled = wait_settled(ours, bport) - handled0
        ours.call("ECHO", END)
        mem1 = info_memory(ours)
        ours.call("PING")
        return handled, mem1 - mem0, mon_path
    finally:
        webhook.stop_all(procs, timeout=30)


def run_wrk(args, tmp, bport, seconds, n):
    """wrk sends webhook.py's updates of args.users users (the n-th run's update
    ids follow the first's)."""
    lua = os.path.join(tmp, f"update{n}.lua")
    with open(lua, "w") as f:
        f.write(webhook.LUA % {"offset": int(time.time() * 1000) * 1000, "interval": 0, "users": args.users,
                               "secret": webhook.SECRET})
    subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "30s", "-s", lua,
                    f"http://127.0.0.1:{bport}/webhook/telegram"], capture_output=True, check=True)


def wait_settled(ours, bport):
    """Waits until every update is answered and its replies settled; returns
    the updates handled so far."""
    deadline = time.time() + 120
    while time.time() < deadline:
        handled = webhook.metric(bport, "dvcbot_messages_total")
        if webhook.metric(bport, "dvcbot_replies_sent_total") >= handled and ours.call("XLEN", STREAM) == 0:
            return handled
        time.sleep(0.2)
    sys.exit("redis_cost: replies not all sent and settled")


def info_memory(conn):
    """used_memory less the clients' buffers (MONITOR's among them)."""
    info = conn.call("INFO", "memory").decode()
    field = lambda name: int(re.search(r"%s:(\d+)" % name, info).group(1))  # noqa: E731
    return field("used_memory") - field("mem_clients_normal")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=1, help="the measured window")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of the same users' updates before it")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=64,
                    help="wrk's; 1 = one update at a time (each alone in its FCALLs, as at low traffic)")
    ap.add_argument("--keep", help="keep the capture and the callgrind output in this directory")
    ap.add_argument("--env", action="append", metavar="NAME=VALUE",
                    help="set in dvcbot's environment (e.g. DVCBOT_TELEGRAM_INLINE_REPLY=1)")
    ap.add_argument("--from", dest="source", metavar="DIR", help="replay the capture kept in DIR (--keep)")
    ap.add_argument("--library", metavar="FILE", help="with --from: load this library instead of the captured one")
    ap.add_argument("--rename", action="append", default=[], metavar="FN=FN2",
                    help="with --from: the window's FCALLs of FN call FN2")
    ap.add_argument("--callgrind", metavar="FILE", help="with --from: keep the replay's callgrind output there")
    ap.add_argument("--total", action="store_true", help="the total alone (no second replay for the families)")
    args = ap.parse_args()
    webhook.need_load_tools(valgrind=True)
    tmp = tempfile.mkdtemp(prefix="dvcbot-rcost-")
    try:
        if args.source:
            handled, mem, mon_path = float("nan"), float("nan"), os.path.join(args.source, "monitor.log")
        else:
            handled, mem, mon_path = capture(args, tmp)
        setup, window = read_capture(mon_path)
        renames = dict(r.encode().split(b"=", 1) for r in args.rename)
        window = [(us, a[:1] + [renames.get(a[1], a[1])] + a[2:] if a[0].upper() == b"FCALL" else a)
                  for us, a in window]
        if args.library:  # over the state the captured library made, as in an upgrade
            setup.append((setup[-1][0], [b"FUNCTION", b"LOAD", b"REPLACE", open(args.library, "rb").read()]))
        updates = sum(loads_in(a) for _, a in window)
        if not updates:
            sys.exit("redis_cost: no dialog load captured")
        seed = make_rdb(tmp, setup)
        out, _ = callgrind_replay(tmp, seed, window, slowlog=False)
        report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                                capture_output=True, text=True).stdout
        loop = inclusive(report, "aeMain")
        cron = inclusive(report, "serverCron")
        total = loop - cron
        print(f"redis: {total / updates:,.0f} instructions per update ({updates} updates, "
              f"{len(window)} commands; dvcbot counted {handled:.0f})")
        print(f"  (event loop {loop:,}, less the timer {cron:,})")
        if args.callgrind:
            shutil.copy(out, args.callgrind)
        if args.total:
            return
        fam = families(callgrind_replay(tmp, seed, window, slowlog=True)[1])
        all_us = sum(us for _, us in fam.values()) or 1
        print("by family: calls per update, share of command time, ~instructions per update:")
        for f, (calls, us) in sorted(fam.items(), key=lambda kv: -kv[1][1]):
            if us / all_us >= 0.002:
                print(f"  {calls / updates:6.3f}  {100 * us / all_us:5.1f} %  {total * us / all_us / updates:9,.0f}  {f}")
        print(f"redis memory per update: {mem / updates:,.0f} bytes (used_memory after - before)")
        if args.keep and not args.source:
            os.makedirs(args.keep, exist_ok=True)
            shutil.copy(mon_path, args.keep)
            shutil.copy(out, args.keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
