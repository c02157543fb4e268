/* One connection, one process: key exchange, public key authentication,
 * becoming the user, then the session loop. Everything runs from a single
 * poll(2) over the signalfd, a timerfd (login grace, keepalive), the SSH
 * socket and the sessions' descriptors; libssh is non-blocking throughout. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libssh/server.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYS_MAX_BYTES (1 << 20)
#define POLL_MAX 1024

/* A peer that is no IP socket (-i on pipes, a unix socket) is "UNKNOWN"
 * port 65535, as OpenSSH's sshd -i has it: SSH_CONNECTION keeps its four
 * words and from= sees no address it could mistake for a real one. */
static void addr_of(const struct sockaddr_storage *ss, char *out, size_t size, int *port)
{
    const void *a = NULL;
    *port = SF_UNKNOWN_PORT;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ss;
        a = &s4->sin_addr;
        *port = ntohs(s4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ss;
        a = &s6->sin6_addr;
        *port = ntohs(s6->sin6_port);
    }
    if (!a || !inet_ntop(ss->ss_family, a, out, (socklen_t)size)) {
        snprintf(out, size, SF_UNKNOWN_PEER);
        *port = SF_UNKNOWN_PORT;
    }
    /* Show IPv4 peers of a dual-stack socket as IPv4, as sshd does. */
    if (strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, '.'))
        memmove(out, out + 7, strlen(out + 7) + 1);
}

static void set_timer(int tfd, unsigned first_s, unsigned every_s)
{
    struct itimerspec its = {.it_value = {.tv_sec = first_s}, .it_interval = {.tv_sec = every_s}};
    timerfd_settime(tfd, 0, &its, NULL);
}

/* ---- reading the user's files with the user's rights ---- */

/* Root reads files in the user's home with the user's filesystem identity:
 * a symlink or a 0600 file then gives exactly what the user could read, and
 * nothing of root's. O_NONBLOCK keeps a FIFO from stalling the process. */
static char *read_as_user(const struct sf_conn *c, const char *path, size_t *len, int *err)
{
    int root = geteuid() == 0;
    if (root) {
        setfsgid(c->user.gid);
        setfsuid(c->user.uid);
    }
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    *err = fd < 0 ? errno : 0;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) < 0)
        *err = errno;
    else if (fd >= 0 && !S_ISREG(st.st_mode))
        *err = EINVAL;
    else if (fd >= 0 && ((st.st_mode & 022) || (st.st_uid != c->user.uid && st.st_uid != 0)))
        *err = EPERM; /* like sshd's StrictModes for the file itself */
    if (!*err && (buf = malloc(KEYS_MAX_BYTES + 1)) == NULL)
        *err = ENOMEM;
    if (!*err) {
        size_t n = 0;
        ssize_t r;
        while (n < KEYS_MAX_BYTES && (r = read(fd, buf + n, KEYS_MAX_BYTES - n)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                *err = errno;
                break;
            }
            n += (size_t)r;
        }
        buf[n] = '\0';
        *len = n;
    }
    if (fd >= 0)
        close(fd);
    if (root) {
        setfsuid(0);
        setfsgid(0);
    }
    if (*err) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static void keys_path(const struct sf_conn *c, char *out, size_t size)
{
    if (c->cfg->authorized_keys)
        snprintf(out, size, "%s", c->cfg->authorized_keys);
    else
        snprintf(out, size, "%s/.ssh/authorized_keys", c->user.home);
}

/* What the log says for each reason to end the connection. */
static const char *const stop_text[SF_STOP_KEEPALIVE + 1] = {
    [SF_STOP_AUTH_FAILURES] = "Too many authentication failures",
    [SF_STOP_SHUTDOWN] = "Server shutting down",
    [SF_STOP_GRACE] = "Login grace time exceeded",
    [SF_STOP_KEEPALIVE] = "Timeout, client not responding",
};

/* ---- authentication ---- */

static int count_failure(struct sf_conn *c)
{
    if (++c->failures >= (int)c->cfg->max_auth_tries) {
        log_warn("%s port %d: too many authentication failures (%d); disconnecting",
                 c->peer, c->peer_port, c->failures);
        c->stop = SF_STOP_AUTH_FAILURES;
    }
    return SSH_AUTH_DENIED;
}

