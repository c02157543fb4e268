/* libFuzzer target: what envinit-sshd reads of authorized_keys before a
 * client is authenticated: sf_authkeys_find (line scan, options, from=),
 * sf_from_allows (IPv4, IPv6, v4-mapped, CIDR, globs, negation) and
 * sf_glob. The input is ADDR \0 PATTERNS \0 TEXT (missing parts empty).
 * Beyond memory safety it checks:
 *  - a line that lets a key in never has a from= that refuses the peer;
 *    restrict sets every no-* restriction; a refusal hands out no option;
 *  - the first line holding the key decides: a later line for the same key
 *    changes nothing, and is taken when no earlier line held the key;
 *  - from=: a v4-mapped peer is judged as its IPv4 address; a pattern that
 *    allows a peer refuses it once negated, still allows it with ",*"
 *    added, and as CIDR net/N allows it as net/N-1 as well;
 *  - sf_glob agrees with the textbook matcher; a glob without * or ? is
 *    plain (optionally case-folded) comparison, and a pattern that
 *    matches still matches with a * appended. */
#include "sshfallback.h"
#include "envfile.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ADDR 128
#define MAX_PATTERNS 1024
#define MAX_BLOB 16384

/* ssh-ed25519 with 32 zero bytes: the key looked for when TEXT has none. */
static const unsigned char default_blob[] = {
    0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static void quiet(enum log_level level, const char *msg)
{
    (void)level;
    (void)msg;
}

/* The next NUL-terminated part of the input, copied (at most CAP-1 bytes). */
static void take_part(const unsigned char **p, const unsigned char *end, char *out, size_t cap)
{
    const unsigned char *z = memchr(*p, 0, (size_t)(end - *p));
    size_t n = (size_t)((z ? z : end) - *p);
    memcpy(out, *p, n < cap ? n : cap - 1);
    out[n < cap ? n : cap - 1] = '\0';
    *p = z ? z + 1 : end;
}

static size_t base64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    return o;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The textbook matcher: row[j] = PAT[0..i) matches S[0..j). */
static int glob_reference(const char *pat, size_t plen, const char *s, size_t slen, int nocase)
{
    static unsigned char row[MAX_ADDR + 1], next[MAX_ADDR + 1];
    memset(row, 0, slen + 1);
    row[0] = 1;
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)pat[i];
        next[0] = c == '*' && row[0];
        for (size_t j = 1; j <= slen; j++) {
            unsigned char d = (unsigned char)s[j - 1];
            int same = nocase ? ascii_lower(c) == ascii_lower(d) : c == d;
            next[j] = c == '*' ? (row[j] || next[j - 1]) : (row[j - 1] && (c == '?' || same));
        }
        memcpy(row, next, slen + 1);
    }
    return row[slen];
}

static void check_glob(const char *pat, const char *s, int nocase)
{
    size_t plen = strlen(pat), slen = strlen(s);
    int m = sf_glob(pat, plen, s, nocase);
    if (m != glob_reference(pat, plen, s, slen, nocase))
        abort();
    if (!strpbrk(pat, "*?")) {
        int eq = plen == slen;
        for (size_t i = 0; eq && i < plen; i++)
            eq = nocase ? ascii_lower((unsigned char)pat[i]) == ascii_lower((unsigned char)s[i])
                        : pat[i] == s[i];
        if (m != eq)
            abort();
    }
    if (m && plen < MAX_PATTERNS) {
        char star[MAX_PATTERNS + 1];
        memcpy(star, pat, plen);
        star[plen] = '*';
        if (!sf_glob(star, plen + 1, s, nocase))
            abort();
    }
    if (!sf_glob("*", 1, s, nocase))
        abort();
}

/* net/N allows ADDR: so must net/N-1. */
static void check_cidr_widening(const char *pat, const char *addr)
{
    const char *slash = strchr(pat, '/');
    if (!slash || strpbrk(pat, ",!") || strlen(pat) >= 100)
        return;
    char *end;
    unsigned long bits = strtoul(slash + 1, &end, 10);
    if (*end || bits == 0 || slash[1] < '0' || slash[1] > '9')
        return;
    char wider[128];
    snprintf(wider, sizeof wider, "%.*s/%lu", (int)(slash - pat), pat, bits - 1);
    if (!sf_from_allows(wider, addr))
        abort();
}

