"""Keeping the test suite's processes contained (tests/run_suite.py and the
harness): a test job that fails, hangs or is killed must not leave a
dvcbot, redis-server, chromedriver or chromium running (an ASan dvcbot holds
hundreds of MiB; a shared machine ran out of memory on such orphans).

Three layers, because each alone has a hole:
- every job runs in its own process group, killed as a whole when the job
  ends for any reason (passed, failed, timed out, killed);
- every process a job starts carries the job's tag in its environment
  (DVCBOT_SUITE_JOB, and DVCBOT_SUITE_RUN for the whole run), which children
  inherit whatever they do: a daemonized redis-server (its own session), a
  chromium whose chromedriver died (re-parented to init) are found by the tag
  and killed with their job; the run kills everything of its tag when it ends
  or is stopped (SIGTERM, SIGINT, SIGHUP), and a run that was killed outright
  (SIGKILL, the OOM killer) is cleaned up by the next run (reap_stale);
- the servers a job starts die with their parent (PR_SET_PDEATHSIG through
  util-linux's setpriv, which then execs the program: same pid), so killing
  a job's Python process stops its servers at once, even with no run left to
  clean up.

Standard library only; Linux /proc.
"""
import os
import shutil
import signal
import threading
import time

RUN_VAR = "DVCBOT_SUITE_RUN"
JOB_VAR = "DVCBOT_SUITE_JOB"

_SETPRIV = shutil.which("setpriv")
# A command prefix: the program gets SIGKILL when the thread that started it
# ends (the harness starts servers from the test's main thread).
PDEATHSIG = [_SETPRIV, "--pdeathsig", "KILL", "--"] if _SETPRIV else []


def dies_with_me():
    """The command prefix that makes a program die with this thread: PDEATHSIG
    from the main thread (which lives as long as the process), nothing from
    another one (its end would kill the program early)."""
    return PDEATHSIG if threading.current_thread() is threading.main_thread() else []


def _stat(pid):
    """(state, start time in clock ticks since boot) of a process, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0].decode(), int(fields[19])


def alive(pid):
    """True while pid runs (a zombie, which only waits to be reaped, is not)."""
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def _name(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def own_token():
    """This process as "<pid>.<start time>": unique on the machine while it runs."""
    return "%d.%d" % (os.getpid(), _stat(os.getpid())[1])


def token_alive(token):
    """Whether the process a token names (own_token) still runs."""
    try:
        pid, start = (int(x) for x in token.split("."))
    except ValueError:
        return False
    st = _stat(pid)
    return st is not None and st[1] == start and st[0] not in ("Z", "X")


def _tags(pid):
    """{RUN_VAR: [tokens], JOB_VAR: [tokens]} of a process's environment (the
    names that are set). A suite run inside a test job (tests of the runner
    itself) adds its tokens to those it inherited: each holds one per level."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if b"DVCBOT_SUITE_" not in data:
        return {}
    out = {}
    for item in data.split(b"\0"):
        name, _, value = item.partition(b"=")
        if name in (b"DVCBOT_SUITE_RUN", b"DVCBOT_SUITE_JOB"):
            out[name.decode()] = value.decode("utf-8", "replace").split()
    return out


def tagged(pred):
    """Pids of live processes (not this one) whose tags satisfy pred(tags)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        tags = _tags(pid)
        if tags and pred(tags) and alive(pid):
            found.append(pid)
    return found


def kill_tagged(pred, patience=5.0):
    """SIGKILLs every live process whose tags satisfy pred, again while new
    ones appear (a parent may fork as it dies), and returns once none is left
    or after `patience` seconds (a loaded machine can take a while to take a
    killed process down). Returns ["name(pid)", ...] of what was killed."""
    killed = []
    deadline = time.time() + patience
    while True:
        pids = tagged(pred)
        if not pids or time.time() > deadline:
            break
        for pid in pids:
            name = _name(pid)
            try:
                os.kill(pid, signal.SIGKILL)
                if "%s(%d)" % (name, pid) not in killed:
                    killed.append("%s(%d)" % (name, pid))
            except ProcessLookupError:
                pass
        time.sleep(0.01)  # let the kernel take them down before looking again
    return killed


def group_members(pgid):
    """["name(pid)", ...] of the live processes in a process group."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            found.append("%s(%s)" % (_name(int(entry)), entry))
    return found


def kill_group(pgid):
    """SIGKILLs a process group; nothing happens when it is empty."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def reap_stale():
    """Kills the processes left by suite runs that are no longer running
    (killed with SIGKILL, say). Returns what was killed."""
    return kill_tagged(lambda t: any(not token_alive(run) for run in t.get(RUN_VAR, [])))


def job_env(env, run, job):
    """env with the tags of job `job` of run `run` added to those inherited."""
    out = dict(env)
    for var, token in ((RUN_VAR, run), (JOB_VAR, job)):
        out[var] = (out.get(var, "") + " " + token).strip()
    return out


def of_job(job):
    """A kill_tagged predicate: processes of that job (at any level)."""
    return lambda t: job in t.get(JOB_VAR, [])


def of_run(run):
    """A kill_tagged predicate: processes of that run (at any level)."""
    return lambda t: run in t.get(RUN_VAR, [])
