/* crypto — the few primitives dvcbot needs, on OpenSSL libcrypto:
 * constant-time comparison of secrets, SHA-256 and HMAC-SHA256/512 as
 * lowercase hex, random tokens. Output buffers are the caller's. */
#ifndef DVCBOT_CRYPTO_H
#define DVCBOT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_SHA256_HEX 65   /* 64 hex digits + NUL */
#define CRYPTO_SHA512_HEX 129

/* Compares a secret given (a) with the one expected (b) without an early
 * exit: every byte of a is compared, so the time follows a's length, never
 * where the first difference is. (Hashing both first, as before, cost
 * ~12 000 instructions per webhook.) NULL never equals anything. */
bool crypto_secret_equal(const char *a, size_t alen, const char *b, size_t blen);
bool crypto_secret_equal_str(const char *a, const char *b);

void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX]);
/* Returns 0, or -1 when libcrypto fails. */
int crypto_hmac_sha256_hex(const char *key, size_t keylen, const void *data, size_t len,
                           char out[CRYPTO_SHA256_HEX]);
int crypto_hmac_sha512_hex(const char *key, size_t keylen, const void *data, size_t len,
                           char out[CRYPTO_SHA512_HEX]);
/* Fills out with 2*nbytes random hex digits + NUL. Returns 0 or -1. */
int crypto_random_hex(char *out, size_t nbytes);

#endif
