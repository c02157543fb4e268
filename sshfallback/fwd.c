/* Forwarding: -L and -D (direct-tcpip), -R (tcpip-forward), unix sockets
 * both ways (direct-streamlocal, streamlocal-forward), and the channels of
 * the session-owned listeners (listeners.c): -A (agent) and -X (x11).
 * Every forwarded connection is a "bridge" between a socket and a channel,
 * moved by the pump (chan.c) once the socket is connected and the channel
 * open; each channel type is a table of operations. libssh callbacks only
 * mark state; structures are freed in sf_fwd_housekeeping, after the loop
 * turn. By the time any of this runs the connection process is the user,
 * so every connect, bind and socket file is the user's. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libssh/server.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FWDS 512            /* listeners and bridges per connection (fds < 1024) */
#define X11_SETUP_MAX 4096

enum bridge_state { B_CONNECTING, B_OPENING, B_OPEN };

struct sf_fwd {
    struct sf_fwd *next;
    struct sf_conn *conn;
    enum sf_fwd_kind kind;
    int fd, dead;                /* a listener's socket; a bridge's until it is open */
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
    struct sf_pump pump;
    enum bridge_state state;
    char open_host[256], orig_host[INET6_ADDRSTRLEN]; /* for the channels we open */
    int open_port, orig_port;
    struct addrinfo *ai, *ai_next;
    unsigned char *xsetup;       /* x11: the setup packet until its cookie is swapped */
    size_t xsetup_len;
    int x11_swap;
};

static struct sf_fwd *fwd_new(struct sf_conn *c, enum sf_fwd_kind kind, int fd,
                              const struct sf_chan_ops *ops)
{
    if (c->n_fwds >= MAX_FWDS)
        return NULL;
    struct sf_fwd *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->conn = c;
    f->kind = kind;
    f->fd = fd;
    sf_pump_init(&f->pump, ops, f);
    f->next = c->fwds;
    c->fwds = f;
    c->n_fwds++;
    return f;
}

static int forwarding_allowed(const struct sf_conn *c)
{
    return !c->cfg->no_port_forwarding && !c->opts.no_port_forwarding;
}

/* ---- bridges: the kinds ---- */

static void bridge_abort(struct sf_fwd *f, const char *why)
{
    if (why)
        log_info("%s port %d: %s: %s; channel closed", f->conn->peer, f->conn->peer_port,
                 f->what, why);
    sf_close_fd(&f->fd);
    sf_pump_stop(&f->pump);
    f->dead = 1;
}

static void pump_failed(struct sf_pump *p, const char *why)
{
    bridge_abort(p->self, why);
}

/* The client's EOF: the socket's peer reads its end, and may still write. */
static void shut_write(struct sf_pump *p)
{
    shutdown(p->fd_in, SHUT_WR);
    sf_pump_drop(p, &p->fd_in);
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
    if (sf_pump_send(&f->pump, 0, (const char *)f->xsetup, f->xsetup_len) < 0)
        return -1;
    free(f->xsetup);
    f->xsetup = NULL;
    f->x11_swap = 0;
    return 1;
}

static const char *x11_relay(struct sf_pump *p, const char *data, size_t n)
{
    struct sf_fwd *f = p->self;
    if (!f->x11_swap)
        return sf_pump_send(p, 0, data, n) < 0 ? "channel write failed" : NULL;
    return x11_swap_cookie(f, data, n) < 0 ? "X11 connection with a wrong cookie refused" : NULL;
}

/* Opening runs libssh's packet handling: called from the loop only. */
static int opened(int rc)
{
    return rc == SSH_OK ? 1 : rc == SSH_AGAIN ? 0 : -1;
}

static int open_forwarded_tcpip(struct sf_pump *p)
{
    const struct sf_fwd *f = p->self;
    return opened(ssh_channel_open_reverse_forward(p->ch, f->open_host, f->open_port,
                                                   f->orig_host, f->orig_port));
}

