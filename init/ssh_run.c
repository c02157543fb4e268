/* SSH orchestration, PID 1's side: runs envinit-setup once to write the
 * user's files and choose the server (its plan arrives on a pipe), then
 * carries the plan out: OpenSSH or the fallback under supervision, sshd's
 * fast exits turned into a switch to the fallback, and the status file kept
 * current. Everything that reads files the user or the image controls runs
 * in envinit-setup, a separate process: a bad input can cost SSH access but
 * never PID 1, and PID 1's own binary stays small. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PLAN_MAX 8192
/* How long a main command gets to bring up its own SSH server on the
 * port before envinit starts one there, and how often that is looked at. */
#define MAIN_GRACE_MS 1000
#define PORT_RECHECK_MS 100

static struct {
    enum ssh_mode mode;
    int ssh_port;
    const char *status_path;    /* the config's, which outlives us */
    const char *self_dir;
    char user[64];
    const char *fallback_args;  /* the config's */
    const char *host_keys;      /* the config's */
    const char *fallback_config; /* the config's */
    struct service *svc;        /* the server we supervise, NULL when none */
    struct ssh_status st;       /* what the status file says apart from svc */
    char written[1024];         /* last rendered status, to skip identical writes */
    unsigned fast_exits;
    bool status_failed;         /* the last write failed and was reported */
} orch;

void ssh_status_init(const struct config *c, const char *dir)
{
    memset(&orch, 0, sizeof orch);
    orch.mode = c->ssh;
    orch.ssh_port = c->ssh_port;
    orch.status_path = c->status_path;
    orch.self_dir = dir;
    snprintf(orch.user, sizeof orch.user, "%s", c->user);
    orch.fallback_args = c->fallback_args;
    orch.host_keys = c->host_keys;
    orch.fallback_config = c->fallback_config;
}

/* ---- status ---- */

/* The default status folder cannot be made (a read-only root without a
 * /run tmpfs): once, the file moves to where `envinit status` looks next. */
static bool status_moved(void)
{
    static char alt[CONFIG_PATH_LEN];
    if (alt[0] || strcmp(orch.status_path, CONFIG_STATUS_PATH) != 0 ||
        (errno != EROFS && errno != EACCES && errno != EPERM && errno != ENOENT))
        return false;
    int err = errno;
    config_status_fallback(alt, sizeof alt);
    log_warn("cannot write the SSH status file %s: %s; writing it to %s instead (envinit status reads it there)",
             orch.status_path, strerror(err), alt);
    orch.status_path = alt;
    return true;
}

static void status_refresh(void)
{
    struct ssh_status s = orch.st;
    if (orch.svc) {
        s.pid = service_pid(orch.svc);
        s.restarts = service_restarts(orch.svc);
        s.last_status = service_last_status(orch.svc);
        const char *state = ssh_state_name(s.pid > 0                  ? SSH_STATE_RUNNING
                                           : service_done(orch.svc) ? SSH_STATE_STOPPED
                                                                    : SSH_STATE_RESTARTING);
        if (strcmp(state, orch.st.state) != 0) {
            snprintf(orch.st.state, sizeof orch.st.state, "%s", state);
            orch.st.since = (long)time(NULL);
        }
        snprintf(s.state, sizeof s.state, "%s", state);
        s.since = s.pid > 0 ? service_since(orch.svc) : orch.st.since;
    }
    char text[sizeof orch.written];
    if (status_render(&s, text, sizeof text) < 0 || strcmp(text, orch.written) == 0)
        return;
    int rc = status_write(orch.status_path, &s);
    if (rc < 0 && status_moved()) /* a read-only /run */
        rc = status_write(orch.status_path, &s);
    if (rc == 0) {
        snprintf(orch.written, sizeof orch.written, "%s", text);
        orch.status_failed = false;
    } else if (!orch.status_failed) {
        /* Said once, not at every restart: a non-root envinit may not own /run. */
        log_warn("cannot write the SSH status file %s: %s; `envinit status` will not see this change "
                 "(status_file sets another path)", orch.status_path, strerror(errno));
        orch.status_failed = true;
    }
}

