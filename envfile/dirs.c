/* Making and opening the folders root writes into, without following a
 * symlink anyone but root could have made or could replace on the way:
 * each component is created in, and opened from, the descriptor of its
 * parent. */
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

static int walk(int fd, const char *path, mode_t mode, int links, char *bad, size_t badlen);

/* A symlink root may follow: root made it, in a folder that only root can
 * change (/var/run -> /run). */
static int symlink_trusted(int dirfd, const char *name)
{
    struct stat l, d;
    return fstatat(dirfd, name, &l, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(l.st_mode) && fstat(dirfd, &d) == 0 &&
           l.st_uid == 0 && d.st_uid == 0 && !(d.st_mode & 022);
}

/* Who may own a folder on the way: root or us. Not root, only the last
 * one must be ours or root's (a home another uid owns but lets us write,
 * as OpenShift images do, may lie on the way). */
static int owner_ok(const struct stat *st, int last)
{
    return st->st_uid == 0 || st->st_uid == geteuid() || (geteuid() != 0 && !last);
}

/* Opens NAME in DIRFD as a folder, making it when missing; follows a
 * trusted symlink. -1 with errno: ELOOP for any other symlink, ENOTDIR for
 * anything else that is not a folder, EPERM for a folder of someone
 * else's (see owner_ok). */
static int open_component(int dirfd, const char *name, mode_t mode, int last, int links)
{
    int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dirfd, name, flags);
    if (fd < 0 && errno == ENOENT && (mkdirat(dirfd, name, mode) == 0 || errno == EEXIST))
        fd = openat(dirfd, name, flags);
    struct stat st;
    if (fd < 0) {
        /* O_PATH|O_NOFOLLOW on a symlink reports ENOTDIR: say which. */
        if (errno != ENOTDIR || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
            return -1;
        char target[PATH_MAX];
        ssize_t n = links < MAX_LINKS && symlink_trusted(dirfd, name)
                        ? readlinkat(dirfd, name, target, sizeof target - 1) : -1;
        if (n <= 0)
            return errno = ELOOP, -1;
        target[n] = '\0';
        int start = target[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                                     : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
        return start < 0 ? -1 : walk(start, target, mode, links + 1, NULL, 0);
    }
    int err = fstat(fd, &st) < 0 ? errno : !owner_ok(&st, last) ? EPERM : 0;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Walks PATH from FD (consumed). BAD (may be NULL) gets PATH up to the
 * component that failed. */
static int walk(int fd, const char *path, mode_t mode, int links, char *bad, size_t badlen)
{
    const char *p = path;
    char name[NAME_MAX + 1];
    for (int r; fd >= 0 && (r = envfile_path_next(&p, name)) != 0;) {
        if (r < 0) {
            close(fd);
            return -1;
        }
        int last = p[strspn(p, "/")] == '\0';
        int next = open_component(fd, name, mode, last, links);
        int err = errno;
        close(fd);
        if (next < 0 && bad)
            snprintf(bad, badlen, "%.*s", (int)(p - path), path);
        errno = err;
        fd = next;
    }
    return fd;
}

int envfile_path_next(const char **path, char *name)
{
    const char *p = *path + strspn(*path, "/");
    size_t n = strcspn(p, "/");
    if (n == 0)
        return 0;
    if (n > NAME_MAX)
        return errno = ENAMETOOLONG, -1;
    memcpy(name, p, n);
    name[n] = '\0';
    *path = p + n;
    return 1;
}

int envfile_open_dirs(const char *dir, mode_t mode, char *bad, size_t badlen)
{
    int fd = open(dir[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -1 : walk(fd, dir, mode, 0, bad, badlen);
}

/* ---- replacing a file whole ---- */

int envfile_replace_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
    char tmp[NAME_MAX + 1];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", name, (int)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    errno = 0;
    int err = write(fd, data, len) == (ssize_t)len ? 0 : errno ? errno : EIO;
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && renameat(dirfd, tmp, dirfd, name) < 0)
        err = errno;
    if (err) {
        unlinkat(dirfd, tmp, 0);
        errno = err;
        return -1;
    }
    return 0;
}

/* ---- the runtime folder: where keys and state go when nothing
 * persistent can be written ---- */

int envfile_own_folder(const char *dir, mode_t mode)
{
    struct stat st;
    if (mkdir(dir, mode) < 0 && errno != EEXIST)
        return -1;
    if (lstat(dir, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
        return errno = EPERM, -1;
    return 0;
}

int envfile_runtime_dir(char *out, size_t len, const char **tried)
{
    uid_t uid = geteuid();
    const char *xdg = uid ? getenv("XDG_RUNTIME_DIR") : NULL;
    char cand[3][PATH_MAX];
    size_t n = 0;
    snprintf(cand[n++], sizeof cand[0], "%s", ENVFILE_RUNTIME_DIR);
    if (xdg && xdg[0] == '/' && snprintf(cand[n], sizeof cand[0], "%s/envinit", xdg) < (int)sizeof cand[0])
        n++;
    snprintf(cand[n++], sizeof cand[0], ENVFILE_UNLISTED_HOME_PARENT, (unsigned)uid);
    for (size_t i = 0; i < n; i++) {
        mode_t mode = i == 0 && uid == 0 ? 0755 : 0700;
        if (envfile_own_folder(cand[i], mode) == 0) {
            snprintf(out, len, "%s", cand[i]);
            return 0;
        }
    }
    if (tried)
        *tried = uid ? ENVFILE_RUNTIME_DIR ", $XDG_RUNTIME_DIR/envinit and /tmp/envinit-UID"
                     : ENVFILE_RUNTIME_DIR " and /tmp/envinit-0";
    return -1;
}

/* ---- where the running program is installed ---- */

const char *envfile_self_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0)
        return strcpy(dir, ENVFILE_BUNDLE_ROOT "/bin");
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    return dir;
}

const char *envfile_bundle_root(void)
{
    static char root[PATH_MAX];
    if (root[0])
        return root;
    snprintf(root, sizeof root, "%s", envfile_self_dir());
    size_t len = strlen(root);
    if (len >= 4 && strcmp(root + len - 4, "/bin") == 0)
        root[len - 4] = '\0';
    if (!root[0]) /* /bin/envinit */
        strcpy(root, "/");
    return root;
}
