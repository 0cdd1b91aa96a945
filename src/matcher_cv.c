/* matcher_cv — k-fold cross-validation on the catalog's own examples, and
 * the out-of-scope decision fitted on what it holds out. */
#include "dvcbot/matcher_cv.h"
#include "dvcbot/buf.h"
#include "dvcbot/matcher_augment.h"
#include "dvcbot/matcher_model.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The grid of out-of-scope settings tried. */
static const double GATE[] = {0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9};
static const double THRESH[] = {0.1, 0.2, 0.3, 0.4, 0.5};
#define N_GATE (sizeof GATE / sizeof GATE[0])
#define N_THRESH (sizeof THRESH / sizeof THRESH[0])
#define N_GRID (N_GATE * N_THRESH)
/* The augmentation variant used for the noisy copies of held-out lines:
 * the last one, which training uses only when "augment" is at its maximum. */
#define NOISY_VARIANT (MATCHER_MAX_AUGMENT - 1)

/* Goals of issue 12, for choosing among the grid's points. */
#define GOAL_FALSE_ACCEPTS 0.05
#define GOAL_REJECTED 0.03

/* One held-out line, clean or with typing slips, as the fold's matcher
 * scored it. The matcher is gone by the time the grid is evaluated, but
 * deciding only needs the scores and the catalog's classes. */
struct record {
    int want;
    bool scored, noisy;
    struct matcher_scores sc;
};

struct cv {
    const struct catalog *cat;
    bool verbose;
    struct buf *out;
    struct record *rec;
    size_t n_rec, cap_rec;
    size_t confusion[MATCHER_MAX_INTENTS][MATCHER_MAX_INTENTS];
};

static int intent_index(const struct matcher *m, const char *id)
{
    for (size_t i = 0; i < m->n_intents; i++)
        if (strcmp(catalog_at(m->cat, i)->id, id) == 0)
            return (int)i;
    return m->fallback;
}

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

static void decide(const struct matcher *m, const struct matcher_settings *s,
                   const struct record *r, struct match_result *out)
{
    if (r->scored)
        matcher_decide(m, s, &r->sc, out);
    else
        *out = (struct match_result){.id = CATALOG_FALLBACK_ID};
}

static struct record *new_record(struct cv *cv)
{
    if (cv->n_rec == cv->cap_rec) {
        cv->cap_rec = cv->cap_rec ? cv->cap_rec * 2 : 1024;
        cv->rec = xrealloc(cv->rec, cv->cap_rec * sizeof *cv->rec);
    }
    return &cv->rec[cv->n_rec++];
}

static void score_record(const struct matcher *m, struct record *r, const char *text, size_t len,
                         struct matcher_input *in)
{
    r->scored = matcher_read(m, text, len, in) && in->ln.n && matcher_score(m, in, &r->sc);
}

static void held_out_line(struct cv *cv, const struct matcher *m, int want, const char *text,
                          struct matcher_input *in)
{
    struct record *r = new_record(cv);
    struct match_result res;
    *r = (struct record){.want = want, .noisy = false};
    score_record(m, r, text, strlen(text), in);
    decide(m, &m->set, r, &res);
    int got = intent_index(m, res.id);
    cv->confusion[want][got]++;
    if (cv->verbose && got != want &&
        !(res.ambiguous && res.alt_id && intent_index(m, res.alt_id) == want))
        buf_printf(cv->out, "  %-22s -> %-22s %s\n", catalog_at(m->cat, (size_t)want)->id, res.id,
                   text);
    char *folded = norm_fold(text, strlen(text), NULL), noisy[REWRITE_TEXT_CAP + 1];
    size_t n = folded ? matcher_augment_line(folded, strlen(folded), NOISY_VARIANT, noisy,
                                             sizeof noisy) : 0;
    free(folded);
    if (!n)
        return; /* the noise left it unchanged: counted clean only */
    r = new_record(cv);
    *r = (struct record){.want = want, .noisy = true};
    score_record(m, r, noisy, n, in);
}

