/* replies — which templates exist and which variables each may use.
 * Keep the table sorted by name; add a line when code renders a new template. */
#include "dvcbot/replies.h"

#include <string.h>

static const struct reply_spec specs[] = {
    {"ask_which", "a_id a_label a_name b_id b_label b_name"},
    {"busy_store", ""},
    {"degraded_note", ""},
    {"dossier_changed", "code pay_payload procedure status_text"},
    {"dossier_details", "agency applicant code due fee_text late pay_payload procedure received status_text sub_payload unsub_payload"},
    {"dossier_fee_none", "fee"},
    {"dossier_fee_paid", "fee"},
    {"dossier_fee_unpaid", "fee"},
    {"dossier_late", "days"},
    {"dossier_status_can_bo_sung", "agency due fee note"},
    {"dossier_status_cho_thanh_toan", "agency due fee note"},
    {"dossier_status_da_co_ket_qua", "agency due fee note"},
    {"dossier_status_da_tiep_nhan", "agency due fee note"},
    {"dossier_status_da_tra_ket_qua", "agency due fee note"},
    {"dossier_status_dang_xu_ly", "agency due fee note"},
    {"dossier_status_tu_choi", "agency due fee note"},
    {"greeting", ""},
    {"help", ""},
    {"lookup_ask_code", ""},
    {"lookup_ask_code_pay", ""},
    {"lookup_ask_pin", "code"},
    {"lookup_bad_code", ""},
    {"lookup_bad_pin", "code"},
    {"lookup_failed", ""},
    {"lookup_limited", "minutes"},
    {"lookup_subscribed", "code"},
    {"lookup_unsubscribed", "code"},
    {"menu", ""},
    {"pay_return_invalid", "amount txn"},
    {"pay_return_paid", "amount txn"},
    {"pay_return_unpaid", "amount txn"},
    {"payment_already_paid", "code"},
    {"payment_done", "amount code txn"},
    {"payment_failed", "amount code txn"},
    {"payment_link", "amount code expires url"},
    {"payment_no_fee", "code"},
    {"payment_order_info", "code"},
    {"payment_unavailable", "code"},
    {"procedure_list", "part parts"},
    {"procedure_more_documents", "count"},
    {"procedure_online_mot_phan", ""},
    {"procedure_online_toan_trinh", ""},
    {"procedure_summary", "agency documents fee id name online time"},
    {"unknown", ""},
    {"unsupported_media", ""},
    {"zalo_more_buttons", ""},
};

const struct reply_spec *replies_specs(size_t *count)
{
    *count = sizeof specs / sizeof specs[0];
    return specs;
}

const struct reply_spec *replies_find(const char *name)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    return NULL;
}

bool replies_var_allowed(const struct reply_spec *spec, const char *var)
{
    size_t vlen = strlen(var);
    for (const char *p = spec->vars; *p;) {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        if ((size_t)(end - p) == vlen && strncmp(p, var, vlen) == 0)
            return true;
        p = end;
    }
    return false;
}
