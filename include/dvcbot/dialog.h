/* dialog — the conversation engine every channel shares.
 *
 * A channel hands over one struct bot_msg; the dialog answers with
 * bot_replies through the channel's callback. For each message it:
 *   1. queues it behind earlier messages of the same user (one user's
 *      messages are handled in order, different users concurrently);
 *   2. in one Redis round trip (the function dialog_mark and an MGET of
 *      the sessions; the loads of one loop turn share one call,
 *      dialog_mark_many_flat, and one MGET), drops a
 *      redelivered event (its id is marked in the user's index
 *      dd:{<user key>}, which erase-my-data deletes), renews the user's
 *      TTLs when due (the user record u:{<user key>}: hash ch, chat, seen =
 *      unix time of the last message to DIALOG_TTL_RENEW_S; refs:{}, the
 *      index, the session: at most every DIALOG_TTL_RENEW_S, each then set
 *      that much longer than its TTL) and loads the user's session
 *      s:{<user key>} (a JSON object). A web chat page load (/start) stores
 *      nothing: no mark, no user record;
 *   3. routes: a running mode (flow, lookup...) gets the message first;
 *      then buttons by payload, text by the matcher's intent;
 *   4. saves the session if it changed (SET with TTL) and calls back.
 * Without Redis it still answers what it can (procedure facts, menus) and
 * says politely when something needs the store; t->degraded tells handlers.
 *
 * Button payloads (<= 64 bytes ASCII): "menu", "menu:thu_tuc" (procedure
 * list), "i:<catalog id>" (as if the user asked about that id),
 * "flow:<procedure id>" (guided submission), and whatever prefixes modules
 * register with dialog_on_payload.
 *
 * An intent is answered, in this order, by the handler a module registered
 * for it (dialog_on_intent), by its procedure summary, or by the template its
 * intent file names ("reply", e.g. greeting for chao_hoi); otherwise with
 * DIALOG_NOT_UNDERSTOOD (dialog_serves says which; served.h lists the ids
 * answered by code so `dvcbot check` can refuse an id nobody answers).
 *
 * Extension: modules register handlers for intents, payload prefixes and
 * session modes at start-up, message filters that see every message first
 * (staff chats, a mode that must notice /start) and observers of matched
 * intents (statistics). A handler owns the turn until it calls
 * dialog_turn_done exactly once (now or after async work). Redis keys of a
 * user carry the hash tag "{<user key>}" so they live in one cluster slot.
 *
 * Ownership: dialog_handle takes the message; the callback gets it and the
 * replies for the duration of the call only. */
#ifndef DVCBOT_DIALOG_H
#define DVCBOT_DIALOG_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/matcher.h"
#include "dvcbot/msg.h"
#include "dvcbot/outbox.h"
#include "dvcbot/outbox_store.h"
#include "dvcbot/recipient.h"
#include "dvcbot/store.h"
#include "dvcbot/tpl.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <uv.h>

#define DIALOG_USER_KEY_MAX (BOT_ID_MAX + 8)
/* The template of "I did not understand", for an intent nobody answers. */
#define DIALOG_NOT_UNDERSTOOD "unknown"
/* A button "r:help_<name>" shows the screen templates/help_<name>.txt
 * (help screens are data: no variables, their own buttons lead on). */
#define DIALOG_SCREEN_PAYLOAD "r:"
#define DIALOG_SCREEN_PREFIX "help_"
/* Session field: the payloads of the last answer's buttons while no mode
 * runs (or where the mode asked for it, dialog_turn_keep_buttons), so "2"
 * typed next presses the second (at most DIALOG_BUTTONS_KEPT); only in a
 * session that holds something else, or under the greeting and the main
 * menu (a one-off question and a web chat page load store nothing). */