/* Scores the examples of fold f with a matcher that never saw them. */
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
    struct matcher_input *in = xmalloc(sizeof *in);
    for (size_t i = 0; i < m->n_intents; i++) {
        const cJSON *match =
            cJSON_GetObjectItemCaseSensitive(catalog_at(cv->cat, i)->json, "match");
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(match, "examples")) {
            if (!cJSON_IsString(e))
                continue;
            char *folded = norm_fold(e->valuestring, strlen(e->valuestring), NULL);
            bool mine = folded && matcher_fold_of(folded, folds) == f;
            free(folded);
            if (mine)
                held_out_line(cv, m, (int)i, e->valuestring, in);
        }
    }
    free(in);
    matcher_free(m);
    return 0;
}

/* ===== Fitting the stacked decision ===== */

/* Solves a x = b (n unknowns, a row-major n×n, both destroyed); false when
 * singular. */
static bool solve(double *a, double *b, size_t n, double *x)
{
    for (size_t c = 0; c < n; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[p * n + c]))
                p = r;
        if (fabs(a[p * n + c]) < 1e-12)
            return false;
        for (size_t k = 0; k < n; k++) {
            double t = a[c * n + k];
            a[c * n + k] = a[p * n + k];
            a[p * n + k] = t;
        }
        double t = b[c];
        b[c] = b[p];
        b[p] = t;
        for (size_t r = c + 1; r < n; r++) {
            double f = a[r * n + c] / a[c * n + c];
            for (size_t k = c; k < n; k++)
                a[r * n + k] -= f * a[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (size_t c = n; c-- > 0;) {
        double s = b[c];
        for (size_t k = c + 1; k < n; k++)
            s -= a[c * n + k] * x[k];
        x[c] = s / a[c * n + c];
    }
    return true;
}

/* Logistic regression of "out of scope" on the stack inputs of every
 * scored record, both sides weighing the same, by Newton's method with a
 * little ridge. w[0] is the bias. */
static void fit_stack(const struct cv *cv, const struct matcher *m, double w[MATCHER_STACK + 1])
{
    enum { D = MATCHER_STACK + 1 };
    double n_side[2] = {0, 0};
    memset(w, 0, D * sizeof *w);
    for (size_t i = 0; i < cv->n_rec; i++)
        n_side[cv->rec[i].want == m->fallback] += cv->rec[i].scored;
    if (!n_side[0] || !n_side[1])
        return;
    for (int iter = 0; iter < 25; iter++) {
        double h[D * D] = {0}, g[D] = {0}, step[D];
        for (size_t i = 0; i < cv->n_rec; i++) {
            const struct record *r = &cv->rec[i];
            if (!r->scored)
                continue;
            double x[D], z = 0;
            x[0] = 1;
            matcher_stack_inputs(m, &r->sc, x + 1);
            for (size_t k = 0; k < D; k++)
                z += w[k] * x[k];
            double y = r->want == m->fallback, p = 1 / (1 + exp(-z));
            double wt = 1 / n_side[r->want == m->fallback];
            for (size_t k = 0; k < D; k++) {
                g[k] += wt * (y - p) * x[k];
                for (size_t l = 0; l < D; l++)
                    h[k * D + l] += wt * p * (1 - p) * x[k] * x[l];
            }
        }
        for (size_t k = 0; k < D; k++) {
            h[k * D + k] += 1e-4;
            g[k] -= 1e-4 * w[k];
        }
        if (!solve(h, g, D, step))
            return;
        for (size_t k = 0; k < D; k++)
            w[k] += step[k];
    }
}

/* ===== Reporting ===== */

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

/* Figures of the records (clean, noisy or both) under settings s. */
static void figures(const struct cv *cv, const struct matcher *m, const struct matcher_settings *s,
                    int noisy, struct matcher_cv_figures *f)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < cv->n_rec; i++) {
        struct match_result r;
        if (noisy >= 0 && cv->rec[i].noisy != (noisy == 1))
            continue;
        decide(m, s, &cv->rec[i], &r);
        count(f, m, cv->rec[i].want, &r);
    }
}

/* The most right answers among the grid's points that meet both goals;
 * when none does, the one furthest from missing either goal badly: the
 * smallest of the larger of false accepts / their goal and rejections /
 * their goal (then the most right answers). */
