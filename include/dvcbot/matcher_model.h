/* matcher_model — the inside of the matcher, shared by the files that build
 * it (matcher_train.c, matcher_gate.c), read a line with it (matcher.c) and
 * cross-validate it (matcher_cv.c). Other modules use matcher.h only.
 *
 * The model is built once and read-only afterwards; everything it points to
 * is owned by it (rules, the models, the rewriter, the exact-match map) and
 * freed by matcher_free, except the catalog, which must outlive it. */
#ifndef DVCBOT_MATCHER_MODEL_H
#define DVCBOT_MATCHER_MODEL_H

#include "dvcbot/catalog.h"
#include "dvcbot/matcher.h"
#include "dvcbot/matcher_needs.h"
#include "dvcbot/nbayes.h"
#include "dvcbot/rewrite.h"
#include "dvcbot/softmax.h"
#include "dvcbot/wordmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Features of one line are cut at this many (a very long line keeps its
 * first few hundred words). */
#define MATCHER_MAX_FEATURES 2048
/* Room for the marked words of a line (matcher_marked). */
#define MATCHER_MARKED_CAP (MATCHER_MAX_INPUT * 2 + 16)

/* Feature kinds (the low bits of a feature's hash, nbayes.h). */
enum matcher_kind { KIND_WORD = 0, KIND_PAIR = 1, KIND_CHARS = 2, KIND_MARKED = 3 };

/* The naive Bayes models learn the same lines, each under its own class. */
enum matcher_model_id { MODEL_INTENT = 0, MODEL_PROC = 1, MATCHER_MODELS = 2 };

/* Inputs of the stacked out-of-scope decision (matcher_stack_inputs). */
#define MATCHER_STACK 5

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
    double mention_weight;  /* log-score added to the procedure a line names (a mention) */
    double temperature;     /* log-scores are divided by it before becoming probabilities */
    double gate_threshold;  /* out-of-scope probability from which a line is khac */
    double unknown_weight;  /* log-score for "out of scope" per unknown word */
    double kind_weight[NBAYES_KINDS]; /* word_weight, pair_weight, char_weight, marks_weight */
    double augment_weight;  /* weight of each noisy copy of an example */
    double augment_share;   /* the share of the examples that get noisy copies */
    double proc_example_weight; /* an example's weight in the procedure model, relative */
    int augment;            /* noisy copies made of each example */
    int char_n;             /* length of the character n-grams */
    int typo_min_len;       /* shorter unknown words are left alone */
    bool binary;            /* a feature repeated in a training line counts once */
    bool per_line;          /* naive Bayes counts lines, not words (nbayes.h) */
    int gate_epochs;        /* the gate's passes over the training lines */
    double gate_rate;       /* the gate's initial learning rate */
    double gate_l2;         /* the gate's weight decay */
    /* The out-of-scope decision as logistic regression over what the models
     * say (matcher_stack_inputs): stack[0] the bias, then one weight per
     * input. Fitted by cross-validation (matcher_cv.h); unset: the gate
     * alone decides. */
    double stack[MATCHER_STACK + 1];
    bool stacked;
};

/* A commune's name in a line reads as this one word (matcher_mask.c), and
 * "{commune}" in match.requires stands for it. */
#define MATCHER_PLACE_WORD "diadanh"
#define MATCHER_COMMUNE_CUE "{commune}"

/* Dense inputs of the logistic gate: how much of the line is unknown. */
#define MATCHER_GATE_DENSE 3


/* A pattern, or a keyword with a negative weight, adds to one class's score. */
struct matcher_rule {
    void *code; /* pcre2_code */
    int intent;
    double weight;
    struct matcher_needs needs; /* what a line needs for code to match */
    /* set by matcher_group_rules: weight * rule_weight, its absolute value;
     * the rules after this one of its run (the same intent) end at
     * run_end, and rest_reach is the largest reach from here to there */
    double w, reach, rest_reach;
    size_t run_end;
};

struct matcher {
    const struct catalog *cat;
    size_t n_intents;
    int fallback;
    struct matcher_settings set;
    struct rewriter rw;

    /* MODEL_INTENT: a class per catalog id (class i = intent i); MODEL_PROC:
     * a class per procedure and one for "names none". */
    struct nbayes *nb;
    int proc_class[MATCHER_MAX_INTENTS];      /* intent → procedure class, or -1 */
    int proc_intent[MATCHER_MAX_INTENTS + 1]; /* procedure class → intent, -1: none */
    size_t n_procs;
    int names_none;

    int32_t *row_of;          /* feature index → row of the gate, or -1 */
    size_t n_rows;
    struct softmax_model gate; /* logistic: class 1 is out of scope */

    struct matcher_rule *rules;
    size_t n_rules;
    struct matcher_rule *claims; /* match.claims, in catalog order (weight unused) */
    size_t n_claims;
    uint32_t max_captures;

    struct wordmap examples;  /* folded example line → intent */
    struct wordmap rewritten; /* rewritten example line → intent */

    /* How people name each procedure ("mentions"), rewritten, sorted by
     * first word then longest first; first_word → index of the first. */
    struct matcher_mention *mentions;
    size_t n_mentions;
    struct wordmap first_word;