static void status_observer(void *ctx)
{
    (void)ctx;
    status_refresh();
}

void ssh_status_set(enum ssh_kind kind, enum ssh_state state, int port, bool expected, pid_t pid, const char *note)
{
    struct ssh_status *s = &orch.st;
    memset(s, 0, sizeof *s);
    snprintf(s->kind, sizeof s->kind, "%s", ssh_kind_name(kind));
    snprintf(s->state, sizeof s->state, "%s", ssh_state_name(state));
    snprintf(s->note, sizeof s->note, "%s", note);
    s->port = port;
    s->pid = pid;
    s->expected = expected;
    s->last_status = -1;
    s->since = (long)time(NULL);
    status_refresh();
}

/* ---- starting servers ---- */

/* envinit-sshd says, by its exit status, that no restart can help (its
 * reason is the line above in the log): say so once and stop. */
static bool fallback_exited(struct service *s, int status, long uptime_ms, void *ctx)
{
    (void)s, (void)uptime_ms, (void)ctx;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != FALLBACK_EXIT_CONFIG)
        return true;
    log_error("envinit-sshd cannot run with this configuration (its reason is above); not restarting it: "
              "this environment has no SSH access until the container is fixed and restarted");
    orch.svc = NULL;
    ssh_status_set(SSH_KIND_NONE, SSH_STATE_DOWN, orch.st.port, true, 0,
                   "envinit-sshd stopped on a configuration error (see the log); not restarted");
    return false;
}

static struct service *start_fallback(int port)
{
    struct fallback_cmd fb;
    if (!fallback_build_argv(&fb, orch.self_dir, port, orch.user)) {
        log_error("envinit-sshd is not installed in %s: no SSH server runs", orch.self_dir);
        return NULL;
    }
    fallback_add_args(&fb, orch.host_keys, orch.fallback_config, orch.fallback_args);
    struct service_spec spec = {
        .name = "envinit-sshd",
        .argv = fb.argv,
        .restart = RESTART_ALWAYS,
        .capture_stderr = true,
        .on_exit = fallback_exited,
    };
    orch.fast_exits = 0;
    orch.st.port = port;
    snprintf(orch.st.kind, sizeof orch.st.kind, "%s", ssh_kind_name(SSH_KIND_FALLBACK));
    orch.svc = service_start(&spec);
    status_refresh(); /* service_start reported the start before we knew the service */
    return orch.svc;
}

/* A broken sshd_config makes sshd exit at once, every time: after five of
 * those in a row, auto mode gives the fallback the port instead. */
static void decide_again(const char *why);

static bool sshd_exited(struct service *s, int status, long uptime_ms, void *ctx)
{
    (void)s, (void)status, (void)ctx;
    /* Ours is gone, yet the port listens: another process took it (the
     * main command's own server, started after envinit decided). */
    if (orch.mode == SSH_AUTO && procnet_listening("/proc", orch.st.port, NULL) == 1) {
        decide_again("sshd exited and another process listens on its port");
        orch.svc = NULL;
        return false;
    }
    if (!ssh_fast_exit(&orch.fast_exits, uptime_ms))
        return true;
    if (orch.mode != SSH_AUTO) {
        log_error("sshd exited within %d ms of its start %d times in a row: its configuration is broken (its "
                  "messages are above); ssh = openssh, so envinit keeps restarting it with backoff",
                  SSH_FAST_EXIT_MS, SSH_FAST_EXIT_LIMIT);
        return true;
    }
    log_error("sshd exited within %d ms of its start %d times in a row: the image's OpenSSH configuration is "
              "broken (its messages are above); switching to the fallback server envinit-sshd on port %d",
              SSH_FAST_EXIT_MS, SSH_FAST_EXIT_LIMIT, orch.st.port);
    snprintf(orch.st.note, sizeof orch.st.note,
             "sshd exited within 1 s of its start 5 times in a row (broken configuration); switched to the fallback");
    if (!start_fallback(orch.st.port)) {
        snprintf(orch.st.kind, sizeof orch.st.kind, "%s", ssh_kind_name(SSH_KIND_NONE));
        snprintf(orch.st.state, sizeof orch.st.state, "%s", ssh_state_name(SSH_STATE_DOWN));
        orch.st.since = (long)time(NULL);
    }
    return false;
}

