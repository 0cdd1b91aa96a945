/* matcher_cache — the matcher's trained weights on disk (matcher_cache.h). */
#include "dvcbot/matcher_cache.h"
#include "dvcbot/buf.h"
#include "dvcbot/catalog.h"
#include "dvcbot/file.h"
#include "dvcbot/log.h"
#include "dvcbot/matcher_model.h"
#include "dvcbot/mem.h"
#include "dvcbot/nbayes.h"
#include "dvcbot/softmax.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Raise when what is written changes. */
#define CACHE_FORMAT 1
#define CACHE_MAGIC "dvcbmc01"
#define CACHE_HEADER 32 /* magic, key, payload length, checksum */

/* FNV-1a 64, eight bytes at a time (a check against damage, not an attacker:
 * the cache directory is the operator's). */
static uint64_t checksum(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037u, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211u;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* The file's key, from the data and the binary; false when the binary
 * cannot be named. */
static bool cache_key(const struct matcher *m, uint64_t *key)
{
    /* the path first: valgrind answers readlink with the program it runs,
     * where a stat of /proc/self/exe would name valgrind's own tool */
    char exe[4096];
    struct stat st;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    if (stat(exe, &st) != 0)
        return false;
    uint64_t parts[] = {CACHE_FORMAT,
                        catalog_digest(m->cat),
                        (uint64_t)st.st_dev,
                        (uint64_t)st.st_ino,
                        (uint64_t)st.st_size,
                        (uint64_t)st.st_mtim.tv_sec,
                        (uint64_t)st.st_mtim.tv_nsec};
    *key = checksum((const unsigned char *)parts, sizeof parts);
    return true;
}

/* <dir>/matcher-<key>.bin into path; false when there is no cache. */
static bool cache_path(const struct matcher *m, struct buf *path, uint64_t *key)
{
    const char *dir = getenv("DVCBOT_CACHE_DIR");
    if (!dir || !*dir || !cache_key(m, key))
        return false;
    buf_printf(path, "%s/matcher-%016llx.bin", dir, (unsigned long long)*key);
    return true;
}

/* ===== Pruning ===== */

struct cache_entry {
    char *name;
    time_t used; /* modification time: written, or last loaded */
};

static int newest_first(const void *a, const void *b)
{
    time_t x = ((const struct cache_entry *)a)->used, y = ((const struct cache_entry *)b)->used;
    return x > y ? -1 : x < y;
}

/* A cache file or a writer's temporary: matcher-<key>.bin[.<pid>.tmp]. */
static bool is_cache_name(const char *name)
{
    size_t n = strlen(name);
    return n > 12 && strncmp(name, "matcher-", 8) == 0 &&
           (strcmp(name + n - 4, ".bin") == 0 || strcmp(name + n - 4, ".tmp") == 0);
}

/* Removes the cache files past the MATCHER_CACHE_KEEP newest that are also
 * older than MATCHER_CACHE_MIN_AGE (younger ones may be in use by another
 * process), and temporaries as old (a writer that died). Files are dated by
 * the file system, so the wall clock is read here, not clock_now(). */
static void prune(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct cache_entry *all = NULL;
    size_t n = 0, cap = 0, removed = 0;
    time_t now = time(NULL);
    struct buf path;
    buf_init(&path);
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st;
        if (!is_cache_name(e->d_name) || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        all = xreserve(all, &cap, n + 1, sizeof *all, 16);
        all[n].name = xstrdup(e->d_name);
        all[n++].used = st.st_mtim.tv_sec;
    }
    closedir(d);
    qsort(all, n, sizeof *all, newest_first);
    for (size_t i = 0, kept = 0; i < n; i++) {
        bool tmp = strcmp(all[i].name + strlen(all[i].name) - 4, ".tmp") == 0;
        if (!tmp && kept < MATCHER_CACHE_KEEP)
            kept++;
        else if (now - all[i].used >= MATCHER_CACHE_MIN_AGE) {
            buf_reset(&path);
            buf_printf(&path, "%s/%s", dir, all[i].name);
            if (unlink(path.data) == 0)
                removed++;
            else if (errno != ENOENT) /* another process pruning too */
                log_fmt(LOG_WARN, "cannot remove an old matcher cache file",
                        "\"file\":%s,\"error\":%s", log_q(path.data), log_q(strerror(errno)));
        }
        free(all[i].name);
    }
    if (removed)
        log_fmt(LOG_DEBUG, "old matcher cache files removed", "\"dir\":%s,\"files\":%zu", log_q(dir),
                removed);
    free(all);
    buf_free(&path);
}

/* ===== Writing ===== */

static void put_u64(struct buf *b, uint64_t v)
{
    buf_append(b, &v, sizeof v);
}

static void save_gate(const struct matcher *m, struct buf *b)
{
    const struct softmax_model *g = &m->gate;
    size_t n_feat = nbayes_features(m->nb);
    put_u64(b, n_feat);
    put_u64(b, m->n_rows);
    buf_append(b, m->row_of, n_feat * sizeof *m->row_of);
    put_u64(b, g->n_rows);
    put_u64(b, g->n_classes);
    put_u64(b, g->n_dense);
    buf_append(b, g->w, g->n_rows * g->n_classes * sizeof *g->w);
    buf_append(b, g->dense, g->n_dense * g->n_classes * sizeof *g->dense);
    buf_append(b, g->bias, g->n_classes * sizeof *g->bias);
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

void matcher_cache_save(const struct matcher *m)
{
    struct buf path, tmp, file;
    uint64_t key;
    buf_init(&path);
    buf_init(&tmp);
    buf_init(&file);
    if (!m->row_of || !cache_path(m, &path, &key))
        goto out;
    const char *dir = getenv("DVCBOT_CACHE_DIR");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        log_fmt(LOG_WARN, "cannot create the matcher cache directory", "\"dir\":%s,\"error\":%s",
                log_q(dir), log_q(strerror(errno)));
        goto out;
    }
    buf_append(&file, CACHE_MAGIC, 8);
    put_u64(&file, key);
    put_u64(&file, 0); /* payload length and checksum, filled below */
    put_u64(&file, 0);
    nbayes_save(m->nb, &file);
    save_gate(m, &file);
    uint64_t len = file.len - CACHE_HEADER;
    uint64_t sum = checksum((const unsigned char *)file.data + CACHE_HEADER, len);
    memcpy(file.data + 16, &len, 8);
    memcpy(file.data + 24, &sum, 8);
    /* another process may write the same file at the same time: each its own
     * temporary, the last rename wins, both are whole */
    buf_printf(&tmp, "%s.%ld.tmp", path.data, (long)getpid());
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write_all(fd, file.data, file.len);
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp.data, path.data) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        log_fmt(LOG_WARN, "cannot write the matcher cache", "\"file\":%s,\"error\":%s",
                log_q(path.data), log_q(strerror(saved)));
        if (fd >= 0)
            unlink(tmp.data);
    } else {
        log_fmt(LOG_DEBUG, "matcher cache written", "\"file\":%s,\"bytes\":%zu", log_q(path.data),
                file.len);
        prune(dir);
    }