static enum sf_match lookup_key(struct sf_conn *c, ssh_key pubkey, struct sf_keyopts *opts)
{
    char path[4200];
    keys_path(c, path, sizeof path);
    size_t len = 0;
    int err;
    char *text = read_as_user(c, path, &len, &err);
    if (!text) {
        if (err == EPERM)
            log_warn("%s: ignored: bad ownership or modes (must be the user's or root's, "
                     "not group/world writable)", path);
        else
            log_info("%s: %s", path, strerror(err));
        return SF_MATCH_NONE;
    }
    /* The wire blob, decoded from libssh's base64 (the blob export is not
     * public API of libssh). */
    char *b64 = NULL;
    enum sf_match m = SF_MATCH_NONE;
    static unsigned char blob[16384];
    long blen = -1;
    if (ssh_pki_export_pubkey_base64(pubkey, &b64) == SSH_OK)
        blen = envfile_base64_decode(b64, strlen(b64), blob, sizeof blob);
    if (blen > 0)
        m = sf_authkeys_find(text, len, blob, (size_t)blen, c->peer, path, opts);
    ssh_string_free_char(b64);
    free(text);
    return m;
}

/* Takes the user's groups, gid and uid; drops every capability (the
 * bounding set is left alone so setuid programs like sudo keep working).
 * Done before the client sends a byte: a flaw in what parses it then
 * gains no more than a login does. */
static int become_user(struct sf_conn *c)
{
    /* The process holds the host key: the user's other processes must not
     * ptrace it or read its memory. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (geteuid() != 0)
        return 0;
    gid_t groups[256];
    int n = envfile_user_groups(c->cfg->group_path, c->user.name, c->user.gid, groups, 256);
    if (n < 1) {
        groups[0] = c->user.gid;
        n = 1;
    }
    if (setgroups((size_t)n, groups) < 0) {
        log_error("setgroups for %s: %s; connection closed", c->user.name, strerror(errno));
        return -1;
    }
    capng_clear(CAPNG_SELECT_CAPS);
    int rc = capng_change_id((int)c->user.uid, (int)c->user.gid, CAPNG_NO_FLAG);
    if (rc < 0 || getuid() != c->user.uid || geteuid() != c->user.uid) {
        log_error("becoming %s (uid %u): libcap-ng error %d; connection closed",
                  c->user.name, (unsigned)c->user.uid, rc);
        return -1;
    }
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* a change of uid may have reset it */
    return 0;
}

static void report_authenticated(struct sf_conn *c)
{
    int32_t pid = (int32_t)getpid();
    if (c->report_fd >= 0) {
        ssize_t w = write(c->report_fd, &pid, sizeof pid);
        (void)w;
        close(c->report_fd);
        c->report_fd = -1;
    }
}

/* The Banner, once, when the client first asks to log in: RFC 4252 lets
 * the server send it only once user authentication has begun. */
static void send_banner(struct sf_conn *c, ssh_session session)
{
    if (c->banner_sent || !c->cfg->banner_text)
        return;
    c->banner_sent = 1;
    ssh_string s = ssh_string_from_char(c->cfg->banner_text);
    if (!s || ssh_send_issue_banner(session, s) != SSH_OK)
        log_warn("%s port %d: cannot send the banner: %s; going on without it", c->peer, c->peer_port,
                 s ? ssh_get_error(session) : strerror(ENOMEM));
    ssh_string_free(s);
}

/* A security key's signature (libssh has verified it, flags included) must
 * carry the flags its authorized_keys line asks for: user presence unless
 * no-touch-required, user verification with verify-required. 1 refused. */
static int sk_refused(const struct sf_conn *c, ssh_session session, ssh_key pubkey,
                      const struct sf_keyopts *opts)
{
    enum ssh_keytypes_e t = ssh_key_type(pubkey);
    if (t != SSH_KEYTYPE_SK_ED25519 && t != SSH_KEYTYPE_SK_ECDSA &&
        t != SSH_KEYTYPE_SK_ED25519_CERT01 && t != SSH_KEYTYPE_SK_ECDSA_CERT01)
        return 0;
    int flags = ssh_session_get_sk_flags(session);
    const char *why = sf_sk_flags_refusal(opts, flags);
    if (why)
        log_warn("%s port %d: %s signature (flags 0x%02x) for %s refused: %s", c->peer,
                 c->peer_port, ssh_key_type_to_char(t), flags < 0 ? 0 : (unsigned)flags,
                 c->user.name, why);
    return why != NULL;
}

