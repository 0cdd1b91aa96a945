/* matcher_cv — k-fold cross-validation on the catalog's own examples. */
#include "dvcbot/matcher_cv.h"
#include "dvcbot/buf.h"
#include "dvcbot/matcher_augment.h"
#include "dvcbot/matcher_model.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The grid of out-of-scope settings tried. */
static const double GATE[] = {0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95};
static const double THRESH[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
static const double UNKNOWN[] = {0, 0.25, 0.5, 1, 2};
#define N_GATE (sizeof GATE / sizeof GATE[0])
#define N_THRESH (sizeof THRESH / sizeof THRESH[0])
#define N_UNKNOWN (sizeof UNKNOWN / sizeof UNKNOWN[0])
#define N_GRID (N_GATE * N_THRESH * N_UNKNOWN)
/* The augmentation variant used for the noisy copies of held-out lines:
 * the last one, which training uses only when "augment" is at its maximum. */
#define NOISY_VARIANT (MATCHER_MAX_AUGMENT - 1)

/* Goals of issue 12, for choosing among the grid's points. */
#define GOAL_FALSE_ACCEPTS 0.05
#define GOAL_REJECTED 0.03

struct cv {
    const struct catalog *cat;
    bool verbose;
    struct buf *out;
    struct matcher_cv_figures clean, noisy;
    struct matcher_cv_figures grid[N_GRID];
    size_t confusion[MATCHER_MAX_INTENTS][MATCHER_MAX_INTENTS];
};

static void count(struct matcher_cv_figures *f, const struct matcher *m, int want,
                  const struct match_result *r)
{
    const char *want_id = catalog_at(m->cat, (size_t)want)->id;
    bool right = strcmp(r->id, want_id) == 0;
    bool asked = !right && r->ambiguous && r->alt_id && strcmp(r->alt_id, want_id) == 0;
    bool said_khac = strcmp(r->id, CATALOG_FALLBACK_ID) == 0;
    f->lines++;
    f->right += right || asked;
    f->asked += asked;
    if (want == m->fallback) {
        f->offtopic++;
        f->false_accepts += !said_khac;
    } else {
        f->inscope++;
        f->rejected += said_khac;
    }
}

static int intent_index(const struct matcher *m, const char *id)
{
    for (size_t i = 0; i < m->n_intents; i++)
        if (strcmp(catalog_at(m->cat, i)->id, id) == 0)
            return (int)i;
    return m->fallback;
}

/* Scores one line as a user's; false when the matcher knows none of it. */
static bool score_text(const struct matcher *m, const char *text, size_t len,
                       struct rewrite_line *ln, struct matcher_scores *sc)
{
    return matcher_read_line(m, text, len, ln) && ln->n && matcher_score(m, ln, sc);
}

static void decide_or_khac(const struct matcher *m, const struct matcher_settings *s,
                           bool scored, const struct matcher_scores *sc, struct match_result *r)
{
    if (scored) {
        matcher_decide(m, s, sc, r);
    } else {
        *r = (struct match_result){.id = CATALOG_FALLBACK_ID};
    }
}

static void held_out_line(struct cv *cv, const struct matcher *m, int want, const char *text,
                          struct rewrite_line *ln, struct matcher_scores *sc)
{
    struct match_result r;
    bool scored = score_text(m, text, strlen(text), ln, sc);
    decide_or_khac(m, &m->set, scored, sc, &r);
    count(&cv->clean, m, want, &r);
    int got = intent_index(m, r.id);
    cv->confusion[want][got]++;
    if (cv->verbose && got != want && !(r.ambiguous && r.alt_id && intent_index(m, r.alt_id) == want))
        buf_printf(cv->out, "  %-22s -> %-22s %s\n", catalog_at(m->cat, (size_t)want)->id, r.id,
                   text);
    size_t g = 0;
    for (size_t u = 0; u < N_UNKNOWN; u++)
        for (size_t a = 0; a < N_GATE; a++)
            for (size_t t = 0; t < N_THRESH; t++, g++) {
                struct matcher_settings s = m->set;
                s.unknown_weight = UNKNOWN[u];
                s.gate_threshold = GATE[a];
                s.threshold = THRESH[t];
                decide_or_khac(m, &s, scored, sc, &r);
                count(&cv->grid[g], m, want, &r);
            }
    char *folded = norm_fold(text, strlen(text), NULL), noisy[REWRITE_TEXT_CAP + 1];
    size_t n = folded ? matcher_augment_line(folded, strlen(folded), NOISY_VARIANT, noisy,
                                             sizeof noisy) : 0;
    free(folded);
    if (!n)
        return; /* the noise left it unchanged: counted clean only */
    scored = score_text(m, noisy, n, ln, sc);
    decide_or_khac(m, &m->set, scored, sc, &r);
    count(&cv->noisy, m, want, &r);
}

/* Classifies the examples of fold f with a matcher that never saw them. */
static int run_fold(struct cv *cv, unsigned folds, unsigned f, double *ms)
{
    struct matcher_holdout h = {folds, f};
    char *err = NULL;
    clock_t t0 = clock();
    struct matcher *m = matcher_build(cv->cat, &h, catalog_report_keep_first, &err);
    *ms = 1000.0 * (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (!m) {
        buf_printf(cv->out, "cannot build the matcher: %s\n", err ? err : "unknown error");
        free(err);
        return -1;
    }
    free(err);
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    struct matcher_scores *sc = xmalloc(sizeof *sc);
    for (size_t i = 0; i < m->n_intents; i++) {
        const cJSON *match = cJSON_GetObjectItemCaseSensitive(catalog_at(cv->cat, i)->json, "match");
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(match, "examples")) {
            if (!cJSON_IsString(e))
                continue;
            char *folded = norm_fold(e->valuestring, strlen(e->valuestring), NULL);
            bool mine = folded && matcher_fold_of(folded, folds) == f;
            free(folded);
            if (mine)
                held_out_line(cv, m, (int)i, e->valuestring, ln, sc);
        }
    }
    free(sc);
    free(ln);
    matcher_free(m);
    return 0;
}

static double pct(size_t a, size_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0;
}

static void print_figures(struct buf *out, const char *name, const struct matcher_cv_figures *f)
{
    buf_printf(out, "%s: %zu lines, right %.1f%% (%.1f%% without 'which one?'), off-topic "
               "accepted %.1f%% (%zu/%zu), in-scope rejected %.1f%% (%zu/%zu)\n", name, f->lines,
               pct(f->right, f->lines), pct(f->right - f->asked, f->lines),
               pct(f->false_accepts, f->offtopic), f->false_accepts, f->offtopic,
               pct(f->rejected, f->inscope), f->rejected, f->inscope);
}

static bool meets_goals(const struct matcher_cv_figures *f)
{
    return (double)f->false_accepts <= GOAL_FALSE_ACCEPTS * (double)f->offtopic &&
           (double)f->rejected <= GOAL_REJECTED * (double)f->inscope;
}

/* The grid point to recommend: the most right answers among the points that
 * meet both goals; when none does, the fewest wrong out-of-scope decisions
 * (false accepts and rejections, as rates). */
static size_t recommend(const struct cv *cv)
{
    size_t best = 0;
    bool best_ok = false;
    double best_err = 1e9;
    for (size_t g = 0; g < N_GRID; g++) {
        const struct matcher_cv_figures *f = &cv->grid[g];
        bool ok = meets_goals(f);
        double err = pct(f->false_accepts, f->offtopic) + pct(f->rejected, f->inscope);
        if (ok && (!best_ok || f->right > cv->grid[best].right)) {
            best = g;
            best_ok = true;
        } else if (!best_ok && err < best_err) {
            best = g;
            best_err = err;
        }
    }
    return best;
}

static void grid_point(size_t g, double *u, double *a, double *t)
{
    *t = THRESH[g % N_THRESH];
    *a = GATE[(g / N_THRESH) % N_GATE];
    *u = UNKNOWN[g / (N_THRESH * N_GATE)];
}

static void print_grid(struct cv *cv, const struct matcher *any)
{
    struct buf *out = cv->out;
    size_t best = recommend(cv);
    double u, a, t;
    buf_puts(out, "grid (unknown_weight gate_threshold threshold: right / off-topic accepted / "
                  "in-scope rejected), points meeting the goals marked *:\n");
    for (size_t g = 0; g < N_GRID; g++) {
        const struct matcher_cv_figures *f = &cv->grid[g];
        grid_point(g, &u, &a, &t);
        buf_printf(out, "  %c u=%.2f g=%.2f t=%.2f  %5.1f%% %5.1f%% %5.1f%%\n",
                   meets_goals(f) ? '*' : ' ', u, a, t, pct(f->right, f->lines),
                   pct(f->false_accepts, f->offtopic), pct(f->rejected, f->inscope));
    }
    grid_point(best, &u, &a, &t);
    buf_printf(out, "recommended: \"unknown_weight\": %g, \"gate_threshold\": %g, \"threshold\": %g "
               "(catalog: %g, %g, %g)\n", u, a, t, any->set.unknown_weight,
               any->set.gate_threshold, any->set.threshold);
    print_figures(out, "at the recommended point", &cv->grid[best]);
}

static void print_confusions(struct cv *cv, const struct matcher *m)
{
    buf_puts(cv->out, "most frequent confusions (want -> got: held-out lines):\n");
    for (int k = 0; k < 25; k++) {
        size_t bw = 0, bg = 0, bn = 0;
        for (size_t w = 0; w < m->n_intents; w++)
            for (size_t g = 0; g < m->n_intents; g++)
                if (w != g && cv->confusion[w][g] > bn) {
                    bn = cv->confusion[w][g];
                    bw = w;
                    bg = g;
                }
        if (!bn)
            break;
        buf_printf(cv->out, "  %s -> %s: %zu\n", catalog_at(m->cat, bw)->id,
                   catalog_at(m->cat, bg)->id, bn);
        cv->confusion[bw][bg] = 0;
    }
}

int matcher_cross_validate(const struct catalog *cat, unsigned folds, bool verbose,
                           struct buf *out, struct matcher_cv_figures *at_settings)
{
    if (folds < 2 || folds > 20) {
        buf_puts(out, "folds must be in [2, 20]\n");
        return -1;
    }
    struct cv *cv = xcalloc(1, sizeof *cv);
    cv->cat = cat;
    cv->verbose = verbose;
    cv->out = out;
    double ms_total = 0;
    int rc = 0;
    for (unsigned f = 0; f < folds && rc == 0; f++) {
        double ms;
        rc = run_fold(cv, folds, f, &ms);
        ms_total += ms;
    }
    char *err = NULL;
    struct matcher *m = rc == 0 ? matcher_new(cat, &err) : NULL;
    free(err);
    if (m) {
        buf_printf(out, "%u-fold cross-validation on the catalog's examples (%.1f ms of CPU per "
                   "training)\n", folds, ms_total / folds);
        print_figures(out, "held out, at the catalog's settings", &cv->clean);
        print_figures(out, "held out with typing slips", &cv->noisy);
        print_grid(cv, m);
        print_confusions(cv, m);
        if (at_settings)
            *at_settings = cv->clean;
    } else {
        rc = -1;
    }
    matcher_free(m);
    free(cv);
    return rc;
}
