/* nothing_asked — lines that ask nothing yet (see nothing_asked.h). */
#include "dvcbot/nothing_asked.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

static const cJSON *section_of(const struct intent *in)
{
    const cJSON *s = in ? cJSON_GetObjectItemCaseSensitive(in->json, NOTHING_ASKED_KEY) : NULL;
    return cJSON_IsObject(s) ? s : NULL;
}

/* Whether the word (n bytes) is one of sec's list, typed the same. */
static bool listed(const cJSON *sec, const char *list, const char *w, size_t n)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sec, list))
        if (cJSON_IsString(e) && norm_same_word(w, n, e->valuestring, strlen(e->valuestring)))
            return true;
    return false;
}

static bool capitalised(const char *w, size_t n)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)n, &cp);
    return k > 0 && utf8proc_category(cp) == UTF8PROC_CATEGORY_LU;
}

static bool only_particles(const cJSON *sec, const char *text)
{
    const char *at = text, *end = text + strlen(text), *w;
    size_t n, words = 0;
    while ((w = norm_next_word(&at, end, &n))) {
        if (!listed(sec, "particles", w, n))
            return false;
        words++;
    }
    return words > 0;
}

/* A place word, then 1..NOTHING_ASKED_NAME_WORDS words; *named: each of
 * them capitalised. */
static bool only_a_place(const cJSON *sec, const char *text, bool *named)
{
    const char *at = text, *end = text + strlen(text), *w;
    size_t n, words = 0;
    *named = true;
    if (!(w = norm_next_word(&at, end, &n)) || !listed(sec, "places", w, n))
        return false;
    while ((w = norm_next_word(&at, end, &n))) {
        if (++words > NOTHING_ASKED_NAME_WORDS)
            return false;
        *named = *named && capitalised(w, n);
    }
    return words > 0;
}

const char *nothing_asked_reply(const struct intent *in, const char *text,
                                const struct intent *read)
{
    const cJSON *sec = section_of(in);
    const char *reply = catalog_reply_name(sec);
    bool named;
    if (!reply || !text)
        return NULL;
    if (only_particles(sec, text))
        return reply;
    if (!only_a_place(sec, text, &named))
        return NULL;
    if (!read || read->kind == INTENT_FALLBACK || (named && read->kind == INTENT_PROCEDURE))
        return reply;
    return NULL;
}

bool nothing_asked_names_template(const struct intent *in, const char *name)
{
    const char *reply = catalog_reply_name(section_of(in));
    return reply && strcmp(reply, name) == 0;
}

static int check_words(const cJSON *sec, const char *list, const char *file,
                       catalog_report_fn report, void *ud)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(sec, list), *e;
    char field[48];
    int problems = 0;
    snprintf(field, sizeof field, "%s.%s", NOTHING_ASKED_KEY, list);
    if (!cJSON_IsArray(arr)) {
        report(ud, file, field, "want an array of words");
        return 1;
    }
    cJSON_ArrayForEach(e, arr) {
        const char *at = cJSON_IsString(e) ? e->valuestring : "", *end = at + strlen(at);
        size_t n;
        if (!norm_next_word(&at, end, &n) || norm_next_word(&at, end, &n)) {
            report(ud, file, field, "every item must be one word");
            problems++;
        }
    }
    return problems;
}

int nothing_asked_check(const struct intent *in, const struct tpl_set *set,
                        catalog_report_fn report, void *ud)
{
    const cJSON *sec = in ? cJSON_GetObjectItemCaseSensitive(in->json, NOTHING_ASKED_KEY) : NULL;
    char file[80];
    if (!sec)
        return 0;
    snprintf(file, sizeof file, "%s.json", in->id);
    if (!cJSON_IsObject(sec)) {
        report(ud, file, NOTHING_ASKED_KEY, "want an object");
        return 1;
    }
    int problems = check_words(sec, "particles", file, report, ud) +
                   check_words(sec, "places", file, report, ud);
    const char *reply = catalog_reply_name(sec);
    if (!reply || !tpl_exists(set, reply)) {
        report(ud, file, NOTHING_ASKED_KEY ".reply", "names no existing template");
        problems++;
    }
    return problems;
}
