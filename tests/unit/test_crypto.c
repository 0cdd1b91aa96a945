/* Unit tests: secret comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/crypto.h"

#include <string.h>

static void equal_secrets_match_and_any_difference_does_not(void **state)
{
    (void)state;
    const char *secret = "s3cret-token-0123456789";
    assert_true(crypto_secret_equal_str(secret, "s3cret-token-0123456789"));
    assert_false(crypto_secret_equal_str("s3cret-token-012345678", secret));    /* a prefix */
    assert_false(crypto_secret_equal_str("s3cret-token-01234567890", secret));  /* longer */
    assert_false(crypto_secret_equal_str("S3cret-token-0123456789", secret));   /* first byte */
    assert_false(crypto_secret_equal_str("s3cret-token-0123456788", secret));   /* last byte */
    assert_false(crypto_secret_equal_str("", secret));
    assert_false(crypto_secret_equal_str(secret, ""));
    assert_true(crypto_secret_equal_str("", ""));
    assert_false(crypto_secret_equal_str(NULL, secret));
    assert_false(crypto_secret_equal_str(secret, NULL));
    /* a NUL inside counts like any byte; a longer a padded with NULs is not b */
    assert_true(crypto_secret_equal("ab\0c", 4, "ab\0c", 4));
    assert_false(crypto_secret_equal("ab\0d", 4, "ab\0c", 4));
    assert_false(crypto_secret_equal("ab\0\0", 4, "ab", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_secrets_match_and_any_difference_does_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
