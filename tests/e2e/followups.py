"""Judges follow-up questions end to end: each conversation of a labelled set
(tests/data/followups.tsv) is a fresh Telegram user who sends a first message
(a procedure question, or nothing) and then a follow-up that names no
procedure, through /webhook/telegram (real dvcbot, real Redis, Telegram
stub). The reply to the follow-up is judged by what it says:

  <id>:fee|docs|time|place|online|who  the fact reply of templates/followup_*
      names procedure <id> and holds that fact of intents/<id>.json (the fee
      in force today, the first document, the processing time, the agency
      and the portal page, the portal page, who it is for);
  <id>:summary  the procedure's summary (its signature, understanding.Judge);
  ask           "which procedure?" (templates/followup_ask, topic buttons);
  act:<id>      the act's own answer (understanding.Judge names it).

Figures: right reply %, per kind of expectation, and how many first turns did
not show the procedure the follow-up is about (those count as wrong: the user
got no context).

    python3 tests/e2e/followups.py [--bin BUILD/dvcbot] [--root DIR] [--details] [SET.tsv]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import understanding  # noqa: E402

FACETS = {"fee": "fee", "docs": "documents", "time": "time", "place": "place",
          "online": "online", "who": "audience"}
DEFAULT_SET = os.path.join(harness.ROOT, "tests", "data", "followups.tsv")


def load_set(path):
    """[(first or None, followup, frozenset of expectations)]."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            first, follow, want = line.split("\t")
            rows.append((None if first == "-" else first, follow, frozenset(want.split("|"))))
    return rows


def facts(root, ident):
    with open(os.path.join(root, "intents", ident + ".json"), encoding="utf-8") as f:
        return json.load(f)


def head(s, n=40):
    """The start of a fact as a reply shows it (long fields are cut with '…')."""
    return s[:n]