static int auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
                       char state, void *userdata)
{
    struct sf_conn *c = userdata;
    if (c->authenticated || c->stop)
        return SSH_AUTH_DENIED;
    send_banner(c, session);
    if (strcmp(user, c->user.name) != 0) {
        char safe[LOG_SAFE_SIZE];
        log_warn("%s port %d: user '%s' refused: only %s may log in", c->peer,
                 c->peer_port, log_safe(user, safe), c->user.name);
        return count_failure(c);
    }
    if (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID)
        return count_failure(c);
    struct sf_keyopts opts;
    enum sf_match m = lookup_key(c, pubkey, &opts);
    if (m != SF_MATCH_OK) {
        log_info("%s port %d: %s key %s for %s", c->peer, c->peer_port,
                 ssh_key_type_to_char(ssh_key_type(pubkey)),
                 m == SF_MATCH_REFUSED ? "refused by its options" : "not authorized", c->user.name);
        return count_failure(c);
    }
    if (state == SSH_PUBLICKEY_STATE_NONE) { /* a probe: "would you take this key?" */
        sf_keyopts_free(&opts);
        return SSH_AUTH_SUCCESS;
    }
    if (sk_refused(c, session, pubkey, &opts)) {
        sf_keyopts_free(&opts);
        return count_failure(c);
    }
    c->opts = opts;
    c->authenticated = 1;
    report_authenticated(c);
    set_timer(c->tfd, c->cfg->keepalive_s, c->cfg->keepalive_s);
    log_info("%s port %d: accepted %s key for %s%s", c->peer, c->peer_port,
             ssh_key_type_to_char(ssh_key_type(pubkey)), c->user.name,
             opts.command ? " (forced command)" : "");
    return SSH_AUTH_SUCCESS;
}

static int auth_none(ssh_session session, const char *user, void *userdata)
{
    (void)user;
    send_banner(userdata, session);
    return SSH_AUTH_DENIED; /* the method list answer; not a failed try */
}

/* ---- the loop ---- */

static void handle_signals(struct sf_conn *c)
{
    struct signalfd_siginfo si;
    while (read(c->sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            int st;
            pid_t pid;
            while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
                sf_session_reaped(c, pid, st);
        } else {
            c->stop = SF_STOP_SHUTDOWN;
        }
    }
}

static void handle_timer(struct sf_conn *c)
{
    uint64_t n;
    if (read(c->tfd, &n, sizeof n) != sizeof n)
        return;
    if (!c->authenticated) {
        log_info("%s port %d: not authenticated within %u s; disconnecting", c->peer,
                 c->peer_port, c->cfg->grace_s);
        c->stop = SF_STOP_GRACE;
    } else if (c->cfg->keepalive_max && c->alive_unanswered >= c->cfg->keepalive_max) {
        log_info("%s port %d: no answer to %u keepalives; disconnecting", c->peer, c->peer_port,
                 c->alive_unanswered);
        c->stop = SF_STOP_KEEPALIVE;
    } else {
        ssh_send_keepalive(c->session);
        c->alive_unanswered++;
    }
}

static void session_ready(struct sf_conn *c)
{
    if (!c->kex_done) {
        int rc = ssh_handle_key_exchange(c->session);
        if (rc == SSH_OK) {
            c->kex_done = 1;
            ssh_event_add_session(c->event, c->session);
        } else if (rc == SSH_ERROR) {
            const char *e = ssh_get_error(c->session);
            log_info("%s port %d: key exchange failed: %s", c->peer, c->peer_port,
                     e && *e ? e : "protocol error");
            c->stop = SF_STOP_KEX_FAILED;
        }
        return;
    }
    ssh_event_dopoll(c->event, 0);
}

static int connection_gone(struct sf_conn *c)
{
    int st = ssh_get_status(c->session);
    return (st & (SSH_CLOSED | SSH_CLOSED_ERROR)) || ssh_get_fd(c->session) == SSH_INVALID_SOCKET;
}

