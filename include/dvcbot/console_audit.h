/* console_audit — the staff console's sign-in trail, for province staff.
 *
 * Every sign-in and sign-out, and every desk-side erasure (erase_desk,
 * with the resident as a hash), is an event at the head of the Redis list
 * console:audit (the newest CONSOLE_AUDIT_KEEP are kept): when (unix s),
 * what ("sign_in", "sign_out"), the token's id
 * (the first 12 hex digits of its SHA-256 fingerprint, as settled_by in
 * payments; never the token), its label (the commune it is limited to, ""
 * for the whole province) and where from, masked (netaddr_mask): an IPv4
 * address without its last number ("203.0.113.*"), an IPv6 one as its /48
 * ("2001:db8:0:*").
 * A refused sign-in is only counted, per Vietnam day and masked address, in
 * the hash console:audit:failed:<yyyymmdd> (CONSOLE_AUDIT_DAYS days, at most
 * CONSOLE_AUDIT_ADDRS addresses a day, the rest under "*"): what was typed
 * is never stored, and a flood of wrong tries cannot push the sign-ins out
 * of the list.
 *
 *   GET /admin/ui/audit   {"events":[{"at","event","token","label","from"}
 *                         ...newest first], "failed":[{"day","from",
 *                         "count"}...] of the last CONSOLE_AUDIT_DAYS_SHOWN
 *                         days}; a sign-in limited to a commune gets 403
 *                         (the trail is the province's)
 *
 * Writes are fire and forget (store_fire.h); nothing here blocks. */
#ifndef DVCBOT_CONSOLE_AUDIT_H
#define DVCBOT_CONSOLE_AUDIT_H

#include "dvcbot/admin_auth.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/store.h"

#define CONSOLE_AUDIT_KEY "console:audit"
#define CONSOLE_AUDIT_FAILED_PREFIX "console:audit:failed:"
#define CONSOLE_AUDIT_KEEP 1000
#define CONSOLE_AUDIT_DAYS 30
#define CONSOLE_AUDIT_ADDRS 200
#define CONSOLE_AUDIT_SHOWN 200   /* events the page gets */
#define CONSOLE_AUDIT_DAYS_SHOWN 7
#define CONSOLE_AUDIT_TOKEN_ID 12 /* hex digits of the fingerprint shown */
#define CONSOLE_AUDIT_USER_ID 12  /* hex digits of a user key's SHA-256 */

/* An event of who from the limit group addr (console_client_addr; "" when
 * not known). */
void console_audit_event(struct store *store, const char *event, const struct admin_principal *who,
                         const char *addr);
/* The same for an act on one resident's data ("erase_desk"): the event
 * also names the user by CONSOLE_AUDIT_USER_ID hex digits of the SHA-256 of
 * their user key ("user"), never the key itself. */
void console_audit_event_about(struct store *store, const char *event, const struct admin_principal *who,
                               const char *addr, const char *user_key);
/* Counts a refused sign-in from addr. */
void console_audit_failed(struct store *store, const char *addr);

void console_audit_routes(struct router *ui, struct console_ctx *ctx);

#endif
