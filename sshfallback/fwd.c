/* Forwarding: -L and -D (direct-tcpip), -R (tcpip-forward), unix sockets
 * both ways (direct-streamlocal, streamlocal-forward), -A (agent) and -X
 * (x11). Every forwarded connection is a "bridge" between a socket and a
 * channel, pumped by the connection's one poll loop with flow control both
 * ways: the socket is read only while the client's window has room, and
 * channel data the socket cannot take yet stays in libssh (which then stops
 * growing the client's window). libssh callbacks only mark state; structures
 * are freed in sf_fwd_housekeeping, after the loop turn. By the time any of
 * this runs the connection process is the user, so every connect, bind and
 * socket file is the user's. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh/server.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define BRIDGE_BUF (256 * 1024)
#define MAX_FWDS 512            /* listeners and bridges per connection (fds < 1024) */
#define X11_SETUP_MAX 4096

enum bridge_state { B_CONNECTING, B_OPENING, B_OPEN };
enum open_kind { OPEN_NONE, OPEN_REVERSE, OPEN_STREAMLOCAL, OPEN_AGENT, OPEN_X11 };

struct sf_fwd {
    struct sf_fwd *next;
    struct sf_conn *conn;
    enum sf_fwd_kind kind;
    int fd, dead;
    const void *owner;           /* the session of an agent or X11 listener */
    char what[320];              /* for the log: "direct-tcpip to host:port" */
    /* listeners */
    char addr[256];              /* tcpip-forward: the address, streamlocal-forward:
                                    the path, as the client sent it */
    int port;                    /* tcpip-forward: the bound port */
    char path[256];              /* agent, streamlocal-forward: the socket file */
    ino_t ino;                   /* streamlocal-forward: the socket file's inode */
    int display;
    struct sf_x11_cookies x11;
    /* bridges */
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb;
    enum bridge_state state;
    enum open_kind open;
    char open_host[256], orig_host[INET6_ADDRSTRLEN];
    int open_port, orig_port;
    struct addrinfo *ai, *ai_next;
    char *inbuf;                 /* channel -> socket, not yet written */
    size_t in_len, in_off;
    uint32_t pending;            /* bytes libssh holds for us */
    int reading;                 /* inside ssh_channel_read_nonblocking */
    char *unsent;                /* socket -> channel, not yet taken by libssh */
    size_t unsent_len, unsent_off;
    int client_eof, wr_shut, sock_eof, eof_sent, remote_closed;
    unsigned char *xsetup;       /* x11: the setup packet until its cookie is swapped */
    size_t xsetup_len;
    int x11_swap;
};

static char buf[BRIDGE_BUF];

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static struct sf_fwd *fwd_new(struct sf_conn *c, enum sf_fwd_kind kind, int fd)
{
    if (c->n_fwds >= MAX_FWDS)
        return NULL;
    struct sf_fwd *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->conn = c;
    f->kind = kind;
    f->fd = fd;
    f->next = c->fwds;
    c->fwds = f;
    c->n_fwds++;
    return f;
}

static int forwarding_allowed(const struct sf_conn *c)
{
    return !c->cfg->no_port_forwarding && !c->opts.no_port_forwarding;
}

/* ---- bridges: channel -> socket ---- */

static void bridge_abort(struct sf_fwd *f, const char *why)
{
    if (why)
        log_info("%s port %d: %s: %s; channel closed", f->conn->peer, f->conn->peer_port,
                 f->what, why);
    close_fd(&f->fd);
    f->dead = 1;
}

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
                   void *ud)
{
    struct sf_fwd *f = ud;
    (void)s;
    (void)ch;
    if (is_stderr || f->dead || f->fd < 0 || f->wr_shut)
        return (int)len;
    if (f->reading || f->state != B_OPEN) {
        f->pending = len; /* kept by libssh until the socket is connected */
        return 0;
    }
    uint32_t used = 0;
    if (f->in_len == f->in_off) {
        f->in_len = f->in_off = 0;
        ssize_t w = write(f->fd, data, len);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            f->pending = 0;
            bridge_abort(f, strerror(errno));
            return (int)len;
        }
        used = w > 0 ? (uint32_t)w : 0;
    }
    if (used < len) {
        if (!f->inbuf && (f->inbuf = malloc(BRIDGE_BUF)) == NULL) {
            f->pending = len - used;
            return (int)used;
        }
        if (f->in_off > 0) {
            memmove(f->inbuf, f->inbuf + f->in_off, f->in_len - f->in_off);
            f->in_len -= f->in_off;
            f->in_off = 0;
        }
        size_t room = BRIDGE_BUF - f->in_len;
        size_t take = len - used < room ? len - used : room;
        memcpy(f->inbuf + f->in_len, (char *)data + used, take);
        f->in_len += take;
        used += (uint32_t)take;
    }
    f->pending = len - used;
    return (int)used;
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_fwd *f = ud;
    (void)s;
    (void)ch;
    f->client_eof = 1;
}

