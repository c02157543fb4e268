/* Who listens on a TCP port, from /proc/net/tcp and /proc/net/tcp6: no
 * connection is needed to know that the port is taken, and these files
 * show exactly the sockets of our network namespace. */
#include "envinit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_LISTEN 0x0A
#define PROCNET_MAX (4 * 1024 * 1024)

struct procnet_entry {
    uint32_t addr[4];           /* as the kernel printed them: host-order words */
    unsigned port;
    unsigned state;
};

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Reads exactly DIGITS hex digits at *P into *OUT. */
static bool hex_field(const char **p, int digits, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < digits; i++) {
        int h = hexval((*p)[i]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    *p += digits;
    *out = v;
    return true;
}

/* Reads 1 to 8 hex digits (a port or a state). */
static bool hex_short(const char **p, uint32_t *out)
{
    int n = 0;
    while (n < 9 && hexval((*p)[n]) >= 0)
        n++;
    return n >= 1 && n <= 8 && hex_field(p, n, out);
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *skip_word(const char *p, const char *end)
{
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    return p;
}

/* One data line: "  sl: LOCAL:PORT REMOTE:PORT ST ...". The header line
 * and anything malformed give false. */
static bool parse_line(const char *line, const char *end, bool v6, struct procnet_entry *e)
{
    const char *p = skip_blanks(line, end);
    const char *w = skip_word(p, end);
    if (w == p || w[-1] != ':')
        return false;
    p = skip_blanks(w, end);
    int words = v6 ? 4 : 1;
    memset(e, 0, sizeof *e);
    for (int i = 0; i < words; i++)
        if (end - p < 8 || !hex_field(&p, 8, &e->addr[i]))
            return false;
    uint32_t v;
    if (p >= end || *p++ != ':' || !hex_short(&p, &v) || v > 0xffff)
        return false;
    e->port = v;
    p = skip_blanks(p, end);
    p = skip_blanks(skip_word(p, end), end); /* the remote address */
    if (!hex_short(&p, &v))
        return false;
    e->state = v;
    return true;
}

/* The kernel prints each 32-bit word of the address as a host-order
 * number, so storing the parsed words back gives the address bytes. */
static void entry_address(const struct procnet_entry *e, bool v6, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (!v6) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)e->port);
        memcpy(&sin->sin_addr.s_addr, &e->addr[0], 4);
        if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return;
    }
    struct in6_addr a;
    memcpy(a.s6_addr, e->addr, 16);
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
        struct procnet_entry v4 = *e;
        memcpy(&v4.addr[0], a.s6_addr + 12, 4);
        entry_address(&v4, false, out);
        return;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)e->port);
    sin6->sin6_addr = IN6_IS_ADDR_UNSPECIFIED(&a) ? in6addr_loopback : a;
}

bool procnet_find_listener(const char *text, bool v6, int port, struct sockaddr_storage *out)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        struct procnet_entry e;
        if (parse_line(line, end, v6, &e) && e.state == TCP_LISTEN && (int)e.port == port) {
            if (out)
                entry_address(&e, v6, out);
            return true;
        }
        line = nl ? nl + 1 : NULL;
    }
    return false;
}

/* procfs files report a size of 0: read until EOF, bounded. */
static char *read_proc_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = envfile_read_fd(fd, PROCNET_MAX, NULL);
    int saved = errno;
    close(fd);
    errno = saved;
    return buf;
}

int procnet_listening(const char *proc, int port, struct sockaddr_storage *out)
{
    static const char *const files[] = {"net/tcp", "net/tcp6"};
    int readable = 0;
    for (int i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", proc, files[i]);
        char *text = read_proc_file(path);
        if (!text) {
            /* No IPv6 in this kernel is common; say it only when verbose. */
            log_debug("cannot read %s: %s", path, strerror(errno));
            continue;
        }
        readable++;
        bool found = procnet_find_listener(text, i == 1, port, out);
        free(text);
        if (found)
            return 1;
    }
    if (!readable) {
        log_error("cannot read %s/net/tcp or %s/net/tcp6: cannot tell whether port %d is taken; "
                  "assuming it is free", proc, proc, port);
        return -1;
    }
    return 0;
}
