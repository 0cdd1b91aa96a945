/* replies — which templates exist and which variables each may use.
 * Keep the table sorted by name; add a line when code renders a new template. */
#include "dvcbot/replies.h"

#include "dvcbot/config.h"
#include "dvcbot/duration_text.h"
#include "dvcbot/flow.h"
#include "dvcbot/tpl.h"

#include <string.h>

static const struct reply_spec specs[] = {
    {"ask_which", "a_id a_label a_name b_id b_label b_name"},
    {"assist_ask_commune", ""},
    {"assist_ask_commune_own", "commune"},
    {"assist_commune_offer", "offer"},
    {"assist_ended", ""},
    {"assist_not_volunteer", ""},
    {"assist_ready", "commune"},
    {"busy_store", ""},
    {"commune_answer_choose", "choices"},
    {"commune_answer_explain", ""},
    {"commune_answer_old", "name old province type where"},
    {"commune_answer_papers", ""},
    {"commune_answer_today", "name old province type where"},
    {"commune_answer_where", "name type"},
    {"complaint_ask", "max"},
    {"complaint_info", ""},
    {"complaint_saved", ""},
    {"consent_ask", "fields"},
    {"consent_refused", ""},
    {"consent_saved", ""},
    {"degraded_note", ""},
    {"dossier_changed", "code pay_payload procedure status_text"},
    {"dossier_details", "agency applicant code due fee_text late pay_payload procedure received status_text sub_payload unsub_payload"},
    {"dossier_fee_none", "fee"},
    {"dossier_fee_paid", "fee"},
    {"dossier_fee_unpaid", "fee"},
    {"dossier_late", "days"},
    {"dossier_status_can_bo_sung", "agency due fee note"},
    {"dossier_status_cho_thanh_toan", "agency due fee note"},
    {"dossier_status_cho_thanh_toan_paid", "agency due fee note"},
    {"dossier_status_da_co_ket_qua", "agency due fee note"},
    {"dossier_status_da_tiep_nhan", "agency due fee note"},
    {"dossier_status_da_tra_ket_qua", "agency due fee note"},
    {"dossier_status_dang_xu_ly", "agency due fee note"},
    {"dossier_status_tu_choi", "agency due fee note"},
    {"dossier_status_tu_choi_no_note", "agency due fee note"},
    {"erase_confirm", ""},
    {"erase_done", "deleted kinds"},
    {"erase_kept", "resume"},
    {"erase_press_button", ""},
    {"erase_kind_dd", ""},
    {"erase_kind_fb", ""},
    {"erase_kind_ho", ""},
    {"erase_kind_other", ""},
    {"erase_kind_p", ""},
    {"erase_kind_refs", ""},
    {"erase_kind_s", ""},
    {"erase_kind_u", ""},
    {"erase_kind_wc_hist", ""},
    {"erase_kind_wc_inbox", ""},
    {"erase_refs_removed", "refs"},
    {"feedback_go_on", ""},
    {"feedback_invalid", "max"},
    {"feedback_saved", ""},
    {"feedback_skipped", ""},
    {"flow_ask", "back current keep n note question skip total where"},
    {"flow_cancelled", "id name"},
    {"flow_check", "back n no no_payload note question total yes yes_payload"},
    {"flow_check_continue", "go help note"},
    {"flow_check_stop", "go help note"},
    {"flow_code", "assist back household n note total"},
    {"flow_code_assist", "assist back household n note total"},
    {"flow_code_date", ""},
    {"flow_code_invalid", ""},
    {"flow_code_taken", "code"},
    {"flow_code_taken_assist", "code household"},
    {"flow_commune_choose", "choices typed"},
    {"flow_commune_likely", "choices typed"},
    {"flow_commune_line", "name old province type"},
    {"flow_commune_line_old", "name old province type"},
    {"flow_commune_old", "name old type"},
    {"flow_commune_unknown", "choices typed"},
    {"flow_corrected", "label value"},
    {"flow_date_year_taken", "date"},
    {"flow_edit_choose", ""},
    {"flow_edit_unknown", "fields"},
    {"flow_expired", "id name"},
    {"flow_going_on", ""},
    {"flow_help", "fields hint"},
    {"flow_hint_cccd", ""},
    {"flow_hint_choice", ""},
    {"flow_hint_code", ""},
    {"flow_hint_commune", ""},
    {"flow_hint_date", ""},
    {"flow_hint_name", ""},
    {"flow_hint_phone", ""},
    {"flow_hint_say", ""},
    {"flow_hint_text", ""},
    {"flow_intro", "name online total"},
    {"flow_invalid_cccd_digits", "max min"},
    {"flow_invalid_cccd_invalid", "max min"},
    {"flow_invalid_date_format", "max min"},
    {"flow_invalid_date_no_year", "max min"},
    {"flow_invalid_date_future", "max min"},
    {"flow_invalid_date_not_exist", "max min"},
    {"flow_invalid_date_past", "max min"},
    {"flow_invalid_date_too_old", "max min"},
    {"flow_invalid_empty", "max min"},
    {"flow_invalid_name_chars", "max min"},
    {"flow_invalid_option", "max min"},
    {"flow_invalid_phone", "max min"},
    {"flow_invalid_text_chars", "max min"},
    {"flow_invalid_text_long", "max min"},
    {"flow_invalid_text_short", "max min"},
    {"flow_name_no_marks", "name"},
    {"flow_none", ""},
    {"flow_part_answers", "answers"},
    {"flow_part_fee", "fee"},
    {"flow_part_link", "url"},
    {"flow_part_screen", "name"},
    {"flow_part_where", "screen"},
    {"flow_repeated", ""},
    {"flow_resume", "n name total"},
    {"flow_said", "answers edit"},
    {"flow_say", "back edit extra n next note screen text total"},
    {"flow_stale", ""},
    {"flow_stuck", ""},
    {"flow_switch_ask", "fresh n name next total"},
    {"flow_undo_gone", ""},
    {"flow_undone", ""},
    {"flow_use_buttons", ""},
    {"followup_ask", "label"},
    {"followup_audience", "fact id name online pay url"},
    {"followup_documents", "fact id name online pay url"},
    {"followup_fee", "fact id name online pay url"},
    {"followup_online", "fact id name online pay url"},
    {"followup_papers", "fact id name online pay url"},
    {"followup_place", "fact id name online pay url"},
    {"followup_time", "fact id name online pay url"},
    {"greeting", ""},
    {"handoff_closed", "ticket"},
    {"handoff_ended", "ticket"},
    {"handoff_forwarded", "ticket"},
    {"handoff_opened", "ticket"},
    {"handoff_staff_reply", "text ticket"},
    {"handoff_unavailable", ""},
    {"handoff_waiting", "ticket"},
    {"help", ""},
    {"household_cancelled", ""},
    {"household_consent", ""},
    {"household_expired", ""},
    {"household_no", ""},
    {"household_outcome", "village"},
    {"household_recorded", "commune online paid village vneid"},
    {"household_refused", ""},
    {"household_village", "commune"},
    {"household_yes", ""},
    {"lookup_ask_code", ""},
    {"lookup_ask_code_for", "id procedure short_name"},
    {"lookup_ask_code_pay", ""},
    {"lookup_ask_code_pay_for", "fee id procedure short_name"},
    {"lookup_ask_pin", "code"},
    {"lookup_bad_code", ""},
    {"lookup_bad_pin", "code"},
    {"lookup_cancelled", ""},
    {"lookup_failed", ""},
    {"lookup_failed_retry", ""},
    {"lookup_limited", "minutes"},
    {"lookup_limited_new", "minutes"},
    {"lookup_pending", "code"},
    {"lookup_subscribed", "code"},
    {"lookup_unsubscribed", "code"},
    {"lookup_use_full_number", "code"},
    {"menu", ""},
    {"pay_return_invalid", "amount txn"},
    {"pay_return_paid", "amount txn"},
    {"pay_return_unpaid", "amount txn"},
    {"payment_already_paid", "code"},
    {"payment_done", "amount code fee txn"},
    {"payment_failed", "amount code fee txn"},
    {"payment_link", "amount code expires url"},
    {"payment_no_fee", "code"},
    {"payment_not_applied_already_paid", "amount code fee txn"},
    {"payment_not_applied_expired", "amount code fee txn"},
    {"payment_not_applied_fee_changed", "amount code fee txn"},
    {"payment_not_applied_no_dossier", "amount code fee txn"},
    {"payment_not_applied_not_due", "amount code fee txn"},
    {"payment_order_info", "code"},
    {"payment_settled_applied", "amount code txn"},
    {"payment_settled_refunded", "amount code txn"},
    {"payment_unavailable", "code"},
    {"procedure_full", "agency audience documents fee id name notes online time"},
    {"procedure_group", "name"},
    {"procedure_groups", ""},
    {"procedure_list", "part parts"},
    {"procedure_more_documents", "count"},
    {"procedure_online_mot_phan", ""},
    {"procedure_online_toan_trinh", ""},
    {"procedure_summary", "agency documents fee id more name online opening time"},
    {"profile_offer", "saved"},
    {"rate_already", ""},
    {"rate_ask", "name"},
    {"rate_ask_general", ""},
    {"rate_thanks", ""},
    {"reminder_can_bo_sung", "agency code due pay_payload procedure status_text"},
    {"reminder_cho_thanh_toan", "agency code due pay_payload procedure status_text"},
    {"reminder_late", "agency code due pay_payload procedure status_text"},
    {"staff_closed", "ticket"},
    {"staff_context", "procedure"},
    {"staff_help", ""},
    {"staff_new_ticket", "channel context question ticket"},
    {"staff_no_question", ""},
    {"staff_not_sent", "ticket"},
    {"staff_sent", "ticket"},
    {"staff_ticket_closed", "ticket"},
    {"staff_unknown_ticket", "ticket"},
    {"staff_user_closed", "ticket"},
    {"staff_user_message", "text ticket"},
    {"thanks", ""},
    {"unknown", ""},
    {"unsupported_media", ""},
    {"webchat_too_long", "count max"},
    {"webchat_too_many_new", ""},
    {"yes_no_alone", ""},
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

void replies_fill_settings(struct tpl_set *set, const struct config *cfg)
{
    char flow_idle[DURATION_TEXT_MAX] = "…", flow_undo[DURATION_TEXT_MAX];
    if (cfg)
        duration_text(cfg->flow_idle_s, flow_idle);
    duration_text(FLOW_UNDO_S, flow_undo);
    const struct tpl_var settings[] = {{"flow_idle", flow_idle}, {"flow_undo", flow_undo}};
    tpl_set_fill(set, settings, sizeof settings / sizeof settings[0]);
}
