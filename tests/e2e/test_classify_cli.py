"""`dvcbot classify`: one "<id>\t<score>" line per input line, whatever the input."""
import json
import os
import shlex
import shutil
import subprocess
import tempfile
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


class MatcherCacheTest(unittest.TestCase):
    """DVCBOT_CACHE_DIR: the trained models are kept per data set; edited
    data trains again (the models, not only the exact examples, follow it)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-cache-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        shutil.copytree(os.path.join(ROOT, "intents"), os.path.join(self.tmp, "intents"))
        self.cache = os.path.join(self.tmp, "cache")

    def run_classify(self, text):
        env = dict(os.environ, DVCBOT_DATA_DIR=self.tmp, DVCBOT_CACHE_DIR=self.cache)
        proc = subprocess.run(WRAP + [BIN, "classify"], input=text.encode(), capture_output=True,
                              env=env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(b"matcher cache", proc.stderr)  # no warning: nothing was damaged
        return proc.stdout.decode().split("\t")[0]

    def files(self):
        return sorted(f for f in os.listdir(self.cache) if f.startswith("matcher-"))

    def test_edited_data_is_trained_again_not_read_from_the_cache(self):
        line = "zorblax quibbit"  # words no intent has
        self.assertEqual(self.run_classify(line), "khac")
        first = self.files()
        self.assertEqual(len(first), 1)
        self.assertEqual(self.run_classify(line), "khac")  # from the cache
        self.assertEqual(self.files(), first)
        path = os.path.join(self.tmp, "intents", "gio_lam_viec.json")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        # not the line itself: an exact example is matched without the models
        data["match"]["examples"] += ["zorblax quibbit mấy giờ mở cửa", "zorblax quibbit làm việc lúc nào",
                                      "giờ làm việc zorblax quibbit"]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        self.assertEqual(self.run_classify(line), "gio_lam_viec")
        self.assertEqual(len(self.files()), 2)  # one per data set


if __name__ == "__main__":
    unittest.main()
