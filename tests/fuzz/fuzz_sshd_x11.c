/* libFuzzer target: X11 authorization in envinit-sshd: sf_unhex (the
 * x11-req cookie a client sends) and sf_x11_swap (the first packet of each
 * X connection, which carries the session's fake cookie). The input:
 *   FLAGS, PROTO_LEN, COOKIE_LEN, PROTO, FAKE, REAL, HEX \0, PACKET
 * (FLAGS bit 0: PACKET starts with a well-formed setup header for PROTO
 * and FAKE, bit 1 in big-endian order; bits 2..7: sf_unhex's limit).
 * Beyond memory safety it checks:
 *  - sf_unhex takes exactly the non-empty even-length hex strings within
 *    its limit, and gives bytes that print back as the same hex; hex
 *    printed from bytes reads back as those bytes;
 *  - sf_x11_swap on every prefix of the packet: 0 while the setup is
 *    incomplete, -1 for a bad byte order, another protocol or another
 *    cookie, else the setup's length; only then is the cookie replaced by
 *    the real one, and no other byte ever changes. */
#include "sshfallback.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COOKIE_MAX 64
#define SETUP_MAX 4096 /* what fwd.c collects of a setup packet at most */

struct x11_case {
    char proto[64];
    unsigned char fake[COOKIE_MAX], real[COOKIE_MAX];
    size_t clen;
};

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* What the X11 protocol says sf_x11_swap must answer for PKT[0..LEN). */
static long model(const unsigned char *pkt, size_t len, const struct x11_case *c, size_t *doff)
{
    if (len < 12)
        return 0;
    if (pkt[0] != 'B' && pkt[0] != 'l')
        return -1;
    int big = pkt[0] == 'B';
    size_t nlen = big ? (size_t)pkt[6] << 8 | pkt[7] : (size_t)pkt[7] << 8 | pkt[6];
    size_t dlen = big ? (size_t)pkt[8] << 8 | pkt[9] : (size_t)pkt[9] << 8 | pkt[8];
    *doff = 12 + pad4(nlen);
    size_t need = *doff + pad4(dlen);
    if (len < need)
        return 0;
    if (nlen != strlen(c->proto) || memcmp(pkt + 12, c->proto, nlen) != 0 || dlen != c->clen ||
        memcmp(pkt + *doff, c->fake, dlen) != 0)
        return -1;
    return (long)need;
}

static void check_swap(const unsigned char *pkt, size_t len, const struct x11_case *c,
                       unsigned char *work)
{
    size_t doff = 0;
    long want = model(pkt, len, c, &doff);
    memcpy(work, pkt, len);
    long got = sf_x11_swap(work, len, c->proto, c->fake, c->real, c->clen);
    if (got != want)
        abort();
    if (got <= 0) {
        if (memcmp(work, pkt, len) != 0)
            abort();
        return;
    }
    if (memcmp(work, pkt, doff) != 0 || memcmp(work + doff, c->real, c->clen) != 0 ||
        memcmp(work + doff + c->clen, pkt + doff + c->clen, len - doff - c->clen) != 0)
        abort();
}

/* Every prefix, as the packet arrives in pieces (sampled for long packets). */
static void check_prefixes(const unsigned char *pkt, size_t len, const struct x11_case *c)
{
    unsigned char *work = malloc(len + 1);
    if (!work)
        return;
    size_t doff = 0;
    long full = model(pkt, len, c, &doff);
    size_t need = full > 0 ? (size_t)full : len;
    for (size_t l = 0; l <= len; l++) {
        int sampled = len <= 128 || l <= 16 || l + 2 >= len || (l + 2 >= need && l <= need + 2);
        if (sampled)
            check_swap(pkt, l, c, work);
    }
    free(work);
}

static void check_unhex(const char *hex, size_t max)
{
    unsigned char out[256];
    size_t n = strlen(hex);
    int ok = n > 0 && n % 2 == 0 && n / 2 <= max;
    for (size_t i = 0; ok && i < n; i++)
        ok = isxdigit((unsigned char)hex[i]) != 0;
    int got = sf_unhex(hex, out, max);
    if (got != (ok ? (int)(n / 2) : -1))
        abort();
    char back[3];
    for (int i = 0; i < got; i++) {
        snprintf(back, sizeof back, "%02x", out[i]);
        if (back[0] != tolower((unsigned char)hex[2 * i]) ||
            back[1] != tolower((unsigned char)hex[2 * i + 1]))
            abort();
    }
}

static void check_hex_round_trip(const unsigned char *bytes, size_t n)
{
    char hex[2 * COOKIE_MAX + 1] = "";
    unsigned char back[COOKIE_MAX];
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02X", bytes[i]);
    if (sf_unhex(hex, back, sizeof back) != (n ? (int)n : -1) || memcmp(back, bytes, n) != 0)
        abort();
}

/* A setup header for C's protocol and fake cookie in front of TAIL. */
static size_t build_packet(const struct x11_case *c, int big, const unsigned char *tail,
                           size_t tlen, unsigned char *pkt)
{
    size_t nlen = strlen(c->proto), doff = 12 + pad4(nlen), n = doff + pad4(c->clen);
    memset(pkt, 0, n);
    pkt[0] = big ? 'B' : 'l';
    pkt[big ? 3 : 2] = 11; /* protocol 11.0 */
    pkt[big ? 6 : 7] = (unsigned char)(nlen >> 8);
    pkt[big ? 7 : 6] = (unsigned char)nlen;
    pkt[big ? 8 : 9] = (unsigned char)(c->clen >> 8);
    pkt[big ? 9 : 8] = (unsigned char)c->clen;
    memcpy(pkt + 12, c->proto, nlen);
    memcpy(pkt + doff, c->fake, c->clen);
    if (tlen > SETUP_MAX - n)
        tlen = SETUP_MAX - n;
    memcpy(pkt + n, tail, tlen);
    return n + tlen;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static unsigned char pkt[SETUP_MAX];
    struct x11_case c;
    if (size < 3)
        return 0;
    unsigned flags = data[0];
    size_t plen = data[1] % sizeof c.proto, clen = data[2] % (COOKIE_MAX + 1);
    const unsigned char *p = data + 3, *end = data + size;
    if ((size_t)(end - p) < plen + 2 * clen)
        return 0;
    memcpy(c.proto, p, plen);
    c.proto[plen] = '\0';
    c.clen = clen;
    memcpy(c.fake, p + plen, clen);
    memcpy(c.real, p + plen + clen, clen);
    p += plen + 2 * clen;

    const unsigned char *z = memchr(p, 0, (size_t)(end - p));
    size_t hlen = (size_t)((z ? z : end) - p);
    char *hex = malloc(hlen + 1);
    if (!hex)
        return 0;
    memcpy(hex, p, hlen);
    hex[hlen] = '\0';
    check_unhex(hex, flags >> 2);
    free(hex);
    check_hex_round_trip(c.real, c.clen);
    p = z ? z + 1 : end;

    size_t len = (size_t)(end - p);
    if (flags & 1) {
        len = build_packet(&c, flags & 2, p, len, pkt);
    } else {
        if (len > SETUP_MAX)
            len = SETUP_MAX;
        memcpy(pkt, p, len);
    }
    check_prefixes(pkt, len, &c);
    return 0;
}
