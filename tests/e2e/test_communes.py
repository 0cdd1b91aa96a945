"""Intent don_vi_hanh_chinh (src/commune_answer.c): since 1/7/2025 there is
no district level and the communes of Sơn La and Lai Châu were merged. A
villager naming an old commune gets the unit it is part of now, a unit of
today is confirmed, a name of several units offers them as buttons, "có phải
lên huyện không" gets the short explanation, and a procedure question that
names a commune still gets the procedure. Judged on the reply text, against
intents/_communes.json."""
import json
import os
import unittest

from harness import ROOT, Chat, ServiceTest, payloads, texts

NEXT_STEPS = ("menu:thu_tuc", "i:tra_cuu_ho_so", "menu")


def units():
    with open(os.path.join(ROOT, "intents", "_communes.json"), encoding="utf-8") as f:
        data = json.load(f)
    for p in data["provinces"]:
        for u in p["units"]:
            yield p["name"], u


def old_units_with_one_new_home():
    """(old "xã Hua La", its unit, province) for old names found in one unit only."""
    seen = {}
    for province, u in units():
        for old in u.get("merged_from", []):
            name = old
            for kind in ("xã ", "phường ", "thị trấn "):
                if old.startswith(kind):
                    name = old[len(kind):]
            seen.setdefault(name.lower(), []).append((old, u, province))
    names_today = {u["name"].lower() for _, u in units()}
    return [v[0] for k, v in sorted(seen.items()) if len(v) == 1 and k not in names_today]


class CommuneQuestionTest(ServiceTest):

    def one_screen(self, replies):
        self.assertEqual(len(replies), 1, replies)
        text = replies[0]["text"]
        self.assertLessEqual(len(text), 1000, text)
        for p in NEXT_STEPS:
            self.assertIn(p, payloads(replies))
        self.assertNotIn("chưa hiểu", text)
        return text

    def test_an_old_commune_gets_the_unit_it_is_part_of_now(self):
        chat = Chat(self, "telegram")
        text = self.one_screen(chat.say("xã chiềng an cũ giờ là xã nào"))
        self.assertIn("xã Chiềng Ân cũ nay thuộc xã Chiềng Hoa, tỉnh Sơn La", text)
        self.assertIn("dichvucong.gov.vn", text)
        text = self.one_screen(chat.say("ban toi truoc thuoc xa hua la gio thuoc xa nao"))
        self.assertIn("xã Hua La cũ nay thuộc phường Chiềng Cơi", text)
        self.assertIn("Trung tâm Phục vụ hành chính công của phường Chiềng Cơi", text)
        text = self.one_screen(chat.say("xã Chiềng Cọ cũ nay thuộc phường nào ạ"))
        self.assertIn("phường Chiềng Cơi", text)

    def test_real_old_communes_of_both_provinces(self):
        olds = old_units_with_one_new_home()
        picked = olds[::max(1, len(olds) // 8)][:8]
        self.assertTrue(any(p == "Lai Châu" for _, _, p in picked), picked)
        chat = Chat(self, "telegram")
        for old, unit, province in picked:
            text = self.one_screen(chat.say(f"{old} cũ giờ thuộc xã nào"))
            # typed with its diacritics, a name that folds like another
            # (Chiềng Đông / Chiềng Dong) is that unit alone
            self.assertIn(f"{old} cũ nay thuộc {unit['type']} {unit['name']}, tỉnh {province}", text)

    def test_a_name_typed_with_its_diacritics_is_that_unit_alone(self):
        chat = Chat(self, "telegram")
        replies = chat.say("xã Chiềng Đông cũ giờ thuộc xã nào")
        text = self.one_screen(replies)
        self.assertIn("xã Chiềng Đông cũ nay thuộc", text)
        self.assertNotIn("Chiềng Dong", text)
        self.assertFalse([p for p in payloads(replies) if p.startswith("dvhc:")], replies)
        # without diacritics both units are offered, as buttons
        replies = chat.say("xa chieng dong cu gio thuoc xa nao")
        text = self.one_screen(replies)
        self.assertIn("có xã Chiềng Đông cũ", text)
        self.assertIn("có xã Chiềng Dong cũ", text)
        self.assertEqual(len([p for p in payloads(replies) if p.startswith("dvhc:")]), 2, replies)

    def test_a_unit_of_today_is_confirmed(self):
        chat = Chat(self, "telegram")
        text = self.one_screen(chat.say("xa muong bu bay gio con khong"))
        self.assertIn("xã Mường Bú (tỉnh Sơn La) là đơn vị hành chính hiện nay", text)

    def test_a_name_of_several_units_offers_them(self):
        chat = Chat(self, "telegram")
        replies = chat.say("xa nam cha cu gio la xa gi")
        text = self.one_screen(replies)
        self.assertIn("nhiều nơi", text)
        self.assertIn("xã Mường Mô, Lai Châu: có xã Nậm Chà cũ", text)
        self.assertIn("xã Nậm Tăm, Lai Châu: có xã Nậm Cha cũ", text)
        buttons = [p for p in payloads(replies) if p.startswith("dvhc:")]
        self.assertEqual(len(buttons), 2, replies)
        # the button answers for that unit
        text = self.one_screen(chat.press(buttons[0]))
        self.assertIn("là đơn vị hành chính hiện nay", text)
        self.assertTrue("Mường Mô" in text or "Nậm Tăm" in text, text)
        # a forged code: the explanation, never a crash
        self.assertIn("không còn cấp huyện", self.one_screen(chat.press("dvhc:99999")))
        self.assertIn("không còn cấp huyện", self.one_screen(chat.press("dvhc:")))

    def test_no_district_level_gets_the_explanation(self):
        chat = Chat(self, "telegram")
        for line in ("có phải lên huyện không", "gio ko con huyen thi lam giay to o dau",
                     "bỏ cấp huyện rồi thì đi đâu làm thủ tục ạ"):
            text = self.one_screen(chat.say(line))
            self.assertIn("không còn cấp huyện", text, line)
            self.assertIn("UBND xã/phường", text, line)
            self.assertIn("Trung tâm Phục vụ hành chính công tỉnh", text, line)
            self.assertIn("VNeID", text, line)

    def test_a_procedure_question_naming_a_commune_gets_the_procedure(self):
        chat = Chat(self, "telegram")
        for line, name in (("làm khai sinh ở xã chiềng cơi", "Đăng ký khai sinh"),
                           ("lam khai sinh o xa chieng coi", "Đăng ký khai sinh"),
                           ("dang ky tam tru o phuong to hieu", "Đăng ký tạm trú"),
                           ("đăng ký kết hôn ở xã mường bú", "Đăng ký kết hôn"),
                           ("dang ky khai sinh cho con", "Đăng ký khai sinh")):
            replies = chat.say(line)
            self.assertEqual(replies[0]["text"].split("\n", 1)[0], name, (line, texts(replies)))
            self.assertNotIn("sắp xếp từ 1/7/2025", texts(replies), line)

    def test_bad_input_gets_a_polite_reply(self):
        chat = Chat(self, "telegram")
        long_line = "xã hua la cũ " * 200
        for line in ("12345", long_line, "xã xã xã xã nào nào", "\u0300\u0301 xã"):
            replies = chat.say(line)
            self.assertTrue(replies and replies[0]["text"], line)
            self.assertTrue(payloads(replies), line)
        self.assertIsNone(self.bot.proc.poll())


if __name__ == "__main__":
    unittest.main()
