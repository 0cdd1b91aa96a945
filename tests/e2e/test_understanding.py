"""The reply a new user gets, judged end to end (issue 12): every line of the
DEV parts of the realistic test sets (tests/data/README.md) is sent as a fresh
Telegram user through /webhook/telegram and the first reply is compared with
the expected id (tests/e2e/understanding.py says how a reply is recognised).
The goals: at least 95 % of the lines get the right reply, at most 5 % of the
off-topic lines are answered as a procedure, at most 3 % of the in-scope lines
get "not understood". The SEALED parts are not run here: bench/understanding.sh
prints their figure, reported in bench/README.md."""
import os
import unittest

import understanding
from harness import ROOT

DEV_SETS = ["realistic_villager", "realistic_teen", "realistic_elder_volunteer", "offtopic"]


class UnderstandingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = understanding.Service().__enter__()
        cls.procedures = understanding.procedures_of(ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.service.__exit__(None, None, None)

    def judge(self, names):
        results, unserved = [], 0
        for name in names:
            rows = understanding.load_set(os.path.join(ROOT, "tests", "data", name + ".tsv"))
            served, left = understanding.served_rows(self.service.judge, rows)
            unserved += left
            results += understanding.judge_rows(self.service.judge, served)
        return results, unserved

    def test_dev_sets_meet_the_goals(self):
        results, unserved = self.judge(DEV_SETS)
        f = understanding.figures(results, self.procedures)
        report = understanding.report_line("dev", f) + f"; {unserved} lines expect ids not served yet"
        wrong = "\n".join(f"  want {'|'.join(sorted(w))}, got {g}: {t}"
                          for t, w, g, right in results if not right)
        # lines expecting an id with no answer of its own yet are counted apart
        # (understanding.served_rows); each id's answer is the catalog's business
        self.assertGreaterEqual(f["right_pct"], 95.0, report + "\n" + wrong)
        self.assertLessEqual(f["false_accept_pct"], 5.0, report + "\n" + wrong)
        self.assertLessEqual(f["rejected_pct"], 3.0, report + "\n" + wrong)

    def test_the_issue_lines_get_their_answers(self):
        """Section 2 of issue 12: the act wins, with the procedure as context."""
        judge = self.service.judge
        lines = ["nop ho so khai sinh tuan truoc ma gio chua thay tra ket qua",
                 "da nop hs doi bang lai roi, gio tra tien le phi qua momo dc ko",
                 "xoa sdt va so cccd toi da nhap", "to cao can bo xa nhung nhieu",
                 "can bo xa lam viec cham", "ke chuyen cuoi di", "cai dat zalo tren dien thoai"]
        replies = judge.ask(lines)
        got = [judge.name(r) for r in replies]
        self.assertEqual(got, ["tra_cuu_ho_so", "thanh_toan", "xoa_du_lieu", "khieu_nai",
                               "khieu_nai", "khac", "khac"])
        self.assertIn("khai sinh", replies[0]["text"].lower())   # the dossier's procedure
        self.assertIn("Lệ phí", replies[1]["text"])              # the fee first
        self.assertIn("i:doi_gplx", replies[1]["payloads"])

    def test_an_office_only_procedures_fact_answers_are_named_for_it(self):
        """A procedure done at the office only (online "truc_tiep") answers
        "where" and "online?" with its own templates ("Nơi làm – <name>:"):
        the judge names them for the procedure, as it does the others'."""
        judge = self.service.judge
        replies = judge.ask(["dinh danh dien tu muc 2 lam o dau",
                             "dinh danh dien tu muc 2 lam online duoc khong",
                             "khai sinh nop o dau"])
        self.assertTrue(replies[0]["text"].startswith("Nơi làm – "), replies[0]["text"])
        self.assertEqual([judge.name(r) for r in replies],
                         ["dinh_danh_dien_tu", "dinh_danh_dien_tu", "khai_sinh"])

    def test_what_do_you_need_stands_for_out_of_scope(self):
        """A line that asks nothing yet ("ạ", "bản Nà Sản") gets "what do you
        need?" (khac.json "nothing_asked"); the judge names it khac, as it
        does the out-of-scope answers."""
        judge = self.service.judge
        replies = judge.ask(["ạ", "bản Pá Khoang", "ubnd xa o dau"])
        self.assertIn("cần hỏi việc gì", replies[0]["text"])
        self.assertEqual([judge.name(r) for r in replies], ["khac", "khac", "khac"])

    def test_menu_a_lone_yes_and_bare_service_words_are_judged_for_their_reply(self):
        """"Menu" typed gets the main menu and a lone "ừ" the polite "Dạ, cần
        hỏi gì" (yes_no_alone): right replies the judge did not recognise. "các
        dịch vụ công trực tuyến" got the VNeID screens and "muốn làm giấy tờ"
        "which one?" between land and another procedure: both now get what the
        bot helps with (tro_giup claims, narrow: the words alone)."""
        judge = self.service.judge
        replies = judge.ask(["Menu", "ừ", "các dịch vụ công trực tuyến", "muốn làm giấy tờ",
                             "dang nhap dich vu cong"])
        self.assertEqual([judge.name(r) for r in replies],
                         ["tro_giup", "khac", "tro_giup", "tro_giup", "huong_dan_vneid"])
        self.assertIn("Tôi có thể giúp anh/chị", replies[2]["text"])
        self.assertNotIn("VNeID", replies[2]["text"].split("\n")[0])


if __name__ == "__main__":
    unittest.main()
