#!/usr/bin/env python3
"""python3 bench/capture_compact.py SRC DST (redis12d, measurement only): rewrites the window's outbox_commit_many_flat FCALLs as the prototype's
outbox_commit_many_flat2: commits of dedupe 1, op k/s, one reply, no ref
sent as form, chat, user, [session], text, buttons."""
import os, re, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
tok = re.compile(r'"((?:[^"\\]|\\.)*)"')
out, inwin, n, c, all_ = [], False, 0, 0, 0
for line in open(os.path.join(src, "monitor.log"), encoding="latin-1"):
    if '"redis-cost:start"' in line:
        inwin = True
    m = re.match(r'(\S+) (\[[^\]]*\]) "FCALL" "outbox_commit_many_flat" "(\d+)" ', line)
    if inwin and m:
        ts, who, nk = m.group(1), m.group(2), int(m.group(3))
        toks = tok.findall(line)
        head, at = toks[:3 + nk + 5], 3 + nk + 5
        head[1] = "outbox_commit_many_flat2"
        body = []
        while at < len(toks):
            own = int(toks[at]); a = toks[at + 1:at + 1 + own]
            d, op, sess, chat, ref, user, nn = a[:7]
            all_ += 1
            if own == 9 and d == "1" and op in ("k", "s") and ref == "" and nn == "1" and (op == "s" or sess == ""):
                body += ["1" + op, chat, user] + ([sess] if op == "s" else []) + a[7:9]
                c += 1
            else:
                body += toks[at:at + 1 + own]
            at += 1 + own
        out.append("%s %s %s\n" % (ts, who, " ".join('"%s"' % t for t in head + body)))
        n += 1
        continue
    out.append(line)
open(os.path.join(dst, "monitor.log"), "w", encoding="latin-1").writelines(out)
print("rewrote", n, "FCALLs,", c, "of", all_, "commits compact")
