"""Payment links (VNPay 2.1.0 style) checked independently with Python's
hmac, the IPN answers (00/97/01/04/02) and the return page."""
import datetime
import hashlib
import hmac
import json
import re
import time
import urllib.parse

from harness import ADMIN_TOKEN, ServiceTest, wait_until
from test_dossiers import ndjson, record

SECRET = "VNPAY-test-secret-0123456789"
PAY_BASE = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"
VN = datetime.timezone(datetime.timedelta(hours=7))


def php_urlencode(s):
    """PHP urlencode: space as '+', every byte outside A-Za-z0-9._- as %XX."""
    out = []
    for b in s.encode():
        c = chr(b)
        if (c.isascii() and c.isalnum()) or c in "._-":
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def sign(params, secret=SECRET):
    data = "&".join(php_urlencode(k) + "=" + php_urlencode(v) for k, v in sorted(params.items())
                    if k.startswith("vnp_") and k not in ("vnp_SecureHash", "vnp_SecureHashType"))
    return data, hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def gateway_query(params, secret=SECRET):
    """The query string the gateway sends to the IPN and return URLs."""
    data, digest = sign(params, secret)
    return data + "&vnp_SecureHashType=HmacSHA512&vnp_SecureHash=" + digest


class PaymentTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": ADMIN_TOKEN, "PAY_BASE_URL": PAY_BASE, "PAY_TMN_CODE": "DVCTEST1",
                 "PAY_HASH_SECRET": SECRET, "PUBLIC_BASE_URL": "https://bot.example.vn/"}

    def upload(self, *records):
        status, _, body = self.bot.admin("POST", "/admin/dossiers", ndjson(records))
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def say(self, user, text=None, button=None):
        status, data = self.bot.webchat(user, text, button)
        self.assertEqual(status, 200)
        return data["replies"]

    def new_code(self):
        return "PAY.00.%05d.H50-000000-0001" % (self.next_id() % 100000)

    def link_for(self, fee=150000):
        """A dossier, a verified web chat user and a payment link: (user, code, url)."""
        code = self.new_code()
        self.upload(record(code, fee=fee))
        user = "payuser%07d" % self.next_id()
        self.say(user, "tra cứu hồ sơ")
        self.say(user, code)
        self.assertIn("Đang xử lý", self.say(user, "5678")[0]["text"])
        text = self.say(user, button="hs:pay:" + code)[0]["text"]
        url = re.search(r"https://\S+", text).group(0)
        return user, code, url

    def ipn(self, params, secret=SECRET):
        status, _, body = self.bot.request("GET", "/pay/ipn?" + gateway_query(params, secret))
        self.assertEqual(status, 200)
        return json.loads(body)

    def paid_params(self, url, **changes):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        p = {"vnp_Amount": q["vnp_Amount"], "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP14226112",
             "vnp_CardType": "ATM", "vnp_OrderInfo": q["vnp_OrderInfo"], "vnp_PayDate": "20241120101500",
             "vnp_ResponseCode": "00", "vnp_TmnCode": "DVCTEST1", "vnp_TransactionNo": "14226112",
             "vnp_TransactionStatus": "00", "vnp_TxnRef": q["vnp_TxnRef"]}
        p.update(changes)
        return p

    def pay_record(self, ref):
        flat = self.redis("HGETALL", "pay:" + ref)
        return dict(zip(flat[::2], flat[1::2]))

    def test_link_signature_checks_out_independently_and_expires_in_15_minutes(self):
        before = time.time()
        user, code, url = self.link_for(fee=150000)
        parts = urllib.parse.urlsplit(url)
        self.assertEqual(parts.scheme + "://" + parts.netloc + parts.path, PAY_BASE)
        raw_query = parts.query
        signed, _, digest = raw_query.rpartition("&vnp_SecureHash=")
        # Our own PHP-style encoding of the parameters gives the same bytes and hash.
        q = dict(urllib.parse.parse_qsl(raw_query))
        data, want = sign(q)
        self.assertEqual(signed, data)
        self.assertEqual(digest, want)
        self.assertEqual(digest, hmac.new(SECRET.encode(), signed.encode(), hashlib.sha512).hexdigest())
        names = [kv.split("=")[0] for kv in signed.split("&")]
        self.assertEqual(names, sorted(names))
        self.assertEqual(set(names), {"vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount",
                                      "vnp_CurrCode", "vnp_TxnRef", "vnp_OrderInfo", "vnp_OrderType",
                                      "vnp_Locale", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate",
                                      "vnp_ExpireDate"})
        self.assertEqual((q["vnp_Version"], q["vnp_Command"], q["vnp_CurrCode"], q["vnp_Locale"]),
                         ("2.1.0", "pay", "VND", "vn"))
        self.assertEqual(q["vnp_Amount"], "15000000")
        self.assertEqual(q["vnp_ReturnUrl"], "https://bot.example.vn/pay/return")
        self.assertRegex(q["vnp_OrderInfo"], r"^[a-z0-9 ]+$")
        self.assertIn("thanh toan le phi ho so", q["vnp_OrderInfo"])
        created = datetime.datetime.strptime(q["vnp_CreateDate"], "%Y%m%d%H%M%S").replace(tzinfo=VN)
        expires = datetime.datetime.strptime(q["vnp_ExpireDate"], "%Y%m%d%H%M%S").replace(tzinfo=VN)
        self.assertLess(abs(created.timestamp() - before), 60)
        self.assertEqual(expires - created, datetime.timedelta(minutes=15))
        rec = self.pay_record(q["vnp_TxnRef"])
        self.assertEqual((rec["amount"], rec["code"], rec["status"]), ("150000", code, "pending"))
        self.assertEqual(rec["wc:" + user], "payer")
        self.assertIn("pay:" + q["vnp_TxnRef"], self.redis("SMEMBERS", "refs:{wc:%s}" % user))
        # A second link for the same dossier has its own reference.
        again = self.say(user, button="hs:pay:" + code)[0]["text"]
        ref2 = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
            re.search(r"https://\S+", again).group(0)).query))["vnp_TxnRef"]
        self.assertNotEqual(ref2, q["vnp_TxnRef"])

    def test_good_ipn_marks_paid_and_tells_the_user(self):
        user, code, url = self.link_for(fee=30000)
        p = self.paid_params(url)
        self.assertEqual(self.ipn(p), {"RspCode": "00", "Message": "Confirm Success"})
        rec = self.pay_record(p["vnp_TxnRef"])
        self.assertEqual((rec["status"], rec["transaction_no"]), ("paid", "14226112"))
        flat = self.redis("HGETALL", "dossier:" + code)
        dossier = dict(zip(flat[::2], flat[1::2]))
        self.assertEqual((dossier["paid"], dossier["paid_online"]), ("1", "1"))
        notice = wait_until(lambda: self.bot.inbox(user), what="the payment notice")
        self.assertIn("Đã nhận 30.000 đồng", notice[0]["text"])
        self.assertIn(code, notice[0]["text"])
        # Paid: the lookup says so and no second link is offered.
        self.assertIn("đã được thanh toán", self.say(user, button="hs:pay:" + code)[0]["text"])
        details = self.say(user, button="hs:code:" + code)[0]
        self.assertIn("30.000 đồng — đã thanh toán", details["text"])
        self.assertNotIn("hs:pay:" + code, [b["payload"] for b in details["buttons"]])
        # A later export still saying "unpaid" does not undo the online payment.
        self.upload(record(code, fee=30000, paid=False))
        self.assertEqual(self.redis("HGET", "dossier:" + code, "paid"), "1")

    def test_forged_ipn_is_97_and_changes_nothing(self):
        user, code, url = self.link_for()
        p = self.paid_params(url)
        self.assertEqual(self.ipn(p, secret="not-the-secret")["RspCode"], "97")
        query = gateway_query(p).replace("vnp_Amount=15000000", "vnp_Amount=100")
        status, _, body = self.bot.request("GET", "/pay/ipn?" + query)
        self.assertEqual(json.loads(body)["RspCode"], "97")
        status, _, body = self.bot.request("GET", "/pay/ipn?vnp_TxnRef=" + p["vnp_TxnRef"])
        self.assertEqual(json.loads(body)["RspCode"], "97")
        self.assertEqual(self.pay_record(p["vnp_TxnRef"])["status"], "pending")
        self.assertEqual(self.redis("HGET", "dossier:" + code, "paid"), "0")

    def test_wrong_amount_is_04(self):
        user, code, url = self.link_for(fee=150000)
        p = self.paid_params(url, vnp_Amount="1500000")
        self.assertEqual(self.ipn(p)["RspCode"], "04")
        self.assertEqual(self.pay_record(p["vnp_TxnRef"])["status"], "pending")

    def test_repeated_ipn_is_02_and_changes_nothing(self):
        user, code, url = self.link_for()
        p = self.paid_params(url)
        self.assertEqual(self.ipn(p)["RspCode"], "00")
        first = self.pay_record(p["vnp_TxnRef"])
        wait_until(lambda: self.bot.inbox(user), what="the payment notice")
        self.assertEqual(self.ipn(p), {"RspCode": "02", "Message": "Order already confirmed"})
        self.assertEqual(self.ipn(dict(p, vnp_ResponseCode="24", vnp_TransactionStatus="02"))["RspCode"], "02")
        self.assertEqual(self.pay_record(p["vnp_TxnRef"]), first)
        time.sleep(0.3)
        self.assertEqual(self.bot.inbox(user), [])

    def test_unknown_order_is_01(self):
        user, code, url = self.link_for()
        p = self.paid_params(url, vnp_TxnRef="DVC99999999R00000000")
        self.assertEqual(self.ipn(p), {"RspCode": "01", "Message": "Order not found"})

    def test_failed_payment_is_recorded_not_paid(self):
        user, code, url = self.link_for()
        p = self.paid_params(url, vnp_ResponseCode="24", vnp_TransactionStatus="02")
        self.assertEqual(self.ipn(p)["RspCode"], "00")
        rec = self.pay_record(p["vnp_TxnRef"])
        self.assertEqual((rec["status"], rec["response_code"]), ("failed", "24"))
        self.assertEqual(self.redis("HGET", "dossier:" + code, "paid"), "0")
        notice = wait_until(lambda: self.bot.inbox(user), what="the failure notice")
        self.assertIn("chưa thành công", notice[0]["text"])
        self.assertIn("hs:pay:" + code, [b["payload"] for b in notice[0]["buttons"]])

    def test_return_page_says_paid_or_not_and_marks_nothing(self):
        user, code, url = self.link_for(fee=20000)
        p = self.paid_params(url)
        status, headers, body = self.bot.request("GET", "/pay/return?" + gateway_query(p))
        page = body.decode()
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn('lang="vi"', page)
        self.assertIn("Thanh toán thành công 20.000 đồng", page)
        self.assertEqual(self.pay_record(p["vnp_TxnRef"])["status"], "pending")
        self.assertEqual(self.redis("HGET", "dossier:" + code, "paid"), "0")
        status, _, body = self.bot.request("GET", "/pay/return?" + gateway_query(
            dict(p, vnp_ResponseCode="24", vnp_TransactionStatus="02")))
        self.assertIn("chưa thành công", body.decode())
        status, _, body = self.bot.request("GET", "/pay/return?" + gateway_query(p, "forged"))
        self.assertEqual(status, 400)
        self.assertIn("Không xác minh được", body.decode())
        self.assertNotIn("thành công", body.decode())

    def test_return_page_escapes_what_it_shows(self):
        user, code, url = self.link_for()
        p = self.paid_params(url, vnp_TxnRef="<script>alert(1)</script>")
        status, _, body = self.bot.request("GET", "/pay/return?" + gateway_query(p))
        self.assertNotIn("<script>", body.decode())
        self.assertIn("&lt;script&gt;", body.decode())

    def test_thanh_toan_intent_uses_the_dossier_just_verified(self):
        user, code, url = self.link_for(fee=40000)
        text = self.say(user, "tôi muốn thanh toán lệ phí")[0]["text"]
        self.assertIn("40.000 đồng", text)
        self.assertIn(PAY_BASE + "?", text)
        fresh = "payuser%07d" % self.next_id()
        asked = self.say(fresh, "thanh toán lệ phí online")[0]["text"]
        self.assertIn("mã hồ sơ", asked)
        self.say(fresh, code)
        self.assertIn(PAY_BASE + "?", self.say(fresh, "5678")[0]["text"])

    def test_dossier_without_fee_gets_no_link(self):
        code = self.new_code()
        self.upload(record(code, fee=0))
        user = "payuser%07d" % self.next_id()
        self.say(user, "tra cứu hồ sơ")
        self.say(user, code)
        self.say(user, "5678")
        self.assertIn("không có lệ phí", self.say(user, button="hs:pay:" + code)[0]["text"])
