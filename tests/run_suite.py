#!/usr/bin/env python3
"""Runs dvcbot's whole test suite: cmocka unit tests and end-to-end tests.

Each fuzz target (tests/fuzz/, built with a plain driver outside `make fuzz`)
replays its seeds and every input that once crashed it: one job, one test.
The end-to-end tests (tests/e2e/test_*.py) start a real redis-server, local
stubs of the Telegram/Zalo/payment APIs and the real `dvcbot serve` binary on
127.0.0.1. Every unit binary and every end-to-end test class (each starts its
own Redis and dvcbot on free ports) is one job; jobs run in parallel (-j),
the longest first (durations of the last run are kept in
<build>/suite-times.json; tests/suite-times.json, a plain run's, stands in
for a clean checkout), and each job's output is printed in one piece when
it ends. -j (or DVCBOT_TEST_JOBS) sets how many run at once. The last line printed is always "N passed, N failed" and the exit
status is non-zero when anything failed.

  python3 tests/run_suite.py --build build [--wrap 'valgrind ...'] [-k pattern] [-j N]
"""
import argparse
import concurrent.futures
import faulthandler
import json
import os
import re
import shlex
import subprocess
import signal
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
E2E = os.path.join(HERE, "e2e")
RESULT_MARK = "@@result"

sys.path.insert(0, E2E)
import procs  # noqa: E402

RUN = procs.own_token()  # this run's tag (procs.py)
_live = {}               # job token -> pid of the jobs running now
_lock = threading.Lock()


# ---------------------------------------------------------------- jobs

class Job:
    """One command of the suite. It runs in its own process group, tagged
    (procs.py): whatever way it ends, nothing it started is left running."""
    count = 0
    default_timeout = 300

    def __init__(self, name, cmd, env, parse, timeout=None):
        self.name, self.cmd, self.env, self.parse = name, cmd, env, parse
        self.timeout = timeout or Job.default_timeout
        self.passed = self.failed = 0
        self.output = ""
        self.seconds = 0.0
        Job.count += 1
        self.token = "%s/%d" % (RUN, Job.count)
        self.proc = None

    def run(self):
        start = time.time()
        env = procs.job_env(dict(self.env, DVCBOT_JOB_TIMEOUT=str(self.timeout)), RUN, self.token)
        with tempfile.TemporaryFile() as log:
            try:
                code, note = self._run(env, log)
            except OSError as e:
                code, note = -1, f"\n{self.name}: could not start: {e}\n"
            log.seek(0)
            out = log.read().decode("utf-8", "replace") + note
        self.seconds = time.time() - start
        self.passed, self.failed, self.output = self.parse(self.name, out, code)
        return self

    def _run(self, env, log):
        """Runs the command to its end or its timeout, then kills what is
        left of it. Returns (exit status, a note for the output)."""
        self.proc = subprocess.Popen(procs.PDEATHSIG + self.cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, process_group=0)
        _live[self.token] = self.proc.pid
        note = ""
        try:
            timed_out = not wait_exit(self.proc.pid, self.timeout)
            # The leader is not reaped yet: its pid still names the group.
            left = procs.group_members(self.proc.pid)
            procs.kill_group(self.proc.pid)
            left += procs.kill_tagged(procs.of_job(self.token))
        finally:
            procs.kill_group(self.proc.pid)
            with _lock:  # stop_everything kills the groups of _live: leaders not reaped
                _live.pop(self.token, None)
                code = self.proc.wait()
        if timed_out:
            note = f"\n{self.name}: timed out after {self.timeout} s\n"
            code = -1
        left = [p for p in left if not p.endswith("(%d)" % self.proc.pid)]
        if left:
            note += f"\n{self.name}: killed what it left running: {', '.join(sorted(set(left)))}\n"
        return code, note


def wait_exit(pid, timeout):
    """Waits until pid has exited, without reaping it. False on timeout."""
    deadline = time.time() + timeout
    delay = 0.001
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
        if time.time() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def job_timeout(wrap):
    """Seconds a job may take: DVCBOT_JOB_TIMEOUT, else 300 (1800 under a
    --wrap such as valgrind)."""
    if os.environ.get("DVCBOT_JOB_TIMEOUT"):
        return float(os.environ["DVCBOT_JOB_TIMEOUT"])
    return 1800 if wrap else 300


