/* Session channels: the user's program behind a pty or three pipes, and the
 * byte pumps between it and the channel. Flow control both ways: output is
 * read only while the client's window has room; input the program does not
 * take yet stays in libssh (which then stops growing our window). */
#define SF_INTERNAL
#include "sshfallback.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/server.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define INBUF_SIZE (256 * 1024)
#define ENV_FILE_MAX (256 * 1024)

struct sf_chan {
    struct sf_chan *next;
    struct sf_conn *conn;
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb;
    pid_t pid;
    int started, exited, status;
    int in_fd, out_fd, err_fd;  /* parent ends; with a pty: the master (dup'ed) */
    int master;                 /* pty master until the program starts */
    char tty[64], term[128];
    struct winsize ws;
    struct envfile_vars env;    /* accepted client variables */
    char *inbuf;                /* input the program has not taken yet */
    size_t in_len, in_off;
    uint32_t pending;           /* bytes libssh still holds for us */
    int reading;                /* inside ssh_channel_read_nonblocking */
    int client_eof, close_sent, remote_closed;
    int is_pty, is_sftp;
    int env_capped;             /* the env caps were hit (logged once) */
    char agent_sock[256];       /* SSH_AUTH_SOCK, when -A */
    char display[64];           /* DISPLAY, when -X */
    char x11_proto[64], x11_fake[160]; /* the session's cookie (hex) */
    char xauth_file[128];       /* XAUTHORITY, in the session's private folder */
    int x11_screen;
    struct {                    /* output libssh did not take (during a re-key) */
        char *buf;
        size_t len, off;
    } unsent[2];                /* [0] stdout, [1] stderr */
    /* for the line logged when the session ends */
    unsigned id;                /* the connection's Nth session */
    struct timespec opened;     /* CLOCK_MONOTONIC */
    unsigned long long bytes_in, bytes_out; /* from the client, to it */
    const char *ran;            /* shell, exec, sftp, forced-command; NULL: nothing */
    char cmd[SF_LOG_SAFE_SIZE]; /* the command, escaped and cut */
    const char *end_why;        /* exited, client-closed, network, timeout, killed */
    int logged;
};

static char outbuf[256 * 1024];

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int can_send(const struct sf_chan *c)
{
    return !c->close_sent && !c->remote_closed && ssh_channel_is_open(c->ch) &&
           ssh_channel_window_size(c->ch) > 0;
}

/* ---- environment ---- */

static void read_env_file(struct sf_chan *c, struct envfile_vars *vs)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.ssh/environment", c->conn->user.home);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return;
    struct stat st;
    char *buf = NULL;
    ssize_t n = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (buf = malloc(ENV_FILE_MAX)) != NULL)
        n = read(fd, buf, ENV_FILE_MAX);
    close(fd);
    if (n > 0) {
        unsigned bad = 0;
        if (envfile_env_parse(buf, (size_t)n, vs, &bad) < 0)
            sf_log(SF_WARN, "%s: %s; using what was read before", path, strerror(errno));
        if (bad)
            sf_log(SF_DEBUG, "%s: %u lines without NAME=value ignored", path, bad);
    }
    free(buf);
}

static void set_var(struct envfile_vars *vs, const char *name, const char *value)
{
    envfile_vars_set(vs, name, strlen(name), value, strlen(value));
}

/* What sshd with PermitUserEnvironment yes gives, in its order: the client's
 * accepted variables, the login basics, SSH_*, TERM, then ~/.ssh/environment
 * over all of them, and SSH_ORIGINAL_COMMAND last. */
static char **build_env(struct sf_chan *c, const char *original_cmd)
{
    const struct sf_conn *k = c->conn;
    struct envfile_vars vs = {0};
    for (size_t i = 0; i < c->env.n; i++) {
        const struct envfile_var *v = &c->env.v[i];
        const char *val = envfile_var_value(v);
        envfile_vars_set(&vs, v->entry, v->name_len, val, strlen(val));
    }
    const char *shell = k->user.shell[0] ? k->user.shell : "/bin/sh";
    set_var(&vs, "USER", k->user.name);
    set_var(&vs, "LOGNAME", k->user.name);
    set_var(&vs, "HOME", k->user.home);
    set_var(&vs, "SHELL", shell);
    set_var(&vs, "PATH", SF_DEFAULT_PATH);
    char buf[256];
    snprintf(buf, sizeof buf, "%s %d %d", k->peer, k->peer_port, k->local_port);
    set_var(&vs, "SSH_CLIENT", buf);
    snprintf(buf, sizeof buf, "%s %d %s %d", k->peer, k->peer_port, k->local, k->local_port);
    set_var(&vs, "SSH_CONNECTION", buf);
    if (c->master >= 0) {
        set_var(&vs, "SSH_TTY", c->tty);
        set_var(&vs, "TERM", c->term[0] ? c->term : "dumb");
    }
    if (c->agent_sock[0])
        set_var(&vs, "SSH_AUTH_SOCK", c->agent_sock);
    if (c->display[0]) {
        const char *dir = sf_fwd_private_dir(c->conn, c);
        set_var(&vs, "DISPLAY", c->display);
        if (dir) {
            snprintf(c->xauth_file, sizeof c->xauth_file, "%s/Xauthority", dir);
            set_var(&vs, "XAUTHORITY", c->xauth_file);
        }
    }
    read_env_file(c, &vs);
    if (original_cmd)
        set_var(&vs, "SSH_ORIGINAL_COMMAND", original_cmd);
    char **envp = calloc(vs.n + 1, sizeof *envp);
    if (envp) {
        for (size_t i = 0; i < vs.n; i++) {
            envp[i] = vs.v[i].entry; /* ownership moves to envp */
            vs.v[i].entry = NULL;
        }
    }
    envfile_vars_free(&vs);
    return envp;
}

