/* Growable buffer and line iteration shared by render, merge and parsers. */
#include "envfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int envfile_buf_add(struct envfile_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 < b->len) {
        errno = ENOMEM;
        return -1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            if (cap > SIZE_MAX / 2) {
                errno = ENOMEM;
                return -1;
            }
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int envfile_buf_str(struct envfile_buf *b, const char *s)
{
    return envfile_buf_add(b, s, strlen(s));
}

void envfile_buf_free(struct envfile_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int envfile_next_line(const char *buf, size_t len, size_t *pos, const char **line,
                      size_t *line_len)
{
    if (!buf || *pos >= len)
        return 0;
    const char *start = buf + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *line = start;
    *line_len = n;
    *pos += n + (nl ? 1 : 0);
    return 1;
}
