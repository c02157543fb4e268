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
        char buf[512];
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

static const char *kind_text(const char *kind)
{
    static const struct {
        const char *kind, *text;
    } kinds[] = {
        {"openssh", "OpenSSH sshd"},
        {"fallback", "envinit-sshd (fallback)"},
        {"served", "an SSH server envinit did not start"},
        {"external", "external (ssh = external)"},
        {"off", "none (ssh = off)"},
        {"none", "none"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i].kind) == 0)
            return kinds[i].text;
    return kind;
}

/* Calendar date of a Unix time in UTC, computed directly: glibc's
 * gmtime_r and strftime would drag its time-zone code (and sscanf) into the
 * static binary for one status line. Days-to-civil over 400-year eras. */
static void format_utc(long t, char *buf, size_t len)
{
    long days = t / 86400, secs = t % 86400;
    long z = days + 719468, era = z / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long day = doy - (153 * mp + 2) / 5 + 1;
    long month = mp < 10 ? mp + 3 : mp - 9;
    long year = yoe + era * 400 + (month <= 2);
    snprintf(buf, len, "%04ld-%02ld-%02ld %02ld:%02ld:%02ld UTC", year, month, day, secs / 3600,
             secs / 60 % 60, secs % 60);
}

static void print_since(long since, long now, FILE *out)
{
    if (since <= 0)
        return;
    char when[64];
    format_utc(since, when, sizeof when);
    long ago = now - since < 0 ? 0 : now - since;
    fprintf(out, "since:       %s (%ld s ago)\n", when, ago);
}

void status_print(const struct ssh_status *s, bool up, long now, FILE *out)
{
    fprintf(out, "SSH server:  %s\n", kind_text(s->kind));
    if (s->port)
        fprintf(out, "port:        %d\n", s->port);
    fprintf(out, "state:       %s%s\n", s->state,
            !s->expected ? "" : up ? " (up: listening)" : " (DOWN: nothing serves SSH on the port)");
    if (s->pid > 0)
        fprintf(out, "pid:         %d\n", (int)s->pid);
    print_since(s->since, now, out);
    if (!strcmp(s->kind, "openssh") || !strcmp(s->kind, "fallback")) {
        fprintf(out, "restarts:    %u\n", s->restarts);
        char how[96] = "none yet";
        if (s->last_status >= 0)
            describe_status(s->last_status, how, sizeof how);
        fprintf(out, "last exit:   %s\n", how);
    }
    if (s->note[0])
        fprintf(out, "note:        %s\n", s->note);
}

static char *read_status_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    char *buf = malloc(STATUS_FILE_MAX + 1);
    ssize_t n = buf ? read(fd, buf, STATUS_FILE_MAX) : -1;
    int saved = errno;
    close(fd);
    if (n < 0) {
        free(buf);
        errno = saved;
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Up means: our process is alive (when we run one) and something listens
 * on the port, which is what a client needs. */
static bool status_is_up(const struct ssh_status *s)
{
    bool ours = !strcmp(s->kind, "openssh") || !strcmp(s->kind, "fallback");
    bool theirs = !strcmp(s->kind, "served") || !strcmp(s->kind, "external");
    if (!s->port || !(ours || theirs))
        return false;
    if (ours && (s->pid <= 0 || (kill(s->pid, 0) < 0 && errno != EPERM)))
        return false;
    return procnet_listening("/proc", s->port, NULL) == 1;
}

int status_command(const struct config *c)
{
    char *text = read_status_file(c->status_path);
    if (!text) {
        int e = errno;
        if (c->ssh == SSH_OFF) {
            printf("SSH server:  none (ssh = off)\n");
            return 0;
        }
        fprintf(stderr, "envinit: error: cannot read the SSH status file %s: %s (envinit is not running here as "
                "PID 1, or has not reached its SSH start yet)\n", c->status_path, strerror(e));
        return 1;
    }
    struct ssh_status s;
    int r = status_parse(text, &s);
    free(text);
    if (r < 0) {
        fprintf(stderr, "envinit: error: %s is not an envinit status file\n", c->status_path);
        return 1;
    }
    bool up = status_is_up(&s);
    status_print(&s, up, (long)time(NULL), stdout);
    return s.expected && !up ? 1 : 0;
}
