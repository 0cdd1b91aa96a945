/* replay — runs a fuzz target over files instead of under libFuzzer.
 *
 *   fuzz_<target> <file or directory>...
 *
 * Every regular file (directories are read one level deep, in name order)
 * is fed once to LLVMFuzzerTestOneInput. A crash, a sanitizer report or a
 * failed property ends the process non-zero, naming the input first. */
#include "fuzz.h"
#include "dvcbot/file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
    size_t len = 0;
    char *err = NULL;
    char *data = file_read_explained(path, &len, &err);
    if (!data) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return -1;
    }
    fprintf(stderr, "replay %s\n", path);
    /* An exact-size copy, so a read past the input's end is caught. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    if (len)
        memcpy(exact, data, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open '%s'\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        if (!names)
            abort();
        struct buf path;
        buf_init(&path);
        buf_printf(&path, "%s/%s", dir, de->d_name);
        names[n++] = buf_steal(&path);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            rc = replay_file(names[i]);
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <file or directory>...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "cannot open '%s'\n", argv[i]);
            return 1;
        }
        int rc = S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) : replay_file(argv[i]);
        if (!S_ISDIR(st.st_mode))
            count++;
        if (rc != 0)
            return 1;
    }
    printf("replayed %zu inputs\n", count);
    return count ? 0 : 1;
}
