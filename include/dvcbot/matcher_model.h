/* matcher_model — the inside of the matcher, shared by the files that build
 * it (matcher_train.c), read a line with it (matcher.c) and cross-validate
 * it (matcher_cv.c). Other modules use matcher.h only.
 *
 * The model is built once and read-only afterwards; everything it points to
 * is owned by it (rules, the models, the rewriter, the exact-match map) and
 * freed by matcher_free, except the catalog, which must outlive it. */
#ifndef DVCBOT_MATCHER_MODEL_H
#define DVCBOT_MATCHER_MODEL_H

#include "dvcbot/catalog.h"
#include "dvcbot/matcher.h"
#include "dvcbot/nbayes.h"
#include "dvcbot/rewrite.h"
#include "dvcbot/wordmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Features of one line are cut at this many (a very long line keeps its
 * first few hundred words). */
#define MATCHER_MAX_FEATURES 2048

/* Feature kinds (the low bits of a feature's hash, nbayes.h). */
enum matcher_kind { KIND_WORD = 0, KIND_PAIR = 1, KIND_CHARS = 2, KIND_TONE = 3 };

/* The three models learn the same lines, each under its own class. */
enum matcher_model_id { MODEL_INTENT = 0, MODEL_PROC = 1, MODEL_GATE = 2, MATCHER_MODELS = 3 };

/* _matcher.json; what each means is in its "comment". */
struct matcher_settings {
    double threshold;       /* intent probability below which the answer is khac */
    double proc_threshold;  /* procedure probability below which it is not named */
    double ambiguous_ratio; /* runner-up / best procedure at or above which both are offered */
    double alpha;           /* smoothing: weight of the classes' mean in each class */
    double example_weight;  /* a training line's weight */
    double keyword_weight;  /* a keyword line's weight per unit of its weight */
    double template_weight; /* an act template's weight, shared by its procedures */
    double rule_weight;     /* log-score added per unit of a pattern's weight */
    double temperature;     /* log-scores are divided by it before becoming probabilities */
    double gate_threshold;  /* out-of-scope probability from which a line is khac */
    double unknown_weight;  /* log-score for "out of scope" per unknown word */
    double kind_weight[NBAYES_KINDS]; /* word_weight, pair_weight, char_weight, tone_weight */
    double augment_weight;  /* weight of each noisy copy of an example */
    int augment;            /* noisy copies made of each example */
    int char_n;             /* length of the character n-grams */
    int typo_min_len;       /* shorter unknown words are left alone */
    bool binary;            /* a feature repeated in a training line counts once */
};

/* A pattern, or a keyword with a negative weight, adds to one class's score. */
struct matcher_rule {
    void *code; /* pcre2_code */
    int intent;
    double weight;
};

struct matcher {
    const struct catalog *cat;
    size_t n_intents;
    int fallback;
    struct matcher_settings set;
    struct rewriter rw;

    /* MODEL_INTENT: a class per catalog id (class i = intent i); MODEL_PROC:
     * a class per procedure and one for "names none"; MODEL_GATE: in scope
     * (0) or not (1, khac). */
    struct nbayes *nb;
    int proc_class[MATCHER_MAX_INTENTS];      /* intent → procedure class, or -1 */
    int proc_intent[MATCHER_MAX_INTENTS + 1]; /* procedure class → intent, -1: none */
    size_t n_procs;
    int names_none;

    struct matcher_rule *rules;
    size_t n_rules;
    uint32_t max_captures;

    struct wordmap examples; /* rewritten example line → intent */
};

/* What the models say about one line, before any threshold. */
struct matcher_scores {
    double intent[MATCHER_MAX_INTENTS];    /* probabilities */
    double proc[MATCHER_MAX_INTENTS + 1];  /* probabilities */
    double gate_logodds;  /* log-odds of "out of scope", before unknown words and temperature */
    size_t known, n_feat; /* features the models knew, of all */
    size_t words, known_words;
    int exact;            /* the intent of an example equal to the line, or -1 */
};

/* Examples whose fold (a hash of the folded line, modulo folds) is `fold`
 * are left out of training, for cross-validation. */
struct matcher_holdout {
    unsigned folds, fold;
};

/* ===== matcher_train.c ===== */
/* Builds the model; holdout may be NULL (everything trains). NULL when any
 * problem was reported. */
struct matcher *matcher_build(const struct catalog *cat, const struct matcher_holdout *holdout,
                              catalog_report_fn report, void *ud);
/* The fold of a folded example line. */
unsigned matcher_fold_of(const char *folded, unsigned folds);

/* ===== matcher.c ===== */
/* Folds and rewrites raw input; false when it is rejected. */
bool matcher_read_line(const struct matcher *m, const char *text, size_t len,
                       struct rewrite_line *ln);
/* The features of a rewritten line into out[MATCHER_MAX_FEATURES]. */
size_t matcher_features(const struct matcher *m, const struct rewrite_line *ln, uint64_t *out);
/* Scores a rewritten line; false when no feature is known. */
bool matcher_score(const struct matcher *m, const struct rewrite_line *ln,
                   struct matcher_scores *sc);
/* The decision for scores under settings s (thresholds, unknown weight). */
void matcher_decide(const struct matcher *m, const struct matcher_settings *s,
                    const struct matcher_scores *sc, struct match_result *out);

#endif
