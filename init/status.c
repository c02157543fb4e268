/* /run/envinit/status: which SSH server runs, where, since when, how often
 * it was restarted. envinit replaces it on every change; `envinit status`
 * and an orchestrator's probe read it. key=value lines, one per field. */
#include "envinit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATUS_FILE_MAX 4096

static void copy_field(char *dst, size_t len, const char *src)
{
    size_t n = 0;
    for (; n < len - 1 && src[n]; n++)
        dst[n] = src[n] == '\n' || src[n] == '\r' ? ' ' : src[n];
    dst[n] = '\0';
}

int status_render(const struct ssh_status *s, char *buf, size_t len)
{
    char note[sizeof s->note];
    copy_field(note, sizeof note, s->note); /* one line, whatever the caller put there */
    int n = snprintf(buf, len,
                     "# envinit SSH status; replaced on every change. Read it with: envinit status\n"
                     "kind=%s\nstate=%s\nport=%d\npid=%d\nexpected=%s\nrestarts=%u\n"
                     "last_status=%d\nsince=%ld\nnote=%s\n",
                     s->kind, s->state, s->port, (int)s->pid, s->expected ? "yes" : "no", s->restarts,
                     s->last_status, s->since, note);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

static bool parse_num(const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < min || n > max)
        return false;
    *out = n;
    return true;
}

/* One "key=value" line into OUT; unknown keys are ignored so that a newer
 * envinit's file still reads. false on a bad value. */
static bool parse_field(struct ssh_status *out, const char *key, const char *v, unsigned *seen)
{
    long n = 0;
    if (strcmp(key, "kind") == 0)
        copy_field(out->kind, sizeof out->kind, v), *seen |= 1;
    else if (strcmp(key, "state") == 0)
        copy_field(out->state, sizeof out->state, v), *seen |= 2;
    else if (strcmp(key, "note") == 0)
        copy_field(out->note, sizeof out->note, v);
    else if (strcmp(key, "expected") == 0)
        out->expected = strcmp(v, "yes") == 0;
    else if (strcmp(key, "port") == 0 && parse_num(v, 0, 65535, &n))
        out->port = (int)n;
    else if (strcmp(key, "pid") == 0 && parse_num(v, 0, 1L << 22, &n))
        out->pid = (pid_t)n;
    else if (strcmp(key, "restarts") == 0 && parse_num(v, 0, 1L << 30, &n))
        out->restarts = (unsigned)n;
    else if (strcmp(key, "last_status") == 0 && parse_num(v, -1, 0xffff, &n))
        out->last_status = (int)n;
    else if (strcmp(key, "since") == 0 && parse_num(v, 0, 1L << 40, &n))
        out->since = n;
    else if (!strcmp(key, "port") || !strcmp(key, "pid") || !strcmp(key, "restarts") ||
             !strcmp(key, "last_status") || !strcmp(key, "since"))
        return false;
    return true;
}

int status_parse(const char *text, struct ssh_status *out)
{
    memset(out, 0, sizeof *out);
    out->last_status = -1;
    unsigned seen = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        char buf[640];
        if (ll < sizeof buf && line[0] != '#') {
            memcpy(buf, line, ll);
            buf[ll] = '\0';
            char *eq = strchr(buf, '=');
            if (eq) {
                *eq = '\0';
                if (!parse_field(out, buf, eq + 1, &seen))
                    return -1;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return seen == 3 ? 0 : -1;
}

static int mkdir_parents(const char *path)
{
    char dir[CONFIG_PATH_LEN];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* The folder must be a real folder of this user's (or root's): a status
 * path under /tmp must not lead into somebody else's symlink. */
static bool parent_is_ours(const char *path)
{
    char dir[CONFIG_PATH_LEN];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return true;
    *slash = '\0';
    struct stat st;
    if (lstat(dir[0] ? dir : "/", &st) < 0)
        return false;
    return S_ISDIR(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == 0);
}

/* Temp file next to PATH, then rename(2): a reader sees the old status or
 * the new one, never half of one. No fsync: the file lives in /run (tmpfs)
 * and only describes this boot. */
int status_write(const char *path, const struct ssh_status *s)
{
    char text[STATUS_FILE_MAX], tmp[CONFIG_PATH_LEN + 24];
    int len = status_render(s, text, sizeof text);
    int err = len < 0 ? ENAMETOOLONG : 0;
    if (!err && mkdir_parents(path) < 0)
        err = errno;
    if (!err && !parent_is_ours(path))
        err = EPERM;
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = err ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (!err && fd < 0)
        err = errno;
    if (fd >= 0) {
        errno = 0;
        if (write(fd, text, (size_t)len) != len)
            err = errno ? errno : EIO;
        if (close(fd) < 0 && !err)
            err = errno;
        if (!err && rename(tmp, path) < 0)
            err = errno;
        if (err)
            unlink(tmp);
    }
    errno = err;
    return err ? -1 : 0;
}
