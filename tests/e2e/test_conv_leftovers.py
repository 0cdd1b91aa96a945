"""Conversation leftovers of session 9 (conv10): each test is one exchange a
tester found wrong, the reply it got in its comment. Real dvcbot, real Redis,
the web chat and the Telegram stub."""
import json
import os
import shutil
import tempfile

from console_client import Console
from flowwalk import walk
from harness import ADMIN_TOKEN, ROOT, Chat, ServiceTest, payloads, start_flow_past_checks, texts

MENU = "Anh/chị cần làm gì? Chọn một mục hoặc gõ câu hỏi."


class MenuOutsideAFlowTest(ServiceTest):

    def test_menu_typed_outside_a_flow_gives_the_short_menu(self):
        # Outside a flow "/menu" got the greeting ("Xin chào! Tôi là trợ lý
        # ..."), three lines longer than the menu the "Menu chính" button gives.
        for channel in ("webchat", "telegram"):
            for how in ("/menu", "menu", "Menu", "về menu chính"):
                chat = Chat(self, channel)
                chat.say("đăng ký khai sinh")
                r = chat.say(how)
                self.assertEqual(texts(r), MENU, (channel, how))
                self.assertEqual(payloads(r), payloads(chat.press("menu")), (channel, how))
        chat = Chat(self)                                    # a first message too
        self.assertEqual(texts(chat.say("/menu")), MENU)
        self.assertIn("Xin chào", texts(chat.say("/start")))  # /start still greets

    def test_menu_typed_with_a_flow_paused_gives_the_menu_not_the_flow(self):
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Văn An")
        chat.press("menu")                                   # paused
        r = chat.say("/menu")
        self.assertEqual(texts(r), MENU)
        s = json.loads(self.redis("GET", "s:{%s}" % chat.key))
        self.assertEqual(s["flow"]["a"]["ho_ten_tre"], "Lò Văn An")  # kept to go on with
        self.assertIn("Anh/chị đang làm dở", texts(chat.say("/start")))


class VolunteerSetAsideStatsTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def counts(self, proc="khai_sinh"):
        status, body = self.bot.admin_json("GET", "/admin/stats")
        self.assertEqual(status, 200)
        f = body["flows"].get(proc, {})
        return (f.get("started", 0), f.get("finished", 0), f.get("abandoned", 0),
                body["flows_in_progress"])

    def since(self, base):
        return tuple(n - b for n, b in zip(self.counts(), base))

    def assisting_with_own_flow_aside(self):
        """A volunteer at "Trẻ sinh ngày nào?" of their own flow sets it aside
        and runs a resident's flow to its end."""
        vol = Chat(self)
        console = Console(self.bot)
        console.sign_in(ADMIN_TOKEN)
        status, _ = console.call("POST", "volunteers", {"user": vol.key, "commune": "Chiềng Cơi"})
        self.assertEqual(status, 200)
        start_flow_past_checks(vol, "khai_sinh")
        self.assertIn("Trẻ sinh ngày nào", vol.say("Lò Văn An")[-1]["text"])
        vol.say("/hotro")
        vol.press("vol:start")
        vol.say("1")                                            # the volunteer's commune
        walk(vol, "tam_tru", code="000.00.12.H50-261120-0501")
        return vol

    def test_a_set_aside_flow_taken_up_again_counts_once(self):
        base = self.counts()
        vol = self.assisting_with_own_flow_aside()
        r = vol.press("vol:end")
        self.assertIn("Việc anh/chị đang làm dở: Đăng ký khai sinh", r[0]["text"])
        self.assertEqual(self.since(base), (1, 0, 0, 1))        # in progress again
        walk(vol, "khai_sinh", replies=vol.press("f:resume"))
        self.assertEqual(self.since(base), (1, 1, 0, 0))        # finished, never abandoned

    def test_a_set_aside_flow_left_to_expire_counts_abandoned(self):
        # A volunteer set their own flow aside to assist and never took it up
        # again: /admin/stats counted it neither finished nor abandoned (the
        # resident's flow took its place among the flows in progress), so the
        # idle sweep never saw it.
        base = self.counts()
        vol = self.assisting_with_own_flow_aside()
        self.bot.advance_clock(86400 + 120)                     # past DVCBOT_FLOW_IDLE: swept
        self.assertEqual(self.since(base), (1, 0, 1, 0))
        r = vol.press("vol:end")                                # told, never offered back
        self.assertIn("Hướng dẫn Đăng ký khai sinh đã hết hạn", r[0]["text"])
        self.assertNotIn("f:resume", payloads(r))
        self.assertIn("Đã kết thúc chế độ hỗ trợ", texts(r))
        s = json.loads(self.redis("GET", "s:{%s}" % vol.key))
        self.assertNotIn("fh", s)
        self.assertEqual(self.since(base), (1, 0, 1, 0))        # counted once


