"""Guided submission end to end (issues 4 and 13): every procedure's flow walked
from its readiness checks through every portal screen to "Nộp hồ sơ", the
payment and the closing dossier code (followed after the owner check, timed
in /admin/stats); branches, the commune list, invalid answers, back/edit/
cancel, restart mid-flow, idle expiry, consent and saved-data reuse,
erase-my-data, ratings, staff hand-off, volunteers, /metrics. Through the web
chat, the Telegram stub and the Zalo stub, against a real Redis."""
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import time
import urllib.parse

from harness import (ADMIN_TOKEN, ROOT, Chat, ServiceTest, fee_in_force, payloads, start_flow_past_checks,
                     texts, wait_until)

STAFF_CHAT = -100555000111
STAFF_MEMBER = 7999000111

NAME, NAME_OUT = "lò văn minh", "Lò Văn Minh"
CCCD = "014090001234"
PHONE, PHONE_OUT = "0912 345 678", "0912345678"
COMMUNE = "Chiềng Cơi"
STEP = re.compile(r"Bước (\d+)/(\d+)")
PORTAL_SEARCH = "https://dichvucong.gov.vn/p/home/dvc-tim-kiem-thu-tuc.html?key="
# What VNeID fills in on the portal: a flow never asks it about the user.
VNEID_FILLS = [re.compile(p, re.I) for p in (
    r"(họ và tên|họ tên|tên) (của )?(bạn|anh/chị)\b",
    r"(bạn|anh/chị) tên (là )?gì",
    r"ngày sinh (của )?(bạn|anh/chị)",
    r"(bạn|anh/chị) sinh ngày",
    r"số (căn cước|định danh|cccd)[^?]*(của )?(bạn|anh/chị)\b",
    r"(bạn|anh/chị)[^?]*số (căn cước|định danh|cccd)",
    r"(địa chỉ )?thường trú (hiện nay )?(của )?(bạn|anh/chị)\b",
    r"số điện thoại (của )?(bạn|anh/chị)",
)]


def intent(proc):
    with open(os.path.join(ROOT, "intents", proc + ".json"), encoding="utf-8") as f:
        return json.load(f)


def shared():
    with open(os.path.join(ROOT, "intents", "_flow.json"), encoding="utf-8") as f:
        return json.load(f)


