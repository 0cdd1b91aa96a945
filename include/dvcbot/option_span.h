/* option_span — a length of time said in words ("ở khoảng 1 năm", "hơn 2
 * tháng", "nửa năm", "ba tháng") at a question whose options are lengths of
 * time ("Dưới 6 tháng", "6–12 tháng", "Trên 1 năm"): the option holding it.
 * Measured in days, a month 30 and a year 360, so "1 năm" is "12 tháng"
 * (the forms' ranges end at 12 months: about a year is "6–12 tháng", more
 * than a year "Trên 1 năm"). Pure: no I/O, owns nothing. */
#ifndef DVCBOT_OPTION_SPAN_H
#define DVCBOT_OPTION_SPAN_H

#include <stdbool.h>
#include <stddef.h>

/* option_span_pick: the answer names no length of time (or several), or an
 * option is none. */
#define OPTION_SPAN_NONE (-2)

/* The option among n whose range holds the span said in folded (the
 * answer, folded by norm_fold): its index; -1 when none or several do;
 * OPTION_SPAN_NONE when folded says no span or the options are not all
 * spans. "hơn"/"trên" before the number reads a little more, "dưới"/"gần"
 * a little less. */
int option_span_pick(const char *folded, const char *const *options, size_t n);

/* True when the options are all spans in more than one unit ("6–12 tháng",
 * "Trên 1 năm"): a number typed alone is no length of them (months? years?)
 * but a button's position. */
bool option_span_units_differ(const char *const *options, size_t n);

#endif
