/* datacheck — validates a data dir (intents/ and templates/) as `dvcbot check`
 * and CI do: the catalog loads with every field typed right, every pattern
 * compiles, every procedure's guided flow is sound (flowdef.h), every
 * template of the registry (replies.c) exists and uses only
 * the variables the registry allows, no template file is left that nobody
 * renders (a template named by an intent's "reply" or shown by an "r:"
 * button as a help screen is data: it may use no variables), every "r:"
 * button names an existing help screen, and every catalog id gets an
 * answer (a procedure, a "reply" template or a code handler listed in
 * served.h). Owns nothing after it returns. */
#ifndef DVCBOT_DATACHECK_H
#define DVCBOT_DATACHECK_H

#include "dvcbot/catalog.h"

#include <stddef.h>

struct datacheck_stats {
    size_t intents, procedures, templates;
};

/* Reports every problem (file relative to data_dir, field, reason); returns
 * how many there were. stats (may be NULL) is filled when it gets that far. */
int datacheck_run(const char *data_dir, catalog_report_fn report, void *ud,
                  struct datacheck_stats *stats);

#endif