static void on_close(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_fwd *f = ud;
    (void)s;
    (void)ch;
    f->remote_closed = 1;
}

/* Writes what the socket can take; 0 while the socket is writable and
 * more may follow, -1 after an error (the bridge is aborted). */
static void pump_to_socket(struct sf_fwd *f)
{
    while (f->fd >= 0 && !f->wr_shut) {
        if (f->in_off < f->in_len) {
            ssize_t w = write(f->fd, f->inbuf + f->in_off, f->in_len - f->in_off);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (w < 0) {
                bridge_abort(f, strerror(errno));
                return;
            }
            f->in_off += (size_t)w;
            if (f->in_off < f->in_len)
                return;
        }
        f->in_len = f->in_off = 0;
        if (f->pending == 0)
            return;
        if (!f->inbuf && (f->inbuf = malloc(BRIDGE_BUF)) == NULL)
            return;
        /* libssh holds f->pending bytes. libssh 0.11 handles packets before
         * it copies them out: on_data, run inside, then leaves new data
         * behind the old in libssh's buffer (f->reading). */
        uint32_t want = f->pending < BRIDGE_BUF ? f->pending : BRIDGE_BUF;
        f->reading = 1;
        int n = ssh_channel_read_nonblocking(f->ch, f->inbuf, want, 0);
        f->reading = 0;
        if (n <= 0) {
            f->pending = 0;
            return;
        }
        f->pending -= (uint32_t)n;
        f->in_len = (size_t)n;
    }
}

/* ---- bridges: socket -> channel ---- */

static int chan_usable(const struct sf_fwd *f)
{
    return f->state == B_OPEN && !f->remote_closed && !f->dead && ssh_channel_is_open(f->ch);
}

/* 1 when nothing is left unsent, 0 when some still is, -1 on error. */
static int flush_unsent(struct sf_fwd *f)
{
    if (f->unsent_len == 0)
        return 1;
    uint32_t win = chan_usable(f) ? ssh_channel_window_size(f->ch) : 0;
    if (win == 0)
        return 0;
    size_t left = f->unsent_len - f->unsent_off;
    int rc = ssh_channel_write(f->ch, f->unsent + f->unsent_off, left < win ? (uint32_t)left : win);
    if (rc == SSH_ERROR)
        return -1;
    f->unsent_off += (size_t)rc;
    if (f->unsent_off < f->unsent_len)
        return 0;
    free(f->unsent);
    f->unsent = NULL;
    f->unsent_len = f->unsent_off = 0;
    return 1;
}

static int send_chunk(struct sf_fwd *f, const char *data, size_t n)
{
    int rc = ssh_channel_write(f->ch, data, (uint32_t)n);
    if (rc == SSH_ERROR)
        return -1;
    if ((size_t)rc < n) { /* libssh takes nothing during a re-key */
        f->unsent = malloc(n - (size_t)rc);
        if (!f->unsent)
            return -1;
        memcpy(f->unsent, data + rc, n - (size_t)rc);
        f->unsent_len = n - (size_t)rc;
        f->unsent_off = 0;
    }
    return 0;
}

/* X11: the client's setup packet carries the session's fake cookie; the
 * real one replaces it here, so the real cookie never exists server-side.
 * 1 once the setup went out, 0 while incomplete, -1 when refused. */
