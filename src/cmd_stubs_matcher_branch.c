/* Placeholders so the matcher branch links; removed when merged. */
#include "dvcbot/commands.h"

#include <stdio.h>

static int not_here(const char *name)
{
    fprintf(stderr, "%s: not in this branch\n", name);
    return 1;
}

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_here("serve");
}

int cmd_chat(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_here("chat");
}

int cmd_import(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_here("import");
}