def procedures():
    with open(os.path.join(ROOT, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        rows = [line.split("\t") for line in f if line.strip() and not line.startswith("#")]
    return [r[0] for r in rows if r[1] == "procedure"]


def portal_link(proc):
    """The procedure's own page, or the portal's search for its name."""
    data = intent(proc)
    p = data["procedure"]
    if p.get("portal_code"):
        return p["portal_url"]
    return PORTAL_SEARCH + urllib.parse.quote(data["name"], safe="-._~")


def valid_answer(step, values=None):
    """(what to type, what the bot keeps) for a question step; values may
    replace the defaults by slot type."""
    t = step["type"]
    if values and t in values:
        return values[t]
    if t == "name":
        return NAME, NAME_OUT
    if t == "date":
        if step.get("when") == "future":
            d = datetime.date.today() + datetime.timedelta(days=30)
            return d.strftime("%d/%m/%Y"), d.strftime("%d/%m/%Y")
        return "5/9/2020", "05/09/2020"
    if t == "cccd":
        return CCCD, CCCD
    if t == "phone":
        return PHONE, PHONE_OUT
    if t == "commune":
        return "chieng coi", COMMUNE
    text = "Bản Hua La, xã Chiềng Cơi"
    lo, hi = step.get("min", 2), step.get("max", 200)
    text = (text * 4)[:hi] if len(text) < lo or len(text) > hi else text
    return text.strip() if len(text.strip()) >= lo else text, None


def step_index(reply):
    """The flow step a reply shows, from its buttons (f:<what>:<i>)."""
    for _, p in reply["buttons"]:
        m = re.match(r"f:(next|yes|no|opt|keep|skip|back|cm):(\d+)", p)
        if m:
            return int(m.group(2))
    return None


class Walk:
    """What one walk through a flow saw."""

    def __init__(self, proc):
        self.proc = proc
        self.steps = intent(proc)["flow"]["steps"]
        self.screen_names = {s["id"]: s["name"] for s in shared()["screens"]}
        self.questions = []     # (slot, text of the question)
        self.kept = {}          # label: the answer as the bot keeps it
        self.screens = []       # portal screens walked, in order
        self.numbers = []       # (k, n) of "Bước k/n"
        self.texts = []         # every reply
        self.replies = None     # the replies of the last message

    def see(self, replies):
        self.replies = replies
        self.texts += [r["text"] for r in replies]
        m = STEP.search(replies[-1]["text"])
        if m:
            self.numbers.append((int(m.group(1)), int(m.group(2))))
        return replies

    def screen_text(self, screen_id):
        marker = 'Màn hình "%s"' % self.screen_names[screen_id]
        return "\n".join(t for t in self.texts if marker in t)


def walk(chat, proc, choices=None, values=None, no_checks=False, replies=None, code=None):
    """Walks proc's flow from its start (or from `replies` of a flow in
    progress) to the code step, answering every question: choices {slot: option
    index} (default 0), values by slot type (valid_answer); with no_checks,
    every readiness check is answered "no" first and its help screen checked.
    With code, types it at the code step. Returns the Walk."""
    w = Walk(proc)
    w.see(replies or chat.press("flow:" + proc))
    for _ in range(60):
        last = w.replies[-1]
        pays = [p for _, p in last["buttons"]]
        if "f:nocode" in pays:
            break
        if "f:prof:yes" in pays:
            w.see(chat.press("f:prof:no"))
            continue
        i = step_index(last)
        assert i is not None, (proc, last)
        step = w.steps[i]
        if "check" in step:
            if no_checks:
                detour = w.see(chat.press("f:no:%d" % i))
                assert "f:yes:%d" % i in payloads(detour), (proc, detour)
                assert "f:cancel" in payloads(detour), (proc, detour)
                check_detour(proc, step, detour)
            w.see(chat.press("f:yes:%d" % i))
        elif "ask" in step:
            w.questions.append((step["slot"], last["text"]))
            if step["type"] == "choice":
                k = (choices or {}).get(step["slot"], 0)
                w.kept[step["label"]] = step["options"][k]
                w.see(chat.press("f:opt:%d:%d" % (i, k)))
            else:
                typed, out = valid_answer(step, values)
                w.kept[step["label"]] = out
                w.see(chat.say(typed))
        else:
            w.screens.append(step["screen"])
            w.see(chat.press("f:next:%d" % i))
    else:
        raise AssertionError("%s: no code step after 60 messages" % proc)
    if code:
        w.see(chat.say(code))
    return w


def check_detour(proc, step, detour):
    """The "no" answer of a readiness check shows its help screen."""
    text = detour[-1]["text"]
    if step["check"] == "vneid":
        assert "Làm tài khoản VNeID mức 2" in text, (proc, text)
        assert "i:dinh_danh_dien_tu" in payloads(detour), (proc, detour)
        assert payloads(detour)[0] == "f:cancel", detour  # "Để sau" first: it takes days
    elif step["check"] == "photo":
        assert "Cách chụp ảnh giấy tờ cho rõ" in text, (proc, text)
    elif step["check"] == "chip":
        assert "i:can_cuoc" in payloads(detour), (proc, detour)


def dossier(code, proc, phone=PHONE):
    return {"code": code, "procedure": proc, "applicant_name": "Lò Văn Minh", "phone": phone,
            "id_number": CCCD, "commune": COMMUNE, "agency": "UBND phường Chiềng Cơi",
            "status": "da_tiep_nhan", "received_at": "2026-01-05T08:00:00+07:00",
            "due_at": "2099-01-10", "fee": 0, "paid": False, "submitted_online": True,
            "paid_online": False, "finished_at": "", "note": ""}


def all_strings(redis, key):
    """Every string stored under key, whatever its type."""
    kind = redis("TYPE", key)
    if kind == "string":
        return [redis("GET", key)]
    if kind == "hash":
        return redis("HGETALL", key)
    if kind == "set":
        return redis("SMEMBERS", key)
    if kind == "zset":
        return redis("ZRANGE", key, 0, -1)
    if kind == "list":
        return redis("LRANGE", key, 0, -1)
    return []


class FlowBase(ServiceTest):
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_STAFF_CHATS": "%d, 12345" % STAFF_CHAT}

    def stats(self):
        status, body = self.bot.admin_json("GET", "/admin/stats")
        self.assertEqual(status, 200)
        return body

    def upload(self, *records):
        status, _, body = self.bot.admin("POST", "/admin/dossiers",
                                         "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode(),
                                         headers={"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 200, body)

    def session(self, chat):
        raw = self.redis("GET", "s:{%s}" % chat.key)
        return json.loads(raw) if raw else {}


class FlowWalkTest(FlowBase):
    """Every procedure, walked the way an outsider would."""

    def walk_one(self, proc, n):
        code = "000.00.12.H50-260105-%04d" % n
        chat = Chat(self)
        w = walk(chat, proc, no_checks=n % 2 == 0)   # half of them try "no" at every check
        data, p = intent(proc), intent(proc)["procedure"]
        steps = w.steps
        # readiness checks first: VNeID level 2 (or the chip card for VNeID itself)
        self.assertIn("check", steps[0], proc)
        self.assertIn(steps[0]["check"], ("vneid", "chip"), proc)
        first = w.texts[1] if len(w.texts) > 1 else ""
        self.assertIn("Bước 1/", first, proc)
        # only what the portal cannot fill: no repeated question, nothing VNeID fills
        asked = [slot for slot, _ in w.questions]
        self.assertEqual(len(asked), len(set(asked)), proc)
        for slot, text in w.questions:
            for pattern in VNEID_FILLS:
                self.assertIsNone(pattern.search(text), (proc, slot, text))
            self.assertRegex(text, r'Cần khi điền màn hình "[^"]+" trên Cổng', (proc, slot))
        for step in steps:
            self.assertNotIn(step.get("profile"), ("name", "birth_date", "cccd", "phone"), proc)
        # "bước k/n": one more each time, the last one is the code step
        ks = [k for k, _ in w.numbers]
        self.assertEqual(ks, list(range(1, len(ks) + 1)), (proc, w.numbers))
        self.assertEqual(w.numbers[-1][0], w.numbers[-1][1], (proc, w.numbers))
        # every portal screen to "Nộp hồ sơ" and the payment; the procedure's own link
        for screen in ("find", "submit", "pay"):
            self.assertIn(screen, w.screens, proc)
        self.assertLess(w.screens.index("submit"), len(w.screens), proc)
        self.assertIn("Mở trang thủ tục: " + portal_link(proc), w.screen_text("find"), proc)
        self.assertIn("Lệ phí: " + fee_in_force(p, self.bot.now()), w.screen_text("pay"), proc)
        for label, value in w.kept.items():
            if value is not None:
                self.assertIn("%s: %s" % (label, value), "\n".join(w.texts), (proc, label))
        self.assertIn("Đã nộp xong? Gõ mã hồ sơ", w.replies[-1]["text"], proc)
        # the code: noted, then the owner check, then followed
        r = chat.say(code)
        self.assertIn("Đã ghi nhận mã hồ sơ " + code, r[0]["text"], proc)
        self.assertIn("4 chữ số cuối", r[-1]["text"], proc)
        r = chat.say(PHONE_OUT[-4:])
        self.assertIn("Đã đăng ký", r[0]["text"], (proc, r))
        self.assertIn("hs:unsub:" + code, payloads(r), proc)
        self.assertEqual(self.redis("SISMEMBER", "sub:" + code, chat.key), 1, proc)
        # then, once, the consent to keep the commune (or the rating)
        self.assertTrue("consent:yes" in payloads(r) or "rate:5" in payloads(r), (proc, r))
        self.assertEqual(data["name"] in "\n".join(w.texts), True)
        return proc, len(asked)

    def test_every_procedure_walks_to_submission_payment_and_a_followed_code(self):
        before = self.stats()["flows"]
        procs = procedures()
        self.assertEqual(len(procs), 36)
        self.upload(*[dossier("000.00.12.H50-260105-%04d" % n, proc) for n, proc in enumerate(procs)])
        asked = {}
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for proc, n in pool.map(lambda a: self.walk_one(a[1], a[0]), enumerate(procs)):
                asked[proc] = n
        after = self.stats()["flows"]
        for proc in procs:
            self.assertEqual(after[proc]["started"] - before[proc]["started"], 1, proc)
            self.assertEqual(after[proc]["finished"] - before[proc]["finished"], 1, proc)
            self.assertEqual(after[proc]["code_given"] - before[proc]["code_given"], 1, proc)
            self.assertGreaterEqual(after[proc]["code_durations"], 1, proc)
            self.assertLessEqual(after[proc]["code_median_s"], after[proc]["code_p90_s"])
            self.assertEqual(after[proc]["code_under_5min"], after[proc]["code_durations"], proc)
        self.assertLessEqual(max(asked.values()), 6, asked)


class FlowStepsTest(FlowBase):
    """Inside a flow: checks, branches, communes, invalid answers, moving."""

    def start(self, chat, proc):
        """Starts proc and answers its readiness checks "yes"."""
        return start_flow_past_checks(chat, proc)[0]

    def test_typed_question_and_procedure_button_reach_the_same_flow(self):
        typed = Chat(self, "telegram")
        summary = typed.say("đăng ký khai sinh cho con")
        self.assertIn("flow:khai_sinh", payloads(summary))
        tapped = Chat(self, "telegram")
        summary2 = tapped.press("i:khai_sinh")
        self.assertIn("flow:khai_sinh", payloads(summary2))
        first = typed.press("flow:khai_sinh")
        second = tapped.press("flow:khai_sinh")
        self.assertEqual(texts(first), texts(second))
        self.assertRegex(first[0]["text"], "Làm hết trên điện thoại.*, không phải lên xã")
        self.assertIn("Bước 1/", first[-1]["text"])
        self.assertIn("Anh/chị đã có tài khoản VNeID mức 2 chưa?", first[-1]["text"])
        self.assertEqual(payloads(first)[:2], ["f:yes:0", "f:no:0"])

    def test_no_vneid_account_shows_how_to_get_one_and_stops_or_goes_on(self):
        chat = Chat(self)
        chat.press("flow:ho_chieu")
        r = chat.say("chưa có")                               # typed "no"
        self.assertIn("Công an xã", r[-1]["text"])
        self.assertIn("i:dinh_danh_dien_tu", payloads(r))
        r = chat.press("r:help_vneid_kich_hoat")              # a help screen keeps the flow
        self.assertIn("Kích hoạt VNeID", r[0]["text"])
        self.assertEqual(self.session(chat)["mode"], "flow")
        r = chat.say("có rồi")                                # back on the same check: goes on
        self.assertIn("chụp ảnh ảnh chân dung nền trắng", r[-1]["text"])
        before = self.stats()["flows"]["ho_chieu"]["abandoned"]
        r = chat.press("f:no:1")
        self.assertIn("Cách chụp ảnh giấy tờ cho rõ", r[-1]["text"])
        r = chat.press("f:cancel")
        self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
        self.assertEqual(self.stats()["flows"]["ho_chieu"]["abandoned"], before + 1)

    def test_a_branch_adds_its_steps_and_the_numbers_follow(self):
        steps = intent("khai_sinh")["flow"]["steps"]
        rel = next(i for i, s in enumerate(steps) if s.get("slot") == "quan_he")
        other = steps[rel]["options"].index("Người thân khác")
        extra = next(s["say"] for s in steps if s.get("if") == {"quan_he": "Người thân khác"})
        chat = Chat(self)
        r = self.start(chat, "khai_sinh")
        n = int(STEP.search(r[-1]["text"]).group(2))
        w = walk(chat, "khai_sinh", replies=r, choices={"quan_he": other})
        self.assertIn(extra, "\n".join(w.texts))
        self.assertEqual(w.numbers[-1], (n + 1, n + 1))          # one step more on this branch
        # back to "Mẹ": the branch's step is gone again
        r = chat.say("sửa người đi khai")
        self.assertIn("Anh/chị là gì của trẻ?", r[-1]["text"])
        r = chat.press("f:opt:%d:1" % rel)
        self.assertIn("Đã nộp xong", r[-1]["text"])                # back where the user was
        self.assertEqual(STEP.search(r[-1]["text"]).groups(), (str(n), str(n)))
        # a branch of tro_cap_xa_hoi: the beneficiary's name only when it is not the user
        plain = walk(Chat(self), "tro_cap_xa_hoi")
        other = walk(Chat(self), "tro_cap_xa_hoi", choices={"nguoi_lam": 1})
        self.assertNotIn("ho_ten_nguoi_huong", [s for s, _ in plain.questions])
        self.assertIn("ho_ten_nguoi_huong", [s for s, _ in other.questions])

    def test_communes_come_from_the_2025_list(self):
        steps = intent("tam_tru")["flow"]["steps"]
        at = next(i for i, s in enumerate(steps) if s.get("type") == "commune")
        chat = Chat(self)
        r = self.start(chat, "tam_tru")
        while step_index(r[-1]) != at:
            i = step_index(r[-1])
            s = steps[i]
            r = chat.press("f:opt:%d:0" % i) if s["type"] == "choice" else chat.say(valid_answer(s)[0])
        asked = r[-1]["text"]
        r = chat.say("01/02/2026")                             # a date: refused, nothing likely
        self.assertIn('Chưa tìm thấy xã/phường "01/02/2026" ở Sơn La, Lai Châu', r[0]["text"])
        self.assertIn(asked.split("\n")[0].split(": ", 1)[1], r[0]["text"])   # the same question
        self.assertEqual([p for p in payloads(r) if p.startswith("f:cm:")], [])
        r = chat.say("chieng coii lao")                        # random-ish: likely units as buttons
        self.assertTrue([p for p in payloads(r) if p.startswith("f:cm:%d:" % at)], r)
        r = chat.say("Đoàn Kết")                               # two provinces have one
        self.assertIn("có ở nhiều nơi", r[0]["text"])
        units = [(l, p) for x in r for l, p in x["buttons"] if p.startswith("f:cm:")]
        self.assertEqual(sorted(l for l, _ in units), ["Đoàn Kết (Lai Châu)", "Đoàn Kết (Sơn La)"])
        self.assertIn("i:gap_can_bo", payloads(r))             # third refusal: help is offered
        r = chat.press(dict(units)["Đoàn Kết (Lai Châu)"])
        self.assertEqual(step_index(r[-1]), at + 1)             # taken: the next step
        r = chat.say("sửa xã phường")
        self.assertEqual(step_index(r[-1]), at)
        r = chat.say("xa hua la")                              # an old commune: mapped, said so
        self.assertIn("xã Hua La cũ nay là phường Chiềng Cơi.", r[-1]["text"])
        self.assertEqual(step_index(r[-1]), at + 1)             # back where the user was
        chat.say("sửa xã phường")
        r = chat.say("muong te")                               # a name of today and an old one elsewhere
        self.assertIn("• xã Mường Tè, Lai Châu", r[0]["text"])
        self.assertIn("• xã Song Khủa, Sơn La: có xã Mường Tè cũ", r[0]["text"])
        units = dict((l, p) for x in r for l, p in x["buttons"] if p.startswith("f:cm:"))
        r = chat.press(units["Song Khủa"])
        w = walk(chat, "tam_tru", replies=r)
        self.assertIn("Xã/phường: Song Khủa", w.screen_text("find"))
        chat.press("f:nocode")
        # typos and missing diacritics go straight through
        w = walk(Chat(self), "tam_tru", values={"commune": ("Chieng Coj", None)})
        self.assertIn("Xã/phường: Chiềng Cơi", w.screen_text("find"))

    def test_invalid_answers_are_reasked_with_a_reason_then_help_is_offered(self):
        chat = Chat(self, "telegram")
        r = self.start(chat, "khai_sinh")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        n = STEP.search(r[-1]["text"]).group(1)
        r = chat.say("Nguyen Van 2")
        self.assertIn("chữ cái", r[0]["text"])
        self.assertIn("Bước %s/" % n, r[0]["text"])            # the same question again
        r = chat.say(NAME)
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        future = (datetime.date.today() + datetime.timedelta(days=3)).strftime("%d/%m/%Y")
        r = chat.say(future)
        self.assertIn("chưa tới", r[0]["text"])
        r = chat.say("31/02/2024")
        self.assertIn("không có trên lịch", r[0]["text"])
        self.assertNotIn("i:gap_can_bo", payloads(r))
        r = chat.say("abc")                                    # third failure
        self.assertIn("i:gap_can_bo", payloads(r))
        self.assertIn("f:help", payloads(r))
        r = chat.press("f:help")
        self.assertIn("ngày", texts(r))
        r = chat.press("f:resume")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        r = chat.say("1.2.24")
        self.assertIn("con trai hay con gái", r[-1]["text"])
        r = chat.say("bé")                                     # neither option: refused
        self.assertIn("con trai hay con gái", r[-1]["text"])
        r = chat.say("nữ")                                     # an option typed
        self.assertIn("Anh/chị là gì của trẻ", r[-1]["text"])
        chat.say("hủy")

    def test_back_edit_and_cancel(self):
        chat = Chat(self)
        r = self.start(chat, "khai_sinh")
        n = int(STEP.search(r[-1]["text"]).group(1))
        r = chat.say(NAME)
        r = chat.say("quay lại")
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        self.assertIn(("Giữ: " + NAME_OUT, "f:keep:%d" % (n - 1)), r[-1]["buttons"])
        r = chat.press("f:keep:%d" % (n - 1))
        self.assertIn("Bước %d/" % (n + 1), r[-1]["text"])
        r = chat.press("f:back:%d" % n)
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        r = chat.press("f:back:%d" % n)                         # a double tap: stale
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        r = chat.press("f:yes:0")                               # an old message's button
        self.assertIn("Bước %d/" % n, r[-1]["text"])
        # On to the code step, then correct two answers from there.
        w = walk(chat, "khai_sinh", replies=chat.press("f:keep:%d" % (n - 1)))
        self.assertIn("Họ tên trẻ: " + NAME_OUT, w.screen_text("form"))
        r = chat.press("f:edit")
        self.assertIn("f:edit:ho_ten_tre", payloads(r))
        r = chat.press("f:edit:ho_ten_tre")
        self.assertIn("Trẻ tên là gì", r[-1]["text"])
        r = chat.say("hà thị lan")
        self.assertIn("Đã nộp xong", r[-1]["text"])              # back where we were
        r = chat.say("sửa ngày sinh của trẻ")
        self.assertIn("Trẻ sinh ngày nào", r[-1]["text"])
        r = chat.say("02/03/2021")
        r = chat.press("f:back:%d" % len(w.steps))              # from the code step: the payment screen
        r = chat.say("quay lại")
        r = chat.say("quay lại")
        r = chat.say("quay lại")
        r = chat.say("quay lại")
        self.assertIn('Màn hình "Tờ khai"', r[-1]["text"])
        self.assertIn("Họ tên trẻ: Hà Thị Lan", r[-1]["text"])
        self.assertIn("Ngày sinh của trẻ: 02/03/2021", r[-1]["text"])
        r = chat.say("sửa màu xe")
        self.assertIn("Chưa có mục đó", r[0]["text"])
        before = self.stats()["flows"]["khai_sinh"]["abandoned"]
        r = chat.say("hủy")
        self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
        self.assertIn("flow:khai_sinh", payloads(r))
        r = chat.say("xin chào")                               # no longer in the flow
        self.assertIn("Xin chào", r[0]["text"])
        r = chat.press("f:nocode")                             # stale flow button
        self.assertIn("đã kết thúc", r[0]["text"])
        # finished flows (the code step was reached) are not counted abandoned
        self.assertEqual(self.stats()["flows"]["khai_sinh"]["abandoned"], before)

    def test_start_offers_to_resume_a_running_flow_on_every_channel(self):
        name = intent("ho_chieu")["name"]
        for channel in ("webchat", "telegram"):
            chat = Chat(self, channel)
            chat.press("flow:ho_chieu")
            r = chat.press("f:yes:0")
            k, n = STEP.search(r[-1]["text"]).groups()
            self.assertEqual(k, "2")
            r = chat.say("/start")                               # a reload of the web chat sends it too
            self.assertEqual(len(r), 1, r)
            self.assertEqual(r[0]["text"], "Anh/chị đang làm dở: %s, bước 2/%s — tiếp tục?" % (name, n))
            self.assertEqual(payloads(r), ["f:resume", "f:cancel", "menu"])
            self.assertEqual(self.session(chat)["mode"], "flow")
            r = chat.press("f:resume")
            self.assertIn("Bước 2/%s" % n, r[-1]["text"])
            r = chat.say("/start")
            r = chat.press("f:cancel")
            self.assertIn("Đã dừng hướng dẫn", r[0]["text"])
            r = chat.say("/start")
            self.assertIn("Xin chào", r[0]["text"])              # nothing left to resume

    def test_menu_and_other_questions_leave_a_flow(self):
        chat = Chat(self)
        chat.press("flow:ho_chieu")
        r = chat.say("làm lại căn cước")                       # another question at a check
        self.assertIn("flow:can_cuoc", payloads(r))
        chat.press("flow:ho_chieu")
        r = chat.say("menu")
        self.assertNotIn("Bước", texts(r))

    def test_restart_of_dvcbot_mid_flow_then_continue(self):
        chat = Chat(self, "telegram")
        r = self.start(chat, "khai_tu")
        r = chat.say(NAME)
        k = int(STEP.search(r[-1]["text"]).group(1))
        self.bot.stop()
        self.bot.launch()
        r = chat.say("5/9/2025")
        self.assertIn("Bước %d/" % (k + 1), r[-1]["text"])       # the next question, after the date
        w = walk(chat, "khai_tu", replies=r)
        self.assertIn("Ngày mất: 05/09/2025", w.screen_text("form"))
        self.assertIn("Họ tên người mất: " + NAME_OUT, w.screen_text("form"))


class FlowEndTest(FlowBase):
    """The code step, consent, saved data, ratings, volunteers, hand-off."""

    def test_the_code_step_refuses_dates_and_text_and_can_wait(self):
        chat = Chat(self)
        w = walk(chat, "xac_nhan_cu_tru")
        r = chat.say("05/01/2026")
        self.assertIn("Đây là ngày tháng, chưa phải mã hồ sơ", r[0]["text"])
        self.assertIn("Đã nộp xong? Gõ mã hồ sơ", r[0]["text"])
        r = chat.say("chưa có mã")
        self.assertIn("Chưa thấy mã hồ sơ", r[0]["text"])
        self.assertIn("i:gap_can_bo", payloads(r))             # "Chưa nộp được"
        before = self.stats()["flows"]["xac_nhan_cu_tru"]
        r = chat.press("f:nocode")                             # "Để sau": no code, the flow ends
        self.assertTrue("consent:yes" in payloads(r) or "rate:5" in payloads(r), r)
        self.assertNotIn("flow", self.session(chat))
        after = self.stats()["flows"]["xac_nhan_cu_tru"]
        self.assertEqual(after["code_given"], before["code_given"])
        self.assertEqual(after["abandoned"], before["abandoned"])
        self.assertGreaterEqual(after["finished"], 1)
        self.assertTrue(w.screens)

    def test_a_wrong_owner_proof_does_not_follow_the_dossier(self):
        code = "000.00.12.H50-260105-9001"
        self.upload(dossier(code, "tam_vang"))
        chat = Chat(self, "telegram")
        walk(chat, "tam_vang")
        r = chat.say("mã hồ sơ của tôi là %s nhé" % code)       # a code inside a sentence
        self.assertIn("Đã ghi nhận mã hồ sơ " + code, r[0]["text"])
        r = chat.say("1111")
        self.assertIn("Không tìm thấy hồ sơ", r[0]["text"])
        self.assertEqual(self.redis("SISMEMBER", "sub:" + code, chat.key), 0)
        self.assertEqual(self.stats()["flows"]["tam_vang"]["code_given"], 1)  # timed anyway

    def test_consent_saved_commune_reuse_and_erase_leaves_no_key(self):
        code = "000.00.12.H50-260105-9002"
        self.upload(dossier(code, "khai_sinh", phone="0868 111 222"))
        mine = {"name": ("mùa a sểnh", "Mùa A Sểnh"), "commune": ("Nậm Tăm", "Nậm Tăm")}
        chat = Chat(self, "telegram")
        walk(chat, "khai_sinh", values=mine, code=code)
        r = chat.say("1222")
        self.assertIn("consent:yes", payloads(r))
        self.assertIn("Xã/phường", r[-1]["text"])               # what would be kept
        self.assertEqual(self.redis("EXISTS", "p:{%s}" % chat.key), 0)   # nothing before consent
        r = chat.press("consent:yes")
        self.assertIn("rate:5", payloads(r))
        profile = dict(zip(*[iter(self.redis("HGETALL", "p:{%s}" % chat.key))] * 2))
        self.assertEqual(profile["consent"], "yes")
        self.assertLess(abs(int(profile["consent_at"]) - time.time()), 60)
        self.assertEqual(profile["commune"], "Nậm Tăm")
        self.assertEqual(set(profile) - {"consent", "consent_at", "commune"}, set())
        chat.press("rate:4")
        chat.say("Hướng dẫn rất dễ hiểu")

        # A second flow offers the saved commune as one tap and skips its question.
        r = chat.press("flow:trich_luc_ho_tich")
        self.assertIn("Dùng thông tin đã lưu: Nậm Tăm", r[-1]["text"])
        r = chat.press("f:prof:yes")
        w = walk(chat, "trich_luc_ho_tich", replies=r)
        self.assertNotIn("xa_phuong", [s for s, _ in w.questions])
        self.assertIn("Xã/phường: Nậm Tăm", w.screen_text("find"))
        r = chat.press("f:nocode")
        self.assertNotIn("consent:yes", payloads(r))          # asked once
        self.assertIn("rate:1", payloads(r))

        # Shared structures hold the user too: a ticket, the volunteer set, a subscription.
        chat.say("cho tôi gặp cán bộ")
        chat.press("ho:end")
        self.bot.admin_json("POST", "/admin/volunteers", {"add": [chat.key]})
        chat.press("flow:tam_tru")                                # a flow in progress
        self.assertTrue([k for k in self.redis.keys() if chat.key in k])

        r = chat.say("xóa dữ liệu của tôi")
        self.assertIn("erase:yes", payloads(r))
        r = chat.press("erase:yes")
        self.assertIn("Đã xóa", r[0]["text"])
        self.assertIn("Thông tin cá nhân đã lưu", r[0]["text"])
        self.assertIn("Góp ý của anh/chị", r[0]["text"])
        secret = [chat.key, str(chat.user), "Hướng dẫn rất dễ hiểu"]
        for key in self.redis.keys():
            for s in secret:
                self.assertNotIn(s, key)
                for value in all_strings(self.redis, key):
                    self.assertNotIn(s, value or "", "%s still in %s" % (s, key))

    def test_refused_consent_keeps_nothing_and_is_not_asked_again(self):
        chat = Chat(self)
        walk(chat, "thuong_tru")
        r = chat.press("f:nocode")
        r = chat.press("consent:no")
        self.assertIn("rate:3", payloads(r))
        self.assertEqual(self.redis("HKEYS", "p:{%s}" % chat.key), ["consent", "consent_at"])
        r = chat.press("flow:tam_tru")
        self.assertNotIn("f:prof:yes", payloads(r))

    def test_erase_can_be_declined(self):
        chat = Chat(self)
        chat.say("xin chào")
        r = chat.say("xoa du lieu")
        r = chat.press("erase:no")
        self.assertIn("giữ nguyên", r[0]["text"])
        self.assertEqual(self.redis("EXISTS", "u:{%s}" % chat.key), 1)

    def test_rating_and_comment_are_stored_per_procedure_and_commune(self):
        before = self.stats()
        chat = Chat(self)
        walk(chat, "dang_ky_xe")
        chat.press("f:nocode")
        chat.press("consent:no")
        r = chat.press("rate:5")
        self.assertIn("fb:skip", payloads(r))
        r = chat.say("Nhanh và rõ ràng")
        self.assertIn("Cảm ơn góp ý", r[0]["text"])
        r = chat.press("rate:1")                                 # one rating per flow
        self.assertIn("đã đánh giá", r[0]["text"])
        after = self.stats()
        sat = after["satisfaction"]["dang_ky_xe"]
        old = before["satisfaction"].get("dang_ky_xe", {"count": 0, "stars": {"5": 0}})
        self.assertEqual(sat["count"], old["count"] + 1)
        self.assertEqual(sat["stars"]["5"], old["stars"]["5"] + 1)
        commune = after["communes"]["chieng coi"]
        self.assertEqual(commune["name"], COMMUNE)
        self.assertGreaterEqual(commune["ratings"], 1)
        comments = json.loads(self.redis("LINDEX", "fb:{%s}" % chat.key, 0))
        self.assertEqual(comments["comment"], "Nhanh và rõ ràng")
        self.assertEqual(comments["procedure"], "dang_ky_xe")
        self.assertEqual(comments["stars"], 5)
        self.assertIsNotNone(self.redis("ZSCORE", "{stats}:comments", chat.key))
        self.assertEqual(self.redis("SISMEMBER", "refs:{%s}" % chat.key, "{stats}:comments"), 1)
        r = chat.say("góp ý")
        self.assertIn("rate:3", payloads(r))
        chat.press("rate:3")
        chat.press("fb:skip")
        self.assertGreaterEqual(self.stats()["satisfaction"]["chung"]["count"], 1)

    def test_volunteer_assists_a_resident_without_following_their_dossier(self):
        vol = Chat(self)
        other = Chat(self)
        status, _ = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]}, token=None)
        self.assertEqual(status, 401)
        status, body = self.bot.admin_json("POST", "/admin/volunteers", {"add": ["bad key"]})
        self.assertEqual(status, 400)
        status, body = self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]})
        self.assertEqual((status, body["added"]), (200, 1))
        r = other.say("/hotro")
        self.assertIn("Tổ công nghệ số", r[0]["text"])
        before = self.stats()
        r = vol.say("/hotro")
        self.assertIn("xã/phường nào", r[0]["text"])
        r = vol.say("Tân Uyên")
        self.assertIn("Tân Uyên", r[0]["text"])
        r = vol.press("flow:bhyt_gia_han")
        self.assertNotIn("f:prof:yes", payloads(r))
        w = walk(vol, "bhyt_gia_han", replies=r)
        self.assertNotIn("xa_phuong", [s for s, _ in w.questions])     # the resident's commune
        self.assertIn("Xã/phường: Tân Uyên", w.screen_text("find"))
        self.assertIn("vol:start", payloads(w.replies))
        self.assertIn("hh:start", payloads(w.replies))
        code = "000.00.12.H50-260105-9003"
        r = vol.say(code)
        self.assertIn("nhắn cho bot \"tra cứu hồ sơ %s\"" % code, r[0]["text"])
        self.assertEqual(self.redis("EXISTS", "sub:" + code), 0)     # not on the volunteer's account
        self.assertNotIn("consent:yes", payloads(r))
        self.assertEqual(self.redis("EXISTS", "p:{%s}" % vol.key), 0)
        after = self.stats()
        self.assertEqual(after["volunteers"]["assists_by_volunteer"][vol.key], 1)
        self.assertEqual(after["communes"]["tan uyen"]["assists"], 1)
        self.assertEqual(after["counters"]["assists"], before["counters"].get("assists", 0) + 1)
        self.assertEqual(after["flows"]["bhyt_gia_han"]["code_given"], 1)
        r = vol.press("vol:start")                              # the next resident
        self.assertIn("xã/phường nào", r[0]["text"])
        r = vol.press("vol:end")
        self.assertIn("Đã kết thúc", r[0]["text"])

    def test_a_volunteer_names_the_residents_commune_from_the_2025_list(self):
        vol = Chat(self)
        self.assertEqual(self.bot.admin_json("POST", "/admin/volunteers", {"add": [vol.key]})[0], 200)
        vol.say("/hotro")
        r = vol.say("01/02/2026")                                  # a date is no commune
        self.assertIn("Chưa tìm thấy xã/phường", r[0]["text"])
        self.assertIn("vol:end", payloads(r))
        self.assertNotIn("assist", self.session(vol))
        r = vol.say("xa chieng ngan")                              # an old commune, no diacritics
        self.assertIn("xã Chiềng Ngần cũ nay là phường Chiềng Sinh", r[0]["text"])
        self.assertIn("Đang hỗ trợ người dân xã/phường Chiềng Sinh", texts(r))
        self.assertEqual(self.session(vol)["assist"]["commune"], "Chiềng Sinh")
        vol.press("vol:start")
        r = vol.say("Đoàn Kết")                                    # one in each province
        units = [p for p in payloads(r) if p.startswith("vol:cm:")]
        self.assertEqual(len(units), 2, r)
        self.assertNotIn("assist", self.session(vol))
        r = vol.press(units[1])
        commune = self.session(vol)["assist"]["commune"]
        self.assertIn("Đoàn Kết", commune)
        self.assertIn("Đang hỗ trợ người dân xã/phường " + commune, texts(r))
        # a unit button outside the commune question starts nothing
        other = Chat(self)
        other.press(units[0])
        self.assertNotIn("assist", self.session(other))

    def test_handoff_round_trip_through_the_staff_chat(self):
        staff = Chat(self, "telegram", user=STAFF_MEMBER, chat=STAFF_CHAT)
        user = Chat(self, "telegram")
        seen = len(self.tg.sent_to(STAFF_CHAT))
        r = user.say("cho tôi gặp cán bộ")
        self.assertIn("ho:end", payloads(r))
        ticket = self.redis("HGET", "ho:{%s}" % user.key, "ticket")
        self.assertIn("#" + ticket, r[0]["text"])
        new = [c["json"]["text"] for c in self.tg.sent_to(STAFF_CHAT)[seen:]]
        self.assertTrue(any("#" + ticket in t and "cho tôi gặp cán bộ" in t for t in new), new)
        self.assertEqual(len(new), 1)
        self.assertTrue(any("#" + ticket in c["json"]["text"] for c in self.tg.sent_to(12345)))
        staff_before = len(self.tg.sent_to(STAFF_CHAT))
        r = user.say("khai sinh cho con cần giấy tờ gì?")
        self.assertIn("Đã chuyển", r[0]["text"])
        self.assertNotIn("flow:khai_sinh", payloads(r))
        r = user.say("xin chào")
        self.assertEqual(r, [])                                 # acknowledged once, not answered
        forwarded = [c["json"]["text"] for c in self.tg.sent_to(STAFF_CHAT)[staff_before:]]
        self.assertTrue(any("khai sinh cho con" in t for t in forwarded))
        self.assertTrue(any("xin chào" in t for t in forwarded))
        r = staff.say("/reply %s Chào bạn, cần giấy chứng sinh." % ticket)
        self.assertIn("Đã gửi", texts(r))
        got = self.tg.sent_to(user.user)[-1]["json"]["text"]
        self.assertIn("Chào bạn, cần giấy chứng sinh.", got)
        r = staff.say("hôm nay đông quá")                       # chatter among staff: ignored
        self.assertEqual(r, [])
        r = staff.say("/reply 999999 hello")
        self.assertIn("Không có phiếu", texts(r))
        r = staff.say("/lenh")
        self.assertIn("/reply", texts(r))
        r = staff.say("/close@dvcbot %s" % ticket)
        self.assertIn("Đã đóng", texts(r))
        self.assertIn("kết thúc hỗ trợ", self.tg.sent_to(user.user)[-1]["json"]["text"])
        r = staff.say("/reply %s muộn rồi" % ticket)
        self.assertIn("Không có phiếu #" + ticket, texts(r))
        r = user.say("xin chào")
        self.assertIn("Xin chào", r[0]["text"])
        self.assertEqual(self.redis("EXISTS", "ho:{%s}" % user.key), 0)

    def test_handoff_reply_reaches_a_webchat_user(self):
        staff = Chat(self, "telegram", user=STAFF_MEMBER, chat=STAFF_CHAT)
        user = Chat(self)
        r = user.press("i:gap_can_bo")
        ticket = self.redis("HGET", "ho:{%s}" % user.key, "ticket")
        self.assertTrue(ticket)
        r = user.say("/start")                                  # still waiting for staff
        self.assertIn("ho:end", payloads(r))
        staff.say("/reply %s Xin chào từ cán bộ" % ticket)
        status, _, body = self.bot.request("GET", "/webchat/messages?user=" + user.user)
        inbox = json.loads(body)["replies"]
        self.assertTrue(any("Xin chào từ cán bộ" in m["text"] for m in inbox), inbox)
        r = user.press("ho:end")
        self.assertIn("Đã kết thúc", r[0]["text"])
        wait_until(lambda: any("đã kết thúc phiếu #" + ticket in c["json"]["text"]
                               for c in self.tg.sent_to(STAFF_CHAT)), what="the staff notice")

    def test_admin_stats_needs_a_token_and_reports_durations(self):
        status, _ = self.bot.admin_json("GET", "/admin/stats", token=None)
        self.assertEqual(status, 401)
        status, _ = self.bot.admin_json("GET", "/admin/stats", token="wrong-token-0123456789")
        self.assertEqual(status, 403)
        chat = Chat(self)
        chat.say("đổi bằng lái xe")
        walk(chat, "doi_gplx", code="000.00.12.H50-260105-9004")
        stats = self.stats()
        f = stats["flows"]["doi_gplx"]
        self.assertGreaterEqual(f["finished"], 1)
        for k in ("median_s", "p90_s", "durations", "started", "abandoned", "code_given",
                  "code_median_s", "code_p90_s", "code_durations", "code_under_5min"):
            self.assertIn(k, f)
        self.assertEqual(f["code_given"], 1)
        self.assertLessEqual(f["median_s"], f["p90_s"])
        self.assertGreaterEqual(stats["intents"]["doi_gplx"], 1)
        m = self.bot.metrics()
        self.assertGreaterEqual(m['dvcbot_flows_total{procedure="doi_gplx",event="finished"}'], 1)
        self.assertGreaterEqual(m['dvcbot_flow_duration_seconds_count{procedure="doi_gplx"}'], 1)