static size_t recommend(const struct matcher_cv_figures *grid)
{
    size_t best = 0;
    bool best_ok = false;
    double best_err = 1e9;
    for (size_t g = 0; g < N_GRID; g++) {
        const struct matcher_cv_figures *f = &grid[g];
        double fa = pct(f->false_accepts, f->offtopic) / (100 * GOAL_FALSE_ACCEPTS);
        double rej = pct(f->rejected, f->inscope) / (100 * GOAL_REJECTED);
        double err = (fa > rej ? fa : rej) - 1e-6 * (double)f->right;
        if (meets_goals(f) && (!best_ok || f->right > grid[best].right)) {
            best = g;
            best_ok = true;
        } else if (!best_ok && err < best_err) {
            best = g;
            best_err = err;
        }
    }
    return best;
}

static struct matcher_settings grid_settings(const struct matcher_settings *base, size_t g)
{
    struct matcher_settings s = *base;
    s.threshold = THRESH[g % N_THRESH];
    s.gate_threshold = GATE[g / N_THRESH];
    s.unknown_weight = 0;
    return s;
}

/* The grid of thresholds over clean and noisy lines together, under the
 * fitted stack (or the catalog's gate when nothing could be fitted). */
static void print_grid(struct cv *cv, const struct matcher *m, const struct matcher_settings *fit)
{
    struct buf *out = cv->out;
    struct matcher_cv_figures *grid = xcalloc(N_GRID, sizeof *grid), f;
    buf_puts(out, "grid over clean and noisy held-out lines (gate_threshold threshold: right / "
                  "off-topic accepted / in-scope rejected), points meeting the goals marked *:\n");
    for (size_t g = 0; g < N_GRID; g++) {
        struct matcher_settings s = grid_settings(fit, g);
        figures(cv, m, &s, -1, &grid[g]);
        buf_printf(out, "  %c g=%.2f t=%.2f  %5.1f%% %5.1f%% %5.1f%%\n",
                   meets_goals(&grid[g]) ? '*' : ' ', s.gate_threshold, s.threshold,
                   pct(grid[g].right, grid[g].lines),
                   pct(grid[g].false_accepts, grid[g].offtopic),
                   pct(grid[g].rejected, grid[g].inscope));
    }
    size_t best = recommend(grid);
    struct matcher_settings s = grid_settings(fit, best);
    buf_puts(out, "recommended (_matcher.json): \"stack\": [");
    for (size_t k = 0; k <= MATCHER_STACK; k++)
        buf_printf(out, "%s%.4g", k ? ", " : "", s.stack[k]);
    buf_printf(out, "], \"gate_threshold\": %g, \"threshold\": %g, \"unknown_weight\": 0\n",
               s.gate_threshold, s.threshold);
    figures(cv, m, &s, 0, &f);
    print_figures(out, "at the recommended point, clean", &f);
    figures(cv, m, &s, 1, &f);
    print_figures(out, "at the recommended point, with typing slips", &f);
    free(grid);
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

static void report(struct cv *cv, const struct matcher *m, unsigned folds, double ms,
                   struct matcher_cv_figures *at_settings)
{
    struct matcher_cv_figures clean, noisy;
    struct matcher_settings fit = m->set;
    buf_printf(cv->out, "%u-fold cross-validation on the catalog's examples (%.1f ms of CPU per "
               "training)\n", folds, ms);
    figures(cv, m, &m->set, 0, &clean);
    figures(cv, m, &m->set, 1, &noisy);
    print_figures(cv->out, "held out, at the catalog's settings", &clean);
    print_figures(cv->out, "held out with typing slips", &noisy);
    fit_stack(cv, m, fit.stack);
    fit.stacked = true;
    print_grid(cv, m, &fit);
    print_confusions(cv, m);
    if (at_settings)
        *at_settings = clean;
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
    if (m)
        report(cv, m, folds, ms_total / folds, at_settings);
    else
        rc = -1;
    matcher_free(m);
    free(cv->rec);
    free(cv);
    return rc;
}
