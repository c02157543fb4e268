/* envfile's diagnostics hook: the program routes messages into its own log. */
#include "envfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void (*envfile_log)(int level, const char *msg) = envfile_log_default;
int envfile_log_max = 2;

void envfile_log_default(int level, const char *msg)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level > envfile_log_max)
        return;
    if (level < 0 || level > 3)
        level = 0;
    char line[2048];
    int n = snprintf(line, sizeof line, "envinit: %s: %s", names[level], msg);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* One write per line so concurrent writers do not interleave mid-line. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

static void vlogf(int level, const char *fmt, va_list ap)
{
    char msg[1900];
    /* clang-tidy 14 reports AP uninitialized when it analyzes several files
     * in one run (not when log.c is analyzed alone): a false positive. */
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0) // NOLINT(clang-analyzer-valist.Uninitialized)
        msg[0] = '\0';
    if (envfile_log)
        envfile_log(level, msg);
}

void envfile_logf(int level, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vlogf(level, fmt, ap);
    va_end(ap);
    errno = saved;
}
