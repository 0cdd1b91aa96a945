"""Questions villagers ask that are not one procedure (facts2): when the
commune office works, what to do when the network is too weak, which ways a
fee can be paid, whether papers issued before the 2025 arrangement stay
valid. Judged on the reply text and buttons the user gets; the lines are
this file's own probes, not lines of tests/data or intents/."""
import json
import os
import re

from harness import ROOT, Chat, ServiceTest, payloads, start_flow_past_checks, texts


def one_screen(test, replies):
    test.assertEqual(len(replies), 1, texts(replies))
    text = replies[0]["text"]
    test.assertLessEqual(len(text), 1000, text)
    test.assertNotIn("chưa hiểu", text)
    return text


class OfficeHoursTest(ServiceTest):
    telegram = False

    def test_no_hours_are_invented_online_any_time(self):
        chat = Chat(self)
        for line in ("cho em hỏi ủy ban xã mấy giờ thì làm việc ạ",
                     "thu bay len xa nop giay to duoc ko",
                     "sáng chủ nhật xã có ai trực không",
                     "bộ phận một cửa của phường mấy giờ nghỉ trưa"):
            replies = chat.say(line)
            text = one_screen(self, replies)
            self.assertIn("do từng xã, phường niêm yết", text, line)
            self.assertIn("lúc nào cũng được", text, line)
            self.assertIn("thứ Bảy, Chủ nhật", text, line)
            self.assertIn("Tổ công nghệ số cộng đồng", text, line)
            # no opening hours the bot cannot know for every commune
            self.assertIsNone(re.search(r"\d{1,2}\s*(h|giờ|:)\s*\d{0,2}", text), text)
            for p in ("menu:thu_tuc", "i:gap_can_bo", "menu"):
                self.assertIn(p, payloads(replies), line)

    def test_no_reply_text_states_office_hours(self):
        # the answer above says each commune posts its own hours: no flow step,
        # help text or status notice may give a fixed "7h30–17h" either
        hours = re.compile(r"\b\d{1,2} ?(h|giờ) ?\d{0,2} ?[–-] ?\d{1,2} ?(h|giờ)\b")
        found = []
        for folder in ("intents", "templates"):
            for name in sorted(os.listdir(os.path.join(ROOT, folder))):
                if not name.endswith((".json", ".txt")):
                    continue
                with open(os.path.join(ROOT, folder, name), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        if not line.lstrip().startswith("##") and hours.search(line):
                            found.append("%s/%s:%d" % (folder, name, n))
        self.assertEqual(found, [])

    def test_a_weekday_in_a_date_answer_stays_in_the_flow(self):
        chat = Chat(self)
        start_flow_past_checks(chat, "khai_sinh")
        chat.say("Lò Thị Ban")
        r = chat.say("05/09/2026, hôm đó thứ bảy")
        self.assertNotIn("niêm yết", texts(r))
        self.assertIn("Bước", r[-1]["text"])
        raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
        self.assertIn("flow", raw)

    def test_other_places_opening_hours_stay_out_of_scope(self):
        chat = Chat(self)
        for line in ("trạm y tế xã mở cửa mấy giờ", "ngân hàng agribank chủ nhật có mở không"):
            self.assertNotIn("niêm yết", texts(chat.say(line)), line)


class WeakNetworkTest(ServiceTest):
    telegram = False

    def test_practical_advice_with_buttons(self):
        chat = Chat(self)
        for line in ("nhà ở trên núi sóng yếu lắm gửi ảnh mãi không đi",
                     "mat song hoai nop ho so ko dc",
                     "bản em không có sóng 4g thì nộp giấy tờ kiểu gì"):
            replies = chat.say(line)
            text = one_screen(self, replies)
            self.assertIn("giữ 1 ngày", text, line)
            self.assertIn('"tiếp tục"', text, line)
            self.assertIn("Tổ công nghệ số cộng đồng", text, line)
            self.assertIn("Bộ phận Một cửa", text, line)
            for p in ("i:gap_can_bo", "menu:thu_tuc", "menu"):
                self.assertIn(p, payloads(replies), line)

    def test_a_flow_left_for_most_of_a_day_goes_on(self):
        """The default DVCBOT_FLOW_IDLE (a day): who went home for a paper,
        or lost the signal until the evening, does not start again."""
        chat = Chat(self)
        r, _ = start_flow_past_checks(chat, "khai_sinh")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        self.assertIn("Trẻ sinh ngày nào", chat.say("Lò Thị Ban")[-1]["text"])
        self.bot.advance_clock(20 * 3600)
        r = chat.say("tiếp tục")
        self.assertNotIn("hết hạn", texts(r))
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])

    def test_said_in_a_flow_where_a_name_is_asked_then_continued(self):
        chat = Chat(self)
        r, _ = start_flow_past_checks(chat, "khai_sinh")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        r = chat.say("sóng yếu quá gửi không được")
        self.assertIn("giữ 1 ngày", texts(r))
        raw = json.loads(self.redis("GET", "s:{%s}" % chat.key))
        self.assertNotIn("ho_ten_tre", raw["flow"].get("a", {}))   # not kept as the name
        r = chat.say("tiếp tục")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        r = chat.say("Lò Thị Ban")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        # at a date, too
        self.assertIn("giữ 1 ngày", texts(chat.say("mạng chập chờn quá")))
        r = chat.say("tiếp tục")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])