/* Reaps the programs hung up by sf_session_hangup_all and their orphans
 * (this process is their subreaper), waiting on the signalfd for at most a
 * second: a program that ignores SIGHUP is left to the init process
 * (envinit reaps it), as sshd leaves it. */
static void reap_hung_up(struct sf_conn *c)
{
    set_timer(c->tfd, 1, 0);
    for (;;) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
            sf_session_reaped(c, pid, st);
        if (pid < 0) /* ECHILD: nothing left */
            return;
        struct pollfd p[2] = {{.fd = c->sfd, .events = POLLIN}, {.fd = c->tfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return;
        if (p[1].revents)
            return;
        struct signalfd_siginfo si;
        while (read(c->sfd, &si, sizeof si) == sizeof si)
            ;
    }
}

/* Why the connection ends, for the sessions' log lines. libssh says
 * "disconnected" when the client closed the socket without a word. */
static const char *end_reason(const struct sf_conn *c)
{
    if (c->stop == SF_STOP_SHUTDOWN)
        return "killed";
    if (c->stop == SF_STOP_KEEPALIVE)
        return "timeout";
    if (!(ssh_get_status(c->session) & SSH_CLOSED_ERROR))
        return "client-closed";
    const char *e = ssh_get_error(c->session);
    if (e && strstr(e, "disconnected"))
        return "client-closed";
    return e && strstr(e, "timed out") ? "timeout" : "network";
}

/* An end that libssh chose (a protocol violation: a message out of place,
 * a packet too long, data past a window) is logged with its reason; a
 * failed key exchange was logged already, a client's close needs none. */
static void log_end(const struct sf_conn *c, const char *why)
{
    if (c->kex_done && strcmp(why, "network") == 0) {
        const char *e = ssh_get_error(c->session);
        log_info("%s port %d: connection closed: %s", c->peer, c->peer_port,
                 e && *e ? e : "protocol error");
    }
    if (c->refusals > SF_REFUSALS_LOGGED)
        log_info("%s port %d: %u more refusals not logged", c->peer, c->peer_port,
                 c->refusals - SF_REFUSALS_LOGGED);
}

/* The connection has ended (or must end): forwards closed, programs hung
 * up and reaped, each session's line logged, the client told. */
static void wind_down(struct sf_conn *c)
{
    const char *why = end_reason(c);
    log_end(c, why);
    sf_fwd_close_all(c);
    sf_listen_close_all();
    sf_session_hangup_all(c);
    reap_hung_up(c);
    sf_session_end_all(c, why);
    if (!connection_gone(c)) {
        if (stop_text[c->stop])
            log_debug("%s port %d: disconnect: %s", c->peer, c->peer_port, stop_text[c->stop]);
        ssh_disconnect(c->session);
    }
    log_debug("%s port %d: connection closed", c->peer, c->peer_port);
}

/* Returns when the connection ends or must end. */
static void loop(struct sf_conn *c)
{
    struct pollfd p[POLL_MAX];
    struct sf_chan *ref[POLL_MAX];
    struct sf_fwd *fref[POLL_MAX];
    for (;;) {
        if (c->stop || connection_gone(c))
            return;
        int flags = ssh_get_poll_flags(c->session);
        p[0] = (struct pollfd){.fd = c->sfd, .events = POLLIN};
        p[1] = (struct pollfd){.fd = c->tfd, .events = POLLIN};
        p[2] = (struct pollfd){.fd = ssh_get_fd(c->session),
                               .events = (short)(POLLIN | ((flags & SSH_WRITE_PENDING) ? POLLOUT : 0))};
        size_t ns = 3 + sf_session_pollfds(c, p + 3, ref + 3, POLL_MAX - 3);
        size_t n = ns + sf_fwd_pollfds(c, p + ns, fref + ns, POLL_MAX - ns);
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s; connection closed", strerror(errno));
            return;
        }
        if (p[0].revents)
            handle_signals(c);
        if (p[1].revents)
            handle_timer(c);
        if (p[2].revents & POLLIN)
            c->alive_unanswered = 0; /* any byte from the client shows it is there */
        if (p[2].revents)
            session_ready(c);
        for (size_t i = 3; i < ns; i++)
            if (p[i].revents)
                sf_session_ready(ref[i], &p[i]);
        for (size_t i = ns; i < n; i++)
            if (p[i].revents)
                sf_fwd_ready(c, fref[i], &p[i]);
        sf_session_housekeeping(c);
        sf_fwd_housekeeping(c);
    }
}

