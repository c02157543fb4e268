/* SSH orchestration, envinit-setup's side: gathers the facts (who listens
 * on the port, what it says, which servers are installed, are we root),
 * lets ssh_decide() choose, prepares OpenSSH, and hands PID 1 the plan.
 * Also `envinit check`'s account of that choice and `ssh-supervise`, the
 * CVM-mode unit's side of the same decision. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SSHD_CONFIG "/etc/ssh/sshd_config"
#define SSHD_ETC "/etc/ssh"
#define LISTENER_RECHECK_MS 200

/* ---- facts ---- */

struct facts_ctx {
    struct ssh_facts f;
    struct sockaddr_storage addr;
    char sshd[4096];
    char no_privilege[768];     /* why root cannot serve the user, or "" */
};

/* Root in a container that dropped CAP_SETUID/CAP_SETGID (or the one for
 * binding the port): no server of either kind could serve the user. */
static void check_privilege(const struct config *c, struct facts_ctx *fc)
{
    char missing[128];
    struct envfile_owner who;
    fc->no_privilege[0] = '\0';
    if (!fc->f.root || (environment_owner(c, &who) == 0 && who.uid == 0) ||
        envfile_caps_missing(c->ssh_port, 1, missing, sizeof missing) == 0)
        return;
    envfile_caps_advice(missing, c->fallback_port, fc->no_privilege, sizeof fc->no_privilege);
    fc->f.no_privilege = fc->no_privilege;
}

static void gather(const struct config *c, const char *dir, bool probe, struct facts_ctx *fc)
{
    memset(fc, 0, sizeof *fc);
    struct ssh_facts *f = &fc->f;
    f->mode = c->ssh;
    f->ssh_port = c->ssh_port;
    f->fallback_port = c->fallback_port;
    f->root = geteuid() == 0;
    f->probe = SSH_PROBE_NO_ANSWER;
    if (c->ssh == SSH_OFF || c->ssh == SSH_EXTERNAL)
        return;
    f->listener = procnet_listening("/proc", c->ssh_port, &fc->addr) == 1;
    if (f->listener && probe)
        f->probe = ssh_probe(&fc->addr, SSH_PROBE_TIMEOUT_MS);
    f->have_sshd = sshd_find("", getenv("PATH"), fc->sshd, sizeof fc->sshd);
    struct fallback_cmd fb;
    f->have_fallback = fallback_build_argv(&fb, dir, 0, "");
    check_privilege(c, fc);
}

static void log_broken_port(int port, enum ssh_probe p)
{
    log_error("port %d is taken by a server that %s: non-SSH traffic on the SSH port breaks SSH access to "
              "this environment; stop that server or move it off port %d",
              port, p == SSH_PROBE_NO_ANSWER ? "sent no SSH greeting within 2 s" : "does not speak SSH", port);
}

/* ---- the plan for PID 1 ---- */

static void print_plan(enum ssh_action a, int port, const char *why, char *const *argv)
{
    struct ssh_plan p = {.action = a, .port = port};
    snprintf(p.why, sizeof p.why, "%s", why);
    for (; argv && argv[p.argc] && p.argc < SSH_PLAN_ARGS - 1; p.argc++)
        p.argv[p.argc] = argv[p.argc];
    ssh_plan_write(stdout, &p);
}

/* The host_keys setting's keys, vetted for the environment user, as -h. */
static void add_given_host_keys(const struct config *c, struct sshd_cmd *cmd)
{
    static struct envfile_hostkeys keys;
    struct envfile_owner who;
    memset(&keys, 0, sizeof keys);
    if (environment_owner(c, &who) < 0 || envfile_hostkeys_list(c->host_keys, &who, &keys) < 0 || keys.n == 0) {
        log_error("host_keys = %s: no usable host key (reasons above); OpenSSH uses its own keys, so clients "
                  "will see another fingerprint", c->host_keys);
        return;
    }
    for (size_t i = 0; i < keys.n; i++)
        sshd_add_host_key(cmd, keys.path[i]);
}

