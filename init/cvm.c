/* CVM mode: systemd becomes PID 1 and runs OpenSSH itself (the page's
 * Dockerfile enables ssh.service); envinit leaves a runtime unit behind
 * that starts the fallback when nothing listens on the port in time. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_DIR "/run/systemd/system"
#define WANTS_DIR UNIT_DIR "/multi-user.target.wants"
#define UNIT_MAX 8192

/* A systemd unit value in double quotes: backslash and quote escaped,
 * % doubled (specifiers), and $ doubled on ExecStart= lines (variable
 * expansion). A newline cannot be written at all. */
static int unit_quote(const char *v, bool exec_line, char *out, size_t len)
{
    size_t n = 0;
    if (len < 3)
        return -1;
    out[n++] = '"';
    for (const char *p = v; *p; p++) {
        char esc = 0;
        if (*p == '\n' || *p == '\r')
            return -1;
        if (*p == '\\' || *p == '"')
            esc = '\\';
        else if (*p == '%')
            esc = '%';
        else if (*p == '$' && exec_line)
            esc = '$';
        if (n + 4 >= len)
            return -1;
        if (esc)
            out[n++] = esc;
        out[n++] = *p;
    }
    out[n++] = '"';
    out[n] = '\0';
    return 0;
}

struct unit_buf {
    char *buf;
    size_t len, used;
    bool failed;
};

