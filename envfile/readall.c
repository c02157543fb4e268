/* A whole file into memory, bounded: the configuration files, procfs
 * tables and the texts the listener hands to each connection. */
#include "envfile.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

char *envfile_read_fd(int fd, size_t max, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 == cap) {
            char *grown = cap > max ? NULL : realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                errno = cap > max ? EFBIG : ENOMEM;
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t r = pread(fd, buf + n, cap - 1 - n, (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            break;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        n += (size_t)r;
    }
    if (buf && n > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}