/* The OpenSSH command line, after its one-time preparation. */
static void openssh_command(const struct config *c, const char *sshd, int port, struct sshd_cmd *cmd)
{
    unsigned sets = sshd_config_sets(SSHD_CONFIG, SSHD_ETC);
    sshd_build_argv(cmd, sshd, port, c->openssh_recommended, sets);
    if (c->host_keys[0])
        add_given_host_keys(c, cmd);
    if (c->openssh_recommended && sets)
        log_info("%s (or a file it includes) sets%s%s%s itself; envinit keeps its value there", SSHD_CONFIG,
                 sets & SSHD_SETS_PERMIT_USER_ENV ? " PermitUserEnvironment" : "",
                 sets & SSHD_SETS_X11_FORWARDING ? " X11Forwarding" : "",
                 sets & SSHD_SETS_X11_USE_LOCALHOST ? " X11UseLocalhost" : "");
    openssh_make_ready(cmd);
}

int prepare_command(const struct config *c)
{
    struct facts_ctx fc;
    gather(c, envfile_self_dir(), !c->cvm, &fc);
    fc.f.cvm = c->cvm;
    /* Decided before the files are written: the block's SSH_AUTH_SOCK
     * depends on which server reads it. */
    struct ssh_decision d = ssh_decide(&fc.f);
    /* Without the capabilities the writes would only fail one by one; the
     * decision says why, once. */
    if (!fc.f.no_privilege && environment_setup(c, d.action == SSH_ACT_FALLBACK) < 0) {
        struct ssh_plan p = {.action = SSH_ACT_ERROR, .abort = true,
                             .why = "the SSH files could not be written (on_write_error = fail)"};
        ssh_plan_write(stdout, &p);
        return 0;
    }
    log_debug("SSH: listener on %d: %s (%s), sshd: %s, envinit-sshd: %s, root: %s -> %s", c->ssh_port,
              fc.f.listener ? "yes" : "no", ssh_probe_name(fc.f.probe), fc.f.have_sshd ? fc.sshd : "no",
              fc.f.have_fallback ? "yes" : "no", fc.f.root ? "yes" : "no", ssh_action_name(d.action));
    if (d.port_broken)
        log_broken_port(c->ssh_port, fc.f.probe);
    switch (d.action) {
    case SSH_ACT_EXTERNAL:
        log_info("%s; envinit starts none", d.why);
        break;
    case SSH_ACT_SERVED:
        log_info("port %d already answers with an SSH greeting: starting no SSH server", c->ssh_port);
        break;
    case SSH_ACT_OPENSSH: {
        struct sshd_cmd cmd = {.argv = {NULL}};
        openssh_command(c, fc.sshd, d.port, &cmd);
        print_plan(d.action, d.port, d.why, cmd.argv);
        return 0;
    }
    case SSH_ACT_NONE_AVAILABLE:
        log_error("no SSH server available: %s (looked for sshd in /usr/sbin, /usr/bin and PATH, and for "
                  "%s/envinit-sshd); this environment has no SSH access", d.why, envfile_self_dir());
        break;
    case SSH_ACT_ERROR:
        log_error("%s; no SSH server started", d.why);
        break;
    default:
        break;
    }
    print_plan(d.action, d.port, d.why, NULL);
    return 0;
}

bool ssh_plan_runs_fallback(const struct config *c)
{
    struct facts_ctx fc;
    gather(c, envfile_self_dir(), false, &fc);
    fc.f.cvm = c->cvm;
    if (fc.f.listener)
        fc.f.probe = SSH_PROBE_SSH;
    return ssh_decide(&fc.f).action == SSH_ACT_FALLBACK;
}

/* ---- envinit check ---- */

static void print_decision(FILE *out, const char *prefix, const struct ssh_decision *d)
{
    if (d->port)
        fprintf(out, "# %s%s on port %d: %s\n", prefix, ssh_action_name(d->action), d->port, d->why);
    else
        fprintf(out, "# %s%s: %s\n", prefix, ssh_action_name(d->action), d->why);
}

static void print_argv(FILE *out, const char *what, char *const *argv)
{
    fprintf(out, "# %s:", what);
    for (size_t i = 0; argv[i]; i++)
        fprintf(out, " %s", argv[i]);
    fprintf(out, "\n");
}

