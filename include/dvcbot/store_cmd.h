/* store_cmd — the commands in flight on the store's connection.
 *
 * It implements store.h's store_commandv, store_command, store_command_argv
 * and store_multi (their contract is there) and keeps what they sent until
 * the reply: one record per command (struct store_cmd, store_internal.h),
 * held by hiredis as privdata and freed only when hiredis is done with it (a
 * reply, or NULL while its context is freed), even when its caller was
 * already told (deadline passed, store_close). The store counts the records
 * (live_cmds) and is not freed while any is left.
 *
 * The caller of a command is owed exactly one call while the command is
 * pending: pending commands are listed oldest first, so by deadline, and one
 * timer (the store's cmd_timer) fires at the oldest deadline; a command past
 * it drops the connection (the server is presumably hung).
 *
 * A formatted command is freed by its sender as its owner says: hiredis's
 * formatter, ours (store_resp.c), or the store's kept formatting space. */
#ifndef DVCBOT_STORE_CMD_H
#define DVCBOT_STORE_CMD_H

#include "dvcbot/store.h"

/* Calls every pending command's callback with NULL (store_close); the
 * callbacks may add commands or close. The records stay with hiredis. */
void store_cmd_fail_all(struct store *s);

#endif
