/* cmd_classify — `dvcbot classify`: one "<id>\t<score>" line per stdin line.
 *
 * Hidden flags: `--bench N` classifies every stdin line N times in a loop and
 * prints the rate and the start-up time instead; `--explain` adds the
 * procedure an act names and the line as the matcher read it
 * ("<id>\t<score>\t<procedure or ->\t<rewritten line>"); `--cv K [--verbose]`
 * cross-validates the matcher on the catalog's own examples in K folds and
 * prints the figures and the out-of-scope thresholds they recommend
 * (matcher_cv.h). */
#include "dvcbot/buf.h"
#include "dvcbot/catalog.h"
#include "dvcbot/commands.h"
#include "dvcbot/matcher.h"
#include "dvcbot/matcher_cv.h"
#include "dvcbot/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: the figure that does not depend on how busy
 * the machine is. */
static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static char *intents_dir(void)
{
    const char *d = getenv("DVCBOT_DATA_DIR");
    size_t n = strlen(d && *d ? d : ".") + sizeof "/intents";
    char *p = xmalloc(n);
    snprintf(p, n, "%s/intents", d && *d ? d : ".");
    return p;
}

/* Loads catalog and matcher; prints why on failure. */
static int open_matcher(struct catalog **cat, struct matcher **m)
{
    char *dir = intents_dir(), *err = NULL;
    *m = NULL;
    *cat = catalog_load(dir, &err);
    if (*cat)
        *m = matcher_new(*cat, &err);
    free(dir);
    if (!*m) {
        fprintf(stderr, "classify: cannot load the catalog: %s\n", err ? err : "unknown error");
        free(err);
        catalog_free(*cat);
        return -1;
    }
    return 0;
}

static size_t chomp(char *line, size_t n)
{
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return n;
}

static int classify_lines(const struct matcher *m, bool explain)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t n = chomp(line, (size_t)got);
        struct match_result r;
        matcher_classify(m, line, n, &r);
        if (explain) {
            struct buf why;
            buf_init(&why);
            matcher_explain(m, line, n, &why);
            printf("%s\t%.3f\t%s\t%s\n", r.id, r.score, r.procedure ? r.procedure : "-",
                   buf_cstr(&why));
            buf_free(&why);
        } else {
            printf("%s\t%.3f\n", r.id, r.score);
        }
    }
    free(line);
    return fflush(stdout) == 0 && !ferror(stdin) ? 0 : 1;
}

static int bench(const struct matcher *m, long rounds, double startup, double startup_cpu)
{
    char **lines = NULL, *line = NULL;
    size_t n_lines = 0, cap = 0, bytes = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t n = chomp(line, (size_t)got);
        lines = xrealloc(lines, (n_lines + 1) * sizeof *lines);
        lines[n_lines++] = xstrndup(line, n);
        bytes += n;
    }
    free(line);
    volatile unsigned long sink = 0; /* keeps the loop from being optimised away */
    double t0 = now_s(), c0 = cpu_s();
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n_lines; i++) {
            struct match_result res;
            matcher_classify(m, lines[i], strlen(lines[i]), &res);
            sink += (unsigned long)res.id[0];
        }
    }
    (void)sink; /* clang: set but never read otherwise */
    double dt = now_s() - t0, dc = cpu_s() - c0, total = (double)rounds * (double)n_lines;
    printf("lines %zu (avg %.1f bytes), rounds %ld, classifications %.0f in %.3f s\n", n_lines,
           n_lines ? (double)bytes / (double)n_lines : 0.0, rounds, total, dt);
    printf("classifications/s %.0f (one core)\n", dt > 0 ? total / dt : 0.0);
    printf("classifications per CPU second %.0f\n", dc > 0 ? total / dc : 0.0);
    printf("startup (load + compile catalog) %.2f ms, %.2f ms of CPU\n", startup * 1000,
           startup_cpu * 1000);
    for (size_t i = 0; i < n_lines; i++)
        free(lines[i]);
    free(lines);
    return 0;
}

static int cross_validate(long folds, bool verbose)
{
    char *dir = intents_dir(), *err = NULL;
    struct catalog *cat = catalog_load(dir, &err);
    free(dir);
    if (!cat) {
        fprintf(stderr, "classify: cannot load the catalog: %s\n", err ? err : "unknown error");
        free(err);
        return 1;
    }
    struct buf out;
    buf_init(&out);
    int rc = matcher_cross_validate(cat, folds > 0 && folds <= 20 ? (unsigned)folds : 0, verbose,
                                    &out, NULL);
    fputs(buf_cstr(&out), rc == 0 ? stdout : stderr);
    buf_free(&out);
    catalog_free(cat);
    return rc == 0 ? 0 : 1;
}

int cmd_classify(int argc, char **argv)
{
    long rounds = 0;
    if (argc >= 3 && strcmp(argv[1], "--cv") == 0)
        return cross_validate(strtol(argv[2], NULL, 10),
                              argc >= 4 && strcmp(argv[3], "--verbose") == 0);
    bool explain = argc == 2 && strcmp(argv[1], "--explain") == 0;
    if (argc >= 3 && strcmp(argv[1], "--bench") == 0)
        rounds = strtol(argv[2], NULL, 10);
    else if (argc > 1 && !explain) {
        fprintf(stderr, "usage: dvcbot classify < lines\n");
        return 2;
    }
    struct catalog *cat;
    struct matcher *m;
    double t0 = now_s(), c0 = cpu_s();
    if (open_matcher(&cat, &m) != 0)
        return 1;
    double startup = now_s() - t0, startup_cpu = cpu_s() - c0;
    int rc = rounds > 0 ? bench(m, rounds, startup, startup_cpu) : classify_lines(m, explain);
    matcher_free(m);
    catalog_free(cat);
    return rc;
}
