"""Dossiers: staff upload (POST /admin/dossiers, `dvcbot import`), lookup by
the owner only (code + last 4 digits, limited tries), subscriptions and
notifications on status change."""
import hashlib
import json
import os
import random
import time
import zlib

from harness import (ADMIN_TOKEN, SLOW, Chat, ServiceTest, payloads, run_cli, tg_callback, tg_message,
                     texts, wait_until)

CODE = "000.00.12.H50-241120-0003"


def record(code=CODE, **changes):
    r = {"code": code, "procedure": "khai_sinh", "applicant_name": "Nguyễn Văn An",
         "phone": "0912 345 678", "id_number": "012345678901", "commune": "Chiềng Cơi",
         "agency": "UBND phường Chiềng Cơi", "status": "dang_xu_ly",
         "received_at": "2024-11-20T08:00:00+07:00", "due_at": "2099-11-25",
         "fee": 150000, "paid": False, "submitted_online": True, "paid_online": False,
         "finished_at": "", "note": ""}
    r.update(changes)
    return r


def ndjson(records):
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()


def address_of(user):
    """A web chat user's own address (10.x.y.z), the same on every call."""
    h = zlib.crc32(user.encode())
    return "10.%d.%d.%d" % (h >> 16 & 255, h >> 8 & 255, h & 255)


def source_key(source):
    """The guard record of a source: "addr:<group>" or "acct:<user key>"."""
    return "hs:g:s:" + hashlib.sha256(source.encode()).hexdigest()


class DossierTestBase(ServiceTest):
    # Requests come through 127.0.0.1 as through nginx: X-Forwarded-For names each user's address.
    extra_env = {"ADMIN_TOKENS": "older-token-abcdefghij, " + ADMIN_TOKEN,
                 "DVCBOT_TRUSTED_PROXIES": "127.0.0.1"}

    def upload(self, records, token=ADMIN_TOKEN, raw=None, content_type="application/x-ndjson"):
        body = raw if raw is not None else ndjson(records)
        status, _, data = self.bot.admin("POST", "/admin/dossiers", body, token=token,
                                         headers={"Content-Type": content_type})
        return status, json.loads(data) if data else None

    def stored(self, code):
        flat = self.redis("HGETALL", "dossier:" + code)
        return dict(zip(flat[::2], flat[1::2]))

    def new_web_user(self):
        return "webuser%07d" % self.next_id()

    def say(self, user, text=None, button=None, address=None):
        status, data = self.bot.webchat(user, text, button, address or address_of(user))
        self.assertEqual(status, 200)
        return data["replies"]

    def lookup(self, user, code, pin, address=None):
        """The whole dialogue; returns the replies to the 4 digits."""
        self.say(user, "tra cứu hồ sơ", address=address)
        self.say(user, code, address=address)
        return self.say(user, pin, address=address)

    def lookup_texts(self, user, code, pin, address=None):
        """The whole dialogue; every reply text of its three steps."""
        return [r["text"] for step in ("tra cứu hồ sơ", code, pin)
                for r in self.say(user, step, address=address)]


