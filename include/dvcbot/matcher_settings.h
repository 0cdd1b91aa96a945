/* matcher_settings — the matcher's settings and spelling data, read first
 * when a matcher is built: _matcher.json's numbers (thresholds, weights, the
 * stack, the model's options; defaults for what it leaves out) into
 * b->m->set, then the syllables, known_words and abbreviations into the
 * matcher's rewriter (b->m->rw, which copies what it keeps). A value out of
 * range is a problem reported into b->pb (named with the file it is in) and
 * leaves the default. Nothing is allocated that the caller frees. */
#ifndef DVCBOT_MATCHER_SETTINGS_H
#define DVCBOT_MATCHER_SETTINGS_H

#include "dvcbot/matcher_build.h"

void matcher_settings_load(struct builder *b);

#endif
