/* matcher_build — what the files that build the matcher share while they
 * do (matcher_settings.c: settings and spelling data; matcher_train.c: rules,
 * training lines, the models): the matcher being built and the problems
 * found so far. Not for other modules: they use matcher.h.
 *
 * A builder lives on matcher_build's stack for one build; it owns nothing
 * (the matcher is matcher_build's until it returns it, or frees it when a
 * problem was reported). */
#ifndef DVCBOT_MATCHER_BUILD_H
#define DVCBOT_MATCHER_BUILD_H

#include "dvcbot/catalog.h"
#include "dvcbot/matcher.h"

struct builder {
    struct matcher *m;
    const struct matcher_holdout *holdout;
    struct problems pb;
    char file[96];
};

#endif