static void print_commands(const struct config *c, FILE *out, const struct facts_ctx *fc, int port)
{
    if (fc->f.have_sshd && fc->f.root) {
        struct sshd_cmd cmd = {.argv = {NULL}};
        sshd_build_argv(&cmd, fc->sshd, port, c->openssh_recommended, sshd_config_sets(SSHD_CONFIG, SSHD_ETC));
        if (c->host_keys[0])
            add_given_host_keys(c, &cmd);
        print_argv(out, "OpenSSH would run as", cmd.argv);
    }
    struct fallback_cmd fb;
    if (fallback_build_argv(&fb, envfile_self_dir(), port, c->user)) {
        fallback_add_args(&fb, c->host_keys, c->fallback_config, c->fallback_args);
        print_argv(out, "the fallback would run as", fb.argv);
    }
}

void ssh_describe_plan(const struct config *c, FILE *out)
{
    struct facts_ctx fc;
    gather(c, envfile_self_dir(), false, &fc); /* no probe: check has no side effects */
    if (c->cvm) {
        char init[4096];
        fc.f.cvm = true;
        struct ssh_decision d = ssh_decide(&fc.f);
        print_decision(out, "SSH: ", &d);
        if (cvm_find_systemd("", NULL, init, sizeof init)) {
            fprintf(out, "# CVM mode: execs %s as PID 1\n", init);
            return;
        }
        fprintf(out, "# CVM mode: no systemd in the image; envinit would stay PID 1 and decide:\n");
        fc.f.cvm = false;
    }
    struct ssh_decision d;
    if (fc.f.listener) {
        fprintf(out, "# port %d: something listens already; envinit checks its greeting for 2 s\n", c->ssh_port);
        fc.f.probe = SSH_PROBE_SSH;
        d = ssh_decide(&fc.f);
        print_decision(out, "SSH if it greets as SSH: ", &d);
        fc.f.probe = SSH_PROBE_NOT_SSH;
        d = ssh_decide(&fc.f);
        print_decision(out, "SSH if it does not: ", &d);
    } else {
        d = ssh_decide(&fc.f);
        print_decision(out, "SSH: ", &d);
    }
    if (c->ssh != SSH_OFF && c->ssh != SSH_EXTERNAL)
        print_commands(c, out, &fc, d.port ? d.port : c->ssh_port);
    fprintf(out, "# status file: %s\n", c->status_path);
}

/* ---- ssh-supervise (CVM mode, run by envinit-ssh.service) ---- */

/* Waits up to WAIT_MS for a listener on PORT. Neither inotify (procfs does
 * not report changes of /proc/net/tcp) nor netlink sock_diag (no
 * subscription to new listening sockets) can tell us when sshd starts to
 * listen, so during this bounded window only, /proc/net/tcp is re-read on a
 * timerfd tick. The loop ends at the first listener or at the deadline;
 * nothing wakes up after it. */
static bool wait_for_listener(int port, long wait_ms, struct sockaddr_storage *addr)
{
    if (procnet_listening("/proc", port, addr) == 1)
        return true;
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (tfd < 0) {
        log_error("ssh-supervise: timerfd: %s; not waiting for a server on port %d", strerror(errno), port);
        return false;
    }
    struct itimerspec its = {
        .it_interval = {.tv_nsec = LISTENER_RECHECK_MS * 1000000L},
        .it_value = {.tv_nsec = LISTENER_RECHECK_MS * 1000000L},
    };
    timerfd_settime(tfd, 0, &its, NULL);
    long deadline = envfile_now_ms() + wait_ms;
    bool found = false;
    for (long left = wait_ms; !found && left > 0; left = deadline - envfile_now_ms()) {
        struct pollfd p = {.fd = tfd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        uint64_t ticks;
        if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN && errno != EINTR)
            break;
        found = procnet_listening("/proc", port, addr) == 1;
    }
    close(tfd);
    return found;
}