static int x11_swap_cookie(struct sf_fwd *f, const char *data, size_t n)
{
    if (f->xsetup_len + n > X11_SETUP_MAX)
        return -1;
    if (!f->xsetup && (f->xsetup = malloc(X11_SETUP_MAX)) == NULL)
        return -1;
    memcpy(f->xsetup + f->xsetup_len, data, n);
    f->xsetup_len += n;
    const struct sf_x11_cookies *x = &f->x11;
    long rc = sf_x11_swap(f->xsetup, f->xsetup_len, x->proto, x->fake, x->real, x->len);
    if (rc <= 0)
        return rc == 0 && f->xsetup_len < X11_SETUP_MAX ? 0 : -1;
    /* the setup and whatever followed it in the same read */
    if (send_chunk(f, (const char *)f->xsetup, f->xsetup_len) < 0)
        return -1;
    free(f->xsetup);
    f->xsetup = NULL;
    f->x11_swap = 0;
    return 1;
}

static void send_eof_once(struct sf_fwd *f)
{
    if (!f->eof_sent && f->unsent_len == 0 && chan_usable(f)) {
        ssh_channel_send_eof(f->ch);
        f->eof_sent = 1;
    }
}

static void pump_from_socket(struct sf_fwd *f)
{
    int fl = flush_unsent(f);
    if (fl < 0) {
        bridge_abort(f, "channel write failed");
        return;
    }
    uint32_t win = chan_usable(f) ? ssh_channel_window_size(f->ch) : 0;
    if (fl != 1 || win == 0)
        return;
    ssize_t n = read(f->fd, buf, win < sizeof buf ? win : sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        bridge_abort(f, strerror(errno));
        return;
    }
    if (n == 0) {
        f->sock_eof = 1;
        send_eof_once(f);
        return;
    }
    int rc = f->x11_swap ? x11_swap_cookie(f, buf, (size_t)n) : send_chunk(f, buf, (size_t)n);
    if (rc < 0)
        bridge_abort(f, f->x11_swap ? "X11 connection with a wrong cookie refused"
                                    : "channel write failed");
}

/* The client closed the channel while the socket still has to take what
 * the client sent before: what the socket sends now has nowhere to go and
 * is dropped, so a peer that writes before it reads (an echo) cannot stall
 * the flush forever. */
static void discard_input(struct sf_fwd *f)
{
    ssize_t n = read(f->fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        close_fd(&f->fd); /* tend frees the bridge */
}

/* ---- bridges: opening ---- */

static void attach_channel(struct sf_fwd *f, ssh_channel ch)
{
    f->ch = ch;
    f->cb = (struct ssh_channel_callbacks_struct){
        .userdata = f,
        .channel_data_function = on_data,
        .channel_eof_function = on_eof,
        .channel_close_function = on_close,
    };
    ssh_callbacks_init(&f->cb);
    ssh_set_channel_callbacks(ch, &f->cb);
}

static struct sf_fwd *bridge_new(struct sf_conn *c, int fd, ssh_channel ch)
{
    struct sf_fwd *f = fwd_new(c, SF_FWD_BRIDGE, fd);
    if (f)
        attach_channel(f, ch);
    return f;
}

/* Confirms the client's channel open for bridge F; 0 (the open is answered). */
static int accept_open(struct sf_fwd *f, ssh_message msg)
{
    ssh_channel ch = ssh_message_channel_request_open_reply_accept(msg);
    if (!ch) {
        bridge_abort(f, "libssh could not accept the channel");
        return 0;
    }
    attach_channel(f, ch);
    log_debug("%s port %d: %s", f->conn->peer, f->conn->peer_port, f->what);
    return 0;
}

/* Starts a non-blocking connect to the next address; -1 when none is left. */
static int connect_next(struct sf_fwd *f)
{
    close_fd(&f->fd);
    while (f->ai_next) {
        struct addrinfo *a = f->ai_next;
        f->ai_next = a->ai_next;
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
            f->fd = fd;
            return 0;
        }
        int e = errno;
        close(fd);
        errno = e;
    }
    return -1;
}

static void connect_done(struct sf_fwd *f)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0) {
        f->state = B_OPEN;
        freeaddrinfo(f->ai);
        f->ai = f->ai_next = NULL;
        return;
    }
    if (connect_next(f) < 0)
        bridge_abort(f, strerror(err));
}

static int resolve(const char *host, int port, struct addrinfo **out)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, out) == 0)
        return 0;
    /* A name (e.g. "localhost"): resolved synchronously; /etc/hosts in
     * practice, as forwarding targets are the environment's own services. */
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    int rc = getaddrinfo(host, service, &hints, out);
    if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
        hints.ai_flags = AI_NUMERICSERV;
        rc = getaddrinfo(host, service, &hints, out);
    }
    return rc;
}