static int open_forwarded_streamlocal(struct sf_pump *p)
{
    const struct sf_fwd *f = p->self;
    return opened(ssh_channel_open_forwarded_streamlocal(p->ch, f->open_host));
}

static int open_agent(struct sf_pump *p)
{
    return opened(ssh_channel_open_auth_agent(p->ch));
}

static int open_x11(struct sf_pump *p)
{
    const struct sf_fwd *f = p->self;
    return opened(ssh_channel_open_x11(p->ch, f->orig_host, f->orig_port));
}

/* direct-tcpip and direct-streamlocal: the client opens them */
static const struct sf_chan_ops direct_ops = {.eof = shut_write, .abort = pump_failed};
static const struct sf_chan_ops forwarded_tcpip_ops = {
    .open = open_forwarded_tcpip, .eof = shut_write, .abort = pump_failed};
static const struct sf_chan_ops forwarded_streamlocal_ops = {
    .open = open_forwarded_streamlocal, .eof = shut_write, .abort = pump_failed};
static const struct sf_chan_ops agent_ops = {
    .open = open_agent, .eof = shut_write, .abort = pump_failed};
static const struct sf_chan_ops x11_ops = {
    .open = open_x11, .eof = shut_write, .abort = pump_failed, .relay = x11_relay};

/* ---- bridges: opening ---- */

/* The socket is connected and the channel open: the pump takes over. */
static void bridge_open(struct sf_fwd *f)
{
    f->state = B_OPEN;
    sf_pump_start(&f->pump, f->fd, f->fd, -1);
    f->fd = -1;
}

/* Confirms the client's channel open for bridge F; 0 (the open is answered). */
static int accept_open(struct sf_fwd *f, ssh_message msg)
{
    ssh_channel ch = ssh_message_channel_request_open_reply_accept(msg);
    if (!ch) {
        bridge_abort(f, "libssh could not accept the channel");
        return 0;
    }
    sf_pump_attach(&f->pump, ch);
    log_debug("%s port %d: %s", f->conn->peer, f->conn->peer_port, f->what);
    return 0;
}

/* Starts a non-blocking connect to the next address; -1 when none is left. */
static int connect_next(struct sf_fwd *f)
{
    sf_close_fd(&f->fd);
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
        freeaddrinfo(f->ai);
        f->ai = f->ai_next = NULL;
        bridge_open(f);
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
    struct sf_fwd *f = fwd_new(c, SF_FWD_BRIDGE, -1, &direct_ops);
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

/* What a connection accepted on listener L becomes: the channel kind
 * that carries it to the client, and what the client is told. */
static void describe_accepted(struct sf_fwd *f, const struct sf_fwd *l)
{
    if (l->kind == SF_FWD_TCP_LISTEN) {
        f->pump.ops = &forwarded_tcpip_ops;
        snprintf(f->open_host, sizeof f->open_host, "%s", l->addr);
        f->open_port = l->port;
        snprintf(f->what, sizeof f->what, "forwarded-tcpip from port %d", l->port);
    } else if (l->kind == SF_FWD_UNIX_LISTEN) {
        /* the client finds its forward by the path it asked for */
        f->pump.ops = &forwarded_streamlocal_ops;
        snprintf(f->open_host, sizeof f->open_host, "%s", l->addr);
        char safe[LOG_SAFE_SIZE];
        snprintf(f->what, sizeof f->what, "forwarded-streamlocal from %s", log_safe(l->path, safe));
    } else if (l->kind == SF_FWD_AGENT_LISTEN) {
        f->pump.ops = &agent_ops;
        snprintf(f->what, sizeof f->what, "agent connection");
    } else {
        f->pump.ops = &x11_ops;
        f->x11 = l->x11;
        f->x11_swap = 1;
        snprintf(f->what, sizeof f->what, "X11 connection to display :%d", l->display);
    }
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
    struct sf_fwd *f = ch ? fwd_new(c, SF_FWD_BRIDGE, fd, NULL) : NULL;
    if (f)
        describe_accepted(f, l);
    if (!f) {
        log_warn("%s port %d: forwarded connection dropped: %u forwards open", c->peer,
                 c->peer_port, c->n_fwds);
        if (ch)
            ssh_channel_free(ch);
        close(fd);
        return;
    }
    sf_pump_attach(&f->pump, ch);
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
    if (f->pump.ops->open(&f->pump) < 0)
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
    struct sf_fwd *l = fd >= 0 ? fwd_new(c, SF_FWD_TCP_LISTEN, fd, NULL) : NULL;
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
            sf_close_fd(&l->fd);
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
    struct sf_fwd *f = fwd_new(c, SF_FWD_BRIDGE, fd, &direct_ops);
    if (!f) {
        sf_conn_refused(c, LOG_WARN, "direct-streamlocal to %s refused: %u forwards open", safe,
                        c->n_fwds);
        close(fd);
        return 1;
    }
    snprintf(f->what, sizeof f->what, "direct-streamlocal to %s", safe);
    bridge_open(f);
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
    struct sf_fwd *l = fd >= 0 ? fwd_new(c, SF_FWD_UNIX_LISTEN, fd, NULL) : NULL;
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
            sf_close_fd(&l->fd);
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
    struct sf_fwd *l = fwd_new(c, s->kind, fd, NULL);
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
            sf_close_fd(&f->fd);
            f->dead = 1;
            remove_socket_file(f);
        } else if (f->kind == SF_FWD_X11_LISTEN && !f->dead) {
            sf_close_fd(&f->fd);
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
        size_t k = 0;
        if (f->dead)
            continue;
        if (f->kind != SF_FWD_BRIDGE || f->state == B_CONNECTING) {
            if (f->fd >= 0)
                p[n + k++] = (struct pollfd){.fd = f->fd,
                                             .events = f->kind != SF_FWD_BRIDGE ? POLLIN : POLLOUT};
        } else if (f->state == B_OPEN) {
            k = sf_pump_pollfds(&f->pump, p + n, max - n);
        }
        for (; k > 0; k--)
            ref[n++] = f;
    }
    return n;
}

