/* X11 authorization: the cookie of an x11-req, and its swap in the first
 * packet of each X connection (see sf_listen_x11 in listeners.c). These read
 * bytes a client chose before anything checks them, and need nothing of
 * libssh, so they live apart from fwd.c: the fuzz target builds them alone. */
#include "sshfallback.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

long sf_x11_swap(unsigned char *pkt, size_t len, const char *proto, const unsigned char *fake,
                 const unsigned char *real, size_t clen)
{
    if (len < 12)
        return 0;
    int big = pkt[0] == 'B';
    if (!big && pkt[0] != 'l')
        return -1;
    size_t nlen = big ? (size_t)(pkt[6] << 8 | pkt[7]) : (size_t)(pkt[7] << 8 | pkt[6]);
    size_t dlen = big ? (size_t)(pkt[8] << 8 | pkt[9]) : (size_t)(pkt[9] << 8 | pkt[8]);
    size_t doff = 12 + ((nlen + 3) & ~(size_t)3);
    size_t need = doff + ((dlen + 3) & ~(size_t)3);
    if (len < need)
        return 0;
    if (nlen != strlen(proto) || memcmp(pkt + 12, proto, nlen) != 0 || dlen != clen ||
        memcmp(pkt + doff, fake, dlen) != 0)
        return -1;
    memcpy(pkt + doff, real, dlen);
    return (long)need;
}

int sf_unhex(const char *hex, unsigned char *out, size_t max)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > max || n == 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)hex[i]))
            return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return (int)(n / 2);
}

