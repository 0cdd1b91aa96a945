#!/usr/bin/env python3
"""Runs dvcbot's whole test suite: cmocka unit tests and end-to-end tests.

Each fuzz target (tests/fuzz/, built with a plain driver outside `make fuzz`)
replays its seeds and every input that once crashed it: one job, one test.
The end-to-end tests (tests/e2e/test_*.py) start a real redis-server, local
stubs of the Telegram/Zalo/payment APIs and the real `dvcbot serve` binary on
127.0.0.1. Every unit binary and every end-to-end test class (each starts its
own Redis and dvcbot on free ports) is one job; jobs run in parallel (-j),
the longest first (durations of the last run are kept in
<build>/suite-times.json), and each job's output is printed in one piece when
it ends. -j (or DVCBOT_TEST_JOBS) sets how many run at once. The last line printed is always "N passed, N failed" and the exit
status is non-zero when anything failed.

  python3 tests/run_suite.py --build build [--wrap 'valgrind ...'] [-k pattern] [-j N]
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
E2E = os.path.join(HERE, "e2e")
JOB_TIMEOUT = 900
RESULT_MARK = "@@result"


# ---------------------------------------------------------------- jobs

class Job:
    def __init__(self, name, cmd, env, parse):
        self.name, self.cmd, self.env, self.parse = name, cmd, env, parse
        self.passed = self.failed = 0
        self.output = ""
        self.seconds = 0.0

    def run(self):
        start = time.time()
        try:
            proc = subprocess.run(self.cmd, cwd=ROOT, env=self.env, capture_output=True, text=True,
                                  timeout=JOB_TIMEOUT)
            out, code = proc.stdout + proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            out += f"\n{self.name}: timed out after {JOB_TIMEOUT} s\n"
            code = -1
        self.seconds = time.time() - start
        self.passed, self.failed, self.output = self.parse(self.name, out, code)
        return self


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
    sys.path.insert(0, E2E)
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
    jobs = []
    if not args.e2e_only:
        jobs += unit_jobs(args.build, args.wrap, args.pattern)
        jobs += fuzz_jobs(args.build, args.wrap, args.pattern)
    if not args.unit_only:
        jobs += e2e_jobs(args.build, args.wrap, args.pattern)
    times_path = os.path.join(args.build, "suite-times.json")
    times = load_times(times_path)
    jobs.sort(key=lambda j: -times.get(j.name, 30.0))  # unknown ones early
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs or default_jobs(args.wrap)) as pool:
        for job in concurrent.futures.as_completed([pool.submit(j.run) for j in jobs]):
            j = job.result()
            sys.stdout.write(j.output if j.output.endswith("\n") or not j.output else j.output + "\n")
            sys.stdout.flush()
            passed += j.passed
            failed += j.failed
    save_times(times_path, jobs, times)
    slowest = sorted(jobs, key=lambda j: -j.seconds)[:5]
    print("slowest: " + ", ".join(f"{j.name} {j.seconds:.1f}s" for j in slowest))
    print(f"suite took {time.time() - start:.1f}s")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
