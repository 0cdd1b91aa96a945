"""What the user already said is not asked again: the words of the line
that brought a procedure ("làm lại căn cước bị mất") answer its guided
flow's question ("Anh/chị cần làm gì?"), and an option said in the user's
own words ("1 năm") is taken at the question. The phrases are the step's
"said" lists in intents/<id>.json. Against a real Redis, through the web
chat."""
import json

from harness import Chat, ServiceTest, payloads, start_flow_past_checks

ASK_WHAT = "Anh/chị cần làm gì?"


def text_of(replies):
    return "\n".join(r["text"] for r in replies)


class FirstLineAnswersTest(ServiceTest):
    telegram = False

    def test_a_lost_card_is_not_asked_what_to_do(self):
        # "toi bi mat can cuoc muon lam lai", then "Hướng dẫn nộp trực
        # tuyến": step 2 asked "Anh/chị cần làm gì? [Làm thẻ lần đầu, Đổi
        # thẻ, Làm lại (mất thẻ)]" as if the user had said nothing.
        chat = Chat(self)
        r = chat.say("toi bi mat can cuoc muon lam lai")
        self.assertIn("flow:can_cuoc", payloads(r))
        r = chat.press("flow:can_cuoc")
        said = text_of(r)
        self.assertIn("đã chọn sẵn: Việc cần làm: Làm lại (mất thẻ)", said)
        self.assertIn("f:edit:loai", payloads(r))              # a way to change it
        r = chat.press("f:yes:0")                              # VNeID: yes
        self.assertNotIn(ASK_WHAT, text_of(r))
        self.assertIn("Công an xã/phường nào", r[-1]["text"])
        flow = json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]
        self.assertEqual(flow["a"]["loai"], "Làm lại (mất thẻ)")
        r = chat.press("f:edit:loai")                          # "Chọn lại"
        self.assertIn(ASK_WHAT, r[-1]["text"])
        r = chat.say("doi the")
        flow = json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]
        self.assertEqual(flow["a"]["loai"], "Đổi thẻ")

    def test_a_line_that_says_nothing_or_both_is_still_asked(self):
        # "mất bao lâu" is time, not a lost card; "làm lại ... bị hỏng"
        # names two options: the question is asked.
        for line in ("lam can cuoc o dau", "lam can cuoc mat bao lau",
                     "lam lai can cuoc vi bi hong"):
            chat = Chat(self)
            chat.say(line)
            r, _ = start_flow_past_checks(chat, "can_cuoc")
            self.assertNotIn("đã chọn sẵn", text_of(r), line)
            self.assertIn(ASK_WHAT, r[-1]["text"], line)

    def test_the_note_stays_for_questions_about_it_and_goes_with_another_request(self):
        # "phí bao nhiêu" after the lost card: still about it, the flow
        # knows; another procedure asked about in between: asked again.
        chat = Chat(self)
        chat.say("mat cccd thi lam the nao")
        chat.say("phí bao nhiêu")
        r = chat.press("flow:can_cuoc")
        self.assertIn("Làm lại (mất thẻ)", text_of(r))
        chat = Chat(self)
        chat.say("mat cccd thi lam the nao")
        chat.say("dang ky tam tru")
        r, _ = start_flow_past_checks(chat, "can_cuoc")
        self.assertIn(ASK_WHAT, r[-1]["text"])


class OptionInUserWordsTest(ServiceTest):
    telegram = False

    def test_one_year_is_twelve_months(self):
        # "Đóng cho bao nhiêu tháng? [3 tháng, 6 tháng, 12 tháng]": "1 nam"
        # got "Chưa rõ anh/chị chọn gì".
        for typed, kept in (("1 nam", "12 tháng"), ("nửa năm", "6 tháng")):
            chat = Chat(self)
            start_flow_past_checks(chat, "bhyt_gia_han")
            chat.say("4 người")
            r = chat.say(typed)
            self.assertNotIn("Chưa rõ", text_of(r), typed)
            flow = json.loads(self.redis("GET", "s:{%s}" % chat.key))["flow"]
            self.assertEqual(flow["a"]["so_thang"], kept, typed)