static int exec_fallback(const struct config *c, int port, const char *why)
{
    struct fallback_cmd fb;
    if (!fallback_build_argv(&fb, envfile_self_dir(), port, c->user)) {
        log_error("ssh-supervise: envinit-sshd is not installed in %s: no SSH server runs", envfile_self_dir());
        ssh_status_set(SSH_KIND_NONE, SSH_STATE_DOWN, port, true, 0, "envinit-sshd is not installed");
        return SSH_SUPERVISE_NO_SERVER;
    }
    fallback_add_args(&fb, c->host_keys, c->fallback_config, c->fallback_args);
    log_msg(port == c->ssh_port ? LOG_INFO : LOG_WARN, "ssh-supervise: starting envinit-sshd on port %d: %s",
            port, why);
    /* systemd supervises this process: the fallback simply takes it over. */
    ssh_status_set(SSH_KIND_FALLBACK, SSH_STATE_RUNNING, port, true, getpid(), why);
    execv(fb.argv[0], fb.argv);
    log_error("ssh-supervise: cannot run %s: %s", fb.argv[0], strerror(errno));
    ssh_status_set(SSH_KIND_NONE, SSH_STATE_DOWN, port, true, 0, "envinit-sshd could not be started");
    return 1;
}

int ssh_supervise_command(const struct config *c)
{
    ssh_status_init(c, envfile_self_dir());
    if (c->ssh == SSH_OFF || c->ssh == SSH_EXTERNAL) {
        log_info("ssh-supervise: ssh = %s: nothing to do", ssh_mode_name(c->ssh));
        ssh_status_set(c->ssh == SSH_OFF ? SSH_KIND_OFF : SSH_KIND_EXTERNAL,
                       c->ssh == SSH_OFF ? SSH_STATE_OFF : SSH_STATE_EXTERNAL,
                   c->ssh == SSH_OFF ? 0 : c->ssh_port, c->ssh != SSH_OFF, 0, "");
        return 0;
    }
    struct facts_ctx fc;
    memset(&fc, 0, sizeof fc);
    fc.f = (struct ssh_facts){.mode = c->ssh, .root = geteuid() == 0, .probe = SSH_PROBE_NO_ANSWER,
                              .ssh_port = c->ssh_port, .fallback_port = c->fallback_port};
    fc.f.listener = wait_for_listener(c->ssh_port, c->ssh_wait_ms, &fc.addr);
    if (fc.f.listener)
        fc.f.probe = ssh_probe(&fc.addr, SSH_PROBE_TIMEOUT_MS);
    struct fallback_cmd fb;
    fc.f.have_fallback = fallback_build_argv(&fb, envfile_self_dir(), 0, "");
    check_privilege(c, &fc);
    /* systemd runs OpenSSH here; ssh = openssh only forbids the fallback. */
    if (c->ssh == SSH_OPENSSH && !(fc.f.listener && fc.f.probe == SSH_PROBE_SSH)) {
        log_error("ssh-supervise: no SSH server answers on port %d after %ld ms and ssh = openssh forbids the "
                  "fallback; enable OpenSSH in the image (systemctl enable ssh)", c->ssh_port, c->ssh_wait_ms);
        ssh_status_set(SSH_KIND_NONE, SSH_STATE_DOWN, c->ssh_port, true, 0, "ssh = openssh and systemd's sshd does not answer");
        return SSH_SUPERVISE_NO_SERVER;
    }
    if (c->ssh == SSH_OPENSSH)
        fc.f.mode = SSH_AUTO;
    struct ssh_decision d = ssh_decide(&fc.f);
    if (d.port_broken)
        log_broken_port(c->ssh_port, fc.f.probe);
    switch (d.action) {
    case SSH_ACT_SERVED:
        log_info("ssh-supervise: an SSH server answers on port %d", c->ssh_port);
        ssh_status_set(SSH_KIND_SERVED, SSH_STATE_EXTERNAL, c->ssh_port, true, 0, "systemd's SSH server answers");
        return 0;
    case SSH_ACT_FALLBACK:
        return exec_fallback(c, d.port, d.why);
    default:
        log_error("ssh-supervise: %s; no SSH server runs", d.why);
        ssh_status_set(SSH_KIND_NONE, SSH_STATE_DOWN, c->ssh_port, true, 0, d.why);
        return SSH_SUPERVISE_NO_SERVER;
    }
}
