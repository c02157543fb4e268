/* Algorithm lists in OpenSSH's syntax (KexAlgorithms, Ciphers, MACs,
 * HostKeyAlgorithms, PubkeyAcceptedAlgorithms), applied to our defaults,
 * and which host key types a host key algorithm list needs. Pure. */
#include "sshfallback.h"

#include <stdio.h>
#include <string.h>

/* 1 when NAME[0..LEN) is one of the names of the comma list LIST. */
static int listed(const char *list, const char *name, size_t len)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && memcmp(p, name, len) == 0)
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Appends NAME[0..LEN) to the comma list OUT unless it is there already.
 * 0, or -1 when OUT is full. */
static int add(char *out, size_t size, const char *name, size_t len)
{
    if (listed(out, name, len))
        return 0;
    size_t used = strlen(out), need = len + (used ? 1 : 0);
    if (used + need >= size)
        return -1;
    if (used)
        out[used++] = ',';
    memcpy(out + used, name, len);
    out[used + len] = '\0';
    return 0;
}

/* 1 when NAME[0..LEN) matches one of the patterns of the comma list PATS. */
static int matched(const char *pats, const char *name, size_t len)
{
    char one[SF_ALGO_MAX];
    if (len >= sizeof one)
        return 0;
    memcpy(one, name, len);
    one[len] = '\0';
    for (const char *p = pats; *p;) {
        size_t n = strcspn(p, ",");
        if (sf_glob(p, n, one, 0))
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Appends to OUT the names of SUPPORTED that match the patterns of LIST,
 * pattern by pattern. Every pattern must match one: else -1 and ERR. */
static int expand(const char *list, const char *supported, char *out, size_t size, char *err, size_t esize)
{
    for (const char *p = list;;) {
        size_t n = strcspn(p, ",");
        if (n == 0) {
            snprintf(err, esize, "an empty algorithm name in '%s'", list);
            return -1;
        }
        int found = 0;
        for (const char *s = supported; *s;) {
            size_t m = strcspn(s, ",");
            char one[SF_ALGO_MAX];
            if (m && m < sizeof one) {
                memcpy(one, s, m);
                one[m] = '\0';
                if (sf_glob(p, n, one, 0)) {
                    found = 1;
                    if (add(out, size, s, m) < 0) {
                        snprintf(err, esize, "the list is too long");
                        return -1;
                    }
                }
            }
            s += m;
            if (*s == ',')
                s++;
        }
        if (!found) {
            snprintf(err, esize, "unknown algorithm '%.*s' (supported: %s)", (int)n, p, supported);
            return -1;
        }
        p += n;
        if (!*p)
            return 0;
        p++;
    }
}

/* Appends the names of LIST not yet in OUT. */
static int add_all(const char *list, char *out, size_t size)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n && add(out, size, p, n) < 0)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int sf_algo_apply(const char *defaults, const char *spec, const char *supported, char *out, size_t size,
                  char *err, size_t esize)
{
    char given[SF_ALGO_MAX];
    if (size == 0)
        return -1;
    out[0] = '\0';
    if (!spec)
        return add_all(defaults, out, size) < 0 ? (snprintf(err, esize, "the list is too long"), -1) : 0;
    char op = (*spec == '+' || *spec == '-' || *spec == '^') ? *spec : 0;
    const char *list = op ? spec + 1 : spec;
    if (!*list) {
        snprintf(err, esize, "no algorithm named");
        return -1;
    }
    given[0] = '\0';
    if (expand(list, supported, given, sizeof given, err, esize) < 0)
        return -1;
    int full = 0;
    switch (op) {
    case '+':
        full = add_all(defaults, out, size) < 0 || add_all(given, out, size) < 0;
        break;
    case '^':
        full = add_all(given, out, size) < 0 || add_all(defaults, out, size) < 0;
        break;
    case '-':
        for (const char *p = defaults; *p;) {
            size_t n = strcspn(p, ",");
            if (n && !matched(list, p, n) && add(out, size, p, n) < 0)
                full = 1;
            p += n;
            if (*p == ',')
                p++;
        }
        break;
    default:
        full = add_all(given, out, size) < 0;
    }
    if (full) {
        snprintf(err, esize, "the list is too long");
        return -1;
    }
    if (!out[0]) {
        snprintf(err, esize, "'%s' leaves no algorithm", spec);
        return -1;
    }
    return 0;
}

unsigned sf_hostkey_kinds(const char *algos, int *ecdsa_bits)
{
    unsigned kinds = 0;
    *ecdsa_bits = 0;
    for (const char *p = algos; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 11 && memcmp(p, "ssh-ed25519", n) == 0) {
            kinds |= SF_HK_ED25519;
        } else if (n == 19 && memcmp(p, "ecdsa-sha2-nistp", 16) == 0) {
            int bits = memcmp(p + 16, "256", 3) == 0 ? 256 : memcmp(p + 16, "384", 3) == 0 ? 384
                       : memcmp(p + 16, "521", 3) == 0 ? 521 : 0;
            if (bits && !*ecdsa_bits) /* one ECDSA key: the curve named first */
                *ecdsa_bits = bits;
            if (bits)
                kinds |= SF_HK_ECDSA;
        } else if ((n == 12 && (memcmp(p, "rsa-sha2-512", n) == 0 || memcmp(p, "rsa-sha2-256", n) == 0)) ||
                   (n == 7 && memcmp(p, "ssh-rsa", n) == 0)) {
            kinds |= SF_HK_RSA;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return kinds;
}
