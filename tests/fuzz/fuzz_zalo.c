/* fuzz_zalo — a Zalo OA event the way zalo_handle_webhook reads it: the
 * body's timestamp, the X-ZEvent-Signature check, then the event into a
 * struct bot_msg, whose text goes through the Zalo renderer and the step
 * planner as a reply would; the same bytes as an OA API answer.
 *
 * Input: one mode byte, then the body. Mode bit 0 set: the body's first
 * line is the signature header and the rest the body (forgeries); clear:
 * the harness signs the body correctly (so the parser behind the check is
 * reached), and bit 1 then flips one hex digit of the signature.
 *
 * Properties: a forged or altered signature never passes; ids are
 * NUL-terminated in their fields; rendered messages are valid JSON; the
 * step planner ends and covers the text. */
#include "fuzz.h"
#include "dvcbot/mem.h"
#include "dvcbot/msg.h"
#include "dvcbot/zalo.h"

#include <stdlib.h>
#include <string.h>

static const char APP_ID[] = "2574412395581063712";
static const char SECRET[] = "fuzz-oa-secret-key";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

static void render(const struct bot_msg *m)
{
    size_t len = strlen(m->text);
    struct bot_button buttons[7];
    for (size_t i = 0; i < 7; i++) {
        buttons[i].label = i % 2 ? m->text : (char *)"Tra cứu hồ sơ";
        buttons[i].payload = i % 3 ? (char *)m->reply_ref : (char *)"i:tra_cuu_ho_so";
    }
    for (size_t n = 0; n <= 7; n += 7) {
        unsigned part = 0;
        for (int steps = 0;; steps++) {
            struct zalo_step st;
            zalo_plan_step(m->text, n, part, &st);
            if (st.text_off > len || st.text_len > len - st.text_off || st.btn_from > st.btn_to ||
                st.btn_to > n)
                fuzz_fail("step outside the text or the buttons");
            char *body = zalo_render_message(m->user, m->text + st.text_off, st.text_len,
                                             buttons + st.btn_from, st.btn_to - st.btn_from,
                                             m->reply_ref);
            fuzz_check_json(body);
            free(body);
            if (st.last)
                break;
            if (st.next_part <= part || steps > (int)len + 16)
                fuzz_fail("step planner does not advance");
            part = st.next_part;
        }
    }
}

static void parse(const char *body, size_t len)
{
    struct bot_msg *m = NULL;
    char user[BOT_ID_MAX];
    enum zalo_parse p = zalo_parse_event(body, len, &m, user);
    fuzz_check_id(user);
    if (p == ZL_PARSE_MSG) {
        if (!m || !m->text)
            fuzz_fail("parsed event without a message");
        fuzz_check_id(m->user);
        fuzz_check_id(m->chat);
        fuzz_check_id(m->event_id);
        fuzz_check_id(m->reply_ref);
        if (!m->user[0] || !m->event_id[0])
            fuzz_fail("parsed event without sender or event id");
        render(m);
        bot_msg_free(m);
    } else if (m) {
        fuzz_fail("message returned with a refusal");
    } else if (p == ZL_PARSE_UNFOLLOW && !user[0]) {
        fuzz_fail("unfollow without a user");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    char *rest = fuzz_cstr(data + 1, size - 1);
    const char *body = rest;
    size_t len = size - 1;
    char header[ZALO_MAC_MAX + 64] = "";
    bool forged = mode & 1;
    if (forged) {
        char *nl = memchr(rest, '\n', len);
        size_t hlen = nl ? (size_t)(nl - rest) : len;
        if (hlen >= sizeof header)
            hlen = sizeof header - 1;
        memcpy(header, rest, hlen);
        header[hlen] = '\0';
        body = nl ? nl + 1 : rest + len;
        len -= (size_t)(body - rest);
    }
    char ts[ZALO_TIMESTAMP_MAX];
    if (zalo_event_timestamp(body, len, ts)) {
        if (!memchr(ts, '\0', sizeof ts))
            fuzz_fail("timestamp not terminated");
        if (!forged) {
            zalo_signature(APP_ID, body, len, ts, SECRET, header);
            if (mode & 2) {
                size_t at = 4 + (mode >> 2) % (ZALO_MAC_MAX - 5);
                header[at] = header[at] == '0' ? '1' : '0';
            }
        }
        bool valid = zalo_signature_valid(APP_ID, SECRET, body, len, ts, header);
        char want[ZALO_MAC_MAX];
        zalo_signature(APP_ID, body, len, ts, SECRET, want);
        if (valid != (strcmp(header, want) == 0))
            fuzz_fail("signature check disagrees with the signature");
        if (valid)
            parse(body, len);
    }
    int code = 0;
    zalo_classify(200, rest, &code);
    zalo_classify(500, rest, &code);
    free(rest);
    return 0;
}
