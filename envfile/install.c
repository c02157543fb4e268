/* The startup step: the only part of envfile that touches files. Root
 * works inside a directory the user controls, so every path below the home
 * is opened relative to a directory fd without following symlinks, and a
 * file is only ever replaced by rename from a fresh temporary file. */
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (16u << 20) /* larger files are refused, not loaded */
#define MAX_SYMLINKS 40

/* ---------------- resolving the request ---------------- */

int envfile_resolve_user(const struct envfile_request *req, struct envfile_user *out)
{
    if (req->user) {
        *out = *req->user;
        return 0;
    }
    const char *path = req->passwd_path ? req->passwd_path : ENVFILE_PASSWD;
    struct envfile_self self;
    envfile_self_init(&self, req->user_name);
    int rc = envfile_user_serve(path, &self, out);
    if (rc < 0) {
        const char *who = req->user_name && req->user_name[0] ? req->user_name : "(default)";
        if (errno == ENOENT)
            log_error("environment user %s: not found in %s", who, path);
        else if (errno == EPERM && self.uid)
            log_error("environment user %s: envinit runs as uid %u, and only root can serve another "
                      "user; run the container as %s or leave `user` unset", who, (unsigned)self.uid, who);
        else
            log_error("environment user %s: cannot read %s: %s", who, path, strerror(errno));
    }
    return rc;
}

static int set_str(struct envfile_vars *vs, const char *name, const char *value)
{
    return envfile_vars_set(vs, name, strlen(name), value, strlen(value));
}

static int set_default(struct envfile_vars *vs, const char *name, const char *value)
{
    return envfile_vars_find(vs, name) ? 0 : set_str(vs, name, value);
}

static int set_limits(const struct envfile_request *req, struct envfile_vars *vs)
{
    if (envfile_vars_find(vs, "CODER_CPU_LIMIT") && envfile_vars_find(vs, "CODER_MEMORY_LIMIT"))
        return 0;
    struct envfile_limits lim;
    char cpu[64], mem[64];
    envfile_limits_read(req->cgroup_root, &lim);
    snprintf(cpu, sizeof cpu, "%.2f", lim.cpus);
    snprintf(mem, sizeof mem, "%.2f", lim.mem_gib);
    return set_default(vs, "CODER_CPU_LIMIT", cpu) || set_default(vs, "CODER_MEMORY_LIMIT", mem)
               ? -1 : 0;
}

/* SSH_AUTH_SOCK: the stable agent path when envinit-sshd serves, else
 * none (an inherited one named a socket of envinit's own context). */
static int set_agent_sock(const struct envfile_request *req, const struct envfile_user *user,
                          struct envfile_vars *vs)
{
    if (!req->agent_link) {
        if (envfile_vars_find(vs, "SSH_AUTH_SOCK"))
            log_info("SSH_AUTH_SOCK left out of ~/.ssh/environment: the SSH server sets "
                     "its own for each session");
        envfile_vars_unset(vs, "SSH_AUTH_SOCK");
        return 0;
    }
    char path[sizeof user->home + sizeof ENVFILE_AGENT_LINK + 1];
    snprintf(path, sizeof path, "%s/%s", strcmp(user->home, "/") ? user->home : "",
             ENVFILE_AGENT_LINK);
    return set_str(vs, "SSH_AUTH_SOCK", path);
}

int envfile_collect(const struct envfile_request *req, const struct envfile_user *user,
                    struct envfile_vars *out)
{
    char host[256] = "", assets[PATH_MAX];
    if (req->hostname)
        snprintf(host, sizeof host, "%s", req->hostname);
    else if (gethostname(host, sizeof host - 1) < 0)
        host[0] = '\0';
    snprintf(assets, sizeof assets, "%s", req->assets_root ? req->assets_root : envfile_bundle_root());
    /* envinit's own environment is root's: the user's identity is forced */
    if (envfile_vars_from_environ(out, req->environ, "ENVINIT_") < 0 ||
        set_str(out, "USER", user->name) < 0 || set_str(out, "HOME", user->home) < 0 ||
        set_str(out, "SHELL", user->shell) < 0 || set_str(out, "PWD", user->home) < 0 ||
        set_default(out, "HOSTNAME", host) < 0 || set_default(out, "LANG", "en_US.UTF-8") < 0 ||
        set_default(out, "CODER_USERNAME", user->name) < 0 ||
        set_default(out, "CODER_ENVIRONMENT_NAME", host) < 0 ||
        set_default(out, "CODER_ASSETS_ROOT", assets) < 0 || set_limits(req, out) < 0 ||
        set_agent_sock(req, user, out) < 0) {
        log_error("building ~/.ssh/environment: out of memory");
        return -1;
    }
    envfile_vars_filter(out);
    envfile_vars_sort(out);
    return 0;
}