PENDING = "Hồ sơ chưa có trong hệ thống tra cứu; khi có, tôi sẽ báo anh/chị."


class FlowPendingFollowTest(FlowBase):
    """A dossier submitted a minute ago is not in Redis yet: its code at the
    end of a flow becomes a pending follow, checked when staff systems upsert
    the dossier — no wrong try counted, nothing learned before the check."""

    def counted(self, code, *chats):
        """The wrong tries counted against the dossier, everyone and the chats' accounts."""
        keys = ["hs:g:d:" + code] + ["hs:g:s:" + hashlib.sha256(("acct:" + c.key).encode()).hexdigest()
                                     for c in chats]
        return [self.redis("HGET", k, "n") for k in keys] + [self.redis("HGET", "hs:g:all", "n")]

    def end_flow_with(self, chat, proc, code, proof):
        walk(chat, proc)
        r = chat.say(code)
        self.assertIn("Đã ghi nhận mã hồ sơ " + code, r[0]["text"])
        return chat.say(proof)

    def test_the_owner_is_told_plainly_and_followed_once_the_dossier_arrives(self):
        code = "000.00.12.H50-261201-7001"
        owner, guesser = Chat(self, "telegram"), Chat(self, "telegram")
        r = self.end_flow_with(owner, "tam_vang", code, "5678")     # last 4 digits of PHONE
        self.assertIn(PENDING, r[0]["text"])
        self.assertTrue({"consent:yes", "rate:5"} & set(payloads(r)), r)  # the flow's closing questions
        everyone = self.redis("HGET", "hs:g:all", "n")
        r = self.end_flow_with(guesser, "tam_vang", code, "1111")
        self.assertIn(PENDING, r[0]["text"])                      # the same words: nothing learned
        self.assertEqual(self.counted(code, owner, guesser), [None, None, None, everyone])  # nothing counted
        self.assertEqual(self.redis("EXISTS", "sub:" + code), 0)
        seen = len(self.tg.sent_to(guesser.user))
        before = len(self.tg.sent_to(owner.user))
        self.upload(dossier(code, "tam_vang"))
        notice = wait_until(lambda: self.tg.sent_to(owner.user)[before:], what="the owner's notice")[0]
        self.assertIn(code, notice["json"]["text"])
        self.assertEqual(self.redis("SMEMBERS", "sub:" + code), [owner.key])
        self.assertEqual(self.redis("EXISTS", "hs:p:" + code), 0)
        # the wrong proof was checked then, and counted like a try at that moment
        self.assertEqual(self.redis("HGET", "hs:g:d:" + code, "n"), "1")
        self.assertEqual(self.counted(code, guesser)[1], "1")
        self.assertEqual(self.counted(code, owner)[1], None)
        self.assertEqual(len(self.tg.sent_to(guesser.user)), seen)   # and told nothing
        self.assertEqual(self.redis("ZRANGE", "dossier:access:" + code, 0, -1), [owner.key])

    def test_an_existing_dossier_is_checked_at_once_as_before(self):
        code = "000.00.12.H50-261201-7002"
        self.upload(dossier(code, "tam_vang"))
        chat = Chat(self, "telegram")
        r = self.end_flow_with(chat, "tam_vang", code, "1111")
        self.assertIn("Không tìm thấy hồ sơ", r[0]["text"])
        self.assertNotIn(PENDING, r[0]["text"])
        self.assertEqual(self.redis("HGET", "hs:g:d:" + code, "n"), "1")
        self.assertEqual(self.redis("EXISTS", "hs:p:" + code), 0)

    def test_pending_follows_are_bounded_per_user_and_erased_with_the_user(self):
        chat = Chat(self, "telegram")
        codes = ["000.00.12.H50-261201-71%02d" % i for i in range(5)]
        for code in codes[:3]:
            r = self.end_flow_with(chat, "tam_vang", code, "5678")
            self.assertIn(PENDING, r[0]["text"])
        r = self.end_flow_with(chat, "tam_vang", codes[3], "5678")    # one too many
        self.assertIn("Không tìm thấy hồ sơ", r[0]["text"])
        self.assertNotIn(PENDING, r[0]["text"])
        self.assertEqual(self.redis("HGET", "hs:g:d:" + codes[3], "n"), "1")  # a wrong try
        # erase-my-data takes the user out of the pending follows
        chat.say("xóa dữ liệu của tôi")
        chat.press("erase:yes")
        for code in codes[:3]:
            self.assertEqual(self.redis("HKEYS", "hs:p:" + code), [])
        self.upload(dossier(codes[0], "tam_vang"))
        self.assertEqual(self.redis("EXISTS", "sub:" + codes[0]), 0)