def parse_unit(name, out, code):
    ok = re.search(r"\[  PASSED  \] (\d+) test", out)
    bad = re.search(r"\[  FAILED  \] (\d+) test", out)
    p = int(ok.group(1)) if ok else 0
    f = int(bad.group(1)) if bad else 0
    if code != 0 and f == 0:
        f = 1  # crashed, sanitizer or valgrind error
    text = f"unit {name}: {p} passed, {f} failed [{'ok' if f == 0 else 'FAILED'}]\n"
    if f:
        text += out[-6000:]
    return p, f, text


def parse_e2e(name, out, code):
    m = re.search(r"^%s (\d+) (\d+)$" % RESULT_MARK, out, re.M)
    p, f = (int(m.group(1)), int(m.group(2))) if m else (0, 1)
    if code != 0 and f == 0:
        f = 1
    body = re.sub(r"^%s .*\n?" % RESULT_MARK, "", out, flags=re.M)
    return p, f, body


def unit_jobs(build, wrap, pattern):
    jobs = []
    tests = os.path.join(build, "tests")
    names = sorted(n for n in os.listdir(tests) if n.startswith("test_") and "." not in n) \
        if os.path.isdir(tests) else []
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="stdout", DVCBOT_DATA_DIR=ROOT)
    for name in names:
        if pattern and pattern not in name:
            continue
        binary = os.path.join(tests, name)
        jobs.append(Job(name, (shlex.split(wrap) if wrap else []) + [binary], env, parse_unit))
    return jobs


def parse_fuzz(name, out, code):
    m = re.search(r"^replayed (\d+) inputs$", out, re.M)
    ok = code == 0 and m is not None
    text = f"fuzz replay {name}: {m.group(1) if m else 0} inputs [{'ok' if ok else 'FAILED'}]\n"
    if not ok:
        text += out[-6000:]
    return (1, 0, text) if ok else (0, 1, text)


def fuzz_jobs(build, wrap, pattern):
    """Each fuzz target (tests/fuzz/) replaying its seeds and past crashes."""
    jobs = []
    bins = os.path.join(build, "fuzz")
    names = sorted(n for n in os.listdir(bins) if n.startswith("fuzz_") and "." not in n) \
        if os.path.isdir(bins) else []
    env = dict(os.environ, DVCBOT_DATA_DIR=ROOT)
    for name in names:
        corpus = os.path.join(HERE, "fuzz", name[len("fuzz_"):])
        if (pattern and pattern not in name) or not os.path.isdir(corpus):
            continue
        cmd = (shlex.split(wrap) if wrap else []) + [os.path.join(bins, name), corpus]
        jobs.append(Job(name, cmd, env, parse_fuzz))
    return jobs


def loader(pattern):
    ld = unittest.TestLoader()
    if pattern:
        ld.testNamePatterns = [f"*{pattern}*"]
    return ld


