"""`dvcbot check` on a copy of intents/ and templates/: what it refuses, each
problem named by file and field, and the exit status CI acts on.

One phone screen (include/dvcbot/procedure_reply.h PROCEDURE_REPLY_SCREEN_CHARS
and _ROWS, the 600 characters and 26 rows of tests/e2e/test_summary_screen.py) holds a procedure's
summary and each fact reply ("phí bao nhiêu", "bao lâu thì có"...); a fact
reply shows at most 600 bytes of its field (include/dvcbot/followup.h
FOLLOWUP_FIELD_BYTES). Before, check let a 700-byte fee text through and only
the end-to-end screen test saw it."""
import json
import os
import shutil
import tempfile
import unittest

from harness import ROOT, run_cli


class DataCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dvcbot-check-")
        for sub in ("intents", "templates"):
            shutil.copytree(os.path.join(ROOT, sub), os.path.join(self.dir, sub))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def check(self):
        proc = run_cli(["check"], {"DVCBOT_DATA_DIR": self.dir})
        return proc.returncode, proc.stdout.decode()

    def edit(self, intent_id, change):
        path = os.path.join(self.dir, "intents", intent_id + ".json")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        change(data)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)

    def test_the_repo_data_passes(self):
        status, out = self.check()
        self.assertEqual(status, 0, out)
        self.assertIn("check: ok", out)

    def test_a_fee_text_a_fact_reply_would_cut_is_refused_by_file_and_field(self):
        long_fee = "Miễn phí: trẻ em. Còn lại: 8.000 đ/bản sao; " + "thêm ghi chú dài dòng " * 30
        self.assertGreater(len(long_fee.encode()), 600)
        self.edit("trich_luc_ho_tich", lambda d: (d["procedure"].update(fee_text=long_fee), d["procedure"].pop("fee_periods", None)))
        status, out = self.check()
        self.assertEqual(status, 1, out)
        self.assertIn("intents/trich_luc_ho_tich.json: procedure.fee_text: %d bytes"
                      % len(long_fee.encode()), out)
        self.assertIn('the reply to "phí bao nhiêu" shows at most 600', out)

    def test_a_fee_period_still_to_come_is_measured_too(self):
        long_fee = "Làm trên mạng: 0 đ. " + "điều kiện dài dòng " * 40

        def add_period(d):
            d["procedure"]["fee_periods"] = [{"until": "2099-12-31", "fee_text": long_fee}]
        self.edit("khai_sinh", add_period)
        status, out = self.check()
        self.assertEqual(status, 1, out)
        self.assertIn("intents/khai_sinh.json: procedure.fee_periods[0].fee_text:", out)

    def test_a_summary_past_one_phone_screen_is_refused(self):
        def crowd(d):
            p = d["procedure"]
            p["documents"] = ["Giấy tờ số %d, bản chính hoặc bản sao có chứng thực, mang theo khi đến" % i
                              for i in range(4)]
            p["processing_time"] = "Trong ngày nếu nộp trước 15 giờ; hồ sơ cần xác minh thêm thì không quá 3 ngày làm việc."
            p["agency"] = "Ủy ban nhân dân xã, phường nơi cư trú của người yêu cầu hoặc Trung tâm Phục vụ hành chính công."
            p["online_note"] = "Có thể phải đến đối chiếu bản chính khi nhận kết quả; hỏi cán bộ trước khi đi."
        self.edit("khai_tu", crowd)
        status, out = self.check()
        self.assertEqual(status, 1, out)
        self.assertRegex(out, r"intents/khai_tu\.json: procedure: the summary would be \d+ characters "
                              r"(in \d+ rows )?with its buttons, over one phone screen \(600 characters, 26 rows\)")

    def test_a_summary_taller_than_one_phone_screen_is_refused_though_its_characters_fit(self):
        # check counted characters only: 11 summaries sat at exactly the 26
        # rows the phone shows, and a fourth document line (47 characters,
        # the summary still under 600) went through at 28 rows
        self.edit("khai_tu", lambda d: d["procedure"]["documents"].append(
            "Bản sao thẻ căn cước của người mất, nếu còn giữ"))
        status, out = self.check()
        self.assertEqual(status, 1, out)
        self.assertRegex(out, r"intents/khai_tu\.json: procedure: the summary would be \d+ rows "
                              r"with its buttons, over one phone screen \(600 characters, 26 rows\)")
        self.assertNotIn("characters in", out)                 # the characters alone fit

    def test_a_fact_reply_past_one_screen_is_refused_though_its_field_fits(self):
        # 590 bytes of plain letters are 590 characters: with the name and
        # the buttons the "bao lâu thì có" reply is past 600
        slow = ("Thuong la 5 ngay lam viec " * 30)[:590]
        self.edit("ket_hon", lambda d: d["procedure"].update(processing_time=slow))
        status, out = self.check()
        self.assertEqual(status, 1, out)
        self.assertRegex(out, r'intents/ket_hon\.json: procedure\.processing_time: the reply to '
                              r'"bao lâu thì có" would be \d+ characters')

    def test_an_action_answered_by_a_template_must_name_its_source(self):
        self.edit("huong_dan_vneid", lambda d: d.pop("source"))
        status, out = self.check()
        self.assertEqual(status, 1, out)
        self.assertIn("intents/huong_dan_vneid.json: source: missing", out)


if __name__ == "__main__":
    unittest.main()