class FlowPendingExpiryTest(FlowBase):
    def test_a_pending_follow_ends_after_a_week(self):
        code = "000.00.12.H50-261201-7201"
        chat = Chat(self, "telegram")
        walk(chat, "tam_vang")
        chat.say(code)
        self.assertIn(PENDING, chat.say("5678")[0]["text"])
        self.bot.advance_clock(8 * 24 * 3600)
        before = len(self.tg.sent_to(chat.user))
        self.upload(dossier(code, "tam_vang"))
        wait_until(lambda: self.redis("EXISTS", "hs:p:" + code) == 0, what="the pending follow settled")
        self.assertEqual(self.redis("EXISTS", "sub:" + code), 0)
        self.assertEqual(len(self.tg.sent_to(chat.user)), before)


class FlowCodeTimeTest(FlowBase):
    """The time to the code counts from the flow's start, on the test clock."""

    def test_minutes_spent_in_the_flow_are_the_time_to_the_code(self):
        chat = Chat(self)
        r = chat.press("flow:tach_ho")
        self.bot.advance_clock(170)
        w = walk(chat, "tach_ho", replies=r)
        self.bot.advance_clock(200)                           # 6 min 10 s in all: over 5 minutes
        chat.say("000.00.12.H50-260105-9005")
        f = self.stats()["flows"]["tach_ho"]
        self.assertEqual(f["code_given"], 1)
        self.assertGreaterEqual(f["code_median_s"], 370)
        self.assertLess(f["code_median_s"], 370 + 60)
        self.assertEqual(f["code_under_5min"], 0)
        self.assertGreaterEqual(f["median_s"], 170)              # to the code step
        self.assertTrue(w.questions)


class FlowExpiryTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "DVCBOT_FLOW_IDLE": "2"}

    def abandoned(self, proc):
        status, body = self.bot.admin_json("GET", "/admin/stats")
        return body["flows"][proc]["abandoned"]

    def test_idle_flow_expires_and_the_user_is_told_on_the_next_message(self):
        chat, restarting = Chat(self), Chat(self)
        chat.press("flow:khai_tu")
        restarting.press("flow:khai_tu")
        self.bot.advance_clock(3)
        r = chat.say("xin chào")
        self.assertIn("hết hạn", r[0]["text"])
        self.assertIn("flow:khai_tu", payloads(r))
        self.assertIn("Xin chào", r[1]["text"])                 # and the message is answered
        r = chat.press("f:yes:0")
        self.assertIn("đã kết thúc", r[0]["text"])
        r = restarting.say("/start")                            # nothing to resume: told, then greeted
        self.assertIn("hết hạn", r[0]["text"])
        self.assertIn("Xin chào", r[1]["text"])
        self.assertEqual(self.abandoned("khai_tu"), 2)          # counted once each (sweep or reply)

    def test_sweep_counts_a_flow_left_idle_as_abandoned(self):
        chat = Chat(self)
        chat.press("flow:ket_hon")
        self.assertEqual(self.abandoned("ket_hon"), 0)
        self.bot.advance_clock(3)  # past DVCBOT_FLOW_IDLE: the sweep runs at once
        wait_until(lambda: self.abandoned("ket_hon") == 1, what="the sweep")
        self.assertEqual(self.redis("ZSCORE", "{stats}:active", chat.key), None)
        m = self.bot.metrics()
        self.assertEqual(m['dvcbot_flows_total{procedure="ket_hon",event="abandoned"}'], 1)


