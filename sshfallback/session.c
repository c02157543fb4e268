/* Session channels: the user's program behind a pty or three pipes,
 * connected to the channel by the pump (chan.c) with the session's
 * operations: the client's EOF closes the program's stdin (not a pty's),
 * the client's close hangs the program up, and the channel ends with the
 * program's exit status once its output is all out. */
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

#define ENV_FILE_MAX (256 * 1024)

struct sf_chan {
    struct sf_chan *next;
    struct sf_conn *conn;
    struct sf_pump pump;        /* fd_in, fd_out: the parent's ends; with a pty:
                                   the master (dup'ed for fd_in) */
    pid_t pid;
    int exited, status;
    int master;                 /* pty master until the program starts */
    char tty[64], term[128];
    struct winsize ws;
    struct envfile_vars env;    /* accepted client variables */
    int is_pty, is_sftp;
    int env_capped;             /* the env caps were hit (logged once) */
    char agent_sock[256];       /* SSH_AUTH_SOCK, when -A */
    char display[64];           /* DISPLAY, when -X */
    char x11_proto[64], x11_fake[160]; /* the session's cookie (hex) */
    char xauth_file[128];       /* XAUTHORITY, in the session's private folder */
    int x11_screen;
    /* for the line logged when the session ends */
    unsigned id;                /* the connection's Nth session */
    struct timespec opened;     /* CLOCK_MONOTONIC */
    const char *ran;            /* shell, exec, sftp, forced-command; NULL: nothing */
    char cmd[LOG_SAFE_SIZE]; /* the command, escaped and cut */
    const char *end_why;        /* exited, client-closed, network, timeout, killed */
    int logged;
};

static struct sf_chan *sess_of(void *ud)
{
    return ((struct sf_pump *)ud)->self;
}

/* ---- environment ---- */

static void read_env_file(struct sf_chan *sess, struct envfile_vars *vs)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.ssh/environment", sess->conn->user.home);
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
            log_warn("%s: %s; using what was read before", path, strerror(errno));
        if (bad)
            log_debug("%s: %u lines without NAME=value ignored", path, bad);
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
static char **build_env(struct sf_chan *sess, const char *original_cmd)
{
    const struct sf_conn *c = sess->conn;
    struct envfile_vars vs = {0};
    for (size_t i = 0; i < sess->env.n; i++) {
        const struct envfile_var *v = &sess->env.v[i];
        const char *val = envfile_var_value(v);
        envfile_vars_set(&vs, v->entry, v->name_len, val, strlen(val));
    }
    const char *shell = c->user.shell[0] ? c->user.shell : "/bin/sh";
    set_var(&vs, "USER", c->user.name);
    set_var(&vs, "LOGNAME", c->user.name);
    set_var(&vs, "HOME", c->user.home);
    set_var(&vs, "SHELL", shell);
    set_var(&vs, "PATH", SF_DEFAULT_PATH);
    char buf[256];
    snprintf(buf, sizeof buf, "%s %d %d", c->peer, c->peer_port, c->local_port);
    set_var(&vs, "SSH_CLIENT", buf);
    snprintf(buf, sizeof buf, "%s %d %s %d", c->peer, c->peer_port, c->local, c->local_port);
    set_var(&vs, "SSH_CONNECTION", buf);
    if (sess->master >= 0) {
        set_var(&vs, "SSH_TTY", sess->tty);
        set_var(&vs, "TERM", sess->term[0] ? sess->term : "dumb");
    }
    if (sess->agent_sock[0])
        set_var(&vs, "SSH_AUTH_SOCK", sess->agent_sock);
    if (sess->display[0]) {
        const char *dir = sf_listen_private_dir(sess->conn, sess);
        set_var(&vs, "DISPLAY", sess->display);
        if (dir) {
            snprintf(sess->xauth_file, sizeof sess->xauth_file, "%s/Xauthority", dir);
            set_var(&vs, "XAUTHORITY", sess->xauth_file);
        }
    }
    read_env_file(sess, &vs);
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
static void show_motd(const struct sf_chan *sess)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.hushlogin", sess->conn->user.home);
    if (sess->conn->cfg->no_motd || access(path, F_OK) == 0)
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
static void setup_xauth(const struct sf_chan *sess)
{
    if (!sess->xauth_file[0])
        return;
    const char *file = sess->xauth_file;
    char disp[64];
    const char *colon = strchr(sess->display, ':');
    int n = colon ? atoi(colon + 1) : 0;
    snprintf(disp, sizeof disp, "unix:%d.%d", n, sess->x11_screen);
    const char *xauth = find_xauth();
    if (xauth) {
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (null >= 0)
                dup2(null, 0);
            char *const argv[] = {(char *)"xauth", (char *)"-q", (char *)"-f", (char *)file,
                                  (char *)"add", disp, (char *)sess->x11_proto,
                                  (char *)sess->x11_fake, NULL};
            char *const envp[] = {NULL};
            execve(xauth, argv, envp);
            _exit(127);
        }
        int st = 0;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            return;
        dprintf(2, SF_NAME ": %s could not write %s; writing it directly\n", xauth, file);
    }
    if (write_xauth_file(file, n, sess->x11_proto, sess->x11_fake) < 0)
        dprintf(2, SF_NAME ": cannot write the X11 cookie to %s: %s\n", file, strerror(errno));
}

