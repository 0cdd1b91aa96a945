/* procedure_reply — the replies the dialog sends about procedures.
 *
 * Each function appends rendered templates (templates/<name>.txt, listed in
 * replies.c) to out; texts stay in the templates, this module only chooses
 * and shortens the values so a summary fits one phone screen. Button
 * payloads follow the dialog's conventions: "i:<id>" (as if the user asked
 * about id), "flow:<id>" (start the guided online submission), "menu",
 * "menu:thu_tuc". Nothing is kept after a call; out owns what was added. */
#ifndef DVCBOT_PROCEDURE_REPLY_H
#define DVCBOT_PROCEDURE_REPLY_H

#include "dvcbot/catalog.h"
#include "dvcbot/msg.h"
#include "dvcbot/tpl.h"

#include <stdint.h>

/* Limits that keep a summary on one screen. */
#define PROCEDURE_REPLY_MAX_DOCS 4      /* documents listed, the rest counted */
#define PROCEDURE_REPLY_DOC_BYTES 100   /* one document line */
#define PROCEDURE_REPLY_FIELD_BYTES 150 /* fee, time, agency */
#define PROCEDURE_REPLY_LIST_MAX 64             /* procedures listed at most */
/* One phone screen (a 360 dp Telegram screen, default text size;
 * tests/e2e/test_summary_screen.py measures the same): at most
 * PROCEDURE_REPLY_SCREEN_CHARS characters of a reply's text and button
 * labels together, and at most PROCEDURE_REPLY_SCREEN_ROWS rows of text as
 * the phone lays them out: each line wrapped between words at
 * PROCEDURE_REPLY_ROW_CHARS characters (an empty line is a row), each row of
 * buttons (two side by side when both labels are short, as telegram.c lays
 * them out) as tall as PROCEDURE_REPLY_KEYBOARD_ROW rows. `dvcbot check`
 * refuses facts whose summary or fact reply would be past either. */
#define PROCEDURE_REPLY_SCREEN_CHARS 600
#define PROCEDURE_REPLY_SCREEN_ROWS 26
#define PROCEDURE_REPLY_ROW_CHARS 36
#define PROCEDURE_REPLY_KEYBOARD_ROW 2

/* Documents, fee, time, agency and how to submit, with buttons
 * "Hướng dẫn nộp trực tuyến" (flow:<id>; an office-only procedure gets the
 * template's variant procedure_summary_truc_tiep, its button named for the
 * visit), "Xem đầy đủ" (full:<id>, when the
 * full view says more: who it is for, the notes, or a document, the fee,
 * the time or the agency the summary shortened), "Tra cứu
 * hồ sơ", "Thủ tục khác". in must be a procedure (in->proc != NULL); returns
 * 0, or -1 when it is not (nothing is appended then) or a template is missing. */
int procedure_reply_summary(const struct tpl_set *t, const struct intent *in,
                            struct bot_replies *out);
/* The same summary with the fee in force at now (unix time), as it will
 * read then; procedure_reply_summary is this at clock_now(). */
int procedure_reply_summary_at(const struct tpl_set *t, const struct intent *in, int64_t now,
                               struct bot_replies *out);

/* Payload prefix of the "Xem đầy đủ" button: "full:<procedure id>". */
#define PROCEDURE_REPLY_FULL_PREFIX "full:"

/* The same facts unshortened: who it is for, every document, the whole fee
 * text (exemptions first), time, agency, how to submit and the notes. Same
 * return values as procedure_reply_summary. */
int procedure_reply_full(const struct tpl_set *t, const struct intent *in,
                         struct bot_replies *out);

/* "Which one did you mean?" with one button per intent (i:<id>). */
int procedure_reply_ask_which(const struct tpl_set *t, const struct intent *a,
                              const struct intent *b, struct bot_replies *out);

/* The procedure menu: with topics (catalog_groups), one message with a
 * button per topic (PROCEDURE_REPLY_GROUP_PREFIX<group id>, template
 * procedure_groups); without, every procedure as buttons (i:<id>), split
 * over as few replies as BOT_MAX_BUTTONS allows, in catalog order.
 * variant (NULL: none): the template "procedure_groups<variant>" (or
 * "procedure_list<variant>" without topics) when templates/ has it (PROCEDURE_REPLY_ASSIST: to a volunteer, about the
 * resident they help). */
#define PROCEDURE_REPLY_ASSIST "_assist"
int procedure_reply_list(const struct tpl_set *t, const struct catalog *cat, const char *variant,
                         struct bot_replies *out);

/* Renders template name with vars, one button per topic (catalog_groups)
 * before the template's own: a question that the topic menu answers. With
 * no topics, just the template. -1 when the template is missing. */
int procedure_reply_topics(const struct tpl_set *t, const struct catalog *cat, const char *name,
                           const struct tpl_var *vars, size_t nvars, struct bot_replies *out);

/* Payload of a topic button: "menu:thu_tuc:<group id>". */
#define PROCEDURE_REPLY_GROUP_PREFIX "menu:thu_tuc:"

/* One topic on one screen: its procedures as buttons (i:<id>), then the
 * template's own (procedure_group: back to the topics). Returns -1 (nothing
 * appended) for an unknown group. variant as for procedure_reply_list
 * ("procedure_group<variant>"). */
int procedure_reply_group(const struct tpl_set *t, const struct catalog *cat, const char *group_id,
                          const char *variant, struct bot_replies *out);

/* "- doc" lines of p's documents, at most max of them, each cut to bytes,
 * then how many more (template procedure_more_documents); *cut becomes
 * true when anything was left out or shortened. Caller frees. */
char *procedure_reply_documents(const struct tpl_set *t, const struct procedure_info *p, size_t max,
                                size_t bytes, bool *cut);

/* The line saying whether the procedure is done wholly online, partly, or
 * at the office only (procedure_online_toan_trinh / _mot_phan / _truc_tiep),
 * then p's online_note. Caller frees. */
char *procedure_reply_online(const struct tpl_set *t, const struct procedure_info *p);

/* Characters (code points) of r's text and button labels: how much of a
 * phone screen it takes (PROCEDURE_REPLY_SCREEN_CHARS). */
size_t procedure_reply_screen_chars(const struct bot_reply *r);
/* Rows of a phone screen r takes, text and buttons (PROCEDURE_REPLY_SCREEN_ROWS). */
size_t procedure_reply_screen_rows(const struct bot_reply *r);

/* The template name "<base>_<online>" when that variant exists (an
 * office-only procedure's summary names its flow button for the visit),
 * else base; written into name (size bytes), which it returns. */
const char *procedure_reply_variant(const struct tpl_set *t, const char *base,
                                    const struct procedure_info *p, char *name, size_t size);

/* Copies s into a new string cut to at most max bytes at a word boundary
 * (never inside a UTF-8 sequence), "…" appended when cut. Caller frees. */
char *procedure_reply_shorten(const char *s, size_t max);

#endif
