/* handoff — intent gap_can_bo: a user is handed to staff, who answer through
 * the bot.
 *
 * Opening a ticket: INCR tickets:seq gives its number n; the set ticket:<n>
 * holds the user key (and refs:{<user key>} lists it, so erase-my-data
 * removes the user; a set left empty disappears); the user's hash
 * ho:{<user key>} holds ticket and opened_at; the session's mode is
 * "handoff". Every staff chat of DVCBOT_STAFF_CHATS (Telegram chat ids) gets
 * the user's question, the channel and the procedure of a flow in progress.
 *
 * While the ticket is open the user's messages are forwarded to the staff
 * chats instead of being answered (the first one is acknowledged); "ho:end"
 * lets the user close it. Messages from a staff chat never reach the citizen
 * dialog: "/reply <n> <text>" sends text to the user through the outbox on
 * their channel (ch, chat from u:{<user key>}), "/close <n>" closes the
 * ticket and tells the user; other "/..." lines get the staff help, plain
 * chatter is ignored. When the user's next message finds ho:{} gone, the mode
 * ends and the message is answered as usual.
 *
 * handoff_new registers the handlers and copies the staff chat list; async
 * steps carry their turn (or nothing) and never outlive the dialog. */
#ifndef DVCBOT_HANDOFF_H
#define DVCBOT_HANDOFF_H

#include "dvcbot/dialog.h"
#include "dvcbot/flow.h"
#include "dvcbot/stats.h"

#define HANDOFF_MAX_STAFF_CHATS 16
#define HANDOFF_MODE "handoff"

struct handoff;

struct handoff *handoff_new(struct dialog *d, const struct config *cfg, struct stats *st,
                            const struct flows *flows);
void handoff_free(struct handoff *h);

#define HANDOFF_TICKET_MAX 999999999999L /* larger numbers are no ticket (INCR tickets:seq) */

/* Parses "<n> <text>" after /reply or "<n>" after /close: returns the ticket
 * number (1..HANDOFF_TICKET_MAX) and points *text at the rest (may be ""), or
 * 0 when malformed or out of range. */
long handoff_parse_ticket(const char *args, const char **text);

#endif
