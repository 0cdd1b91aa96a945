"""Erasure at the commune desk: a resident asks an officer to erase their
data. The chat gives a one-time code (button "Xóa tại bộ phận một cửa" under
the erase confirmation), the resident reads it out, the officer types it in
the console (POST /admin/ui/erase) and the erasure runs as the resident's
own "Xóa hết": the same path, the same keys gone, "Đã xóa" in their chat.
Real Redis, the real binary, the console over loopback HTTP."""
import hashlib
import json
import re

from console_client import SCOPED_COMMUNE, SCOPED_TOKEN, TOKENS, Console, console_error_vi
from harness import ADMIN_TOKEN, Chat, ServiceTest, wait_until
from test_dossiers import ndjson, record
from test_identity import follow_and_comment, holding

CODE_RE = re.compile(r"Mã xóa dữ liệu của anh/chị: (\d{6})")


def key_id(user_key):
    return hashlib.sha256(user_key.encode()).hexdigest()[:12]


class DeskErasureTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": TOKENS, "DVCBOT_CONSOLE_LOGIN_LIMIT": "5",
                 "DVCBOT_TRUSTED_PROXIES": "127.0.0.1"}
    DOSSIER = "DSK.00.00.H50-000000-0001"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, _, body = cls.bot.admin("POST", "/admin/dossiers", ndjson([record(cls.DOSSIER)]))
        assert status == 200, body

    def setUp(self):
        stale = self.redis("KEYS", "ec:fail:*")  # wrong tries of an earlier test, same token
        if stale:
            self.redis("DEL", *stale)

    def resident(self):
        """A resident with data in shared structures too (a dossier followed, a comment)."""
        return follow_and_comment(self, self.DOSSIER)

    def code_of(self, chat):
        r = chat.say("xóa dữ liệu của tôi")
        self.assertIn(("Xóa tại bộ phận một cửa", "erase:desk"), r[-1]["buttons"])
        r = chat.press("erase:desk")
        m = CODE_RE.search(r[-1]["text"])
        self.assertTrue(m, r)
        self.assertEqual([p for _, p in r[-1]["buttons"]], ["erase:desk", "erase:no"])
        return m.group(1)

    def erased(self, answer):
        """The body of a 200 to POST erase: what was erased, as the console shows it."""
        status, body = answer
        self.assertEqual(status, 200, body)
        self.assertIs(body["erased"], True)
        return body

    def officer(self):
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        return c

    def kinds(self, user_key):
        """What is held about a user, by key kind (the tag's user removed)."""
        return sorted(re.sub(r"\{[^}]*\}", "{}", k).split(":")[0] + ":" for k in holding(self.redis, user_key))

    def test_a_code_read_at_the_desk_erases_what_erase_my_data_erases_and_nobody_else(self):
        by_chat, at_desk, bystander = self.resident(), self.resident(), self.resident()
        self.code_of(by_chat)                       # a code left unused: erase-my-data takes it too
        code = self.code_of(at_desk)
        self.assertEqual(self.kinds(by_chat.key), self.kinds(at_desk.key))
        kept = {k: self.redis("DUMP", k) for k in holding(self.redis, bystander.key)
                if "{%s}" % bystander.key in k}
        # the resident erases by chat; the other reads the code at the desk
        done_by_chat = by_chat.press("erase:yes")
        said = self.erased(self.officer().call("POST", "erase", {"code": code[:3] + " " + code[3:]}))
        # erase_done in the resident's own chat (the web chat's inbox)
        done_at_desk = self.bot.inbox(at_desk.user)
        # the officer is told what the resident's chat says was erased, in figures and kinds
        text = done_at_desk[0]["text"]
        self.assertEqual(said["items"], int(re.search(r"Đã xóa (\d+) mục", text).group(1)))
        self.assertEqual(said["lists"], int(re.search(r"khỏi (\d+) danh sách", text).group(1)))
        self.assertGreaterEqual(said["lists"], 2)        # the dossier followed, the comment
        self.assertEqual(len(said["kinds"]), text.count("\n• ") - 1)   # a line a kind, and the lists' line
        self.assertTrue({"s", "u", "fb", "refs"} <= set(said["kinds"]), said)
        self.assertEqual(sorted(said), ["erased", "items", "kinds", "lists"])  # nothing about the person
        # the same lines, but for the unused code erase-my-data found (the desk's was used up)
        code_line = "\n• Mã xóa dữ liệu tại bộ phận một cửa"
        self.assertIn(code_line, done_by_chat[0]["text"])
        shape = lambda r: [re.sub(r"\d+", "N", x["text"].replace(code_line, "")) for x in r]  # noqa: E731
        self.assertEqual(shape(done_at_desk), shape(done_by_chat))
        self.assertIn("Đã xóa", done_at_desk[0]["text"])
        for gone in (by_chat, at_desk):
            self.assertEqual([k for k in holding(self.redis, gone.key)
                              if not k.startswith("dossier:access:")], [])
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, bystander.key), 1)
        self.assertEqual({k: self.redis("DUMP", k) for k in kept}, kept)   # not a byte changed
        self.assertEqual(self.redis("KEYS", "ec:*"), [])
        # the trail names the desk and the resident as a hash, never the key or the code
        event = json.loads(self.redis("LINDEX", "console:audit", 0))
        self.assertEqual((event["event"], event["label"], event["user"]),
                         ("erase_desk", SCOPED_COMMUNE, key_id(at_desk.key)))
        self.assertTrue(event["from"].endswith(".*"), event)
        self.assertEqual(event["token"], hashlib.sha256(SCOPED_TOKEN.encode()).hexdigest()[:12])
        log = self.bot.read_log()
        self.assertNotIn(code, log)
        self.assertNotIn(at_desk.user, log)
        self.assertNotIn(at_desk.user, " ".join(self.redis("LRANGE", "console:audit", 0, -1)))
        # a used code is gone
        status, body = self.officer().call("POST", "erase", {"code": code})
        self.assertEqual(status, 422)

    def test_on_telegram_the_answer_reaches_the_chat_and_no_key_is_left(self):
        chat = Chat(self, "telegram")
        chat.say("xin chào")
        code = self.code_of(chat)
        before = len(self.tg.sent_to(chat.chat))
        self.erased(self.officer().call("POST", "erase", {"code": code}))
        wait_until(lambda: len(self.tg.sent_to(chat.chat)) > before, what="erase_done in the chat")
        self.assertIn("Đã xóa", self.tg.sent_to(chat.chat)[-1]["json"]["text"])
        wait_until(lambda: [k for k in self.redis("KEYS", "*") if str(chat.user) in k] == [],
                   what="every key of the user gone once the answer was sent")

    def test_wrong_expired_and_replaced_codes_are_refused_alike_and_erase_nothing(self):
        chat = self.resident()
        first = self.code_of(chat)
        second = self.code_of(chat)                      # a new code replaces the old
        c = self.officer()
        wrong = "%06d" % ((int(second) + 1) % 1000000)
        answers = [c.call("POST", "erase", {"code": x}) for x in (first, wrong)]
        self.redis("PEXPIRE", "ec:{%s}" % chat.key, 1)  # the code expires in Redis, for real
        wait_until(lambda: self.redis("EXISTS", "ec:{%s}" % chat.key) == 0, what="the code to expire")
        answers.append(c.call("POST", "erase", {"code": second}))
        self.assertEqual(len({json.dumps(a) for a in answers}), 1, answers)
        self.assertEqual(answers[0][0], 422)
        self.assertEqual(console_error_vi(answers[0][1]["error"]),
                         "Mã không đúng, đã hết hạn hoặc đã dùng. Nhờ người dân bấm «Lấy mã mới» trong tin nhắn rồi đọc lại mã.")
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, chat.key), 1)
        self.assertEqual(self.redis("EXISTS", "u:{%s}" % chat.key), 1)
        for bad in ({"code": "12345"}, {"code": "abcdef"}, {"code": 123456}, {}):
            self.assertEqual(c.call("POST", "erase", bad)[0], 400)

    def test_after_five_wrong_codes_even_the_right_one_waits(self):
        chat = self.resident()
        code = self.code_of(chat)
        c = self.officer()
        wrong = ["%06d" % ((int(code) + i) % 1000000) for i in range(1, 6)]
        self.assertEqual([c.call("POST", "erase", {"code": w})[0] for w in wrong], [422] * 5)
        status, body = c.call("POST", "erase", {"code": code})
        self.assertEqual(status, 429)
        self.assertEqual(console_error_vi(body["error"]),
                         "Đã nhập sai mã quá nhiều lần. Vui lòng đợi 15 phút rồi thử lại.")
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, chat.key), 1)
        # another session of the same token, from another address, waits too
        other = self.officer()
        self.assertEqual(other.call("POST", "erase", {"code": code})[0], 429)
        self.redis("DEL", *self.redis("KEYS", "ec:fail:*"))      # the 15 minutes are over
        self.erased(other.call("POST", "erase", {"code": code}))

    def test_only_a_commune_desk_officer_may_and_the_bearer_api_cannot(self):
        chat = self.resident()
        code = self.code_of(chat)
        province = Console(self.bot)
        province.sign_in(ADMIN_TOKEN)
        status, body = province.call("POST", "erase", {"code": code})
        self.assertEqual(status, 403)
        self.assertEqual(console_error_vi(body["error"]),
                         "Chỉ cán bộ bộ phận một cửa của xã/phường (đăng nhập bằng mã của xã) xóa dữ liệu tại quầy.")
        status, _ = self.bot.admin_json("POST", "/admin/ui/erase", {"code": code})
        self.assertEqual(status, 401)
        self.assertEqual(self.officer().call("POST", "erase", {"code": code}, csrf=False)[0], 403)
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, chat.key), 1)  # nothing erased
        self.assertEqual(self.redis("EXISTS", "ec:{%s}" % chat.key), 1)                # the code still good
        self.assertEqual(self.redis("KEYS", "ec:fail:*"), [])                         # and no try counted

    def test_three_typed_under_the_question_gives_the_code_as_its_third_button_does(self):
        chat = Chat(self)
        chat.say("xin chào")
        self.assertEqual([p for _, p in chat.say("xóa dữ liệu của tôi")[-1]["buttons"]],
                         ["erase:yes", "erase:no", "erase:desk"])
        r = chat.say("3")
        self.assertTrue(CODE_RE.search(r[-1]["text"]), r)
        self.assertEqual(self.redis("EXISTS", "ec:{%s}" % chat.key, "s:{%s}" % chat.key), 2)  # nothing erased

    def test_a_code_erases_the_resident_it_was_given_to_not_another(self):
        a, b = self.resident(), self.resident()
        code_a, code_b = self.code_of(a), self.code_of(b)
        self.assertNotEqual(code_a, code_b)
        self.erased(self.officer().call("POST", "erase", {"code": code_b}))
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, b.key), 0)
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, a.key), 1)
        self.assertEqual(self.redis("EXISTS", "ec:{%s}" % a.key), 1)
        self.erased(self.officer().call("POST", "erase", {"code": code_a}))
        self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, a.key), 0)

    def test_no_after_a_code_cancels_the_code_so_the_desk_cannot_erase(self):
        by_button, by_word = self.resident(), self.resident()
        code_button = self.code_of(by_button)
        r = by_button.press("erase:no")                  # "Không xóa" under the code itself
        self.assertIn("Đã hủy", r[-1]["text"])
        code_word = self.code_of(by_word)
        by_word.say("xóa dữ liệu của tôi")               # the question again, then a typed no
        self.assertIn("Đã hủy", by_word.say("không")[-1]["text"])
        c = self.officer()
        for code, chat in ((code_button, by_button), (code_word, by_word)):
            self.assertEqual(c.call("POST", "erase", {"code": code})[0], 422)
            self.assertEqual(self.redis("SISMEMBER", "sub:" + self.DOSSIER, chat.key), 1)  # nothing erased
            self.assertEqual(self.redis("EXISTS", "ec:{%s}" % chat.key), 0)
            self.assertEqual([m for m in self.redis("SMEMBERS", "refs:{%s}" % chat.key)
                              if m.startswith("ec:")], [])
        self.assertEqual(self.redis("KEYS", "ec:h:*"), [])
        # a code asked for after the no is good again
        code = self.code_of(by_button)
        self.erased(c.call("POST", "erase", {"code": code}))

    def test_the_open_web_chat_page_shows_the_erasure_at_its_next_poll_then_nothing_is_left(self):
        # The page polls the history after its cursor; an erased resident has no
        # history any more, so erase_done was only in the inbox, which the page never
        # reads: it answered 204 for ever and the resident never saw "Đã xóa".
        chat = self.resident()
        code = self.code_of(chat)
        poll = lambda cursor: self.bot.request(  # noqa: E731
            "GET", "/webchat/messages?user=%s&after=%s" % (chat.user, cursor))
        status, _, body = poll("0")
        cursor = json.loads(body)["cursor"]
        self.assertEqual(poll(cursor)[0], 204)                    # nothing new yet
        said = self.erased(self.officer().call("POST", "erase", {"code": code}))
        wait_until(lambda: self.redis("EXISTS", "wc:inbox:{%s}" % chat.key) == 1, what="erase_done queued")
        status, _, body = poll(cursor)
        self.assertEqual(status, 200, body)
        got = json.loads(body)
        self.assertEqual(got["cursor"], cursor)
        self.assertEqual([i["from"] for i in got["items"]], ["bot"])
        self.assertIn("Đã xóa %d mục dữ liệu" % said["items"], got["items"][0]["text"])
        self.assertEqual(poll(cursor)[0], 204)                    # shown once
        self.assertEqual([k for k in self.redis("KEYS", "*") if chat.user in k], [])
