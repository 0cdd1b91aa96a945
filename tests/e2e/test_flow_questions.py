"""A question about one fact typed in the middle of a guided flow ("phí bao
nhiêu", "cần giấy tờ gì", "bao lâu thì có?"): the answer comes above the
step, which stays, and the flow goes on (src/flow.c answers_fact, the words
of src/followup.c). Where the flow expects an answer (the child's name), such
a question is never kept as the answer; a name holding a facet word is.
Against a real Redis, through the Telegram stub."""
import json
import os
import re

from harness import ROOT, Chat, ServiceTest, fee_in_force, payloads, start_flow_past_checks

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
        r, i = start_flow_past_checks(chat, "khai_sinh")
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


def template_first_line(name):
    with open(os.path.join(ROOT, "templates", name + ".txt"), encoding="utf-8") as f:
        return [ln.rstrip("\n") for ln in f if not ln.startswith("##")][0]


class PausedFlowTest(ServiceTest):
    """A flow left for another question stays in the session: "tiếp tục"
    goes back to its step, "hủy" ends it; with nothing in progress, "hủy"
    gets a polite "nothing in progress", not "not understood"."""

    def session(self, chat):
        raw = self.redis("GET", "s:{%s}" % chat.key)
        return json.loads(raw) if raw else {}

    def leave_at_the_second_check(self, chat):
        chat.press("flow:khai_sinh")
        at = step_of(chat.press("f:yes:0"))
        self.assertEqual(at[0], 2)
        r = chat.say("lam cccd")                            # another procedure: the flow pauses
        self.assertIn(procedure("can_cuoc")["name"], r[0]["text"])
        s = self.session(chat)
        self.assertIsNone(s.get("mode"))
        self.assertEqual(s["flow"]["id"], "khai_sinh")
        return at

    def test_tiep_tuc_goes_back_to_the_step(self):
        chat = Chat(self, "telegram")
        at = self.leave_at_the_second_check(chat)
        r = chat.say("tiếp tục")
        self.assertEqual(step_of(r), at, r)
        self.assertEqual(self.session(chat).get("mode"), "flow")
        r = chat.press("f:yes:1")
        self.assertEqual(step_of(r)[0], 3, r)

    def test_huy_ends_the_paused_flow(self):
        chat = Chat(self, "telegram")
        self.leave_at_the_second_check(chat)
        r = chat.say("thôi")
        self.assertIn("Đã dừng hướng dẫn " + procedure("khai_sinh")["name"], r[0]["text"])
        self.assertNotIn("flow", self.session(chat))
        r = chat.say("hủy")                                 # now nothing is in progress
        self.assertEqual(r[0]["text"].split("\n")[0], template_first_line("flow_none"))

    def test_huy_with_nothing_in_progress(self):
        chat = Chat(self, "telegram")
        r = chat.say("huy")
        self.assertEqual(len(r), 1, r)
        self.assertEqual(r[0]["text"].split("\n")[0], template_first_line("flow_none"))
        self.assertIn("menu", payloads(r))
        self.assertNotEqual(r[0]["text"].split("\n")[0], template_first_line("unknown"))


class NoStaffTest(ServiceTest):
    """Without staff chats, "gặp cán bộ" says who else helps: the
    community digital-technology team of the village and the commune's
    one-stop office (the bot's volunteers run flows for residents)."""

    def test_asking_for_a_person_names_the_volunteers_and_the_one_stop_office(self):
        chat = Chat(self, "telegram")
        for line in ("gặp cán bộ", "toi muon noi chuyen voi can bo"):
            r = chat.say(line)
            self.assertEqual(len(r), 1, r)
            self.assertIn("Tổ công nghệ số cộng đồng", r[0]["text"])
            self.assertIn("một cửa", r[0]["text"])
            self.assertIn("menu:thu_tuc", payloads(r))
