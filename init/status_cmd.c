/* `envinit status`: the status file made readable, and whether an SSH
 * server is up now (envinit-setup's side; PID 1 only writes the file). */
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

static const char *kind_text(const char *kind)
{
    static const char *const texts[] = {
        [SSH_KIND_NONE] = "none",
        [SSH_KIND_OPENSSH] = "OpenSSH sshd",
        [SSH_KIND_FALLBACK] = "envinit-sshd (fallback)",
        [SSH_KIND_SERVED] = "an SSH server envinit did not start",
        [SSH_KIND_EXTERNAL] = "external (ssh = external)",
        [SSH_KIND_OFF] = "none (ssh = off)",
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
        if (ssh_kind_is(kind, (enum ssh_kind)k))
            return texts[k];
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
    if (ssh_kind_is(s->kind, SSH_KIND_OPENSSH) || ssh_kind_is(s->kind, SSH_KIND_FALLBACK)) {
        fprintf(out, "restarts:    %u\n", s->restarts);
        char how[96] = "none yet";
        if (s->last_status >= 0)
            describe_status(s->last_status, how, sizeof how);
        fprintf(out, "last exit:   %s\n", how);
    }
    if (s->note[0])
        fprintf(out, "note:        %s\n", s->note);
}

/* Length of the valid UTF-8 sequence at S (at most N bytes), 0 when it
 * is not one (overlong forms and surrogates included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) || (s[0] == 0xf0 && s[1] < 0x90) ||
        (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* S as a JSON string: quotes, backslash and control characters escaped;
 * bytes that are not UTF-8 become U+FFFD, so the output always parses. */
static void json_string(struct envfile_buf *b, const char *s)
{
    envfile_buf_str(b, "\"");
    for (size_t i = 0, n = strlen(s); i < n;) {
        const unsigned char ch = (unsigned char)s[i];
        char esc[8];
        size_t u = ch >= 0x80 ? utf8_len((const unsigned char *)s + i, n - i) : 0;
        if (ch == '"' || ch == '\\') {
            snprintf(esc, sizeof esc, "\\%c", ch);
            envfile_buf_str(b, esc);
        } else if (ch == '\n' || ch == '\t' || ch == '\r') {
            snprintf(esc, sizeof esc, "\\%c", ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r');
            envfile_buf_str(b, esc);
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            envfile_buf_str(b, esc);
        } else if (ch >= 0x80 && u == 0) {
            envfile_buf_str(b, "\\ufffd");
        } else {
            envfile_buf_add(b, s + i, u ? u : 1);
            i += u ? u - 1 : 0;
        }
        i++;
    }
    envfile_buf_str(b, "\"");
}

char *status_render_json(const struct ssh_status *s, bool up)
{
    struct envfile_buf b = {0};
    char num[160];
    envfile_buf_str(&b, "{\"kind\":");
    json_string(&b, s->kind);
    envfile_buf_str(&b, ",\"server\":");
    json_string(&b, kind_text(s->kind));
    envfile_buf_str(&b, ",\"state\":");
    json_string(&b, s->state);
    snprintf(num, sizeof num, ",\"up\":%s,\"expected\":%s,\"port\":%d,\"pid\":%d,\"restarts\":%u,\"last_exit\":",
             up ? "true" : "false", s->expected ? "true" : "false", s->port, (int)s->pid, s->restarts);
    envfile_buf_str(&b, num);
    if (s->last_status >= 0) {
        char how[96];
        describe_status(s->last_status, how, sizeof how);
        json_string(&b, how);
    } else {
        envfile_buf_str(&b, "null");
    }
    snprintf(num, sizeof num, ",\"since\":%ld,\"note\":", s->since);
    envfile_buf_str(&b, num);
    json_string(&b, s->note);
    if (envfile_buf_str(&b, "}\n") < 0) {
        envfile_buf_free(&b);
        return NULL;
    }
    return b.data;
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
    bool ours = ssh_kind_is(s->kind, SSH_KIND_OPENSSH) || ssh_kind_is(s->kind, SSH_KIND_FALLBACK);
    bool theirs = ssh_kind_is(s->kind, SSH_KIND_SERVED) || ssh_kind_is(s->kind, SSH_KIND_EXTERNAL);
    if (!s->port || !(ours || theirs))
        return false;
    if (ours && (s->pid <= 0 || (kill(s->pid, 0) < 0 && errno != EPERM)))
        return false;
    return procnet_listening("/proc", s->port, NULL) == 1;
}

/* Prints S as one JSON object; the exit status as status_command's. */
static int print_json(const struct ssh_status *s, bool up, int rc)
{
    char *json = status_render_json(s, up);
    if (!json) {
        fprintf(stderr, "envinit: error: status: out of memory\n");
        return 1;
    }
    fputs(json, stdout);
    free(json);
    return rc;
}

/* The JSON for when there is no status file to read (error ERR). */
static int json_without_file(const struct config *c, int err)
{
    bool off = c->ssh == SSH_OFF;
    struct ssh_status s = {.last_status = -1, .expected = !off};
    snprintf(s.kind, sizeof s.kind, "%s", ssh_kind_name(off ? SSH_KIND_OFF : SSH_KIND_NONE));
    snprintf(s.state, sizeof s.state, "%s", ssh_state_name(off ? SSH_STATE_OFF : SSH_STATE_UNKNOWN));
    if (!off)
        snprintf(s.note, sizeof s.note, "cannot read the SSH status file %.300s: %s", c->status_path,
                 strerror(err));
    return print_json(&s, false, off ? 0 : 1);
}

int status_command(const struct config *c, char **words)
{
    bool json = words && words[0] && strcmp(words[0], "--json") == 0 && !words[1];
    if (words && words[0] && !json) {
        fprintf(stderr, "envinit: error: status takes only --json, not %s\n", words[0]);
        return 2;
    }
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
        if (json)
            return json_without_file(c, e);
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
    if (json)
        return print_json(&s, up, s.expected && !up ? 1 : 0);
    status_print(&s, up, (long)time(NULL), stdout);
    return s.expected && !up ? 1 : 0;
}
