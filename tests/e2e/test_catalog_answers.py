"""What the catalog answers, end to end through the web chat API: the
procedure summary with its "Xem đầy đủ" button and the full view behind it."""
import datetime
import json
import os
import re
import time
import unittest

from harness import ROOT, VN, ServiceTest, fee_in_force

ELLIPSIS = "\u2026"


def load_intent(intent_id):
    with open(os.path.join(ROOT, "intents", intent_id + ".json"), encoding="utf-8") as f:
        return json.load(f)


class CatalogAnswersTest(ServiceTest):
    telegram = False

    def say(self, user, text=None, button=None):
        status, data = self.bot.webchat(user, text, button=button)
        self.assertEqual(status, 200)
        return data["replies"]

    def test_shortened_summary_offers_the_full_documents_and_fees(self):
        proc = load_intent("can_cuoc")["procedure"]
        replies = self.say("catalogfull01", button="i:can_cuoc")
        summary = replies[0]
        self.assertIn("Lệ phí: Cấp đổi", summary["text"])  # the amounts come first
        self.assertIn("cấp lại 35.000 đ" if self.bot.now() < END_OF_HALVING else "cấp lại 70.000 đ",
                      summary["text"])
        self.assertIn(ELLIPSIS, summary["text"])
        buttons = [(b["label"], b["payload"]) for b in summary["buttons"]]
        self.assertIn(("Xem đầy đủ", "full:can_cuoc"), buttons)
        full = self.say("catalogfull01", button="full:can_cuoc")[0]
        self.assertNotIn(ELLIPSIS, full["text"])
        self.assertIn(fee_in_force(proc, self.bot.now()), full["text"])
        for doc in proc["documents"]:
            self.assertIn(doc, full["text"])
        self.assertEqual(full["buttons"][0]["payload"], "flow:can_cuoc")

    def test_every_summary_shows_an_amount_when_the_fee_has_one(self):
        """Amounts before the rest: a fee line cut to fit one screen still
        says what to pay (was: căn cước's cut after its list of exemptions)."""
        amount = re.compile(r"\d[\d.]*\s*đ\b")
        catalog = os.path.join(ROOT, "intents", "_catalog.tsv")
        with open(catalog, encoding="utf-8") as f:
            ids = [ln.split("\t")[0] for ln in f if "\tprocedure\t" in ln]
        self.assertGreater(len(ids), 30)
        for pid in ids:
            fee = fee_in_force(load_intent(pid)["procedure"], self.bot.now())
            if not amount.search(fee):
                continue
            text = self.say("feeshown" + pid, button="i:" + pid)[0]["text"]
            line = next((ln for ln in text.split("\n") if ln.startswith("Lệ phí:")), "")
            self.assertRegex(line, amount, pid)

    def test_khai_tu_opens_with_condolences_and_others_with_the_facts(self):
        opening = load_intent("khai_tu")["procedure"]["opening"]
        self.assertIn("chia buồn", opening)
        text = self.say("catalogopen01", "bố tôi mới mất, làm giấy khai tử thế nào")[0]["text"]
        lines = text.split("\n")
        self.assertEqual(lines[0], load_intent("khai_tu")["name"])   # the name stays first
        self.assertEqual(lines[1], opening)
        self.assertEqual(lines[3], "Giấy tờ cần có:")
        plain = self.say("catalogopen02", button="i:khai_sinh")[0]["text"].split("\n")
        self.assertNotIn("opening", load_intent("khai_sinh")["procedure"])
        self.assertEqual(plain[1:3], ["", "Giấy tờ cần có:"])

    def test_full_button_of_an_unknown_procedure_gets_help_not_silence(self):
        replies = self.say("catalogfull02", button="full:khong_co")
        self.assertTrue(replies)
        self.assertTrue(replies[0]["buttons"])

    def test_thanks_is_answered_kindly_with_next_steps(self):
        for line in ("cảm ơn", "tạm biệt nhé"):
            reply = self.say("catalogthanks1", line)[0]
            self.assertIn("không có gì", reply["text"])
            self.assertNotIn("chưa hiểu", reply["text"])
            payloads = [b["payload"] for b in reply["buttons"]]
            self.assertIn("menu", payloads)
            self.assertIn("menu:thu_tuc", payloads)

    def test_complaint_says_how_then_stores_it_marked_as_a_complaint(self):
        user = "catalogcompl1"
        info = self.say(user, "tôi muốn khiếu nại cán bộ xã")[0]
        self.assertIn("khiếu nại", info["text"])
        self.assertIn("fb:complaint", [b["payload"] for b in info["buttons"]])
        ask = self.say(user, button="fb:complaint")[0]
        self.assertIn("phản ánh", ask["text"])
        misc_before = int(self.redis("HGET", "{stats}:misc", "complaints") or 0)
        saved = self.say(user, "Cán bộ một cửa hẹn ba lần vẫn chưa trả kết quả hồ sơ đất")[0]
        self.assertIn("Đã ghi nhận phản ánh", saved["text"])
        line = json.loads(self.redis("LINDEX", "fb:{wc:%s}" % user, 0))
        self.assertEqual(line["kind"], "complaint")
        self.assertEqual(line["comment"], "Cán bộ một cửa hẹn ba lần vẫn chưa trả kết quả hồ sơ đất")
        self.assertIsNotNone(self.redis("ZSCORE", "{stats}:comments", "wc:" + user))
        self.assertEqual(int(self.redis("HGET", "{stats}:misc", "complaints")), misc_before + 1)
        # the mode is over: the next line is understood again, not stored
        after = self.say(user, "đăng ký khai sinh")[0]
        self.assertTrue(after["text"].startswith("Đăng ký khai sinh"))
        self.assertEqual(self.redis("LLEN", "fb:{wc:%s}" % user), 1)

    def test_new_procedures_get_their_own_summary(self):
        for line, name in (("cấp lại giấy khai sinh bị mất", "Đăng ký lại khai sinh"),
                           ("làm thẻ bhyt miễn phí cho con dưới 6 tuổi", "Cấp thẻ BHYT do ngân sách"),
                           ("trợ cấp hưu trí xã hội cho người 75 tuổi", "Trợ cấp hưu trí xã hội"),
                           ("nộp phạt vi phạm giao thông online", "Nộp phạt vi phạm")):
            reply = self.say("catalognew001", line)[0]
            self.assertTrue(reply["text"].startswith(name), (line, reply["text"][:80]))
            self.assertTrue(reply["buttons"][0]["payload"].startswith("flow:"))


