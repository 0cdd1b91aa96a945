#!/usr/bin/env python3
"""Runs dvcbot's whole test suite: cmocka unit tests, then end-to-end tests.

The end-to-end tests (tests/e2e/test_*.py) start a real redis-server, local
stubs of the Telegram/Zalo/payment APIs and the real `dvcbot serve` binary on
127.0.0.1. The last line printed is always "N passed, N failed" and the exit
status is non-zero when anything failed.

  python3 tests/run_suite.py --build build [--wrap 'valgrind ...'] [-k pattern]
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_unit(build, wrap, pattern):
    passed = failed = 0
    for binary in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        name = os.path.basename(binary)
        if pattern and pattern not in name:
            continue
        cmd = shlex.split(wrap) + [binary] if wrap else [binary]
        env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="stdout", DVCBOT_DATA_DIR=ROOT)
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        out = proc.stdout + proc.stderr
        ok = re.search(r"\[  PASSED  \] (\d+) test", out)
        bad = re.search(r"\[  FAILED  \] (\d+) test", out)
        p = int(ok.group(1)) if ok else 0
        f = int(bad.group(1)) if bad else 0
        if proc.returncode != 0 and f == 0:
            f = 1  # crashed, sanitizer or valgrind error
        passed += p
        failed += f
        status = "ok" if f == 0 else "FAILED"
        print(f"unit {name}: {p} passed, {f} failed [{status}]")
        if f:
            sys.stdout.write(out[-6000:])
    return passed, failed


class CountingResult(unittest.TextTestResult):
    pass


def run_e2e(build, wrap, pattern):
    os.environ["DVCBOT_BIN"] = os.path.abspath(os.path.join(build, "dvcbot"))
    os.environ["DVCBOT_ROOT"] = ROOT
    if wrap:
        os.environ["DVCBOT_WRAP"] = wrap
    sys.path.insert(0, os.path.join(HERE, "e2e"))
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = [f"*{pattern}*"]
    suite = loader.discover(os.path.join(HERE, "e2e"), pattern="test_*.py",
                            top_level_dir=os.path.join(HERE, "e2e"))
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult, stream=sys.stdout)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--wrap", default="", help="command prefix for dvcbot and unit binaries")
    ap.add_argument("-k", dest="pattern", default="", help="only tests whose name contains this")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--e2e-only", action="store_true")
    args = ap.parse_args()
    start = time.time()
    passed = failed = 0
    if not args.e2e_only:
        p, f = run_unit(args.build, args.wrap, args.pattern)
        passed += p
        failed += f
    if not args.unit_only:
        p, f = run_e2e(args.build, args.wrap, args.pattern)
        passed += p
        failed += f
    print(f"suite took {time.time() - start:.1f}s")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
