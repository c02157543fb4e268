/* `envinit status`: the status file made readable, and whether an SSH
 * server is up now (envinit-setup's side; PID 1 only writes the file). */
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
    char alt[CONFIG_PATH_LEN];
    const char *path = c->status_path;
    char *text = read_status_file(path);
    /* A read-only /run: PID 1 moved the file to the runtime folder. */
    if (!text && errno == ENOENT && strcmp(path, CONFIG_STATUS_PATH) == 0) {
        config_status_fallback(alt, sizeof alt);
        if ((text = read_status_file(alt)))
            path = alt;
        else
            errno = ENOENT;
    }
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
        fprintf(stderr, "envinit: error: %s is not an envinit status file\n", path);
        return 1;
    }
    bool up = status_is_up(&s);
    status_print(&s, up, (long)time(NULL), stdout);
    return s.expected && !up ? 1 : 0;
}
