"""Walking guided flows in end-to-end tests: the intents a flow comes from,
a valid answer for each kind of question, walk() (a whole flow from its
readiness checks to the code step, recording what it saw), the dossier record
staff upload for a flow's code, and FlowBase (a service with a staff chat,
/admin/stats and upload). Used by test_flows.py, test_flow_end.py,
test_conversations.py and test_webchat_browser.py."""
import datetime
import json
import os
import re
import urllib.parse

from harness import ADMIN_TOKEN, ROOT, ServiceTest, payloads

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
        if step.get("when") in ("future", "upcoming"):
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