def not_understood_text():
    """The first line of templates/unknown.txt: the "I did not understand" reply."""
    with open(os.path.join(ROOT, "templates", "unknown.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("##")]
    return lines[0]


def catalog_ids():
    with open(os.path.join(ROOT, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    return [r[0] for r in rows]


class EveryIntentIsAnsweredTest(ServiceTest):
    """Issue 12: no catalog id may be left with the not-understood fallback.
    Every example of every intent goes through the whole dialog (web chat API,
    a fresh user each), and every id is also asked for by its button."""
    telegram = False

    def first_reply(self, user, text=None, button=None):
        status, data = self.bot.webchat(user, text, button=button)
        self.assertEqual(status, 200)
        self.assertTrue(data["replies"], (text, button))
        return data["replies"]

    def test_every_example_of_every_id_gets_a_real_answer(self):
        fallback = not_understood_text()
        sent, wrong = 0, []
        for n, intent_id in enumerate(catalog_ids()):
            if intent_id == "khac":
                continue
            for m, example in enumerate(load_intent(intent_id)["match"]["examples"]):
                replies = self.first_reply("allex%03d%02d" % (n, m), example)
                sent += 1
                if any(fallback in r["text"] for r in replies):
                    wrong.append("%s: %s" % (intent_id, example))
        self.assertGreater(sent, 150)
        self.assertEqual(wrong, [], "answered 'not understood'")

    def test_every_id_asked_by_its_button_gets_a_real_answer(self):
        fallback = not_understood_text()
        for n, intent_id in enumerate(catalog_ids()):
            replies = self.first_reply("allbt%03d" % n, button="i:" + intent_id)
            texts = " ".join(r["text"] for r in replies)
            if intent_id == "khac":
                self.assertIn(fallback, texts)
            else:
                self.assertNotIn(fallback, texts, intent_id)
                self.assertTrue(any(r["buttons"] for r in replies), intent_id)

    def test_vneid_help_has_a_short_screen_per_problem_with_next_steps(self):
        user = "vneidhelp01"
        menu = self.first_reply(user, "quên mật khẩu vneid không đăng nhập được")[0]
        self.assertIn("VNeID", menu["text"])
        screens = [b["payload"] for b in menu["buttons"] if b["payload"].startswith("r:")]
        self.assertEqual(len(screens), 5)
        expected = {"r:help_vneid_muc2": "Công an xã", "r:help_vneid_kich_hoat": "Kích hoạt",
                    "r:help_vneid_mat_khau": "Quên mật khẩu", "r:help_vneid_doi_sdt": "số điện thoại",
                    "r:help_vneid_dang_nhap": "dichvucong.gov.vn"}
        self.assertEqual(sorted(screens), sorted(expected))
        for payload, words in expected.items():
            screen = self.first_reply(user, button=payload)[0]
            self.assertIn(words, screen["text"])
            self.assertLessEqual(len(screen["text"]), 600)  # one short screen
            self.assertIn("i:huong_dan_vneid", [b["payload"] for b in screen["buttons"]])
        # a forged screen name is not rendered: the user gets help, not an internal template
        forged = self.first_reply(user, button="r:staff_help")[0]
        self.assertNotIn("staff", forged["text"].lower())


# 2027-01-01T00:00:00+07:00, when the halved căn cước fees of TT 64/2025 end.
END_OF_HALVING = datetime.datetime(2027, 1, 1, tzinfo=VN).timestamp()


class FeeSwitchTest(ServiceTest):
    """The fee in the reply changes by itself at midnight after a fee
    period's last day, on the service's own clock (test clock)."""
    telegram = False

    @classmethod
    def setUpClass(cls):
        ahead = END_OF_HALVING - 60 - time.time()   # a minute before midnight
        if ahead < 0:
            raise unittest.SkipTest("the machine's clock is past 2027-01-01; the test clock only goes forward")
        cls.clock_offset = int(ahead)
        super().setUpClass()

    def fee_line(self, user):
        status, data = self.bot.webchat(user, button="full:can_cuoc")
        self.assertEqual(status, 200)
        return [line for line in data["replies"][0]["text"].split("\n") if line.startswith("Lệ phí")][0]

    def test_the_can_cuoc_fee_goes_back_to_the_full_amount_on_1_january_2027(self):
        before = self.fee_line("feeswitch01")
        self.assertIn("Cấp đổi 25.000 đ", before)
        self.assertIn("Thông tư 64/2025/TT-BTC", before)
        self.bot.advance_clock(90)                    # past midnight, Vietnam time
        after = self.fee_line("feeswitch01")
        self.assertIn("Cấp đổi 50.000 đ", after)
        self.assertNotIn("25.000 đ", after)
        self.assertNotIn("64/2025", after)
        self.assertTrue(after.startswith("Lệ phí: Cấp đổi 50.000 đ"))  # amounts first, still
        self.assertIn("Miễn phí: cấp lần đầu", after)


class OnlineLineTest(ServiceTest):
    """The line saying how a procedure is done (summary, "Xem đầy đủ", the
    guided flow's intro, "làm online được không") agrees with its steps and
    notes (facts8)."""
    telegram = False

    def texts(self, user, text=None, button=None):
        status, data = self.bot.webchat(user, text, button=button)
        self.assertEqual(status, 200)
        return "\n".join(r["text"] for r in data["replies"])

    def test_a_level_2_account_is_said_to_be_made_at_the_police_not_online(self):
        """NĐ 69/2024/NĐ-CP: a level-2 VNeID account is made in person
        (face, fingerprints); the summary said 'Nộp trên mạng…'."""
        steps = load_intent("dinh_danh_dien_tu")["procedure"]["steps"]
        self.assertIn("Công an xã", steps[0])
        summary = self.texts("online01", button="i:dinh_danh_dien_tu")
        intro = self.texts("online02", button="flow:dinh_danh_dien_tu")
        for text in (summary, intro):
            self.assertNotIn("Nộp trên mạng", text)
            self.assertNotIn("Làm hết trên điện thoại", text)
            self.assertIn("Làm trực tiếp", text)
            # NĐ 69/2024 makes it at the police, NĐ 320/2026 left that as it
            # was (facts9): said plainly, no more "chưa chắc"
            self.assertIn("mức 2 phải đến Công an, không tự làm trên ứng dụng", text)
            self.assertNotIn("chưa chắc", text)
        self.texts("online03", button="i:dinh_danh_dien_tu")
        online = self.texts("online03", "làm online được không")
        self.assertTrue(online.startswith("Nộp trực tuyến – "), online)
        self.assertIn("Làm trực tiếp", online)
        self.assertNotIn("Đăng nhập bằng tài khoản VNeID mức 2", online)
        self.assertNotIn("Trang nộp hồ sơ", online)
        place = self.texts("online03", "nộp ở đâu")
        self.assertIn("Công an xã/phường", place)
        self.assertNotIn("Nộp trực tuyến tại", place)

    def test_the_level_2_help_screen_says_what_the_procedure_says(self):
        """help_vneid_muc2 said the officer takes a photo (not the fingerprints,
        not the TK01 form) and to get a chip card first, while NĐ 69/2024
        lets the account be made with the card."""
        screen = self.texts("online07", button="r:help_vneid_muc2")
        self.assertIn("vân tay", screen)
        self.assertIn("TK01", screen)
        self.assertIn("cùng lúc", screen)
        self.assertNotIn("làm thẻ căn cước trước", screen)
        # level 2 in the app: NĐ 69/2024 and NĐ 320/2026 say at the police (facts9)
        self.assertIn("Mức 2 không tự làm trên ứng dụng được, phải đến Công an.", screen)
        self.assertNotIn("chưa chắc", screen)

    def test_the_passport_line_says_a_first_chip_passport_may_need_a_visit(self):
        """The intro said 'Làm hết trên điện thoại' while the notes said a
        first chip passport may need an in-person biometric visit."""
        notes = load_intent("ho_chieu")["procedure"]["notes"]
        self.assertIn("vân tay", notes)
        summary = self.texts("online04", button="i:ho_chieu")
        intro = self.texts("online05", button="flow:ho_chieu")
        full = self.texts("online06", button="full:ho_chieu")
        for text in (summary, intro, full):
            line = next(ln for ln in text.split("\n") if "trên điện thoại" in ln)
            self.assertIn("lần đầu", line.lower())
            self.assertIn("vân tay", line)
            self.assertIn("chưa chắc", line)