#define DIALOG_BUTTONS_KEY "nb"
/* The template of /start and "xin chào". */
#define DIALOG_GREETING "greeting"
#define DIALOG_BUTTONS_KEPT 12
/* Messages of one user waiting at most; more are dropped (flood guard). */
#define DIALOG_USER_QUEUE_MAX 32
/* A user's keys that live so long after the last message (record, refs:{},
 * index, session) get their TTLs renewed at most this often, each set this
 * much longer than its setting (redis/dvcbot.lua, "A user's TTLs"). */
#define DIALOG_TTL_RENEW_S 3600

struct dialog;

struct dialog_deps {
    uv_loop_t *loop;
    struct store *store;            /* may be disconnected at any time */
    const struct catalog *catalog;
    const struct matcher *matcher;
    const struct tpl_set *tpl;
    const struct config *cfg;
    struct outbox *outbox;          /* for messages to other chats (staff, notifications) */
    struct outbox_store *obstore;   /* durable replies (dialog_handle_stored); may be NULL */
    struct recipients *recipients;  /* for messages to another user (recipient.h) */
};

/* One message being handled. Handlers read and change these fields. */
struct dialog_turn {
    struct dialog *dialog;
    const struct dialog_deps *deps;
    struct bot_msg *msg;
    char user_key[DIALOG_USER_KEY_MAX]; /* "tg:123": identity across dvcbot */
    cJSON *session;                 /* the user's session object; saved at done */
    struct bot_replies replies;     /* what the user will receive */
    bool degraded;                  /* Redis unavailable for this turn */
    bool erase_session;             /* delete the session instead of saving it */
    const char *arg;                /* payload handlers: text after the prefix */
    struct match_result match;      /* intent handlers: how the text matched */
    char *line;                     /* the text as the matcher read it (folded,
                                       rewritten), NULL before dialog_turn_classify
                                       or when rejected; the turn owns it */
    /* Internal. */
    struct turn_internal *in;
};

/* Classifies the message's text into t->match and keeps the line as read
 * in t->line, once per turn: a later call (routing after a mode declined
 * the line) keeps what the first found, handlers' changes to t->match
 * included. The text must be set. */
void dialog_turn_classify(struct dialog_turn *t);

typedef void (*dialog_reply_cb)(const struct bot_msg *msg, const struct bot_replies *replies, void *ud);
/* Must call dialog_turn_done(t) exactly once. */
typedef void (*dialog_action_fn)(struct dialog_turn *t, void *ud);
/* Returns false (without calling done) to decline the message, which is then
 * routed normally; returns true when it took the turn (and will call done). */
typedef bool (*dialog_mode_fn)(struct dialog_turn *t, void *ud);

struct dialog *dialog_new(const struct dialog_deps *deps);
/* Call once dialog_pending() is 0. */
void dialog_free(struct dialog *d);
const struct dialog_deps *dialog_deps(const struct dialog *d);

/* Takes msg. Returns 0; cb is called exactly once, with an empty reply list
 * for a redelivered event. */
int dialog_handle(struct dialog *d, struct bot_msg *msg, dialog_reply_cb cb, void *ud);
/* Messages queued or being handled. */
size_t dialog_pending(const struct dialog *d);

/* True when the messages in hand (dialog_pending) plus the outbox's
 * backlog reach DVCBOT_MAX_BACKLOG: a webhook then refuses new work (503,
 * the channel redelivers later), which keeps memory bounded whatever the
 * load. */
bool dialog_full(const struct dialog *d);

/* Past the bound (dialog_full) a webhook still acknowledges a redelivery
 * of an event already stored: it is no new work. Asks Redis, reading only,
 * whether the event of msg is done (its mark in the user's index dd:{<user>}
 * says so: its turn, replies included, was committed) and, with want_kept,
 * for the reply kept for a webhook response ("Handed replies" below). Takes
 * msg. cb(msg, done, kept, ud) is called exactly once (done false also
 * without an answer, and for an event in hand or a mark of before the index:
 * the channel sends it again); kept, or NULL, is valid during cb. Returns 0,
 * or -1 (no event id, Redis not connected: cb never, msg not taken). */
