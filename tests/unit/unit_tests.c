/* unit_tests — the one program of every unit test (Makefile, UNIT_MULTI).
 * Each tests/unit/test_<name>.c is compiled with its main() renamed
 * unit_main_test_<name> (the list: <build>/unit_mains.h, generated, given
 * with -include); <build>/tests/test_<name> is a hard link to this program,
 * which runs the test its own name says, as that test's binary did. */
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(void);
} tests[] = {
#define X(t) {#t, unit_main_##t},
    UNIT_TESTS
#undef X
};

int main(int argc, char **argv)
{
    const char *self = argc > 0 && argv[0] ? argv[0] : "";
    const char *slash = strrchr(self, '/');
    const char *name = slash ? slash + 1 : self;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (strcmp(tests[i].name, name) == 0)
            return tests[i].run();
    fprintf(stderr, "unit-tests: run as one of the tests (a link named test_<name>), not as \"%s\"; tests:\n",
            name);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        fprintf(stderr, "  %s\n", tests[i].name);
    return 2;
}
