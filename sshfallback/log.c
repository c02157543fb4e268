/* One line per event on stderr; envinit captures it into its own log. */
#include "sshfallback.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int sf_log_level = SF_INFO;
int sf_log_fd = STDERR_FILENO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sf_log(int level, const char *fmt, ...)
{
    if (level > sf_log_level)
        return;
    int saved = errno;
    char line[2048];
    int n = snprintf(line, sizeof line, SF_NAME ": %s: ", level_names[level < 0 ? 0 : level > 3 ? 3 : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* A client-controlled string must not forge extra log lines. */
    for (size_t i = (size_t)n; i < len; i++)
        if ((unsigned char)line[i] < 0x20)
            line[i] = '?';
    line[len++] = '\n';
    /* One write(2) per line: connection processes share the stderr. */
    ssize_t w = write(sf_log_fd, line, len);
    (void)w;
    errno = saved;
}

const char *sf_log_safe(const char *s, char buf[SF_LOG_SAFE_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i = 0;
    if (!s)
        s = "?";
    for (; i < SF_LOG_SAFE_MAX && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            buf[n++] = (char)ch;
            continue;
        }
        buf[n++] = '\\';
        buf[n++] = 'x';
        buf[n++] = hex[ch >> 4];
        buf[n++] = hex[ch & 15];
    }
    if (s[i])
        for (int k = 0; k < 3; k++)
            buf[n++] = '.';
    buf[n] = '\0';
    return buf;
}