static void free_env(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* ---- starting the program ---- */

/* OpenSSH's PrintMotd: an interactive login (pty, no command) shows
 * /etc/motd unless ~/.hushlogin exists. Runs in the child, as the user. */
static void show_motd(const struct sf_chan *c)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.hushlogin", c->conn->user.home);
    if (c->conn->cfg->no_motd || access(path, F_OK) == 0)
        return;
    int fd = open("/etc/motd", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char b[8192];
        ssize_t n;
        size_t total = 0;
        while (total < (1 << 20) && (n = read(fd, b, sizeof b)) > 0) {
            total += (size_t)n;
            if (write(1, b, (size_t)n) != n)
                break;
        }
    }
    close(fd);
}

static void put16(unsigned char **p, size_t n)
{
    *(*p)++ = (unsigned char)(n >> 8);
    *(*p)++ = (unsigned char)n;
}

/* An Xauthority entry written without xauth: FamilyLocal (256) for this
 * host name, the display number, the protocol and the cookie. */
static int write_xauth_file(const char *file, int display, const char *proto, const char *hex)
{
    char host[256] = "localhost", num[16];
    unsigned char data[128], out[1024], *p = out;
    gethostname(host, sizeof host - 1);
    snprintf(num, sizeof num, "%d", display);
    size_t dl = strlen(hex) / 2;
    if (dl > sizeof data || strlen(host) + strlen(proto) + dl + 64 > sizeof out)
        return -1;
    for (size_t i = 0; i < dl; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        data[i] = (unsigned char)v;
    }
    put16(&p, 256);
    put16(&p, strlen(host));
    memcpy(p, host, strlen(host));
    p += strlen(host);
    put16(&p, strlen(num));
    memcpy(p, num, strlen(num));
    p += strlen(num);
    put16(&p, strlen(proto));
    memcpy(p, proto, strlen(proto));
    p += strlen(proto);
    put16(&p, dl);
    memcpy(p, data, dl);
    p += dl;
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, out, (size_t)(p - out));
    close(fd);
    return w == p - out ? 0 : -1;
}

static const char *find_xauth(void)
{
    static const char *const paths[] = {"/usr/bin/xauth", "/usr/X11R6/bin/xauth",
                                        "/usr/local/bin/xauth", "/bin/xauth"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* The session's X11 cookie into its XAUTHORITY file, in the child (as the
 * user): with the image's xauth when there is one, else written by us. */
static void setup_xauth(const struct sf_chan *c)
{
    if (!c->xauth_file[0])
        return;
    const char *file = c->xauth_file;
    char disp[64];
    const char *colon = strchr(c->display, ':');
    int n = colon ? atoi(colon + 1) : 0;
    snprintf(disp, sizeof disp, "unix:%d.%d", n, c->x11_screen);
    const char *xauth = find_xauth();
    if (xauth) {
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (null >= 0)
                dup2(null, 0);
            char *const argv[] = {(char *)"xauth", (char *)"-q", (char *)"-f", (char *)file,
                                  (char *)"add", disp, (char *)c->x11_proto,
                                  (char *)c->x11_fake, NULL};
            char *const envp[] = {NULL};
            execve(xauth, argv, envp);
            _exit(127);
        }
        int st = 0;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            return;
        dprintf(2, SF_NAME ": %s could not write %s; writing it directly\n", xauth, file);
    }
    if (write_xauth_file(file, n, c->x11_proto, c->x11_fake) < 0)
        dprintf(2, SF_NAME ": cannot write the X11 cookie to %s: %s\n", file, strerror(errno));
}

