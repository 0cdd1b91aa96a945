/* commune_reply — what a user reads when the commune they typed fits
 * several units of the 2025 list, or none (commune_list.h): the guided
 * flow's commune question and a volunteer's "xã/phường nào?" say it the
 * same way, with templates flow_commune_choose / _likely / _unknown, one
 * line per unit on offer (flow_commune_line, _line_old) and what was typed
 * repeated back, cut to COMMUNE_REPLY_ECHO_MAX characters. Pure; the
 * caller frees what it gets. */
#ifndef DVCBOT_COMMUNE_REPLY_H
#define DVCBOT_COMMUNE_REPLY_H

#include "dvcbot/commune_list.h"
#include "dvcbot/tpl.h"

#include <stddef.h>

#define COMMUNE_REPLY_ECHO_MAX 40
#define COMMUNE_REPLY_ECHO_BYTES (COMMUNE_REPLY_ECHO_MAX * 4 + 8)

/* The template for a match that found no single unit. */
const char *commune_reply_template(const struct commune_match *m);
/* "• phường Chiềng Cơi, Sơn La: có xã Hua La cũ" lines of the units on offer. */
char *commune_reply_choices(const struct tpl_set *t, const struct commune_match *m);
/* What was typed, cut to COMMUNE_REPLY_ECHO_MAX characters ("…" after). */
void commune_reply_echo(const char *text, char out[COMMUNE_REPLY_ECHO_BYTES]);

#endif