static struct service *start_openssh(char *const *argv)
{
    struct service_spec spec = {
        .name = "sshd",
        .argv = argv,
        .restart = RESTART_ALWAYS,
        .capture_stderr = true,
        .on_exit = sshd_exited,
    };
    orch.svc = service_start(&spec);
    status_refresh();
    return orch.svc;
}

static int carry_out(const struct config *c, const struct ssh_plan *p)
{
    switch (p->action) {
    case SSH_ACT_OFF:
        if (!p->quiet)
            ssh_status_set(SSH_KIND_OFF, SSH_STATE_OFF, 0, false, 0, p->why);
        return 0;
    case SSH_ACT_EXTERNAL:
        ssh_status_set(SSH_KIND_EXTERNAL, SSH_STATE_EXTERNAL, c->ssh_port, true, 0, p->why);
        return 0;
    case SSH_ACT_SERVED:
        ssh_status_set(SSH_KIND_SERVED, SSH_STATE_EXTERNAL, c->ssh_port, true, 0, p->why);
        return 0;
    case SSH_ACT_OPENSSH:
        if (p->argc == 0)
            break;
        log_info("starting OpenSSH (%s) on port %d: %s", p->argv[0], p->port, p->why);
        ssh_status_set(SSH_KIND_OPENSSH, SSH_STATE_STARTING, p->port, true, 0, p->why);
        return start_openssh(p->argv) ? 0 : -1;
    case SSH_ACT_FALLBACK:
        log_msg(p->port == c->ssh_port ? LOG_INFO : LOG_WARN, "starting the fallback server envinit-sshd on "
                "port %d: %s", p->port, p->why);
        ssh_status_set(SSH_KIND_FALLBACK, SSH_STATE_STARTING, p->port, true, 0, p->why);
        return start_fallback(p->port) ? 0 : -1;
    default:
        break;
    }
    ssh_status_set(SSH_KIND_NONE, SSH_STATE_DOWN, c->ssh_port, true, 0, p->why);
    return -1;
}

/* argv for envinit-setup: envinit's own options (the words before END),
 * then the subcommand, so both processes resolve the same configuration,
 * then TAIL's words ("--" and the command `check` describes). */
static char **setup_argv(char **argv, char **end, const char *sub, const char *extra, char **tail)
{
    size_t n = 0, nt = 0;
    while (argv[n] && argv + n != end)
        n++;
    while (tail && tail[nt])
        nt++;
    /* "envinit --" (the documented ENTRYPOINT with no CMD) ends in "--"
     * too: envinit-setup must see its subcommand, not a command. */
    if (n > 1 && strcmp(argv[n - 1], "--") == 0)
        n--;
    char **out = calloc(n + nt + 5, sizeof *out);
    if (!out)
        return NULL;
    static char path[1100];
    snprintf(path, sizeof path, "%s/%s", envfile_self_dir(), SETUP_NAME);
    out[0] = path;
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        out[k++] = argv[i];
    if (extra)
        out[k++] = (char *)extra;
    out[k++] = (char *)sub;
    if (nt)
        out[k++] = "--";
    for (size_t i = 0; i < nt; i++)
        out[k++] = tail[i];
    out[k] = NULL;
    return out;
}

