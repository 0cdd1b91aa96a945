"""Staff console at /admin over plain HTTP, what officers do for residents:
broadcasts (counted before sending, scoped to an officer's commune, refusals
in Vietnamese), comments and complaints, open hand-offs and volunteers'
household visits. Sign-in and sessions are in test_console.py."""
import json

from console_client import SCOPED_COMMUNE, SCOPED_TOKEN, TOKENS, Console, buttons, console_error_vi, labels
from harness import ADMIN_TOKEN, ServiceTest, seed_user, wait_until

class ConsoleBroadcastTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def users(self, n, commune):
        out = []
        for _ in range(n):
            key = "tg:%d" % self.new_user()
            seed_user(self.redis, key, commune=commune)
            out.append(key)
        return out

    def test_count_before_sending_matches_the_segment_and_stores_nothing(self):
        self.users(3, "Chiềng Hoa")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        before = self.redis("GET", "bc:next")
        status, body = c.call("POST", "broadcasts/count", {
            "text": "Lịch tiếp dân", "segment": {"channels": ["telegram"], "communes": ["Chiềng Hoa"]}})
        self.assertEqual((status, body), (200, {"recipients": 3, "dry_run": True}))
        self.assertEqual(self.redis("GET", "bc:next"), before)
        status, body = c.call("POST", "broadcasts/count", {"text": "", "segment": {}})
        self.assertEqual(status, 400)

    def test_commune_officer_sends_to_their_commune_only_and_sees_only_its_broadcasts(self):
        self.users(2, SCOPED_COMMUNE)
        self.users(2, "Mường Chanh")
        province = Console(self.bot)
        province.sign_in(ADMIN_TOKEN)
        status, other = province.call("POST", "broadcasts", {
            "text": "Tin cho Mường Chanh", "segment": {"channels": ["telegram"], "communes": ["Mường Chanh"]}})
        self.assertEqual(status, 202, other)
        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        seg = {"channels": ["telegram"], "communes": ["Mường Chanh", "Chiềng Hoa"]}
        status, body = officer.call("POST", "broadcasts/count", {"text": "x", "segment": seg})
        self.assertEqual(body["recipients"], 2)
        status, mine = officer.call("POST", "broadcasts", {"text": "Tin của xã", "segment": seg})
        self.assertEqual(status, 202, mine)
        self.assertEqual(mine["recipients"], 2)
        stored = json.loads(self.redis("HGET", "bc:" + mine["id"], "segment"))
        self.assertEqual(stored["communes"], [SCOPED_COMMUNE])
        ids = [b["id"] for b in officer.call("GET", "broadcasts")[1]["broadcasts"]]
        self.assertIn(mine["id"], ids)
        self.assertNotIn(other["id"], ids)
        self.assertEqual(officer.call("GET", "broadcasts/" + other["id"])[0], 404)
        self.assertEqual(officer.call("POST", "broadcasts/%s/cancel" % other["id"])[0], 404)
        status, followed = officer.call("GET", "broadcasts/" + mine["id"])
        self.assertEqual(status, 200)
        self.assertEqual(followed["recipients"], 2)
        all_ids = [b["id"] for b in province.call("GET", "broadcasts")[1]["broadcasts"]]
        self.assertTrue({mine["id"], other["id"]} <= set(all_ids))


    def test_the_bearer_api_refuses_a_commune_not_in_the_2025_list_as_the_console_does(self):
        # POST /admin/broadcasts took any name: a commune merged in 2025 or a
        # typo made a broadcast to nobody, answered 202 with 0 recipients.
        self.users(2, "Chiềng Cơi")
        before = self.redis("GET", "bc:next")
        body = {"text": "Lịch tiếp dân", "segment": {"channels": ["telegram"],
                                                    "communes": ["Chiềng Cơi", "Xã Hua La"]}}
        for path in ("/admin/broadcasts", "/admin/broadcasts?dry_run=1"):
            status, answer = self.bot.admin_json("POST", path, body)
            self.assertEqual(status, 422, (path, answer))
            self.assertEqual(answer["commune"], "Xã Hua La")
            self.assertEqual(answer["nearest"][0], "Chiềng Cơi")  # the ward Hua La became part of
            self.assertEqual(answer["error"], "unknown commune 'Xã Hua La' (not in the 2025 list); "
                                              "nearest: " + ", ".join(answer["nearest"]))
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.assertEqual(c.call("POST", "broadcasts", body), (422, answer))  # one check, one answer
        self.assertEqual(self.redis("GET", "bc:next"), before)  # nothing created
        status, answer = self.bot.admin_json("POST", "/admin/broadcasts", dict(
            body, segment={"channels": ["telegram"], "communes": ["Mường Kơi"]}))  # a typo of nothing close
        self.assertEqual((status, answer["commune"]), (422, "Mường Kơi"))
        # a listed name however it is written is taken
        status, answer = self.bot.admin_json("POST", "/admin/broadcasts?dry_run=1", dict(
            body, segment={"channels": ["telegram"], "communes": ["phường chieng coi"]}))
        self.assertEqual((status, answer), (200, {"recipients": 2, "dry_run": True}))

    def test_every_refusal_of_a_broadcast_reads_in_vietnamese_on_the_page(self):
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        seg = {"channels": ["telegram"]}
        bad = [
            {"segment": seg},
            {"text": "x" * 2000, "segment": seg},
            {"text": "x", "segment": seg, "buttons": "no"},
            {"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "b"}] * 4},
            {"text": "x", "segment": seg, "buttons": [{"label": "", "payload": "b"}]},
            {"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "có dấu"}]},
            {"text": "x", "segment": seg, "buttons": [{"label": "a", "payload": "b", "x": 1}]},
            {"text": "x", "segment": seg, "buttons": ["a"]},
            {"text": "x"},
            {"text": "x", "segment": {}},
            {"text": "x", "segment": {"channels": ["sms"]}},
            {"text": "x", "segment": {"channels": ["zalo"]}},
            {"text": "x", "segment": {"channels": [1]}},
            {"text": "x", "segment": dict(seg, communes="Chiềng Hoa")},
            {"text": "x", "segment": dict(seg, communes=[""])},
            {"text": "x", "segment": dict(seg, seen_within_days=0)},
            {"text": "x", "segment": dict(seg, dossier_status="xong")},
            {"text": "x", "segment": dict(seg, procedure="khai_sinh")},
            {"text": "x", "segment": dict(seg, tuoi=30)},
            {"text": "x", "segment": seg, "not_before": "mai"},
            {"text": "x", "segment": seg, "not_before": "2099-01-01T08:00:00+07:00"},
            {"text": "x", "segment": seg, "priority": "high"},
            [],
        ]
        seen = set()
        for body in bad:
            status, answer = c.call("POST", "broadcasts/count", body)
            self.assertEqual(status, 400, (body, answer))
            english = answer["error"]
            vi = console_error_vi(english)
            self.assertNotEqual(vi, english, english)
            self.assertNotIn("$", vi)
            seen.add(vi)
        self.assertGreater(len(seen), 15)  # one message per kind of refusal
        for english in ["no such broadcast", "store unavailable",
                        "broadcast is done; only a scheduled or running one can be cancelled",
                        "segment matches more than 100000 users; narrow it (communes, seen_within_days)",
                        "the broadcast with this Idempotency-Key is still being prepared; retry"]:
            self.assertNotEqual(console_error_vi(english), english)
        self.assertIn("done", console_error_vi(
            "broadcast is done; only a scheduled or running one can be cancelled"))

    def test_every_refusal_of_the_other_sections_reads_in_vietnamese_on_the_page(self):
        province, officer = Console(self.bot), Console(self.bot)
        province.sign_in(ADMIN_TOKEN)
        officer.sign_in(SCOPED_TOKEN)
        province.call("POST", "volunteers", {"user": "tg:7300000001", "commune": "Mường Chanh"})
        calls = [
            (province, "POST", "volunteers", {"user": "0912345678", "commune": "Mường Bú"}),
            (province, "POST", "volunteers", {"user": "tg:7300000002", "commune": "x" * 200}),
            (officer, "POST", "volunteers", {"user": "tg:7300000001", "remove": True}),  # another commune's
            (province, "POST", "villages", {"commune": "", "village": "Bản Mới", "households": 10}),
            (province, "POST", "villages", {"commune": "Mường Bú", "village": "Bản Mới", "households": -1}),
            (province, "POST", "feedback/handled", {"id": "999999", "handled": True}),
            (province, "POST", "feedback/handled", {"handled": True}),
            (province, "GET", "indicators?period=2025-Q9&by=commune", None),
            (province, "GET", "dossiers/KHONG.CO-0001", None),
        ]
        for c, method, path, body in calls:
            status, answer = c.call(method, path, body)
            self.assertIn(status, (400, 404), (path, body, answer))
            english = answer["error"]
            self.assertNotEqual(console_error_vi(english), english, english)


class ConsoleFeedbackTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def comment(self, user, stars, text):
        self.bot.webchat(user, "góp ý")
        self.bot.webchat(user, button="rate:%d" % stars)
        status, body = self.bot.webchat(user, text)
        self.assertEqual(status, 200)
        return body

    def complain(self, user, text):
        self.bot.webchat(user, button="fb:complaint")
        return self.bot.webchat(user, text)[1]

    def test_comments_and_complaints_are_listed_newest_first_and_can_be_marked_handled(self):
        user_a, user_b = "wcfeedback0001", "wcfeedback0002"
        self.redis("HSET", "u:{wc:%s}" % user_b, "commune", "Mường Bú")
        self.comment(user_a, 2, "Hướng dẫn khó hiểu quá")
        self.bot.advance_clock(2)
        self.complain(user_b, "Cán bộ hẹn mãi không trả kết quả")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        status, body = c.call("GET", "feedback")
        self.assertEqual(status, 200)
        items = [i for i in body["items"] if i["comment"] in
                 ("Hướng dẫn khó hiểu quá", "Cán bộ hẹn mãi không trả kết quả")]
        self.assertEqual([i["kind"] for i in items], ["complaint", "comment"])  # newest first
        complaint, comment = items
        self.assertEqual(comment["stars"], 2)
        self.assertEqual(comment["channel"], "webchat")
        self.assertEqual(complaint["commune"], "Mường Bú")  # from the user's record
        self.assertIsNone(complaint["handled_at"])
        self.assertEqual(c.call("POST", "feedback/handled", {"id": complaint["id"]})[0], 200)
        items = {i["id"]: i for i in c.call("GET", "feedback")[1]["items"]}
        self.assertIsNotNone(items[complaint["id"]]["handled_at"])
        self.assertIsNone(items[comment["id"]]["handled_at"])
        self.assertEqual(c.call("POST", "feedback/handled",
                                {"id": complaint["id"], "handled": False})[0], 200)
        self.assertIsNone({i["id"]: i for i in c.call("GET", "feedback")[1]["items"]}
                          [complaint["id"]]["handled_at"])
        self.assertEqual(c.call("POST", "feedback/handled", {"id": "wc:nobody0000|" + "0" * 16})[0], 404)
        self.assertEqual(c.call("POST", "feedback/handled", {"id": "rubbish"})[0], 400)

        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        seen = [i["comment"] for i in officer.call("GET", "feedback")[1]["items"]]
        self.assertIn("Cán bộ hẹn mãi không trả kết quả", seen)
        self.assertNotIn("Hướng dẫn khó hiểu quá", seen)  # no commune: not theirs
        self.assertEqual(officer.call("POST", "feedback/handled", {"id": comment["id"]})[0], 404)

    def test_a_complaint_typed_after_a_rating_is_stored_and_listed_as_a_complaint(self):
        user = "wcfeedback0003"
        body = self.comment(user, 1, "Cán bộ xã hạch sách, tôi muốn khiếu nại")
        self.assertIn("Đã ghi nhận phản ánh", body["replies"][0]["text"])  # complaint_saved
        stored = [json.loads(x) for x in self.redis("LRANGE", "fb:{wc:%s}" % user, 0, -1)]
        self.assertEqual([s["kind"] for s in stored], ["complaint"])
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        items = [i for i in c.call("GET", "feedback")[1]["items"] if i["id"].startswith("wc:" + user)]
        self.assertEqual([(i["kind"], i["stars"]) for i in items], [("complaint", 1)])

    def test_erase_my_data_removes_the_handled_marks_too(self):
        user = "wcfeedback0003"
        self.comment(user, 5, "Rất tiện, cảm ơn")
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        item = [i for i in c.call("GET", "feedback")[1]["items"] if i["comment"] == "Rất tiện, cảm ơn"][0]
        c.call("POST", "feedback/handled", {"id": item["id"]})
        self.assertEqual(self.redis("EXISTS", "fbh:{wc:%s}" % user), 1)
        self.bot.webchat(user, "xóa dữ liệu của tôi")
        self.bot.webchat(user, button="erase:yes")
        self.assertEqual(self.redis("EXISTS", "fbh:{wc:%s}" % user), 0)
        self.assertNotIn("Rất tiện, cảm ơn", [i["comment"] for i in c.call("GET", "feedback")[1]["items"]])


class ConsoleHandoffTest(ServiceTest):
    extra_env = {"ADMIN_TOKENS": TOKENS, "DVCBOT_STAFF_CHATS": "55501"}

    def test_open_handoffs_are_listed_with_how_long_they_waited(self):
        waiting, other = "wchandoff0001", "wchandoff0002"
        self.redis("HSET", "u:{wc:%s}" % waiting, "commune", "Xã Mường Bú")
        self.bot.webchat(waiting, "cho tôi gặp cán bộ")
        self.bot.webchat(other, "cho tôi gặp cán bộ")
        self.bot.advance_clock(600)
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        tickets = c.call("GET", "handoffs")[1]["tickets"]
        self.assertEqual(len(tickets), 2)
        mine = [t for t in tickets if t["commune"] == "Xã Mường Bú"][0]
        self.assertEqual(mine["channel"], "webchat")
        self.assertGreaterEqual(mine["waited_s"], 600)
        self.assertLess(mine["waited_s"], 660)
        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        self.assertEqual([t["ticket"] for t in officer.call("GET", "handoffs")[1]["tickets"]],
                         [mine["ticket"]])
        self.bot.webchat(waiting, button="ho:end")  # the user closes it
        left = [t["ticket"] for t in c.call("GET", "handoffs")[1]["tickets"]]
        self.assertNotIn(mine["ticket"], left)
        self.assertEqual(len(left), 1)


class ConsoleVolunteerTest(ServiceTest):
    telegram = False
    extra_env = {"ADMIN_TOKENS": TOKENS}

    def test_a_volunteer_closes_a_household_visit_in_two_taps_after_the_residents_consent(self):
        vol = "wcvolunteer01"
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        self.assertEqual(c.call("POST", "volunteers", {"user": "wc:" + vol, "commune": "Mường Bú"})[0], 200)
        for village, households in (("Bản Phiêng Lơi", 40), ("Bản Noong Bua", 25)):
            self.assertEqual(c.call("POST", "villages", {"commune": "Mường Bú", "village": village,
                                                          "households": households})[0], 200)
        self.assertEqual(c.call("POST", "villages", {"commune": "Chiềng Hoa", "village": "Bản Co Mần",
                                                      "households": 30})[0], 200)
        # the consent question comes first
        r = self.bot.webchat(vol, button="hh:start")[1]["replies"]
        self.assertEqual(set(buttons(r)), {"hh:c:y", "hh:c:n"})
        self.assertIn("đồng ý", r[0]["text"])
        # an outcome tap before consent is refused
        r = self.bot.webchat(vol, button="hh:o:111")[1]["replies"]
        self.assertEqual(set(buttons(r)), {"hh:c:y", "hh:c:n"})
        r = self.bot.webchat(vol, button="hh:c:y")[1]["replies"]
        villages = labels(r)
        self.assertEqual([villages[p] for p in ("hh:v:1", "hh:v:2")], ["Bản Noong Bua", "Bản Phiêng Lơi"])
        self.assertNotIn("Bản Co Mần", villages.values())  # another commune's
        # tap one: the village; tap two: the outcome
        r = self.bot.webchat(vol, button="hh:v:2")[1]["replies"]
        self.assertEqual(len([p for p in buttons(r) if p.startswith("hh:o:")]), 6)
        r = self.bot.webchat(vol, button="hh:o:110")[1]["replies"]
        self.assertIn("Bản Phiêng Lơi", r[0]["text"])
        # a second household, village typed, all three done
        self.bot.webchat(vol, button="hh:start")
        self.bot.webchat(vol, button="hh:c:y")
        self.bot.webchat(vol, "Bản Phiêng Lơi")
        self.bot.webchat(vol, button="hh:o:111")
        # a third: the resident says no
        self.bot.webchat(vol, button="hh:start")
        r = self.bot.webchat(vol, button="hh:c:n")[1]["replies"]
        self.assertIn("không ghi", r[0]["text"])

        rows = {(v["commune_key"], v["village"]): v for v in c.call("GET", "coverage")[1]["villages"]}
        pl = rows[("muong bu", "Bản Phiêng Lơi")]
        self.assertEqual((pl["households"], pl["visits"], pl["vneid"], pl["online"], pl["paid"], pl["met"]),
                         (40, 2, 2, 2, 1, 1))
        self.assertEqual(pl["coverage_pct"], 2.5)
        self.assertEqual(rows[("muong bu", "")]["refused"], 1)
        self.assertEqual(rows[("muong bu", "Bản Noong Bua")]["visits"], 0)
        log = [json.loads(x) for x in self.redis("LRANGE", "coverage:log", 0, -1)]
        self.assertEqual(len(log), 2)
        self.assertTrue(all(e["consent"] == "yes" and e["village"] == "Bản Phiêng Lơi" for e in log))
        self.assertNotIn(vol, json.dumps(log))  # the record names nobody
        listed = {v["user"]: v for v in c.call("GET", "volunteers")[1]["volunteers"]}
        self.assertEqual(listed["wc:" + vol]["households"], 2)
        self.assertEqual(listed["wc:" + vol]["commune"], "Mường Bú")

        officer = Console(self.bot)
        officer.sign_in(SCOPED_TOKEN)
        communes = {v["commune_key"] for v in officer.call("GET", "coverage")[1]["villages"]}
        self.assertEqual(communes, {"muong bu"})
        # a commune officer adds volunteers to their own commune only
        officer.call("POST", "volunteers", {"user": "tg:424242", "commune": "Chiềng Hoa"})
        self.assertEqual(self.redis("HGET", "vol:{tg:424242}", "commune"), SCOPED_COMMUNE)
        self.assertEqual(officer.call("POST", "volunteers", {"user": "wc:" + vol, "remove": True})[0], 200)
        self.assertEqual(self.redis("SISMEMBER", "volunteers", "wc:" + vol), 0)

    def test_a_volunteer_added_by_staff_is_kept_as_long_as_any_user(self):
        # refs:{} and vol:{} of a volunteer added in the console had no TTL
        # (README "What is kept": refs:{} lives DVCBOT_USER_TTL after its
        # last write), and the set kept them for ever.
        c = Console(self.bot)
        c.sign_in(ADMIN_TOKEN)
        gone, kept = "tg:515151", "tg:525252"
        for user in (gone, kept):
            self.assertEqual(c.call("POST", "volunteers", {"user": user, "commune": "Mường Bú"})[0], 200)
            for key in ("refs:{%s}" % user, "vol:{%s}" % user):
                ttl = self.redis("TTL", key)
                self.assertGreater(ttl, 399 * 86400, key)
                self.assertLessEqual(ttl, 400 * 86400, key)
        self.redis("PEXPIRE", "refs:{%s}" % gone, 1)            # 400 days of silence
        wait_until(lambda: self.redis("EXISTS", "refs:{%s}" % gone) == 0, what="refs:{} to expire")
        passes = lambda: self.bot.metrics().get("dvcbot_ref_sweep_passes_total", 0)
        before = passes()
        self.bot.advance_clock(3600)                              # the sweep is hourly
        wait_until(lambda: passes() > before, what="a sweep pass")
        self.assertEqual(self.redis("SISMEMBER", "volunteers", gone), 0)
        self.assertEqual(self.redis("SISMEMBER", "volunteers", kept), 1)

    def test_a_commune_not_in_the_2025_list_is_refused_with_the_nearest_names(self):
        province, officer = Console(self.bot), Console(self.bot)
        province.sign_in(ADMIN_TOKEN)
        officer.sign_in(SCOPED_TOKEN)
        calls = [("volunteers", {"user": "tg:7400000001", "commune": "Chiềng Kơi"}),    # a typo
                 ("volunteers", {"user": "tg:7400000001", "commune": "Xã Hua La"}),     # merged in 2025
                 ("villages", {"commune": "Thanh Luông", "village": "Bản Mới", "households": 10}),
                 ("broadcasts/count", {"text": "x", "segment": {"channels": ["webchat"],  # on here
                                                                "communes": ["Chiềng Cơi", "Bản Thử"]}})]
        nearest = []
        for path, body in calls:
            status, answer = province.call("POST", path, body)
            self.assertEqual(status, 422, (path, answer))
            shown = console_error_vi(answer["error"])
            self.assertIn("Không có xã/phường", shown)  # the page says it in Vietnamese
            nearest.append(answer["error"].partition("nearest: ")[2])
        self.assertEqual(nearest[0].split(", ")[0], "Chiềng Cơi")  # likeliest first
        self.assertEqual(nearest[1].split(", ")[0], "Chiềng Cơi")  # the ward Hua La became part of
        self.assertEqual(self.redis("EXISTS", "vol:{tg:7400000001}"), 0)  # nothing stored
        self.assertEqual(self.redis("KEYS", "bc:*"), [])
        # the list's names are taken however they are written; the officer's own commune always
        for who, path, body in ((province, "volunteers", {"user": "tg:7400000002", "commune": "xã chieng coi"}),
                                (province, "villages", {"commune": "Chiềng Cơi", "village": "Bản Mới", "households": 10}),
                                (officer, "volunteers", {"user": "tg:7400000003", "commune": "Thanh Luông"})):
            self.assertEqual(who.call("POST", path, body)[0], 200, (path, body))
        status, meta = province.call("GET", "meta")
        names = [c["name"] for c in meta["communes"]]
        self.assertEqual(len(names), 113)  # 75 of Sơn La, 38 of Lai Châu
        self.assertIn({"name": "Chiềng Cơi", "label": "phường Chiềng Cơi, Sơn La"}, meta["communes"])

    def test_someone_not_registered_cannot_record_households(self):
        before = self.redis("LLEN", "coverage:log")
        r = self.bot.webchat("wcnotavolunteer", button="hh:start")[1]["replies"]
        self.assertNotIn("hh:c:y", buttons(r))
        r = self.bot.webchat("wcnotavolunteer", button="hh:o:111")[1]["replies"]
        self.assertNotIn("hh:o:111", buttons(r))
        self.assertEqual(self.redis("LLEN", "coverage:log"), before)
