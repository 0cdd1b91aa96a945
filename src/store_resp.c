/* store_resp — Redis commands in RESP form, made without a printf per
 * argument, and the check of which commands the store refuses. See
 * include/dvcbot/store_resp.h. */
#include "dvcbot/store_resp.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/strfmt.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ===== Refused commands ===== */

static bool word_is(const char *p, size_t n, const char *word)
{
    return n == strlen(word) && strncasecmp(p, word, n) == 0;
}

/* Reads "<type><digits>\r\n" at *pos of a command hiredis formatted. */
static bool resp_number(const char *cmd, size_t len, size_t *pos, char type, size_t *out)
{
    size_t i = *pos, n = 0;

    if (i >= len || cmd[i] != type)
        return false;
    for (i++; i < len && cmd[i] >= '0' && cmd[i] <= '9'; i++) {
        n = n * 10 + (size_t)(cmd[i] - '0');
        if (n > len)
            return false;
    }
    if (len - i < 2 || cmd[i] != '\r' || cmd[i + 1] != '\n')
        return false;
    *pos = i + 2;
    *out = n;
    return true;
}

static bool resp_bulk(const char *cmd, size_t len, size_t *pos, const char **arg, size_t *alen)
{
    size_t n;

    if (!resp_number(cmd, len, pos, '$', &n) || len - *pos < n + 2)
        return false;
    *arg = cmd + *pos;
    *alen = n;
    *pos += n + 2;
    return true;
}

/* Commands that do not get exactly one reply each (pub/sub, MONITOR,
 * CLIENT REPLY, CLIENT TRACKING, an empty command), that change the protocol
 * hiredis 0.14 speaks (HELLO, SYNC) or that change the database the store
 * selected. hiredis 0.14 aborts (assert) on a reply that has no callback. */
struct word {
    const char *s;
    size_t n;
};
#define WORD(w) {w, sizeof w - 1}
static const struct word refused_cmds[] = {
    WORD("subscribe"),    WORD("psubscribe"), WORD("ssubscribe"), WORD("unsubscribe"),
    WORD("punsubscribe"), WORD("sunsubscribe"), WORD("monitor"),  WORD("hello"),
    WORD("sync"),         WORD("psync"),      WORD("select"),     WORD("reset"),
};
static const struct word refused_client_subcmds[] = {WORD("reply"), WORD("tracking")};

/* Whether p[0..n) is one of the words (any case); lengths first: every
 * command of a turn is checked against all of them. */
static bool word_in(const char *p, size_t n, const struct word *words, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        if (words[i].n == n && strncasecmp(p, words[i].s, n) == 0)
            return true;
    return false;
}

bool store_resp_refused(const char *cmd, size_t len)
{
    size_t pos = 0, argc, n0, n1;
    const char *a0, *a1;

    if (!resp_number(cmd, len, &pos, '*', &argc) || argc == 0 || !resp_bulk(cmd, len, &pos, &a0, &n0))
        return true;
    if (word_in(a0, n0, refused_cmds, sizeof refused_cmds / sizeof refused_cmds[0]))
        return true;
    if (!word_is(a0, n0, "client") || argc < 2 || !resp_bulk(cmd, len, &pos, &a1, &n1))
        return false;
    return word_in(a1, n1, refused_client_subcmds,
                   sizeof refused_client_subcmds / sizeof refused_client_subcmds[0]);
}

/* ===== Argument vectors ===== */

/* Writes n in decimal at p (room for 20 digits and a NUL); returns the end. */
static char *put_size(char *p, size_t n)
{
    if (n < 10) { /* most arguments and counts of a turn's commands */
        *p = (char)('0' + n);
        return p + 1;
    }
    if (n < 100) {
        p[0] = (char)('0' + n / 10);
        p[1] = (char)('0' + n % 10);
        return p + 2;
    }
    return p + str_udecimal(p, 21, n);
}

/* Bytes the RESP form of an argument vector takes at most (the lengths'
 * digits counted as 20); 0 when it would not fit in an int. */
static size_t resp_argv_room(int argc, const char **argv, const size_t *argvlen)
{
    size_t total = 1 + 20 + 2;
    for (int i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        total += 1 + 20 + 2 + n + 2;
    }
    return total > INT32_MAX ? 0 : total + 1;
}

/* Writes the RESP form at p (room from resp_argv_room), NUL-terminated;
 * returns its length. */
static int resp_argv_write(char *cmd, int argc, const char **argv, const size_t *argvlen)
{
    char *p = cmd;
    *p++ = '*';
    p = put_size(p, (size_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        *p++ = '$';
        p = put_size(p, n);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], n);
        p += n;
        *p++ = '\r';
        *p++ = '\n';
    }
    *p = '\0'; /* hiredis scans the command with strchr, as its own are NUL-terminated */
    return (int)(p - cmd);
}

