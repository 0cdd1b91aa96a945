"""The blind matcher test sets in tests/data/ stay usable and stay blind.

Checks the files themselves, not the matcher: every line parses, every expected label is a
catalog id (or one of the ids agreed for this round, until the catalog engineer adds them),
the DEV and SEALED parts do not share a line, the realistic villager set covers every agreed
id, and no test line has been copied into the training examples under intents/.
See tests/data/README.md.
"""
import glob
import json
import os
import re
import unicodedata
import unittest

ROOT = os.environ.get("DVCBOT_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
SETS = ["realistic_villager", "realistic_teen", "realistic_elder_volunteer", "offtopic"]
# Sets written later as a whole SEALED file (no DEV part): tests/data/fresh<N>_sealed.tsv.
FRESH_SEALED_GLOB = "fresh*_sealed.tsv"

# Ids agreed in the team brief for this round (issue 12 acts, issue 13 procedures), on top of
# the 30 ids of intents/_catalog.tsv. Kept here so the check passes before and after the catalog
# engineer adds them.
AGREED_NEW = {
    "dinh_danh_dien_tu", "dang_ky_lai_khai_sinh", "trich_luc_ho_tich", "cai_chinh_ho_tich",
    "xac_nhan_cu_tru", "tach_ho", "tam_vang", "bhyt_ngan_sach", "ho_ngheo", "nguoi_co_cong",
    "bien_dong_dat_dai", "chuyen_muc_dich_dat", "nop_phat_giao_thong", "nghia_vu_quan_su",
    "huu_tri_xa_hoi", "cam_on", "khieu_nai",
}
AGREED_OLD = {
    "khai_sinh", "lien_thong_khai_sinh", "khai_tu", "lien_thong_khai_tu", "ket_hon",
    "xac_nhan_hon_nhan", "thuong_tru", "tam_tru", "thong_bao_luu_tru", "can_cuoc",
    "ly_lich_tu_phap", "doi_gplx", "dang_ky_xe", "ho_chieu", "bhyt_gia_han",
    "tro_cap_that_nghiep", "ho_kinh_doanh", "giay_phep_xay_dung", "chung_thuc_ban_sao",
    "dat_dai", "tro_cap_xa_hoi", "tra_cuu_ho_so", "thanh_toan", "huong_dan_vneid", "chao_hoi",
    "tro_giup", "gop_y", "gap_can_bo", "xoa_du_lieu", "khac",
}


def fold(text):
    """Lower case, no diacritics, đ→d, punctuation and runs of spaces collapsed."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def catalog_ids():
    ids = set()
    with open(os.path.join(ROOT, "intents", "_catalog.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                ids.add(line.split("\t", 1)[0].strip())
    return ids


def read_set(path):
    """[(line number, text, [labels])]; raises on bytes that are not UTF-8."""
    rows = []
    with open(path, encoding="utf-8", errors="strict") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            text, _, expected = line.partition("\t")
            rows.append((number, text, expected.split("|") if expected else []))
    return rows


def is_distinctive(folded):
    """Long enough that an equal training example is a copy, not a coincidence: five words or
    more, or one glued / Telex token ("dangkytamtru", "cawn"...) of ten letters or more. Short
    everyday lines ("menu", "xin chao", "lam ho chieu") are written independently by everyone."""
    words = folded.split()
    return len(words) >= 5 or any(len(w) >= 10 for w in words)


def strings_in(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)


def shown(path, number, text):
    """Where a failing line is; its text too, unless the file is sealed (nobody
    may read a sealed line, not even in a failure message)."""
    where = f"{os.path.basename(path)}:{number}"
    return where if "_sealed" in os.path.basename(path) else f"{where}: {text}"


class TestSetData(unittest.TestCase):
    def set_paths(self):
        paths = []
        for name in SETS:
            for suffix in ("", "_sealed"):
                path = os.path.join(DATA, f"{name}{suffix}.tsv")
                self.assertTrue(os.path.exists(path), f"missing {path}")
                paths.append(path)
        paths.extend(sorted(glob.glob(os.path.join(DATA, FRESH_SEALED_GLOB))))
        return paths

    def test_lines_parse_and_labels_are_agreed_ids(self):
        known = catalog_ids() | AGREED_NEW
        for path in self.set_paths():
            rows = read_set(path)
            self.assertGreater(len(rows), 20, path)
            for number, text, labels in rows:
                where = f"{os.path.basename(path)}:{number}"
                self.assertTrue(text.strip(), f"{where}: empty text")
                self.assertNotIn("\t", text, where)
                self.assertTrue(labels, f"{where}: no expected id")
                for label in labels:
                    self.assertTrue(label in known, f"{where}: unknown id {label!r}")
                self.assertEqual(len(labels), len(set(labels)), f"{where}: repeated id")

    def test_offtopic_lines_expect_khac(self):
        for suffix in ("", "_sealed"):
            path = os.path.join(DATA, f"offtopic{suffix}.tsv")
            for number, text, labels in read_set(path):
                self.assertIn("khac", labels, shown(path, number, text))

    def test_no_line_twice_so_dev_and_sealed_are_disjoint(self):
        seen = {}
        for path in self.set_paths():
            for number, text, _ in read_set(path):
                key = fold(text) or text
                here = f"{os.path.basename(path)}:{number}"
                self.assertFalse(key in seen, f"{here} repeats {seen.get(key)}")
                seen[key] = here

    def test_villager_set_covers_every_agreed_id(self):
        covered = set()
        for suffix in ("", "_sealed"):
            for _, _, labels in read_set(os.path.join(DATA, f"realistic_villager{suffix}.tsv")):
                covered.add(labels[0])
        self.assertEqual(sorted((AGREED_OLD | AGREED_NEW) - covered), [])

    def test_no_test_line_was_copied_into_intents(self):
        """Training data: the "match" section of every intent and the shared
        matcher files. A procedure's official name ("name", "short_name") may
        equal a line someone types; that is not a copy."""
        trained = set()
        for path in glob.glob(os.path.join(ROOT, "intents", "*.json")):
            with open(path, encoding="utf-8") as f:
                try:
                    document = json.load(f)
                except ValueError:
                    continue  # malformed intents are the catalog check's business
            shared = os.path.basename(path).startswith("_")
            part = document if shared else document.get("match", {}) if isinstance(document, dict) else {}
            trained.update(fold(s) for s in strings_in(part))
        copied = [shown(path, number, text)
                  for path in self.set_paths()
                  for number, text, _ in read_set(path)
                  if is_distinctive(fold(text)) and fold(text) in trained]
        self.assertEqual(copied, [], "test lines found in intents/*.json (training data)")


if __name__ == "__main__":
    unittest.main()