class FollowupJudge:
    """Runs conversations on an understanding.Service and judges the replies."""

    def __init__(self, svc):
        self.svc = svc
        self.judge = svc.judge
        self.root = svc.root
        self.names = understanding.procedure_names(self.root)
        self.kinds = []  # (regex with the name as group 1, facet)
        for facet in FACETS.values():
            pat = understanding.named_pattern(self.root, "followup_" + facet)
            if pat:
                self.kinds.append((pat, facet))
        self.ask = understanding.template_pattern(self.root, "followup_ask")
        self.procedures = understanding.procedures_of(self.root)

    # ---------------------------------------------------------------- sending
    def _send(self, pairs, buttons=False):
        """Sends (user, text) updates at once; returns once all are handled
        and delivered."""
        svc = self.svc
        mark = harness.delivery_mark(svc)
        make = harness.tg_callback if buttons else harness.tg_message
        updates = [make(self.judge.next_user + 10**6 + i, u, t) for i, (u, t) in enumerate(pairs)]
        self.judge.next_user += len(pairs)  # keeps update ids apart
        statuses = self.judge._send_all(updates)
        assert all(s == 200 for s in statuses), statuses
        harness.settle(svc, mark, handled=len(pairs))

    def _replies(self, user):
        out = []
        for call in self.svc.tg.of("sendMessage"):
            body = call["json"] or {}
            if body.get("chat_id") == user:
                markup = body.get("reply_markup") or {}
                out.append({"text": body.get("text", ""),
                            "payloads": [b.get("callback_data", "") for row in
                                         markup.get("inline_keyboard", []) for b in row]})
        return out

    def converse(self, rows):
        """[(first reply or None, follow-up reply)] per row."""
        users = self.judge._users(len(rows))
        firsts = [(u, r[0]) for u, r in zip(users, rows) if r[0] is not None]
        if firsts:
            self._send(firsts)
        seen = {u: len(self._replies(u)) for u in users}
        self._send([(u, r[1]) for u, r in zip(users, rows)])
        out = []
        for u, r in zip(users, rows):
            replies = self._replies(u)
            first = replies[0] if r[0] is not None and replies else None
            follow = replies[seen[u]] if len(replies) > seen[u] else None
            out.append((first, follow))
        return out

    # ---------------------------------------------------------------- judging
    def fact_reply(self, reply):
        """(procedure id, facet) of a followup_* reply, or None."""
        line = understanding.first_line(reply["text"])
        for pat, facet in self.kinds:
            m = pat.match(line)
            if m and m.group(1) in self.names:
                return self.names[m.group(1)], facet
        return None

    def holds_fact(self, reply, ident, facet):
        """The reply says the fact of ident's facts, as the catalog has it."""
        p = facts(self.root, ident)["procedure"]
        text = reply["text"]
        if facet == "fee":
            return head(harness.fee_in_force(p, self.svc.bot.now())) in text
        if facet == "documents":
            return head(p["documents"][0]) in text
        if facet == "time":
            return head(p["processing_time"]) in text
        if facet == "place":
            return head(p["agency"]) in text and p["portal_url"] in text
        if facet == "online":
            return p["portal_url"] in text
        return head(p["audience"]) in text

    def name(self, reply):
        """What a follow-up reply is: '<id>:<facet key>', '<id>:summary',
        'ask', 'act:<id>', or a description of something else."""
        if reply is None:
            return "(no reply)"
        fr = self.fact_reply(reply)
        if fr:
            ident, facet = fr
            key = [k for k, v in FACETS.items() if v == facet][0]
            return f"{ident}:{key}" if self.holds_fact(reply, ident, facet) else f"{ident}:{key}(wrong text)"
        line = understanding.first_line(reply["text"])
        if self.ask and self.ask.match(line) and any(p.startswith("menu:thu_tuc") for p in reply["payloads"]):
            return "ask"
        got = self.judge.name(reply)
        if isinstance(got, tuple):
            return "which:" + ",".join(got[1:])
        if got in self.procedures:
            return f"{got}:summary"
        if got:
            return f"act:{got}"
        return "?" + line[:50]

    def judge_rows(self, rows):
        """Per row: (first, follow, want, got, right, first_ok)."""
        out = []
        for (first, follow, want), (r1, r2) in zip(rows, self.converse(rows)):
            got = self.name(r2)
            # the first message should have shown a procedure: the context
            first_ok = first is None or "ask" in want or self.judge.name(r1) in self.procedures
            out.append((first, follow, want, got, got in want, first_ok))
        return out


def kind_of(want):
    w = sorted(want)[0]
    if w == "ask":
        return "no context"
    if w.startswith("act:"):
        return "acts"
    return w.split(":")[1]


def figures(results):
    n = len(results)
    right = sum(r[4] for r in results)
    by = {}
    for r in results:
        k = kind_of(r[2])
        a, b = by.get(k, (0, 0))
        by[k] = (a + r[4], b + 1)
    return {"lines": n, "right": right, "right_pct": 100.0 * right / n if n else 0.0,
            "by_kind": by, "first_missed": sum(not r[5] for r in results)}


def report_line(name, f):
    kinds = ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(f["by_kind"].items()))
    return (f"{name}: {f['lines']} conversations, right reply {f['right_pct']:.1f}% ({f['right']}); "
            f"{kinds}; first turn not the procedure {f['first_missed']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=None)
    ap.add_argument("--root", default=None, help="checkout whose intents/ and templates/ the binary uses")
    ap.add_argument("--details", action="store_true")
    ap.add_argument("sets", nargs="*", default=[DEFAULT_SET])
    args = ap.parse_args()
    root = os.path.abspath(args.root) if args.root else None
    with understanding.Service(os.path.abspath(args.bin) if args.bin else None, root) as svc:
        fj = FollowupJudge(svc)
        for path in args.sets:
            results = fj.judge_rows(load_set(path))
            print(report_line(os.path.basename(path), figures(results)))
            if args.details:
                for first, follow, want, got, right, first_ok in results:
                    if not right or not first_ok:
                        print(f"   want {'|'.join(sorted(want)):30} got {got:30} "
                              f"{first or '-'} / {follow}{'' if first_ok else '  (first turn missed)'}")


if __name__ == "__main__":
    main()