static void add(struct unit_buf *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct unit_buf *u, const char *fmt, ...)
{
    if (u->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(u->buf + u->used, u->len - u->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= u->len - u->used)
        u->failed = true;
    else
        u->used += (size_t)n;
}

/* Environment="NAME=value" for one variable. */
static void add_env(struct unit_buf *u, const char *name, const char *value)
{
    char assignment[4200], quoted[8500];
    snprintf(assignment, sizeof assignment, "%s=%s", name, value);
    if (unit_quote(assignment, false, quoted, sizeof quoted) < 0)
        u->failed = true;
    else
        add(u, "Environment=%s\n", quoted);
}

/* systemd services do not see the container's variables, so the settings
 * envinit resolved at start-up are written into the unit: ssh-supervise
 * then decides with the same configuration as PID 1 did. */
int cvm_render_unit(const struct config *c, const char *envinit, char *buf, size_t len)
{
    struct unit_buf u = {.buf = buf, .len = len};
    char exec[8500];
    if (len == 0 || unit_quote(envinit, true, exec, sizeof exec) < 0)
        return -1;
    buf[0] = '\0';
    add(&u, "# Written by envinit at start-up (CVM mode); a runtime unit, gone with /run.\n"
            "[Unit]\n"
            "Description=SSH access to this environment (envinit: OpenSSH, or its fallback server)\n"
            "After=network.target ssh.service sshd.service\n"
            "\n"
            "[Service]\n"
            "Type=simple\n");
    if (c->config_path[0])
        add_env(&u, "ENVINIT_CONFIG", c->config_path);
    /* Every setting from the one table, so none is left behind; the key
     * lines are written before systemd starts and are not needed here. */
    for (size_t i = 0; i < config_key_count(); i++) {
        char name[64] = "ENVINIT_", value[CONFIG_VALUE_MAX];
        if (config_key_is_keys(i))
            continue;
        if (config_key_value(c, i, value, sizeof value) < 0) {
            u.failed = true;
            break;
        }
        if (!value[0])
            continue;
        env_key_upper(config_key_name(i), name + 8, sizeof name - 8);
        add_env(&u, name, value);
    }
    add(&u, "ExecStart=%s ssh-supervise\n"
            "Restart=on-failure\n"
            "RestartSec=1\n"
            "RemainAfterExit=yes\n"
            "# %d: no SSH server can run here; restarting would not change that.\n"
            "RestartPreventExitStatus=%d\n"
            "\n"
            "[Install]\n"
            "WantedBy=multi-user.target\n",
        exec, SSH_SUPERVISE_NO_SERVER, SSH_SUPERVISE_NO_SERVER);
    return u.failed ? -1 : (int)u.used;
}

static int link_atomic(const char *target, const char *path)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    unlink(tmp);
    if (symlink(target, tmp) < 0)
        return -1;
    if (rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}

int cvm_write_units(const char *root, const struct config *c, const char *envinit)
{
    char text[UNIT_MAX], dir[4096], wants[4096], unit[4200], link[4200];
    int len = cvm_render_unit(c, envinit, text, sizeof text);
    if (len < 0) {
        log_error("CVM mode: cannot render %s (a setting holds a newline or is too long); "
                  "systemd will not start the fallback", CVM_UNIT_NAME);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s%s", root, UNIT_DIR);
    snprintf(wants, sizeof wants, "%s%s", root, WANTS_DIR);
    snprintf(unit, sizeof unit, "%s/%s", dir, CVM_UNIT_NAME);
    snprintf(link, sizeof link, "%s/%s", wants, CVM_UNIT_NAME);
    const char *failed = NULL;
    int wfd = envfile_open_dirs(wants, 0755, NULL, 0), dfd = -1;
    if (wfd < 0)
        failed = wants;
    else if ((dfd = envfile_open_dirs(dir, 0755, NULL, 0)) < 0)
        failed = dir;
    else if (envfile_replace_at(dfd, CVM_UNIT_NAME, text, (size_t)len, 0644) < 0)
        failed = unit;
    else if (link_atomic("../" CVM_UNIT_NAME, link) < 0)
        failed = link;
    int err = errno;
    if (wfd >= 0)
        close(wfd);
    if (dfd >= 0)
        close(dfd);
    if (failed) {
        log_error("CVM mode: cannot write %s: %s; systemd will not start the fallback%s", failed, strerror(err),
                  err == EROFS ? " (a read-only root needs a tmpfs at /run, which systemd needs too)" : "");
        return -1;
    }
    log_info("CVM mode: wrote %s, enabled for multi-user.target", unit);
    return 0;
}

static void remove_units(const char *root)
{
    char path[4200];
    snprintf(path, sizeof path, "%s%s/%s", root, WANTS_DIR, CVM_UNIT_NAME);
    unlink(path);
    snprintf(path, sizeof path, "%s%s/%s", root, UNIT_DIR, CVM_UNIT_NAME);
    unlink(path);
}

static bool is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

bool cvm_find_systemd(const char *root, const char *self, char *out, size_t len)
{
    snprintf(out, len, "%s/lib/systemd/systemd", root);
    if (is_executable(out))
        return true;
    snprintf(out, len, "%s/sbin/init", root);
    if (!is_executable(out))
        return false;
    /* An image may link /sbin/init to envinit itself: exec'ing that would
     * loop, not boot. */
    struct stat init_st, self_st;
    if (self && stat(out, &init_st) == 0 && stat(self, &self_st) == 0 && init_st.st_dev == self_st.st_dev &&
        init_st.st_ino == self_st.st_ino)
        return false;
    return true;
}

static bool names_an_init(const char *word)
{
    const char *base = strrchr(word, '/');
    base = base ? base + 1 : word;
    return strcmp(base, "systemd") == 0 || strcmp(base, "init") == 0;
}

char **cvm_build_argv(const char *init, char *const args[])
{
    size_t n = 0;
    while (args && args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    if (!argv)
        return NULL;
    size_t skip = n > 0 && names_an_init(args[0]) ? 1 : 0;
    argv[0] = (char *)init;
    for (size_t i = skip; i < n; i++)
        argv[i - skip + 1] = args[i];
    return argv;
}

/* systemd mounts a tmpfs over /run when /run is not a mount point yet,
 * which would hide the unit written there. Mounting it first (as systemd
 * would, 0755 nosuid nodev) keeps the unit visible. */
static bool is_mount_point(const char *path)
{
    struct stat a, b;
    char parent[4200];
    snprintf(parent, sizeof parent, "%s/..", path);
    return stat(path, &a) == 0 && stat(parent, &b) == 0 && (a.st_dev != b.st_dev || a.st_ino == b.st_ino);
}

static void ensure_run_mounted(void)
{
    if (is_mount_point("/run"))
        return;
    if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        log_warn("CVM mode: /run is not a mount point and mounting a tmpfs there failed (%s): systemd "
                 "will mount one and hide %s; start the container with --tmpfs /run",
                 strerror(errno), CVM_UNIT_NAME);
}

static int exec_init(const char *init, char *const args[], char *const envp[])
{
    char **argv = cvm_build_argv(init, args);
    if (!argv) {
        log_error("CVM mode: out of memory; carrying on as PID 1 without systemd");
        return -1;
    }
    sigset_t mask;
    struct sigaction ttin, ttou;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    sigaction(SIGTTIN, NULL, &ttin);
    sigaction(SIGTTOU, NULL, &ttou);
    log_info("CVM mode: handing PID 1 to %s", init);
    signals_restore_for_child(); /* systemd gets what envinit was started with */
    execve(init, argv, envp);
    int err = errno;
    sigaction(SIGTTIN, &ttin, NULL);
    sigaction(SIGTTOU, &ttou, NULL);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    free(argv);
    log_error("CVM mode: cannot run %s: %s; carrying on as a normal PID 1", init, strerror(err));
    return -1;
}

/* The kernel's link is already absolute and free of symlinks; a program
 * file that was replaced or removed since it started reads "... (deleted)"
 * there, and then the installed name is the one to use. */
static void self_path(char *out, size_t len)
{
    struct stat sb;
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n > 0) {
        out[n] = '\0';
        if (stat(out, &sb) == 0)
            return;
    }
    snprintf(out, len, "%s/envinit", envfile_self_dir());
}

int cvm_exec_systemd_at(const char *root, const struct config *c, char *const args[], char *const envp[])
{
    char self[PATH_MAX], init[4096];
    self_path(self, sizeof self);
    bool units = ssh_cvm_units(c->ssh);
    if (!cvm_find_systemd(root, self, init, sizeof init)) {
        log_error("CVM mode: the image has neither %s/lib/systemd/systemd nor %s/sbin/init; carrying on as a "
                  "normal PID 1 that starts SSH itself", root, root);
        return -1;
    }
    if (root[0] == '\0' && getpid() == 1)
        ensure_run_mounted();
    if (units)
        cvm_write_units(root, c, self);
    int r = exec_init(init, args, envp);
    if (units)
        remove_units(root); /* we stay PID 1 and run SSH ourselves */
    return r;
}

int cvm_exec_systemd(const struct config *c, char *const argv[], char *const envp[])
{
    return cvm_exec_systemd_at("", c, argv, envp);
}
