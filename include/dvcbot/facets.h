/* facets — which fact of a procedure a line asks about ("phí bao nhiêu",
 * "cần giấy tờ gì", "bao lâu thì có", "nộp ở đâu", "làm online được
 * không", "ai được hưởng"), read from the data of intents/_facets.json.
 *
 * The words are data (intents/README.md): per facet, phrases written lower
 * case without diacritics with a weight, and filler words (particles,
 * pronouns, "làm", "hồ sơ"...). A line, as the matcher rewrote it (folded,
 * abbreviations expanded), is read left to right: at each word the longest
 * phrase or filler starting there is taken; a phrase adds its weight to its
 * facet; any other word is unknown, unless it is one of the words naming
 * the procedure given (its name, short name and mentions). The facet with
 * the highest total wins (ties: the order of enum facet). A line holding
 * one of the "question_words" is a question ("giấy tờ" alone is not).
 *
 * Loaded once with the catalog, read-only afterwards (any number of readers).
 * The set owns its strings; facets_free releases them. */
#ifndef DVCBOT_FACETS_H
#define DVCBOT_FACETS_H

#include "dvcbot/catalog.h"

#include <stdbool.h>
#include <stddef.h>

#define FACETS_EXTRA "facets"           /* intents/_facets.json */
#define FACETS_FILE "_facets.json"
#define FACETS_PHRASE_WORDS_MAX 8       /* words in one phrase or filler */
#define FACETS_LINE_WORDS_MAX 64        /* a longer line is no follow-up question */

/* The facts of struct procedure_info a follow-up can ask about. */
enum facet {
    FACET_NONE = -1,
    FACET_FEE,       /* fee in force (procedure_fee_at) */
    FACET_DOCUMENTS, /* documents */
    FACET_TIME,      /* processing_time */
    FACET_PLACE,     /* agency, how to submit, the portal page */
    FACET_ONLINE,    /* online or not, the portal page */
    FACET_AUDIENCE,  /* who it is for */
    FACET_PAPERS,    /* papers issued before the 2025 arrangement: still good? (no field) */
    FACET_COUNT
};

struct facets;

/* Reads and checks intents/_facets.json (catalog_extra), reporting every
 * problem (file, field, reason). A catalog without the file gives an empty
 * set (no line is ever a facet question). NULL when there was a problem. */
struct facets *facets_load(const struct catalog *cat, catalog_report_fn report, void *ud);
void facets_free(struct facets *f);

/* "fee", "documents", "time", "place", "online", "audience", "papers"; NULL
 * for none. */
const char *facet_name(enum facet facet);
/* The facet's "label" ("lệ phí"), for replies; "" for none. */
const char *facets_label(const struct facets *f, enum facet facet);
/* How long (seconds) the procedure last shown stays the conversation's. */
unsigned facets_context_ttl(const struct facets *f);
/* The least score ("named_min_score") that makes a line naming a procedure
 * ("khai sinh hết bao nhiêu tiền") a question about that facet of it. */
double facets_named_min(const struct facets *f);
/* "rest_min_score": when the matcher names no one procedure for a facet
 * question ("khai sinh phí bao nhiêu": the facet words pull it elsewhere),
 * the line without its facet words (facets_rest) is classified alone and
 * names the procedure when it is one, not ambiguous, at this score or
 * more. Above 1 (the field absent): never. */
double facets_rest_min(const struct facets *f);

/* True when in is one of "ask_over": an act (a payment, a lookup) that a
 * bare facet question with no procedure in the conversation overrides with
 * "which procedure?" ("lệ phí bao nhiêu" must not ask for a dossier code). */
bool facets_ask_over(const struct facets *f, const struct intent *in);

/* True when in is one of "context_acts": an act (lookup, payment) that,
 * typed without naming a procedure, is about the conversation's one. */
bool facets_context_act(const struct facets *f, const struct intent *in);

struct facet_reading {
    enum facet facet;  /* FACET_NONE when no phrase was found */
    double score;      /* the winning facet's total weight */
    size_t unknown;    /* words neither phrase, filler, number nor the procedure's */
    bool question;     /* a word of "question_words" ("bao", "gi", "dau", "khong"...) */
    bool amount;       /* a word of "amount_words": asks how much ("nhieu" of "bao nhieu") */
};

/* Reads line (folded words separated by single spaces, as matcher_rewrite
 * writes it). proc_words: the procedure's words (facets_procedure_words),
 * or NULL. With discount, a phrase made only of the procedure's words
 * ("giấy" of "giấy khai sinh") counts as naming the procedure, not as a
 * facet. */
void facets_read(const struct facets *f, const char *line, const char *proc_words, bool discount,
                 struct facet_reading *out);

/* Appends to out the words of line (as facets_read takes it) that are no
 * facet phrase, filler or question word — "khai sinh" of "khai sinh phí
 * bao nhiêu" — separated by single spaces; returns how many. A line too
 * long for a follow-up gives 0 and appends nothing. */
struct buf;
size_t facets_rest(const struct facets *f, const char *line, struct buf *out);

/* True when every word of words (single spaces) is one of in's own words
 * (facets_words_of); false for none or for an intent that is no procedure. */
bool facets_all_procedure_words(const struct facets *f, const char *words, const struct intent *in);

/* " w1 w2 ... " (leading and trailing space): the folded words of the
 * intent's name, short_name and match.mentions. Caller frees. */
char *facets_procedure_words(const struct intent *in);

/* The same, kept by f for each procedure of the catalog it was loaded
 * with (f owns it); NULL for an intent that is not one of them. */
const char *facets_words_of(const struct facets *f, const struct intent *in);

/* The same and every word of its match.keywords and match.examples, each
 * once: the words a question about it is asked with ("trang" of chứng thực
 * bản sao, which is paid per page). f owns it; NULL for no procedure. */
const char *facets_vocabulary_of(const struct facets *f, const struct intent *in);

#endif