class FlowOnZaloTest(ServiceTest):
    """The guided flows work the same on a Zalo OA as on Telegram."""
    zalo = True

    def test_flows_walk_to_the_end_on_zalo(self):
        for proc in ("khai_sinh", "ket_hon", "can_cuoc"):
            chat = Chat(self, "zalo")
            summary = chat.say(intent(proc)["name"])
            self.assertIn("flow:" + proc, payloads(summary))
            w = walk(chat, proc)
            self.assertIn("Mở trang thủ tục: " + portal_link(proc), w.screen_text("find"))
            self.assertIn("submit", w.screens)
            self.assertIn("pay", w.screens)
            for call in self.zl.sent_to(chat.user):
                self.assertLessEqual(len(call["json"]["message"]["text"]), 2000)

    def test_erase_on_zalo_leaves_no_key_once_its_answer_is_sent(self):
        chat = Chat(self, "zalo")
        chat.say("xin chào")
        r = chat.say("xóa dữ liệu của tôi")
        self.assertIn("erase:yes", payloads(r))
        r = chat.press("erase:yes")
        self.assertIn("Đã xóa", r[0]["text"])
        self.bot.inbox("zlerase%08d" % self.next_id())
        self.assertEqual([k for k in self.redis.keys() if chat.user in k], [])

    def test_erase_on_zalo_leaves_no_key_when_its_answer_is_refused(self):
        chat = Chat(self, "zalo")
        chat.say("xin chào")
        chat.say("xóa dữ liệu của tôi")
        self.zl.script("cs", (200, {"error": -230, "message": "no interaction in 7 days"}))
        chat.press("erase:yes")
        wait_until(lambda: self.bot.metrics().get(
            'dvcbot_zalo_send_errors_total{reason="no_recent_interaction"}', 0) >= 1,
            what="the refusal")
        self.bot.inbox("zlerase%08d" % self.next_id())
        self.assertEqual([k for k in self.redis.keys() if chat.user in k], [])
