/* reminder — dossier reminders in `dvcbot serve`: tells the subscribers of
 * a dossier (sub:<CODE>) when something waits on them — documents missing
 * (can_bo_sung), a fee to pay (cho_thanh_toan), or the dossier is past its
 * due date without a result. When is decided by reminder_rules.
 *
 * Redis:
 *   remind:due       sorted set: dossier code → unix s when to look at it
 *                    next. The upsert script (dossier.c) adds a code scored
 *                    "now" when a dossier is created or its status or
 *                    due_at changes, and takes finished ones out; this
 *                    module reschedules or removes it after each look.
 *   dossier:<CODE>   status_at (by the upsert script) and, written here:
 *                    remind_at (the status_at that remind_n counts for),
 *                    remind_n, remind_last (unix s), late_for (the due_at
 *                    the late notice was sent for).
 *
 * Every DVCBOT_REMIND_TICK_MS (the app's cron calls reminder_tick; at once
 * again after a full batch) one script
 * takes up to REMINDER_BATCH due codes and re-scores them to now +
 * REMINDER_LEASE_S, so no other process takes them meanwhile. For each code
 * the dossier and its subscribers are read, the plan is made, and a second
 * script stores the new state and the next time — only if the code still
 * carries this lease and the dossier its status (an upsert in between wins,
 * and the code is looked at again). Only then are the messages queued, as
 * OUTBOX_BULK (behind replies), to the subscribers of that moment: at most
 * once, so a crash between the two loses a reminder rather than sending it
 * twice; a code taken and not finished comes back when its lease ends.
 * Each subscriber goes through recipient.h, which skips those the channel
 * would refuse (a Zalo user past the 7-day window, or gone).
 *
 * Metrics: dvcbot_reminders_total{kind} (dossiers reminded),
 * dvcbot_reminder_messages_total{kind,result} (sent, failed, blocked,
 * skipped).
 *
 * Lifetime: reminder_stop stops taking new work (what was taken finishes);
 * reminder_busy says whether Redis commands are still out. reminder_close
 * frees the struct once every Redis and outbox callback has come back (after store_close and outbox_close they all
 * have); nothing is sent after it. */
#ifndef DVCBOT_REMINDER_H
#define DVCBOT_REMINDER_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/outbox.h"
#include "dvcbot/recipient.h"
#include "dvcbot/store.h"
#include "dvcbot/tpl.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define REMINDER_BATCH 100
#define REMINDER_LEASE_S 120
#define REMINDER_BULK_ROOM 256    /* bulk messages queued in the outbox above which no batch is taken */

struct reminder;

struct reminder_deps {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *store;
    struct outbox *outbox;
    struct recipients *recipients;
    const struct tpl_set *tpl;
    const struct catalog *catalog;
};

struct reminder *reminder_new(const struct reminder_deps *deps);
/* Starts (stops) taking due dossiers on ticks. */
void reminder_start(struct reminder *r);
void reminder_stop(struct reminder *r);
/* The cron's call, every DVCBOT_REMIND_TICK_MS: takes a batch of due
 * dossiers unless one is being worked on or the outbox is full. */
void reminder_tick(struct reminder *r, int64_t now);
bool reminder_busy(const struct reminder *r);
void reminder_close(struct reminder *r);

#endif
