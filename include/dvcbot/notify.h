/* notify — messages dvcbot sends on its own to one user: a followed
 * dossier changed status, a payment went through.
 *
 * Status changes arrive through the Redis list dossier:changes (entries
 * "<CODE> <new status>", appended by the upsert script whoever stored the
 * dossier: the admin API or `dvcbot import`). While started, the notifier
 * pops it every NOTIFY_POLL_MS (and at once after notify_kick), settles the
 * follows that waited for the dossier (lookup_guard.h: a new dossier with
 * some is put in the list too), reads the dossier and its subscribers
 * sub:<CODE>, and sends each subscriber the
 * dossier_changed notice. An entry whose status was overtaken by a later
 * change is skipped (the later entry notifies). Several dvcbot processes may
 * run: LPOP hands each entry to one of them.
 *
 * notify_user sends through recipient.h (the user record decides whether
 * and where), with reply priority; dvcbot_notifications_total counts the
 * verdicts.
 *
 * Lifetime: notify_free may be called with work in flight; the struct goes
 * once every Redis callback has come back (after
 * store_close they all have). Nothing is sent after notify_free. */
#ifndef DVCBOT_NOTIFY_H
#define DVCBOT_NOTIFY_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/msg.h"
#include "dvcbot/outbox.h"
#include "dvcbot/recipient.h"
#include "dvcbot/store.h"
#include "dvcbot/tpl.h"

#include <stdint.h>
#include <uv.h>

#define NOTIFY_POLL_MS 200
#define NOTIFY_BATCH 100

struct notify;

struct notify_deps {
    uv_loop_t *loop;
    struct store *store;
    struct outbox *outbox;
    struct recipients *recipients;
    const struct tpl_set *tpl;
    const struct catalog *catalog;
    const struct config *cfg;   /* the lookup limits a settled follow counts against */
};

struct notify *notify_new(const struct notify_deps *deps);
/* Starts draining dossier:changes on ticks (only `dvcbot serve` does). */
void notify_start(struct notify *n);
/* Stops draining (graceful shutdown); what is in flight still goes out. */
void notify_stop(struct notify *n);
/* The cron's call: drains dossier:changes while started. */
void notify_tick(struct notify *n, int64_t now);
/* Drains now instead of at the next tick. */
void notify_kick(struct notify *n);
/* Sends a copy of reply to the user. Returns 0, or -1 when Redis is
 * unavailable or user_key is not one (nothing is sent then). */
int notify_user(struct notify *n, const char *user_key, const struct bot_reply *reply);
/* The same for the template name rendered with vars (the notifier's
 * templates); -1 also when there is no such template (logged). */
int notify_user_tpl(struct notify *n, const char *user_key, const char *name,
                    const struct tpl_var *vars, size_t n_vars);
void notify_free(struct notify *n);

#endif