    /* What says nothing about the request (matcher_mask.c), rewritten. */
    struct wordmap places;       /* communes' names of today and of old → index */
    char **place_marks;          /* per name: its marked words (norm_marked_words) */
    size_t n_places;
    struct wordmap lead_ins;     /* "cho em hỏi", "hỏi về" (_matcher.json) */
    struct wordmap choice_words; /* "số", "chọn": with a number, a choice */
    /* _matcher.json's "particles" (words as typed, "ạ") and
     * "particle_readings" (ids), copied at load; owned, freed with m. */
    char **particles;
    size_t n_particles;
    char **particle_readings;
    size_t n_particle_readings;
    struct matcher_cue *cues;    /* every intent's match.requires */
    size_t n_cues;
    bool needs_cue[MATCHER_MAX_INTENTS];
};

struct matcher_cue {
    char *text; /* rewritten words, one space apart */
    size_t len;
    int intent;
};

struct matcher_mention {
    char *text;   /* rewritten words, one space apart */
    size_t len, first_len;
    int intent;   /* the procedure */
};

/* What the models say about one line, before any threshold. */
struct matcher_scores {
    double intent[MATCHER_MAX_INTENTS];    /* probabilities */
    double proc[MATCHER_MAX_INTENTS + 1];  /* probabilities */
    double gate_logodds;  /* the gate's log-odds of "out of scope" */
    size_t known, n_feat; /* features the models knew, of all */
    size_t words, known_words;
    int exact;            /* the intent of an example equal to the line, or -1 */
    int mentioned;        /* the procedure whose name (longest) the line has, or -1 */
    /* proc holds log-scores, not yet cooled and normalised: classify reads
     * the procedure model only when the decision asks which procedure an
     * act is about (named_procedure normalises a copy); matcher_score
     * always normalises (false) */
    bool proc_pending;
};

/* A user's line as the models read it. */
struct matcher_input {
    struct rewrite_line ln;                 /* folded, rewritten */
    char marked[MATCHER_MARKED_CAP];        /* its words typed with marks */
    size_t mlen;
    int exact; /* the intent of an example that folds or reads the same, or
                * else of the first match.claims pattern the line has, or -1 */
    bool claimed; /* exact comes from a claim */
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

/* ===== matcher_gate.c ===== */
/* Trains the gate on the lines of m->nb once it is trained (before
 * nbayes_forget_lines); original[i]: line i is a line of the catalog, not a
 * noisy copy. */
void matcher_gate_train(struct matcher *m, const bool *original);

/* ===== matcher_mask.c ===== */
/* Reads the communes' names, lead_ins, choice_words and match.requires;
 * call once the training lines' words are learned (rewriter_learn_words). */
void matcher_mask_load(struct matcher *m, struct problems *pb);
void matcher_mask_free(struct matcher *m);
/* Drops a lead-in before a topic and turns communes' names into
 * MATCHER_PLACE_WORD, in ln and in its marked words (marked may be NULL;
 * *mlen is updated). */
void matcher_mask_line(const struct matcher *m, struct rewrite_line *ln, char *marked, size_t *mlen);
/* A number alone or with choice words: a choice, not a request. */
bool matcher_is_choice(const struct matcher *m, const struct rewrite_line *ln);
/* The best intent, when it has match.requires and the line has none of
 * them, gives its probability to khac (intent: the intent model's). */
void matcher_mask_requires(const struct matcher *m, const struct rewrite_line *ln, double *intent);

/* ===== matcher.c ===== */
/* Folds and rewrites raw input; false when it is rejected. */
bool matcher_read_line(const struct matcher *m, const char *text, size_t len,
                       struct rewrite_line *ln);
/* Everything the models need of a raw line; false when it is rejected. */
bool matcher_read(const struct matcher *m, const char *text, size_t len, struct matcher_input *in);
/* The words of the raw text that carry marks (norm_marked_words), into
 * out (MATCHER_MARKED_CAP bytes); their length, 0 when none. */
size_t matcher_marked(const char *text, size_t len, char *out);
/* The features of a rewritten line and its marked words (may be NULL)
 * into out[MATCHER_MAX_FEATURES]. */
size_t matcher_features(const struct matcher *m, const struct rewrite_line *ln,
                        const char *marked, size_t mlen, uint64_t *out);
/* The dense inputs of the logistic gate for a line of `words` words of
 * which `unknown` were never seen in training. */
void matcher_gate_dense(size_t words, size_t unknown, float out[MATCHER_GATE_DENSE]);
/* Scores a line; false when it has no word the models know. */
bool matcher_score(const struct matcher *m, const struct matcher_input *in,
                   struct matcher_scores *sc);
/* Fills the rules' w, reach, rest_reach and run_end (after the settings
 * and every rule are loaded). */
void matcher_group_rules(struct matcher *m);
/* What the stacked out-of-scope decision reads of a line's scores. */
void matcher_stack_inputs(const struct matcher *m, const struct matcher_scores *sc,
                          double x[MATCHER_STACK]);
/* The probability that the line is out of scope under settings s. */
double matcher_out_of_scope(const struct matcher *m, const struct matcher_settings *s,
                            const struct matcher_scores *sc);
/* The decision for scores under settings s (thresholds, unknown weight). */
void matcher_decide(const struct matcher *m, const struct matcher_settings *s,
                    const struct matcher_scores *sc, struct match_result *out);

#endif