/* The RESP form of an argument vector, in one allocation: what
 * redisFormatCommandArgv makes, without a printf per argument (the commands
 * of one message carry some forty arguments). */
/* Arguments of a vector without lengths are measured once here, not by
 * both resp_argv_room and resp_argv_write. */
#define MEASURED_MAX 64

static const size_t *measured(int argc, const char **argv, const size_t *argvlen,
                              size_t lens[MEASURED_MAX])
{
    if (argvlen || argc > MEASURED_MAX)
        return argvlen;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return lens;
}

char *store_resp_argv(int argc, const char **argv, const size_t *argvlen, int *out_len)
{
    size_t lens[MEASURED_MAX];
    argvlen = measured(argc, argv, argvlen, lens);
    size_t room = resp_argv_room(argc, argv, argvlen);
    if (!room)
        return NULL;
    char *cmd = xmalloc(room);
    *out_len = resp_argv_write(cmd, argc, argv, argvlen);
    return cmd;
}

int store_resp_argv_into(struct buf *b, int argc, const char **argv, const size_t *argvlen)
{
    size_t lens[MEASURED_MAX];
    argvlen = measured(argc, argv, argvlen, lens);
    size_t room = resp_argv_room(argc, argv, argvlen);
    if (!room)
        return -1;
    buf_reset(b);
    buf_reserve(b, room);
    b->len = (size_t)resp_argv_write(b->data, argc, argv, argvlen);
    return (int)b->len;
}

/* ===== hiredis format strings ===== */

/* Appends the decimal form of v (negative when neg) to b. */
static void put_number(struct buf *b, unsigned long long v, bool neg)
{
    if (neg)
        buf_putc(b, '-');
    buf_put_udecimal(b, v);
}

static void put_signed(struct buf *b, long long v)
{
    put_number(b, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0);
}

#define FMT_ARGS_MAX 64

/* hiredis's format language for the conversions dvcbot uses (%s %b %d %i
 * %u %ld %lu %lld %llu %zu %%), without a printf per argument: spaces
 * separate arguments, a conversion's text never splits one. Returns the
 * command, or NULL for anything else (then hiredis formats it). */
char *store_resp_format(const char *fmt, va_list ap, int *out_len)
{
    struct buf b;
    size_t starts[FMT_ARGS_MAX + 1];
    int argc = 0;
    bool touched = false;
    char *cmd = NULL;
    buf_init(&b);
    for (const char *p = fmt; *p; p++) {
        if (*p == ' ') {
            if (touched) {
                if (argc == FMT_ARGS_MAX)
                    goto out;
                buf_putc(&b, '\0');
                touched = false;
            }
            continue;
        }
        if (!touched) {
            starts[argc++] = b.len;
            touched = true;
        }
        if (*p != '%') {
            buf_putc(&b, *p);
            continue;
        }
        p++;
        if (*p == 's') {
            buf_puts(&b, va_arg(ap, const char *));
        } else if (*p == 'b') {
            const void *data = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            if (memchr(data, '\0', n))
                goto out; /* our arguments are NUL-separated below */
            buf_append(&b, data, n);
        } else if (*p == '%') {
            buf_putc(&b, '%');
        } else if (*p == 'd' || *p == 'i') {
            put_signed(&b, va_arg(ap, int));
        } else if (*p == 'u') {
            put_number(&b, va_arg(ap, unsigned), false);
        } else if (*p == 'z' && p[1] == 'u') {
            p++;
            put_number(&b, va_arg(ap, size_t), false);
        } else if (*p == 'l' && p[1] == 'l' && (p[2] == 'd' || p[2] == 'i' || p[2] == 'u')) {
            p += 2;
            if (*p == 'u')
                put_number(&b, va_arg(ap, unsigned long long), false);
            else
                put_signed(&b, va_arg(ap, long long));
        } else if (*p == 'l' && (p[1] == 'd' || p[1] == 'i' || p[1] == 'u')) {
            p++;
            if (*p == 'u')
                put_number(&b, va_arg(ap, unsigned long), false);
            else
                put_signed(&b, va_arg(ap, long));
        } else {
            goto out;
        }
    }
    if (argc == 0)
        goto out;
    buf_putc(&b, '\0');
    starts[argc] = b.len;
    const char *argv[FMT_ARGS_MAX];
    size_t lens[FMT_ARGS_MAX];
    for (int i = 0; i < argc; i++) {
        argv[i] = b.data + starts[i];
        lens[i] = starts[i + 1] - starts[i] - 1;
    }
    cmd = store_resp_argv(argc, argv, lens, out_len);
out:
    buf_free(&b);
    return cmd;
}
