/* Making and opening the folders root writes into, without ever following
 * a symlink on the way: each component is created in, and opened from,
 * the descriptor of its parent. */
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens NAME in DIRFD as a folder, making it when missing. -1 with errno:
 * ELOOP for a symlink, ENOTDIR for anything else that is not a folder,
 * EPERM when neither root nor this uid owns it. */
static int open_component(int dirfd, const char *name, mode_t mode)
{
    int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dirfd, name, flags);
    if (fd < 0 && errno == ENOENT && (mkdirat(dirfd, name, mode) == 0 || errno == EEXIST))
        fd = openat(dirfd, name, flags);
    struct stat st;
    if (fd < 0) {
        /* O_PATH|O_NOFOLLOW on a symlink reports ENOTDIR: say which. */
        if (errno == ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            errno = ELOOP;
        return -1;
    }
    int err = fstat(fd, &st) < 0 ? errno : st.st_uid != 0 && st.st_uid != geteuid() ? EPERM : 0;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int envfile_open_dirs(const char *dir, mode_t mode, char *bad, size_t badlen)
{
    int fd = open(dir[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    const char *p = dir;
    while (fd >= 0 && *p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        char name[NAME_MAX + 1];
        if (n > NAME_MAX) {
            close(fd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        int next = open_component(fd, name, mode);
        int err = errno;
        close(fd);
        if (next < 0 && bad)
            snprintf(bad, badlen, "%.*s", (int)(p - dir), dir);
        errno = err;
        fd = next;
    }
    return fd;
}
