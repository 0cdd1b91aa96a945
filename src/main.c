/* main — dispatch to a subcommand. */
#include "dvcbot/commands.h"
#include "dvcbot/json_arena.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"serve", cmd_serve, "run the service (webhooks, web chat, admin API)"},
    {"chat", cmd_chat, "talk to the dialog engine in this terminal"},
    {"classify", cmd_classify, "read lines on stdin, print <intent id>\\t<score>"},
    {"check", cmd_check, "validate intents/ and templates/"},
    {"import", cmd_import, "load a dossier export (JSON, NDJSON or CSV) into Redis"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: dvcbot <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nconfiguration comes from the environment; see README.md\n");
}

int main(int argc, char **argv)
{
    /* hiredis and libuv write to sockets with write(2): a peer that went
     * away must give EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    json_arena_install(); /* before any cJSON tree exists */
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
