"""A procedure done at the office only (online "truc_tiep" in its intent file:
the VNeID level-2 account is made at the Công an xã): every reply about it
names the guided-flow button for what it does — getting ready and going
there — never "nộp trực tuyến", and the guide it opens says the same. Before,
its summary, full view and fee/documents/time/who replies offered "Hướng dẫn
nộp trực tuyến" for a procedure nobody can submit online. Every office-only
procedure of intents/ is checked, as the web chat user gets it."""
import json
import os

from harness import ROOT, Chat, ServiceTest

VISIT_LABEL = "Hướng dẫn đi làm trực tiếp"
FACT_QUESTIONS = ("phí bao nhiêu", "cần giấy tờ gì", "bao lâu thì có", "nộp ở đâu",
                  "làm online được không", "ai được làm")


def procedures_by_online():
    out = {}
    with open(os.path.join(ROOT, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        ids = [line.split("\t")[0] for line in f if "\tprocedure\t" in line]
    for pid in ids:
        with open(os.path.join(ROOT, "intents", pid + ".json"), encoding="utf-8") as f:
            out[pid] = json.load(f)["procedure"]["online"]
    return out


class OfficeOnlyTest(ServiceTest):
    telegram = False

    def flow_labels(self, replies, pid):
        return [label for r in replies for label, payload in r["buttons"] if payload == "flow:" + pid]

    def test_every_reply_about_an_office_only_procedure_names_its_button_for_the_visit(self):
        office = [pid for pid, online in procedures_by_online().items() if online == "truc_tiep"]
        self.assertIn("dinh_danh_dien_tu", office)
        wrong = []
        for pid in office:
            chat = Chat(self, "webchat", user="office_" + pid)
            asked = [("i:" + pid, chat.press("i:" + pid)), ("full:" + pid, chat.press("full:" + pid))]
            asked += [(q, chat.say(q)) for q in FACT_QUESTIONS]
            for what, replies in asked:
                labels = self.flow_labels(replies, pid)
                if labels != [VISIT_LABEL]:
                    wrong.append("%s, %s: %s" % (pid, what, labels))
        self.assertEqual(wrong, [])

    def test_the_guide_of_an_office_only_procedure_prepares_a_visit(self):
        chat = Chat(self, "webchat", user="office_flow")
        intro = chat.press("flow:dinh_danh_dien_tu")[0]["text"]
        self.assertTrue(intro.startswith(VISIT_LABEL + ": "), intro)
        self.assertNotIn("nộp trực tuyến", intro)
        self.assertIn("Làm trực tiếp tại cơ quan", intro)

    def test_a_procedure_submitted_online_keeps_its_online_button(self):
        online = [pid for pid, kind in procedures_by_online().items() if kind != "truc_tiep"]
        chat = Chat(self, "webchat", user="office_online")
        for pid in online[:3]:
            self.assertEqual(self.flow_labels(chat.press("i:" + pid), pid), ["Hướng dẫn nộp trực tuyến"])
