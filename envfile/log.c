/* The one logger of envinit, envinit-setup and envinit-sshd. */
#include "envfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *program = "envinit";
static enum log_level max_level = LOG_WARN;
static int log_fd = STDERR_FILENO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void (*log_hook)(enum log_level level, const char *msg);

void log_init(const char *name, enum log_level level)
{
    program = name;
    max_level = level;
}

void log_set_level(enum log_level level) { max_level = level; }
enum log_level log_get_level(void) { return max_level; }
void log_set_fd(int fd) { log_fd = fd; }

const char *log_level_name(enum log_level level)
{
    return level_names[level < LOG_ERROR ? LOG_ERROR : level > LOG_DEBUG ? LOG_DEBUG : level];
}

int log_parse_level(const char *s)
{
    for (int i = LOG_ERROR; i <= LOG_DEBUG; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    if (s[0] >= '0' && s[0] <= '9' && s[1] == '\0')
        return s[0] - '0' > LOG_DEBUG ? LOG_DEBUG : s[0] - '0';
    return -1;
}

/* Bytes below 0x20 in a message (a file name, a line from a service, a
 * string a client chose) become '?': one message is one line, and nobody
 * can forge a second. */
static void blank_control_bytes(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20)
            s[i] = '?';
}

static void write_line(enum log_level level, const char *fmt, va_list ap)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "%s: %s: ", program, log_level_name(level));
    if (n < 0 || (size_t)n >= sizeof line / 2)
        n = 0;
    /* clang-tidy 14 reports AP uninitialized when it analyzes several files
     * in one run (not when log.c is analyzed alone): a false positive. */
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    blank_control_bytes(line + n, len - (size_t)n);
    line[len] = '\0';
    if (log_hook) {
        log_hook(level, line + n);
        return;
    }
    line[len++] = '\n';
    /* One write(2) per line: the programs and their children share a
     * stderr, and lines must not interleave mid-line. */
    ssize_t w = write(log_fd, line, len);
    (void)w;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    write_line(level, fmt, ap);
    va_end(ap);
    errno = saved;
}

const char *log_safe(const char *s, char buf[LOG_SAFE_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i = 0;
    if (!s)
        s = "?";
    for (; i < LOG_SAFE_MAX && s[i]; i++) {
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
