/* commune_answer — intent don_vi_hanh_chinh: "xã Chiềng Ân cũ giờ là xã
 * nào", "bản tôi trước thuộc xã Hua La giờ thuộc đâu", "có phải lên huyện
 * nữa không".
 *
 * Since 1 July 2025 there is no district level and the communes of Sơn La
 * and Lai Châu were merged (commune_list.h). The line is matched against the
 * 2025 list: an old unit gets the unit it is part of now and where its
 * papers are done (commune_answer_old), a unit of today is confirmed
 * (commune_answer_today), a name of several units offers them as buttons
 * (commune_answer_choose; a button "dvhc:<code>" answers for that unit), and
 * a line naming no unit — or a number, or a line longer than
 * COMMUNE_ANSWER_TEXT_MAX bytes — gets the short explanation of the change
 * (commune_answer_explain); a line that names a procedure gets that
 * procedure's answer, as if asked for it. Every reply offers Thủ tục / Tra cứu hồ sơ /
 * Menu chính. A line asking whether papers issued before the arrangement
 * are still good ("giấy tờ cũ ghi huyện có phải làm lại không") gets
 * commune_answer_papers first, whatever unit or procedure it names; the
 * words are data: "papers_question" of intents/don_vi_hanh_chinh.json.
 *
 * commune_answer_decide is pure (no I/O) for tests. commune_answers_new
 * registers the handlers; the list must outlive the module; nothing is
 * asynchronous: each turn ends before the handler returns. */
#ifndef DVCBOT_COMMUNE_ANSWER_H
#define DVCBOT_COMMUNE_ANSWER_H

#include "dvcbot/commune_list.h"
#include "dvcbot/dialog.h"

#define COMMUNE_ANSWER_INTENT "don_vi_hanh_chinh"
#define COMMUNE_ANSWER_PAYLOAD "dvhc:"
#define COMMUNE_ANSWER_TEXT_MAX 300 /* bytes; a longer line gets the explanation */
#define COMMUNE_ANSWER_PAPERS "papers_question" /* key of the intent file */

enum commune_answer_kind {
    COMMUNE_ANSWER_OLD,     /* unit, old: the old unit typed is part of unit now */
    COMMUNE_ANSWER_TODAY,   /* unit: a unit of today */
    COMMUNE_ANSWER_CHOOSE,  /* match.cands: several units fit */
    COMMUNE_ANSWER_EXPLAIN, /* no unit named: the 2025 change in short */
    COMMUNE_ANSWER_PROCEDURE, /* procedure: the line names one, which it gets */
};

struct commune_answer {
    enum commune_answer_kind kind;
    const struct commune_unit *unit; /* OLD, TODAY */
    const char *old;                 /* OLD: "xã Chiềng Ân" */
    struct commune_match match;      /* CHOOSE: the candidates */
    const char *procedure;           /* PROCEDURE: its catalog id */
};

/* What to answer to text (NULL reads as ""). procedure is the one the
 * matcher found the line names (match_result.procedure) or NULL: a
 * procedure question that names a commune ("làm khai sinh ở xã Chiềng Cơi")
 * gets the procedure. "cũ" does not settle a name of several units: most
 * units of today kept the name of one of their old units (phường Chiềng An
 * has the old phường Chiềng An; xã Chiềng Ân is now in Chiềng Hoa). */
void commune_answer_decide(const struct commune_list *l, const char *text, const char *procedure,
                           struct commune_answer *out);

/* Whether text (folded, whole words) names a paper ("giấy tờ", "căn
 * cước", "sổ đỏ") and asks whether it still holds ("còn giá trị", "phải
 * đổi", "làm lại"): papers is {"papers": [...], "asks": [...]}, folded
 * phrases; NULL or malformed, or text longer than COMMUNE_ANSWER_TEXT_MAX:
 * false. Pure. */
bool commune_answer_asks_papers(const cJSON *papers, const char *text);

struct commune_answers;

struct commune_answers *commune_answers_new(struct dialog *d, const struct commune_list *l);
void commune_answers_free(struct commune_answers *ca);

#endif
