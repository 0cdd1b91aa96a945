"""End-to-end test harness: a real redis-server, local API stubs and the real
dvcbot binary, all on 127.0.0.1. Python standard library only.

    redis = Redis.start(tmpdir)         # redis-server on a unix socket
    tg = TelegramStub.start()           # fake https://api.telegram.org
    zl = ZaloStub.start()               # fake openapi.zalo.me + oauth.zaloapp.com
    bot = Dvcbot.start(tmpdir, redis, telegram=tg, zalo=zl)
    status, headers, body = bot.request("GET", "/healthz")
    bot.stop()                          # SIGTERM, must exit 0 and log cleanly

DVCBOT_BIN (set by tests/run_suite.py) names the binary; DVCBOT_WRAP a command
prefix such as valgrind.

This module holds ServiceTest (one Redis, stubs and dvcbot per test class) and
test data helpers; it is also the one import of the test files, naming what
the harness modules define:
    basics.py        paths, tokens, SLOW, wait_until, free_port
    redisproc.py     Redis (redis-server) and its RESP client
    stubs.py         Telegram/Zalo/HTTP stubs; Telegram updates, Zalo events
    botproc.py       Dvcbot (`dvcbot serve`), run_cli, advance_clocks
    conversation.py  Chat, delivery counters (settle), flow readiness checks
"""
import datetime
import re
import shutil
import tempfile
import time
import unittest

from basics import (ADMIN_TOKEN, BIN, ROOT, SLOW, TG_SECRET, TG_TOKEN, WRAP, ZL_APP_ID,  # noqa: F401
                    ZL_APP_SECRET, ZL_MARK, ZL_MORE_BUTTONS, ZL_OA_ID, ZL_OA_SECRET, free_port, rss_kb,
                    wait_until)
from botproc import Dvcbot, advance_clocks, run_cli  # noqa: F401
from conversation import (Chat, delivered, delivery_mark, payloads, settle,  # noqa: F401
                          start_flow_past_checks, texts)
from redisproc import Redis, RedisClient, RespError  # noqa: F401
from stubs import (StubServer, TelegramStub, ZaloStub, buttons_of, tg_callback, tg_message,  # noqa: F401
                   zl_button, zl_buttons, zl_event, zl_now, zl_sign, zl_text)


VN = datetime.timezone(datetime.timedelta(hours=7))  # Vietnam time


def fee_in_force(proc, now):
    """fee_text of the first of proc's fee_periods whose last day (Vietnam
    time) has not ended at unix time now, else the lasting one."""
    today = datetime.datetime.fromtimestamp(now, VN).date().isoformat()
    for period in proc.get("fee_periods", []):
        if today <= period["until"]:
            return period["fee_text"]
    return proc["fee_text"]


def seed_user(redis, user_key, chat=None, seen=None, **fields):
    """Writes a user record u:{<user key>} the way the core does (ch, chat, seen),
    plus extra fields such as commune."""
    prefix, _, ident = user_key.partition(":")
    ch = {"tg": "telegram", "zl": "zalo", "wc": "webchat"}[prefix]
    args = ["ch", ch, "chat", chat if chat is not None else ident,
            "seen", int(time.time()) if seen is None else seen]
    for name, value in fields.items():
        args += [name, value]
    redis("HSET", "u:{%s}" % user_key, *args)


class ServiceTest(unittest.TestCase):
    """Starts redis, a Telegram stub (a Zalo stub with zalo = True) and dvcbot
    once per test class."""
    telegram = True
    zalo = False
    extra_env = None
    clock_offset = 0  # seconds dvcbot's clock starts ahead (Dvcbot.start)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dvcbot-e2e-")
        cls.redis = Redis.start(cls.tmp)
        cls.tg = TelegramStub.start() if cls.telegram else None
        cls.zl = ZaloStub.start() if cls.zalo else None
        cls.bot = Dvcbot.start(cls.tmp, cls.redis, telegram=cls.tg, env=cls.extra_env, zalo=cls.zl,
                               clock_offset=cls.clock_offset)
        cls._next_id = 100000

    @classmethod
    def tearDownClass(cls):
        try:
            log = cls.bot.stop()
            unmasked = re.findall(r"\d{9,}", log)
            if unmasked:
                raise AssertionError(f"log holds unmasked long numbers: {unmasked[:5]}")
        finally:
            if cls.tg:
                cls.tg.stop()
            if cls.zl:
                cls.zl.stop()
            cls.redis.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def next_id(cls):
        cls._next_id += 1
        return cls._next_id

    def new_user(self):
        """A Telegram user id long enough (10 digits) to test log masking."""
        return 7000000000 + self.next_id()

    def new_zalo_user(self):
        """A Zalo user id: a long numeric string (19 digits)."""
        return str(5400000000000000000 + self.next_id())
