"""What the catalog answers, end to end through the web chat API: the
procedure summary with its "Xem đầy đủ" button and the full view behind it."""
import json
import os

from harness import ROOT, ServiceTest

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
        self.assertIn("Lệ phí: Miễn", summary["text"])  # exemptions are not cut off
        self.assertIn(ELLIPSIS, summary["text"])
        buttons = [(b["label"], b["payload"]) for b in summary["buttons"]]
        self.assertIn(("Xem đầy đủ", "full:can_cuoc"), buttons)
        full = self.say("catalogfull01", button="full:can_cuoc")[0]
        self.assertNotIn(ELLIPSIS, full["text"])
        self.assertIn(proc["fee_text"], full["text"])
        for doc in proc["documents"]:
            self.assertIn(doc, full["text"])
        self.assertEqual(full["buttons"][0]["payload"], "flow:can_cuoc")

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
