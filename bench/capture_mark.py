#!/usr/bin/env python3
"""python3 bench/capture_mark.py SRC DST: rewrites a capture kept by bench/redis_cost.py --keep
(monitor.log) as library 18's build sends
its loads: FCALL dialog_load* -> dialog_mark*, each followed in the same write by
MGET of its sessions (the 4th of each load's 5 keys). Window only."""
import os, re, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
tok = re.compile(r'"((?:[^"\\]|\\.)*)"')
out, inwin, n = [], False, 0
for line in open(os.path.join(src, "monitor.log"), encoding="latin-1"):
    if '"redis-cost:start"' in line:
        inwin = True
    m = re.match(r'(\S+) (\[[^\]]*\]) "FCALL" "(dialog_load_many_flat|dialog_load)" "(\d+)" ', line)
    if inwin and m:
        ts, who, fn, nk = m.group(1), m.group(2), m.group(3), int(m.group(4))
        toks = tok.findall(line)
        keys = toks[3:3 + nk]
        new = "dialog_mark_many_flat" if fn == "dialog_load_many_flat" else "dialog_mark"
        out.append(line.replace('"%s"' % fn, '"%s"' % new, 1))
        out.append('%s %s "MGET" %s\n' % (ts, who, " ".join('"%s"' % k for k in keys[3::5])))
        n += 1
        continue
    out.append(line)
open(os.path.join(dst, "monitor.log"), "w", encoding="latin-1").writelines(out)
print("rewrote", n, "loads")
