/* outside — questions another office answers (see outside.h). */
#include "dvcbot/outside.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *topics_of(const struct intent *in)
{
    const cJSON *t = in ? cJSON_GetObjectItemCaseSensitive(in->json, OUTSIDE_KEY) : NULL;
    return cJSON_IsArray(t) ? t : NULL;
}

static bool names_topic(const cJSON *topic, const char *line, size_t len)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(topic, "phrases"))
        if (cJSON_IsString(p) && *p->valuestring &&
            norm_has_words(line, len, p->valuestring, strlen(p->valuestring)))
            return true;
    return false;
}

const char *outside_reply(const struct intent *in, const char *line)
{
    const cJSON *topic;
    if (!line)
        return NULL;
    size_t len = strlen(line);
    cJSON_ArrayForEach(topic, topics_of(in)) {
        const char *reply = catalog_reply_name(topic);
        if (reply && names_topic(topic, line, len))
            return reply;
    }
    return NULL;
}

bool outside_names_template(const struct intent *in, const char *name)
{
    const cJSON *topic;
    cJSON_ArrayForEach(topic, topics_of(in)) {
        const char *reply = catalog_reply_name(topic);
        if (reply && strcmp(reply, name) == 0)
            return true;
    }
    return false;
}

/* Lower case without diacritics, one space between words: what it folds to. */
static bool is_folded(const char *s)
{
    char *f = norm_fold(s, strlen(s), NULL);
    bool ok = f && *f && strcmp(f, s) == 0;
    free(f);
    return ok;
}

static int check_topic(const struct intent *in, const cJSON *topic, size_t i,
                       const struct tpl_set *set, catalog_report_fn report, void *ud)
{
    char file[80], field[48];
    int problems = 0;
    snprintf(file, sizeof file, "%s.json", in->id);
    snprintf(field, sizeof field, "%s[%zu]", OUTSIDE_KEY, i);
    const cJSON *phrases = cJSON_GetObjectItemCaseSensitive(topic, "phrases"), *p;
    if (!cJSON_IsArray(phrases) || !cJSON_GetArraySize(phrases)) {
        report(ud, file, field, "\"phrases\": want a non-empty array");
        problems++;
    }
    cJSON_ArrayForEach(p, phrases) {
        if (cJSON_IsString(p) && is_folded(p->valuestring))
            continue;
        report(ud, file, field, "a phrase must be lower case without diacritics");
        problems++;
    }
    const char *reply = catalog_reply_name(topic);
    if (!reply || !tpl_exists(set, reply)) {
        report(ud, file, field, "\"reply\" names no existing template");
        problems++;
    }
    return problems;
}

int outside_check(const struct intent *in, const struct tpl_set *set, catalog_report_fn report,
                  void *ud)
{
    const cJSON *all = in ? cJSON_GetObjectItemCaseSensitive(in->json, OUTSIDE_KEY) : NULL;
    if (!all)
        return 0;
    if (!cJSON_IsArray(all)) {
        char file[80];
        snprintf(file, sizeof file, "%s.json", in->id);
        report(ud, file, OUTSIDE_KEY, "want an array of topics");
        return 1;
    }
    int problems = 0;
    size_t i = 0;
    const cJSON *topic;
    cJSON_ArrayForEach(topic, all)
        problems += check_topic(in, topic, i++, set, report, ud);
    return problems;
}
