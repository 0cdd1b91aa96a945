/* commune_check — whether a commune name staff gave (console forms, the
 * bearer broadcast API) is a unit of the 2025 list (commune_list.h), and the
 * 422 answer naming the nearest units when it is not. Every staff path that
 * takes a commune checks it here, so the console and the API refuse the same
 * names with the same answer.
 *
 * Names are compared folded (commune.h: no case, no diacritics, "xã" /
 * "phường" left out); "" and a list that did not load (NULL or empty) accept
 * anything. Pure apart from commune_check_request, which answers the request. */
#ifndef DVCBOT_COMMUNE_CHECK_H
#define DVCBOT_COMMUNE_CHECK_H

#include "dvcbot/buf.h"
#include "dvcbot/commune_list.h"
#include "dvcbot/http_server.h"

#include <stdbool.h>

/* Whether name is accepted (see above). */
bool commune_check_known(const struct commune_list *l, const char *name);

/* Appends to out the JSON body refusing name:
 * {"error": "unknown commune '<name>' (not in the 2025 list); nearest: A, B",
 *  "commune": "<name>", "nearest": ["A", "B"]} — the likeliest units first
 * (commune_list_match: a typo, an old unit merged into one), "; nearest: ..."
 * left out of the message when there is none. */
void commune_check_refusal(const struct commune_list *l, const char *name, struct buf *out);

/* commune_check_known; when false, answers req 422 with the refusal above:
 * the caller must not touch req again. */
bool commune_check_request(const struct commune_list *l, struct http_request *req,
                           const char *name);

#endif
