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