int setup_exec(char **argv, char **command, const char *sub)
{
    /* ARGV holds the subcommand word itself (and maybe "--") just before
     * COMMAND, or last: it is given once, after the options; `check`
     * describes COMMAND, `status` takes --json there. */
    size_t n = 0;
    while (argv[n] && argv + n != command)
        n++;
    if (n > 1 && command && strcmp(argv[n - 1], "--") == 0)
        n--;
    char **end = n > 1 && strcmp(argv[n - 1], sub) == 0 ? argv + n - 1 : argv + n;
    /* `check` describes COMMAND; status, ssh-stdio and ssh-config take their own words. */
    bool words = strcmp(sub, "check") == 0 || strcmp(sub, "status") == 0 || strcmp(sub, "ssh-stdio") == 0 ||
                 strcmp(sub, "ssh-config") == 0;
    char **sa = setup_argv(argv, end, sub, NULL, words ? command : NULL);
    if (!sa)
        return 1;
    execv(sa[0], sa);
    log_error("cannot run %s for `envinit %s`: %s (envinit-setup belongs next to envinit)", sa[0], sub,
              strerror(errno));
    free(sa);
    return 1;
}

/* Starts `envinit-setup prepare` (NO_CVM: --cvm=false) with its stdout on
 * a pipe whose read end goes to *FD (O_NONBLOCK when ASYNC). Returns the
 * child's pid, or -1 (logged with WHAT_NEXT). */
static pid_t spawn_setup(char **argv, char **command, bool no_cvm, bool async, int *fd, const char *what_next)
{
    char **sa = setup_argv(argv, command, "prepare", no_cvm ? "--cvm=false" : NULL, NULL);
    int p[2];
    if (!sa || pipe2(p, O_CLOEXEC | (async ? O_NONBLOCK : 0)) < 0) {
        free(sa);
        log_error("cannot start envinit-setup: %s; %s", strerror(errno), what_next);
        return -1;
    }
    pid_t pid = _Fork(); /* no atfork handlers to run: see start_main */
    if (pid == 0) {
        signals_restore_for_child();
        if (dup2(p[1], STDOUT_FILENO) < 0)
            _exit(126);
        execv(sa[0], sa);
        log_error("cannot run %s: %s (envinit-setup belongs next to envinit); %s", sa[0], strerror(errno),
                  what_next);
        _exit(127);
    }
    int err = errno;
    free(sa);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        log_error("cannot fork for envinit-setup: %s; %s", strerror(err), what_next);
        return -1;
    }
    *fd = p[0];
    return pid;
}

/* Runs `envinit-setup prepare` to completion and reads its plan. Signals
 * stay queued in envinit's signalfd meanwhile. */
static int run_setup(char **argv, char **command, bool no_cvm, char *buf, size_t len)
{
    int fd;
    pid_t pid = spawn_setup(argv, command, no_cvm, false, &fd, "no SSH set-up");
    if (pid < 0)
        return -1;
    size_t got = 0;
    ssize_t n = 0;
    while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) {
        log_error("envinit-setup could not be run: %s; no SSH set-up", strerror(errno));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
        char how[96];
        describe_status(status, how, sizeof how);
        log_error("envinit-setup %s; no SSH set-up", how);
        return -1;
    }
    return 0;
}

/* The plan's argv points into its text: both live as long as envinit.
 * The text is allocated only when SSH is on, keeping .bss (and so the idle
 * resident set of a tini-like envinit) small. */
static struct ssh_plan plan;
static char *plan_text;
static char **saved_argv, **saved_command;
static const struct config *saved_cfg;

