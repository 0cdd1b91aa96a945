/* dialog_internal — what dialog.c (queues, loading, saving, built-in
 * replies, registration) and dialog_route.c (routing a turn to its handler)
 * share. Not for other modules: they use dialog.h. */
#ifndef DVCBOT_DIALOG_INTERNAL_H
#define DVCBOT_DIALOG_INTERNAL_H

#include "dvcbot/dialog.h"
#include "dvcbot/fcall_group.h"
#include "dvcbot/strmap.h"

#include <stdint.h>

struct handler {
    char *key;
    dialog_action_fn action;
    dialog_mode_fn mode;
    dialog_observe_fn observe;
    void *ud;
};

struct dialog {
    struct dialog_deps deps;
    struct strmap users;       /* user key → struct user_queue */
    struct strmap intents;     /* intent id → struct handler */
    struct strmap modes;       /* mode name → struct handler */
    struct handler *payloads;  /* prefix handlers, checked in order */
    size_t n_payloads;
    struct handler *filters;   /* dialog_on_message, in order */
    size_t n_filters;
    struct handler *observers; /* dialog_on_matched */
    size_t n_observers;
    struct handler *readers;   /* dialog_on_text, in order */
    size_t n_readers;
    size_t pending;
    struct fcall_group *loads; /* the loads of a loop turn in one call */
    struct store_deferred read_sessions; /* their sessions: one MGET after it */
    struct dialog_turn **reading; /* the turns whose session the next MGET reads */
    size_t n_reading, cap_reading;
    unsigned n_loads;          /* for DEDUPE_TRIM_EVERY */
};

struct turn_internal {
    struct dialog_turn *next;  /* next message of the same user */
    dialog_reply_cb cb;
    dialog_stored_cb stored_cb; /* dialog_handle_stored: instead of cb */
    const struct dialog_hand *hand; /* dialog_handle_handed: instead of both */
    const struct bot_reply *handed; /* the reply kept for the channel to hand over */
    void *ud;
    enum dialog_stored outcome;
    char quote[BOT_ID_MAX];
    struct outbox_commit commit;
    char *session_json;        /* what the commit writes */
    char dedupe_key[192];
    char skey[128];
    char *loaded;              /* session JSON as loaded, to skip unchanged saves */
    uint64_t start_ns;
    bool duplicate;
    bool done;
    unsigned char load_waiting; /* replies of the load not yet in: mark, session */
    bool said_busy;            /* busy_store already told the user about Redis */
    bool classified;           /* t->match and t->line are the text's */
    bool menu_shown;           /* the greeting or the main menu: its buttons are
                                  remembered even in a session kept for nothing else */
    bool keep_buttons;         /* dialog_turn_keep_buttons: remembered in a mode too */
};

/* Renders the greeting (DIALOG_GREETING) and notes that the main menu's
 * buttons were shown (remember_buttons keeps them for a typed number), except
 * for a web chat page load, which stores nothing. */
void dialog_turn_greet(struct dialog_turn *t);

/* ===== dialog_route.c ===== */

/* Routes a loaded turn: the message filters (dialog_on_message) first,
 * then dialog_turn_reroute. Some handler calls dialog_turn_done. */
void dialog_route_turn(struct dialog_turn *t);

#endif
