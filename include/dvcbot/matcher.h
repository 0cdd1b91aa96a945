/* matcher — turns a line a citizen typed into one catalog id, and the
 * procedure it names.
 *
 * Built once from the catalog (matcher_train.c): the lines of every "match"
 * section (examples, keywords, act templates filled with each procedure's
 * mentions, and noisy copies of the examples) train naive Bayes models and
 * a logistic out-of-scope gate when the catalog loads; patterns compile
 * (PCRE2 UTF + JIT). Read-only afterwards, so one matcher serves every
 * request and any number of threads. Result ids point into the catalog and
 * live as long as it does.
 *
 * How a line is read (intents/README.md has the details and the data):
 *   1. norm_fold, then word by word (rewrite.h): abbreviations, Telex, glued
 *      words, typos of words that are not Vietnamese syllables;
 *   2. features: words by their spelling key (northern initials merged),
 *      neighbouring pairs, and the words typed with their marks;
 *   3. the intent model picks the id (an act before the procedure it names),
 *      the procedure model names the procedure an act is about, patterns add
 *      to their intent's score; whether the line is out of scope is decided
 *      by a logistic regression over what the models say (the gate, how sure
 *      the intent model is, how much of the line is unknown) whose weights
 *      and thresholds come from cross-validation (matcher_cv.h);
 *   4. a runner-up procedure close to the best makes the result `ambiguous`
 *      so the dialog can ask.
 * matcher_model.h holds the inside shared by matcher.c, matcher_train.c,
 * matcher_linear.c and matcher_cv.c. */
#ifndef DVCBOT_MATCHER_H
#define DVCBOT_MATCHER_H

#include "dvcbot/catalog.h"

#include <stdbool.h>
#include <stddef.h>

/* Lines longer than this many bytes are not a question: they get "khac". */
#define MATCHER_MAX_INPUT 4096
/* At most this many intents in a catalog. */
#define MATCHER_MAX_INTENTS 128

struct match_result {
    const char *id;       /* catalog id; "khac" when nothing fits */
    double score;         /* 0..1 */
    const char *alt_id;   /* runner-up id, or NULL */
    double alt_score;
    bool ambiguous;       /* two procedures too close to tell: ask the user */
    const char *procedure;/* for an act (lookup, payment, complaint...): the
                             procedure the line names, or NULL */
};

struct matcher;

/* Returns NULL with a message in *err (caller frees) when a pattern does not
 * compile or the matching data is malformed. The catalog must outlive it. */
struct matcher *matcher_new(const struct catalog *cat, char **err);
/* The same, reporting every problem (file, field, reason); NULL if any. */
struct matcher *matcher_new_report(const struct catalog *cat, catalog_report_fn report, void *ud);
void matcher_free(struct matcher *m);

/* Never fails: invalid UTF-8, empty or huge input give "khac". */
void matcher_classify(const struct matcher *m, const char *text, size_t len,
                      struct match_result *out);

/* matcher_classify, also handing back the line as it was read (what
 * matcher_rewrite writes, uncut): *line is a new string the caller frees,
 * or NULL when the input was rejected. line may be NULL. */
void matcher_classify_line(const struct matcher *m, const char *text, size_t len,
                           struct match_result *out, char **line);

/* Writes the line as the matcher sees it after folding, abbreviations and
 * typo correction into out (NUL-terminated, cut to cap); for tests and
 * debugging. Returns its length, or 0 when the input is rejected. */
size_t matcher_rewrite(const struct matcher *m, const char *text, size_t len, char *out,
                       size_t cap);

/* Appends how the line was read and the models' best guesses, for
 * `dvcbot classify --explain`. */
struct buf;
void matcher_explain(const struct matcher *m, const char *text, size_t len, struct buf *out);

#endif
