#!/usr/bin/env python3
"""The lines `dvcbot classify --explain` is compared on when a change must not
change any reply (bench/README.md, sessions 10-11): bench/matcher_lines.txt,
every field of the unsealed tests/data/*.tsv sets (never *_sealed.tsv), every
string value in intents/*.json (examples, mentions, claims, replies...) and a
few hand-made lines for the folding's corners (case, full-width, đ/Đ, marks
typed apart, emoji, punctuation, invalid UTF-8, long lines). Bytes to stdout,
one line each.

    python3 bench/explain_corpus.py > /tmp/corpus.txt
    DVCBOT_DATA_DIR=. build/dvcbot classify --explain < /tmp/corpus.txt > after.txt
"""
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EDGES = [
    "DANG KY KHAI SINH", "Đăng Ký Khai Sinh", "ĐĂNG KÝ  khai-sinh!", "dang ky khai sinh???",
    "ｄａｎｇ ｋｙ ｋｈａｉ ｓｉｎｈ", "hòa hoà thủy thuỷ", "Đ đ Ð ð", "đk tạm trú",
    "xin chào ạ", "hỏi người có công ạ", "cảm ơn ạ", "Ạ", "chào anh ạ", "alo ạ",
    "dạ em chào chị ạ", "ạ ạ ạ", "thank u ạ", "chao a", "chao ạ",
    "lam can cuoc 😀😀", "tạm trú 🙏", "cccd\u00a0mat", "cccd\u200bmat", "a\u0301o",
    "KHAI SINH\tCHO CON", "ho chieu ﬁ ligature ½ ²", "İstanbul ß ǅ Ω K Å", "tam tru\r",
    "x" * 600, "dang ky " * 80, "", " ", "...", "123 456", "0912345678", "a" * 2000,
    "dang ky khai sinh " + "\u1ea1" * 40, "ΑΒΓ абв 中文 한국어 ไทย", "\u0300\u0301 đầu",
]
BAD = [b"dang ky \xff khai sinh", b"\xc3\x28", b"tam tru \xe1\xba", b"\xed\xa0\x80 x",
       b"ok \xf4\x90\x80\x80"]


def strings(o):
    if isinstance(o, str):
        yield o
    elif isinstance(o, dict):
        for v in o.values():
            yield from strings(v)
    elif isinstance(o, list):
        for v in o:
            yield from strings(v)


def main():
    out = sys.stdout.buffer
    lines = []
    with open(os.path.join(ROOT, "bench/matcher_lines.txt"), encoding="utf-8") as f:
        lines += f.read().splitlines()
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/data/*.tsv"))):
        if path.endswith("_sealed.tsv"):
            continue
        with open(path, encoding="utf-8") as f:
            for ln in f.read().splitlines():
                if ln and not ln.startswith("#"):
                    lines += ln.split("\t")
    for path in sorted(glob.glob(os.path.join(ROOT, "intents/*.json"))):
        with open(path, encoding="utf-8") as f:
            for s in strings(json.load(f)):
                lines += s.splitlines()
    lines += EDGES
    for ln in lines:
        out.write(ln.replace("\r", "").encode("utf-8") + b"\n")
    for b in BAD:
        out.write(b + b"\n")


if __name__ == "__main__":
    main()