int sf_fwd_direct_tcpip(struct sf_conn *c, ssh_message msg)
{
    const char *host = ssh_message_channel_request_open_destination(msg);
    int port = ssh_message_channel_request_open_destination_port(msg);
    char safe[LOG_SAFE_SIZE];
    log_safe(host, safe);
    if (!forwarding_allowed(c)) {
        sf_conn_refused(c, LOG_INFO, "direct-tcpip to %s:%d refused: %s", safe, port,
                        c->cfg->no_port_forwarding ? "--no-port-forwarding" : "the key's options");
        return 1;
    }
    struct addrinfo *ai = NULL;
    int rc = host && *host ? resolve(host, port, &ai) : EAI_NONAME;
    if (rc != 0) {
        sf_conn_refused(c, LOG_INFO, "direct-tcpip to %s:%d: %s; channel refused", safe, port,
                        gai_strerror(rc));
        return 1;
    }
    struct sf_fwd *f = fwd_new(c, SF_FWD_BRIDGE, -1);
    if (!f) {
        sf_conn_refused(c, LOG_WARN, "direct-tcpip to %s:%d refused: %u forwards open", safe, port,
                        c->n_fwds);
        freeaddrinfo(ai);
        return 1;
    }
    snprintf(f->what, sizeof f->what, "direct-tcpip to %s:%d", safe, port);
    f->ai = f->ai_next = ai;
    f->state = B_CONNECTING;
    /* Loopback refusals are known at once: the client then gets a proper
     * open failure. Later failures close the confirmed channel instead. */
    if (connect_next(f) < 0) {
        sf_conn_refused(c, LOG_INFO, "%s: %s; channel refused", f->what, strerror(errno));
        f->dead = 1; /* freed by sf_fwd_housekeeping */
        return 1;
    }
    return accept_open(f, msg);
}

/* 1 open, 0 still waiting, -1 refused. Called from the loop, never from a
 * libssh callback: opening runs libssh's packet handling. */
static int open_channel(struct sf_fwd *f)
{
    int rc = SSH_ERROR;
    if (f->open == OPEN_REVERSE)
        rc = ssh_channel_open_reverse_forward(f->ch, f->open_host, f->open_port, f->orig_host,
                                              f->orig_port);
    else if (f->open == OPEN_STREAMLOCAL)
        rc = ssh_channel_open_forwarded_streamlocal(f->ch, f->open_host);
    else if (f->open == OPEN_AGENT)
        rc = ssh_channel_open_auth_agent(f->ch);
    else if (f->open == OPEN_X11)
        rc = ssh_channel_open_x11(f->ch, f->orig_host, f->orig_port);
    return rc == SSH_OK ? 1 : rc == SSH_AGAIN ? 0 : -1;
}

static void accept_into_channel(struct sf_fwd *l)
{
    struct sf_conn *c = l->conn;
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof ss;
    int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    ssh_channel ch = c->n_fwds < MAX_FWDS ? ssh_channel_new(c->session) : NULL;
    struct sf_fwd *f = ch ? bridge_new(c, fd, ch) : NULL;
    if (!f) {
        log_warn("%s port %d: forwarded connection dropped: %u forwards open", c->peer,
                 c->peer_port, c->n_fwds);
        if (ch)
            ssh_channel_free(ch);
        close(fd);
        return;
    }
    f->state = B_OPENING;
    snprintf(f->orig_host, sizeof f->orig_host, "127.0.0.1");
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, f->orig_host, sizeof f->orig_host);
        f->orig_port = ntohs(s4->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, f->orig_host, sizeof f->orig_host);
        f->orig_port = ntohs(s6->sin6_port);
    }
    if (l->kind == SF_FWD_TCP_LISTEN) {
        f->open = OPEN_REVERSE;
        snprintf(f->open_host, sizeof f->open_host, "%s", l->addr);
        f->open_port = l->port;
        snprintf(f->what, sizeof f->what, "forwarded-tcpip from port %d", l->port);
    } else if (l->kind == SF_FWD_UNIX_LISTEN) {
        /* the client finds its forward by the path it asked for */
        f->open = OPEN_STREAMLOCAL;
        snprintf(f->open_host, sizeof f->open_host, "%s", l->addr);
        char safe[LOG_SAFE_SIZE];
        snprintf(f->what, sizeof f->what, "forwarded-streamlocal from %s", log_safe(l->path, safe));
    } else if (l->kind == SF_FWD_AGENT_LISTEN) {
        f->open = OPEN_AGENT;
        snprintf(f->what, sizeof f->what, "agent connection");
    } else {
        f->open = OPEN_X11;
        f->x11 = l->x11;
        f->x11_swap = 1;
        snprintf(f->what, sizeof f->what, "X11 connection to display :%d", l->display);
    }
    if (open_channel(f) < 0)
        bridge_abort(f, "the client refused the channel");
}