class DossierIngestTest(DossierTestBase):
    telegram = False

    def test_upload_without_token_is_401_and_stores_nothing(self):
        status, body = self.upload([record("401.00.00.H50-000000-0001")], token=None)
        self.assertEqual(status, 401)
        self.assertEqual(self.redis("EXISTS", "dossier:401.00.00.H50-000000-0001"), 0)

    def test_upload_with_wrong_token_is_403(self):
        status, _ = self.upload([record("403.00.00.H50-000000-0001")], token="x" * 24)
        self.assertEqual(status, 403)
        self.assertEqual(self.redis("EXISTS", "dossier:403.00.00.H50-000000-0001"), 0)

    def test_every_configured_token_is_accepted(self):
        status, body = self.upload([record("ROT.00.00.H50-000000-0001")], token="older-token-abcdefghij")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["created"], 1)

    def test_mixed_lines_report_invalid_ones_and_store_valid_ones(self):
        lines = [
            json.dumps(record("MIX.00.00.H50-000000-0001")),
            json.dumps(record("MIX.00.00.H50-000000-0002", status="xong_roi")),
            '{"code": "MIX.00.00.H50-000000-0003", broken',
            "",
            json.dumps(record("mix.00.00.h50-000000-0004", fee="20000", paid="true")),
            json.dumps(record("MIX.00.00.H50-000000-0005", phone="", id_number="")),
            json.dumps(record("MIX.00.00.H50-000000-0006", received_at="20/11/24")),  # 20/11/2024 is read
        ]
        status, body = self.upload(None, raw="\n".join(lines).encode())
        self.assertEqual(status, 200, body)
        self.assertEqual(body["received"], 6)
        self.assertEqual(body["created"], 2)
        self.assertEqual(body["stored"], 2)
        self.assertEqual(body["invalid"], 4)
        errors = {e["line"]: e for e in body["errors"]}
        self.assertEqual(sorted(errors), [2, 3, 6, 7])
        self.assertEqual(errors[2]["field"], "status")
        self.assertIn("unknown status", errors[2]["reason"])
        self.assertEqual(errors[2]["code"], "MIX.00.00.H50-000000-0002")
        self.assertEqual(errors[3]["reason"], "not valid JSON")
        self.assertEqual(errors[6]["field"], "phone")
        self.assertEqual(errors[7]["field"], "received_at")
        self.assertEqual(self.stored("MIX.00.00.H50-000000-0001")["status"], "dang_xu_ly")
        fourth = self.stored("MIX.00.00.H50-000000-0004")  # code upper-cased, strings read
        self.assertEqual((fourth["fee"], fourth["paid"]), ("20000", "1"))
        for n in (2, 3, 5, 6):
            self.assertEqual(self.redis("EXISTS", "dossier:MIX.00.00.H50-000000-000%d" % n), 0)

    def test_json_array_upserts_by_code(self):
        recs = [record("ARR.00.00.H50-000000-0001"), record("ARR.00.00.H50-000000-0002")]
        status, body = self.upload(recs, raw=json.dumps(recs).encode(), content_type="application/json")
        self.assertEqual((status, body["created"]), (200, 2), body)
        status, body = self.upload(recs, raw=json.dumps(recs).encode())
        self.assertEqual((body["unchanged"], body["created"], body["updated"]), (2, 0, 0), body)
        recs[1]["note"] = "Đã chuyển phòng Tư pháp"
        status, body = self.upload(recs, raw=json.dumps(recs).encode())
        self.assertEqual((body["unchanged"], body["updated"]), (1, 1), body)
        self.assertEqual(self.stored("ARR.00.00.H50-000000-0002")["note"], "Đã chuyển phòng Tư pháp")

    def test_csv_with_header_is_accepted_as_text_csv(self):
        csv = ("code,procedure,applicant_name,phone,status,received_at,fee,paid,note\r\n"
               'CSV.00.00.H50-000000-0001,ket_hon,"Lò Thị, Mai",0987000111,da_tiep_nhan,'
               '2024-11-20,0,false,"Ghi chú ""ngắn"""\r\n')
        status, body = self.upload(None, raw=csv.encode(), content_type="text/csv")
        self.assertEqual((status, body["created"]), (200, 1), body)
        got = self.stored("CSV.00.00.H50-000000-0001")
        self.assertEqual(got["applicant_name"], "Lò Thị, Mai")
        self.assertEqual(got["note"], 'Ghi chú "ngắn"')

    def test_body_that_is_neither_json_nor_csv_is_400(self):
        status, body = self.upload(None, raw=b"hello")
        self.assertEqual(status, 400)
        status, body = self.upload(None, raw=b"")
        self.assertEqual(status, 400)

    def test_large_batch_beyond_one_mebibyte_is_stored(self):
        recs = [record("BIG.%05d.H50-000000-0001" % i, note="x" * 200) for i in range(8000)]
        body = ndjson(recs)
        self.assertGreater(len(body), 2 * 1024 * 1024)
        status, result = self.upload(None, raw=body)
        self.assertEqual(status, 200)
        self.assertEqual((result["received"], result["created"], result["invalid"]), (8000, 8000, 0))
        self.assertEqual(self.stored("BIG.07999.H50-000000-0001")["status"], "dang_xu_ly")
        self.assertTrue(self.bot.redis_up())

    def test_large_body_without_token_is_refused_at_one_mebibyte(self):
        body = b"{}\n" * (600 * 1024)
        status, _, _ = self.bot.request("POST", "/admin/dossiers", body,
                                        {"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 413)

    def test_too_many_errors_are_counted_not_listed(self):
        body = b"\n".join(b'{"code": "bad"}' for _ in range(1200))
        status, result = self.upload(None, raw=body)
        self.assertEqual(status, 200)
        self.assertEqual(result["invalid"], 1200)
        self.assertEqual(len(result["errors"]), 1000)
        self.assertEqual(result["errors_omitted"], 200)

    def test_import_command_reads_csv_and_reports_bad_rows(self):
        path = os.path.join(self.tmp, "export.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("code,procedure,phone,status,received_at,fee\n"
                    "IMP.00.00.H50-000000-0001,can_cuoc,0911000222,dang_xu_ly,2024-11-20,0\n"
                    "IMP.00.00.H50-000000-0002,can_cuoc,0911000222,mystery,2024-11-20,0\n")
        proc = run_cli(["import", path], {"REDIS_URL": self.redis.url})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("dòng 3: Trạng thái: trạng thái không đúng".encode(), proc.stderr)
        self.assertIn("mới 1".encode(), proc.stdout)
        self.assertEqual(self.stored("IMP.00.00.H50-000000-0001")["procedure"], "can_cuoc")
        proc = run_cli(["import", "-"], {"REDIS_URL": self.redis.url},
                       input=json.dumps([record("IMP.00.00.H50-000000-0003")]).encode())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("mới 1".encode(), proc.stdout)

    # What Excel writes where the list separator is ';' (Vietnamese Windows): day/month/year
    # dates and the statuses by the names the console shows; what reads two ways is refused.
    EXCEL_CSV = ("code;procedure;phone;status;received_at;due_at\r\n"
                 "XLS.01-0001;khai_sinh;0912345678;Chờ nộp lệ phí;20/11/2024 8:00;25/11/2024\r\n"
                 "XLS.01-0002;khai_sinh;0912345678;da tiep nhan;3/4/2025 14:30:05;\r\n"
                 "XLS.01-0003;khai_sinh;0912345678;Đang xử lý;11/20/2024;\r\n"
                 "XLS.01-0004;khai_sinh;0912345678;Đang xử lý;20/11/24;\r\n"
                 "XLS.01-0005;khai_sinh;0912345678;Đang xử lý;20/11/2024 2:30 PM;\r\n"
                 "XLS.01-0006;khai_sinh;0912345678;Đã;20/11/2024;\r\n")

    def assert_excel_rows_read(self):
        first, second = self.stored("XLS.01-0001"), self.stored("XLS.01-0002")
        self.assertEqual((first["status"], first["received_at"], first["due_at"]),
                         ("cho_thanh_toan", "2024-11-20T08:00:00+07:00", "2024-11-25"))
        self.assertEqual((second["status"], second["received_at"]),
                         ("da_tiep_nhan", "2025-04-03T14:30:05+07:00"))  # 3 April, never 4 March
        for code in ("XLS.01-0003", "XLS.01-0004", "XLS.01-0005", "XLS.01-0006"):
            self.assertEqual(self.stored(code), {}, code)

    def test_excel_dates_and_console_status_names_are_read_and_ambiguous_ones_refused(self):
        status, result = self.upload(None, raw=self.EXCEL_CSV.encode(), content_type="text/csv")
        self.assertEqual(status, 200)
        self.assertEqual((result["stored"], result["invalid"]), (2, 4))
        errors = {e["line"]: (e["field"], e["reason"]) for e in result["errors"]}
        self.assertEqual(errors[4][0], "received_at")
        self.assertIn("written month/day", errors[4][1])
        self.assertIn("two-digit year", errors[5][1])
        self.assertIn("24-hour", errors[6][1])
        self.assertEqual(errors[7][0], "status")
        self.assertIn("unknown status", errors[7][1])
        self.assert_excel_rows_read()

    def test_import_command_reads_excel_dates_and_status_names(self):
        path = os.path.join(self.tmp, "excel.csv")
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            f.write(self.EXCEL_CSV.replace("XLS.01", "XLS.02"))
        proc = run_cli(["import", path], {"REDIS_URL": self.redis.url})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("dòng 4: Ngày nhận: tháng lớn hơn 12".encode(), proc.stderr)
        self.assertIn("dòng 5: Ngày nhận: năm chỉ có 2 chữ số".encode(), proc.stderr)
        self.assertEqual(self.stored("XLS.02-0001")["status"], "cho_thanh_toan")
        self.assertEqual(self.stored("XLS.02-0002")["received_at"], "2025-04-03T14:30:05+07:00")


class DossierLookupTest(DossierTestBase):
    telegram = False
    codes = ["LKP.00.00.H50-000000-%04d" % i for i in range(1, 6)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        recs = [record(c) for c in cls.codes]
        recs[1]["phone"] = "0988 777 666"
        recs[1]["id_number"] = "038199004321"
        recs[2].update(status="can_bo_sung", note="Thiếu bản sao giấy chứng sinh.",
                       due_at="2020-01-10")
        status, _, body = cls.bot.admin("POST", "/admin/dossiers", ndjson(recs))
        assert status == 200 and json.loads(body)["created"] == len(recs), body

    def test_right_verifier_shows_status_and_details(self):
        user = self.new_web_user()
        asked = self.say(user, "tra cứu hồ sơ")
        self.assertIn("mã hồ sơ", asked[0]["text"])
        asked = self.say(user, self.codes[0].lower())
        self.assertIn("4 chữ số cuối", asked[0]["text"])
        replies = self.say(user, "5678")
        text = replies[0]["text"]
        for part in (self.codes[0], "Đăng ký khai sinh", "UBND phường Chiềng Cơi", "Đang xử lý",
                     "20/11/2024", "25/11/2099", "150.000 đồng — chưa thanh toán", "Nguyễn V. A."):
            self.assertIn(part, text)
        for secret in ("0912", "345 678", "012345678901", "Văn An"):
            self.assertNotIn(secret, text)
        payloads = [b["payload"] for b in replies[0]["buttons"]]
        self.assertIn("hs:pay:" + self.codes[0], payloads)
        self.assertIn("hs:sub:" + self.codes[0], payloads)

    def test_id_number_digits_work_too_and_late_dossier_says_what_is_missing(self):
        user = self.new_web_user()
        text = self.lookup(user, self.codes[1], "4321")[0]["text"]
        self.assertIn(self.codes[1], text)
        user = self.new_web_user()
        text = self.lookup(user, self.codes[2], "5678")[0]["text"]
        self.assertIn("Thiếu bản sao giấy chứng sinh.", text)
        self.assertIn("quá hạn", text)

    def test_code_in_the_first_message_goes_straight_to_the_digits(self):
        user = self.new_web_user()
        asked = self.say(user, "ma ho so %s xong chua" % self.codes[0].lower())
        self.assertIn("4 chữ số cuối", asked[0]["text"])
        self.assertIn("Đang xử lý", self.say(user, "số cuối là 5678")[0]["text"])

    def test_wrong_code_and_wrong_verifier_get_identical_answers(self):
        a, b = self.new_web_user(), self.new_web_user()
        self.say(a, "tra cứu hồ sơ")
        self.say(b, "tra cứu hồ sơ")
        ask_a = self.say(a, self.codes[3])
        ask_b = self.say(b, "NOPE.00.00.H50-999999-9999")
        self.assertEqual(ask_a[0]["text"].replace(self.codes[3], "X"),
                         ask_b[0]["text"].replace("NOPE.00.00.H50-999999-9999", "X"))
        wrong_pin = self.say(a, "1111")
        wrong_code = self.say(b, "5678")
        self.assertEqual(wrong_pin, wrong_code)
        self.assertIn("Không tìm thấy", wrong_pin[0]["text"])
        self.assertNotIn(self.codes[3], json.dumps(wrong_pin, ensure_ascii=False))

    def test_fifty_random_codes_reveal_nothing_and_pause_the_address(self):
        user = self.new_web_user()
        rng = random.Random(5)
        tries = []
        for _ in range(50):
            code = "%03d.00.%02d.H%02d-%06d-%04d" % (rng.randrange(1000), rng.randrange(100),
                                                   rng.randrange(100), rng.randrange(10 ** 6),
                                                   rng.randrange(10 ** 4))
            tries.append(self.lookup_texts(user, code, "%04d" % rng.randrange(10 ** 4)))
        self.assertEqual(len(set(t[-1] for t in tries[:20])), 1)
        self.assertIn("Không tìm thấy", tries[0][-1])
        self.assertIn("quá nhiều lần", tries[20][-1])
        for t in tries[21:]:  # then refused from the first step on
            self.assertIn("quá nhiều lần", t[0])
        for t in tries:
            self.assertFalse([x for x in t if "Tình trạng" in x or "Lệ phí" in x], t)
        # Paused even with a right code and verifier, until the pause ends.
        limited = self.lookup_texts(user, self.codes[0], "5678")
        self.assertIn("quá nhiều lần", limited[0])
        self.assertFalse([x for x in limited if "Đang xử lý" in x], limited)
        guard = self.redis("HMGET", source_key("addr:4:" + address_of(user)), "n", "until")
        self.assertEqual(guard[0], "20")
        self.assertTrue(0 < int(guard[1]) - time.time() <= 15 * 60, guard)

    def test_fresh_web_ids_from_one_address_share_its_limit(self):
        address = "192.0.2.77"
        for i in range(20):
            text = self.lookup(self.new_web_user(), "FRE.00.00.H50-000000-%04d" % i, "1234", address)
            self.assertIn("Không tìm thấy", text[0]["text"])
        fresh = self.new_web_user()
        self.assertIn("quá nhiều lần", self.lookup(fresh, self.codes[0], "5678", address)[0]["text"])
        # Another address is not affected.
        self.assertIn("Đang xử lý", self.lookup(self.new_web_user(), self.codes[0], "5678")[0]["text"])

    def test_three_wrong_tries_pause_the_4_digits_of_a_dossier_but_the_whole_number_gets_the_owner_in(self):
        for _ in range(3):
            self.assertIn("Không tìm thấy", self.lookup(self.new_web_user(), self.codes[4], "0000")[0]["text"])
        owner = self.new_web_user()
        paused = self.lookup(owner, self.codes[4], "5678")[0]
        self.assertIn("gõ đầy đủ số căn cước / số định danh cá nhân", paused["text"])
        self.assertNotIn("Đang xử lý", paused["text"])
        # Still in the step: the whole ID number (or phone number) gets in.
        self.assertIn("Đang xử lý", self.say(owner, "012345678901")[0]["text"])
        other = self.new_web_user()
        self.say(other, button="hs:code:" + self.codes[4])
        self.assertIn("Đang xử lý", self.say(other, "0912.345.678")[0]["text"])
        third = self.new_web_user()
        self.say(third, button="hs:code:" + self.codes[4])
        self.assertIn("Đang xử lý", self.say(third, "+84 912 345 678")[0]["text"])
        # A wrong whole number is a wrong try like any other, and other dossiers are not paused.
        fourth = self.new_web_user()
        self.say(fourth, button="hs:code:" + self.codes[4])
        self.assertIn("Không tìm thấy", self.say(fourth, "012345678900")[0]["text"])
        self.assertIn("Đang xử lý", self.lookup(self.new_web_user(), self.codes[0], "5678")[0]["text"])
        guard = self.redis("HMGET", "hs:g:d:" + self.codes[4], "n", "until")
        self.assertEqual(guard[0], "3")
        self.assertAlmostEqual(int(guard[1]) - time.time(), 24 * 3600, delta=60)

    def test_a_source_pause_doubles_each_time(self):
        user = self.new_web_user()
        key = source_key("addr:4:" + address_of(user))
        for round_, pause in ((1, 15 * 60), (2, 30 * 60), (3, 60 * 60)):
            for i in range(20):
                self.lookup(user, "DBL.00.00.H50-%06d-%04d" % (round_, i), "1234")
            until = int(self.redis("HGET", key, "until"))
            self.assertAlmostEqual(until - time.time(), pause, delta=30)
            self.redis("HSET", key, "until", int(time.time()) - 1)  # as if the pause were over
            self.say(user, "menu")

    def test_lookup_is_recorded_in_the_dossier_access_log(self):
        volunteer = self.new_web_user()
        self.lookup(volunteer, self.codes[1], "7666")
        key = "dossier:access:" + self.codes[1]
        seen = float(self.redis("ZSCORE", key, "wc:" + volunteer))
        self.assertLess(abs(seen - time.time()), 60)
        self.assertIn(key, self.redis("SMEMBERS", "refs:{wc:%s}" % volunteer))

    def test_buttons_need_verification_then_subscribe(self):
        user = self.new_web_user()
        code = self.codes[0]
        asked = self.say(user, button="hs:sub:" + code)
        self.assertIn("4 chữ số cuối", asked[0]["text"])
        done = self.say(user, "5678")
        self.assertIn("Đã đăng ký", done[0]["text"])
        self.assertEqual(self.redis("SISMEMBER", "sub:" + code, "wc:" + user), 1)
        self.assertIn("sub:" + code, self.redis("SMEMBERS", "refs:{wc:%s}" % user))
        # Verified now: details at once, offering to stop notifications.
        shown = self.say(user, button="hs:code:" + code)
        self.assertIn("hs:unsub:" + code, [b["payload"] for b in shown[0]["buttons"]])
        self.assertIn("không nhận thông báo", self.say(user, button="hs:unsub:" + code)[0]["text"])
        self.assertEqual(self.redis("SISMEMBER", "sub:" + code, "wc:" + user), 0)
        self.assertNotIn("sub:" + code, self.redis("SMEMBERS", "refs:{wc:%s}" % user) or [])

    def test_forged_button_gets_help(self):
        user = self.new_web_user()
        self.assertIn("Tôi có thể giúp", self.say(user, button="hs:code:../../x")[0]["text"])

    def test_other_question_leaves_the_lookup(self):
        user = self.new_web_user()
        self.say(user, "tra cứu hồ sơ")
        reply = self.say(user, "làm căn cước mất bao lâu")
        self.assertNotIn("Mã hồ sơ gồm", reply[0]["text"])
        self.assertIsNone(json.loads(self.redis("GET", "s:{wc:%s}" % user)).get("mode"))

    def test_a_question_instead_of_the_4_digits_is_answered_and_counts_no_try(self):
        user = self.new_web_user()
        self.say(user, "tra cứu hồ sơ")
        self.assertIn("4 chữ số cuối", self.say(user, self.codes[4])[0]["text"])
        reply = self.say(user, "phi bao nhieu")
        self.assertIn("thủ tục nào", reply[0]["text"])  # no procedure known yet: which one?
        self.assertIsNone(json.loads(self.redis("GET", "s:{wc:%s}" % user)).get("mode"))
        self.assertEqual(self.redis("EXISTS", source_key("addr:4:" + address_of(user))), 0)
        self.assertEqual(self.redis("EXISTS", "hs:g:d:" + self.codes[4]), 0)
        self.say(user, "tra cứu hồ sơ")
        self.say(user, self.codes[4])
        # digits that are no proof: asked again, still in the lookup
        asked = self.say(user, "so cuoi 11 a")[0]["text"]
        self.assertIn("chỉ cần gõ 4 chữ số cuối", asked)
        # a whole phone number (10 digits) is taken too: not "12 chữ số" only
        self.assertIn("cả số điện thoại hoặc cả số căn cước", asked)
        self.assertEqual(json.loads(self.redis("GET", "s:{wc:%s}" % user)).get("mode"), "lookup")
        self.assertIn(self.codes[4], self.say(user, "5678")[0]["text"])

    def test_payment_without_gateway_says_pay_at_the_office(self):
        user = self.new_web_user()
        self.lookup(user, self.codes[0], "5678")
        reply = self.say(user, button="hs:pay:" + self.codes[0])
        self.assertIn("nộp lệ phí tại bộ phận một cửa", reply[0]["text"])


class DossierNotifyTest(DossierTestBase):
    def tg_say(self, user, update):
        before = len(self.tg.sent_to(user))
        status, _, _ = self.bot.telegram(update)
        self.assertEqual(status, 200)
        return wait_until(lambda: self.tg.sent_to(user)[before:], what="a telegram reply")[-1]

    def subscribe_telegram(self, user, code):
        self.tg_say(user, tg_message(self.next_id(), user, "tra cứu hồ sơ"))
        self.tg_say(user, tg_message(self.next_id(), user, code))
        self.tg_say(user, tg_message(self.next_id(), user, "5678"))
        done = self.tg_say(user, tg_callback(self.next_id(), user, "hs:sub:" + code))
        self.assertIn("Đã đăng ký", done["json"]["text"])

    def test_subscribed_user_is_notified_within_a_second(self):
        code = "NTF.00.00.H50-000000-0001"
        self.assertEqual(self.upload([record(code)])[0], 200)
        follower, bystander = self.new_user(), self.new_user()
        self.subscribe_telegram(follower, code)
        self.tg_say(bystander, tg_message(self.next_id(), bystander, "xin chào"))
        seen_bystander = len(self.tg.sent_to(bystander))
        before = len(self.tg.sent_to(follower))
        status, body = self.upload([record(code, status="can_bo_sung",
                                           note="Thiếu bản sao CCCD của mẹ.")])
        sent_at = time.time()
        self.assertEqual((status, body["updated"]), (200, 1), body)
        notice = wait_until(lambda: self.tg.sent_to(follower)[before:], timeout=1.0,
                            what="the status notice")[0]
        self.assertLessEqual(notice["time"] - sent_at, 1.0 * SLOW)
        text = notice["json"]["text"]
        self.assertIn(code, text)
        self.assertIn("Cần bổ sung", text)
        self.assertIn("Thiếu bản sao CCCD của mẹ.", text)
        self.assertIn("UBND phường Chiềng Cơi", text)  # where to bring the papers
        self.assertEqual(len(self.tg.sent_to(bystander)), seen_bystander)
        # The same record again changes nothing and sends nothing.
        self.assertEqual(self.upload([record(code, status="can_bo_sung",
                                             note="Thiếu bản sao CCCD của mẹ.")])[1]["unchanged"], 1)

    def test_web_chat_subscriber_finds_the_notice_in_the_inbox(self):
        code = "NTF.00.00.H50-000000-0002"
        self.upload([record(code, fee=50000)])
        user = self.new_web_user()
        self.lookup(user, code, "5678")
        self.say(user, button="hs:sub:" + code)
        self.upload([record(code, fee=50000, status="cho_thanh_toan")])
        notices = wait_until(lambda: self.bot.inbox(user), timeout=1.0, what="the inbox notice")
        self.assertIn("Chờ nộp lệ phí 50.000 đồng", notices[0]["text"])
        self.assertIn("hs:pay:" + code, [b["payload"] for b in notices[0]["buttons"]])

    def test_import_command_changes_reach_subscribers(self):
        code = "NTF.00.00.H50-000000-0003"
        self.upload([record(code)])
        user = self.new_web_user()
        self.lookup(user, code, "5678")
        self.say(user, button="hs:sub:" + code)
        path = os.path.join(self.tmp, "result.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump([record(code, status="da_co_ket_qua", finished_at="2024-11-24T10:00:00+07:00")], f)
        proc = run_cli(["import", path], {"REDIS_URL": self.redis.url})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("cập nhật 1".encode(), proc.stdout)
        notices = wait_until(lambda: self.bot.inbox(user), timeout=2.0, what="the inbox notice")
        self.assertIn("Đã có kết quả", notices[0]["text"])


class DossierUntrustedProxyTest(DossierTestBase):
    """Without DVCBOT_TRUSTED_PROXIES, X-Forwarded-For is anybody's to write."""
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN}

    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self):
        self.upload([record("UNT.00.00.H50-000000-0001")])
        for i in range(20):
            self.lookup(self.new_web_user(), "UNT.00.00.H50-000001-%04d" % i, "1234", "198.51.100.%d" % i)
        reply = self.lookup(self.new_web_user(), "UNT.00.00.H50-000000-0001", "5678", "198.51.100.200")
        self.assertIn("quá nhiều lần", reply[0]["text"])


class DossierGlobalLimitTest(DossierTestBase):
    telegram = False
    extra_env = dict(DossierTestBase.extra_env, DVCBOT_LOOKUP_GLOBAL_FAILS="6")

    def test_wrong_4_digits_everywhere_pause_them_for_everyone_for_the_hour(self):
        code = "GLB.00.00.H50-000000-0001"
        self.upload([record(code)])
        for i in range(6):
            reply = self.lookup(self.new_web_user(), "GLB.00.00.H50-000001-%04d" % i, "1234")
            self.assertIn("Không tìm thấy", reply[0]["text"])
        owner = self.new_web_user()
        self.assertIn("gõ đầy đủ số căn cước", self.lookup(owner, code, "5678")[0]["text"])
        self.assertIn("Đang xử lý", self.say(owner, "012345678901")[0]["text"])
        window = self.redis("HMGET", "hs:g:all", "w", "n")
        self.assertEqual(window[1], "6")
        self.assertLess(abs(int(window[0]) - time.time()), 60)


class DossierAccountLimitTest(DossierTestBase):
    """Telegram accounts: the account is the source; fresh ones share a budget."""
    extra_env = dict(DossierTestBase.extra_env, DVCBOT_LOOKUP_NEW_ID_FAILS="4")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        status, _, body = cls.bot.admin("POST", "/admin/dossiers",
                                        ndjson([record("ACC.00.00.H50-000000-0001")]))
        assert status == 200, body

    def aged(self, chat):
        """Makes the guard see the account as first seen two days ago."""
        self.redis("HSET", source_key("acct:" + chat.key), "first", int(time.time()) - 2 * 24 * 3600)
        return chat

    def tg_lookup(self, chat, code, proof):
        chat.say("tra cứu hồ sơ")
        chat.say(code)
        return texts(chat.say(proof))

    def test_erase_my_data_does_not_reset_the_failure_count(self):
        chat = self.aged(Chat(self, "telegram"))
        for i in range(5):
            self.assertIn("Không tìm thấy", self.tg_lookup(chat, "ERA.00.00.H50-000000-%04d" % i, "1234"))
        self.assertIn("quá nhiều lần", self.tg_lookup(chat, "ACC.00.00.H50-000000-0001", "5678"))
        self.assertIn("erase:yes", payloads(chat.say("xóa dữ liệu của tôi")))
        self.assertIn("đã xóa", texts(chat.press("erase:yes")).lower())
        self.assertEqual(self.redis("KEYS", "*{%s}*" % chat.key), [])
        again = texts(chat.say("tra cứu hồ sơ ACC.00.00.H50-000000-0001"))
        again += texts(chat.say("5678"))
        self.assertIn("quá nhiều lần", again)
        self.assertNotIn("Đang xử lý", again)

    def test_new_accounts_share_one_budget(self):
        code = "ACC.00.00.H50-000000-0001"
        for i in range(4):
            self.assertIn("Không tìm thấy",
                          self.tg_lookup(Chat(self, "telegram"), "NEW.00.00.H50-000000-%04d" % i, "1234"))
        fresh = Chat(self, "telegram")
        paused = self.tg_lookup(fresh, code, "5678")
        self.assertIn("tài khoản mới tạm dừng", paused)
        self.assertNotIn("Đang xử lý", paused)
        self.assertIn("tài khoản mới tạm dừng", texts(fresh.say("tra cứu hồ sơ " + code)))
        # An account the guard has known for days keeps its own budget.
        self.assertIn("Đang xử lý", self.tg_lookup(self.aged(Chat(self, "telegram")), code, "5678"))


class DossierEnumerationDayTest(DossierTestBase):
    """A day of guessing through the real service (the test clock moves an
    hour at a time): an attacker with a fresh web chat id and a fresh address
    for every try gets at most 3 tries of 4 digits per dossier a day, so it
    learns at most 3 × 2/10 000 = 0.06 % of dossiers a day (the whole-number
    path is limited by the addresses it holds; tests/unit/test_lookup_guard.c
    simulates both at scale)."""
    telegram = False
    DOSSIERS = 20

    def test_fresh_identities_get_at_most_3_tries_per_dossier_a_day(self):
        rng = random.Random(9)
        codes = ["DAY.00.00.H50-000000-%04d" % i for i in range(self.DOSSIERS)]
        self.upload([record(c, phone="09%08d" % rng.randrange(10 ** 8),
                            id_number="014%09d" % rng.randrange(10 ** 9)) for c in codes])
        tried = {c: 0 for c in codes}
        learned = set()
        n = 0
        for hour in range(24):
            for code in codes:
                while code not in learned:
                    n += 1
                    user, address = "dayattack%06d" % n, "10.%d.%d.%d" % (n >> 16 & 255, n >> 8 & 255, n & 255)
                    self.say(user, button="hs:code:" + code, address=address)
                    text = self.say(user, "%04d" % rng.randrange(10 ** 4), address=address)[0]["text"]
                    if "tạm dừng" in text or "quá nhiều lần" in text:
                        break  # refused: no try
                    tried[code] += 1
                    if "Tình trạng" in text:
                        learned.add(code)
            self.bot.advance_clock(3600)
        most = max(tried.values())
        share = 100.0 * sum(tried.values()) / len(codes) * 2 / 10000
        print("\nenumeration through HTTP, one simulated day: %d tries of 4 digits on %d dossiers "
              "(at most %d per dossier), %d learned; expected share learned %.3f %% a day"
              % (sum(tried.values()), len(codes), most, len(learned), share))
        self.assertLessEqual(most, 3)
        self.assertLess(share, 0.1)