class AssistingJourney(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def assisting(self):
        """A volunteer assisting a resident of their commune, Chiềng Cơi."""
        vol = Chat(self)
        console = Console(self.bot)
        console.sign_in(ADMIN_TOKEN)
        status, _ = console.call("POST", "volunteers", {"user": vol.key, "commune": "Chiềng Cơi"})
        self.assertEqual(status, 200)
        vol.say("/hotro")
        self.assertIn("Đang hỗ trợ người dân", texts(vol.say("1")))
        return vol


class VolunteerAssistWordsTest(AssistingJourney):

    def test_the_vneid_level_2_screen_speaks_of_the_resident(self):
        # Assisting, "Chưa có" at "Người dân đã có tài khoản VNeID mức 2 chưa?"
        # told the volunteer "Số điện thoại nên đứng tên chính mình".
        vol = self.assisting()
        r = vol.press("flow:tam_tru")
        self.assertIn("Người dân đã có tài khoản VNeID mức 2", r[-1]["text"])
        r = vol.press("f:no:0")
        self.assertIn("Làm tài khoản VNeID mức 2 cho người dân", texts(r))
        self.assertIn("đứng tên chính người dân", texts(r))
        self.assertNotIn("chính mình", texts(r))
        self.assertIn("r:help_vneid_kich_hoat", payloads(r))
        r = vol.press("r:help_vneid_muc2")                        # the screen's own button
        self.assertIn("đứng tên chính người dân", texts(r))
        resident = Chat(self)                                     # on their own: as before
        r = resident.press("r:help_vneid_muc2")
        self.assertIn("Số điện thoại nên đứng tên chính mình", texts(r))

    def test_own_house_is_the_residents(self):
        # Assisting at "Nhà đăng ký" of thường trú: the option read "Nhà của
        # mình", the volunteer's house.
        vol = self.assisting()
        r, _ = start_flow_past_checks(vol, "thuong_tru")
        self.assertIn("Người dân đăng ký thường trú vào nhà nào?", r[-1]["text"])
        labels = [label for label, _ in r[-1]["buttons"]]
        self.assertIn("Nhà của chính người dân", labels)
        self.assertNotIn("Nhà của mình", labels)
        r = vol.press("f:opt:2:0")
        s = json.loads(self.redis("GET", "s:{%s}" % vol.key))
        self.assertEqual(s["flow"]["a"]["truong_hop"], "Nhà của mình")   # the answer is the option
        resident = Chat(self)                                             # on their own: as before
        r, _ = start_flow_past_checks(resident, "thuong_tru")
        self.assertIn("Nhà của mình", [label for label, _ in r[-1]["buttons"]])


class VolunteerFlatListTest(AssistingJourney):
    """Data without topics (no intents/_groups.json): the procedure menu is
    one flat list."""

    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.mkdtemp(prefix="dvcbot-flat-")
        os.mkdir(os.path.join(cls.data, "intents"))
        for name in os.listdir(os.path.join(ROOT, "intents")):
            if name != "_groups.json":
                os.symlink(os.path.join(ROOT, "intents", name), os.path.join(cls.data, "intents", name))
        for name in ("templates", "redis"):
            os.symlink(os.path.join(ROOT, name), os.path.join(cls.data, name))
        cls.extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_DATA_DIR": cls.data}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.data, ignore_errors=True)

    def test_the_flat_procedure_list_speaks_of_the_resident(self):
        # Assisting, "Thủ tục" without topics read "Chọn thủ tục anh/chị cần".
        vol = self.assisting()
        r = vol.press("menu:thu_tuc")
        self.assertIn("Chọn thủ tục người dân cần (1/", r[0]["text"])
        self.assertNotIn("anh/chị", texts(r))
        self.assertIn("i:khai_sinh", payloads(r))
        resident = Chat(self)                                     # on their own: as before
        r = resident.press("menu:thu_tuc")
        self.assertIn("Chọn thủ tục anh/chị cần (1/", r[0]["text"])
        self.assertEqual(payloads(r), payloads(vol.press("menu:thu_tuc")))