class FlowIdleSettingTest(ServiceTest):
    """A reply that names how long a flow waits says the setting in use."""
    telegram = False
    extra_env = {"DVCBOT_FLOW_IDLE": "5400"}

    def test_the_advice_and_the_expiry_say_the_setting(self):
        chat = Chat(self)
        self.assertIn("giữ 1 giờ 30 phút", texts(chat.say("mạng yếu quá gửi không được")))
        r, _ = start_flow_past_checks(chat, "khai_sinh")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        self.bot.advance_clock(5400 - 60)
        self.assertIn("Trẻ sinh ngày nào", chat.say("Lò Thị Ban")[-1]["text"])
        self.bot.advance_clock(5400 + 1)
        r = chat.say("12/10/2026")
        self.assertIn("đã hết hạn vì 1 giờ 30 phút không có trả lời", r[0]["text"])
        self.assertIn("flow:khai_sinh", payloads(r))


class PaymentWaysTest(ServiceTest):
    telegram = False

    def test_the_ways_then_the_code(self):
        chat = Chat(self)
        for line in ("trả lệ phí bằng thẻ atm được không", "nộp phí qua momo được ko ạ"):
            replies = chat.say(line)
            text = one_screen(self, replies)
            self.assertIn("gõ mã hồ sơ", text, line)
            self.assertIn("VNPay", text, line)
            self.assertIn("quét mã QR", text, line)
            self.assertIn("thẻ ATM", text, line)
            self.assertIn("r:help_tra_phi", payloads(replies), line)

    def test_without_a_bank_account(self):
        chat = Chat(self)
        replies = chat.say("em không có tài khoản ngân hàng thì trả phí hồ sơ thế nào")
        self.assertIn("Không có tài khoản ngân hàng", one_screen(self, replies))
        replies = chat.press("r:help_tra_phi")
        text = one_screen(self, replies)
        self.assertIn("tiền mặt tại Bộ phận Một cửa", text)
        self.assertIn("con cháu", text)
        self.assertIn("MoMo, ZaloPay: tôi chưa chắc", text)   # not verified: not promised
        for p in ("i:thanh_toan", "i:gap_can_bo", "menu"):
            self.assertIn(p, payloads(replies))
        # the button leads back to paying by the dossier code
        self.assertIn("gõ mã hồ sơ", texts(chat.press("i:thanh_toan")))

    def test_naming_a_procedure_gives_its_fee_first(self):
        chat = Chat(self)
        replies = chat.say("lệ phí làm hộ chiếu trả bằng thẻ atm được không")
        text = texts(replies)
        self.assertTrue(text.startswith("Lệ phí “Cấp hộ chiếu phổ thông”"), text)
        self.assertLess(text.index("đ"), text.index("VNPay"))
        self.assertIn("r:help_tra_phi", payloads(replies))


class OldPapersTest(ServiceTest):
    """Papers issued before the 2025 arrangement (Điều 10 NQ 190/2025/QH15)."""
    telegram = False
    SAID = ("vẫn dùng bình thường", "không phải làm lại", "không được bắt đổi",
            "miễn lệ phí", "Điều 10 Nghị quyết 190/2025/QH15")

    def test_papers_in_general(self):
        chat = Chat(self)
        for line in ("giấy tờ nhà tôi vẫn ghi huyện cũ, có phải đi làm lại không",
                     "sap nhap xa roi giay to cu con gia tri khong ad"):
            replies = chat.say(line)
            text = one_screen(self, replies)
            for said in self.SAID:
                self.assertIn(said, text, line)
            self.assertIn("Sổ đỏ, giấy khai sinh, giấy kết hôn: giữ nguyên giá trị", text)
            self.assertLess(text.index("miễn lệ phí"), text.index("Nghị quyết"))
            for p in ("i:can_cuoc", "i:don_vi_hanh_chinh", "menu:thu_tuc", "menu"):
                self.assertIn(p, payloads(replies), line)

    def test_a_paper_of_one_procedure(self):
        chat = Chat(self)
        for line, ident in (("cccd của em ghi địa chỉ xã cũ có bắt buộc đổi không", "can_cuoc"),
                            ("the can cuoc ghi huyen cu co phai di doi khong", "can_cuoc"),
                            ("sổ đỏ ghi huyện cũ còn giá trị không", "dat_dai")):
            replies = chat.say(line)
            text = one_screen(self, replies)
            with open(os.path.join(ROOT, "intents", ident + ".json"), encoding="utf-8") as f:
                name = json.load(f)["name"]
            self.assertTrue(text.startswith("Giấy tờ cũ sau sắp xếp – %s:" % name), text)
            for said in self.SAID:
                self.assertIn(said, text, line)
            for p in ("full:" + ident, "i:don_vi_hanh_chinh", "menu:thu_tuc"):
                self.assertIn(p, payloads(replies), line)

    def test_asked_after_a_procedure_was_shown(self):
        chat = Chat(self)
        chat.say("đăng ký khai sinh")
        text = one_screen(self, chat.say("xã cũ còn giá trị không?"))
        self.assertTrue(text.startswith("Giấy tờ cũ sau sắp xếp – Đăng ký khai sinh:"), text)

    def test_the_old_commune_question_is_unchanged(self):
        chat = Chat(self)
        text = one_screen(self, chat.say("xã hua la cũ giờ thuộc xã nào"))
        self.assertIn("xã Hua La cũ nay thuộc phường Chiềng Cơi", text)
        text = one_screen(self, chat.say("làm khai sinh ở xã cũ hay xã mới"))
        self.assertNotIn("Nghị quyết 190", text)
