"""Words a villager reads (issue 13 §4): the user is "anh/chị", never "bạn";
the card is the "căn cước" and its number "số căn cước / số định danh cá
nhân", never "CCCD/CMND"; no office jargon such as "toàn trình". Checked in
every reply text (templates/*.txt) and every fact of intents/, and in the
replies the real service gives on the lookup path; a refused dossier without
a note from the office says so instead of "Lý do:" followed by nothing."""
import glob
import json
import os
import re
import unittest

from harness import ADMIN_TOKEN, ROOT, Chat, ServiceTest

WRONG_WORDS = re.compile(r"(?<![\w])(bạn|cccd|cmnd|toàn trình)(?![\w])", re.I)
ID_WORDS = "số căn cước / số định danh cá nhân"
# What the text explains rather than asks for: the old card's name, once.
EXPLAINED = {"Chứng minh nhân dân (CMND)"}
# intents/ fields that are not shown: how users type (examples, match), and names.
HIDDEN_KEYS = {"examples", "match", "slot", "type", "id", "check", "screen",
               "papers_question"}  # papers_question: words as typed (commune_answer.c)


def template_lines():
    for path in sorted(glob.glob(os.path.join(ROOT, "templates", "*.txt"))):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.startswith("##"):
                    yield "%s:%d" % (os.path.basename(path), n), line


def intent_texts():
    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in HIDDEN_KEYS:
                    yield from walk(v, where + "." + k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, "%s[%d]" % (where, i))
        elif isinstance(node, str):
            yield where, node
    for path in sorted(glob.glob(os.path.join(ROOT, "intents", "*.json"))):
        with open(path, encoding="utf-8") as f:
            yield from walk(json.load(f), os.path.basename(path))


def wrong_words(texts):
    found = []
    for where, text in texts:
        for ok in EXPLAINED:
            text = text.replace(ok, "")
        found += ["%s: %s" % (where, m.group(0)) for m in WRONG_WORDS.finditer(text)]
    return found


class WordsInDataTest(unittest.TestCase):
    def test_reply_texts_say_anh_chi_and_can_cuoc(self):
        self.assertEqual(wrong_words(template_lines()), [])

    def test_procedure_facts_say_anh_chi_and_can_cuoc(self):
        self.assertEqual(wrong_words(intent_texts()), [])


def record(code, **changes):
    r = {"code": code, "procedure": "khai_sinh", "applicant_name": "Lò Văn Minh",
         "phone": "0912 345 678", "id_number": "014090001234", "commune": "Chiềng Cơi",
         "agency": "UBND phường Chiềng Cơi", "status": "dang_xu_ly",
         "received_at": "2026-11-20T08:00:00+07:00", "due_at": "2099-11-25", "fee": 0,
         "paid": False, "submitted_online": True, "paid_online": False, "finished_at": "",
         "note": ""}
    r.update(changes)
    return r


class WordsOnTheLookupTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def upload(self, *records):
        status, _ = self.bot.admin_json("POST", "/admin/dossiers", list(records))
        self.assertEqual(status, 200)

    def test_the_owner_proof_is_asked_with_plain_words(self):
        chat = Chat(self)
        chat.say("tra cứu hồ sơ")
        ask = chat.say("000.00.12.H50-261120-0001")[0]["text"]
        self.assertIn("anh/chị", ask)
        self.assertIn(ID_WORDS, ask)
        again = chat.say("không nhớ")[0]["text"]
        self.assertIn(ID_WORDS, again)
        self.assertEqual(wrong_words([("ask", ask), ("again", again)]), [])

    def test_a_refusal_without_a_note_does_not_show_an_empty_reason(self):
        self.upload(record("000.00.12.H50-261120-0002", status="tu_choi"),
                    record("000.00.12.H50-261120-0003", status="tu_choi",
                           note="Giấy chứng sinh bị tẩy xóa."))
        chat = Chat(self)
        chat.say("tra cứu hồ sơ 000.00.12.H50-261120-0002")
        bare = chat.say("5678")[0]["text"]
        self.assertIn("Hồ sơ chưa được chấp nhận", bare)
        self.assertNotIn("Lý do", bare)
        self.assertIn("UBND phường Chiềng Cơi", bare)  # who to ask why
        chat.say("tra cứu hồ sơ 000.00.12.H50-261120-0003")
        noted = chat.say("5678")[0]["text"]
        self.assertIn("Lý do: Giấy chứng sinh bị tẩy xóa.", noted)


if __name__ == "__main__":
    unittest.main()