static void __attribute__((noreturn)) child_exec(const struct sf_chan *c, int in, int out,
                                                 int err, const char *shell, int login,
                                                 char *const *argv, char *const *envp)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Whatever we inherited (a shell's background job ignores SIGINT and
     * SIGQUIT), the user's program starts with every default: ^C works. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    setsid();
    if (c->master >= 0) {
        int slave = open(c->tty, O_RDWR | O_CLOEXEC);
        if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
            _exit(126);
        in = out = err = slave;
    }
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    closefrom(3);
    if (chdir(c->conn->user.home) < 0) {
        dprintf(2, "Could not chdir to home directory %s: %s\n", c->conn->user.home,
                strerror(errno));
        if (chdir("/") < 0)
            _exit(126);
    }
    if (c->is_sftp) {
        /* Subsystem sftp internal-sftp FLAGS: sftp-server's flags */
        const struct sf_config *cfg = c->conn->cfg;
        char *args[SF_MAX_SFTP_ARGS + 2] = {SF_SFTP_SERVER_SWITCH};
        for (size_t i = 0; i < cfg->n_sftp_args; i++)
            args[i + 1] = cfg->sftp_args[i];
        sf_reexec(args);
    }
    if (c->display[0])
        setup_xauth(c);
    if (login && c->master >= 0)
        show_motd(c);
    execve(shell, argv, envp);
    dprintf(2, SF_NAME ": cannot run the user's shell %s: %s\n", shell, strerror(errno));
    _exit(127);
}

static int make_pipes(int p[3][2])
{
    for (int i = 0; i < 3; i++)
        p[i][0] = p[i][1] = -1;
    for (int i = 0; i < 3; i++)
        if (pipe2(p[i], O_CLOEXEC) < 0)
            return -1;
    /* Bigger pipes: fewer wake-ups per megabyte in bulk transfers. */
    fcntl(p[0][1], F_SETPIPE_SZ, 1 << 20);
    fcntl(p[1][0], F_SETPIPE_SZ, 1 << 20);
    return 0;
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int start_program(struct sf_chan *c, const char *requested)
{
    struct sf_conn *k = c->conn;
    if (c->started)
        return -1;
    const char *cmd = k->opts.command ? k->opts.command : requested;
    if (k->opts.command)
        c->is_sftp = 0; /* a forced command runs instead of any subsystem */
    const char *shell = k->user.shell[0] ? k->user.shell : "/bin/sh";
    const char *base = strrchr(shell, '/') ? strrchr(shell, '/') + 1 : shell;
    char argv0[4200];
    snprintf(argv0, sizeof argv0, "%s%s", cmd ? "" : "-", base);
    char **envp = build_env(c, k->opts.command ? requested : NULL);
    int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    pid_t pid = -1;
    if (envp && (c->master >= 0 || make_pipes(p) == 0) &&
        (c->inbuf = malloc(INBUF_SIZE)) != NULL)
        pid = fork();
    if (pid == 0) {
        char *argv[4] = {argv0, cmd ? "-c" : NULL, (char *)cmd, NULL};
        child_exec(c, p[0][0], p[1][1], p[2][1], shell, cmd == NULL, argv, envp);
    }
    free_env(envp);
    if (pid < 0) {
        sf_log(SF_ERROR, "session for %s: %s; request refused", k->user.name, strerror(errno));
        for (int i = 0; i < 3; i++) {
            close_fd(&p[i][0]);
            close_fd(&p[i][1]);
        }
        return -1;
    }
    if (c->master >= 0) {
        c->out_fd = c->master;
        c->in_fd = fcntl(c->master, F_DUPFD_CLOEXEC, 3);
        c->master = -1;
        c->is_pty = 1;
    } else {
        c->in_fd = p[0][1];
        c->out_fd = p[1][0];
        c->err_fd = p[2][0];
        close(p[0][0]);
        close(p[1][1]);
        close(p[2][1]);
    }
    set_nonblock(c->in_fd);
    set_nonblock(c->out_fd);
    if (c->err_fd >= 0)
        set_nonblock(c->err_fd);
    c->pid = pid;
    c->started = 1;
    c->master = -1;
    c->ran = k->opts.command ? "forced-command" : c->is_sftp ? "sftp" : cmd ? "exec" : "shell";
    if (cmd && !c->is_sftp)
        sf_log_safe(cmd, c->cmd);
    sf_log(SF_DEBUG, "%s port %d: session %d.%u: %s for %s (pid %d)", k->peer, k->peer_port,
           (int)getpid(), c->id, c->ran, k->user.name, (int)pid);
    return 0;
}

/* ---- channel requests ---- */

/* pty-req: a message rather than a channel callback, because the callback
 * does not carry the terminal modes. 0 when set up, -1 refused. */
static int pty_request(struct sf_chan *c, const char *term, struct winsize ws,
                       const unsigned char *modes, size_t modes_len)
{
    if (c->conn->opts.no_pty) {
        sf_conn_refused(c->conn, SF_INFO, "pty refused by the key's options");
        return -1;
    }
    if (c->started || c->master >= 0)
        return -1;
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, c->tty, sizeof c->tty)) {
        sf_log(SF_WARN, "pty for %s: %s; pty request refused", c->conn->user.name,
               strerror(errno));
        if (m >= 0)
            close(m);
        return -1;
    }
    c->master = m;
    c->ws = ws;
    ioctl(m, TIOCSWINSZ, &c->ws);
    snprintf(c->term, sizeof c->term, "%s", term ? term : "");
    /* On Linux the master's termios calls reach the pty's (slave) side. */
    struct termios t;
    if (modes_len > 0 && tcgetattr(m, &t) == 0) {
        int n = sf_tty_modes_apply(modes, modes_len, &t);
        if (n < 0)
            sf_log(SF_INFO, "%s port %d: terminal modes cut short; the rest of them ignored",
                   c->conn->peer, c->conn->peer_port);
        if (tcsetattr(m, TCSANOW, &t) < 0)
            sf_log(SF_INFO, "%s port %d: terminal modes for %s: %s; kernel defaults kept",
                   c->conn->peer, c->conn->peer_port, c->tty, strerror(errno));
    }
    return 0;
}

