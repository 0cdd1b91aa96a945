/* matcher — turns a line a citizen typed into one catalog id.
 *
 * Built once from the catalog (patterns compiled at start, PCRE2 UTF + JIT);
 * read-only afterwards, so one matcher serves every request. Result ids point
 * into the catalog and live as long as it does. */
#ifndef DVCBOT_MATCHER_H
#define DVCBOT_MATCHER_H

#include "dvcbot/catalog.h"

#include <stdbool.h>
#include <stddef.h>

struct match_result {
    const char *id;       /* catalog id; "khac" when nothing fits */
    double score;         /* 0..1 */
    const char *alt_id;   /* runner-up id, or NULL */
    double alt_score;
    bool ambiguous;       /* two procedures too close to tell: ask the user */
};

struct matcher;

/* Returns NULL with a message in *err (caller frees) when a pattern does not
 * compile or the matching data is malformed. The catalog must outlive it. */
struct matcher *matcher_new(const struct catalog *cat, char **err);
void matcher_free(struct matcher *m);

/* Never fails: invalid UTF-8, empty or huge input give "khac". */
void matcher_classify(const struct matcher *m, const char *text, size_t len,
                      struct match_result *out);

#endif
