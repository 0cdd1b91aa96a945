"""What every end-to-end helper shares: where the repository and the binary
are, how much slower this run is (under DVCBOT_WRAP, e.g. valgrind), the
tokens dvcbot and the API stubs agree on, and waiting for a condition.

BIN may be set by a driver before it starts dvcbot (understanding.py,
bench/exhaustion.py): Dvcbot and run_cli read basics.BIN when they run it."""
import os
import shlex
import socket
import time

ROOT = os.environ.get("DVCBOT_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DVCBOT_BIN") or os.path.join(ROOT, "build", "dvcbot")
WRAP = shlex.split(os.environ.get("DVCBOT_WRAP", ""))
SLOW = 8 if WRAP else 1  # valgrind runs everything several times slower

TG_TOKEN = "123456:TEST-token"
TG_SECRET = "s3cret-webhook-token"
ADMIN_TOKEN = "test-admin-token-0123456789"  # put it in ADMIN_TOKENS via extra_env

ZL_APP_ID = "3141592653589793238"
ZL_OA_ID = "2718281828459045235"
ZL_OA_SECRET = "oa-secret-key-for-tests"
ZL_APP_SECRET = "app-secret-key-for-tests"
ZL_MARK = "dvc:"  # our button payloads come back as hidden text with this prefix
ZL_MORE_BUTTONS = "Lựa chọn khác:"  # templates/zalo_more_buttons.txt


def wait_until(pred, timeout=5.0, interval=0.02, what="condition"):
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def rss_kb(pid):
    """Resident memory of a process in KiB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
