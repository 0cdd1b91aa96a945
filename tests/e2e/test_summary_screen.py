"""One phone screen: the first reply about a procedure (its summary), as the
Telegram user receives it, fits one phone screen with its buttons, for
every procedure in intents/_catalog.tsv.

The screen assumed: a 360 dp wide Android phone (the commonest width among
cheap phones), Telegram's default text size. A message bubble holds about
ROW_CHARS characters a row, and the space between the top bar and the
typing box about SCREEN_ROWS rows of text; an inline keyboard row (one long
button, or two short ones side by side, as telegram.c lays them out) takes
the height of two rows of text. SCREEN_CHARS counts every character the
user sees: the text and the button labels."""
import datetime
import json
import os
import textwrap

from harness import ROOT, VN, Chat, ServiceTest, fee_in_force

SCREEN_CHARS = 600
SUMMARY_MARGIN = 20  # characters every summary leaves under the screen
SCREEN_ROWS = 26
ROW_CHARS = 36
KEYBOARD_ROW = 2     # rows of text one row of buttons takes
PAIR_LABEL_MAX = 20  # include/dvcbot/telegram.h TELEGRAM_PAIR_LABEL_MAX (bytes)


def procedure_ids():
    with open(os.path.join(ROOT, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        return [line.split("\t")[0] for line in f if "\tprocedure\t" in line]


def keyboard_rows(labels):
    rows, i = 0, 0
    while i < len(labels):
        pair = (i + 1 < len(labels) and len(labels[i].encode()) <= PAIR_LABEL_MAX
                and len(labels[i + 1].encode()) <= PAIR_LABEL_MAX)
        i += 2 if pair else 1
        rows += 1
    return rows


def screen_rows(text, labels):
    """Rows of a phone screen the message takes: each line wrapped at
    ROW_CHARS between words (an empty line is a row too), plus its keyboard."""
    text_rows = sum(max(1, len(textwrap.wrap(line, ROW_CHARS))) for line in text.split("\n"))
    return text_rows + KEYBOARD_ROW * keyboard_rows(labels)


class SummaryScreenTest(ServiceTest):
    maxDiff = None

    def test_every_procedure_summary_fits_one_phone_screen(self):
        ids = procedure_ids()
        self.assertGreater(len(ids), 30)
        too_long = []
        for pid in ids:
            replies = Chat(self, "telegram").press("i:" + pid)
            self.assertEqual(len(replies), 1, pid)
            text, buttons = replies[0]["text"], replies[0]["buttons"]
            labels = [label for label, _ in buttons]
            self.assertIn("Lệ phí:", text, pid)
            self.assertEqual(buttons[0][1], "flow:" + pid)
            chars = len(text) + sum(len(label) for label in labels)
            rows = screen_rows(text, labels)
            if chars > SCREEN_CHARS or rows > SCREEN_ROWS:
                too_long.append("%s: %d characters, %d rows" % (pid, chars, rows))
        self.assertEqual(too_long, [], "summaries over one phone screen (%d characters, %d rows)"
                         % (SCREEN_CHARS, SCREEN_ROWS))

    def test_every_summary_leaves_room_under_one_screen(self):
        # three summaries (ho_chieu 597, dinh_danh_dien_tu 591, khai_sinh 590
        # characters) sat a few characters under the screen: one more word in
        # a fee period and the reply no longer fitted; they were shortened
        # (amounts first, plain words) to leave SUMMARY_MARGIN characters
        tight = []
        for pid in procedure_ids():
            r = Chat(self, "telegram").press("i:" + pid)[0]
            chars = len(r["text"]) + sum(len(label) for label, _ in r["buttons"])
            if chars > SCREEN_CHARS - SUMMARY_MARGIN:
                tight.append("%s: %d characters" % (pid, chars))
        self.assertEqual(tight, [])

    def test_no_document_in_a_summary_is_cut(self):
        # a document line cut at its byte limit can lose the words that say
        # who needs it ("… (ông bà, anh chị ruột không cần)"): the summary
        # lists each document whole; only the count of the rest is "…"
        cut = []
        for pid in procedure_ids():
            text = Chat(self, "telegram").press("i:" + pid)[0]["text"]
            docs = text.split("Giấy tờ cần có:\n", 1)[1].split("\n\n", 1)[0]
            cut += ["%s: %s" % (pid, line) for line in docs.split("\n")
                    if line.startswith("- ") and line.endswith("…")]
        self.assertEqual(cut, [])

    def test_the_screen_measure_counts_wrapped_rows_and_the_keyboard(self):
        # 40 characters wrap to two rows; the long button has a row of its own,
        # the two short ones share one
        labels = ["Hướng dẫn nộp trực tuyến", "Xem đầy đủ", "Tra cứu hồ sơ"]
        self.assertEqual(screen_rows("a" * 10 + " " + "b" * 29 + "\n\nc", labels), 2 + 1 + 1 + 2 * 2)


def procedure_facts(pid):
    with open(os.path.join(ROOT, "intents", pid + ".json"), encoding="utf-8") as f:
        return json.load(f)["procedure"]


def midnight_after(day):
    """Unix time of 00:00 (Vietnam time) after the day YYYY-MM-DD."""
    d = datetime.date.fromisoformat(day) + datetime.timedelta(days=1)
    return datetime.datetime(d.year, d.month, d.day, tzinfo=VN).timestamp()


class FeeFollowupScreenTest(ServiceTest):
    """"hết bao nhiêu tiền" after a procedure: the whole fee in force, never
    cut (followup.c shows at most 600 bytes of it), and one phone screen with
    its buttons — now, and in every fee period still to come (the clock is
    moved past each period's last day)."""
    telegram = False

    def fee_screens(self, tag):
        cut = []
        for pid in procedure_ids():
            chat = Chat(self, "webchat", user="feefu%s%s" % (tag, pid))
            chat.press("i:" + pid)
            reply = chat.say("hết bao nhiêu tiền")[0]
            text, labels = reply["text"], [label for label, _ in reply["buttons"]]
            fee = fee_in_force(procedure_facts(pid), self.bot.now())
            self.assertTrue(text.startswith("Lệ phí – "), (pid, text))
            if fee not in text:
                cut.append("%s: cut (%d bytes)" % (pid, len(fee.encode())))
            chars = len(text) + sum(len(label) for label in labels)
            rows = screen_rows(text, labels)
            if chars > SCREEN_CHARS or rows > SCREEN_ROWS:
                cut.append("%s: %d characters, %d rows" % (pid, chars, rows))
        return cut

    def test_no_fee_followup_is_cut_or_over_one_screen_in_any_fee_period(self):
        ends = sorted({period["until"] for pid in procedure_ids()
                       for period in procedure_facts(pid).get("fee_periods", [])})
        problems = self.fee_screens("now")
        for until in ends:
            ahead = midnight_after(until) + 60 - self.bot.now()
            if ahead <= 0:
                continue
            self.bot.advance_clock(ahead)
            problems += ["after %s, %s" % (until, p) for p in self.fee_screens(until)]
        self.assertEqual(problems, [])


class FeeFactsTest(ServiceTest):
    """What the fee lines say (facts3), as the web chat user gets them."""
    telegram = False

    def reply(self, user, button):
        status, data = self.bot.webchat(user, None, button=button)
        self.assertEqual(status, 200)
        return data["replies"][0]["text"]

    @staticmethod
    def fee_line(text):
        return next(line for line in text.split("\n") if line.startswith("Lệ phí:"))

    def test_land_transfer_fee_says_the_rates_first_and_that_family_gifts_pay_nothing(self):
        line = self.fee_line(self.reply("feefacts01", "i:bien_dong_dat_dai"))
        self.assertTrue(line.startswith("Lệ phí: Mua bán: thuế thu nhập 2%"), line)
        self.assertIn("0,5%", line)
        self.assertIn("trong gia đình: miễn", line)
        page = self.reply("feefacts01", "full:bien_dong_dat_dai")
        full = self.fee_line(page)
        # gifts and inheritance from outside the family: 10 % above 20 million, not 2 %
        self.assertIn("thừa kế từ người khác: thuế thu nhập cá nhân 10% phần giá trị trên 20 triệu", full)
        # the whole family list is on the full page (the fee line names it in short)
        self.assertIn("cha mẹ chồng với con dâu, cha mẹ vợ với con rể", page)
        self.assertIn("109/2025/QH15", full)
        self.assertIn("10/2022/NĐ-CP", full)

    def test_vehicle_registration_fee_names_the_car_amount_of_thong_tu_155(self):
        """Thông tư 155/2025/TT-BTC (from 01/01/2026): two areas, Hà Nội and
        TP.HCM, and every other province (140.000 đ for a car up to 9 seats);
        the data still sorted Sơn La's wards by the areas of Thông tư 60/2023."""
        line = self.fee_line(self.reply("feefacts04", "i:dang_ky_xe"))
        self.assertIn("140.000 đ", line)
        page = self.reply("feefacts04", "full:dang_ky_xe")
        self.assertIn("khu vực II", self.fee_line(page))
        self.assertIn("Thông tư 155/2025/TT-BTC", self.fee_line(page))
        self.assertNotIn("khu vực III", page)
        self.assertNotIn("thị xã Mộc Châu", page)

    def test_late_birth_and_death_registration_fee_says_the_commune_tells_the_amount(self):
        for pid in ("khai_tu", "khai_sinh"):
            line = self.fee_line(self.reply("feefacts02", "i:" + pid))
            self.assertIn("miễn phí. Quá hạn: có lệ phí, cán bộ xã báo số tiền", line, pid)
            full = self.fee_line(self.reply("feefacts02", "full:" + pid))
            self.assertIn("hộ nghèo, gia đình có công, người khuyết tật: miễn", full, pid)
            self.assertIn("bot chưa tìm được số tiền", full, pid)

    def test_level_2_online_waivers_of_2026_are_said_until_the_end_of_february_2027(self):
        """Thông tư 117/2026/TT-BTC: 0 đ for citizens with a level-2 VNeID
        account until 28/02/2027; the summary says it beside the amount."""
        if self.bot.now() >= MARCH_2027:
            self.skipTest("the waiver of Thông tư 117/2026/TT-BTC has ended")
        for pid in ("can_cuoc", "thuong_tru", "tam_tru", "tach_ho", "ho_chieu", "ly_lich_tu_phap",
                    "doi_gplx", "trich_luc_ho_tich"):
            line = self.fee_line(self.reply("feefacts03", "i:" + pid))
            self.assertRegex(line, r"VNeID mức 2:? (thì )?0 đ", pid)
            full = self.fee_line(self.reply("feefacts03", "full:" + pid))
            self.assertIn("Thông tư 117/2026/TT-BTC", full, pid)
            self.assertIn("28/02/2027", full, pid)

    # facts9: fees the bot had marked unchecked and that a source now
    # confirms (sources in the intent files): the passport amounts of Thông
    # tư 28/2026/TT-BTC and the halving until 31/12/2026, the criminal-record
    # fee of Thông tư 16/2025/TT-BTC, and the conditions of Nghị quyết
    # 66.22/2026/NQ-CP for the 0 đ of Thông tư 117/2026/TT-BTC, said plainly
    def test_the_passport_fee_says_the_amounts_of_thong_tu_28_2026(self):
        summary = self.fee_line(self.reply("checked01", "i:ho_chieu"))
        self.assertRegex(summary, r"^Lệ phí: Cấp mới [12]00\.000 đ, cấp lại do hỏng, mất [24]00\.000 đ")
        full = self.fee_line(self.reply("checked01", "full:ho_chieu"))
        self.assertIn("Thông tư 28/2026/TT-BTC", full)
        self.assertIn("400.000 đ", full)
        self.assertNotIn("chưa kiểm tra", full)
        self.assertNotIn("25/2021", full)

    def test_the_criminal_record_fee_names_thong_tu_16_2025_and_pupils_from_16(self):
        full = self.fee_line(self.reply("checked02", "full:ly_lich_tu_phap"))
        self.assertTrue(full.startswith("Lệ phí: 200.000 đ/lần"), full)
        self.assertIn("học sinh từ đủ 16 tuổi, sinh viên", full)
        self.assertIn("Thông tư 16/2025/TT-BTC", full)
        self.assertNotIn("244/2016", full)

    def test_the_level_2_waiver_says_its_conditions(self):
        for pid, extra in (("can_cuoc", None), ("thuong_tru", None), ("tam_tru", None), ("tach_ho", None),
                           ("trich_luc_ho_tich", None), ("ly_lich_tu_phap", None),
                           ("doi_gplx", "giấy phép lái xe"), ("dang_ky_xe", "chứng nhận đăng ký xe"),
                           ("ho_chieu", "thông tin hộ chiếu")):
            full = self.reply("checked03", "full:" + pid)
            self.assertIn("đã tích hợp trên VNeID 5 loại giấy tờ, thông tin cơ bản", full, pid)
            self.assertIn("nộp qua dịch vụ công trực tuyến", full, pid)
            self.assertNotIn("bot chưa kiểm tra được; số tiền", full, pid)
            if extra:
                self.assertIn("cả " + extra, full, pid)

# 2027-03-01T00:00:00+07:00, the day after the waivers of Thông tư 117/2026/TT-BTC end.
MARCH_2027 = 1803834000
