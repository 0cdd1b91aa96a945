"""bench/webhook.py's load generator: the requests its wrk script builds by
hand (LUA_HAND, the cheap one every sitting uses since session 12) are the
ones wrk.format built in sessions 1-11 (LUA), so the sittings' figures stay
comparable: `webhook.py --check-generator N` compares the first N of each in
one Lua state byte for byte and on the wire (bodies byte for byte, headers
order aside), and checks unique update ids, every user and text."""
import os
import shutil
import subprocess
import sys
import unittest

from harness import ROOT


class BenchGeneratorTest(unittest.TestCase):
    def test_requests_built_by_hand_are_the_ones_wrk_format_built(self):
        if not shutil.which("wrk"):
            self.skipTest("wrk is not installed (Debian wrk; bench/webhook.py installs it)")
        out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "webhook.py"), "--check-generator", "2000"],
                             capture_output=True, text=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("are wrk.format's byte for byte in one Lua state", out.stdout)
        self.assertIn("2000 update ids, 2000 users, 8 texts", out.stdout)


if __name__ == "__main__":
    unittest.main()
