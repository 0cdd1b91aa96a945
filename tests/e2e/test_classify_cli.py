"""`dvcbot classify`: one "<id>\t<score>" line per input line, whatever the input."""
import os
import shlex
import subprocess
import unittest

ROOT = os.environ.get("DVCBOT_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.environ.get("DVCBOT_BIN", os.path.join(ROOT, "build", "dvcbot"))
WRAP = shlex.split(os.environ.get("DVCBOT_WRAP", ""))


def classify(data: bytes):
    env = dict(os.environ, DVCBOT_DATA_DIR=ROOT)
    proc = subprocess.run(WRAP + [BIN, "classify"], input=data, capture_output=True, env=env, timeout=120)
    return proc.returncode, proc.stdout.decode("utf-8").splitlines()


class ClassifyCliTest(unittest.TestCase):
    def test_one_output_line_per_input_line_including_hostile_input(self):
        lines = [
            "dk khai sinh cho con".encode(),
            "Đăng ký kết hôn".encode(),
            b"kh\xffai sinh \xc3",            # invalid UTF-8
            b"",                                # empty line
            ("khai sinh " * 10240).encode(),   # 100 KB line
            "giá vàng hôm nay".encode(),
        ]
        rc, out = classify(b"\n".join(lines) + b"\n")
        self.assertEqual(rc, 0)
        self.assertEqual(len(out), len(lines))
        ids = [o.split("\t")[0] for o in out]
        self.assertEqual(ids, ["khai_sinh", "ket_hon", "khac", "khac", "khac", "khac"])
        for o in out:
            ident, score = o.split("\t")
            self.assertTrue(0.0 <= float(score) <= 1.0)

    def test_last_line_without_newline_is_classified(self):
        rc, out = classify("lam lai can cuoc o dau".encode())
        self.assertEqual(rc, 0)
        self.assertEqual(out, ["can_cuoc\t" + out[0].split("\t")[1]])


if __name__ == "__main__":
    unittest.main()
