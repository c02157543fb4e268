/* The Banner file: read once at start by the listener (or -i's process),
 * as root on behalf of the environment user, and sent to every client
 * before it authenticates. What root reads there goes to anyone who
 * connects, so the user must not be able to choose the file. */
#include "sshfallback.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int banner_fail(const char *path, const char *why)
{
    log_error("banner %s: %s; not starting", path, why);
    return -1;
}

static int read_file(const char *path, int fd, char **text)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return banner_fail(path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return banner_fail(path, "not a regular file");
    if (st.st_size > SF_BANNER_MAX) {
        log_error("banner %s: larger than %d bytes; not starting", path, SF_BANNER_MAX);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    ssize_t n = buf ? read(fd, buf, (size_t)st.st_size + 1) : -1;
    if (n < 0 || n > st.st_size) {
        free(buf);
        return banner_fail(path, n < 0 ? strerror(errno) : "it grew while being read");
    }
    buf[n] = '\0';
    *text = buf;
    return 0;
}

int sf_banner_read(const char *path, const struct envfile_owner *who, char **text)
{
    *text = NULL;
    if (!path || strcmp(path, "none") == 0)
        return 0;
    char why[PATH_MAX + 96];
    if (path[0] != '/')
        return banner_fail(path, "not an absolute path");
    if (geteuid() == 0 && who->uid != 0 && !envfile_path_safe_from(path, who, why, sizeof why))
        return banner_fail(path, why);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return banner_fail(path, strerror(errno));
    int rc = read_file(path, fd, text);
    close(fd);
    return rc;
}
