"""Judges what a new user gets back: each line of a labelled test set is sent
as a fresh Telegram user through /webhook/telegram (real dvcbot, real Redis,
Telegram stub) and the FIRST reply is compared with the expected catalog id.

How a reply is recognised: before the lines, every catalog id is asked once
by its button ("i:<id>", as if the user had asked about it) and the first
line of each answer is kept as that id's signature (a procedure's summary,
the lookup prompt, the complaint path, the thanks reply, the not-understood
fallback for khac...). The answer to an out-of-scope topic another office
serves (intents/khac.json "outside": social insurance) stands for khac, and
so does "what do you need?" to a line that asks nothing yet (a particle
alone, only a village's name: "nothing_asked" of khac.json).
The answers that depend on what the user named (the lookup or payment
prompt for a named procedure) are recognised from their templates. "Which one did you mean?" with the expected procedure among its
two buttons counts as right and is counted apart.

Figures per set: right reply %, off-topic lines answered as a procedure
(false accepts, over the lines whose id is khac), in-scope lines answered
with the not-understood fallback (rejected, over the others).

    python3 tests/e2e/understanding.py [--bin BUILD/dvcbot] [--root DIR]
        [--details] tests/data/realistic_villager.tsv ...

--root is the checkout whose intents/ and templates/ the binary uses (to
measure another build, e.g. main before a change). --details lists every
wrong line; it is refused for files whose name contains "_sealed" (those
are run for the figure only).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import basics  # noqa: E402
import harness  # noqa: E402

FALLBACK = "khac"
CONCURRENCY = 16


def load_set(path):
    """[(text, ids)] of a TSV file: text<TAB>id, or several acceptable ids
    joined by "|"; '#' comments and blank lines skipped."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#") or "\t" not in line:
                continue
            text, ident = line.rsplit("\t", 1)
            rows.append((text, frozenset(ident.strip().split("|"))))
    return rows


