/* Does the server on a port speak SSH? An SSH server talks first (RFC 4253
 * section 4.2: its identification line, optionally after other lines), so
 * connecting and reading is enough: the probe never sends a byte. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GREETING_MAX 8192       /* give up on a talker that never identifies */
#define GREETING_LINES_MAX 32

static bool is_prefix_of(const char *line, size_t len, const char *word)
{
    size_t wl = strlen(word);
    return memcmp(line, word, len < wl ? len : wl) == 0;
}

/* One line, complete when COMPLETE: 1 SSH identification, 0 another SSH
 * version or garbage that starts like one, -1 undecided, 2 a line that is
 * not an identification (allowed before it). */
static int check_line(const char *line, size_t len, bool complete)
{
    static const char *const ok[] = {"SSH-2.0-", "SSH-1.99-"};
    for (int i = 0; i < 2; i++)
        if (len >= strlen(ok[i]) && memcmp(line, ok[i], strlen(ok[i])) == 0)
            return 1;
    bool maybe = is_prefix_of(line, len, ok[0]) || is_prefix_of(line, len, ok[1]);
    if (maybe && !complete)
        return -1;
    if (len >= 4 && memcmp(line, "SSH-", 4) == 0)
        return 0;               /* SSH-1.5- and friends: not a server we can use */
    if (memchr(line, '\0', len))
        return 0;               /* binary: not a text protocol at all */
    return complete ? 2 : -1;
}

int ssh_greeting_check(const char *buf, size_t len)
{
    size_t pos = 0;
    for (int lines = 0; pos < len; lines++) {
        if (lines == GREETING_LINES_MAX)
            return 0;
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        int r = check_line(buf + pos, ll, nl != NULL);
        if (r == -1 && len >= GREETING_MAX)
            return 0;
        if (r != 2)
            return r;
        pos += ll + 1;
    }
    return len >= GREETING_MAX ? 0 : -1;
}

const char *ssh_probe_name(enum ssh_probe p)
{
    switch (p) {
    case SSH_PROBE_SSH:
        return "ssh";
    case SSH_PROBE_NOT_SSH:
        return "not-ssh";
    case SSH_PROBE_NO_ANSWER:
    default:
        return "no-answer";
    }
}

/* Waits for EVENTS on FD until DEADLINE; true when they came. */
static bool wait_for(int fd, short events, long deadline)
{
    for (;;) {
        long left = deadline - envfile_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

static bool connect_within(int fd, const struct sockaddr_storage *addr, long deadline)
{
    socklen_t alen = addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (connect(fd, (const struct sockaddr *)addr, alen) == 0)
        return true;
    if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline))
        return false;
    int err = 0;
    socklen_t elen = sizeof err;
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0;
}

enum ssh_probe ssh_probe(const struct sockaddr_storage *addr, int timeout_ms)
{
    long deadline = envfile_now_ms() + timeout_ms;
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SSH_PROBE_NO_ANSWER;
    enum ssh_probe result = SSH_PROBE_NO_ANSWER;
    char buf[GREETING_MAX];
    size_t len = 0;
    if (!connect_within(fd, addr, deadline))
        goto out;
    while (wait_for(fd, POLLIN, deadline)) {
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n > 0)
            len += (size_t)n;
        int r = ssh_greeting_check(buf, len);
        if (r >= 0) {
            result = r ? SSH_PROBE_SSH : SSH_PROBE_NOT_SSH;
            break;
        }
        if (n <= 0) {           /* closed (or failed) before identifying */
            result = len ? SSH_PROBE_NOT_SSH : SSH_PROBE_NO_ANSWER;
            break;
        }
    }
    if (result == SSH_PROBE_NO_ANSWER && len > 0)
        result = SSH_PROBE_NOT_SSH; /* talked, but never identified in time */
out:
    close(fd);
    return result;
}
