"""redis/dvcbot.lua, the one library of Redis functions: it loads on the
redis-server we run (Debian 12: 7.0), every function the C code calls is in
it, every function in it is called, and each has a comment naming its keys."""
import glob
import os
import re
import shutil
import tempfile
import unittest

from harness import ROOT, Redis

LIBRARY = os.path.join(ROOT, "redis", "dvcbot.lua")


def called_in_c():
    """Function names the C sources call: FCALL in a command string, or the
    name given to redis_fcall / redis_fcall_argv / an FCALL argv."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "src", "*.c")):
        text = open(path, encoding="utf-8").read()
        names.update(re.findall(r'"FCALL (\w+) ', text))
        names.update(re.findall(r'redis_fcall(?:_argv)?\([^"]*"(\w+)"', text))
        names.update(re.findall(r'argv\[1\] = "(\w+)";', text))
        names.update(re.findall(r'"FCALL", "(\w+)"', text))
        names.update(re.findall(r'run_script\((?!struct )[^"]*"(\w+)"', text))  # calls, not the definition
        for one, many in re.findall(r'fcall_group_new\([^"]*"(\w+)", "(\w+)"', text):
            names.update((one, many))
    return names


class RedisLibraryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dvcbot-lib-")
        cls.redis = Redis.start(cls.tmp)
        with open(LIBRARY, encoding="utf-8") as f:
            cls.source = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def loaded(self):
        self.assertEqual(self.redis("FUNCTION", "LOAD", "REPLACE", self.source), "dvcbot")
        libs = self.redis("FUNCTION", "LIST", "LIBRARYNAME", "dvcbot")
        self.assertEqual(len(libs), 1)
        lib = dict(zip(libs[0][::2], libs[0][1::2]))
        return {dict(zip(f[::2], f[1::2]))["name"] for f in lib["functions"]}

    def test_the_library_loads_and_holds_every_function_the_code_calls(self):
        version = self.redis("INFO", "server")
        self.assertRegex(version, r"redis_version:[7-9]\.")
        functions = self.loaded()
        called = called_in_c()
        self.assertGreater(len(called), 30)
        self.assertEqual(sorted(called - functions), [], "called from C but not in redis/dvcbot.lua")
        self.assertEqual(sorted(functions - called), [], "in redis/dvcbot.lua but never called")

    def test_loading_again_replaces_it(self):
        self.loaded()
        self.assertEqual(self.loaded(), self.loaded())

    def test_each_function_says_its_keys_and_arguments(self):
        blocks = re.split(r"\n\n", self.source)
        for block in blocks:
            m = re.search(r"redis\.register_function\('(\w+)'", block)
            if not m:
                continue
            comment = "\n".join(l for l in block.splitlines() if l.startswith("--"))
            uses_keys = "keys[" in block or "#keys" in block or "ipairs(keys)" in block
            with self.subTest(function=m.group(1)):
                self.assertTrue(comment.strip(), "no comment")
                if uses_keys:
                    self.assertRegex(comment, r"KEYS|keys", "the comment does not name the keys")

    def test_a_settle_moves_od_forward_only_in_a_record_that_holds_committed_replies(self):
        self.loaded()
        r = self.redis
        stream = "outbox:telegram:lib-settle"
        ids = [r("XADD", stream, "*", "t", str(i)) for i in range(4)]
        r("HSET", "u:{tg:set1}", "ch", "telegram", "oq", "3")
        r("HSET", "u:{tg:set3}", "ch", "telegram", "seen", "1")  # made again: no oq
        self.assertEqual(r("FCALL", "outbox_settle", "5", stream, "u:{tg:set1}", "u:{tg:set1}",
                           "u:{tg:set2}", "u:{tg:set3}", ids[0], "2", ids[1], "1", ids[2], "1",
                           ids[3], "1"), 4)
        self.assertEqual(r("XLEN", stream), 0)
        self.assertEqual(r("HGET", "u:{tg:set1}", "od"), "2")   # forward, never back
        self.assertEqual(r("EXISTS", "u:{tg:set2}"), 0)         # gone: not made again
        self.assertIsNone(r("HGET", "u:{tg:set3}", "od"))
