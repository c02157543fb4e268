/* libFuzzer target: /proc/net/tcp and /proc/net/tcp6 text (root reads it
 * to learn who listens on the SSH port). Checks, beyond memory safety:
 * - lines are independent: the text has a listener exactly when one of its
 *   lines alone has one, and the address is that of the first such line;
 * - a listener found is reachable: its port is the one asked for, the
 *   family fits the file, the wildcard became loopback, a v4-mapped
 *   address became plain IPv4;
 * - a line rendered the way the kernel prints one, appended to the text,
 *   is found (LISTEN) or not (another state) with the address it names.
 * Input: flags (bit 0 tcp6, bit 1 append a rendered line), the port (2
 * bytes), for the rendered line 16 address bytes and a state byte, then
 * the text. */
#include "envinit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TCP_LISTEN 0x0A

static char *dup_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void check_reachable(const struct sockaddr_storage *ss, bool v6, int port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const void *)ss;
        if (ntohs(sin->sin_port) != port || sin->sin_addr.s_addr == htonl(INADDR_ANY))
            abort();
        return;
    }
    const struct sockaddr_in6 *sin6 = (const void *)ss;
    if (!v6 || ss->ss_family != AF_INET6 || ntohs(sin6->sin6_port) != port ||
        IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
        abort();
}

/* Each line of TEXT (up to its first NUL, as the parser reads it) on its
 * own: FOUND must be whether one has a listener, OUT its address. */
static void check_lines(const char *text, bool v6, int port, bool found, const struct sockaddr_storage *out)
{
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        char *one = dup_bytes(line, n);
        struct sockaddr_storage ss;
        bool hit = procnet_find_listener(one, v6, port, &ss);
        free(one);
        if (hit) {
            if (!found || !same_address(&ss, out))
                abort();
            return;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    if (found)
        abort();
}

/* The address a listener on ADDR (16 bytes, 4 for IPv4) is reached at. */
static void expected_address(const unsigned char *addr, bool v6, int port, struct sockaddr_storage *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof *out);
    if (!v6 || memcmp(addr, mapped, 12) == 0) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, v6 ? addr + 12 : addr, 4);
        if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    memcpy(&sin6->sin6_addr, addr, 16);
    if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
        sin6->sin6_addr = in6addr_loopback;
}

/* A line as the kernel's tcp4_seq_show/tcp6_seq_show print it: each
 * 32-bit word of the address in host order. */
static int render_line(char *buf, size_t len, const unsigned char *addr, bool v6, int port, unsigned state)
{
    char hex[33] = "";
    for (int i = 0; i < (v6 ? 4 : 1); i++) {
        uint32_t w;
        memcpy(&w, addr + 4 * i, 4);
        snprintf(hex + 8 * i, 9, "%08X", w);
    }
    return snprintf(buf, len, "%4d: %s:%04X %s:0000 %02X 00000000:00000000 00:00000000 00000000  1000        0 4242 "
                    "1 0000000000000000 100 0 0 10 0\n", 7, hex, (unsigned)port, v6 ? "00000000000000000000000000000000"
                    : "00000000", state);
}

static void check_rendered(const char *text, const unsigned char *addr, bool v6, int port, unsigned state,
                           bool found_before, const struct sockaddr_storage *before)
{
    char line[256];
    size_t tl = strlen(text);
    int ll = render_line(line, sizeof line, addr, v6, port, state);
    char *all = malloc(tl + 1 + (size_t)ll + 1);
    if (!all)
        abort();
    memcpy(all, text, tl);
    all[tl] = '\n';
    memcpy(all + tl + 1, line, (size_t)ll + 1);
    struct sockaddr_storage ss, want;
    bool found = procnet_find_listener(all, v6, port, &ss);
    free(all);
    if (found_before) {
        if (!found || !same_address(&ss, before))
            abort();
        return;
    }
    if (found != (state == TCP_LISTEN))
        abort();
    expected_address(addr, v6, port, &want);
    if (found && !same_address(&ss, &want))
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 3)
        return 0;
    bool v6 = data[0] & 1, rendered = (data[0] & 2) != 0;
    int port = data[1] << 8 | data[2];
    const unsigned char *addr = NULL;
    unsigned state = 0;
    size_t skip = 3;
    if (rendered) {
        if (size < skip + 17)
            return 0;
        addr = data + skip;
        state = data[skip + 16];
        skip += 17;
    }
    char *text = dup_bytes((const char *)data + skip, size - skip);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    bool found = procnet_find_listener(text, v6, port, &ss);
    if (found)
        check_reachable(&ss, v6, port);
    if (found != procnet_find_listener(text, v6, port, NULL))
        abort();
    check_lines(text, v6, port, found, &ss);
    if (rendered)
        check_rendered(text, addr, v6, port, state, found, &ss);
    free(text);
    return 0;
}