char *envfile_render_for(const struct envfile_request *req)
{
    struct envfile_user user;
    struct envfile_vars vs = {0};
    struct envfile_buf out = {0};
    if (envfile_resolve_user(req, &user) < 0)
        return NULL;
    if (envfile_collect(req, &user, &vs) < 0 || envfile_env_render(&vs, &out) < 0)
        envfile_buf_free(&out);
    envfile_vars_free(&vs);
    return out.data;
}

/* ---------------- opening directories without trusting the user ---------------- */

/* A symlink may be followed by root only when the user can neither have
 * made it nor swap it: owned by root, in a directory the user does not own
 * and cannot write (or a sticky one). */
static int symlink_trusted(int dirfd, const char *name, uid_t uid)
{
    struct stat l, d;
    if (uid == 0)
        return 1;
    if (fstatat(dirfd, name, &l, AT_SYMLINK_NOFOLLOW) < 0 || fstat(dirfd, &d) < 0)
        return 0;
    return l.st_uid == 0 && d.st_uid != uid && (!(d.st_mode & 022) || (d.st_mode & S_ISVTX));
}

static int walk(int dirfd, const char *path, uid_t uid, int *links, const char *shown);

/* After an O_NOFOLLOW|O_DIRECTORY open failed: was NAME a symlink? (The
 * kernel reports ENOTDIR or ELOOP for it depending on the flags.) */
static int is_symlink(int dirfd, const char *name)
{
    struct stat st;
    return (errno == ELOOP || errno == ENOTDIR) &&
           fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* Opens component NAME of DIRFD (consumed on success and failure alike). */
static int step(int dirfd, const char *name, uid_t uid, int *links, const char *shown)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 || !is_symlink(dirfd, name)) {
        int saved = errno;
        close(dirfd);
        errno = saved;
        return fd;
    }
    char target[PATH_MAX];
    ssize_t n = 0;
    const char *why = NULL;
    if (++*links > MAX_SYMLINKS)
        why = "too many levels of symbolic links";
    else if (!symlink_trusted(dirfd, name, uid))
        why = "is a symbolic link the user could control; not following it as root";
    else if ((n = readlinkat(dirfd, name, target, sizeof target - 1)) <= 0)
        why = "is a symbolic link that cannot be read";
    if (why) {
        log_error("%s: a component (%s) %s; SSH files are not written", shown, name, why);
        close(dirfd);
        errno = ELOOP;
        return -1;
    }
    target[n] = '\0';
    if (target[0] == '/') {
        close(dirfd);
        dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
            return -1;
    }
    return walk(dirfd, target, uid, links, shown);
}

/* Walks PATH from DIRFD (consumed), one component at a time. */
static int walk(int dirfd, const char *path, uid_t uid, int *links, const char *shown)
{
    const char *p = path;
    char name[NAME_MAX + 1];
    for (int r; (r = envfile_path_next(&p, name)) != 0;) {
        if (r < 0) {
            close(dirfd);
            return -1;
        }
        if (strcmp(name, ".") == 0)
            continue;
        dirfd = step(dirfd, name, uid, links, shown);
        if (dirfd < 0)
            return -1;
    }
    return dirfd;
}