def catalog_ids(root):
    with open(os.path.join(root, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        return [ln.split("\t")[0] for ln in f if ln.strip() and not ln.startswith("#")]


def first_line(text):
    return (text or "").strip().split("\n", 1)[0].strip()


def template_pattern(root, name):
    """A regex for the first line of templates/<name>.txt, {{var}} matching anything."""
    path = os.path.join(root, "templates", name + ".txt")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        body = [ln.rstrip("\n") for ln in f if not ln.startswith("##")]
    text = "\n".join(body).split("\n---", 1)[0]
    parts = re.split(r"\{\{[a-z0-9_]+\}\}", first_line(text))
    return re.compile("^" + ".*?".join(re.escape(p) for p in parts) + "$", re.S)


FACT_TEMPLATES = ("fee", "documents", "time", "place", "online", "audience", "papers")


def named_pattern(root, name):
    """A regex for the first line of templates/<name>.txt whose group 1 is
    {{name}} (other variables match anything), or None."""
    path = os.path.join(root, "templates", name + ".txt")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        body = [ln.rstrip("\n") for ln in f if not ln.startswith("##")]
    parts = re.split(r"(\{\{[a-z0-9_]+\}\})", body[0] if body else "")
    rx = "".join("(.+?)" if p == "{{name}}" else ".*?" if p.startswith("{{") else re.escape(p)
                 for p in parts)
    return re.compile("^" + rx + "$")


def fact_templates(root):
    """The names of the fact answers' templates: followup_<fact> and its
    variants followup_<fact>_<kind> (e.g. followup_place_truc_tiep)."""
    names = os.listdir(os.path.join(root, "templates"))
    return sorted(n[:-4] for n in names for f in FACT_TEMPLATES
                  if n.endswith(".txt") and (n == "followup_%s.txt" % f or n.startswith("followup_%s_" % f)))


def procedure_names(root):
    """{Vietnamese name: id} of the catalog's procedures."""
    names = {}
    for ident in procedures_of(root):
        with open(os.path.join(root, "intents", ident + ".json"), encoding="utf-8") as f:
            names[json.load(f)["name"]] = ident
    return names


def outside_replies(root):
    """The templates answering out-of-scope topics ("outside" of khac.json)
    and lines that ask nothing yet ("nothing_asked")."""
    with open(os.path.join(root, "intents", FALLBACK + ".json"), encoding="utf-8") as f:
        fallback = json.load(f)
    replies = [t["reply"] for t in fallback.get("outside", [])]
    if "reply" in fallback.get("nothing_asked", {}):
        replies.append(fallback["nothing_asked"]["reply"])
    return replies


class Judge:
    """Sends lines as fresh users and names the id each first reply stands for."""

    def __init__(self, bot, tg, root):
        self.bot = bot
        self.tg = tg
        self.root = root
        self.next_user = 8100000000
        self.signatures = {}  # first line -> id
        self.variants = []    # (regex, id) for replies that depend on the line
        for name, ident in (# "menu" typed: the main menu, what tro_giup ("Trợ giúp, menu") stands for
                            ("menu", "tro_giup"),
                            # a lone "ừ", "uh" with nothing asked: "Dạ. Anh/chị cần hỏi gì…", no answer
                            ("yes_no_alone", FALLBACK),
                            ("lookup_ask_code_for", "tra_cuu_ho_so"),
                            ("lookup_ask_code_pay_for", "thanh_toan"),
                            # don_vi_hanh_chinh naming a unit, or asking about old papers
                            ("commune_answer_old", "don_vi_hanh_chinh"),
                            ("commune_answer_today", "don_vi_hanh_chinh"),
                            ("commune_answer_choose", "don_vi_hanh_chinh"),
                            ("commune_answer_papers", "don_vi_hanh_chinh"),
                            # a dossier code in the line: its 4 digits are asked, to show or pay
                            ("lookup_ask_pin", ("code", "tra_cuu_ho_so", "thanh_toan"))):
            pat = template_pattern(root, name)
            if pat:
                self.variants.append((pat, ident))
        # an out-of-scope line naming a topic another office serves gets
        # that topic's answer (intents/khac.json "outside"): the khac reply
        for reply in outside_replies(root):
            pat = template_pattern(root, reply)
            if pat:
                self.variants.append((pat, FALLBACK))
        self.ask_which = template_pattern(root, "ask_which")
        # a question about one fact of a procedure it names ("khai sinh het bao
        # nhieu tien") is answered with that fact (templates/followup_*.txt,
        # first line naming the procedure): the reply stands for the procedure
        # (and its variants, followup_<fact>_<kind>.txt: "Nơi làm – <name>:" for
        # a procedure done at the office only)
        self.facts = [p for p in (named_pattern(root, name) for name in fact_templates(root)) if p]
        self.proc_names = procedure_names(root)

    def _users(self, n):
        start = self.next_user
        self.next_user += n
        return list(range(start, start + n))

    def _send_all(self, updates):
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            statuses = list(pool.map(lambda u: self.bot.telegram(u)[0], updates))
        return statuses

    def _first_replies(self, users, timeout):
        """{user: first sendMessage body}, waiting until each user has one."""
        want = set(users)
        deadline = time.time() + timeout
        firsts = {}
        while True:
            for call in self.tg.of("sendMessage"):
                body = call["json"] or {}
                chat = body.get("chat_id")
                if chat in want and chat not in firsts:
                    firsts[chat] = body
            if len(firsts) == len(want) or time.time() > deadline:
                return firsts
            time.sleep(0.05)

    def ask(self, texts, buttons=False, timeout=60):
        """The first reply to each text (or button payload) from a fresh user."""
        users = self._users(len(texts))
        make = harness.tg_callback if buttons else harness.tg_message
        updates = [make(u, u, t) for u, t in zip(users, texts)]
        statuses = self._send_all(updates)
        firsts = self._first_replies(users, timeout * harness.SLOW)
        out = []
        for u, status in zip(users, statuses):
            body = firsts.get(u)
            if status != 200 or body is None:
                out.append(None)
            else:
                markup = body.get("reply_markup") or {}
                payloads = [b.get("callback_data", "") for row in markup.get("inline_keyboard", [])
                            for b in row]
                out.append({"text": body.get("text", ""), "payloads": payloads})
        return out

    def calibrate(self):
        """Learns each id's answer. An id answered with the not-understood
        fallback has no answer of its own (listed in self.unanswered)."""
        ids = [FALLBACK] + [i for i in catalog_ids(self.root) if i != FALLBACK]
        replies = self.ask(["i:" + i for i in ids], buttons=True)
        self.unanswered = []
        for ident, reply in zip(ids, replies):
            if reply is None:
                raise AssertionError(f"no answer to the button of {ident}")
            line = first_line(reply["text"])
            other = self.signatures.get(line)
            if other == FALLBACK:
                self.unanswered.append(ident)
            elif other and other != ident:
                raise AssertionError(f"{ident} and {other} answer alike: {line!r}")
            else:
                self.signatures[line] = ident

    def name(self, reply):
        """The id a reply stands for: an id; ("ask", a, b) for "which one?";
        ("code", ids...) for a reply right for any of ids; or None."""
        if reply is None:
            return None
        line = first_line(reply["text"])
        if self.ask_which and self.ask_which.match(line):
            opts = [p[2:] for p in reply["payloads"] if p.startswith("i:")]
            return ("ask",) + tuple(opts)
        if line in self.signatures:
            return self.signatures[line]
        for pat in self.facts:
            m = pat.match(line)
            if m and m.group(1) in self.proc_names:
                return self.proc_names[m.group(1)]
        for pat, ident in self.variants:
            if pat.match(line):
                return ident
        return None


def served_rows(judge, rows):
    """The lines at least one of whose ids the catalog serves, and the number
    of the others (ids agreed for this round but not in the catalog yet, or
    without an answer of their own): those are counted apart."""
    served = set(judge.signatures.values())
    keep = [r for r in rows if r[1] & served]
    return keep, len(rows) - len(keep)


def judge_rows(judge, rows):
    """Per line: (text, expected, got, right)."""
    replies = judge.ask([t for t, _ in rows])
    out = []
    for (text, want), reply in zip(rows, replies):
        got = judge.name(reply)
        right = got in want or (isinstance(got, tuple) and bool(want & set(got[1:])))
        out.append((text, want, got, right))
    return out


def is_procedure(got, procedures):
    return (isinstance(got, tuple) and got[0] == "ask") or got in procedures


def figures(results, procedures):
    n = len(results)
    right = sum(r[3] for r in results)
    off = [r for r in results if FALLBACK in r[1]]
    ins = [r for r in results if FALLBACK not in r[1]]
    fa = sum(is_procedure(r[2], procedures) and not r[3] for r in off)
    rej = sum(r[2] == FALLBACK for r in ins)
    asked = sum(isinstance(r[2], tuple) and r[2][0] == "ask" and r[3] for r in results)
    return {"lines": n, "right": right, "right_pct": 100.0 * right / n if n else 0.0,
            "offtopic": len(off), "false_accepts": fa,
            "false_accept_pct": 100.0 * fa / len(off) if off else 0.0,
            "inscope": len(ins), "rejected": rej,
            "rejected_pct": 100.0 * rej / len(ins) if ins else 0.0, "asked_which": asked}


def procedures_of(root):
    with open(os.path.join(root, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        return {ln.split("\t")[0] for ln in f
                if ln.strip() and not ln.startswith("#") and ln.split("\t")[1] == "procedure"}


class Service:
    """Redis + Telegram stub + dvcbot for judging; a context manager."""

    def __init__(self, binary=None, root=None):
        self.binary = binary
        self.root = root or harness.ROOT

    def __enter__(self):
        if self.binary:
            basics.BIN = self.binary  # what Dvcbot runs
        self.tmp = tempfile.mkdtemp(prefix="dvcbot-judge-")
        self.redis = harness.Redis.start(self.tmp)
        self.tg = harness.TelegramStub.start()
        env = {"DVCBOT_DATA_DIR": self.root, "DVCBOT_TELEGRAM_RATE": "100000",
               "DVCBOT_LOG_LEVEL": "warn"}
        self.bot = harness.Dvcbot.start(self.tmp, self.redis, telegram=self.tg, env=env)
        self.judge = Judge(self.bot, self.tg, self.root)
        self.judge.calibrate()
        return self

    def __exit__(self, *exc):
        try:
            self.bot.stop()
        finally:
            self.tg.stop()
            self.redis.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)


def report_line(name, f):
    strict = 100.0 * (f['right'] - f['asked_which']) / f['lines'] if f['lines'] else 0.0
    return (f"{name}: {f['lines']} lines, right reply {f['right_pct']:.1f}% ({f['right']}; "
            f"{strict:.1f}% without 'which one?'), "
            f"off-topic answered as a procedure {f['false_accept_pct']:.1f}% "
            f"({f['false_accepts']}/{f['offtopic']}), in-scope not understood "
            f"{f['rejected_pct']:.1f}% ({f['rejected']}/{f['inscope']}), "
            f"'which one?' {f['asked_which']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=None)
    ap.add_argument("--root", default=None)
    ap.add_argument("--details", action="store_true")
    ap.add_argument("sets", nargs="+")
    args = ap.parse_args()
    root = os.path.abspath(args.root) if args.root else harness.ROOT
    procedures = procedures_of(root)
    everything = []
    with Service(os.path.abspath(args.bin) if args.bin else None, root) as svc:
        if svc.judge.unanswered:
            print("ids answered with the not-understood fallback:", " ".join(svc.judge.unanswered))
        for path in args.sets:
            rows, unserved = served_rows(svc.judge, load_set(path))
            results = judge_rows(svc.judge, rows)
            everything += results
            print(report_line(os.path.basename(path), figures(results, procedures)) +
                  (f"; {unserved} lines expect ids not served yet" if unserved else ""))
            if args.details and "_sealed" not in os.path.basename(path):
                for text, want, got, right in results:
                    if not right:
                        print(f"   want {'|'.join(sorted(want)):22} got {str(got):22} {text}")
    if len(args.sets) > 1:
        print(report_line("all", figures(everything, procedures)))


if __name__ == "__main__":
    main()
