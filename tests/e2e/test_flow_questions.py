"""A question about one fact typed in the middle of a guided flow ("phí bao
nhiêu", "cần giấy tờ gì", "bao lâu thì có?"): the answer comes above the
step, which stays, and the flow goes on (src/flow.c answers_fact, the words
of src/followup.c). Where the flow expects an answer (the child's name), such
a question is never kept as the answer; a name holding a facet word is.
Against a real Redis, through the Telegram stub."""
import json
import os
import re

from harness import ROOT, Chat, ServiceTest, fee_in_force, payloads

STEP = re.compile(r"Bước (\d+)/(\d+)")


def procedure(ident):
    with open(os.path.join(ROOT, "intents", ident + ".json"), encoding="utf-8") as f:
        return json.load(f)


def step_of(replies):
    """(k, n) of the "Bước k/n" the last reply shows."""
    m = STEP.search(replies[-1]["text"])
    return (int(m.group(1)), int(m.group(2))) if m else None


class FactQuestionInFlowTest(ServiceTest):

    def flow_state(self, chat):
        raw = self.redis("GET", "s:{%s}" % chat.key)
        session = json.loads(raw) if raw else {}
        return session.get("mode"), session.get("flow", {})

    def to_name_question(self, chat):
        """Starts khai sinh's flow and answers its readiness checks: the
        child's name is asked next."""
        steps = procedure("khai_sinh")["flow"]["steps"]
        r = chat.press("flow:khai_sinh")
        i = 0
        while "check" in steps[i]:
            r = chat.press("f:yes:%d" % i)
            i += 1
        self.assertEqual(steps[i].get("type"), "name", steps[i])
        return r, steps[i]

    def test_fee_and_documents_at_a_check_keep_the_step(self):
        chat = Chat(self, "telegram")
        p = procedure("khai_sinh")["procedure"]
        first = chat.press("flow:khai_sinh")
        at = step_of(first)
        self.assertEqual(at[0], 1, first)
        r = chat.say("phi bao nhieu")
        self.assertEqual(len(r), 1, r)
        self.assertIn(fee_in_force(p, self.bot.now()), r[0]["text"])
        self.assertEqual(step_of(r), at, r)                 # the same step, below the fact
        self.assertEqual(payloads(r)[:2], ["f:yes:0", "f:no:0"])
        self.assertNotIn("flow:khai_sinh", payloads(r))     # the step's buttons, not the fact reply's
        r = chat.say("can giay to gi")
        for doc in p["documents"][:2]:
            self.assertIn(doc.split(";")[0][:40], r[0]["text"])
        self.assertEqual(step_of(r), at, r)
        self.assertEqual(self.flow_state(chat)[0], "flow")  # still in the flow
        r = chat.press("f:yes:0")
        self.assertEqual(step_of(r)[0], 2, r)

    def test_a_question_at_the_name_step_is_not_kept_as_the_name(self):
        chat = Chat(self, "telegram")
        p = procedure("khai_sinh")["procedure"]
        asked, step = self.to_name_question(chat)
        at = step_of(asked)
        r = chat.say("phi bao nhieu")
        self.assertIn(fee_in_force(p, self.bot.now()), r[0]["text"])
        self.assertEqual(step_of(r), at, r)                 # the name is still asked
        r = chat.say("bao lâu thì có kết quả?")
        self.assertIn(p["processing_time"][:40], r[0]["text"])
        self.assertEqual(step_of(r), at, r)
        mode, flow = self.flow_state(chat)
        self.assertEqual(mode, "flow")
        self.assertNotIn(step["slot"], flow.get("a", {}))
        r = chat.say("Lò Văn Phí")                          # a name with a fee word in it
        self.assertEqual(step_of(r)[0], at[0] + 1, r)
        self.assertEqual(self.flow_state(chat)[1]["a"][step["slot"]], "Lò Văn Phí")

    def test_another_procedure_s_fee_is_answered_and_the_flow_stays(self):
        chat = Chat(self, "telegram")
        asked, _ = self.to_name_question(chat)
        cccd = procedure("can_cuoc")
        r = chat.say("lam can cuoc het bao nhieu tien")
        self.assertIn(cccd["name"], r[0]["text"].split("\n", 1)[0])
        self.assertIn(fee_in_force(cccd["procedure"], self.bot.now())[:60], r[0]["text"])
        self.assertEqual(step_of(r), step_of(asked), r)
        self.assertEqual(self.flow_state(chat)[1]["id"], "khai_sinh")

    def test_flow_commands_and_check_answers_are_not_questions(self):
        chat = Chat(self, "telegram")
        chat.press("flow:khai_sinh")
        r = chat.say("có rồi")                              # the check's typed "yes"
        self.assertEqual(step_of(r)[0], 2, r)
        r = chat.say("hủy")
        self.assertIsNone(step_of(r), r)
        self.assertIsNone(self.flow_state(chat)[0])
