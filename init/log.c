#include "envinit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum log_level current = LOG_WARN;
static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level) { current = level; }
enum log_level log_get_level(void) { return current; }

int log_parse_level(const char *s)
{
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    if (s[0] >= '0' && s[0] <= '9' && s[1] == '\0')
        return s[0] - '0' > LOG_DEBUG ? LOG_DEBUG : s[0] - '0';
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > current)
        return;
    int saved = errno;
    char line[2048];
    int n = snprintf(line, sizeof line, "envinit: %s: ", names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* One write(2) per line so lines from envinit and its children do not
     * interleave mid-line on a shared stderr. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
    errno = saved;
}