out:
    buf_free(&path);
    buf_free(&tmp);
    buf_free(&file);
}

/* ===== Reading ===== */

static bool take(const unsigned char **p, size_t *left, void *dst, size_t n)
{
    if (*left < n)
        return false;
    memcpy(dst, *p, n);
    *p += n;
    *left -= n;
    return true;
}

/* The gate as save_gate wrote it, checked; false leaves m's gate empty. */
static bool restore_gate(struct matcher *m, const unsigned char **p, size_t *left)
{
    uint64_t n_feat, n_rows, g_rows, g_classes, g_dense;
    if (!take(p, left, &n_feat, 8) || !take(p, left, &n_rows, 8) ||
        n_feat != nbayes_features(m->nb) || n_rows > n_feat ||
        *left < n_feat * sizeof *m->row_of)
        return false;
    int32_t *row_of = xmalloc((n_feat + 1) * sizeof *row_of);
    take(p, left, row_of, n_feat * sizeof *row_of);
    row_of[n_feat] = -1;
    for (size_t f = 0; f < n_feat; f++)
        if (row_of[f] < -1 || row_of[f] >= (int64_t)n_rows)
            goto bad;
    if (!take(p, left, &g_rows, 8) || !take(p, left, &g_classes, 8) ||
        !take(p, left, &g_dense, 8) || g_rows != n_rows || g_classes != 2 ||
        g_dense != MATCHER_GATE_DENSE ||
        *left != (g_rows * g_classes + g_dense * g_classes + g_classes) * sizeof(float))
        goto bad;
    softmax_init(&m->gate, g_rows, g_classes, g_dense);
    take(p, left, m->gate.w, g_rows * g_classes * sizeof *m->gate.w);
    take(p, left, m->gate.dense, g_dense * g_classes * sizeof *m->gate.dense);
    take(p, left, m->gate.bias, g_classes * sizeof *m->gate.bias);
    m->row_of = row_of;
    m->n_rows = n_rows;
    return true;
bad:
    free(row_of);
    return false;
}

/* Why the file at path cannot be used, or NULL once m holds its models. */
static const char *restore(struct matcher *m, const unsigned char *data, size_t len, uint64_t key)
{
    uint64_t k, plen, sum;
    if (len < CACHE_HEADER || memcmp(data, CACHE_MAGIC, 8) != 0)
        return "not a matcher cache file";
    memcpy(&k, data + 8, 8);
    memcpy(&plen, data + 16, 8);
    memcpy(&sum, data + 24, 8);
    if (k != key)
        return "written for other data or another binary";
    if (plen != len - CACHE_HEADER)
        return "cut short or too long";
    if (checksum(data + CACHE_HEADER, plen) != sum)
        return "checksum does not match";
    const unsigned char *p = data + CACHE_HEADER;
    size_t left = plen;
    if (!nbayes_restore(m->nb, &p, &left))
        return "naive Bayes models do not fit the catalog";
    if (!restore_gate(m, &p, &left)) {
        /* back to an untrained model of the same classes */
        size_t classes[MATCHER_MODELS] = {nbayes_classes(m->nb, MODEL_INTENT),
                                          nbayes_classes(m->nb, MODEL_PROC)};
        nbayes_free(m->nb);
        m->nb = nbayes_new(MATCHER_MODELS, classes);
        return "gate does not fit the models";
    }
    return NULL;
}

bool matcher_cache_load(struct matcher *m)
{
    struct buf path;
    uint64_t key;
    bool ok = false;
    buf_init(&path);
    if (!cache_path(m, &path, &key))
        goto out;
    size_t len;
    unsigned char *data = (unsigned char *)file_read(path.data, &len);
    if (!data) {
        if (errno != ENOENT)
            log_fmt(LOG_WARN, "matcher cache unreadable, training", "\"file\":%s,\"error\":%s",
                    log_q(path.data), log_q(strerror(errno)));
        goto out;
    }
    const char *why = restore(m, data, len, key);
    free(data);
    if (why)
        log_fmt(LOG_WARN, "matcher cache ignored, training", "\"file\":%s,\"reason\":%s",
                log_q(path.data), log_q(why));
    ok = !why;
    /* a file in use stays among the newest (prune): dated at each load;
     * a read-only cache directory just keeps its dates */
    if (ok)
        (void)utimensat(AT_FDCWD, path.data, NULL, 0);
out:
    buf_free(&path);
    return ok;
}