/* "break" (RFC 4335) on a pty: what the kernel's line discipline does with
 * a BREAK from a serial line, since a pty has none. BRKINT: SIGINT to the
 * foreground process group; otherwise, unless IGNBRK, a NUL byte reads in
 * (with PARMRK, \377 \0 \0). -1 without a pty (refused, as sshd does). */
static int send_break(struct sf_chan *c, uint32_t ms)
{
    int fd = c->started ? c->out_fd : -1;
    struct termios t;
    if (!c->is_pty || fd < 0 || tcgetattr(fd, &t) < 0)
        return -1;
    const char *what = "ignored (IGNBRK)";
    if (t.c_iflag & IGNBRK) {
        /* nothing */
    } else if (t.c_iflag & BRKINT) {
        pid_t pg = tcgetpgrp(fd);
        what = pg > 0 && kill(-pg, SIGINT) == 0 ? "SIGINT to the foreground process group"
                                                : "no foreground process group";
    } else {
        static const char parmrk[] = {'\377', '\0', '\0'};
        int mark = (t.c_iflag & PARMRK) != 0;
        what = write(fd, mark ? parmrk : "", mark ? 3 : 1) > 0 ? "NUL byte as input"
                                                              : "pty full; dropped";
    }
    sf_log(SF_DEBUG, "%s port %d: break (%u ms) on %s: %s", c->conn->peer, c->conn->peer_port,
           ms, c->tty, what);
    return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* libssh keeps the pty-req fields behind accessors it marks deprecated
 * (in favour of the callback, which lacks the modes). */
static int pty_message(struct sf_chan *c, ssh_message msg)
{
    struct winsize ws = {
        .ws_row = (unsigned short)ssh_message_channel_request_pty_height(msg),
        .ws_col = (unsigned short)ssh_message_channel_request_pty_width(msg),
        .ws_xpixel = (unsigned short)ssh_message_channel_request_pty_pxwidth(msg),
        .ws_ypixel = (unsigned short)ssh_message_channel_request_pty_pxheight(msg),
    };
    size_t mlen = 0;
    const unsigned char *modes = ssh_message_channel_request_pty_modes(msg, &mlen);
    return pty_request(c, ssh_message_channel_request_pty_term(msg), ws, modes, mlen);
}

int sf_session_message(struct sf_conn *k, ssh_message msg)
{
    ssh_channel ch = ssh_message_channel_request_channel(msg);
    struct sf_chan *c = k->chans;
    while (c && c->ch != ch)
        c = c->next;
    if (!c)
        return 1;
    int rc = -1;
    if (ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_PTY)
        rc = pty_message(c, msg);
    else if (ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_BREAK)
        rc = send_break(c, ssh_message_channel_request_break_length(msg));
    if (rc < 0)
        return 1;
    ssh_message_channel_request_reply_success(msg);
    return 0;
}
#pragma GCC diagnostic pop

static int on_window_change(ssh_session s, ssh_channel ch, int w, int h, int pw, int ph,
                            void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    c->ws = (struct winsize){.ws_row = (unsigned short)h, .ws_col = (unsigned short)w,
                             .ws_xpixel = (unsigned short)pw, .ws_ypixel = (unsigned short)ph};
    int fd = c->started ? c->out_fd : c->master;
    return fd >= 0 && ioctl(fd, TIOCSWINSZ, &c->ws) == 0 ? 0 : -1;
}

/* Whether setting NAME to VALUE keeps the session's client variables
 * within the caps (a NAME already set is replaced, not added). */
static int env_fits(const struct sf_chan *c, const char *name, const char *value)
{
    const struct envfile_var *old = envfile_vars_find(&c->env, name);
    size_t bytes = strlen(name) + strlen(value) + 2;
    for (size_t i = 0; i < c->env.n; i++)
        if (&c->env.v[i] != old)
            bytes += strlen(c->env.v[i].entry) + 1;
    return sf_env_within_caps(c->env.n + (old ? 0 : 1), bytes);
}

static int on_env(ssh_session s, ssh_channel ch, const char *name, const char *value, void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    const struct sf_config *cfg = c->conn->cfg;
    if (c->started || !envfile_name_valid(name, strlen(name)) ||
        !envfile_value_valid(value, strlen(value)) ||
        !sf_env_accepted(name, cfg->accept_env, cfg->n_accept_env)) {
        char safe[SF_LOG_SAFE_SIZE];
        sf_log(SF_DEBUG, "client variable %s not accepted", sf_log_safe(name, safe));
        return -1;
    }
    if (!env_fits(c, name, value)) {
        if (!c->env_capped)
            sf_log(SF_WARN, "%s port %d: client variables refused from %s on: the session "
                   "holds %zu (at most %d variables, %d bytes); logged once per session",
                   c->conn->peer, c->conn->peer_port, name, c->env.n, SF_ENV_MAX_VARS,
                   SF_ENV_MAX_BYTES);
        c->env_capped = 1;
        return -1;
    }
    return envfile_vars_set(&c->env, name, strlen(name), value, strlen(value));
}

static int on_shell(ssh_session s, ssh_channel ch, void *ud)
{
    (void)s;
    (void)ch;
    return start_program(ud, NULL) == 0 ? 0 : 1;
}

static int on_exec(ssh_session s, ssh_channel ch, const char *command, void *ud)
{
    (void)s;
    (void)ch;
    return start_program(ud, command) == 0 ? 0 : 1;
}

static int on_subsystem(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    if (strcmp(name, "sftp") == 0 && !c->conn->cfg->no_sftp && !c->started) {
        /* Allowed under "restrict", as in OpenSSH; a forced command wins. */
        c->is_sftp = 1;
        if (start_program(c, c->conn->opts.command ? "internal-sftp" : "sftp") == 0)
            return 0;
        c->is_sftp = 0;
        return 1;
    }
    char safe[SF_LOG_SAFE_SIZE];
    sf_conn_refused(c->conn, SF_INFO, "subsystem '%s' %s", sf_log_safe(name, safe),
                    strcmp(name, "sftp") == 0 ? "refused (--no-sftp)" : "not supported");
    return 1;
}

/* Set only when the connection may forward the agent: without the
 * callback the request reaches sf_session_agent_refused. */
static void on_agent_req(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    if (c->started || c->agent_sock[0])
        return;
    sf_fwd_agent_listen(c->conn, c, c->agent_sock, sizeof c->agent_sock);
}

int sf_session_agent_refused(struct sf_conn *c, ssh_message msg)
{
    (void)msg;
    sf_conn_refused(c, SF_INFO, "agent forwarding refused: %s",
                    c->cfg->no_agent_forwarding ? "--no-agent-forwarding" : "the key's options");
    return 1;
}

int sf_session_x11(struct sf_conn *k, ssh_channel ch, const char *proto, const char *cookie,
                   int screen)
{
    struct sf_chan *c = k->chans;
    while (c && c->ch != ch)
        c = c->next;
    if (!c || k->cfg->no_x11_forwarding || k->opts.no_x11_forwarding) {
        sf_conn_refused(k, SF_INFO, "X11 forwarding refused: %s",
                        !c ? "not a session" : k->cfg->no_x11_forwarding ? "--no-x11-forwarding"
                                                                         : "the key's options");
        return -1;
    }
    if (c->started || screen < 0 || screen > 1000 || !proto || !cookie)
        return -1;
    unsigned held = 0;
    for (const struct sf_chan *o = k->chans; o; o = o->next)
        held += o->display[0] != '\0';
    if (!sf_x11_display_allowed(held, c->display[0] != '\0')) {
        sf_conn_refused(k, SF_INFO, "X11 forwarding refused: %s (%u per connection)",
                        c->display[0] ? "the session has a display already"
                                      : "the connection holds the most displays it may",
                        (unsigned)SF_X11_MAX_DISPLAYS);
        return -1;
    }
    if (sf_fwd_x11_listen(k, c, proto, cookie, screen, c->display, sizeof c->display,
                          c->x11_fake, sizeof c->x11_fake) < 0)
        return -1;
    snprintf(c->x11_proto, sizeof c->x11_proto, "%s", proto);
    c->x11_screen = screen;
    return 0;
}

static void on_signal(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    static const struct { const char *name; int sig; } sigs[] = {
        {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"FPE", SIGFPE},   {"HUP", SIGHUP},
        {"ILL", SIGILL},   {"INT", SIGINT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE},
        {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
        {"USR2", SIGUSR2},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (strcmp(name, sigs[i].name) == 0 && c->started && !c->exited) {
            kill(c->pid, sigs[i].sig);
            return;
        }
}

/* ---- input: client -> program ---- */

/* Copies bytes libssh holds for us. libssh 0.11 handles packets first, so
 * on_data may run inside: it then leaves the new data behind the old in
 * libssh's buffer instead of writing it ahead of what is read here. */
static int read_pending(struct sf_chan *c, char *dst, uint32_t want)
{
    c->reading = 1;
    int n = ssh_channel_read_nonblocking(c->ch, dst, want, 0);
    c->reading = 0;
    if (n > 0)
        c->bytes_in += (unsigned)n;
    return n;
}

static void stdin_gone(struct sf_chan *c)
{
    close_fd(&c->in_fd);
    c->in_len = c->in_off = 0;
    /* Keep consuming so the client's window keeps moving, as sshd does. */
    while (c->pending > 0) {
        int n = read_pending(c, outbuf, c->pending < sizeof outbuf ? c->pending : sizeof outbuf);
        if (n <= 0)
            break;
        c->pending -= (uint32_t)n;
    }
    c->pending = 0;
}

static int take_data(struct sf_chan *c, const void *data, uint32_t len, int is_stderr)
{
    if (is_stderr)
        return (int)len;
    if (c->reading) {
        c->pending = len;
        return 0;
    }
    if (!c->started)
        return 0; /* kept by libssh until the program runs */
    if (c->in_fd < 0)
        return (int)len;
    /* Buffered, not written at once: the loop writes what a whole socket
     * read brought (several packets) in one write(2), one wake-up of the
     * program instead of one per 32 KiB packet. */
    if (c->in_off == c->in_len)
        c->in_len = c->in_off = 0;
    else if (c->in_off > 0 && INBUF_SIZE - c->in_len < len) {
        memmove(c->inbuf, c->inbuf + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    size_t room = INBUF_SIZE - c->in_len;
    uint32_t take = len < room ? len : (uint32_t)room;
    memcpy(c->inbuf + c->in_len, data, take);
    c->in_len += take;
    c->pending = len - take;
    return (int)take;
}

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
                   void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    int n = take_data(c, data, len, is_stderr);
    c->bytes_in += (unsigned)n;
    return n;
}

static void pump_stdin(struct sf_chan *c)
{
    while (c->in_fd >= 0) {
        if (c->in_off < c->in_len) {
            ssize_t w = write(c->in_fd, c->inbuf + c->in_off, c->in_len - c->in_off);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (w < 0) {
                stdin_gone(c);
                return;
            }
            c->in_off += (size_t)w;
            if (c->in_off < c->in_len)
                return;
        }
        c->in_len = c->in_off = 0;
        if (c->pending == 0)
            return;
        uint32_t want = c->pending < INBUF_SIZE ? c->pending : INBUF_SIZE;
        int n = read_pending(c, c->inbuf, want);
        if (n <= 0) {
            c->pending = 0;
            return;
        }
        c->pending -= (uint32_t)n;
        c->in_len = (size_t)n;
    }
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    c->client_eof = 1;
}

static void on_close(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_chan *c = ud;
    (void)s;
    (void)ch;
    c->remote_closed = 1;
    if (!c->end_why)
        c->end_why = c->exited ? "exited" : "client-closed";
    if (c->started && !c->exited)
        kill(-c->pid, SIGHUP);
}

/* ---- output: program -> client ---- */

static void drop_unsent(struct sf_chan *c, int is_err)
{
    free(c->unsent[is_err].buf);
    c->unsent[is_err].buf = NULL;
    c->unsent[is_err].len = c->unsent[is_err].off = 0;
}

static int chan_write(struct sf_chan *c, int is_err, const char *data, size_t n)
{
    return is_err ? ssh_channel_write_stderr(c->ch, data, (uint32_t)n)
                  : ssh_channel_write(c->ch, data, (uint32_t)n);
}

/* Sends DATA; what libssh does not take now (it takes nothing while a
 * re-key runs) is kept and sent first next time: output is never lost.
 * 0, or -1 when the channel is broken. */
static int send_chunk(struct sf_chan *c, int is_err, const char *data, size_t n)
{
    c->bytes_out += n; /* what libssh does not take now goes out later */
    int rc = chan_write(c, is_err, data, n);
    if (rc == SSH_ERROR)
        return -1;
    if ((size_t)rc < n) {
        char *copy = malloc(n - (size_t)rc);
        if (!copy)
            return -1;
        memcpy(copy, data + rc, n - (size_t)rc);
        c->unsent[is_err].buf = copy;
        c->unsent[is_err].len = n - (size_t)rc;
        c->unsent[is_err].off = 0;
    }
    return 0;
}

/* 1 when nothing is left unsent, 0 when some still is, -1 on error. */
static int flush_unsent(struct sf_chan *c, int is_err)
{
    if (c->unsent[is_err].len == 0)
        return 1;
    if (!can_send(c))
        return 0;
    size_t left = c->unsent[is_err].len - c->unsent[is_err].off;
    uint32_t win = ssh_channel_window_size(c->ch);
    int rc = chan_write(c, is_err, c->unsent[is_err].buf + c->unsent[is_err].off,
                           left < win ? left : win);
    if (rc == SSH_ERROR) {
        drop_unsent(c, is_err);
        return -1;
    }
    c->unsent[is_err].off += (size_t)rc;
    if (c->unsent[is_err].off < c->unsent[is_err].len)
        return 0;
    drop_unsent(c, is_err);
    return 1;
}

static void pump_output(struct sf_chan *c, int *fd, int is_err)
{
    int f = flush_unsent(c, is_err);
    if (f < 0)
        close_fd(fd);
    uint32_t win = ssh_channel_window_size(c->ch);
    if (f != 1 || !can_send(c) || win == 0)
        return;
    size_t want = win < sizeof outbuf ? win : sizeof outbuf;
    ssize_t n = read(*fd, outbuf, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* EOF, or EIO once a pty's last user closed it */
        close_fd(fd);
        return;
    }
    if (send_chunk(c, is_err, outbuf, (size_t)n) < 0)
        close_fd(fd);
}

size_t sf_session_pollfds(struct sf_conn *k, struct pollfd *p, struct sf_chan **ref, size_t max)
{
    size_t n = 0;
    for (struct sf_chan *c = k->chans; c && n + 3 <= max; c = c->next) {
        if (c->in_fd >= 0 && (c->in_off < c->in_len || c->pending > 0)) {
            ref[n] = c;
            p[n++] = (struct pollfd){.fd = c->in_fd, .events = POLLOUT};
        }
        if (!can_send(c))
            continue;
        if (c->out_fd >= 0 && c->unsent[0].len == 0) {
            ref[n] = c;
            p[n++] = (struct pollfd){.fd = c->out_fd, .events = POLLIN};
        }
        if (c->err_fd >= 0 && c->unsent[1].len == 0) {
            ref[n] = c;
            p[n++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
        }
    }
    return n;
}

void sf_session_ready(struct sf_chan *c, const struct pollfd *p)
{
    /* A callback during this turn may have closed and reused descriptors:
     * act only on what is still this channel's. */
    if ((p->events & POLLOUT) && p->fd == c->in_fd)
        pump_stdin(c);
    else if (p->fd == c->out_fd && !(p->events & POLLOUT))
        pump_output(c, &c->out_fd, 0);
    else if (p->fd == c->err_fd && !(p->events & POLLOUT))
        pump_output(c, &c->err_fd, 1);
}

void sf_session_reaped(struct sf_conn *k, pid_t pid, int status)
{
    for (struct sf_chan *c = k->chans; c; c = c->next)
        if (c->started && c->pid == pid && !c->exited) {
            c->exited = 1;
            c->status = status;
            return;
        }
}

/* ---- ending ---- */

static void send_exit(struct sf_chan *c)
{
    if (WIFSIGNALED(c->status)) {
        const char *name = sigabbrev_np(WTERMSIG(c->status));
        ssh_channel_request_send_exit_signal(c->ch, name ? name : "KILL",
                                             WCOREDUMP(c->status) ? 1 : 0, "", "");
    } else {
        ssh_channel_request_send_exit_status(c->ch, WEXITSTATUS(c->status));
    }
    if (!c->end_why)
        c->end_why = "exited";
    /* EOF first: in non-blocking mode ssh_channel_close gives up when its
     * own EOF cannot be flushed at once; sent separately, it is queued. */
    ssh_channel_send_eof(c->ch);
    ssh_channel_close(c->ch);
}

/* A pty's output after the program exits: take what is there, then stop
 * (other holders of the terminal do not keep the session open). */
static void drain_pty(struct sf_chan *c)
{
    while (c->out_fd >= 0 && can_send(c) && flush_unsent(c, 0) == 1) {
        uint32_t win = ssh_channel_window_size(c->ch);
        ssize_t n = read(c->out_fd, outbuf, win < sizeof outbuf ? win : sizeof outbuf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || send_chunk(c, 0, outbuf, (size_t)n) < 0)
            close_fd(&c->out_fd);
    }
}

/* How the program ended, for the log: its exit code, SIGNAME, "none"
 * when nothing ran, "running" when it was not reaped (it ignored SIGHUP). */
static void exit_text(const struct sf_chan *c, char *buf, size_t size)
{
    if (!c->started)
        snprintf(buf, size, "none");
    else if (!c->exited)
        snprintf(buf, size, "running");
    else if (WIFSIGNALED(c->status))
        snprintf(buf, size, "SIG%s", sigabbrev_np(WTERMSIG(c->status)) ? sigabbrev_np(WTERMSIG(c->status)) : "?");
    else
        snprintf(buf, size, "%d", WEXITSTATUS(c->status));
}

/* The one line a session leaves in the log, when it ends; WHY when no
 * reason was noted before. The command is the client's (escaped, cut)
 * and comes last, so that it cannot be taken for another field. */
static void log_end(struct sf_chan *c, const char *why)
{
    if (c->logged)
        return;
    c->logged = 1;
    struct sf_conn *k = c->conn;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - c->opened.tv_sec) * 1000L + (now.tv_nsec - c->opened.tv_nsec) / 1000000L;
    char ex[32];
    exit_text(c, ex, sizeof ex);
    sf_log(SF_INFO, "session %d.%u ended: user=%s client=%s:%d ran=%s in=%llu out=%llu "
           "duration=%ld.%03lds exit=%s end=%s%s%s", (int)getpid(), c->id, k->user.name, k->peer,
           k->peer_port, c->ran ? c->ran : "nothing", c->bytes_in, c->bytes_out, ms / 1000, ms % 1000,
           ex, c->end_why ? c->end_why : why, c->cmd[0] ? " cmd=" : "", c->cmd);
}

void sf_session_end_all(struct sf_conn *k, const char *why)
{
    for (struct sf_chan *c = k->chans; c; c = c->next)
        log_end(c, why);
}

static void free_chan(struct sf_conn *k, struct sf_chan *c)
{
    for (struct sf_chan **pp = &k->chans; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    k->n_chans--;
    log_end(c, "client-closed");
    sf_fwd_session_ended(k, c);
    ssh_remove_channel_callbacks(c->ch, &c->cb);
    ssh_channel_free(c->ch);
    close_fd(&c->in_fd);
    close_fd(&c->out_fd);
    close_fd(&c->err_fd);
    close_fd(&c->master);
    envfile_vars_free(&c->env);
    drop_unsent(c, 0);
    drop_unsent(c, 1);
    free(c->inbuf);
    free(c);
}

static void tend(struct sf_conn *k, struct sf_chan *c)
{
    if (c->remote_closed) {
        close_fd(&c->in_fd);
        close_fd(&c->out_fd);
        close_fd(&c->err_fd);
        drop_unsent(c, 0);
        drop_unsent(c, 1);
    }
    for (int i = 0; i < 2; i++)
        if (c->unsent[i].len && flush_unsent(c, i) < 0 && i == 0)
            close_fd(&c->out_fd);
    /* On a pty, EOF is the terminal's business (^D), not a close. */
    if (c->client_eof && !c->is_pty && c->in_fd >= 0 && c->in_off == c->in_len &&
        c->pending == 0)
        close_fd(&c->in_fd);
    if (c->is_pty && c->exited)
        drain_pty(c);
    if (c->started && c->exited && c->out_fd < 0 && c->err_fd < 0 && !c->unsent[0].len &&
        !c->unsent[1].len && !c->close_sent) {
        close_fd(&c->in_fd);
        if (!c->remote_closed)
            send_exit(c);
        c->close_sent = 1;
        /* The program is gone: its display goes now, as with sshd, not when
         * (or if) the client answers our close. */
        if (c->display[0])
            sf_fwd_x11_release(k, c);
        c->display[0] = '\0';
    }
    if (c->remote_closed && (c->close_sent || !c->started))
        free_chan(k, c);
}

void sf_session_housekeeping(struct sf_conn *k)
{
    struct sf_chan *next;
    for (struct sf_chan *c = k->chans; c; c = next) {
        next = c->next;
        tend(k, c);
    }
}

void sf_session_hangup_all(struct sf_conn *k)
{
    for (struct sf_chan *c = k->chans; c; c = c->next)
        if (c->started && !c->exited) {
            kill(-c->pid, SIGHUP);
            kill(-c->pid, SIGCONT);
        }
}

ssh_channel sf_session_open(ssh_session session, void *userdata)
{
    struct sf_conn *k = userdata;
    if (!k->authenticated)
        return NULL;
    if (k->n_chans >= k->cfg->max_sessions) {
        sf_conn_refused(k, SF_WARN, "session refused: already %u sessions (max-sessions)",
                        k->n_chans);
        return NULL;
    }
    struct sf_chan *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ch = ssh_channel_new(session);
    if (!c->ch) {
        free(c);
        return NULL;
    }
    static unsigned sessions;
    c->conn = k;
    c->id = ++sessions;
    clock_gettime(CLOCK_MONOTONIC, &c->opened);
    c->in_fd = c->out_fd = c->err_fd = c->master = -1;
    c->cb = (struct ssh_channel_callbacks_struct){
        .userdata = c,
        .channel_data_function = on_data,
        .channel_eof_function = on_eof,
        .channel_close_function = on_close,
        .channel_signal_function = on_signal,
        .channel_shell_request_function = on_shell,
        .channel_pty_window_change_function = on_window_change,
        .channel_exec_request_function = on_exec,
        .channel_env_request_function = on_env,
        .channel_subsystem_request_function = on_subsystem,
    };
    if (!k->cfg->no_agent_forwarding && !k->opts.no_agent_forwarding)
        c->cb.channel_auth_agent_req_function = on_agent_req;

    ssh_callbacks_init(&c->cb);
    ssh_set_channel_callbacks(c->ch, &c->cb);
    c->next = k->chans;
    k->chans = c;
    k->n_chans++;
    return c->ch;
}