/* ---- remote forwarding (-R) ---- */

int sf_fwd_listen_tcp(const char *addr, int port, int *bound)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo *ai;
    if (getaddrinfo(addr, service, &hints, &ai) != 0) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd >= 0 && (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0)) {
        int e = errno;
        close(fd);
        fd = -1;
        errno = e;
    }
    freeaddrinfo(ai);
    union {
        struct sockaddr sa;
        struct sockaddr_in s4;
        struct sockaddr_in6 s6;
    } u;
    memset(&u, 0, sizeof u);
    socklen_t sl = sizeof u;
    if (fd >= 0 && getsockname(fd, &u.sa, &sl) == 0) {
        uint16_t p = u.sa.sa_family == AF_INET6 ? u.s6.sin6_port : u.s4.sin_port;
        *bound = ntohs(p);
    }
    return fd;
}

const char *sf_fwd_bind_address(int gateway_ports, const char *asked)
{
    if (!asked)
        asked = "";
    if (!gateway_ports)
        return strcmp(asked, "::1") == 0 ? "::1" : "127.0.0.1";
    if (!*asked || strcmp(asked, "*") == 0)
        return "0.0.0.0";
    if (strcmp(asked, "localhost") == 0)
        return "127.0.0.1";
    return asked;
}

int sf_fwd_tcpip_forward(struct sf_conn *c, ssh_message msg)
{
    const char *asked = ssh_message_global_request_address(msg);
    int port = ssh_message_global_request_port(msg);
    if (!forwarding_allowed(c)) {
        sf_conn_refused(c, LOG_INFO, "remote forward of port %d refused: %s", port,
                        c->cfg->no_port_forwarding ? "--no-port-forwarding" : "the key's options");
        return 1;
    }
    const char *addr = sf_fwd_bind_address(c->cfg->gateway_ports, asked);
    char safe[LOG_SAFE_SIZE];
    log_safe(addr, safe);
    int bound = port, fd = -1;
    if (port < 0 || port > 65535 || c->n_fwds >= MAX_FWDS)
        errno = EINVAL;
    else
        fd = sf_fwd_listen_tcp(addr, port, &bound);
    struct sf_fwd *l = fd >= 0 ? fwd_new(c, SF_FWD_TCP_LISTEN, fd) : NULL;
    if (!l) {
        sf_conn_refused(c, LOG_INFO, "remote forward [%s]:%d: %s; refused", safe, port,
                        strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    snprintf(l->addr, sizeof l->addr, "%s", asked ? asked : "");
    l->port = bound;
    /* port 0: the client learns the port from the reply */
    snprintf(l->what, sizeof l->what, "remote forward [%s]:%d", safe, bound);
    log_info("%s port %d: %s", c->peer, c->peer_port, l->what);
    ssh_message_global_request_reply_success(msg, (uint16_t)bound);
    return 0;
}

int sf_fwd_cancel_tcpip_forward(struct sf_conn *c, ssh_message msg)
{
    const char *asked = ssh_message_global_request_address(msg);
    int port = ssh_message_global_request_port(msg);
    for (struct sf_fwd *l = c->fwds; l; l = l->next)
        if (l->kind == SF_FWD_TCP_LISTEN && !l->dead && l->port == port &&
            strcmp(l->addr, asked ? asked : "") == 0) {
            close_fd(&l->fd);
            l->dead = 1;
            log_info("%s port %d: %s cancelled", c->peer, c->peer_port, l->what);
            ssh_message_global_request_reply_success(msg, 0);
            return 0;
        }
    char safe[LOG_SAFE_SIZE];
    sf_conn_refused(c, LOG_INFO, "cancel of remote forward [%s]:%d refused: no such forward",
                    log_safe(asked, safe), port);
    return 1;
}

/* ---- unix-socket forwarding (ssh -L/-R with a socket path) ---- */

static int streamlocal_allowed(struct sf_conn *c, const char *what, const char *path)
{
    const char *why = c->cfg->no_unix_forwarding    ? "--no-unix-forwarding"
                      : c->opts.no_port_forwarding ? "the key's options"
                                                   : NULL;
    if (why) {
        char safe[LOG_SAFE_SIZE];
        sf_conn_refused(c, LOG_INFO, "%s %s refused: %s", what, log_safe(path, safe), why);
    }
    return why == NULL;
}

/* A relative path is taken from the user's home, as it is for the client's
 * other paths; 0, or -1 (ENAMETOOLONG, EINVAL for an empty path). */
static int unix_addr(const struct sf_conn *c, const char *path, struct sockaddr_un *sa)
{
    *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    int n = !path || !*path ? -1
            : path[0] == '/' ? snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path)
                             : snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s",
                                        c->user.home, path);
    if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
        errno = n < 0 ? EINVAL : ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int sf_fwd_direct_streamlocal(struct sf_conn *c, ssh_message msg)
{
    const char *path = ssh_message_channel_request_open_destination(msg);
    if (!streamlocal_allowed(c, "direct-streamlocal to", path))
        return 1;
    struct sockaddr_un sa;
    int fd = -1;
    if (unix_addr(c, path, &sa) == 0)
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* a unix connect finishes at once; EAGAIN: the listener's queue is full */
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        char safe[LOG_SAFE_SIZE];
        sf_conn_refused(c, LOG_INFO, "direct-streamlocal to %s: %s; channel refused",
                        log_safe(path, safe), strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    char safe[LOG_SAFE_SIZE];
    log_safe(sa.sun_path, safe);
    struct sf_fwd *f = fwd_new(c, SF_FWD_BRIDGE, fd);
    if (!f) {
        sf_conn_refused(c, LOG_WARN, "direct-streamlocal to %s refused: %u forwards open", safe,
                        c->n_fwds);
        close(fd);
        return 1;
    }
    snprintf(f->what, sizeof f->what, "direct-streamlocal to %s", safe);
    f->state = B_OPEN;
    return accept_open(f, msg);
}

/* 1 when PATH is a socket of ours that nobody listens on (a connection
 * that was killed left it behind): connect(2) is refused. A unix connect
 * completes or fails at once, so this never waits. */
static int stale_own_socket(const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
        return 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int refused = connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno == ECONNREFUSED;
    close(fd);
    return refused;
}

static int bind_listen(int fd, const struct sockaddr_un *sa)
{
    mode_t old = umask(0177);
    int rc = bind(fd, (const struct sockaddr *)sa, sizeof *sa);
    umask(old);
    return rc < 0 ? -1 : listen(fd, 64) < 0 ? -2 : 0;
}

/* Binds PATH as the user, mode 0600 (OpenSSH's StreamLocalBindMask). A
 * stale socket of the user's at PATH is replaced unless UNLINK_OFF (what
 * OpenSSH's StreamLocalBindUnlink yes does: a killed connection's gpg-agent
 * forward must not block the next one); a live socket or any other file is
 * never replaced. */
static int listen_unix(const struct sockaddr_un *sa, int unlink_off, ino_t *ino)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = bind_listen(fd, sa);
    if (rc == -1 && errno == EADDRINUSE && !unlink_off && stale_own_socket(sa) &&
        unlink(sa->sun_path) == 0) {
        char safe[LOG_SAFE_SIZE];
        log_info("remote forward of socket %s: replaced a stale socket nobody listened on",
                 log_safe(sa->sun_path, safe));
        rc = bind_listen(fd, sa);
    }
    struct stat st;
    if (rc == 0 && lstat(sa->sun_path, &st) == 0) {
        *ino = st.st_ino;
        return fd;
    }
    int e = rc == -1 ? errno : EADDRINUSE;
    if (rc == -2 || rc == 0)
        unlink(sa->sun_path);
    close(fd);
    errno = e;
    return -1;
}

int sf_fwd_streamlocal_forward(struct sf_conn *c, ssh_message msg)
{
    const char *path = ssh_message_global_request_address(msg);
    if (!streamlocal_allowed(c, "remote forward of socket", path))
        return 1;
    struct sockaddr_un sa;
    ino_t ino = 0;
    int fd = -1;
    if (c->n_fwds >= MAX_FWDS)
        errno = EMFILE;
    else if (unix_addr(c, path, &sa) == 0) /* shorter than sun_path, so than addr */
        fd = listen_unix(&sa, c->cfg->no_stream_local_bind_unlink, &ino);
    struct sf_fwd *l = fd >= 0 ? fwd_new(c, SF_FWD_UNIX_LISTEN, fd) : NULL;
    if (!l) {
        char safe[LOG_SAFE_SIZE];
        sf_conn_refused(c, LOG_INFO, "remote forward of socket %s: %s; refused",
                        log_safe(path, safe), strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(sa.sun_path);
        }
        return 1;
    }
    snprintf(l->addr, sizeof l->addr, "%s", path);
    snprintf(l->path, sizeof l->path, "%s", sa.sun_path);
    l->ino = ino;
    char safe[LOG_SAFE_SIZE];
    snprintf(l->what, sizeof l->what, "remote forward of socket %s", log_safe(l->path, safe));
    log_info("%s port %d: %s", c->peer, c->peer_port, l->what);
    ssh_message_global_request_reply_success(msg, 0);
    return 0;
}

int sf_fwd_cancel_streamlocal_forward(struct sf_conn *c, ssh_message msg)
{
    const char *path = ssh_message_global_request_address(msg);
    for (struct sf_fwd *l = c->fwds; l; l = l->next)
        if (l->kind == SF_FWD_UNIX_LISTEN && !l->dead && strcmp(l->addr, path ? path : "") == 0) {
            close_fd(&l->fd);
            l->dead = 1; /* free_fwd removes the socket file */
            log_info("%s port %d: %s cancelled", c->peer, c->peer_port, l->what);
            ssh_message_global_request_reply_success(msg, 0);
            return 0;
        }
    char safe[LOG_SAFE_SIZE];
    sf_conn_refused(c, LOG_INFO, "cancel of remote forward of socket %s refused: no such forward",
                    log_safe(path, safe));
    return 1;
}

/* ---- session-owned listeners (listeners.c makes them) ---- */

int sf_fwd_listener_add(struct sf_conn *c, const struct sf_listener_spec *s, int fd)
{
    struct sf_fwd *l = fwd_new(c, s->kind, fd);
    if (!l)
        return -1;
    l->owner = s->owner;
    l->display = s->display;
    if (s->x11)
        l->x11 = *s->x11;
    snprintf(l->path, sizeof l->path, "%s", s->path ? s->path : "");
    snprintf(l->what, sizeof l->what, "%s", s->what);
    return 0;
}

static void remove_socket_file(struct sf_fwd *f);

void sf_fwd_stop_owned(struct sf_conn *c, const void *owner, int x11_only)
{
    for (struct sf_fwd *f = c->fwds; f; f = f->next) {
        if (f->owner != owner || f->kind == SF_FWD_BRIDGE)
            continue;
        if (!x11_only) {
            close_fd(&f->fd);
            f->dead = 1;
            remove_socket_file(f);
        } else if (f->kind == SF_FWD_X11_LISTEN && !f->dead) {
            close_fd(&f->fd);
            f->dead = 1;
            log_info("%s port %d: %s closed with its session", c->peer, c->peer_port,
                     f->what);
        }
    }
}

/* ---- the loop ---- */

size_t sf_fwd_pollfds(struct sf_conn *c, struct pollfd *p, struct sf_fwd **ref, size_t max)
{
    size_t n = 0;
    for (struct sf_fwd *f = c->fwds; f && n < max; f = f->next) {
        if (f->dead || f->fd < 0)
            continue;
        short ev = 0;
        if (f->kind != SF_FWD_BRIDGE)
            ev = POLLIN;
        else if (f->state == B_CONNECTING)
            ev = POLLOUT;
        else if (f->state == B_OPEN) {
            if (!f->wr_shut && (f->in_off < f->in_len || f->pending > 0))
                ev |= POLLOUT;
            if (!f->sock_eof && f->unsent_len == 0 && chan_usable(f) &&
                ssh_channel_window_size(f->ch) > 0)
                ev |= POLLIN;
            else if (f->remote_closed && !f->sock_eof)
                ev |= POLLIN; /* discarded: see discard_input */
        }
        if (ev) {
            ref[n] = f;
            p[n++] = (struct pollfd){.fd = f->fd, .events = ev};
        }
    }
    return n;
}

void sf_fwd_ready(struct sf_conn *c, struct sf_fwd *f, const struct pollfd *p)
{
    (void)c;
    if (f->dead || p->fd != f->fd)
        return;
    if (f->kind != SF_FWD_BRIDGE) {
        accept_into_channel(f);
        return;
    }
    if (f->state == B_CONNECTING) {
        connect_done(f);
        return;
    }
    if (p->revents & (POLLOUT | POLLERR | POLLHUP))
        pump_to_socket(f);
    if (!f->dead && f->fd >= 0 && (p->revents & (POLLIN | POLLERR | POLLHUP)) &&
        (p->events & POLLIN)) {
        if (f->remote_closed)
            discard_input(f);
        else
            pump_from_socket(f);
    }
}

/* The listener's socket file goes; a streamlocal path only while it is
 * still the socket we bound (the user may have replaced it since). */
static void remove_socket_file(struct sf_fwd *f)
{
    struct stat st;
    /* The stable agent path leaves this socket before it goes. */
    if (f->path[0] && f->kind == SF_FWD_AGENT_LISTEN)
        sf_agent_link_remove(f->conn, f->path);
    if (f->path[0] && (f->kind != SF_FWD_UNIX_LISTEN ||
                       (lstat(f->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == f->ino)))
        unlink(f->path);
    f->path[0] = '\0';
}

static void free_fwd(struct sf_conn *c, struct sf_fwd *f)
{
    if (f->kind == SF_FWD_BRIDGE)
        log_debug("%s port %d: %s: ended", c->peer, c->peer_port, f->what);
    for (struct sf_fwd **pp = &c->fwds; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    c->n_fwds--;
    if (f->ch) {
        ssh_remove_channel_callbacks(f->ch, &f->cb);
        if (!f->remote_closed && ssh_channel_is_open(f->ch)) {
            /* EOF first: queued even when it cannot be flushed at once */
            if (!f->eof_sent)
                ssh_channel_send_eof(f->ch);
            ssh_channel_close(f->ch);
        }
        ssh_channel_free(f->ch);
    }
    close_fd(&f->fd);
    remove_socket_file(f);
    if (f->ai)
        freeaddrinfo(f->ai);
    free(f->inbuf);
    free(f->unsent);
    free(f->xsetup);
    free(f);
}

static void tend(struct sf_fwd *f)
{
    if (f->kind != SF_FWD_BRIDGE || f->dead)
        return;
    if (f->state == B_OPENING) {
        int rc = open_channel(f);
        if (rc < 0)
            bridge_abort(f, "the client refused the channel");
        else if (rc > 0)
            f->state = B_OPEN;
        return;
    }
    if (f->state != B_OPEN) {
        if (f->remote_closed) /* the client gave up while we were connecting */
            f->dead = 1;
        return;
    }
    if (f->pending > 0 || f->in_off < f->in_len)
        pump_to_socket(f);
    if (f->remote_closed) { /* what the client sent before its close still goes out */
        if (f->fd < 0 || (f->in_off == f->in_len && f->pending == 0))
            f->dead = 1;
        return;
    }
    if (f->unsent_len && flush_unsent(f) < 0)
        bridge_abort(f, "channel write failed");
    if (f->sock_eof)
        send_eof_once(f);
    if (f->client_eof && !f->wr_shut && f->fd >= 0 && f->in_off == f->in_len && f->pending == 0) {
        shutdown(f->fd, SHUT_WR);
        f->wr_shut = 1;
    }
    if (f->eof_sent && f->wr_shut)
        f->dead = 1; /* both ways done: free_fwd closes the channel */
}

void sf_fwd_housekeeping(struct sf_conn *c)
{
    struct sf_fwd *next;
    for (struct sf_fwd *f = c->fwds; f; f = f->next)
        tend(f);
    for (struct sf_fwd *f = c->fwds; f; f = next) {
        next = f->next;
        if (f->dead)
            free_fwd(c, f);
    }
}

void sf_fwd_close_all(struct sf_conn *c)
{
    for (struct sf_fwd *f = c->fwds; f; f = f->next) {
        close_fd(&f->fd);
        remove_socket_file(f);
    }
}
