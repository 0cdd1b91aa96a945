/* crypto — hashing, HMAC and constant-time comparison via libcrypto. */
#include "dvcbot/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

static void to_hex(const unsigned char *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * len] = '\0';
}

bool crypto_secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (!a || !b)
        return false;
    /* Every byte of a is compared (past b's end, against 0), differences
     * OR-ed together: no early exit, whatever the content. */
    unsigned diff = alen != blen;
    for (size_t i = 0; i < alen; i++) {
        unsigned char want = i < blen ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)a[i] ^ want;
    }
    return diff == 0;
}

bool crypto_secret_equal_str(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    return crypto_secret_equal(a, strlen(a), b, strlen(b));
}

void crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    to_hex(d, sizeof d, out);
}

static int hmac_hex(const EVP_MD *md, const char *key, size_t keylen, const void *data,
                    size_t len, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (!HMAC(md, key, (int)keylen, data, len, d, &dlen))
        return -1;
    to_hex(d, dlen, out);
    return 0;
}

int crypto_hmac_sha256_hex(const char *key, size_t keylen, const void *data, size_t len,
                           char out[CRYPTO_SHA256_HEX])
{
    return hmac_hex(EVP_sha256(), key, keylen, data, len, out);
}

int crypto_hmac_sha512_hex(const char *key, size_t keylen, const void *data, size_t len,
                           char out[CRYPTO_SHA512_HEX])
{
    return hmac_hex(EVP_sha512(), key, keylen, data, len, out);
}

int crypto_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1)
        return -1;
    to_hex(raw, nbytes, out);
    return 0;
}