static int setup(struct sf_conn *c, ssh_bind bind, int fd)
{
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
        ss.ss_family = AF_UNSPEC;
    addr_of(&ss, c->peer, sizeof c->peer, &c->peer_port);
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        ss.ss_family = AF_UNSPEC;
    addr_of(&ss, c->local, sizeof c->local, &c->local_port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    /* The signals the listener blocked (inherited across fork) are the
     * ones this process reads from its signalfd. */
    sigset_t set;
    sigprocmask(SIG_BLOCK, NULL, &set);
    c->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (c->sfd < 0 || c->tfd < 0)
        return -1;
    set_timer(c->tfd, c->cfg->grace_s, 0);

    c->session = ssh_new();
    c->event = ssh_event_new();
    if (!c->session || !c->event || ssh_bind_accept_fd(bind, c->session, fd) != SSH_OK) {
        log_error("%s port %d: libssh could not take the connection: %s", c->peer,
                  c->peer_port, ssh_get_error(bind));
        return -1;
    }
    c->server_cb = (struct ssh_server_callbacks_struct){
        .userdata = c,
        .auth_pubkey_function = auth_pubkey,
        .auth_none_function = auth_none,
        .channel_open_request_session_function = sf_session_open,
    };
    ssh_callbacks_init(&c->server_cb);
    ssh_set_server_callbacks(c->session, &c->server_cb);
    /* Channel opens and global requests the callbacks above do not cover
     * (forwarding) come through libssh's message callback. */
    ssh_set_message_callback(c->session, sf_dispatch_message, c);
    ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
    ssh_set_blocking(c->session, 0);
    return 0;
}

static void serve(struct sf_conn *c)
{
    log_debug("connection from %s port %d", c->peer, c->peer_port);
    /* libssh queues our identification until the socket reports writable,
     * but handles the client's bytes of the same poll first: a client whose
     * first line came with the connection and is not an identification
     * then got the connection closed without ours. A fresh socket's send
     * buffer is empty, so the banner goes out now, before anything is read. */
    ssh_set_fd_towrite(c->session);
    session_ready(c);
    loop(c);
    wind_down(c);
}

void sf_conn_run(const struct sf_config *cfg, void *bind, int fd, int report_fd)
{
    static struct sf_conn c;
    c.cfg = cfg;
    c.report_fd = report_fd;
    /* The listener's signal mask and handlers are ours now; SIGPIPE stays
     * ignored (a dead client must not kill us mid-write). */
    /* Read again for each connection (a changed shell or home applies to
     * the next login), by the same rule the listener used. */
    struct envfile_self self;
    envfile_self_init(&self, cfg->user);
    if (envfile_user_serve(cfg->passwd_path, &self, &c.user) < 0 || c.user.uid != cfg->account->uid) {
        log_error("user %s vanished from %s or changed its uid; connection closed", cfg->user,
                  cfg->passwd_path);
        _exit(1);
    }
    if (become_user(&c) < 0)
        _exit(1);
    /* Orphans of the user's programs come back to us, so a vanished client
     * leaves no zombie even where PID 1 is slow to reap. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (setup(&c, bind, fd) < 0)
        _exit(1);
    serve(&c);
    _exit(0);
}

int sf_conn_serve_here(const struct sf_config *cfg, void *bind, int fd)
{
    struct sf_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -1;
    }
    *c = (struct sf_conn){.cfg = cfg, .user = *cfg->account, .sfd = -1, .tfd = -1, .report_fd = -1};
    int ok = setup(c, bind, fd) == 0;
    /* libssh owns the socket once it holds it: ssh_free closes it. */
    if (!c->session || ssh_get_fd(c->session) != fd)
        close(fd);
    if (ok)
        serve(c);
    int rc = ok ? c->authenticated : -1;
    if (c->event)
        ssh_event_free(c->event);
    if (c->session)
        ssh_free(c->session);
    if (c->sfd >= 0)
        close(c->sfd);
    if (c->tfd >= 0)
        close(c->tfd);
    sf_keyopts_free(&c->opts);
    free(c);
    return rc;
}