static int open_home(const struct envfile_user *u)
{
    int links = 0;
    if (u->home[0] != '/') {
        log_error("home of %s is not an absolute path (%s); not writing its SSH files",
                  u->name, u->home);
        errno = EINVAL;
        return -1;
    }
    int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return -1;
    int fd = walk(root, u->home, u->uid, &links, u->home);
    if (fd < 0 && errno != ELOOP)
        log_error("opening home %s of %s failed: %s; its SSH files are not written",
                  u->home, u->name, strerror(errno));
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 022))
        log_warn("home %s of %s is writable by group or others: OpenSSH (StrictModes) "
                 "refuses its authorized_keys", u->home, u->name);
    return fd;
}

/* Opens (creating 0700, owned by the user) HOME/.ssh; refuses a symlink or
 * a directory that is not the user's. */
static int open_ssh_dir(int home, const struct envfile_user *u, const char *shown)
{
    int fd = openat(home, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(home, ".ssh", 0700) < 0 && errno != EEXIST) {
            log_error("creating %s failed: %s; SSH files are not written", shown, strerror(errno));
            return -1;
        }
        fd = openat(home, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == 0 && u->uid != 0 &&
            (fchown(fd, u->uid, u->gid) < 0 || fchmod(fd, 0700) < 0)) {
            log_error("giving %s to %s failed: %s; SSH files are not written", shown,
                      u->name, strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (fd < 0) {
        if (is_symlink(home, ".ssh"))
            log_error("%s is a symbolic link; refusing to follow it as root "
                      "(make it a directory owned by %s); SSH files are not written",
                         shown, u->name);
        else if (errno == ENOTDIR)
            log_error("%s is not a directory; SSH files are not written", shown);
        else
            log_error("opening %s failed: %s; SSH files are not written", shown, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_uid != u->uid) {
        log_error("%s is owned by uid %ld, not by %s (uid %ld); refusing to write in it",
                  shown, (long)st.st_uid, u->name, (long)u->uid);
        close(fd);
        return -1;
    }
    return fd;
}

/* ---------------- reading and replacing one file ---------------- */

struct target {
    int dirfd;
    const char *name;  /* entry in dirfd */
    char path[PATH_MAX + 32]; /* for messages */
    uid_t uid;
    gid_t gid;
    mode_t mode;
};

/* Reads the current file: 0 (OUT filled, *EXISTS set), -1 on refusal. */
static int read_current(const struct target *t, struct envfile_buf *out, int *exists)
{
    *exists = 0;
    int fd = openat(t->dirfd, t->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0) {
        if (errno == ELOOP)
            log_error("%s is a symbolic link; refusing to follow it as root "
                      "(replace it with a regular file); left as it is", t->path);
        else
            log_error("reading %s failed: %s; left as it is", t->path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_error("%s is not a regular file; left as it is", t->path);
    } else if (st.st_nlink > 1 && st.st_uid != t->uid) {
        /* a hard link to a file of someone else (e.g. /etc/shadow): copying
         * its bytes into the user's new file would leak them */
        log_error("%s is a hard link to a file owned by uid %ld; refusing to read it as "
                  "root (make it a plain file); left as it is", t->path, (long)st.st_uid);
    } else if ((size_t)st.st_size > MAX_FILE) {
        log_error("%s is larger than %u MiB; left as it is", t->path, MAX_FILE >> 20);
    } else {
        char chunk[65536];
        ssize_t n;
        while ((n = read(fd, chunk, sizeof chunk)) > 0 && out->len + (size_t)n <= MAX_FILE)
            if (envfile_buf_add(out, chunk, (size_t)n) < 0)
                break;
        if (n == 0 && envfile_buf_add(out, "", 0) == 0) {
            *exists = 1;
            rc = 0;
        } else {
            log_error("reading %s failed: %s; left as it is", t->path,
                      n < 0 ? strerror(errno) : "too large or out of memory");
        }
    }
    close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Creates the temporary file; a leftover or planted entry at its name is
 * removed (unlinking a symlink never touches its target) and never
 * opened, since O_EXCL|O_CREAT refuses to follow. */
static int open_temp(const struct target *t, char *tmp, size_t cap)
{
    snprintf(tmp, cap, ".%s.envinit-tmp", t->name);
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = openat(t->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        if (unlinkat(t->dirfd, tmp, 0) < 0 && errno != ENOENT)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* Atomically replaces T with DATA: temp file, owner and mode, fsync,
 * rename, fsync of the directory. The old file is intact on failure. */
static int replace_file(const struct target *t, const char *data, size_t len)
{
    char tmp[NAME_MAX + 1];
    const char *what = "creating the temporary file";
    int fd = open_temp(t, tmp, sizeof tmp);
    if (fd < 0)
        goto fail;
    what = "setting owner and mode";
    if ((geteuid() == 0 && fchown(fd, t->uid, t->gid) < 0) || fchmod(fd, t->mode) < 0)
        goto fail_fd;
    what = "writing";
    if (write_all(fd, data, len) < 0)
        goto fail_fd;
    what = "syncing";
    if (fsync(fd) < 0)
        goto fail_fd;
    what = "closing";
    if (close(fd) < 0) {
        fd = -1;
        goto fail_fd;
    }
    fd = -1;
    what = "renaming the temporary file over it";
    if (renameat(t->dirfd, tmp, t->dirfd, t->name) < 0)
        goto fail_fd;
    if (fsync(t->dirfd) < 0)
        log_warn("syncing the directory of %s failed: %s", t->path, strerror(errno));
    return 0;
fail_fd:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(t->dirfd, tmp, 0);
    errno = saved;
fail:
    log_error("writing %s failed while %s: %s; the old file is left as it was", t->path,
              what, strerror(errno));
    return -1;
}

static void report_merge(const char *path, unsigned flags)
{
    if (flags & ENVFILE_MERGE_TWO_BLOCKS)
        log_warn("%s had more than one managed block; the extra ones were removed", path);
    if (flags & ENVFILE_MERGE_UNTERMINATED)
        log_warn("%s had a managed block without its end marker; repaired", path);
    if (flags & ENVFILE_MERGE_KEPT_LINES)
        log_warn("%s: lines after the unterminated block were kept as yours; "
                 "check them", path);
    if (flags & ENVFILE_MERGE_STRAY_END)
        log_warn("%s had an end marker without a start marker; removed it", path);
}

typedef int (*merge_fn)(const char *, size_t, const char *, size_t, struct envfile_buf *,
                        unsigned *);

static size_t count_lines(const char *p, size_t n)
{
    size_t c = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        c++;
    return c;
}

/* Merges BLOCK into the file T and replaces it when the bytes changed. */
static int update_file(const struct target *t, merge_fn merge, const char *block, size_t len)
{
    struct envfile_buf old = {0}, out = {0};
    int exists, rc = -1;
    unsigned flags = 0;
    if (read_current(t, &old, &exists) < 0)
        return -1;
    if (!exists && !block) {
        rc = 0;
    } else if (merge(old.data, old.len, block, len, &out, &flags) < 0) {
        log_error("merging %s: out of memory; left as it is", t->path);
    } else if (exists && out.len == old.len && memcmp(out.data, old.data, old.len) == 0) {
        log_debug("%s is up to date", t->path);
        rc = 0;
    } else {
        report_merge(t->path, flags);
        rc = replace_file(t, out.data, out.len);
        if (rc == 0)
            log_info("wrote %s", t->path);
        if (rc == 0 && merge == envfile_merge_env && count_lines(out.data, out.len) > ENVFILE_SSHD_MAX_LINES)
            log_warn("%s has more than %d lines: sshd refuses sessions then", t->path,
                     ENVFILE_SSHD_MAX_LINES);
    }
    envfile_buf_free(&old);
    envfile_buf_free(&out);
    return rc;
}

/* ---------------- /etc/environment ---------------- */

static int split_path(const char *path, char *dir, size_t cap, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1] || (size_t)(slash - path) + 2 > cap)
        return -1;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    *base = slash + 1;
    return 0;
}

/* Drops the lines of TEXT that set a variable to another value than VS. */
static int without_conflicts(const char *text, size_t len, const struct envfile_vars *vs,
                             struct envfile_buf *out)
{
    size_t pos = 0, n;
    const char *line;
    while (envfile_next_line(text, len, &pos, &line, &n))
        if (!envfile_etc_conflicts(line, n, vs, NULL) &&
            envfile_buf_add(out, line, (size_t)(text + pos - line)) < 0)
            return -1;
    return envfile_buf_add(out, "", 0);
}

static int etc_environment(const struct envfile_request *req, const struct envfile_vars *vs)
{
    if (req->etc_environment == ENVFILE_ETC_KEEP)
        return 0;
    const char *path = req->etc_environment_path ? req->etc_environment_path : "/etc/environment";
    char dir[PATH_MAX];
    struct target t = {-1, NULL, "", 0, 0, 0644};
    struct envfile_buf old = {0}, names = {0}, out = {0};
    int exists = 0, rc = 0;
    struct stat st;
    if (split_path(path, dir, sizeof dir, &t.name) < 0)
        return 0;
    snprintf(t.path, sizeof t.path, "%s", path);
    t.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* root's own file: a symlink there is the image's choice, not an
     * attack, but it is not ours to replace either */
    if (t.dirfd < 0 || fstatat(t.dirfd, t.name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        goto done;
    t.uid = st.st_uid;
    t.gid = st.st_gid;
    t.mode = st.st_mode & 07777;
    if (read_current(&t, &old, &exists) < 0 || !exists ||
        envfile_etc_conflicts(old.data, old.len, vs, &names) == 0)
        goto done;
    if (req->etc_environment == ENVFILE_ETC_WARN) {
        log_warn("%s sets %s to other values than ~/.ssh/environment; PAM applies it to "
                 "OpenSSH sessions over the block (etc_environment = remove drops them)",
                     path, names.data);
        goto done;
    }
    if (without_conflicts(old.data, old.len, vs, &out) < 0)
        rc = -1;
    else if ((rc = replace_file(&t, out.data, out.len)) == 0)
        log_info("removed %s from %s so that OpenSSH sessions see ~/.ssh/environment's values",
                 names.data, path);
done:
    if (t.dirfd >= 0)
        close(t.dirfd);
    envfile_buf_free(&old);
    envfile_buf_free(&names);
    envfile_buf_free(&out);
    return rc;
}

/* ---------------- the startup step ---------------- */

static int install_env(const struct envfile_request *req, const struct target *t,
                       const struct envfile_user *u)
{
    struct envfile_vars vs = {0};
    struct envfile_buf block = {0};
    int rc = -1;
    if (envfile_collect(req, u, &vs) == 0 && envfile_env_render(&vs, &block) == 0) {
        rc = update_file(t, envfile_merge_env, block.data, block.len);
        if (etc_environment(req, &vs) < 0)
            rc = -1;
    }
    envfile_vars_free(&vs);
    envfile_buf_free(&block);
    return rc;
}

static int install_keys(const struct envfile_request *req, const struct target *t)
{
    struct envfile_buf block = {0};
    long n = envfile_keys_render(req->keys, &block);
    int rc = n < 0 ? -1 : update_file(t, envfile_merge_keys, n ? block.data : NULL, block.len);
    envfile_buf_free(&block);
    return rc;
}

int envfile_install(const struct envfile_request *req)
{
    struct envfile_user u;
    if (!req->write_env && !req->write_keys)
        return 0;
    if (envfile_resolve_user(req, &u) < 0)
        return -1;
    char shown[PATH_MAX + 16];
    snprintf(shown, sizeof shown, "%s/.ssh", strcmp(u.home, "/") ? u.home : "");
    int home = open_home(&u);
    if (home < 0)
        return -1;
    int ssh = open_ssh_dir(home, &u, shown);
    close(home);
    if (ssh < 0)
        return -1;
    struct target t = {ssh, NULL, "", u.uid, u.gid, 0600};
    int rc = 0;
    if (req->write_env) {
        t.name = "environment";
        snprintf(t.path, sizeof t.path, "%s/environment", shown);
        rc |= install_env(req, &t, &u);
    }
    if (req->write_keys) {
        t.name = "authorized_keys";
        snprintf(t.path, sizeof t.path, "%s/authorized_keys", shown);
        rc |= install_keys(req, &t);
    }
    close(ssh);
    return rc ? -1 : 0;
}
