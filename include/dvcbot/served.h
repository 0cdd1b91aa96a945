/* served — which catalog ids code answers, for checks that cannot start it.
 *
 * Every catalog id must get an answer other than "I did not understand":
 * a procedure is answered by its facts, a non-procedure intent whose file
 * names a "reply" template by that template (data), and the rest by a
 * handler a module registers with dialog_on_intent (code). This list names
 * the ids of the last kind, so `dvcbot check` (which starts no module) can
 * refuse an id nobody answers; app_open refuses to start when the list and
 * the registered handlers disagree, so the list cannot drift from the code.
 * Static data only; nothing to free. */
#ifndef DVCBOT_SERVED_H
#define DVCBOT_SERVED_H

#include <stdbool.h>
#include <stddef.h>

/* True when a module registers a handler for intent_id. */
bool served_by_code(const char *intent_id);
size_t served_code_count(void);
/* The i-th id answered by code (i < served_code_count()). */
const char *served_code_id(size_t i);

#endif