void sf_fwd_ready(struct sf_conn *c, struct sf_fwd *f, const struct pollfd *p)
{
    (void)c;
    if (f->dead)
        return;
    if (f->kind != SF_FWD_BRIDGE) {
        if (p->fd == f->fd)
            accept_into_channel(f);
    } else if (f->state == B_CONNECTING) {
        if (p->fd == f->fd)
            connect_done(f);
    } else if (f->state == B_OPEN) {
        sf_pump_ready(&f->pump, p);
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
    sf_pump_free(&f->pump);
    sf_close_fd(&f->fd);
    remove_socket_file(f);
    if (f->ai)
        freeaddrinfo(f->ai);
    free(f->xsetup);
    free(f);
}

/* The client closed the channel: what it sent before still goes out,
 * then the bridge ends. */
static void tend_closed(struct sf_fwd *f)
{
    struct sf_pump *p = &f->pump;
    sf_pump_tend(p);
    if (p->fd_in < 0 || (p->in_off == p->in_len && p->pending == 0))
        f->dead = 1;
}

static void tend(struct sf_fwd *f)
{
    struct sf_pump *p = &f->pump;
    if (f->kind != SF_FWD_BRIDGE || f->dead)
        return;
    if (f->state == B_OPENING) {
        int rc = p->ops->open(p);
        if (rc < 0)
            bridge_abort(f, "the client refused the channel");
        else if (rc > 0)
            bridge_open(f);
        return;
    }
    if (f->state != B_OPEN) {
        if (p->remote_closed) /* the client gave up while we were connecting */
            f->dead = 1;
        return;
    }
    if (p->remote_closed) {
        tend_closed(f);
        return;
    }
    sf_pump_tend(p);
    if (f->dead)
        return;
    if (p->fd_out[0] < 0) /* the socket's peer is done writing */
        sf_pump_send_eof(p);
    if (p->eof_sent && p->fd_in < 0)
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
        sf_close_fd(&f->fd);
        sf_pump_stop(&f->pump);
        remove_socket_file(f);
    }
}
