/* envinit: PID 1 of a developer-environment container. Starts the main
 * command, reaps every child, forwards signals, supervises the SSH server
 * and shuts everything down cleanly. See envinit(8). */
#include "envinit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ENVINIT_VERSION
#define ENVINIT_VERSION "0.1.0"
#endif

extern char **environ;

static struct config cfg;

static struct {
    pid_t main_pid;             /* 0: none started or already reaped */
    pid_t main_pid_group;       /* its process group, kept after it is reaped */
    bool had_main;
    bool stopping;              /* shutdown begun */
    bool killing;               /* grace period over */
    int grace_timer;
    int exit_code;
} st = {.grace_timer = -1};

/* ---- shutdown ---- */

static bool have_children(void)
{
    siginfo_t si;
    return !(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == -1 && errno == ECHILD);
}

/* Our direct children, from /proc/self/task/TID/children (one file per
 * thread; envinit has one). Returns false when the kernel lacks the file. */
static bool signal_children_listed(int sig)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    for (char *p = buf, *end; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            kill((pid_t)pid, sig);
    }
    return n < (ssize_t)sizeof buf - 1; /* a full buffer may have cut the list */
}

/* Every /proc/PID/stat whose parent is us: slow, only when the children
 * file is missing or was too long to read at once. */
static void signal_children_scanned(int sig)
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    pid_t self = getpid();
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[300], buf[512];
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and
         * parentheses, so parse from the last ')'. */
        char *rp = strrchr(buf, ')');
        if (rp && rp[1] == ' ' && rp[2] && rp[3] == ' ' && strtol(rp + 4, NULL, 10) == self)
            kill((pid_t)strtol(de->d_name, NULL, 10), sig);
    }
    closedir(d);
}

/* Sends SIG to every process left: as PID 1 that is the whole namespace;
 * as a subreaper, our direct children (their children come back to us). */
static void signal_all(int sig)
{
    if (getpid() == 1)
        kill(-1, sig);
    else if (!signal_children_listed(sig))
        signal_children_scanned(sig);
}

static void signal_everything(int sig)
{
    if (have_children())
        signal_all(sig);
}

static void grace_over(void *ctx)
{
    (void)ctx;
    st.grace_timer = -1;
    st.killing = true;
    log_warn("grace period of %ld.%03ld s is over; killing what is left with SIGKILL",
             cfg.grace_ms / 1000, cfg.grace_ms % 1000);
    if (st.main_pid > 0)
        kill(-st.main_pid, SIGKILL), kill(st.main_pid, SIGKILL);
    supervise_kill_all();
    signal_everything(SIGKILL);
}

/* LEFT: some process may still be running, so the grace period is
 * needed; with none left the loop ends before any timer could fire. */
static void begin_shutdown(const char *why, bool left)
{
    if (st.stopping)
        return;
    st.stopping = true;
    log_info("shutting down: %s", why);
    supervise_stop_all();
    if (left)
        st.grace_timer = loop_timer_add(cfg.grace_ms, grace_over, NULL);
}

/* Once the main command is gone nothing else will clean up after it.
 * LEFT: we still have children. */
static void terminate_rest(bool left)
{
    if (st.had_main)
        kill(-st.main_pid_group, SIGTERM);
    if (left)
        signal_all(SIGTERM);
}

/* NONE_LEFT: waitpid just said we have no children at all. */
static void finish_if_done(bool none_left)
{
    if (!st.stopping || st.main_pid > 0)
        return;
    if (none_left) {
        loop_stop();
        return;
    }
    if (st.killing)
        signal_everything(SIGKILL); /* orphans re-parented since the last sweep */
}

/* ---- children ---- */

static void main_exited(int status)
{
    char how[96];
    describe_status(status, how, sizeof how);
    log_info("main command (pid %d) %s", (int)st.main_pid, how);
    st.main_pid = 0;
    st.exit_code = exit_code_remap(&cfg, exit_code_of(status));
    bool left = have_children();
    begin_shutdown("the main command ended", left);
    terminate_rest(left);
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
        if (pid == st.main_pid)
            main_exited(status);
        else if (!supervise_reaped(pid, status))
            log_msg(cfg.warn_on_reap ? LOG_WARN : LOG_DEBUG, "reaped zombie pid %d", (int)pid);
    }
    finish_if_done(pid < 0 && errno == ECHILD);
}

static void forward(int sig)
{
    int to = signal_rewrite(&cfg, sig);
    if (to == 0 || st.main_pid <= 0) {
        log_debug("SIG%s not forwarded (%s)", signal_name(sig), to ? "no main command" : "dropped by rewrite");
        return;
    }
    pid_t target = cfg.kill_group ? -st.main_pid : st.main_pid;
    if (kill(target, to) < 0 && errno != ESRCH)
        log_warn("cannot forward SIG%s to %d: %s", signal_name(to), (int)target, strerror(errno));
    else
        log_debug("forwarded SIG%s to %d", signal_name(to), (int)target);
}

