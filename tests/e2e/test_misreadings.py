"""Lines the matcher misread, judged on the reply a new user gets (session 6):
a topic after "hỏi về" lost to the generic "hỏi" (gặp cán bộ); a commune's
name voted by its syllables ("xã Đoàn Kết" read as kết hôn); "thoát ra" read as hộ nghèo; any line with
"xã" got the 2025 merger explanation; a lone number ("2" after the menu)
read as VNeID mức 2. The lines about communes below were written for this
test, the way villagers type; none is in intents/ or in tests/data."""
import json
import os

from harness import ROOT, Chat, ServiceTest, payloads, texts


def title(proc):
    with open(os.path.join(ROOT, "intents", proc + ".json"), encoding="utf-8") as f:
        return json.load(f)["name"]


NOT_UNDERSTOOD = "chưa hiểu"
EXPLANATION = "không còn cấp huyện"


class MisreadingTest(ServiceTest):

    def first_line(self, replies):
        return replies[0]["text"].split("\n", 1)[0]

    def test_a_topic_after_hoi_ve_wins_over_asking(self):
        # "tôi muốn hỏi về sổ đỏ" got "no staff online" (gặp cán bộ, 0.55)
        for line, proc in (("tôi muốn hỏi về sổ đỏ", "dat_dai"),
                           ("toi muon hoi ve so do", "dat_dai"),
                           ("cho em hỏi về làm căn cước", "can_cuoc"),
                           ("xin hoi ve dang ky ket hon", "ket_hon")):
            r = Chat(self).say(line)
            self.assertEqual(self.first_line(r), title(proc), (line, texts(r)))
        # asking for a person still is
        r = Chat(self).say("tôi muốn hỏi trực tiếp cán bộ")
        self.assertIn("cán bộ", texts(r))
        self.assertNotIn(NOT_UNDERSTOOD, texts(r))

    def test_a_lone_command_word_gets_the_commands_answer(self):
        # "thoát ra" got the hộ nghèo summary ("thoát" of "thoát nghèo")
        for line in ("thoát", "thoat", "thoát ra", "thoat ra", "hủy đi"):
            r = Chat(self).say(line)
            self.assertIn("không có việc nào đang làm dở", texts(r), line)
            self.assertNotIn(title("ho_ngheo"), texts(r), line)
        r = Chat(self).say("làm sao để thoát nghèo")
        self.assertNotIn("không có việc nào đang làm dở", texts(r))

    def test_a_commune_name_does_not_vote_by_its_syllables(self):
        # "xã đoàn kết" got the kết hôn summary
        for line in ("xã đoàn kết", "xa doan ket", "Đoàn Kết"):
            r = Chat(self).say(line)
            self.assertIn("Đoàn Kết", texts(r), line)
            self.assertNotIn(title("ket_hon"), texts(r), line)
            self.assertNotIn(NOT_UNDERSTOOD, texts(r), line)
        r = Chat(self).say("chiềng cơi")
        self.assertIn("phường Chiềng Cơi", texts(r))
        # a procedure asked from a commune is still that procedure
        r = Chat(self).say("tôi ở xã chiềng sinh muốn làm giấy khai sinh cho con")
        self.assertEqual(self.first_line(r), title("khai_sinh"), texts(r))

    def test_the_merger_is_explained_only_when_asked_about(self):
        # off-topic lines with "xã" got the two-level reform explanation
        for line in ("xã tôi có bao nhiêu người thế",
                     "xa minh co cho phien ko",
                     "chu tich xa ten gi the",
                     "đường lên xã em bị sạt lở rồi"):
            r = Chat(self).say(line)
            self.assertNotIn(EXPLANATION, texts(r), line)
        for line in ("xã mình sáp nhập chưa ad",
                     "bây giờ còn phải lên huyện làm giấy tờ không",
                     "xa e gio thuoc xa nao"):
            r = Chat(self).say(line)
            self.assertIn(EXPLANATION, texts(r), line)

    def test_a_lone_number_is_no_procedure(self):
        # "2" typed after the main menu got the VNeID mức 2 summary
        chat = Chat(self, "telegram")
        chat.say("/start")
        for line in ("2", "số 2", "chọn 2 ạ"):
            r = chat.say(line)
            self.assertNotIn(title("dinh_danh_dien_tu"), texts(r), line)
            self.assertNotIn(title("ly_lich_tu_phap"), texts(r), line)
        # with a word that names it, the level-2 account still is
        r = Chat(self).say("lam vneid muc 2 o dau")
        self.assertIn("VNeID", texts(r))

    def test_a_procedure_named_outweighs_who_asks(self):
        # "vợ chồng … tặng cho đất cho con … phải làm những gì ạ" got khai
        # sinh or kết hôn: who asks ("vợ chồng") and how ("phải làm những
        # gì") outweighed the procedure's name (a mention, "tặng cho đất")
        for line in ("vợ chồng em muốn tặng cho đất cho con trai cả thì phải làm những gì ạ",
                     "vo chong toi muon tang cho dat cho chau noi thi lam gi a"):
            r = Chat(self).say(line)
            lines = r[0]["text"].split("\n")
            # its summary, or "which one?" offering it first
            self.assertIn(title("bien_dong_dat_dai"), (lines[0], lines[1].partition(". ")[2]),
                          (line, texts(r)))
        # the couple's own procedure still is theirs
        r = Chat(self).say("vợ chồng tôi muốn đăng ký kết hôn thì cần những gì ạ")
        self.assertIn(title("ket_hon"), self.first_line(r), texts(r))
        # an act about a named procedure stays the act
        r = Chat(self).say("nộp tiền sang tên sổ đỏ bằng chuyển khoản được không")
        self.assertNotEqual(self.first_line(r), title("bien_dong_dat_dai"), texts(r))
        self.assertNotIn(NOT_UNDERSTOOD, texts(r))

    def test_social_insurance_gets_where_to_ask(self):
        # "cho em hỏi về bảo hiểm xã hội" got "tôi chưa hiểu", which was not
        # true: social insurance (BHXH) is not served here, and its own
        # answer says who serves it (intents/khac.json "outside")
        for line in ("cho em hỏi về bảo hiểm xã hội", "bao hiem xa hoi thi hoi o dau",
                     "rut bhxh mot lan"):
            r = Chat(self).say(line)
            self.assertNotIn(NOT_UNDERSTOOD, texts(r), line)
            self.assertIn("cơ quan Bảo hiểm xã hội", texts(r), line)
            self.assertIn("VssID", texts(r), line)
            self.assertIn("i:bhyt_gia_han", payloads(r), line)
            for proc in ("bhyt_ngan_sach", "bhyt_gia_han", "khai_sinh"):
                self.assertNotIn(title(proc), texts(r), line)
        # the card itself still is a procedure
        r = Chat(self).say("làm thẻ bhyt cho con ở trạm y tế được không")
        self.assertEqual(self.first_line(r), title("bhyt_ngan_sach"), texts(r))
        # a line out of scope naming no such topic gets the usual answer
        r = Chat(self).say("giá vàng hôm nay")
        self.assertIn(NOT_UNDERSTOOD, texts(r))

    def test_a_health_station_gets_where_to_go(self):
        # "trạm y tế xã ở đâu" got "tôi chưa hiểu": health care is no
        # procedure; where to go, and 115
        for line in ("trạm y tế xã ở đâu", "benh vien huyen kham chu nhat ko"):
            r = Chat(self).say(line)
            self.assertIn("trạm y tế", texts(r), line)
            self.assertIn("115", texts(r), line)
            self.assertNotIn(NOT_UNDERSTOOD, texts(r), line)
            for proc in ("bhyt_ngan_sach", "bhyt_gia_han", "khai_sinh"):
                self.assertNotIn(title(proc), texts(r), line)

    def test_the_residence_confirmation_says_the_household_book_is_void(self):
        # the paper household book is void since 2023: the answer about a
        # residence confirmation says so, and that VNeID shows residence
        r = Chat(self).say("xin giấy xác nhận cư trú")
        self.assertEqual(self.first_line(r), title("xac_nhan_cu_tru"), texts(r))
        self.assertIn("Sổ hộ khẩu giấy hết giá trị từ 01/01/2023", texts(r))
        self.assertIn("VNeID", texts(r))

    # ===== session 9 (understand9): narrow rules, each for one shape =====

    def test_an_elder_asking_for_the_level_2_account_gets_it(self):
        # a long polite line about bringing elders to "làm định danh mức 2",
        # typed with marks, got "tôi chưa hiểu": its many words about who
        # asks outweighed the procedure's (a pattern for "làm định danh mức
        # 2" now weighs in, intents/dinh_danh_dien_tu.json)
        for line in ("tôi già rồi muốn làm định danh mức 2 thì làm sao",
                     "Cháu là trưởng bản Nà Sài, sáng mai cháu đưa chín cụ già trong bản "
                     "xuống công an xã làm định danh mức 2, các cụ cần mang theo những gì ạ?"):
            r = Chat(self).say(line)  # its summary, or the documents it asks about
            self.assertIn(title("dinh_danh_dien_tu"), self.first_line(r), (line, texts(r)))
            self.assertNotIn(NOT_UNDERSTOOD, texts(r), line)

    def test_voluntary_social_insurance_is_not_the_health_card(self):
        # "đóng BHXH tự nguyện" got the renewal of the household health card
        # (bhyt_gia_han): voluntary social insurance is the BHXH office's;
        # a claim of khac.json gives it the BHXH answer
        for line in ("đóng BHXH tự nguyện", "dong bhxh tu nguyen o dau",
                     "muốn đóng bảo hiểm xã hội tự nguyện cho mẹ"):
            r = Chat(self).say(line)
            self.assertIn("cơ quan Bảo hiểm xã hội", texts(r), line)
            self.assertIn("VssID", texts(r), line)
            self.assertNotIn(title("bhyt_gia_han"), texts(r), line)
            self.assertNotIn(NOT_UNDERSTOOD, texts(r), line)
        # renewing the household health card still is that procedure
        r = Chat(self).say("gia hạn bhyt hộ gia đình")
        self.assertEqual(self.first_line(r), title("bhyt_gia_han"), texts(r))

    def test_a_question_about_the_health_station_is_health_care(self):
        # "xã có trạm y tế không" got the free health card (bhyt_ngan_sach)
        for line in ("xã có trạm y tế không", "xa co tram y te ko a", "bản em có trạm y tế không"):
            r = Chat(self).say(line)
            self.assertIn("115", texts(r), line)
            for proc in ("bhyt_ngan_sach", "bhyt_gia_han"):
                self.assertNotIn(title(proc), texts(r), line)
        # the card made at the health station still is the card
        r = Chat(self).say("làm thẻ bhyt cho con ở trạm y tế được không")
        self.assertEqual(self.first_line(r), title("bhyt_ngan_sach"), texts(r))

    def test_the_particle_a_is_no_pronoun(self):
        # "ạ" folds to "a", which abbreviates "anh": "hỏi người có công ạ"
        # got the greeting, "dạ gặp cán bộ ạ" the reply to thanks
        r = Chat(self).say("hỏi người có công ạ")
        self.assertEqual(self.first_line(r), title("nguoi_co_cong"), texts(r))
        r = Chat(self).say("dạ gặp cán bộ ạ")
        self.assertIn("cán bộ", self.first_line(r), texts(r))
        self.assertNotIn("không có gì", texts(r))
        # "ạ" alone asks nothing yet: what do you need (was the greeting)
        for line in ("ạ", "Ạ!", "ạ ạ"):
            r = Chat(self).say(line)
            self.assertIn("cần hỏi việc gì", texts(r), line)
            self.assertNotIn("Xin chào", texts(r), line)
        # thanks and greetings with the particle still are
        self.assertIn("không có gì", texts(Chat(self).say("vâng ạ")))
        self.assertIn("không có gì", texts(Chat(self).say("em cảm ơn ạ")))
        self.assertIn("Xin chào", texts(Chat(self).say("chào ạ")))

    def test_a_village_alone_is_asked_what_is_needed(self):
        # "bản Thẳm Hon" got trích lục hộ tịch; "bản Nà Sản" "tôi chưa hiểu":
        # a village named alone says where the user is, not what they need
        for line in ("bản Nà Sản", "bản Thẳm Hon", "Bản Pá Khoang"):
            r = Chat(self).say(line)
            self.assertIn("cần hỏi việc gì", texts(r), line)
            self.assertNotIn(NOT_UNDERSTOOD, texts(r), line)
            self.assertNotIn("Giấy tờ cần có", texts(r), line)
        # a commune of that name is still the commune, a copy still a copy
        r = Chat(self).say("Bản Lang")
        self.assertIn("Khổng Lào", texts(r))
        r = Chat(self).say("bản sao giấy khai sinh")
        self.assertNotIn("cần hỏi việc gì", texts(r))
        self.assertIn("Giấy tờ cần có", texts(r))

    def test_a_lost_household_book_gets_the_residence_confirmation(self):
        # "mất sổ hộ khẩu rồi làm lại thế nào" got đăng ký lại khai sinh: the
        # paper book is void since 2023, nothing to make again; residence is
        # shown on VNeID or confirmed (xác nhận cư trú)
        for line in ("mất sổ hộ khẩu rồi làm lại thế nào", "sổ hộ khẩu nhà em bị cháy rồi",
                     "xin cap lai so ho khau"):
            r = Chat(self).say(line)
            self.assertEqual(self.first_line(r), title("xac_nhan_cu_tru"), (line, texts(r)))
            self.assertIn("Sổ hộ khẩu giấy hết giá trị từ 01/01/2023", texts(r), line)
            self.assertIn("VNeID", texts(r), line)
        # a lost birth certificate still is re-registering the birth
        r = Chat(self).say("mất giấy khai sinh rồi làm lại thế nào")
        self.assertEqual(self.first_line(r), title("dang_ky_lai_khai_sinh"), texts(r))

    def test_small_talk_and_the_commune_office_are_no_procedure(self):
        # "nói chuyện cho vui đi" got "no staff online" (gặp cán bộ)
        for line in ("nói chuyện cho vui đi", "noi chuyen tam su ti cho vui"):
            r = Chat(self).say(line)
            self.assertNotIn("cán bộ trực tuyến", texts(r), line)
            self.assertIn(NOT_UNDERSTOOD, texts(r), line)
        # asking for a staff member still is
        r = Chat(self).say("cho tôi nói chuyện với cán bộ")
        self.assertIn("cán bộ", self.first_line(r))
        # "ubnd xã ở đâu" got the office hours; where the office is: no
        # address in the data, who to ask, and that many procedures need no visit
        for line in ("ubnd xã ở đâu", "tru so uy ban xa minh o dau vay"):
            r = Chat(self).say(line)
            self.assertIn("tôi chưa có", texts(r), line)
            self.assertIn("trưởng bản", texts(r), line)
            self.assertIn("i:don_vi_hanh_chinh", payloads(r), line)
            self.assertNotIn("giờ tiếp dân", texts(r), line)
        # the office hours still are the office hours
        r = Chat(self).say("ubnd xa lam viec may gio")
        self.assertIn("giờ tiếp dân", texts(r))
