/* /run/envinit/status: which SSH server runs, where, since when, how often
 * it was restarted. envinit replaces it on every change; `envinit status`
 * and an orchestrator's probe read it. key=value lines, one per field. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATUS_FILE_MAX 4096

const char *ssh_kind_name(enum ssh_kind k)
{
    static const char *const names[] = {"none", "openssh", "fallback", "served", "external", "off"};
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "none";
}

const char *ssh_state_name(enum ssh_state st)
{
    static const char *const names[] = {"down", "starting", "running", "restarting", "stopped",
                                        "external", "off", "unknown"};
    return (size_t)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

bool ssh_kind_is(const char *name, enum ssh_kind k)
{
    return strcmp(name, ssh_kind_name(k)) == 0;
}

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

/* The folder of PATH, opened through envfile_open_dirs: a status path
 * under /tmp must not lead root through somebody else's symlink or
 * folder. A refused component is logged, once for as long as it stays
 * refused (the status is rewritten at every restart). */
static int open_parent(const char *path, const char **base)
{
    static char refused[CONFIG_PATH_LEN];
    char dir[CONFIG_PATH_LEN], bad[CONFIG_PATH_LEN] = "";
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    *base = slash ? path + (slash - dir) + 1 : path;
    if (slash)
        slash[slash == dir] = '\0';    /* "/status" keeps "/" */
    else
        snprintf(dir, sizeof dir, ".");
    int fd = envfile_open_dirs(dir, 0755, bad, sizeof bad);
    if (fd < 0 && (errno == ELOOP || errno == EPERM || errno == ENOTDIR) && strcmp(bad, refused) != 0) {
        int err = errno;
        log_warn("status file %s: %s %s; not followed, the status is not written there", path, bad,
                 err == ELOOP ? "is a symlink" : err == EPERM ? "is owned by neither root nor us" : "is not a folder");
        snprintf(refused, sizeof refused, "%s", bad);
        errno = err;
    } else if (fd >= 0) {
        refused[0] = '\0';
    }
    return fd;
}

/* Replaced whole (envfile_replace_at): a reader sees the old status or the
 * new one, never half of one. */
int status_write(const char *path, const struct ssh_status *s)
{
    char text[STATUS_FILE_MAX];
    const char *base = path;
    int len = status_render(s, text, sizeof text);
    if (len < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int dfd = open_parent(path, &base);
    if (dfd < 0)
        return -1;
    int rc = envfile_replace_at(dfd, base, text, (size_t)len, 0644);
    int err = errno;
    close(dfd);
    errno = err;
    return rc;
}