static void check_from(const char *pats, const char *addr)
{
    int m = sf_from_allows(pats, addr);
    if (m != 0 && m != 1)
        abort();
    unsigned char v4[4];
    if (inet_pton(AF_INET, addr, v4) == 1) {
        char mapped[MAX_ADDR + 8];
        snprintf(mapped, sizeof mapped, "::ffff:%s", addr);
        if (sf_from_allows(pats, mapped) != m)
            abort();
    }
    if (!m)
        return;
    char *more = malloc(strlen(pats) + 8);
    if (!more)
        return;
    sprintf(more, "%s,*", pats);
    if (!sf_from_allows(more, addr))
        abort();
    if (!strchr(pats, ',') && pats[0] != '!') {
        sprintf(more, "!%s,*", pats);
        if (sf_from_allows(more, addr))
            abort();
        check_cidr_widening(pats, addr);
    }
    free(more);
}

/* The key to look for: the body of TEXT's first valid key line, else the default. */
static size_t pick_blob(const char *text, size_t len, unsigned char *blob, char *type, size_t tcap)
{
    size_t pos = 0, ll;
    const char *line;
    struct envfile_key k;
    while (envfile_next_line(text, len, &pos, &line, &ll)) {
        if (envfile_key_parse(line, ll, &k) != ENVFILE_KEY_OK || k.type_len >= tcap)
            continue;
        long n = envfile_base64_decode(k.body, k.body_len, blob, MAX_BLOB);
        if (n <= 0)
            continue;
        memcpy(type, k.type, k.type_len);
        type[k.type_len] = '\0';
        return (size_t)n;
    }
    memcpy(blob, default_blob, sizeof default_blob);
    snprintf(type, tcap, "ssh-ed25519");
    return sizeof default_blob;
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int opts_eq(const struct sf_keyopts *a, const struct sf_keyopts *b)
{
    return a->no_pty == b->no_pty && a->no_port_forwarding == b->no_port_forwarding &&
           a->no_agent_forwarding == b->no_agent_forwarding &&
           a->no_x11_forwarding == b->no_x11_forwarding && a->restrict_all == b->restrict_all &&
           a->no_touch_required == b->no_touch_required &&
           a->verify_required == b->verify_required && str_eq(a->command, b->command) &&
           str_eq(a->from, b->from);
}

static int opts_empty(const struct sf_keyopts *o)
{
    static const struct sf_keyopts none;
    return opts_eq(o, &none);
}

static void check_verdict(enum sf_match m, const struct sf_keyopts *o, const char *addr)
{
    if (m != SF_MATCH_OK) {
        if (!opts_empty(o))
            abort();
        return;
    }
    if (o->from && !sf_from_allows(o->from, addr))
        abort();
    if (o->restrict_all && !(o->no_pty && o->no_port_forwarding && o->no_agent_forwarding &&
                             o->no_x11_forwarding))
        abort();
}

/* TEXT, then a plain line for the key: the first verdict must stand. */
static void check_first_line_decides(const char *text, size_t len, const unsigned char *blob,
                                     size_t blob_len, const char *type, const char *addr,
                                     enum sf_match first, const struct sf_keyopts *o1)
{
    /* a line too long to be a key line proves nothing */
    if (strlen(type) + 1 + (blob_len + 2) / 3 * 4 > ENVFILE_KEY_MAX_LINE)
        return;
    char *more = malloc(len + strlen(type) + blob_len * 4 / 3 + 16);
    if (!more)
        return;
    size_t n = len;
    memcpy(more, text, len);
    n += (size_t)sprintf(more + n, "\n%s ", type);
    n += base64_encode(blob, blob_len, more + n);
    more[n++] = '\n';
    struct sf_keyopts o2;
    enum sf_match second = sf_authkeys_find(more, n, blob, blob_len, addr, "fuzz", &o2);
    check_verdict(second, &o2, addr);
    if (first == SF_MATCH_NONE ? second != SF_MATCH_OK || !opts_empty(&o2)
                               : second != first || !opts_eq(o1, &o2))
        abort();
    sf_keyopts_free(&o2);
    free(more);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static char pats[MAX_PATTERNS];
    static unsigned char blob[MAX_BLOB];
    char addr[MAX_ADDR], type[128];
    const unsigned char *p = data, *end = data + size;
    log_hook = quiet;
    log_set_level(LOG_NONE);
    take_part(&p, end, addr, sizeof addr);
    take_part(&p, end, pats, sizeof pats);
    const char *text = (const char *)p;
    size_t len = (size_t)(end - p);

    check_glob(pats, addr, 0);
    check_glob(pats, addr, 1);
    check_from(pats, addr);

    size_t blob_len = pick_blob(text, len, blob, type, sizeof type);
    struct sf_keyopts o;
    enum sf_match m = sf_authkeys_find(text, len, blob, blob_len, addr, "fuzz", &o);
    check_verdict(m, &o, addr);
    check_first_line_decides(text, len, blob, blob_len, type, addr, m, &o);
    sf_keyopts_free(&o);
    return 0;
}
