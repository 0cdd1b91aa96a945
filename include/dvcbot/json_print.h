/* json_print — a cJSON tree printed exactly as cJSON_PrintUnformatted
 * prints it, without printf for whole numbers.
 *
 * cJSON 1.7.15 prints every number with sprintf("%1.15g"), reads it back
 * with sscanf and prints it again with "%1.17g" when that does not give the
 * number back: ~4 000 instructions for a timestamp. A session is printed on
 * every turn and compared with the text it was loaded from (dialog.c), so
 * the text must be byte for byte cJSON's: a whole number under 10^15 (which
 * "%1.15g" prints as its digits) is written here digit by digit; any other
 * number, and everything else, as cJSON does it.
 *
 * Returns a malloc'd string the caller frees, or NULL where cJSON would
 * (an invalid item, a raw item without text). Does not change the tree. */
#ifndef DVCBOT_JSON_PRINT_H
#define DVCBOT_JSON_PRINT_H

#include <cjson/cJSON.h>

char *json_print(const cJSON *item);

#endif
