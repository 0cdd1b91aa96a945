"""redis/dvcbot.lua, the one library of Redis functions: it loads on the
redis-server we run (Debian 12: 7.0), every function the C code calls is in
it, every function in it is called, and each has a comment naming its keys."""
import glob
import os
import re
import shutil
import tempfile
import unittest

from harness import ROOT, Dvcbot, Redis, TelegramStub, run_cli, tg_message, wait_until
from redisproc import RedisClient, RespError

LIBRARY = os.path.join(ROOT, "redis", "dvcbot.lua")
# Called only by processes of the version before (a rolling upgrade runs them
# on this library): this version calls the *_flat ones, and dialog_mark* where
# library 17 and before called dialog_load* (the session read by a plain MGET),
# and dialog_mark_idx* where library 22 and before called dialog_mark* (five keys).
FOR_THE_VERSION_BEFORE = {"dialog_load_many", "outbox_commit_many", "dialog_load", "dialog_load_many_flat",
                          "dialog_mark", "dialog_mark_many_flat"}
VERSION_LINE = re.compile(r"^local LIBRARY_VERSION = (\d+)$", re.M)


class ErrorsKept(RedisClient):
    """An error inside an array reply is its element (a RespError)."""

    def _reply(self):
        if self.buf.startswith(b"-") or (not self.buf and self._peek() == b"-"):
            return RespError(self._line()[1:].decode())
        return super()._reply()

    def _peek(self):
        while not self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        return self.buf[:1]