static void __attribute__((noreturn)) child_exec(const struct sf_chan *sess, int in, int out,
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
    if (sess->master >= 0) {
        int slave = open(sess->tty, O_RDWR | O_CLOEXEC);
        if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
            _exit(126);
        in = out = err = slave;
    }
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    closefrom(3);
    if (chdir(sess->conn->user.home) < 0) {
        dprintf(2, "Could not chdir to home directory %s: %s\n", sess->conn->user.home,
                strerror(errno));
        if (chdir("/") < 0)
            _exit(126);
    }
    if (sess->is_sftp) {
        /* Subsystem sftp internal-sftp FLAGS: sftp-server's flags */
        const struct sf_config *cfg = sess->conn->cfg;
        char *args[SF_MAX_SFTP_ARGS + 2] = {SF_SFTP_SERVER_SWITCH};
        for (size_t i = 0; i < cfg->n_sftp_args; i++)
            args[i + 1] = cfg->sftp_args[i];
        sf_reexec(args);
    }
    if (sess->display[0])
        setup_xauth(sess);
    if (login && sess->master >= 0)
        show_motd(sess);
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

static int start_program(struct sf_chan *sess, const char *requested)
{
    struct sf_conn *c = sess->conn;
    if (sess->pump.started)
        return -1;
    const char *cmd = c->opts.command ? c->opts.command : requested;
    if (c->opts.command)
        sess->is_sftp = 0; /* a forced command runs instead of any subsystem */
    const char *shell = c->user.shell[0] ? c->user.shell : "/bin/sh";
    const char *base = strrchr(shell, '/') ? strrchr(shell, '/') + 1 : shell;
    char argv0[4200];
    snprintf(argv0, sizeof argv0, "%s%s", cmd ? "" : "-", base);
    char **envp = build_env(sess, c->opts.command ? requested : NULL);
    int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    pid_t pid = -1;
    if (envp && (sess->master >= 0 || make_pipes(p) == 0))
        pid = fork();
    if (pid == 0) {
        char *argv[4] = {argv0, cmd ? "-c" : NULL, (char *)cmd, NULL};
        child_exec(sess, p[0][0], p[1][1], p[2][1], shell, cmd == NULL, argv, envp);
    }
    free_env(envp);
    if (pid < 0) {
        log_error("session for %s: %s; request refused", c->user.name, strerror(errno));
        for (int i = 0; i < 3; i++) {
            sf_close_fd(&p[i][0]);
            sf_close_fd(&p[i][1]);
        }
        return -1;
    }
    if (sess->master >= 0) {
        sf_pump_start(&sess->pump, fcntl(sess->master, F_DUPFD_CLOEXEC, 3), sess->master, -1);
        sess->is_pty = 1;
    } else {
        sf_pump_start(&sess->pump, p[0][1], p[1][0], p[2][0]);
        close(p[0][0]);
        close(p[1][1]);
        close(p[2][1]);
    }
    set_nonblock(sess->pump.fd_in);
    set_nonblock(sess->pump.fd_out[0]);
    if (sess->pump.fd_out[1] >= 0)
        set_nonblock(sess->pump.fd_out[1]);
    sess->pid = pid;
    sess->master = -1;
    sess->ran = c->opts.command ? "forced-command" : sess->is_sftp ? "sftp" : cmd ? "exec" : "shell";
    if (cmd && !sess->is_sftp)
        log_safe(cmd, sess->cmd);
    log_debug("%s port %d: session %d.%u: %s for %s (pid %d)", c->peer, c->peer_port,
              (int)getpid(), sess->id, sess->ran, c->user.name, (int)pid);
    return 0;
}

/* ---- channel requests ---- */

/* pty-req: a message rather than a channel callback, because the callback
 * does not carry the terminal modes. 0 when set up, -1 refused. */
static int pty_request(struct sf_chan *sess, const char *term, struct winsize ws,
                       const unsigned char *modes, size_t modes_len)
{
    if (sess->conn->opts.no_pty) {
        sf_conn_refused(sess->conn, LOG_INFO, "pty refused by the key's options");
        return -1;
    }
    if (sess->pump.started || sess->master >= 0)
        return -1;
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, sess->tty, sizeof sess->tty)) {
        log_warn("pty for %s: %s; pty request refused", sess->conn->user.name,
                 strerror(errno));
        if (m >= 0)
            close(m);
        return -1;
    }
    sess->master = m;
    sess->ws = ws;
    ioctl(m, TIOCSWINSZ, &sess->ws);
    snprintf(sess->term, sizeof sess->term, "%s", term ? term : "");
    /* On Linux the master's termios calls reach the pty's (slave) side. */
    struct termios t;
    if (modes_len > 0 && tcgetattr(m, &t) == 0) {
        int n = sf_tty_modes_apply(modes, modes_len, &t);
        if (n < 0)
            log_info("%s port %d: terminal modes cut short; the rest of them ignored",
                     sess->conn->peer, sess->conn->peer_port);
        if (tcsetattr(m, TCSANOW, &t) < 0)
            log_info("%s port %d: terminal modes for %s: %s; kernel defaults kept",
                     sess->conn->peer, sess->conn->peer_port, sess->tty, strerror(errno));
    }
    return 0;
}

