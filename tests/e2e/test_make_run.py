"""`make run` and the terminal client: how to stop it, Ctrl-C stops its
private Redis too (and only a Redis it started: one named by REDIS_URL or
already on its socket is left running), `dvcbot chat` finds that Redis,
--help, and the numbers of a procedure list in two parts."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import procs
from harness import BIN, ROOT, SLOW, WRAP, Redis, free_port, wait_until


def procedure_names():
    """(id, name) of every procedure, in catalog order."""
    with open(os.path.join(ROOT, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    return [(r[0], r[2]) for r in rows if r[1] == "procedure"]


def numbered(answer):
    """[(number, label)] of the buttons the terminal printed in an answer."""
    return [(int(n), label) for n, label in re.findall(r"^\s+\[(\d+)\] (.*)$", answer, re.M)]


def chat(lines, env, cwd=ROOT, args=()):
    full = dict(os.environ, DVCBOT_DATA_DIR=ROOT)
    full.pop("REDIS_URL", None)
    full.update(env)
    proc = subprocess.run(WRAP + [BIN, "chat"] + list(args), input="\n".join(lines).encode() + b"\n",
                          env=full, cwd=cwd, capture_output=True, timeout=60 * SLOW)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def answer_to(out, line, last=False):
    """The output printed for the (first or last) input line equal to line."""
    mark = "you> %s\n" % line
    after = out.rsplit(mark, 1)[1] if last else out.split(mark, 1)[1]
    return after.split("you> ", 1)[0]


def alive(pid):
    """True while pid runs (a zombie left for a non-reaping init is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class TerminalChatTest(unittest.TestCase):
    NO_REDIS = {"REDIS_URL": "redis://127.0.0.1:1"}

    def test_help_prints_the_usage_and_starts_no_chat(self):
        for flag in ("--help", "-h"):
            rc, out, err = chat(["xin chào"], self.NO_REDIS, args=[flag])
            self.assertEqual(rc, 0, err)
            self.assertIn("usage: dvcbot chat [--user ID]", out)
            self.assertNotIn("you>", out)
        rc, out, err = chat([], self.NO_REDIS, args=["--bogus"])
        self.assertEqual(rc, 2)
        self.assertIn("unknown argument '--bogus'", err)

    def test_the_topics_and_each_topics_procedures_are_numbered_from_1(self):
        names = dict(procedure_names())
        with open(os.path.join(ROOT, "intents", "_groups.json"), encoding="utf-8") as f:
            topics = json.load(f)["groups"]
        rc, out, _ = chat(["/start", "1"], self.NO_REDIS)
        self.assertEqual(rc, 0)
        menu = numbered(answer_to(out, "1"))                     # "Thủ tục": one answer, the topics
        self.assertEqual([n for n, _ in menu], list(range(1, len(topics) + 2)))
        self.assertEqual([label for _, label in menu[:-1]], [t["name"] for t in topics])
        for k in (1, len(topics)):
            topic = topics[k - 1]
            rc, out, _ = chat(["/start", "1", str(k)], self.NO_REDIS)
            listed = numbered(answer_to(out, str(k), last=True))
            self.assertEqual([n for n, _ in listed], list(range(1, len(topic["procedures"]) + 2)))
            for m in (1, len(topic["procedures"])):               # each number opens what it shows
                rc, out, _ = chat(["/start", "1", str(k), str(m)], self.NO_REDIS)
                got = answer_to(out, str(m), last=True)
                self.assertTrue(got.startswith("bot> " + names[topic["procedures"][m - 1]]), (k, m, got[:120]))


class MakeRunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-makerun-")
        for d in ("intents", "templates", "redis"):
            os.symlink(os.path.join(ROOT, d), os.path.join(self.tmp, d))
        self.run_dir = os.path.join(self.tmp, "run")
        self.port = free_port()
        self.make = None
        self.redis = None

    def start_make_run(self, redis_url=None):
        build = os.path.dirname(BIN)
        san = {"asan": "SAN=asan", "valgrind": "SAN=valgrind"}.get(os.path.basename(build))
        env = dict(os.environ, DVCBOT_LISTEN="127.0.0.1:%d" % self.port, DVCBOT_DATA_DIR=self.tmp)
        env.pop("REDIS_URL", None)
        env.pop("MAKEFLAGS", None)
        env.pop("GLIBC_TUNABLES", None)
        env.pop("DVCBOT_CACHE_DIR", None)  # the suite's; make run gives its own
        if redis_url:
            env["REDIS_URL"] = redis_url
        args = ["make", "-s", "--no-print-directory", "run", "BUILD=" + build, "RUN_DIR=" + self.run_dir]
        # Its own session: Ctrl-C goes to the whole foreground group, as in a terminal.
        self.make = subprocess.Popen(procs.dies_with_me() + args + ([san] if san else []), cwd=ROOT, env=env, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def tearDown(self):
        if self.redis:
            self.redis.stop()
        if self.make and self.make.poll() is None:
            os.killpg(self.make.pid, signal.SIGKILL)
            self.make.wait()
        pid_file = os.path.join(self.run_dir, "redis.pid")
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                pid = int(f.read())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def healthy(self):
        import http.client
        if self.make.poll() is not None:
            raise AssertionError("make run ended: " + self.make.stdout.read().decode())
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def ctrl_c(self):
        """Ctrl-C in make run's terminal; what it printed."""
        os.killpg(self.make.pid, signal.SIGINT)
        return self.make.communicate(timeout=30 * SLOW)[0].decode()

    def served_environ(self):
        """The environment of the `dvcbot serve` make run started (its session)."""
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.getsid(int(pid)) != self.make.pid:
                    continue
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
                if b"serve" not in argv or not any(a.endswith(b"dvcbot") for a in argv):
                    continue
                with open("/proc/%s/environ" % pid, "rb") as f:
                    return dict(e.decode().split("=", 1) for e in f.read().split(b"\0") if b"=" in e)
            except (OSError, ProcessLookupError):
                continue
        self.fail("no dvcbot serve in make run's session")

    def test_serves_with_the_deployments_malloc_setting_and_matcher_cache(self):
        # As docker/Dockerfile: glibc's thread cache keeps 256 blocks a size (bench/README.md, path10b).
        started = time.time()
        self.start_make_run()
        wait_until(self.healthy, 60, what="make run to serve")
        served = self.served_environ()
        self.assertEqual(served.get("GLIBC_TUNABLES"), "glibc.malloc.tcache_count=256")
        # and a matcher cache (the build's): the start loaded (and dated) or wrote its file
        cache = os.path.join(os.path.abspath(os.path.dirname(BIN)), "cache")
        self.assertEqual(served.get("DVCBOT_CACHE_DIR"), cache)
        used = [f for f in os.listdir(cache) if f.startswith("matcher-") and f.endswith(".bin")
                and os.stat(os.path.join(cache, f)).st_mtime >= int(started)]
        self.assertTrue(used, "no matcher cache file used by make run's dvcbot in " + cache)
        self.assertIn('"msg":"stopped"', self.ctrl_c())

    def test_prints_how_to_stop_chat_finds_its_redis_and_ctrl_c_stops_both(self):
        self.start_make_run()
        wait_until(self.healthy, 60, what="make run to serve")
        with open(os.path.join(self.run_dir, "redis.pid")) as f:
            redis_pid = int(f.read())
        sock = os.path.join(self.run_dir, "redis.sock")
        # The terminal client, from the directory of make run, without REDIS_URL.
        env = {"DVCBOT_DATA_DIR": self.tmp}
        rc, out, err = chat(["khai sinh", "1"], env, cwd=self.tmp, args=["--user", "term1"])
        self.assertEqual(rc, 0, err)
        self.assertIn("(redis: unix://%s, the private server of make run)" % os.path.realpath(sock), err)
        self.assertIn("Bước 1/", out)                            # a flow started...
        rc, out, err = chat(["/start"], env, cwd=self.tmp, args=["--user", "term1"])
        self.assertIn("Anh/chị đang làm dở: Đăng ký khai sinh, bước 1/", out)  # ...and was kept there
        printed = self.ctrl_c()
        self.assertIn("stop: Ctrl-C (stops dvcbot, then its private redis)", printed)
        self.assertIn("redis: private server stopped", printed)
        wait_until(lambda: not alive(redis_pid), what="the private redis to end")
        self.assertFalse(os.path.exists(sock))
        self.assertIn('"msg":"stopped"', printed)                # dvcbot shut down cleanly

    def assert_left_running(self, printed):
        self.assertIn("stop: Ctrl-C (stops dvcbot; redis is left running)", printed)
        self.assertNotIn("private server stopped", printed)
        self.assertIn('"msg":"stopped"', printed)
        self.assertEqual(self.redis("PING"), "PONG")              # the Redis it did not start
        self.assertEqual(self.redis("GET", "mine"), "kept")

    def test_ctrl_c_leaves_running_the_redis_named_by_redis_url(self):
        self.redis = Redis.start(tempfile.mkdtemp(dir=self.tmp))
        self.redis("SET", "mine", "kept")
        self.start_make_run(redis_url=self.redis.url)
        wait_until(self.healthy, 60, what="make run to serve")
        printed = self.ctrl_c()
        self.assertNotIn("private server on", printed)
        self.assert_left_running(printed)
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, "redis.sock")))  # none started

    def test_ctrl_c_leaves_running_a_redis_already_on_its_socket(self):
        os.makedirs(self.run_dir)
        self.redis = Redis.start(self.run_dir)                  # run/redis.sock, not started by make run
        self.redis("SET", "mine", "kept")
        self.start_make_run()
        wait_until(self.healthy, 60, what="make run to serve")
        printed = self.ctrl_c()
        self.assertIn("redis: the server already on unix://%s/redis.sock" % self.run_dir, printed)
        self.assert_left_running(printed)


if __name__ == "__main__":
    unittest.main()