def e2e_classes(pattern):
    """module.Class of every end-to-end test class with a test to run."""
    sys.path.insert(0, E2E)
    found = []
    for fname in sorted(os.listdir(E2E)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        module = __import__(fname[:-3])
        for attr in sorted(dir(module)):
            cls = getattr(module, attr)
            if isinstance(cls, type) and issubclass(cls, unittest.TestCase) and \
                    cls.__module__ == module.__name__ and loader(pattern).getTestCaseNames(cls):
                found.append(f"{module.__name__}.{attr}")
    return found


def e2e_jobs(build, wrap, pattern):
    env = dict(os.environ, DVCBOT_BIN=os.path.abspath(os.path.join(build, "dvcbot")), DVCBOT_ROOT=ROOT)
    if wrap:
        env["DVCBOT_WRAP"] = wrap
    cmd = [sys.executable, os.path.abspath(__file__), "--child"]
    return [Job(name, cmd + [name] + (["-k", pattern] if pattern else []), env, parse_e2e)
            for name in e2e_classes(pattern)]


def run_child(name, pattern):
    """One end-to-end test class, in this process (the parent's job)."""
    # A job about to time out prints where each thread is (then it is killed).
    timeout = float(os.environ.get("DVCBOT_JOB_TIMEOUT") or 0)
    if timeout > 10:
        faulthandler.dump_traceback_later(timeout - 5, exit=False)
    suite = loader(pattern).loadTestsFromName(name)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    sys.stdout.flush()
    print(f"{RESULT_MARK} {passed} {failed}")
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------- running

def load_times(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_times(path, jobs, old):
    times = dict(old, **{j.name: round(j.seconds, 2) for j in jobs})
    try:
        with open(path, "w") as f:
            json.dump(times, f, indent=0, sort_keys=True)
    except OSError:
        pass


def stop_everything(signum=None, frame=None):
    """Kills every process of this run: each job's group, then whatever
    carries the run's tag. As a signal handler, then exits."""
    with _lock:
        for pid in _live.values():
            procs.kill_group(pid)
    killed = procs.kill_tagged(procs.of_run(RUN))
    if signum is not None:
        sys.stdout.write(f"\nstopped by signal {signum}: killed {len(killed)} processes of the run\n")
        sys.stdout.flush()
        os._exit(128 + signum)


def run_jobs(jobs, workers, report):
    """Runs jobs, `workers` at once, calling report(job) as each ends. However
    this ends (SIGTERM, SIGINT, SIGHUP, an exception), nothing it started is
    left running."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop_everything)
    try:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for job in concurrent.futures.as_completed([pool.submit(j.run) for j in jobs]):
                report(job.result())
    finally:
        stop_everything()


def default_jobs(wrap):
    if os.environ.get("DVCBOT_TEST_JOBS"):
        return max(1, int(os.environ["DVCBOT_TEST_JOBS"]))
    cores = os.cpu_count() or 2
    # The jobs mostly wait on Redis, HTTP and each other; under valgrind they compute.
    return cores if wrap else 2 * cores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--wrap", default="", help="command prefix for dvcbot and unit binaries")
    ap.add_argument("-k", dest="pattern", default="", help="only tests whose name contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=0, help="jobs at once (default: DVCBOT_TEST_JOBS, else 2 per core)")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--e2e-only", action="store_true")
    ap.add_argument("--child", metavar="MODULE.CLASS", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_child(args.child, args.pattern)
    start = time.time()
    stale = procs.reap_stale()
    if stale:
        print(f"killed {len(stale)} processes left by a suite run that was killed: {', '.join(stale[:10])}")
    Job.default_timeout = job_timeout(args.wrap)
    # One matcher cache per build (src/matcher_cache.c): the suite starts
    # dvcbot ~200 times, and training is most of a start under ASan/valgrind.
    os.environ.setdefault("DVCBOT_CACHE_DIR", os.path.join(os.path.abspath(args.build), "cache"))
    jobs = []
    if not args.e2e_only:
        jobs += unit_jobs(args.build, args.wrap, args.pattern)
        jobs += fuzz_jobs(args.build, args.wrap, args.pattern)
    if not args.unit_only:
        jobs += e2e_jobs(args.build, args.wrap, args.pattern)
    times_path = os.path.join(args.build, "suite-times.json")
    # A clean checkout has no times of its own: the committed ones (a plain
    # run's) still start the long jobs first.
    times = dict(load_times(os.path.join(HERE, "suite-times.json")), **load_times(times_path))
    jobs.sort(key=lambda j: -times.get(j.name, 30.0))  # unknown ones early
    counts = [0, 0]

    def report(j):
        sys.stdout.write(j.output if j.output.endswith("\n") or not j.output else j.output + "\n")
        sys.stdout.flush()
        counts[0] += j.passed
        counts[1] += j.failed
    run_jobs(jobs, args.jobs or default_jobs(args.wrap), report)
    passed, failed = counts
    save_times(times_path, jobs, times)
    slowest = sorted(jobs, key=lambda j: -j.seconds)[:5]
    print("slowest: " + ", ".join(f"{j.name} {j.seconds:.1f}s" for j in slowest))
    print(f"suite took {time.time() - start:.1f}s")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
