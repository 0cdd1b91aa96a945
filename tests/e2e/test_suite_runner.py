"""The suite runner leaves no process behind (tests/run_suite.py, procs.py):
a job that is killed, a job that times out, a run stopped with SIGTERM and a
run killed outright (SIGKILL) each end with nothing they started still
running: not the job's redis-server and dvcbot, nor a daemon that left the
job's session (as `redis-server --daemonize yes` in `make run` does).

Each test runs a "leaky job": this file run as a program, which starts a
real redis-server and dvcbot through the harness, a plain child and a
daemon (double fork, setsid), writes their pids to a file and then hangs or
kills itself."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import procs
from harness import SLOW, Dvcbot, Redis, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(os.path.dirname(HERE), "run_suite.py")


# ---------------------------------------------------------------- the leaky job

def start_daemon():
    """A process in a session of its own whose parent is gone (a daemon);
    returns its pid."""
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.setsid()
        if os.fork() == 0:
            os.close(r)
            os.write(w, b"%d" % os.getpid())
            os.close(w)
            os.execvp(sys.executable, [sys.executable, "-c", "import time; time.sleep(3600)"])
        os._exit(0)
    os.close(w)
    pid = int(os.read(r, 32))
    os.close(r)
    os.waitpid(child, 0)
    return pid


def leaky_job(pid_file, servers, then):
    """Starts the processes, records them in pid_file, then hangs or dies."""
    tmp = tempfile.mkdtemp(prefix="dvcbot-leaky-")
    pids = {"job": os.getpid(), "daemon": start_daemon(),
            "child": subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"]).pid}
    if servers:
        redis = Redis.start(tmp)
        pids["redis"] = redis.proc.pid
        pids["dvcbot"] = Dvcbot.start(tmp, redis, telegram=None).proc.pid
    with open(pid_file + ".tmp", "w") as f:
        json.dump(pids, f)
    os.replace(pid_file + ".tmp", pid_file)
    if then == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(3600)


# ---------------------------------------------------------------- the tests

def runner_module():
    sys.path.insert(0, os.path.dirname(HERE))
    import run_suite
    return run_suite


class SuiteRunnerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-runner-")
        self.pid_file = os.path.join(self.tmp, "pids.json")
        self.recorded = {}

    def tearDown(self):
        for pid in self.recorded.values():  # only if a test failed: ours, by pid
            if procs.alive(pid):
                os.kill(pid, signal.SIGKILL)

    def job_cmd(self, then, servers=True):
        return [sys.executable, os.path.abspath(__file__), "--leaky-job", self.pid_file,
                "servers" if servers else "no-servers", then]

    def pids(self):
        """The pids the leaky job recorded (waits for it to record them)."""
        wait_until(lambda: os.path.exists(self.pid_file), 60, what="the leaky job to start its processes")
        with open(self.pid_file) as f:
            self.recorded = json.load(f)
        return self.recorded

    def assert_all_gone(self, pids):
        # A process SIGKILLed a moment ago may still be tearing down (an ASan
        # dvcbot unmaps hundreds of MB): give it the time to be gone; one the
        # run did not kill stays and fails.
        def left():
            return {name: pid for name, pid in pids.items() if procs.alive(pid)}
        try:
            wait_until(lambda: not left(), 10, what="the killed processes to exit")
        except AssertionError:
            pass
        self.assertEqual(left(), {}, "still running")

    def test_a_job_killed_leaves_nothing_it_started(self):
        rs = runner_module()
        job = rs.Job("leaky", self.job_cmd("die"), dict(os.environ), lambda n, out, code: (0, 0, out))
        job.run()  # returns when the job's own process died
        pids = self.pids()
        self.assertEqual(set(pids), {"job", "daemon", "child", "redis", "dvcbot"})
        self.assert_all_gone(pids)
        self.assertIn("killed what it left running", job.output)
        self.assertEqual(procs.tagged(procs.of_job(job.token)), [])

    def test_a_job_that_times_out_leaves_nothing_it_started(self):
        rs = runner_module()
        timeout = 2.0
        while True:  # until it had the time to start its processes before timing out
            job = rs.Job("leaky", self.job_cmd("hang", servers=False), dict(os.environ),
                         lambda n, out, code: (0, 0, out), timeout=timeout)
            job.run()
            self.assertIn("timed out after", job.output)
            self.assertEqual(procs.tagged(procs.of_job(job.token)), [])
            if os.path.exists(self.pid_file):
                break
            timeout *= 2
            self.assertLess(timeout, 100, "the job never started its processes")
        self.assert_all_gone(self.pids())

    def start_run(self):
        """A suite run (run_suite.run_jobs) of one leaky job that hangs."""
        code = ("import os, sys; sys.path.insert(0, %r); import run_suite as rs; "
                "rs.run_jobs([rs.Job('leaky', %r, dict(os.environ), lambda n, o, c: (0, 0, o))], 1, "
                "lambda j: None)" % (os.path.dirname(HERE), self.job_cmd("hang")))
        return subprocess.Popen([sys.executable, "-c", code])

    def test_a_run_stopped_with_sigterm_leaves_nothing(self):
        run = self.start_run()
        pids = self.pids()
        run.send_signal(signal.SIGTERM)
        self.assertEqual(run.wait(timeout=30 * SLOW), 128 + signal.SIGTERM)
        self.assert_all_gone(pids)

    def test_a_run_killed_outright_takes_its_servers_and_the_next_run_reaps_the_rest(self):
        run = self.start_run()
        pids = self.pids()
        run.kill()
        run.wait()
        # The job's process and the servers it started die with their parents...
        wait_until(lambda: not any(procs.alive(pids[k]) for k in ("job", "redis", "dvcbot")),
                   10, what="the job and its servers to die with the run")
        # ...a daemon and a plain child cannot: the next run finds them by their tag.
        self.assertTrue(procs.alive(pids["daemon"]) and procs.alive(pids["child"]))
        killed = " ".join(procs.reap_stale())
        for name in ("daemon", "child"):
            self.assertIn("(%d)" % pids[name], killed)
        self.assert_all_gone(pids)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--leaky-job":
        leaky_job(sys.argv[2], sys.argv[3] == "servers", sys.argv[4])
    else:
        unittest.main()
