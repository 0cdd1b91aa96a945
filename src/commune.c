/* commune — folded commune names without their "xã / phường / thị trấn". */
#include "dvcbot/commune.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void commune_key(const char *commune, char *out, size_t cap)
{
    static const char *const prefixes[] = {"xa ", "phuong ", "thi tran "};
    out[0] = '\0';
    if (!commune || !*commune)
        return;
    char *folded = norm_fold(commune, strlen(commune), NULL);
    if (!folded)
        return;
    const char *p = folded;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(p, prefixes[i], n) == 0 && p[n]) {
            p += n;
            break;
        }
    }
    snprintf(out, cap, "%s", p);
    free(folded);
}

bool commune_same(const char *a, const char *b)
{
    char ka[COMMUNE_KEY_MAX], kb[COMMUNE_KEY_MAX];
    commune_key(a, ka, sizeof ka);
    commune_key(b, kb, sizeof kb);
    return ka[0] && strcmp(ka, kb) == 0;
}
