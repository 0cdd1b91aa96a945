/* cmd_check — `dvcbot check`: validate intents/ and templates/ of the data
 * dir ($DVCBOT_DATA_DIR, default "."); one line per problem, exit 1 on any. */
#include "dvcbot/commands.h"
#include "dvcbot/datacheck.h"

#include <stdio.h>
#include <stdlib.h>

static void print_problem(void *ud, const char *file, const char *field, const char *reason)
{
    (void)ud;
    if (*field)
        printf("%s: %s: %s\n", file, field, reason);
    else
        printf("%s: %s\n", file, reason);
}

int cmd_check(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: dvcbot check\n");
        return 2;
    }
    const char *dir = getenv("DVCBOT_DATA_DIR");
    if (!dir || !*dir)
        dir = ".";
    struct datacheck_stats st;
    int problems = datacheck_run(dir, print_problem, NULL, &st);
    if (problems) {
        printf("check: %d problem%s in %s\n", problems, problems == 1 ? "" : "s", dir);
        return 1;
    }
    printf("check: ok, %zu intents (%zu procedures), %zu templates\n", st.intents,
           st.procedures, st.templates);
    return 0;
}