/* "break" (RFC 4335) on a pty: what the kernel's line discipline does with
 * a BREAK from a serial line, since a pty has none. BRKINT: SIGINT to the
 * foreground process group; otherwise, unless IGNBRK, a NUL byte reads in
 * (with PARMRK, \377 \0 \0). -1 without a pty (refused, as sshd does). */
static int send_break(struct sf_chan *sess, uint32_t ms)
{
    int fd = sess->pump.started ? sess->pump.fd_out[0] : -1;
    struct termios t;
    if (!sess->is_pty || fd < 0 || tcgetattr(fd, &t) < 0)
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
    log_debug("%s port %d: break (%u ms) on %s: %s", sess->conn->peer, sess->conn->peer_port,
              ms, sess->tty, what);
    return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* libssh keeps the pty-req fields behind accessors it marks deprecated
 * (in favour of the callback, which lacks the modes). */
static int pty_message(struct sf_chan *sess, ssh_message msg)
{
    struct winsize ws = {
        .ws_row = (unsigned short)ssh_message_channel_request_pty_height(msg),
        .ws_col = (unsigned short)ssh_message_channel_request_pty_width(msg),
        .ws_xpixel = (unsigned short)ssh_message_channel_request_pty_pxwidth(msg),
        .ws_ypixel = (unsigned short)ssh_message_channel_request_pty_pxheight(msg),
    };
    size_t mlen = 0;
    const unsigned char *modes = ssh_message_channel_request_pty_modes(msg, &mlen);
    return pty_request(sess, ssh_message_channel_request_pty_term(msg), ws, modes, mlen);
}

int sf_session_message(struct sf_conn *c, ssh_message msg)
{
    ssh_channel ch = ssh_message_channel_request_channel(msg);
    struct sf_chan *sess = c->chans;
    while (sess && sess->pump.ch != ch)
        sess = sess->next;
    if (!sess)
        return 1;
    int rc = -1;
    if (ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_PTY)
        rc = pty_message(sess, msg);
    else if (ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_BREAK)
        rc = send_break(sess, ssh_message_channel_request_break_length(msg));
    if (rc < 0)
        return 1;
    ssh_message_channel_request_reply_success(msg);
    return 0;
}
#pragma GCC diagnostic pop

static int on_window_change(ssh_session s, ssh_channel ch, int w, int h, int pw, int ph,
                            void *ud)
{
    struct sf_chan *sess = sess_of(ud);
    (void)s;
    (void)ch;
    sess->ws = (struct winsize){.ws_row = (unsigned short)h, .ws_col = (unsigned short)w,
                             .ws_xpixel = (unsigned short)pw, .ws_ypixel = (unsigned short)ph};
    int fd = sess->pump.started ? sess->pump.fd_out[0] : sess->master;
    return fd >= 0 && ioctl(fd, TIOCSWINSZ, &sess->ws) == 0 ? 0 : -1;
}

/* Whether setting NAME to VALUE keeps the session's client variables
 * within the caps (a NAME already set is replaced, not added). */
static int env_fits(const struct sf_chan *sess, const char *name, const char *value)
{
    const struct envfile_var *old = envfile_vars_find(&sess->env, name);
    size_t bytes = strlen(name) + strlen(value) + 2;
    for (size_t i = 0; i < sess->env.n; i++)
        if (&sess->env.v[i] != old)
            bytes += strlen(sess->env.v[i].entry) + 1;
    return sf_env_within_caps(sess->env.n + (old ? 0 : 1), bytes);
}

static int on_env(ssh_session s, ssh_channel ch, const char *name, const char *value, void *ud)
{
    struct sf_chan *sess = sess_of(ud);
    (void)s;
    (void)ch;
    const struct sf_config *cfg = sess->conn->cfg;
    if (sess->pump.started || !envfile_name_valid(name, strlen(name)) ||
        !envfile_value_valid(value, strlen(value)) ||
        !sf_env_accepted(name, cfg->accept_env, cfg->n_accept_env)) {
        char safe[LOG_SAFE_SIZE];
        log_debug("client variable %s not accepted", log_safe(name, safe));
        return -1;
    }
    if (!env_fits(sess, name, value)) {
        if (!sess->env_capped)
            log_warn("%s port %d: client variables refused from %s on: the session "
                     "holds %zu (at most %d variables, %d bytes); logged once per session",
                     sess->conn->peer, sess->conn->peer_port, name, sess->env.n, SF_ENV_MAX_VARS,
                     SF_ENV_MAX_BYTES);
        sess->env_capped = 1;
        return -1;
    }
    return envfile_vars_set(&sess->env, name, strlen(name), value, strlen(value));
}

static int on_shell(ssh_session s, ssh_channel ch, void *ud)
{
    (void)s;
    (void)ch;
    return start_program(sess_of(ud), NULL) == 0 ? 0 : 1;
}

static int on_exec(ssh_session s, ssh_channel ch, const char *command, void *ud)
{
    (void)s;
    (void)ch;
    return start_program(sess_of(ud), command) == 0 ? 0 : 1;
}

static int on_subsystem(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
    struct sf_chan *sess = sess_of(ud);
    (void)s;
    (void)ch;
    if (strcmp(name, "sftp") == 0 && !sess->conn->cfg->no_sftp && !sess->pump.started) {
        /* Allowed under "restrict", as in OpenSSH; a forced command wins. */
        sess->is_sftp = 1;
        if (start_program(sess, sess->conn->opts.command ? "internal-sftp" : "sftp") == 0)
            return 0;
        sess->is_sftp = 0;
        return 1;
    }
    char safe[LOG_SAFE_SIZE];
    sf_conn_refused(sess->conn, LOG_INFO, "subsystem '%s' %s", log_safe(name, safe),
                    strcmp(name, "sftp") == 0 ? "refused (--no-sftp)" : "not supported");
    return 1;
}

/* Set only when the connection may forward the agent: without the
 * callback the request reaches sf_session_agent_refused. */
static void on_agent_req(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_chan *sess = sess_of(ud);
    (void)s;
    (void)ch;
    if (sess->pump.started || sess->agent_sock[0])
        return;
    sf_listen_agent(sess->conn, sess, sess->agent_sock, sizeof sess->agent_sock);
}

int sf_session_agent_refused(struct sf_conn *sess, ssh_message msg)
{
    (void)msg;
    sf_conn_refused(sess, LOG_INFO, "agent forwarding refused: %s",
                    sess->cfg->no_agent_forwarding ? "--no-agent-forwarding" : "the key's options");
    return 1;
}

int sf_session_x11(struct sf_conn *c, ssh_channel ch, const char *proto, const char *cookie,
                   int screen)
{
    struct sf_chan *sess = c->chans;
    while (sess && sess->pump.ch != ch)
        sess = sess->next;
    if (!sess || c->cfg->no_x11_forwarding || c->opts.no_x11_forwarding) {
        sf_conn_refused(c, LOG_INFO, "X11 forwarding refused: %s",
                        !sess ? "not a session" : c->cfg->no_x11_forwarding ? "--no-x11-forwarding"
                                                                         : "the key's options");
        return -1;
    }
    if (sess->pump.started || screen < 0 || screen > 1000 || !proto || !cookie)
        return -1;
    unsigned held = 0;
    for (const struct sf_chan *o = c->chans; o; o = o->next)
        held += o->display[0] != '\0';
    if (!sf_x11_display_allowed(held, sess->display[0] != '\0')) {
        sf_conn_refused(c, LOG_INFO, "X11 forwarding refused: %s (%u per connection)",
                        sess->display[0] ? "the session has a display already"
                                      : "the connection holds the most displays it may",
                        (unsigned)SF_X11_MAX_DISPLAYS);
        return -1;
    }
    if (sf_listen_x11(c, sess, proto, cookie, screen, sess->display, sizeof sess->display,
                          sess->x11_fake, sizeof sess->x11_fake) < 0)
        return -1;
    snprintf(sess->x11_proto, sizeof sess->x11_proto, "%s", proto);
    sess->x11_screen = screen;
    return 0;
}

static void on_signal(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
    struct sf_chan *sess = sess_of(ud);
    (void)s;
    (void)ch;
    static const struct { const char *name; int sig; } sigs[] = {
        {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"FPE", SIGFPE},   {"HUP", SIGHUP},
        {"ILL", SIGILL},   {"INT", SIGINT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE},
        {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
        {"USR2", SIGUSR2},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (strcmp(name, sigs[i].name) == 0 && sess->pump.started && !sess->exited) {
            kill(sess->pid, sigs[i].sig);
            return;
        }
}

/* ---- the pump's operations for sessions ---- */

/* On a pty, EOF is the terminal's business (^D), not a close. */
static void session_eof(struct sf_pump *p)
{
    const struct sf_chan *sess = p->self;
    if (!sess->is_pty)
        sf_pump_drop(p, &p->fd_in);
}

static void session_closed(struct sf_pump *p)
{
    struct sf_chan *sess = p->self;
    if (!sess->end_why)
        sess->end_why = sess->exited ? "exited" : "client-closed";
    if (p->started && !sess->exited)
        kill(-sess->pid, SIGHUP);
}

static const struct sf_chan_ops session_ops = {.eof = session_eof, .close = session_closed};

size_t sf_session_pollfds(struct sf_conn *c, struct pollfd *p, struct sf_chan **ref, size_t max)
{
    size_t n = 0;
    for (struct sf_chan *sess = c->chans; sess && n < max; sess = sess->next)
        for (size_t k = sf_pump_pollfds(&sess->pump, p + n, max - n); k > 0; k--)
            ref[n++] = sess;
    return n;
}

void sf_session_ready(struct sf_chan *sess, const struct pollfd *p)
{
    sf_pump_ready(&sess->pump, p);
}

void sf_session_reaped(struct sf_conn *c, pid_t pid, int status)
{
    for (struct sf_chan *sess = c->chans; sess; sess = sess->next)
        if (sess->pump.started && sess->pid == pid && !sess->exited) {
            sess->exited = 1;
            sess->status = status;
            return;
        }
}

/* ---- ending ---- */

static void send_exit(struct sf_chan *sess)
{
    if (WIFSIGNALED(sess->status)) {
        const char *name = sigabbrev_np(WTERMSIG(sess->status));
        ssh_channel_request_send_exit_signal(sess->pump.ch, name ? name : "KILL",
                                             WCOREDUMP(sess->status) ? 1 : 0, "", "");
    } else {
        ssh_channel_request_send_exit_status(sess->pump.ch, WEXITSTATUS(sess->status));
    }
    if (!sess->end_why)
        sess->end_why = "exited";
    /* EOF first: in non-blocking mode ssh_channel_close gives up when its
     * own EOF cannot be flushed at once; sent separately, it is queued. */
    ssh_channel_send_eof(sess->pump.ch);
    sess->pump.eof_sent = 1;
    ssh_channel_close(sess->pump.ch);
}

/* How the program ended, for the log: its exit code, SIGNAME, "none"
 * when nothing ran, "running" when it was not reaped (it ignored SIGHUP). */
static void exit_text(const struct sf_chan *sess, char *buf, size_t size)
{
    if (!sess->pump.started)
        snprintf(buf, size, "none");
    else if (!sess->exited)
        snprintf(buf, size, "running");
    else if (WIFSIGNALED(sess->status))
        snprintf(buf, size, "SIG%s", sigabbrev_np(WTERMSIG(sess->status)) ? sigabbrev_np(WTERMSIG(sess->status)) : "?");
    else
        snprintf(buf, size, "%d", WEXITSTATUS(sess->status));
}

/* The one line a session leaves in the log, when it ends; WHY when no
 * reason was noted before. The command is the client's (escaped, cut)
 * and comes last, so that it cannot be taken for another field. */
static void log_end(struct sf_chan *sess, const char *why)
{
    if (sess->logged)
        return;
    sess->logged = 1;
    struct sf_conn *c = sess->conn;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - sess->opened.tv_sec) * 1000L + (now.tv_nsec - sess->opened.tv_nsec) / 1000000L;
    char ex[32];
    exit_text(sess, ex, sizeof ex);
    log_info("session %d.%u ended: user=%s client=%s:%d ran=%s in=%llu out=%llu "
             "duration=%ld.%03lds exit=%s end=%s%s%s", (int)getpid(), sess->id, c->user.name, c->peer,
             c->peer_port, sess->ran ? sess->ran : "nothing", sess->pump.bytes_in, sess->pump.bytes_out, ms / 1000, ms % 1000,
             ex, sess->end_why ? sess->end_why : why, sess->cmd[0] ? " cmd=" : "", sess->cmd);
}

void sf_session_end_all(struct sf_conn *c, const char *why)
{
    for (struct sf_chan *sess = c->chans; sess; sess = sess->next)
        log_end(sess, why);
}

static void free_chan(struct sf_conn *c, struct sf_chan *sess)
{
    for (struct sf_chan **pp = &c->chans; *pp; pp = &(*pp)->next)
        if (*pp == sess) {
            *pp = sess->next;
            break;
        }
    c->n_chans--;
    log_end(sess, "client-closed");
    sf_listen_session_ended(c, sess);
    sf_pump_free(&sess->pump);
    sf_close_fd(&sess->master);
    envfile_vars_free(&sess->env);
    free(sess);
}

/* The program ended and all its output went out: exit status, EOF, close. */
static void finish(struct sf_conn *c, struct sf_chan *sess)
{
    struct sf_pump *p = &sess->pump;
    sf_pump_drop(p, &p->fd_in);
    if (!p->remote_closed)
        send_exit(sess);
    p->closing = 1;
    /* The program is gone: its display goes now, as with sshd, not when
     * (or if) the client answers our close. */
    if (sess->display[0])
        sf_listen_x11_release(c, sess);
    sess->display[0] = '\0';
}

static void tend(struct sf_conn *c, struct sf_chan *sess)
{
    struct sf_pump *p = &sess->pump;
    if (p->remote_closed)
        sf_pump_stop(p);
    sf_pump_tend(p);
    /* A pty's output after the program exits: what is there goes, then
     * it stops (other holders of the terminal keep no session open). */
    if (sess->is_pty && sess->exited)
        sf_pump_drain_output(p, 0);
    if (p->started && sess->exited && sf_pump_output_done(p) && !p->closing)
        finish(c, sess);
    if (p->remote_closed && (p->closing || !p->started))
        free_chan(c, sess);
}

void sf_session_housekeeping(struct sf_conn *c)
{
    struct sf_chan *next;
    for (struct sf_chan *sess = c->chans; sess; sess = next) {
        next = sess->next;
        tend(c, sess);
    }
}

void sf_session_hangup_all(struct sf_conn *c)
{
    for (struct sf_chan *sess = c->chans; sess; sess = sess->next)
        if (sess->pump.started && !sess->exited) {
            kill(-sess->pid, SIGHUP);
            kill(-sess->pid, SIGCONT);
        }
}

ssh_channel sf_session_open(ssh_session session, void *userdata)
{
    struct sf_conn *c = userdata;
    if (!c->authenticated)
        return NULL;
    if (c->n_chans >= c->cfg->max_sessions) {
        sf_conn_refused(c, LOG_WARN, "session refused: already %u sessions (max-sessions)",
                        c->n_chans);
        return NULL;
    }
    struct sf_chan *sess = calloc(1, sizeof *sess);
    if (!sess)
        return NULL;
    ssh_channel ch = ssh_channel_new(session);
    if (!ch) {
        free(sess);
        return NULL;
    }
    static unsigned sessions;
    sess->conn = c;
    sess->id = ++sessions;
    clock_gettime(CLOCK_MONOTONIC, &sess->opened);
    sess->master = -1;
    sf_pump_init(&sess->pump, &session_ops, sess);
    sess->pump.cb = (struct ssh_channel_callbacks_struct){
        .channel_signal_function = on_signal,
        .channel_shell_request_function = on_shell,
        .channel_pty_window_change_function = on_window_change,
        .channel_exec_request_function = on_exec,
        .channel_env_request_function = on_env,
        .channel_subsystem_request_function = on_subsystem,
    };
    if (!c->cfg->no_agent_forwarding && !c->opts.no_agent_forwarding)
        sess->pump.cb.channel_auth_agent_req_function = on_agent_req;
    sf_pump_attach(&sess->pump, ch);
    sess->next = c->chans;
    c->chans = sess;
    c->n_chans++;
    return ch;
}
