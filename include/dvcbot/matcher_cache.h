/* matcher_cache — the trained weights of the matcher kept on disk, so a
 * process started again on the same data and the same binary does not
 * train them again (the suite starts dvcbot ~200 times; under ASan and
 * valgrind training dominates a start).
 *
 * What is kept: what matcher_train.c's train() computes, the naive Bayes
 * models (nbayes_save) and the out-of-scope gate (its rows and weights).
 * Everything else (settings, rewriter, patterns, masks) is still read from
 * the catalog at every start. Used only when DVCBOT_CACHE_DIR names a
 * directory (created if missing, not its parents); the suite sets it to
 * <build>/cache, one cache per build.
 *
 * The file is <dir>/matcher-<key>.bin, key a hash of the format, the bytes
 * of every catalog file (catalog_digest) and the running binary (device,
 * inode, size, modification time), so edited data or a rebuilt binary
 * name another file. It is written to a temporary file and renamed (readers
 * never see half a file), and checked on load: header, key, length,
 * checksum and every index in range. A file that fails is ignored and
 * logged (warn), the model is trained and the file written again. Nothing
 * is kept past the call: the matcher owns what is restored.
 *
 * Old files go: a load dates its file (modification time), and each write
 * removes the files past the MATCHER_CACHE_KEEP most recently written or
 * loaded that are also older than MATCHER_CACHE_MIN_AGE seconds (another
 * process may be about to load a younger one), and writers' temporaries
 * as old. Only matcher-*.bin / matcher-*.tmp files are touched. */
#ifndef DVCBOT_MATCHER_CACHE_H
#define DVCBOT_MATCHER_CACHE_H

#include <stdbool.h>

struct matcher;

#define MATCHER_CACHE_KEEP 4
#define MATCHER_CACHE_MIN_AGE 600

/* Fills m's trained models (its nb new and untrained, its gate empty) from
 * the cache; false when there is no cache or no good file (m unchanged
 * apart from nb, which stays untrained). */
bool matcher_cache_load(struct matcher *m);
/* Writes m's trained models; failures are logged, never fatal. */
void matcher_cache_save(const struct matcher *m);

#endif
