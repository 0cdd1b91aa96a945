/* served — the catalog ids whose answer is code (see served.h). */
#include "dvcbot/served.h"

#include <string.h>

/* Keep in step with the modules' dialog_on_intent calls; app_open checks. */
static const char *const by_code[] = {
    "tra_cuu_ho_so", /* lookup.c */
    "thanh_toan",    /* lookup.c */
    "gop_y",         /* feedback.c */
    "khieu_nai",     /* feedback.c */
    "gap_can_bo",    /* handoff.c */
    "xoa_du_lieu",   /* erase.c */
    "don_vi_hanh_chinh", /* commune_answer.c */
};

bool served_by_code(const char *intent_id)
{
    for (size_t i = 0; i < sizeof by_code / sizeof by_code[0]; i++)
        if (strcmp(by_code[i], intent_id) == 0)
            return true;
    return false;
}

size_t served_code_count(void)
{
    return sizeof by_code / sizeof by_code[0];
}

const char *served_code_id(size_t i)
{
    return i < served_code_count() ? by_code[i] : NULL;
}