int ssh_plan_fetch(const struct config *c, char **argv, char **command, bool no_cvm)
{
    saved_argv = argv;
    saved_command = command;
    saved_cfg = c;
    /* Off means off: no setup run, no file touched, not even the status
     * file (`envinit status` reads ssh = off from its environment); and
     * neither the plan nor the status bookkeeping is touched, so a
     * tini-like PID 1 does not carry their pages for its whole life. */
    if (c->ssh == SSH_OFF) {
        log_info("SSH access is disabled (ssh = off): no SSH server, no keys written");
        return 0;
    }
    memset(&plan, 0, sizeof plan);
    plan.action = SSH_ACT_OFF;
    ssh_status_init(c, envfile_self_dir());
    supervise_set_observer(status_observer, NULL);
    if (!plan_text)
        plan_text = malloc(PLAN_MAX);
    if (!plan_text || run_setup(argv, command, no_cvm, plan_text, PLAN_MAX) < 0 ||
        ssh_plan_parse(plan_text, &plan) < 0) {
        plan.action = SSH_ACT_ERROR;
        snprintf(plan.why, sizeof plan.why, "envinit-setup failed");
        return c->on_write_error == ON_WRITE_ERROR_FAIL ? -1 : 0;
    }
    if (plan.abort) {
        log_error("the SSH files could not be written and on_write_error = fail; exiting");
        return -1;
    }
    return 0;
}

/* ---- deciding again, without blocking PID 1 ----
 * When the port changes hands after the plan was made (the main command
 * brought up its own SSH server), envinit-setup runs again in the
 * background; its new plan arrives through the event loop. */
static struct {
    int fd;                     /* -1 when none runs; set in ssh_start */
    size_t len;
    char *buf;                  /* PLAN_MAX, allocated on first use; the plan points into it */
    int timer;
    long deadline;
} again;

static void replan_read(int fd, short revents, void *ctx)
{
    (void)revents, (void)ctx;
    ssize_t n;
    while ((n = read(fd, again.buf + again.len, PLAN_MAX - 1 - again.len)) > 0)
        again.len += (size_t)n;
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && again.len < PLAN_MAX - 1)
        return;
    loop_unwatch_fd(fd);
    close(fd);
    again.fd = -1;
    again.buf[again.len] = '\0';
    if (ssh_plan_parse(again.buf, &plan) < 0 || plan.abort) {
        log_error("envinit-setup gave no usable plan when deciding again; no SSH server started");
        ssh_status_set(SSH_KIND_NONE, SSH_STATE_DOWN, saved_cfg->ssh_port, true, 0, "envinit-setup failed");
        return;
    }
    carry_out(saved_cfg, &plan);
}

static void decide_again(const char *why)
{
    if (again.fd >= 0)
        return;
    log_info("%s: deciding again which SSH server to run", why);
    if (!again.buf)
        again.buf = malloc(PLAN_MAX);
    int fd;
    if (!again.buf || spawn_setup(saved_argv, saved_command, false, true, &fd, "no SSH server started") < 0)
        return;
    again.fd = fd;
    again.len = 0;
    loop_watch_fd(fd, replan_read, NULL);
}

/* The main command's own server gets a moment to take the port before
 * envinit puts one there. No kernel interface announces a new listening
 * socket, so /proc/net/tcp is re-read on a timer during this bounded
 * window only; nothing ticks after it. */
static void check_port_taken(void *ctx)
{
    (void)ctx;
    again.timer = -1;
    if (procnet_listening("/proc", saved_cfg->ssh_port, NULL) == 1) {
        decide_again("the main command's processes listen on the SSH port now");
        return;
    }
    if (envfile_now_ms() >= again.deadline) {
        carry_out(saved_cfg, &plan);
        return;
    }
    again.timer = loop_timer_add(PORT_RECHECK_MS, check_port_taken, NULL);
}

void ssh_start(const struct config *c, bool has_main)
{
    if (c->ssh == SSH_OFF)
        return; /* ssh_plan_fetch said so in the log */
    again.fd = again.timer = -1;
    bool own_port = (plan.action == SSH_ACT_OPENSSH || plan.action == SSH_ACT_FALLBACK) &&
                    plan.port == c->ssh_port;
    if (!has_main || c->ssh != SSH_AUTO || !own_port) {
        carry_out(c, &plan);
        return;
    }
    log_debug("giving the main command %d ms to bring up its own SSH server on port %d", MAIN_GRACE_MS,
              c->ssh_port);
    again.deadline = envfile_now_ms() + MAIN_GRACE_MS;
    again.timer = loop_timer_add(PORT_RECHECK_MS, check_port_taken, NULL);
}