typedef void (*dialog_stored_check_cb)(const struct bot_msg *msg, bool done, const struct bot_reply *kept,
                                       void *ud);
int dialog_check_stored(struct dialog *d, struct bot_msg *msg, bool want_kept, dialog_stored_check_cb cb,
                        void *ud);

/* What became of a message handed over with dialog_handle_stored. */
enum dialog_stored {
    DIALOG_STORED,     /* replies (if any) and session written to Redis together, then queued */
    DIALOG_DUPLICATE,  /* the event was handled before: nothing done */
    DIALOG_IN_HAND,    /* the event is being handled (or its handler died): retry later */
    DIALOG_IN_MEMORY,  /* without Redis (or its write failed): replies queued in memory only */
    DIALOG_REFUSED,    /* too many messages of this user waiting: not handled */
};
typedef void (*dialog_stored_cb)(const struct bot_msg *msg, enum dialog_stored outcome, void *ud);
/* For webhooks that answer only once the message is safe: like
 * dialog_handle, but the replies go to msg->chat through the outbox as
 * durable messages (outbox_store_commit: the session, the event id and the
 * replies in one script), quoting quote_ref (NULL: none). The event id is
 * only marked seen by that write, so a message lost before it is handled
 * again when the channel redelivers it. cb is called exactly once, after
 * the replies are queued. */
int dialog_handle_stored(struct dialog *d, struct bot_msg *msg, const char *quote_ref,
                         dialog_stored_cb cb, void *ud);

/* Handed replies: for a channel whose webhook response can carry one reply
 * (Telegram: a Bot API call in the 200), as dialog_handle_stored, plus:
 *   - before the commit, may(msg, replies, ud) says whether the first reply
 *     may ride in the response (the channel knows: its size, the chat's
 *     queue, a block). If it may, the commit keeps it for keep_s seconds
 *     under the event (outbox_store.h, "Handed replies") instead of queueing
 *     it, unless one of the user's earlier replies may still be unsent; the
 *     others are queued after it as usual;
 *   - done(msg, outcome, handed, ud) is called exactly once, as the stored
 *     callback, with handed = the kept reply (the caller must now put it in
 *     the response) or NULL;
 *   - a redelivered event whose reply was kept (DIALOG_DUPLICATE) reads it
 *     back and gets it again as handed: a response lost on the way, or a
 *     process killed after the commit and before the response, leaves the
 *     webhook unacknowledged, the channel sends it again and the reply goes
 *     with that answer. At least once: a response that did arrive but whose
 *     webhook is sent again anyway (slow answer) repeats the reply, and the
 *     first reply repeated after a lost response comes after the others.
 * h must live until done; ud is passed to both. */
struct dialog_hand {
    bool (*may)(const struct bot_msg *msg, const struct bot_replies *replies, void *ud);
    void (*done)(const struct bot_msg *msg, enum dialog_stored outcome, const struct bot_reply *handed,
                 void *ud);
    unsigned keep_s;
};
int dialog_handle_handed(struct dialog *d, struct bot_msg *msg, const struct dialog_hand *h, void *ud);

void dialog_on_intent(struct dialog *d, const char *intent_id, dialog_action_fn fn, void *ud);
void dialog_on_payload(struct dialog *d, const char *prefix, dialog_action_fn fn, void *ud);
void dialog_on_mode(struct dialog *d, const char *mode, dialog_mode_fn fn, void *ud);
/* Sees every message before any built-in routing (even /start and the
 * session's mode), in registration order, e.g. staff commands from a staff
 * chat or a mode that must notice /start. Returns true when it took the turn. */
void dialog_on_message(struct dialog *d, dialog_mode_fn fn, void *ud);
/* Sees every typed message once the matcher has classified it (t->match
 * is set), after the session's mode declined it and before the intent is
 * answered, in registration order (follow-up questions about the
 * conversation's procedure). Returns true when it took the turn. */