def called_in_c():
    """Function names the C sources call: FCALL in a command string, or the
    name given to redis_fcall / redis_fcall_argv / an FCALL argv."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "src", "*.c")) + glob.glob(os.path.join(ROOT, "include", "dvcbot", "*.h")):
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
        self.assertEqual(sorted(functions - called - FOR_THE_VERSION_BEFORE), [], "in redis/dvcbot.lua but never called")
        self.assertEqual(sorted(FOR_THE_VERSION_BEFORE - functions), [], "a function of the version before is gone")

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
        # numbers compared as numbers (by length first), not as text
        r("HSET", "u:{tg:set4}", "ch", "telegram", "oq", "12", "od", "9")
        ids = [r("XADD", stream, "*", "t", str(i)) for i in range(3)]
        r("FCALL", "outbox_settle", "2", stream, "u:{tg:set4}", ids[0], "10")
        self.assertEqual(r("HGET", "u:{tg:set4}", "od"), "10")
        r("FCALL", "outbox_settle", "2", stream, "u:{tg:set4}", ids[1], "9")
        self.assertEqual(r("HGET", "u:{tg:set4}", "od"), "10")
        r("FCALL", "outbox_settle", "2", stream, "u:{tg:set4}", ids[2], "11")
        self.assertEqual(r("HGET", "u:{tg:set4}", "od"), "11")

    def test_a_settle_in_order_moves_od_in_one_call_and_puts_it_right_otherwise(self):
        # library 19: HINCRBY od 1 where od is s - 1 (the rule), a second call
        # otherwise; the same od as HGET + compare + HSET gave (library 18).
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-incr"

        def settle(user, seq):
            eid = r("XADD", stream, "*", "t", "x")
            r("FCALL", "outbox_settle", "2", stream, "u:{%s}" % user, eid, seq)

        r("HSET", "u:{tg:inc1}", "ch", "telegram", "oq", "9", "od", "4")
        r("CONFIG", "RESETSTAT")
        settle("tg:inc1", "5")
        stats = r("INFO", "commandstats")
        self.assertEqual(r("HGET", "u:{tg:inc1}", "od"), "5")
        self.assertIn("cmdstat_hincrby:calls=1,", stats)
        self.assertNotIn("cmdstat_hget:", stats)   # library 18: HGET + HSET
        self.assertNotIn("cmdstat_hset:", stats)
        cases = [  # (od before or None, oq?, seq, od after or None)
            ("5", True, "9", "9"),     # behind by more than one: moved to s
            ("9", True, "7", "9"),     # past s: as it was
            ("9", True, "9", "9"),     # at s: as it was
            ("12", True, "100", "100"),  # compared as numbers
            ("100", True, "12", "100"),
            ("0", True, "1", "1"),     # the commit's od 0
            ("0", True, "3", "3"),
            (None, True, "1", "1"),    # a record of before library 13: no od
            (None, True, "4", "4"),
            (None, False, "1", None),  # no oq (made again since): left alone
            (None, False, "4", None),
            ("2.5", True, "7", "2.5"),  # not a whole number: compared as text, as before
        ]
        for i, (od, oq, seq, after) in enumerate(cases):
            with self.subTest(od=od, oq=oq, seq=seq):
                user = "tg:incc%d" % i
                fields = ["ch", "telegram"] + (["oq", "200"] if oq else ["seen", "1"]) + (["od", od] if od else [])
                r("HSET", "u:{%s}" % user, *fields)
                r("EXPIRE", "u:{%s}" % user, 500)
                settle(user, seq)
                self.assertEqual(r("HGET", "u:{%s}" % user, "od"), after)
                self.assertGreater(r("TTL", "u:{%s}" % user), 400)
        for seq in ("1", "4"):   # no record: none made
            settle("tg:incgone", seq)
            self.assertEqual(r("EXISTS", "u:{tg:incgone}"), 0)

    def test_seqs_past_the_kept_conversions_read_and_write_as_before(self):
        # library 24: seqs go between text and number through tables of the
        # conversions made lately (NUMS_KEPT = 4096 each, then started again):
        # past the tables' size, after they start again, and for texts that
        # are not as C writes them, od and oq come out as tonumber and
        # string.format made them (library 23). No behaviour changed: this
        # passes on 23 too, and fails with the tables' restart or a look-up
        # broken.
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-seqs"
        rec = "u:{tg:seqs}"
        r("HSET", rec, "ch", "telegram", "oq", "5000", "od", "0")
        last = 4400
        for seq in range(1, last + 1):
            eid = r("XADD", stream, "*", "t", "x")
            r("FCALL", "outbox_settle", "2", stream, rec, eid, str(seq))
        self.assertEqual(r("HGET", rec, "od"), str(last))
        for seq, od in (("5", str(last)), ("0%d" % (last + 1), str(last + 1)), (str(last + 3), str(last + 3)),
                        ("2", str(last + 3))):
            eid = r("XADD", stream, "*", "t", "x")
            r("FCALL", "outbox_settle", "2", stream, rec, eid, seq)
            self.assertEqual(r("HGET", rec, "od"), od, seq)
        # kept commits (i:) read oq and write the seqs, oq and od as text
        for i, oq in enumerate(("4403", "4403", "17", "4113", "4098", "1e3")):
            user = "tg:seqk%d" % i
            r("HSET", "u:{%s}" % user, "ch", "telegram", "oq", oq, "od", oq)
            reply = r("FCALL", "outbox_commit", "3", "dd:{%s}:e%d" % (user, i), "s:{%s}" % user, "u:{%s}" % user,
                      stream, "-5", "60", "lib-seqs", "1", "i:60", "k", "", "c", "", "u", "2", "a", "", "b", "")
            q = int(float(oq))
            self.assertEqual(reply[2], q)
            self.assertEqual(reply[4], "k")
            self.assertEqual(r("HMGET", "u:{%s}" % user, "oq", "od"), [str(q + 2), str(q + 1)])
            self.assertEqual(r("XRANGE", stream, reply[5], reply[5])[0][1][5], str(q + 2))

    def test_what_the_last_call_left_kept_is_not_reused_for_another(self):
        # library 24 keeps the kept reply's TTL of the last 'i:<ttl>' and the
        # renewal's due time of the last (now, renew): a commit of another TTL
        # and a load of another renew (the same now) are not answered from them.
        self.loaded()
        r, stream, t = self.redis, "outbox:telegram:lib-last", 1_800_000_000
        for i, ttl in enumerate(("60", "600", "60")):
            user = "tg:last%d" % i
            r("HSET", "u:{%s}" % user, "ch", "telegram", "oq", "3", "od", "3")
            r("FCALL", "outbox_commit", "3", "dd:{%s}:e" % user, "s:{%s}" % user, "u:{%s}" % user,
              stream, "-5", "60", "lib-last", "1", "i:" + ttl, "k", "", "c", "", "u", "1", "hi", "B")
            self.assertEqual(r("GET", "dd:{%s}:e:r" % user), "1:Bhi")
            self.assertTrue(int(ttl) - 5 < r("TTL", "dd:{%s}:e:r" % user) <= int(ttl), ttl)
        # seen 100 s back: due with renew 60, not with renew 3600 (the same now)
        for renew, renewed in (("60", True), ("3600", False), ("60", True)):
            user = "tg:lastd" + renew + str(renewed)
            r("DEL", "u:{%s}" % user)
            r("HSET", "u:{%s}" % user, "seen", str(t - 100))
            r("EXPIRE", "u:{%s}" % user, 50)
            shared = [str(-(4 * (t - 60) + 2)), str(t), "90000", "1000", "2000", renew]
            r("FCALL", "dialog_mark_idx", 2, "dd:{%s}" % user, "u:{%s}" % user, *shared,
              "1", str(-(4 * t + 2)), "e1", "", "1", "telegram", "c")
            self.assertEqual(r("TTL", "u:{%s}" % user) > 900, renewed, renew)

    def test_a_settle_with_a_minid_trims_below_it_and_deletes_the_others(self):
        # library 22: an odd number of arguments starts with the MINID; the
        # entries below it go by XTRIM (their ids sent as ""), the others by
        # XDEL, and every entry's od moves.
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-trim"
        ids = [r("XADD", stream, "*", "t", str(i)) for i in range(6)]
        for u in ("tr1", "tr2", "tr3"):
            r("HSET", "u:{tg:%s}" % u, "ch", "telegram", "oq", "9", "od", "0")
        r("CONFIG", "RESETSTAT")
        # 0, 1 settled below the MINID (ids[2], in flight), 4 above it
        self.assertEqual(r("FCALL", "outbox_settle", "4", stream, "u:{tg:tr1}", "u:{tg:tr2}", "u:{tg:tr3}",
                           ids[2], "", "1", "", "1", ids[4], "1"), 3)
        self.assertEqual([e[0] for e in r("XRANGE", stream, "-", "+")], [ids[2], ids[3], ids[5]])
        self.assertEqual([r("HGET", "u:{tg:%s}" % u, "od") for u in ("tr1", "tr2", "tr3")], ["1", "1", "1"])
        stats = r("INFO", "commandstats")
        self.assertIn("cmdstat_xtrim:calls=1,", stats)
        self.assertIn("cmdstat_xdel:calls=1,", stats)
        # all below it: no XDEL
        r("CONFIG", "RESETSTAT")
        self.assertEqual(r("FCALL", "outbox_settle", "3", stream, "", "", ids[5] + "1", "", "0", "", "0"), 2)
        self.assertEqual(r("XLEN", stream), 0)
        self.assertNotIn("cmdstat_xdel:", r("INFO", "commandstats"))
        # the layout of before (an even number): XDEL of each, as library 18
        r("XADD", stream, "*", "t", "x")
        before = r("XLEN", stream)
        last = r("XRANGE", stream, "-", "+")[-1][0]
        self.assertEqual(r("FCALL", "outbox_settle", "2", stream, "", last, "0"), 1)
        self.assertEqual(r("XLEN", stream), before - 1)

    # ----- dialog_load: a user's TTLs renewed at most every `renew` seconds

    def load(self, user, now, mode="1", event=None, chat=None):
        """dialog_load as src/dialog.c sends it (the shared arguments first:
        TTLs + renew: index 90 000, record and refs 1 000, session 2 000;
        renew 3 600; then the load's own); returns its reply."""
        event = event or "e%d" % now
        keys = ["dd:{%s}:%s" % (user, event), "dd:{%s}" % user, "u:{%s}" % user, "s:{%s}" % user,
                "refs:{%s}" % user]
        args = [str(-(4 * (now - 60) + 2)), str(now), "90000", "1000", "2000", "3600",
                "1" if mode != "0" else "0", str(-(4 * now + 1)), event, "", mode, "telegram", chat or user[3:]]
        return self.redis("FCALL", "dialog_load", len(keys), *keys, *args)

    def ttls(self, user):
        return [self.redis("TTL", k % user) for k in ("u:{%s}", "refs:{%s}", "dd:{%s}", "s:{%s}")]

    def shorten(self, user):
        for k in ("u:{%s}", "refs:{%s}", "dd:{%s}", "s:{%s}"):
            self.redis("EXPIRE", k % user, 50)

    def test_a_load_renews_a_users_ttls_when_the_record_is_new_or_an_hour_old(self):
        self.loaded()
        r, u, t = self.redis, "tg:ren1", 1_800_000_000
        r("SADD", "refs:{%s}" % u, "sub:X")         # made by a writer, and a session
        r("SET", "s:{%s}" % u, '{"mode":"x"}')
        self.assertEqual(self.load(u, t), [None, '{"mode":"x"}'])
        self.assertEqual(r("HGETALL", "u:{%s}" % u), ["ch", "telegram", "chat", "ren1", "seen", str(t)])
        ttls = self.ttls(u)
        self.assertTrue(990 < ttls[0] <= 1000 and 990 < ttls[1] <= 1000, ttls)
        self.assertTrue(89990 < ttls[2] <= 90000 and 1990 < ttls[3] <= 2000, ttls)
        self.shorten(u)
        self.load(u, t + 3599)                        # renewed less than an hour ago
        self.assertTrue(all(0 < x <= 50 for x in self.ttls(u)), self.ttls(u))
        self.assertEqual(r("HGET", "u:{%s}" % u, "seen"), str(t))
        self.load(u, t + 3600)                        # an hour: renewed
        self.assertTrue(all(x > 990 for x in self.ttls(u)), self.ttls(u))
        self.assertEqual(r("HGET", "u:{%s}" % u, "seen"), str(t + 3600))

    def test_a_load_that_cannot_rely_on_the_last_renewal_renews_and_leaves_the_record_due(self):
        self.loaded()
        r, u, t = self.redis, "tg:ren2", 1_800_000_000
        r("SADD", "refs:{%s}" % u, "sub:X")
        r("SET", "s:{%s}" % u, "{}")
        self.load(u, t)
        self.shorten(u)
        # mode 2 (an event without id, or a group chat): seen = now - renew
        self.load(u, t + 10, mode="2", chat="-100777")
        self.assertTrue(all(x > 990 for x in self.ttls(u)), self.ttls(u))
        self.assertEqual(r("HMGET", "u:{%s}" % u, "chat", "seen"), ["-100777", str(t + 10 - 3600)])
        self.shorten(u)
        self.load(u, t + 20)                           # the user's own chat again: due at once
        self.assertTrue(all(x > 990 for x in self.ttls(u)), self.ttls(u))
        self.assertEqual(r("HMGET", "u:{%s}" % u, "chat", "seen"), ["ren2", str(t + 20)])

    def test_records_of_the_version_before_read_the_same_and_a_page_load_stores_nothing(self):
        self.loaded()
        r, u, t = self.redis, "tg:ren3", 1_800_000_000
        # as the previous version left them: seen = its last message, TTLs set then
        r("HSET", "u:{%s}" % u, "ch", "telegram", "chat", "ren3", "seen", str(t))
        r("ZADD", "dd:{%s}" % u, 4 * t + 1, "e-old")
        for k in ("u:{%s}", "dd:{%s}"):
            r("EXPIRE", k % u, 50)
        self.assertEqual(self.load(u, t + 5, event="e-old"), ["1", None])  # its mark: a duplicate
        self.assertEqual(self.load(u, t + 6), [None, None])
        self.assertTrue(0 < r("TTL", "u:{%s}" % u) <= 50)
        r("HSET", "u:{%s}" % u, "seen", "soon")        # not a time: renewed
        self.load(u, t + 7)
        self.assertGreater(r("TTL", "u:{%s}" % u), 990)
        self.assertEqual(self.load("wc:ren4", t, mode="0"), [None, None])
        self.assertEqual(r("EXISTS", "u:{wc:ren4}", "dd:{wc:ren4}"), 0)

    def test_marks_with_two_keys_answer_and_write_as_with_five(self):
        # Library 23: dialog_mark_idx* get the index and the record alone and make the mark of
        # before (dd:{u}:<id>), the session and refs:{} from the index's name when they need
        # them: the same replies and the same keys, fields and TTLs as dialog_mark* with five.
        self.loaded()
        r, t = self.redis, 1_800_000_000
        shared = [str(-(4 * (t - 60) + 2)), str(t), "90000", "1000", "2000", "3600"]

        def own(u, event, score, trim="", mode="1"):
            return ["1", str(score), event, trim, mode, "telegram", u[3:]]

        def both(u, event, score, trim="", mode="1"):
            """the load by each function, on the user's copy a (five keys) and b (two)."""
            out = []
            for fn, v in (("dialog_mark_many_flat", "a"), ("dialog_mark_many_idx", "b")):
                w = u + v
                keys = ["dd:{%s}" % w, "u:{%s}" % w]
                if v == "a":
                    keys = ["dd:{%s}:%s" % (w, event)] + keys + ["s:{%s}" % w, "refs:{%s}" % w]
                out.append(self.flat("FCALL", fn, len(keys), *keys, *shared, *own(w, event, score, trim, mode)))
            return out

        def state(w):
            keys = ("u:{%s}", "refs:{%s}", "dd:{%s}", "s:{%s}")
            return ([r("TTL", k % w) for k in keys], r("HGETALL", "u:{%s}" % w),
                    r("ZRANGE", "dd:{%s}" % w, "0", "-1", "WITHSCORES"))

        for v in "ab":
            w = "tg:mk1" + v
            r("SADD", "refs:{%s}" % w, "sub:X")
            r("SET", "s:{%s}" % w, "{}")
            r("ZADD", "dd:{%s}" % w, str(t - 100), "old")          # a mark of before both schemes
            r("SET", "dd:{%s}:old" % w, "1")                        # done
            r("ZADD", "dd:{%s}" % w, str(-(4 * (t - 200_000))), "gone")   # to be trimmed
        inhand = -(4 * t + 2)
        cases = [("e1", inhand, "", "1"), ("e1", inhand, "", "1"), ("old", inhand, "", "1"),
                 ("e2", inhand, str(t - 90_000), "1"), ("e3", inhand, "", "2")]
        replies = []
        for event, score, trim, mode in cases:
            a, b = both("tg:mk1", event, score, trim, mode)
            self.assertEqual(a, b)
            replies.append(a)
            sa, sb = state("tg:mk1a"), state("tg:mk1b")
            self.assertEqual(sa[0], sb[0])
            self.assertEqual(sa[1][:4], ["ch", "telegram", "chat", "mk1a"])
            self.assertEqual(sb[1][:4], ["ch", "telegram", "chat", "mk1b"])
            self.assertEqual(sa[1][4:], sb[1][4:])
            self.assertEqual(sa[2], sb[2])
        self.assertEqual(replies, [[1, None], [1, "p"], [1, "1"], [1, None], [1, None]])
        self.assertTrue(all(x > 990 for x in state("tg:mk1b")[0]), state("tg:mk1b"))
        self.assertNotIn("gone", state("tg:mk1b")[2])
        out = self.flat("FCALL", "dialog_mark_idx", 2, "dd:{tg:mk1b}", "u:{tg:mk1b}", *shared,
                        *own("tg:mk1b", "e1", inhand))
        self.assertEqual(out, ["p"])

    def test_a_commit_writes_its_numbers_as_text_and_no_empty_reply_ref(self):
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-commit"
        r("HSET", "u:{tg:com1}", "ch", "telegram", "oq", "41", "od", "41", "oo", "w1")

        def commit(ref):
            keys = ["dd:{tg:com1}:e1", "s:{tg:com1}", "u:{tg:com1}"]
            args = [stream, "", "60", "w1", "1",
                    "0", "k", "", "com1", ref, "tg:com1", "2", "a", "", "b", "B\x1fmenu\x1e"]
            return r("FCALL", "outbox_commit", len(keys), *keys, *args)

        self.assertEqual(commit("")[:4], [1, 0, 41, 1])
        self.assertEqual(commit("m7")[:4], [1, 0, 43, 1])
        entries = [dict(zip(f[::2], f[1::2])) for _, f in r("XRANGE", stream, "-", "+")]
        self.assertEqual([(e["q"], e.get("r")) for e in entries], [("42", None), ("43", None), ("44", "m7"),
                                                                   ("45", "m7")])
        self.assertEqual(r("HGET", "u:{tg:com1}", "oq"), "45")

    def test_a_first_commit_writes_od_0_so_that_settles_read_od_alone(self):
        # od present means oq present (the settle reads od alone, library 13):
        # the commit that writes a record's first oq writes od "0" with it.
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-first"
        r("HSET", "u:{tg:fst1}", "ch", "telegram", "seen", "1")
        keys = ["dd:{tg:fst1}:e1", "s:{tg:fst1}", "u:{tg:fst1}"]
        args = [stream, "", "60", "w1", "1", "0", "k", "", "fst1", "", "tg:fst1", "2", "a", "", "b", ""]
        out = r("FCALL", "outbox_commit", len(keys), *keys, *args)
        self.assertEqual(out[:4], [1, 0, 0, 1])
        self.assertEqual(r("HMGET", "u:{tg:fst1}", "oq", "od", "oo"), ["2", "0", "w1"])
        r("FCALL", "outbox_settle", "2", stream, "u:{tg:fst1}", out[4], "1")
        self.assertEqual(r("HGET", "u:{tg:fst1}", "od"), "1")
        out = r("FCALL", "outbox_commit", len(keys), *keys, *args)   # oo is us: od not rewritten
        self.assertEqual(r("HMGET", "u:{tg:fst1}", "oq", "od"), ["4", "1"])
        r("FCALL", "outbox_settle", "2", stream, "u:{tg:fst1}", out[4], "3")
        self.assertEqual(r("HGET", "u:{tg:fst1}", "od"), "3")
        # a record of a version without oo keeps its od
        r("HSET", "u:{tg:fst2}", "ch", "telegram", "oq", "7", "od", "6")
        keys = ["dd:{tg:fst2}:e1", "s:{tg:fst2}", "u:{tg:fst2}"]
        args[8], args[10] = "fst2", "tg:fst2"
        self.assertEqual(r("FCALL", "outbox_commit", len(keys), *keys, *args)[:4], [1, 1, 7, 1])  # 6 < 7
        self.assertEqual(r("HMGET", "u:{tg:fst2}", "oq", "od", "oo"), ["9", "6", "w1"])

    def test_a_commit_whose_stream_fails_leaves_the_record_as_it_was(self):
        # oq is counted up (HINCRBY) before the XADDs: an XADD that fails takes
        # it back, so that a failed commit has written nothing (library 13).
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-badstream"
        r("SET", stream, "not a stream")
        r("HSET", "u:{tg:bad1}", "ch", "telegram", "oq", "5", "od", "5", "oo", "w1")
        r("HSET", "u:{tg:bad2}", "ch", "telegram", "seen", "1")
        r("ZADD", "dd:{tg:bad1}", "-7200000002", "e1")
        for u in ("bad1", "bad2"):
            keys = ["dd:{tg:%s}:e1" % u, "s:{tg:%s}" % u, "u:{tg:%s}" % u]
            args = [stream, "-7200000001", "60", "w1", "1", "1", "s", "{}", u, "", "tg:" + u, "2", "a", "", "b", ""]
            with self.assertRaises(RespError):
                r("FCALL", "outbox_commit", len(keys), *keys, *args)
        self.assertEqual(r("HGETALL", "u:{tg:bad1}"), ["ch", "telegram", "oq", "5", "od", "5", "oo", "w1"])
        self.assertEqual(r("HGETALL", "u:{tg:bad2}"), ["ch", "telegram", "seen", "1"])
        self.assertEqual(r("EXISTS", "s:{tg:bad1}", "s:{tg:bad2}"), 0)
        self.assertEqual(r("ZSCORE", "dd:{tg:bad1}", "e1"), "-7200000002")   # still in hand

    def test_a_commit_not_trusted_is_gated_while_earlier_replies_are_unsettled(self):
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-gate"

        def commit(trust, consumer="w1"):
            keys = ["dd:{tg:gat1}:e1", "s:{tg:gat1}", "u:{tg:gat1}"]
            args = [stream, "", "60", consumer, trust, "0", "k", "", "gat1", "", "tg:gat1", "1", "a", ""]
            return r("FCALL", "outbox_commit", len(keys), *keys, *args)[:4]

        r("HSET", "u:{tg:gat1}", "ch", "telegram", "oq", "10", "od", "9", "oo", "w1")
        self.assertEqual(commit("0"), [1, 1, 10, 1])          # 9 < 10: the tenth may be unsent
        self.assertEqual(commit("1", "w2"), [1, 1, 11, 1])    # another process committed last
        self.assertEqual(commit("1", "w2"), [1, 0, 12, 1])    # trusted, and it was us
        r("HSET", "u:{tg:gat1}", "od", "13")
        self.assertEqual(commit("0"), [1, 0, 13, 1])          # all settled ("13" < "9" as text)

    # ----- the *_flat functions: the calls of a group answered in one array

    def flat(self, *args):
        """FCALL with errors inside the reply kept as RespError values."""
        c = ErrorsKept(self.redis.sock)
        try:
            return c(*args)
        finally:
            c.close()

    def test_grouped_loads_and_commits_answer_flat_with_a_failed_one_in_its_place(self):
        self.loaded()
        r, t, stream = self.redis, 1_800_000_000, "outbox:telegram:lib-flat"

        def load_keys(u):
            return ["dd:{%s}:e1" % u, "dd:{%s}" % u, "u:{%s}" % u, "s:{%s}" % u, "refs:{%s}" % u]

        def load_own(u):
            return ["1", str(-(4 * t + 2)), "e1", "", "1", "telegram", u[3:]]

        r("SET", "s:{tg:fl1}", '{"a":1}')
        r("HSET", "s:{tg:fl2}", "not", "a-session")  # GET fails: wrong type
        users = ("tg:fl1", "tg:fl2", "tg:fl3")
        shared = [str(-(4 * (t - 60) + 2)), str(t), "90000", "1000", "2000", "3600"]
        out = self.flat("FCALL", "dialog_load_many_flat", 15, *[k for u in users for k in load_keys(u)],
                        *shared, *[a for u in users for a in load_own(u)])
        self.assertEqual(out[:3], [2, None, '{"a":1}'])
        self.assertIsInstance(out[3], RespError)
        self.assertEqual(out[4:], [2, None, None])

        # library 18: the same loads without the sessions (C reads them with one MGET)
        r("SET", "u:{tg:fm2}", "not a record")       # HGET seen fails: wrong type
        users = ("tg:fm1", "tg:fm2", "tg:fm3")
        out = self.flat("FCALL", "dialog_mark_many_flat", 15, *[k for u in users for k in load_keys(u)],
                        *shared, *[a for u in users for a in load_own(u)])
        self.assertEqual(out[:2], [1, None])
        self.assertIsInstance(out[2], RespError)
        self.assertEqual(out[3:], [1, None])
        out = self.flat("FCALL", "dialog_mark", 5, *load_keys("tg:fm1"), *shared, *load_own("tg:fm1"))
        self.assertEqual(out, ["p"])                   # marked by the call above: in hand
        self.assertEqual(r("HGET", "u:{tg:fm3}", "chat"), "fm3")

        r("HSET", "u:{tg:fl5}", "ch", "telegram", "oq", "4", "od", "4", "oo", "w1")
        r("SET", "u:{tg:fl6}", "not a record")       # HMGET fails: wrong type

        def commit(u, texts):
            keys = ["dd:{%s}:e1" % u, "s:{%s}" % u, "u:{%s}" % u]
            own = ["1", "s", "{}", u[3:], "", u, str(len(texts))] + [x for tx in texts for x in (tx, "")]
            return keys, [str(len(own))] + own

        calls = [commit("tg:fl5", ["a", "b"]), commit("tg:fl6", ["c"]), commit("tg:fl7", ["d"])]
        out = self.flat("FCALL", "outbox_commit_many_flat", 9, *[k for c in calls for k in c[0]], stream,
                        str(-(4 * t + 1)), "60", "w1", "1", *[a for c in calls for a in c[1]])
        self.assertEqual(out[:5], [6, 1, 0, 4, 1])             # 6 elements: 1, gated, q, has, 2 ids
        self.assertIsInstance(out[7], RespError)               # fl6 failed alone
        self.assertEqual(out[8:13], [5, 1, 0, 0, 0])           # fl7: no record, no seq
        self.assertEqual(len(out), 14)
        self.assertEqual([f[5] for _, f in r("XRANGE", stream, "-", "+")], ["5", "6", "0"])
        self.assertEqual(r("EXISTS", "s:{tg:fl6}"), 0)         # the failed one wrote nothing
        self.assertEqual(r("GET", "s:{tg:fl7}"), "{}")

    def test_a_grouped_commit_of_one_reply_writes_as_a_commit_alone(self):
        # Library 25: outbox_commit_many_flat takes a commit of one reply with dedupe 1 and no
        # reply_ref by commit_one; each case's copy a goes through outbox_commit (the general
        # path), copy b through the group, with the same arguments: the same reply (less the
        # id), record, session, mark and entry, or the same error and nothing written. No
        # behaviour changed: passes on library 24; fails with commit_one broken (e.g. the seq,
        # the gate, the take-back or the session op).
        self.loaded()
        r, t = self.redis, 1_800_000_000
        inhand, done = str(-(4 * t + 2)), str(-(4 * (t + 5) + 1))
        records = {
            "same": ["ch", "telegram", "oq", "7", "od", "7", "oo", "w1"],
            "behind": ["ch", "telegram", "oq", "7", "od", "5", "oo", "w1"],
            "other": ["ch", "telegram", "oq", "7", "od", "5", "oo", "w2"],
            "first": ["ch", "telegram"],
            "none": None,
            "oqonly": ["ch", "telegram", "oq", "0"],
        }
        cases = [(rec, op, trust, bad) for rec in records for op in ("k", "s", "d") for trust in ("1", "0")
                 for bad in (False,)] + [(rec, "s", "1", True) for rec in ("same", "first", "none")]
        for n, (rec, op, trust, bad) in enumerate(cases):
            with self.subTest(rec=rec, op=op, trust=trust, bad=bad):
                seen = []
                for v in "ab":
                    u = "tg:one%d%s" % (n, v)
                    stream = "outbox:telegram:lib-one%d%s" % (n, v)
                    if records[rec]:
                        r("HSET", "u:{%s}" % u, *records[rec])
                    r("SET", "s:{%s}" % u, "old")
                    r("ZADD", "dd:{%s}" % u, inhand, "e1")
                    if bad:
                        r("SET", stream, "not a stream")
                    keys = ["dd:{%s}:e1" % u, "s:{%s}" % u, "u:{%s}" % u]
                    shared = [stream, done, "60", "w1", trust]
                    own = ["1", op, "{\"v\":1}" if op == "s" else "", "chat9", "", "tg:one", "1", "hi", "B"]
                    if v == "a":
                        out = self.flat("FCALL", "outbox_commit", 3, *keys, *shared, *own)
                    else:
                        out = self.flat("FCALL", "outbox_commit_many_flat", 3, *keys, *shared, str(len(own)), *own)
                        out = out if isinstance(out[0], RespError) else out[1:]
                    if isinstance(out, RespError) or isinstance(out[0], RespError):
                        reply, entry = "error", None
                    else:
                        reply, entry = out[:4], r("XRANGE", stream, "-", "+")[0][1]
                    seen.append((reply, entry, r("HGETALL", "u:{%s}" % u), r("GET", "s:{%s}" % u),
                                 r("TTL", "s:{%s}" % u) > 0, r("ZRANGE", "dd:{%s}" % u, 0, -1, "WITHSCORES")))
                self.assertEqual(seen[0], seen[1])
                self.assertEqual(seen[0][0] == "error", bad)

    def test_grouped_commits_that_fail_after_their_first_elements_leave_one_error_each(self):
        # Library 17 writes each commit's elements into the flat reply in place; a commit whose
        # XADD fails (the stream key of another type) has written its first four by then: they
        # must go, or the reply carries them after the errors.
        self.loaded()
        r, t, stream = self.redis, 1_800_000_000, "outbox:telegram:lib-flat-bad"
        r("SET", stream, "not a stream")
        r("HSET", "u:{tg:fb1}", "ch", "telegram", "oq", "4", "od", "4", "oo", "w1")
        r("HSET", "u:{tg:fb3}", "ch", "telegram", "oq", "5", "od", "4", "oo", "w1")  # i: streams it

        def commit(u, dedupe, texts):
            keys = ["dd:{%s}:e1" % u, "s:{%s}" % u, "u:{%s}" % u]
            own = [dedupe, "s", "{}", u[3:], "", u, str(len(texts))] + [x for tx in texts for x in (tx, "")]
            return keys, [str(len(own))] + own

        calls = [commit("tg:fb1", "1", ["a", "b"]), commit("tg:fb2", "1", ["c"]),
                 commit("tg:fb3", "i:60", ["d"])]
        out = self.flat("FCALL", "outbox_commit_many_flat", 9, *[k for c in calls for k in c[0]], stream,
                        str(-(4 * t + 1)), "60", "w1", "1", *[a for c in calls for a in c[1]])
        self.assertEqual(len(out), 3)
        for e in out:
            self.assertIsInstance(e, RespError)
        self.assertEqual(r("HMGET", "u:{tg:fb1}", "oq", "od", "oo"), ["4", "4", "w1"])
        self.assertEqual(r("HMGET", "u:{tg:fb3}", "oq", "od"), ["5", "4"])
        self.assertEqual(r("EXISTS", "s:{tg:fb1}", "s:{tg:fb2}", "s:{tg:fb3}", "dd:{tg:fb3}:e1:r"), 0)

    def test_grouped_commits_of_any_number_of_replies_count_them_right(self):
        # Library 20 reads a commit's own-argument count and writes its HINCRBY's count from
        # tables made for up to 16 replies, and computes the others as before: commits of 1,
        # 16, 17 and 20 replies, and commits of 17 whose stream fails (the count taken back).
        self.loaded()
        r, t, stream = self.redis, 1_800_000_000, "outbox:telegram:lib-flat-many"
        sizes = {"tg:fm1": 1, "tg:fm2": 16, "tg:fm3": 17, "tg:fm4": 20}
        for u in sizes:
            r("HSET", "u:{%s}" % u, "ch", "telegram", "oq", "5", "od", "5", "oo", "w1")

        def commit(u, n):
            keys = ["dd:{%s}:e1" % u, "s:{%s}" % u, "u:{%s}" % u]
            own = ["1", "k", "", u[3:], "", u, str(n)] + [x for i in range(n) for x in ("t%d" % i, "")]
            return keys, [str(len(own))] + own

        def commit_all(stream, calls):
            return self.flat("FCALL", "outbox_commit_many_flat", 3 * len(calls),
                             *[k for c in calls for k in c[0]], stream, str(-(4 * t + 1)), "60", "w1", "1",
                             *[a for c in calls for a in c[1]])

        out = commit_all(stream, [commit(u, n) for u, n in sizes.items()])
        at = 0
        for u, n in sizes.items():
            self.assertEqual(out[at:at + 5], [4 + n, 1, 0, 5, 1])
            self.assertEqual(len(out[at + 5:at + 5 + n]), n)
            at += 5 + n
            self.assertEqual(r("HGET", "u:{%s}" % u, "oq"), str(5 + n))
        self.assertEqual(at, len(out))
        seqs = [dict(zip(f[::2], f[1::2]))["q"] for _, f in r("XRANGE", stream, "-", "+")]
        self.assertEqual(seqs, [str(q) for n in sizes.values() for q in range(6, 6 + n)])
        bad = "outbox:telegram:lib-flat-many-bad"
        r("SET", bad, "not a stream")
        out = commit_all(bad, [commit("tg:fm3", 17), commit("tg:fm5", 17), commit("tg:fm1", 1)])
        self.assertEqual(len(out), 3)
        for e in out:
            self.assertIsInstance(e, RespError)
        self.assertEqual(r("HGET", "u:{tg:fm3}", "oq"), "22")
        self.assertEqual(r("HGET", "u:{tg:fm1}", "oq"), "6")

    def test_a_kept_commit_whose_stream_fails_leaves_no_kept_reply(self):
        # An inline (i:) commit of two replies keeps the first (<mark>:r) and streams the second:
        # when that XADD fails (the stream key of another type) the commit fails, the event is
        # handled again, so nothing of it may stay, the kept reply included (library 18).
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-keptbad"
        r("SET", stream, "not a stream")
        r("HSET", "u:{tg:kb1}", "ch", "telegram", "oq", "4", "od", "4", "oo", "w1")  # settled: keeps
        r("ZADD", "dd:{tg:kb1}", "-7200000002", "e1")
        keys = ["dd:{tg:kb1}:e1", "s:{tg:kb1}", "u:{tg:kb1}"]
        args = [stream, "-7200000001", "60", "w1", "1", "i:60", "s", "{}", "kb1", "", "tg:kb1", "2",
                "a", "", "b", ""]
        with self.assertRaises(RespError):
            r("FCALL", "outbox_commit", len(keys), *keys, *args)
        self.assertEqual(r("EXISTS", "dd:{tg:kb1}:e1:r", "s:{tg:kb1}"), 0)
        self.assertEqual(r("HGETALL", "u:{tg:kb1}"), ["ch", "telegram", "oq", "4", "od", "4", "oo", "w1"])
        self.assertEqual(r("ZSCORE", "dd:{tg:kb1}", "e1"), "-7200000002")   # still in hand
        # grouped: one error each, nothing kept
        r("HSET", "u:{tg:kb2}", "ch", "telegram", "oq", "1", "od", "1", "oo", "w1")

        def commit(u):
            own = ["i:60", "s", "{}", u[3:], "", u, "2", "a", "", "b", ""]
            return ["dd:{%s}:e1" % u, "s:{%s}" % u, "u:{%s}" % u], [str(len(own))] + own

        calls = [commit("tg:kb1"), commit("tg:kb2")]
        out = self.flat("FCALL", "outbox_commit_many_flat", 6, *[k for c in calls for k in c[0]], stream,
                        "-7200000001", "60", "w1", "1", *[a for c in calls for a in c[1]])
        self.assertIsInstance(out[0], RespError)
        self.assertEqual(r("EXISTS", "dd:{tg:kb1}:e1:r"), 0)
        self.assertIsInstance(out[1], RespError)
        self.assertEqual(r("EXISTS", "dd:{tg:kb2}:e1:r"), 0)   # the same stream: failed too

    # ----- a rolling upgrade: an old process calls this library (loaded by a
    # new one) with the layouts of the version before

    def test_loads_in_the_layout_of_the_version_before_work_the_same(self):
        self.loaded()
        r, t = self.redis, 1_800_000_000

        def old(user, event, now, mode="1"):
            keys = ["dd:{%s}:%s" % (user, event), "dd:{%s}" % user, "u:{%s}" % user, "s:{%s}" % user,
                    "refs:{%s}" % user]
            return keys, ["1", str(4 * now + 2), str(4 * (now - 60) + 2), str(now - (3600 if mode == "2" else 0)),
                          event, "", "90000", mode, "telegram", user[3:], "1000", "2000", "3600"]

        r("SET", "s:{tg:old1}", '{"mode":"x"}')
        keys, args = old("tg:old1", "e1", t)
        self.assertEqual(r("FCALL", "dialog_load", 5, *keys, *args), [None, '{"mode":"x"}'])
        self.assertEqual(r("FCALL", "dialog_load", 5, *keys, *args), ["p", '{"mode":"x"}'])  # in hand
        self.assertEqual(r("ZSCORE", "dd:{tg:old1}", "e1"), str(4 * t + 2))
        self.assertEqual(r("HMGET", "u:{tg:old1}", "chat", "seen"), ["old1", str(t)])
        self.assertGreater(r("TTL", "u:{tg:old1}"), 990)
        k1, a1 = old("tg:old2", "e2", t + 1, mode="2")
        k2, a2 = old("tg:old1", "e3", t + 1)
        self.assertEqual(r("FCALL", "dialog_load_many", 10, *k1, *k2, *a1, *a2),
                         [[None, None], [None, '{"mode":"x"}']])
        self.assertEqual(r("HGET", "u:{tg:old2}", "seen"), str(t + 1 - 3600))  # mode 2: due again

    def test_commits_in_the_layout_of_the_version_before_work_the_same(self):
        self.loaded()
        r, stream = self.redis, "outbox:telegram:lib-old"
        for u in ("old3", "old4"):
            r("HSET", "u:{tg:%s}" % u, "ch", "telegram", "oq", "7", "od", "7", "oo", "w1")
            r("ZADD", "dd:{tg:%s}" % u, 4 * 1_800_000_000 + 2, "e1")

        def old(u, n):
            keys = ["dd:{tg:%s}:e1" % u, "s:{tg:%s}" % u, "u:{tg:%s}" % u, stream]
            args = ["1", str(4 * 1_800_000_000 + 1), "s", '{"n":%d}' % n, "60", "w1", "1", u, "", "tg:" + u,
                    str(n)] + [x for i in range(n) for x in ("%s %d" % (u, i), "")]
            return keys, args

        keys, args = old("old3", 1)
        self.assertEqual(r("FCALL", "outbox_commit", 4, *keys, *args)[:4], [1, 0, 7, 1])
        k1, a1 = old("old3", 2)
        k2, a2 = old("old4", 1)
        out = r("FCALL", "outbox_commit_many", 8, *k1, *k2, str(len(a1)), *a1, str(len(a2)), *a2)
        self.assertEqual([x[:4] for x in out], [[1, 0, 8, 1], [1, 0, 7, 1]])
        entries = [dict(zip(f[::2], f[1::2])) for _, f in r("XRANGE", stream, "-", "+")]
        self.assertEqual([(e["u"], e["q"], e["t"]) for e in entries],
                         [("tg:old3", "8", "old3 0"), ("tg:old3", "9", "old3 0"), ("tg:old3", "10", "old3 1"),
                          ("tg:old4", "8", "old4 0")])
        self.assertEqual(r("HMGET", "u:{tg:old3}", "oq", "oo"), ["10", "w1"])
        self.assertEqual(r("GET", "s:{tg:old3}"), '{"n":2}')
        self.assertEqual(r("ZSCORE", "dd:{tg:old4}", "e1"), str(4 * 1_800_000_000 + 1))  # done


class LibraryVersionTest(unittest.TestCase):
    """A process loads its library only when Redis holds none, one without a
    version (the releases before the check), or one of a version up to its
    own: an old process reconnecting during a rolling upgrade does not put
    its library back over the newer one (src/redis_library.c)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-libv-")
        self.redis = Redis.start(self.tmp)
        self.tg = TelegramStub.start()
        self.bot = None
        with open(LIBRARY, encoding="utf-8") as f:
            self.source = f.read()
        self.ours = int(VERSION_LINE.search(self.source).group(1))

    def tearDown(self):
        try:
            if self.bot:
                self.bot.stop()
        finally:
            self.tg.stop()
            self.redis.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def release(self, version):
        """Our library as another release would have it: its version line
        says `version` (None: no version, as before the check), and it has a
        function of its own (from_release_<version>)."""
        text = VERSION_LINE.sub("local LIBRARY_VERSION = %d" % (version or 0), self.source)
        if version is None:
            text = re.sub(r"\nredis\.register_function\{function_name = 'library_version'.*?\}\}?\n", "\n",
                          text, flags=re.S)
            self.assertNotIn("'library_version'", text)
        name = "from_release_%s" % version
        return text + "\nredis.register_function('%s', function() return 1 end)\n" % name, name

    def functions(self):
        lib = self.redis("FUNCTION", "LIST", "LIBRARYNAME", "dvcbot")[0]
        lib = dict(zip(lib[::2], lib[1::2]))
        return {dict(zip(f[::2], f[1::2]))["name"] for f in lib["functions"]}

    def start_with(self, version):
        text, name = self.release(version)
        self.assertEqual(self.redis("FUNCTION", "LOAD", "REPLACE", text), "dvcbot")
        self.bot = Dvcbot.start(self.tmp, self.redis, telegram=self.tg)
        return name

    def assert_answers(self, user):
        status, _, _ = self.bot.telegram(tg_message(user, user, "xin chao"))
        self.assertEqual(status, 200)
        wait_until(lambda: self.tg.sent_to(user), what="the reply")

    def test_a_newer_library_in_redis_is_kept(self):
        newer = self.start_with(self.ours + 1)
        self.assertIn(newer, self.functions())
        self.assertEqual(self.redis("FCALL", "library_version", "0"), self.ours + 1)
        self.assertIn("redis holds a newer function library: kept", self.bot.read_log())
        self.assert_answers(7390000001)   # the newer library serves this process
        self.redis("CLIENT", "KILL", "TYPE", "normal")   # a reconnect: still kept
        wait_until(lambda: self.bot.read_log().count("redis holds a newer function library") >= 2,
                   what="the second connection")
        wait_until(self.bot.redis_up, what="connected again")
        self.assertIn(newer, self.functions())

    def test_an_older_library_is_replaced(self):
        older = self.start_with(self.ours - 1)
        self.assertNotIn(older, self.functions())
        self.assertEqual(self.redis("FCALL", "library_version", "0"), self.ours)
        self.assert_answers(7390000002)

    def test_a_library_from_before_versions_is_replaced(self):
        before = self.start_with(None)
        self.assertNotIn(before, self.functions())
        self.assertEqual(self.redis("FCALL", "library_version", "0"), self.ours)

    def test_dvcbot_import_keeps_a_newer_library_and_replaces_an_older_one(self):
        for version, kept in ((self.ours + 1, True), (self.ours - 1, False)):
            text, name = self.release(version)
            self.redis("FUNCTION", "LOAD", "REPLACE", text)
            proc = run_cli(["import", "-"], {"REDIS_URL": self.redis.url}, input=b"[]")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(name in self.functions(), kept, version)

    def test_the_same_version_is_loaded_again(self):
        same = self.start_with(self.ours)
        self.assertNotIn(same, self.functions())
