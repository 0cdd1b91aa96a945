/* duration_text — see include/dvcbot/duration_text.h. */
#include "dvcbot/duration_text.h"

#include <stdio.h>

#define MINUTE 60u
#define HOUR (60u * MINUTE)
#define DAY (24u * HOUR)

char *duration_text(unsigned seconds, char out[DURATION_TEXT_MAX])
{
    if (seconds >= DAY && seconds % DAY == 0) {
        snprintf(out, DURATION_TEXT_MAX, "%u ngày", seconds / DAY);
        return out;
    }
    unsigned minutes = seconds / MINUTE + (seconds % MINUTE != 0);
    if (minutes == 0)
        minutes = 1;
    unsigned hours = minutes / 60, rest = minutes % 60;
    if (hours == 0)
        snprintf(out, DURATION_TEXT_MAX, "%u phút", rest);
    else if (rest == 0)
        snprintf(out, DURATION_TEXT_MAX, "%u giờ", hours);
    else
        snprintf(out, DURATION_TEXT_MAX, "%u giờ %u phút", hours, rest);
    return out;
}
