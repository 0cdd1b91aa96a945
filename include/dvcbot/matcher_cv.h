/* matcher_cv — k-fold cross-validation of the matcher on its own examples.
 *
 * The examples of every "match" section (khac's included) are cut into k
 * folds by a hash of the folded line; for each fold a matcher is built
 * without that fold's examples (keywords, templates and patterns stay: they
 * are the lexicon, not lines) and every held-out example is classified as a
 * user's line would be, and again after typing slips (matcher_augment.h).
 * The figures: right answers, out-of-scope lines accepted (khac examples
 * answered with any other id), in-scope lines rejected (answered khac), at
 * the catalog's settings and over a grid of the out-of-scope thresholds
 * (gate_threshold, threshold, unknown_weight), which is how those settings
 * are chosen: by cross-validation, never on a test set.
 *
 * Builds k matchers one after the other (each freed before the next); the
 * report is appended to a caller's buffer. */
#ifndef DVCBOT_MATCHER_CV_H
#define DVCBOT_MATCHER_CV_H

#include "dvcbot/catalog.h"

#include <stdbool.h>

struct buf;

struct matcher_cv_figures {
    size_t lines, right, asked;           /* asked: right only as "which one?" */
    size_t offtopic, false_accepts;       /* khac examples; answered with another id */
    size_t inscope, rejected;             /* other examples; answered khac */
};

/* Runs `folds` folds (2..20) and appends the report to out; `verbose` adds
 * every held-out example answered wrongly. Returns 0, or -1 with the reason
 * in out when the catalog's matching data does not build. *at_settings (may
 * be NULL) gets the clean held-out figures at the catalog's settings. */
int matcher_cross_validate(const struct catalog *cat, unsigned folds, bool verbose,
                           struct buf *out, struct matcher_cv_figures *at_settings);

#endif
