"""Staff console at /admin over plain HTTP, what officers do with records:
dossier uploads and search within a commune's scope, the quarterly
indicators, and payments the gateway confirmed but no dossier took (settled
by hand). Sign-in and sessions are in test_console.py."""
import csv
import io
import json
import os
import re
import time
import urllib.parse

import test_dossiers
import test_payments
from console_client import SCOPED_COMMUNE, SCOPED_TOKEN, TOKENS, Console, console_reason_vi, dossier, to_csv
from harness import ADMIN_TOKEN, ServiceTest, run_cli, wait_until

class ConsoleDossierTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def upload(self, c, rows, raw=None):
        return c.call("POST", "dossiers", raw if raw is not None else to_csv(rows),
                      content_type="text/csv")

    def test_upload_reports_each_bad_row_and_stores_the_others(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        rows = [dossier("CSL.01-0001"), dossier("CSL.01-0002"), dossier("CSL.01-0003")]
        rows[1]["status"] = "xong_roi"
        status, body = self.upload(c, rows)
        self.assertEqual(status, 200, body)
        self.assertEqual((body["received"], body["stored"], body["invalid"]), (3, 2, 1))
        self.assertEqual(body["errors"][0]["line"], 3)  # the header is line 1
        self.assertEqual(body["errors"][0]["field"], "status")
        self.assertEqual(body["errors"][0]["code"], "CSL.01-0002")
        self.assertEqual(self.redis("EXISTS", "dossier:CSL.01-0002"), 0)
        status, found = c.call("GET", "dossiers/csl.01-0003")
        self.assertEqual(status, 200)
        self.assertEqual(found["code"], "CSL.01-0003")
        self.assertEqual(found["phone_last4"], "3456")
        self.assertEqual(found["applicant"], "Lò V. P.")
        self.assertNotIn("0988", json.dumps(found))
        self.assertEqual(c.call("GET", "dossiers/CSL.01-0404")[0], 404)

    def test_dvcbot_import_says_in_vietnamese_what_the_console_says_of_each_bad_row(self):
        # `dvcbot import` printed English ("line 3: status: unknown status ...") to
        # Vietnamese provincial staff, while the console said it in Vietnamese.
        rows = [dossier("CLI.06-0001"), dict(dossier("CLI.06-0002"), status="xong_roi"),
                dict(dossier("CLI.06-0003"), received_at="20/11/24"),
                dict(dossier("CLI.06-0004"), procedure="khong_co_thu_tuc")]
        path = os.path.join(self.tmp, "ho-so-cli.csv")
        with open(path, "wb") as f:
            f.write(to_csv(rows))
        proc = run_cli(["import", path], {"REDIS_URL": self.redis.url})
        self.assertEqual(proc.returncode, 1, proc.stderr)  # some records refused: 1, as before
        said = proc.stderr.decode()
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        texts = c.call("GET", "meta")[1]["upload_texts"]  # what the page reads the upload answer with
        status, body = self.upload(c, rows)
        self.assertEqual((status, body["invalid"]), (200, 3), body)
        for e in body["errors"]:  # each row the page lists, in the page's words, and its detail
            self.assertIn("dòng %d: %s: %s (chi tiết: %s)" % (
                e["line"], texts["fields"][e["field"]], console_reason_vi(e["reason"], texts), e["reason"]),
                said)
        self.assertIn("năm chỉ có 2 chữ số", said)
        self.assertEqual(said.count("\n"), 3)
        self.assertIn("đọc 4, đã lưu 1 (mới 1, cập nhật 0, không đổi 0), không hợp lệ 3",
                      proc.stdout.decode())
        self.assertNotRegex(proc.stdout.decode() + said, r"\b(line|received|stored|invalid)\b")
        proc = run_cli(["import"], {"REDIS_URL": self.redis.url})
        self.assertEqual(proc.returncode, 2)
        self.assertIn("cách dùng: dvcbot import", proc.stderr.decode())
        proc = run_cli(["import", os.path.join(self.tmp, "khong-co.csv")], {"REDIS_URL": self.redis.url})
        self.assertEqual(proc.returncode, 3)
        self.assertIn("không đọc được tệp", proc.stderr.decode())
        proc = run_cli(["import", path], {"REDIS_URL": "redis://127.0.0.1:1"})
        self.assertEqual(proc.returncode, 3)
        self.assertIn("không kết nối được Redis", proc.stderr.decode())

    def test_dvcbot_import_says_configuration_and_system_errors_in_vietnamese(self):
        # They were English ("import: invalid DVCBOT_LISTEN (want host:port)",
        # "...: No such file or directory", "...: Connection refused"); now the
        # Vietnamese first, the system's own words after as a detail to search for.
        path = os.path.join(self.tmp, "mot-ho-so.csv")
        with open(path, "wb") as f:
            f.write(to_csv([dossier("OSE.07-0001")]))
        cases = [
            (["import", os.path.join(self.tmp, "khong-co.csv")], {"REDIS_URL": self.redis.url},
             "không đọc được tệp «%s»: không có tệp hoặc thư mục này (chi tiết: No such file or directory)"
             % os.path.join(self.tmp, "khong-co.csv")),
            (["import", self.tmp], {"REDIS_URL": self.redis.url},
             "không đọc được tệp «%s»: đây là thư mục, không phải tệp (chi tiết: Is a directory)" % self.tmp),
            (["import", path], {"REDIS_URL": "redis://127.0.0.1:1"},
             "không kết nối được Redis: máy chủ Redis không nhận kết nối (chưa chạy, hoặc sai địa chỉ, cổng) "
             "(chi tiết: Connection refused)"),
            (["import", path], {"REDIS_URL": "unix://" + os.path.join(self.tmp, "khong-co.sock")},
             "không kết nối được Redis: không có tệp hoặc thư mục này (chi tiết: No such file or directory)"),
            (["import", path], {"REDIS_URL": self.redis.url, "DVCBOT_LISTEN": "khong-dung"},
             "cấu hình (biến môi trường) không đúng, chưa nhập gì; sửa biến được nêu rồi chạy lại "
             "(chi tiết: invalid DVCBOT_LISTEN (want host:port))"),
            # the texts themselves missing (they were the one English line, "import: cannot
            # read ..."): a built-in Vietnamese line, the system's words after it
            (["import", path], {"REDIS_URL": self.redis.url, "DVCBOT_DATA_DIR": self.tmp},
             "không đọc được tệp câu chữ của lệnh import, chưa nhập gì; kiểm tra thư mục DVCBOT_DATA_DIR "
             "(cần có templates/console/upload_texts.json) rồi chạy lại (chi tiết: cannot read "),
            (["import", path], {"REDIS_URL": self.redis.url, "DVCBOT_DATA_DIR": self.tmp,
                                "DVCBOT_LISTEN": "khong-dung"},
             "cấu hình (biến môi trường) không đúng, chưa nhập gì; sửa biến được nêu rồi chạy lại "
             "(chi tiết: invalid DVCBOT_LISTEN (want host:port))"),
        ]
        for args, env, want in cases:
            proc = run_cli(args, env)
            said = proc.stderr.decode()
            self.assertEqual(proc.returncode, 3, said)
            self.assertNotRegex(said.split("(chi tiết:")[0], r"[A-Za-z]{3,} [a-z]{3,}", said)  # no English before it
            if want.endswith("cannot read "):
                self.assertTrue(said.startswith(want), said)
                self.assertIn("upload_texts.json", said.split("(chi tiết:")[1])
                continue
            self.assertEqual(said, want + "\n")
        self.assertEqual(self.redis("EXISTS", "dossier:OSE.07-0001"), 0)

    def test_a_file_excel_saved_with_semicolons_is_read_like_a_comma_one(self):
        # Excel where the list separator is ';' (Vietnamese Windows) saves "CSV" that way:
        # the officer opened the export, changed a status and saved it.
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.assertEqual(self.upload(c, [dossier("SEM.03-0001")])[1]["created"], 1)
        rows = [dict(dossier("SEM.03-0001", status="can_bo_sung"), note="Thiếu giấy chứng sinh; bản sao, có chứng thực"),
                dossier("SEM.03-0002")]
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", restval="", lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
        raw = ("\ufeff" + out.getvalue()).encode()
        status, body = self.upload(c, None, raw=raw)
        self.assertEqual((status, body["stored"], body["invalid"]), (200, 2, 0), body)
        self.assertEqual((body["updated"], body["created"]), (1, 1))
        status, found = c.call("GET", "dossiers/SEM.03-0001")
        self.assertEqual((found["status"], found["note"]),
                         ("can_bo_sung", "Thiếu giấy chứng sinh; bản sao, có chứng thực"))

    def test_commune_officer_uploads_and_finds_their_communes_dossiers_only(self):
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        rows = [dossier("SCP.02-0001", commune="Xã Mường Bú"),
                dossier("SCP.02-0002", commune="Chiềng Hoa")]
        status, body = self.upload(c, rows)
        self.assertEqual((status, body["stored"], body["invalid"]), (200, 1, 1))
        self.assertEqual(body["errors"][0]["field"], "commune")
        self.assertEqual(self.redis("EXISTS", "dossier:SCP.02-0002"), 0)
        self.bot.admin("POST", "/admin/dossiers", [dossier("SCP.02-0003", commune="Chiềng Hoa")])
        self.assertEqual(c.call("GET", "dossiers/SCP.02-0001")[0], 200)
        self.assertEqual(c.call("GET", "dossiers/SCP.02-0003")[0], 404)

    def test_commune_officer_cannot_take_over_another_communes_dossier(self):
        self.bot.admin("POST", "/admin/dossiers", [
            dossier("MOV.05-0001", commune="Chiềng Hoa", agency="UBND xã Chiềng Hoa"),
            dict(dossier("MOV.05-0002"), commune=""),            # no commune yet
            dossier("MOV.05-0003", commune="Xã Mường Bú")])  # theirs, spelled another way
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        rows = [dossier("MOV.05-0001", status="tu_choi"), dossier("MOV.05-0002", status="tu_choi"),
                dossier("MOV.05-0003", status="can_bo_sung"), dossier("MOV.05-0004")]
        status, body = self.upload(c, rows)
        self.assertEqual(status, 200, body)
        self.assertEqual((body["received"], body["stored"], body["invalid"]), (4, 2, 2), body)
        refused = {e["code"]: e for e in body["errors"]}
        self.assertEqual(set(refused), {"MOV.05-0001", "MOV.05-0002"})
        self.assertEqual({e["field"] for e in refused.values()}, {"commune"})
        self.assertEqual(refused["MOV.05-0001"]["reason"], "belongs to another commune")
        self.assertEqual(refused["MOV.05-0002"]["reason"], "stored without a commune")
        self.assertEqual(refused["MOV.05-0001"]["line"], 2)
        # nothing of the refused rows was written
        self.assertEqual(self.redis("HMGET", "dossier:MOV.05-0001", "commune", "status", "agency"),
                         ["Chiềng Hoa", "dang_xu_ly", "UBND xã Chiềng Hoa"])
        self.assertEqual(self.redis("HMGET", "dossier:MOV.05-0002", "commune", "status"), ["", "dang_xu_ly"])
        # their own dossier is updated (and keeps the new spelling), a new one created
        self.assertEqual(self.redis("HMGET", "dossier:MOV.05-0003", "commune", "status"),
                         ["Mường Bú", "can_bo_sung"])
        self.assertEqual(self.redis("HGET", "dossier:MOV.05-0004", "commune"), "Mường Bú")
        # the page shows the reason in Vietnamese
        self.assertIn("đã có ở xã khác", console_reason_vi(refused["MOV.05-0001"]["reason"]))
        self.assertIn("chưa ghi xã", console_reason_vi(refused["MOV.05-0002"]["reason"]))
        # a full token still moves a dossier between communes
        self.bot.admin("POST", "/admin/dossiers", [dossier("MOV.05-0001", commune="Mường Bú")])
        self.assertEqual(self.redis("HGET", "dossier:MOV.05-0001", "commune"), "Mường Bú")

    def test_a_signed_in_upload_may_be_larger_than_a_mebibyte(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        rows = [dossier("BIG.03-%05d" % i, agency="UBND xã Mường Bú, bộ phận một cửa " * 3)
                for i in range(6000)]
        raw = to_csv(rows)
        self.assertGreater(len(raw), 1024 * 1024)
        status, body = self.upload(c, rows, raw=raw)
        self.assertEqual(status, 200)
        self.assertEqual((body["received"], body["stored"]), (6000, 6000))


class ConsoleIndicatorTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        q1 = [
            # Mường Bú: 3 received in Q1; 2 fully online (one with a fee paid online);
            # one with a fee paid at the counter; finished: one on time, one late
            dossier("IND.01-0001", received="2024-12-15T00:00:00+07:00", due="2025-01-05",
                    finished="2025-01-04T10:00:00+07:00"),
            dossier("IND.01-0002", fee=50000, paid_online=True, received="2025-03-14T23:59:00+07:00"),
            dossier("IND.01-0003", fee=30000, paid=True, received="2025-02-01T08:00:00+07:00",
                    due="2025-02-10T17:00:00+07:00", finished="2025-02-11T08:00:00+07:00"),
            # Chiềng Hoa: one paper dossier in Q1, one received after the cut-off (Q2)
            dossier("IND.01-0004", commune="Chiềng Hoa", agency="UBND xã Chiềng Hoa", online=False,
                    procedure="ket_hon", received="2025-01-20T08:00:00+07:00"),
            dossier("IND.01-0005", commune="Chiềng Hoa", agency="UBND xã Chiềng Hoa",
                    received="2025-03-15T00:00:00+07:00"),
            # before the period: received 14/12, out of Q1
            dossier("IND.01-0006", received="2024-12-14T23:59:59+07:00"),
        ]
        status, _, body = cls.bot.admin("POST", "/admin/dossiers", q1)
        assert status == 200, body
        # the bot's records of two days, the second one past the cut-off
        cls.redis("HSET", "{stats}:day:20250314", "rate|khai_sinh|xa muong bu|5", 3,
                  "rate|khai_sinh|xa muong bu|3", 1, "rate|ket_hon|chieng hoa|4", 2,
                  "assist|muong bu", 4, "count|handoff_opened", 2, "msg", 40, "msg_khac", 6)
        cls.redis("HSET", "{stats}:day:20250315", "rate|khai_sinh|xa muong bu|1", 9,
                  "msg", 100, "msg_khac", 100)
        cls.redis("RPUSH", "{stats}:code:20250314", "khai_sinh|xa muong bu|300",
                  "khai_sinh|xa muong bu|900", "ket_hon|chieng hoa|600")

    def report(self, c, period="2025-Q1", by="commune"):
        status, body = c.call("GET", "indicators?period=%s&by=%s" % (period, by))
        self.assertEqual(status, 200, body)
        return body

    def test_q1_indicators_per_commune_add_up_dossiers_and_day_records(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        r = self.report(c)
        self.assertEqual(r["period"], {"id": "2025-Q1", "from": "2024-12-15", "to": "2025-03-14"})
        self.assertEqual(r["targets"], {"fully_online_pct": 70, "on_time_pct": 100, "satisfaction_pct": 95})
        rows = {row["name"]: row for row in r["rows"]}
        mt = rows["Mường Bú"]
        self.assertEqual((mt["received"], mt["fully_online"]), (3, 2))
        self.assertAlmostEqual(mt["fully_online_pct"], 66.7)
        self.assertEqual((mt["fee_paid"], mt["fee_paid_online"], mt["fee_online_pct"]), (2, 1, 50.0))
        self.assertEqual((mt["finished"], mt["on_time"], mt["on_time_pct"]), (2, 1, 50.0))
        self.assertEqual((mt["ratings"], mt["satisfied"], mt["satisfaction_pct"]), (4, 3, 75.0))
        self.assertEqual((mt["code_n"], mt["code_median_s"]), (2, 600))
        self.assertEqual(mt["assists"], 4)
        tn = rows["Chiềng Hoa"]
        self.assertEqual((tn["received"], tn["fully_online"], tn["fully_online_pct"]), (1, 0, 0.0))
        self.assertIsNone(tn["on_time_pct"])  # nothing finished: no share, not 0 %
        t = r["total"]
        self.assertEqual((t["received"], t["fully_online"], t["ratings"], t["satisfied"]), (4, 2, 6, 5))
        self.assertEqual((t["messages"], t["not_understood"], t["not_understood_pct"]), (40, 6, 15.0))
        self.assertEqual((t["handoffs"], t["code_n"], t["code_median_s"]), (2, 3, 600))

    def test_by_agency_and_by_procedure(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        rows = {row["name"]: row for row in self.report(c, by="agency")["rows"]}
        self.assertEqual(rows["UBND xã Mường Bú"]["received"], 3)
        self.assertEqual(rows["UBND xã Chiềng Hoa"]["received"], 1)
        rows = {row["key"]: row for row in self.report(c, by="procedure")["rows"]}
        self.assertEqual(rows["khai_sinh"]["received"], 3)
        self.assertEqual(rows["khai_sinh"]["satisfaction_pct"], 75.0)
        self.assertEqual(rows["ket_hon"]["received"], 1)
        self.assertEqual(rows["ket_hon"]["code_median_s"], 600)

    def test_the_next_quarter_starts_on_the_15th_of_march(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        t = self.report(c, period="2025-Q2")["total"]
        self.assertEqual((t["received"], t["ratings"], t["satisfied"]), (1, 9, 0))
        self.assertEqual(t["messages"], 100)

    def test_commune_officer_sees_their_commune_only(self):
        c = Console(self.bot)
        c.sign_in(SCOPED_TOKEN)
        r = self.report(c)
        self.assertEqual([row["name"] for row in r["rows"]], ["Mường Bú"])
        self.assertEqual((r["total"]["received"], r["total"]["ratings"]), (3, 4))
        self.assertIsNone(r["total"]["messages"])  # province-wide counters are not theirs

    def test_bad_period_is_400(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.assertEqual(c.call("GET", "indicators?period=2025-Q5")[0], 400)
        self.assertEqual(c.call("GET", "indicators?by=village")[0], 400)

    def test_ratings_and_messages_typed_now_count_in_the_current_quarter(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        before = self.current(c)
        u1, u2 = "wcindic00001", "wcindic00002"
        self.bot.webchat(u1, "qwzx vbnm plkj")
        for user, stars in ((u1, "5"), (u2, "2")):
            self.bot.webchat(user, "góp ý")
            self.bot.webchat(user, button="rate:" + stars)
        after = wait_until(lambda: (lambda t: t if t["ratings"] >= before["ratings"] + 2 else None)(
            self.current(c)), what="the ratings to be counted")
        self.assertEqual(after["ratings"] - before["ratings"], 2)
        self.assertEqual(after["satisfied"] - before["satisfied"], 1)
        self.assertGreaterEqual(after["not_understood"] - before["not_understood"], 1)
        self.assertGreaterEqual(after["messages"] - before["messages"], 3)

    def current(self, c):
        status, body = c.call("GET", "indicators")
        self.assertEqual(status, 200)
        return body["total"]


class ConsoleUnappliedPaymentTest(ServiceTest):
    """Payments the gateway confirmed (00) that were not applied to their
    dossier (applied=0: fee changed, link expired...) are listed for staff,
    who refund or settle them by hand; commune-scoped like the rest."""
    telegram = False
    extra_env = dict(test_payments.PaymentBase.extra_env, ADMIN_TOKENS=TOKENS)

    def pay(self, commune, fee=30000):
        """A dossier of commune, its owner verified and a payment link: (code, link query)."""
        code = "UNP.00.%05d.H50-000000-0001" % self.next_id()
        status, _, body = self.bot.admin("POST", "/admin/dossiers", test_dossiers.ndjson([test_dossiers.record(code, fee=fee, commune=commune)]))
        self.assertEqual(status, 200, body)
        user = self.payer = "unpaid%08d" % self.next_id()
        self.bot.webchat(user, "tra cứu hồ sơ " + code)
        self.assertIn("Đang xử lý", self.bot.webchat(user, "5678")[1]["replies"][0]["text"])
        text = self.bot.webchat(user, button="hs:pay:" + code)[1]["replies"][0]["text"]
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(re.search(r"https://\S+", text).group(0)).query))
        return code, q

    def ipn(self, q, pay_ts):
        p = {"vnp_Amount": q["vnp_Amount"], "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP1",
             "vnp_CardType": "ATM", "vnp_OrderInfo": q["vnp_OrderInfo"],
             "vnp_PayDate": test_payments.pay_date(pay_ts),
             "vnp_ResponseCode": "00", "vnp_TmnCode": "DVCTEST1", "vnp_TransactionNo": "5550%s" % q["vnp_TxnRef"][-4:],
             "vnp_TransactionStatus": "00", "vnp_TxnRef": q["vnp_TxnRef"]}
        status, _, body = self.bot.request("GET", "/pay/ipn?" + test_payments.gateway_query(p))
        self.assertEqual((status, json.loads(body)["RspCode"]), (200, "00"))

    def test_payments_confirmed_but_not_applied_are_listed_with_the_reason_by_commune(self):
        raised, q1 = self.pay(SCOPED_COMMUNE)                   # the fee is raised before payment
        self.bot.admin("POST", "/admin/dossiers",
                       test_dossiers.ndjson([test_dossiers.record(raised, fee=50000, commune=SCOPED_COMMUNE)]))
        self.ipn(q1, time.time())
        late, q2 = self.pay("Chiềng Cơi")                        # paid an hour after the link expired
        self.ipn(q2, time.time() + 2 * 3600)
        fine, q3 = self.pay(SCOPED_COMMUNE)                      # applied: not listed
        self.ipn(q3, time.time())
        self.assertEqual(self.redis("HGET", "dossier:" + fine, "paid"), "1")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        status, body = c.call("GET", "payments/unapplied")
        self.assertEqual(status, 200, body)
        got = [(p["code"], p["reason"], p["amount"], p["commune"]) for p in body["payments"]
               if p["code"] in (raised, late, fine)]
        self.assertEqual(got, [(late, "expired", 30000, "Chiềng Cơi"),          # newest first
                               (raised, "fee_changed", 30000, SCOPED_COMMUNE)])
        first = [p for p in body["payments"] if p["code"] == late][0]
        self.assertEqual(first["ref"], q2["vnp_TxnRef"])
        self.assertEqual(first["transaction_no"], "5550" + q2["vnp_TxnRef"][-4:])
        self.assertEqual(first["procedure_name"], "Đăng ký khai sinh")
        self.assertLessEqual(abs(first["paid_at"] - self.bot.now()), 60)
        self.assertNotIn("Nguyễn", json.dumps(body, ensure_ascii=False))   # no applicant's name
        scoped = Console(self.bot)
        scoped.sign_in(SCOPED_TOKEN)
        status, body = scoped.call("GET", "payments/unapplied")
        self.assertEqual(status, 200)
        self.assertEqual([p["code"] for p in body["payments"] if p["code"] in (raised, late, fine)], [raised])
        self.assertEqual(Console(self.bot).call("GET", "payments/unapplied")[0], 401)
        page = c.page()[2]
        self.assertIn('id="hs-unapplied"', page)

    def unapplied(self, console):
        status, body = console.call("GET", "payments/unapplied")
        self.assertEqual(status, 200, body)
        return [p["ref"] for p in body["payments"]]

    def test_staff_settle_one_by_hand_and_the_payer_is_told(self):
        late, q = self.pay(SCOPED_COMMUNE)                       # paid after the link expired
        payer = self.payer
        self.ipn(q, time.time() + 2 * 3600)
        ref = q["vnp_TxnRef"]
        wait_until(lambda: self.bot.inbox(payer), what="the not-applied notice")
        c, scoped, other = Console(self.bot), Console(self.bot), Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        scoped.sign_in(SCOPED_TOKEN)
        self.assertIn(ref, self.unapplied(c))
        for bad in ({}, {"ref": ref}, {"ref": ref, "how": "lost"}, {"ref": "pay:x y", "how": "refunded"}):
            self.assertEqual(c.call("POST", "payments/settled", bad)[0], 400, bad)
        self.assertEqual(Console(self.bot).call("POST", "payments/settled", {"ref": ref, "how": "refunded"})[0], 401)
        # another commune's officer cannot see or settle it
        elsewhere, q2 = self.pay("Chiềng Cơi")
        self.ipn(q2, time.time() + 2 * 3600)
        status, body = scoped.call("POST", "payments/settled", {"ref": q2["vnp_TxnRef"], "how": "refunded"})
        self.assertEqual(status, 404, body)
        self.assertIn(q2["vnp_TxnRef"], self.unapplied(c))
        # the commune's officer refunds theirs: it leaves the list, the payer is told
        status, body = scoped.call("POST", "payments/settled", {"ref": ref, "how": "refunded"})
        self.assertEqual((status, body), (200, {"settled": "refunded"}))
        self.assertNotIn(ref, self.unapplied(c))
        applied, by, at = (self.redis("HGET", "pay:" + ref, f) for f in ("applied", "settled_by", "settled_at"))
        self.assertEqual(applied, "refunded")
        self.assertRegex(by, "^[0-9a-f]{12}$")
        self.assertLessEqual(abs(int(at) - self.bot.now()), 60)
        self.assertNotEqual(self.redis("HGET", "dossier:" + late, "paid"), "1")
        notice = wait_until(lambda: self.bot.inbox(payer), what="the refund notice")
        self.assertIn("đã được hoàn lại", notice[0]["text"])
        self.assertIn(ref, notice[0]["text"])
        self.assertEqual(scoped.call("POST", "payments/settled", {"ref": ref, "how": "applied"})[0], 404)

    def test_applied_by_hand_marks_the_dossier_paid_unless_it_is_paid_already(self):
        raised, q = self.pay(SCOPED_COMMUNE)                     # the fee is raised before payment
        payer = self.payer
        self.bot.admin("POST", "/admin/dossiers",
                       test_dossiers.ndjson([test_dossiers.record(raised, fee=50000, commune=SCOPED_COMMUNE)]))
        self.ipn(q, time.time())
        wait_until(lambda: self.bot.inbox(payer), what="the not-applied notice")
        late, q3 = self.pay(SCOPED_COMMUNE)                      # paid after the link expired,
        self.ipn(q3, time.time() + 2 * 3600)
        self.redis("HSET", "dossier:" + late, "paid", "1")       # then at the counter in cash
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        status, body = c.call("POST", "payments/settled", {"ref": q["vnp_TxnRef"], "how": "applied"})
        self.assertEqual((status, body), (200, {"settled": "applied"}))
        self.assertEqual(self.redis("HGET", "dossier:" + raised, "paid"), "1")
        self.assertEqual(self.redis("HGET", "dossier:" + raised, "paid_amount"), "30000")
        notice = wait_until(lambda: self.bot.inbox(payer), what="the notice")
        self.assertIn("đã ghi nhận", notice[0]["text"])
        # a payment cannot be applied to a dossier already paid: refund it
        status, body = c.call("POST", "payments/settled", {"ref": q3["vnp_TxnRef"], "how": "applied"})
        self.assertEqual(status, 409, body)
        self.assertIn(q3["vnp_TxnRef"], self.unapplied(c))
        self.assertEqual(c.call("POST", "payments/settled", {"ref": q3["vnp_TxnRef"], "how": "refunded"})[0], 200)