void dialog_on_text(struct dialog *d, dialog_mode_fn fn, void *ud);
/* Told the intent of every typed message once the matcher has classified it
 * (t->match is set); must not touch the turn's routing. */
typedef void (*dialog_observe_fn)(const struct dialog_turn *t, void *ud);
void dialog_on_matched(struct dialog *d, dialog_observe_fn fn, void *ud);

/* True when intent in gets a real answer: a registered handler, its
 * procedure facts, or its "reply" template (which must exist). */
bool dialog_serves(const struct dialog *d, const struct intent *in);
/* True when a module registered a handler for intent_id. */
bool dialog_has_intent_handler(const struct dialog *d, const char *intent_id);
/* True when name is a help screen a button may show (DIALOG_SCREEN_PREFIX). */
bool dialog_is_screen(const char *name);

/* True for a follow/first contact or a typed /start, "/start <x>", /menu:
 * what the dialog greets, leaving any mode. */
bool dialog_is_start(const struct bot_msg *m);
/* The number a text is alone ("2", " 2. "): digits from 1..9 first, spaces
 * around, dots after; 0 when the text is anything else. How a typed button
 * number is told. */
long dialog_typed_number(const char *text);
/* The turn's text a number typed alone under the last answer's kept
 * buttons (DIALOG_BUTTONS_KEY): the message becomes that button (kind
 * BOT_MSG_BUTTON) and true; false, nothing changed, otherwise. */
bool dialog_turn_press_typed(struct dialog_turn *t);
/* This answer's buttons are kept for a number typed next even though a
 * mode runs: an offer whose buttons are not the mode's answers (a flow's
 * "tiếp tục hồ sơ cũ / làm việc mới", where "1" is no answer to its step). */
void dialog_turn_keep_buttons(struct dialog_turn *t);

/* ===== For handlers ===== */
void dialog_turn_done(struct dialog_turn *t);
/* Renders a template into the turn's replies (see tpl_render). */
struct bot_reply *dialog_turn_render(struct dialog_turn *t, const char *name,
                                     const struct tpl_var *vars, size_t nvars);
/* The session's current mode, or NULL. */
const char *dialog_turn_mode(const struct dialog_turn *t);
/* Sets (or, with NULL, clears) the session's mode. */
void dialog_turn_set_mode(struct dialog_turn *t, const char *mode);
/* Routes the turn as if the user had asked for intent_id (used by buttons
 * "i:<id>" and by modes that hand a message back). Calls done itself. */
void dialog_turn_route_intent(struct dialog_turn *t, const char *intent_id);
/* Routes the turn as if the user had pressed a button with this payload
 * (a flow hands its dossier code to the lookup as "hs:sub:<code>"). Returns
 * true when a handler took it (it calls done); false, without calling done,
 * when nothing handles that payload. */
bool dialog_turn_route_payload(struct dialog_turn *t, const char *payload);
/* Routes the turn as if it had just arrived, without the message filters:
 * for a mode handler that took a turn, found out (asynchronously) that it
 * should not keep it and cleared its mode. Calls done itself. */
void dialog_turn_reroute(struct dialog_turn *t);
/* The built-in replies, for handlers that need them. */
void dialog_reply_menu(struct dialog_turn *t);
void dialog_reply_busy_store(struct dialog_turn *t);
/* Renders one template and finishes the turn. */
void dialog_turn_reply(struct dialog_turn *t, const char *name, const struct tpl_var *vars,
                       size_t nvars);
/* For handlers that need Redis: on a degraded turn, replies busy_store,
 * finishes the turn and returns true (the handler just returns). */
bool dialog_turn_refuse_degraded(struct dialog_turn *t);

/* "<prefix>{<user key>}<suffix>" into out, e.g. ("s:", "") → "s:{tg:1}". */
void dialog_user_redis_key(char *out, size_t len, const char *prefix, const char *user_key,
                           const char *suffix);

#endif
