/* duration_text — a span of seconds said the way a reply says it to a
 * villager: "30 phút", "2 giờ", "1 giờ 30 phút", "1 ngày".
 *
 * Used where a reply names a configured time (how long a half-done guided
 * flow is kept), so the text follows the setting instead of repeating its
 * default. Owns nothing; the caller gives the buffer. */
#ifndef DVCBOT_DURATION_TEXT_H
#define DVCBOT_DURATION_TEXT_H

#include <stddef.h>

/* Big enough for any unsigned span (the longest: "1193046 giờ 29 phút"). */
#define DURATION_TEXT_MAX 32

/* Writes seconds as whole days when it is some ("2 ngày"), else hours and
 * minutes ("1 giờ 30 phút", "2 giờ"), else minutes ("30 phút"); seconds
 * are rounded up to a minute, so a span never reads shorter than it is
 * ("1 phút" for 0–60 s). Returns out. */
char *duration_text(unsigned seconds, char out[DURATION_TEXT_MAX]);

#endif