static void on_signal(int fd, short revents, void *ctx)
{
    (void)revents;
    (void)ctx;
    struct signalfd_siginfo si[16];
    ssize_t n = read(fd, si, sizeof si);
    for (ssize_t i = 0; i < n / (ssize_t)sizeof si[0]; i++) {
        int sig = (int)si[i].ssi_signo;
        if (sig == SIGCHLD)
            continue; /* one reap pass below covers them all */
        forward(sig);
        if (sig == SIGTERM || sig == SIGINT) {
            bool left = st.main_pid > 0 || have_children();
            begin_shutdown(sig == SIGTERM ? "SIGTERM received" : "SIGINT received", left);
            if (st.main_pid <= 0)
                terminate_rest(left);
        }
    }
    reap();
}

static pid_t start_main(char **argv)
{
    /* _Fork, not fork: envinit has one thread and registers no atfork
     * handler, and fork's handler machinery is 4 KiB of PID 1's image. */
    pid_t pid = _Fork();
    if (pid < 0) {
        log_error("cannot fork for %s: %s; exiting", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* Keep job control working under docker run -it. */
        if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO)
            log_warn("cannot give the terminal to %s: %s", argv[0], strerror(errno));
        signals_restore_for_child();
        execvp(argv[0], argv);
        int e = errno;
        log_error("cannot run %s: %s", argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    setpgid(pid, pid); /* either side may win the race */
    log_info("started %s as pid %d", argv[0], (int)pid);
    return pid;
}

static int setup_signals(void)
{
    sigset_t fwd;
    if (signals_take_over(&fwd) < 0) {
        log_error("cannot take over signals: %s; exiting", strerror(errno));
        return -1;
    }
    sigaddset(&fwd, SIGCHLD);
    int fd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0 || loop_init() < 0 || loop_watch_fd(fd, on_signal, NULL) < 0) {
        log_error("cannot set up the event loop: %s; exiting", strerror(errno));
        return -1;
    }
    return 0;
}

static void become_reaper(void)
{
    if (cfg.parent_death_signal && prctl(PR_SET_PDEATHSIG, cfg.parent_death_signal) < 0)
        log_warn("cannot set the parent death signal: %s", strerror(errno));
    if (getpid() == 1)
        return;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_warn("not PID 1 and cannot become a child subreaper: %s; orphans will not be reaped",
                 strerror(errno));
    else
        log_info("not PID 1: registered as child subreaper to reap orphans");
}

static int run_init(char **argv, char **command)
{
    if (setup_signals() < 0)
        return 1;
    become_reaper();
    /* envinit-setup writes the SSH files and chooses the server first, so
     * the main command starts with them in place. */
    if (ssh_plan_fetch(&cfg, argv, command, false) < 0)
        return 1;
    if (cfg.cvm) {
        cvm_exec_systemd(&cfg, command, environ); /* returns only when it cannot */
        if (ssh_plan_fetch(&cfg, argv, command, true) < 0)
            return 1;
    }
    if (command) {
        st.main_pid = st.main_pid_group = start_main(command);
        if (st.main_pid < 0)
            return 1;
        st.had_main = true;
    }
    ssh_start(&cfg, command != NULL);
    if (loop_run() < 0)
        return 1;
    log_info("exiting with status %d", st.exit_code);
    return st.exit_code;
}

int main(int argc, char **argv)
{
    struct cli cli;
    char err[1024];
    /* fputs and the logger rather than printf: the fortified printf
     * family would be one more piece of PID 1's image. */
    if (config_resolve(argc, argv, environ, &cli, &cfg, err, sizeof err) < 0) {
        log_error("%s", err);
        if (cli.cmd != CMD_HELP)
            fputs("envinit: see envinit --help; nothing was started\n", stderr);
        return 2;
    }
    log_set_level((enum log_level)cfg.log_level);
    switch (cli.cmd) {
    case CMD_HELP:
        /* The help text is envinit-setup's: PID 1 would carry it for
         * nothing. Without envinit-setup, the one line that matters. */
        setup_exec(argv, NULL, "--help");
        fputs("usage: envinit [options] [--] [COMMAND [ARG...]]\n", stderr);
        return 2;
    case CMD_VERSION:
        fputs("envinit " ENVINIT_VERSION "\n", stdout);
        return 0;
    case CMD_CHECK:
    case CMD_ENV:
    case CMD_STATUS:
    case CMD_SSH_SUPERVISE:
    case CMD_PREPARE:
    case CMD_SSH_STDIO:
    case CMD_SSH_CONFIG:
        /* These read the image's and the user's files: envinit-setup's job. */
        return setup_exec(argv, cli.command, cli_command_name(cli.cmd));
    case CMD_RUN:
        break;
    }
    return run_init(argv, cli.command);
}
