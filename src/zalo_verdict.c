/* zalo_verdict — what an answer of Zalo's OA API means, and a user's
 * messaging window (see zalo_verdict.h). */
#include "dvcbot/zalo_verdict.h"
#include "dvcbot/zalo.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Zalo's OA API answers a refused call with HTTP 200 and a negative "error".
 * What dvcbot does with each code it knows; any other code is transient
 * (the outbox's bounded back-off, then "gave_up" in outbox:failed with the
 * code): a code Zalo adds later must not drop a citizen's reply.
 * Sources: Zalo's OA error table ("Mã lỗi", developers.zalo.me/docs/
 * official-account/...; docs.zaloplatforms.com/docs/OA/..., a client-rendered
 * page not read here) as reproduced in public integration notes (a Zalo
 * Platform API specification compiled 2026-08-20, with retry classes; the
 * ZaloOAException table of a public Python SDK); marked UNVERIFIED where only
 * one of them names the code. (doc.caresoft.vn's send-by-Zalo-ID table
 * numbers differently, -201 "Invalid access token": a vendor's own codes,
 * not followed.)
 * The window rules (7 days: -230; 45 days inactive: -227) as in zalo.h. */
struct zalo_code {
    int code;
    enum zalo_result result;
    const char *reason;
};

static const struct zalo_code ZALO_CODES[] = {
    /* Token: refresh, send again once. */
    {-216, ZALO_TOKEN, "token"},          /* access token is invalid */
    {-220, ZALO_TOKEN, "token"},          /* access token expired or removed */
    {-124, ZALO_TOKEN, "token"},          /* access token invalid (ZNS table; UNVERIFIED on /message/cs) */
    /* Throttles: wait, no attempt used. */
    {-32, ZALO_THROTTLE, "rate_limit"},   /* the app's / OA's calls per minute */
    {-234, ZALO_THROTTLE, "night"},       /* not at night, 22:00-06:00 (promotions; not expected on cs) */
    /* Refused for this user: recorded in u:{zl:<id>}, not retried. */
    {-211, ZALO_USER, "quota"},           /* out of quota */
    {-218, ZALO_USER, "quota"},           /* the user's receive quota */
    {-311, ZALO_USER, "quota"},           /* out of quota for replies (older table; UNVERIFIED) */
    {-213, ZALO_USER, "not_follower"},    /* the user does not follow the OA */
    {-217, ZALO_USER, "user_blocked"},    /* the user blocked the OA's invitations */
    {-227, ZALO_USER, "user_inactive"},   /* banned, or inactive on Zalo for 45 days */
    {-222, ZALO_USER, "user_inactive"},   /* same words as -227 (one SDK table; UNVERIFIED) */
    {-230, ZALO_USER, "no_recent_interaction"}, /* no interaction with the OA in 7 days */
    {-232, ZALO_USER, "no_recent_interaction"}, /* no interaction, or it expired */
    {-305, ZALO_USER, "no_recent_interaction"}, /* cannot answer after 48 h (older table; UNVERIFIED) */
    {-244, ZALO_USER, "user_restricted"}, /* the user restricted this kind of message */
    /* The message itself refused. */
    {-201, ZALO_BAD_REQUEST, "bad_request"},    /* a parameter is invalid (a quote: sent unquoted) */
    {-210, ZALO_FAILED, "too_long"},      /* a parameter exceeds its limit */
    {-233, ZALO_FAILED, "message_type"},  /* message type invalid or not supported */
    {-248, ZALO_FAILED, "content_refused"}, /* violates Zalo's platform standards */
    /* Zalo's side or the OA's set-up: transient, bounded (an operator may fix
     * the set-up or the Zalo Cloud Account balance meanwhile). */
    {-200, ZALO_RETRY, "send_failed"},    /* "Send message failed" */
    {-204, ZALO_RETRY, "oa_setup"},       /* OA disabled */
    {-205, ZALO_RETRY, "oa_setup"},       /* OA does not exist */
    {-209, ZALO_RETRY, "oa_setup"},       /* API not supported for the app */
    {-212, ZALO_RETRY, "oa_setup"},       /* the app has not registered this API */
    {-219, ZALO_RETRY, "oa_setup"},       /* the app is removed or disabled */
    {-221, ZALO_RETRY, "oa_setup"},       /* the OA must be verified */
    {-223, ZALO_RETRY, "oa_setup"},       /* the OA has not authorized this API */
    {-224, ZALO_RETRY, "oa_setup"},       /* the OA's tier package */
    {-235, ZALO_RETRY, "oa_setup"},       /* not for this type of OA */
    {-240, ZALO_RETRY, "oa_setup"},       /* message API v2 shut down (we call v3) */
    {-320, ZALO_RETRY, "oa_setup"},       /* the app needs a Zalo Cloud Account */
    {-321, ZALO_RETRY, "oa_setup"},       /* the Zalo Cloud Account cannot pay */
};

static const struct zalo_code *zalo_code_find(int code)
{
    for (size_t i = 0; i < sizeof ZALO_CODES / sizeof ZALO_CODES[0]; i++)
        if (ZALO_CODES[i].code == code)
            return &ZALO_CODES[i];
    return NULL;
}

enum zalo_result zalo_classify(long status, const char *body, int *code)
{
    *code = 0;
    if (status == 429)
        return ZALO_THROTTLE;
    if (status == 0 || status >= 500)
        return ZALO_RETRY;
    cJSON *root = cJSON_Parse(body ? body : "");
    const cJSON *err = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
    bool readable = cJSON_IsNumber(err);
    if (readable)
        *code = err->valueint; /* cJSON clamps it to int; a cast of 1e300 would be undefined */
    cJSON_Delete(root);
    if (!readable)
        return status >= 200 && status < 300 ? ZALO_RETRY : ZALO_FAILED;
    if (*code == 0)
        return status >= 200 && status < 300 ? ZALO_OK : ZALO_FAILED;
    const struct zalo_code *known = zalo_code_find(*code);
    return known ? known->result : ZALO_RETRY; /* unknown: transient, bounded */
}

const char *zalo_error_reason(int code)
{
    const struct zalo_code *known = zalo_code_find(code);
    return known ? known->reason : "api_error";
}

enum zalo_window zalo_window_of(int64_t now, int64_t last_in, long sent, bool quoted)
{
    if (last_in <= 0)
        return ZALO_WINDOW_UNKNOWN;
    int64_t age = now - last_in;
    if (age > ZALO_CS_WINDOW_S)
        return ZALO_WINDOW_CLOSED;
    if (quoted && age <= ZALO_FREE_WINDOW_S && sent < ZALO_FREE_REPLIES)
        return ZALO_WINDOW_FREE;
    return ZALO_WINDOW_PAID;
}

const char *zalo_window_name(enum zalo_window w)
{
    static const char *const names[] = {"unknown", "free", "paid", "closed"};
    return (unsigned)w < 4 ? names[w] : "unknown";
}

const char *zalo_proactive_refusal(int64_t now, bool unfollowed, int64_t last_in, long sent)
{
    if (unfollowed)
        return "unfollowed";
    if (zalo_window_of(now, last_in, sent, false) == ZALO_WINDOW_CLOSED)
        return "zalo_no_recent_interaction";
    return NULL;
}
