/* Services next to the main command: started, watched, restarted with
 * backoff, stopped at shutdown. Everything is driven by the event loop:
 * the reaper tells us about exits, timers about restart deadlines. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000
#define BACKOFF_RESET_UPTIME_MS 60000
#define MAX_SERVICES 8
#define LINE_MAX_LEN 1024

struct service {
    struct service_spec spec;
    char **argv, **envp;
    gid_t *groups;
    char *name;
    pid_t pid;
    long started_ms;
    long since_s;
    long backoff_ms;
    unsigned restarts;
    int last_status;
    int restart_timer;
    int err_fd;
    bool stopping, done;
    char line[LINE_MAX_LEN];
    size_t line_len;
    bool dropping;              /* discarding the rest of a line too long to log */
};

static struct service *services[MAX_SERVICES];
static int nservices;
static void (*observer)(void *);
static void *observer_ctx;

long backoff_next(long prev_ms, long uptime_ms)
{
    if (prev_ms <= 0 || uptime_ms >= BACKOFF_RESET_UPTIME_MS)
        return BACKOFF_FIRST_MS;
    return prev_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : prev_ms * 2;
}

void supervise_set_observer(void (*fn)(void *ctx), void *ctx)
{
    observer = fn;
    observer_ctx = ctx;
}

static void notify(void)
{
    if (observer)
        observer(observer_ctx);
}

static char **strv_dup(char *const *v)
{
    size_t n = 0;
    while (v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            while (i--)
                free(out[i]);
            free(out);
            return NULL;
        }
    return out;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void service_free(struct service *s)
{
    strv_free(s->argv);
    strv_free(s->envp);
    free(s->groups);
    free(s->name);
    free(s);
}

/* Child side: groups, then gid, then uid (the order that cannot leave
 * root's groups or gid behind). The bounding set is kept, so a service may
 * still run setuid programs such as sudo. Leaving root clears every
 * capability; that is checked before exec rather than assumed. */
static bool has_capabilities(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return true;
    return data[0].permitted || data[1].permitted || data[0].effective || data[1].effective;
}

/* The system calls themselves: the C library's wrappers would first make
 * every thread change its ids, machinery a forked child of single-threaded
 * envinit has no use for and PID 1's image would carry. */
static int become_user(const struct service *s)
{
    if (syscall(SYS_setgroups, (size_t)s->spec.ngroups, s->groups) < 0 ||
        syscall(SYS_setresgid, s->spec.gid, s->spec.gid, s->spec.gid) < 0 ||
        syscall(SYS_setresuid, s->spec.uid, s->spec.uid, s->spec.uid) < 0)
        return -1;
    if (s->spec.uid != 0 && has_capabilities()) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

static void exec_service(const struct service *s, int err_pipe)
{
    signals_restore_for_child();
    setsid();
    if (err_pipe >= 0 && dup2(err_pipe, STDERR_FILENO) < 0)
        _exit(126);
    if (s->spec.set_user && become_user(s) < 0) {
        log_error("%s: cannot switch to uid %u gid %u: %s", s->name, (unsigned)s->spec.uid,
                  (unsigned)s->spec.gid, strerror(errno));
        _exit(126);
    }
    execve(s->argv[0], s->argv, s->envp ? s->envp : environ);
    log_error("%s: cannot run %s: %s", s->name, s->argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

static void read_stderr(int fd, short revents, void *ctx);

static int spawn(struct service *s)
{
    int p[2] = {-1, -1};
    if (s->spec.capture_stderr && pipe2(p, O_CLOEXEC) < 0) {
        log_error("%s: cannot create its log pipe: %s; its messages go to envinit's stderr",
                  s->name, strerror(errno));
        p[0] = p[1] = -1;
    }
    pid_t pid = _Fork(); /* see start_main in main.c */
    if (pid < 0) {
        log_error("%s: cannot fork: %s; will retry", s->name, strerror(errno));
        if (p[0] >= 0) {
            close(p[0]);
            close(p[1]);
        }
        return -1;
    }
    if (pid == 0)
        exec_service(s, p[1]);
    if (p[0] >= 0) {
        close(p[1]);
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        s->err_fd = p[0];
        s->line_len = 0;
        loop_watch_fd(p[0], read_stderr, s);
    }
    s->pid = pid;
    s->started_ms = envfile_now_ms();
    s->since_s = (long)time(NULL);
    log_info("%s: started as pid %d", s->name, (int)pid);
    notify();
    return 0;
}

static void restart_due(void *ctx)
{
    struct service *s = ctx;
    s->restart_timer = -1;
    if (s->stopping)
        return;
    if (spawn(s) < 0) {
        s->backoff_ms = backoff_next(s->backoff_ms, 0);
        s->restart_timer = loop_timer_add(s->backoff_ms, restart_due, s);
    }
}

struct service *service_start(const struct service_spec *spec)
{
    if (nservices == MAX_SERVICES) {
        log_error("%s: not started: at most %d services", spec->name, MAX_SERVICES);
        return NULL;
    }
    struct service *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->spec = *spec;
    s->name = strdup(spec->name);
    s->argv = strv_dup(spec->argv);
    s->envp = spec->envp ? strv_dup(spec->envp) : NULL;
    s->groups = calloc((size_t)(spec->ngroups > 0 ? spec->ngroups : 1), sizeof(gid_t));
    if (!s->name || !s->argv || (spec->envp && !s->envp) || !s->groups) {
        log_error("%s: not started: out of memory", spec->name);
        service_free(s);
        return NULL;
    }
    if (spec->ngroups > 0)
        memcpy(s->groups, spec->groups, sizeof(gid_t) * (size_t)spec->ngroups);
    s->spec.stop_signal = spec->stop_signal ? spec->stop_signal : SIGTERM;
    s->last_status = -1;
    s->restart_timer = -1;
    s->err_fd = -1;
    services[nservices++] = s;
    if (spawn(s) < 0) {
        s->backoff_ms = backoff_next(0, 0);
        s->restart_timer = loop_timer_add(s->backoff_ms, restart_due, s);
    }
    return s;
}

/* sshd -e prints its severities in free form; a line that reads like a
 * problem stays visible at envinit's default level, the rest
 * (connections, logins) is info. */
static bool reads_like_problem(const char *line)
{
    static const char *const words[] = {"error", "fatal", "warn", "bad ", "cannot", "can't", "failed",
                                        "missing", "denied", "refused", "invalid", "not "};
    char low[256];
    size_t n = 0;
    for (; n < sizeof low - 1 && line[n]; n++)
        low[n] = (char)ascii_tolower((unsigned char)line[n]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

/* A service that names itself and its level (envinit-sshd does) says how
 * bad a line is better than any guess from its words, which a client can
 * choose (a user name containing "failed"). */
enum log_level service_line_level(const char *name, const char *line, const char **text)
{
    size_t n = strlen(name);
    *text = line;
    if (strncmp(line, name, n) != 0 || line[n] != ':' || line[n + 1] != ' ')
        return reads_like_problem(line) ? LOG_WARN : LOG_INFO;
    *text = line + n + 2;           /* not named twice */
    for (enum log_level i = LOG_ERROR; i <= LOG_DEBUG; i++) {
        const char *level = log_level_name(i);
        size_t l = strlen(level);
        if (strncmp(*text, level, l) == 0 && (*text)[l] == ':' && (*text)[l + 1] == ' ') {
            *text += l + 2;
            return i;
        }
    }
    return reads_like_problem(*text) ? LOG_WARN : LOG_INFO;
}

static void log_line(const char *line, bool truncated, void *ctx)
{
    const struct service *s = ctx;
    const char *text;
    enum log_level level = service_line_level(s->name, line, &text);
    log_msg(level, "%s: %s%s", s->name, text, truncated ? " [truncated]" : "");
}

void service_lines_split(char *buf, size_t *len, size_t cap, bool *dropping, bool at_eof,
                         void (*emit)(const char *line, bool truncated, void *ctx), void *ctx)
{
    char *start = buf, *end = buf + *len, *nl;
    while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
        *nl = '\0';
        if (!*dropping)
            emit(start, false, ctx);
        *dropping = false;
        start = nl + 1;
    }
    size_t rest = (size_t)(end - start);
    if (*dropping) {
        rest = 0;                       /* still inside a line already cut */
    } else if (rest == cap - 1 && !at_eof) {
        start[rest] = '\0';
        emit(start, true, ctx);
        *dropping = true;
        rest = 0;
    } else if (at_eof && rest) {
        start[rest] = '\0';
        emit(start, false, ctx);
        rest = 0;
    }
    if (at_eof)
        *dropping = false;
    memmove(buf, start, rest);
    *len = rest;
}

static void flush_lines(struct service *s, bool all)
{
    service_lines_split(s->line, &s->line_len, sizeof s->line, &s->dropping, all, log_line, s);
}

static void drain_stderr(struct service *s);

static void close_stderr(struct service *s)
{
    if (s->err_fd < 0)
        return;
    /* The process is gone but its last words may still be in the pipe. */
    drain_stderr(s);
    if (s->err_fd < 0)
        return;
    flush_lines(s, true);
    loop_unwatch_fd(s->err_fd);
    close(s->err_fd);
    s->err_fd = -1;
}

/* Reads what the pipe holds; at end of file (every writer gone) the pipe
 * is closed and unwatched. */
static void drain_stderr(struct service *s)
{
    for (;;) {
        ssize_t n = read(s->err_fd, s->line + s->line_len, sizeof s->line - 1 - s->line_len);
        if (n > 0) {
            s->line_len += (size_t)n;
            flush_lines(s, false);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        flush_lines(s, true);
        loop_unwatch_fd(s->err_fd);
        close(s->err_fd);
        s->err_fd = -1;
        return;
    }
}

static void read_stderr(int fd, short revents, void *ctx)
{
    (void)fd;
    (void)revents;
    drain_stderr(ctx);
}

static bool wants_restart(const struct service *s, int status)
{
    if (s->stopping)
        return false;
    switch (s->spec.restart) {
    case RESTART_ALWAYS:
        return true;
    case RESTART_ON_FAILURE:
        return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    case RESTART_NEVER:
    default:
        return false;
    }
}

static void handle_exit(struct service *s, int status)
{
    long uptime = envfile_now_ms() - s->started_ms;
    char how[96];
    describe_status(status, how, sizeof how);
    s->pid = 0;
    s->last_status = status;
    close_stderr(s);
    bool keep = !s->spec.on_exit || s->spec.on_exit(s, status, uptime, s->spec.ctx);
    if (!keep || !wants_restart(s, status)) {
        log_msg(s->stopping ? LOG_INFO : LOG_WARN, "%s: %s after %ld ms; not restarted", s->name, how, uptime);
        s->done = true;
        notify();
        return;
    }
    s->backoff_ms = backoff_next(s->backoff_ms, uptime);
    s->restarts++;
    log_warn("%s: %s after %ld ms; restart %u in %ld ms", s->name, how, uptime, s->restarts, s->backoff_ms);
    s->restart_timer = loop_timer_add(s->backoff_ms, restart_due, s);
    notify();
}

bool supervise_reaped(pid_t pid, int status)
{
    for (int i = 0; i < nservices; i++)
        if (services[i]->pid == pid) {
            handle_exit(services[i], status);
            return true;
        }
    return false;
}

void service_stop(struct service *s)
{
    s->stopping = true;
    loop_timer_cancel(s->restart_timer);
    s->restart_timer = -1;
    if (s->pid > 0) {
        log_info("%s: stopping pid %d with SIG%s", s->name, (int)s->pid, signal_name(s->spec.stop_signal));
        /* Its own session and group: a forked connection handler stops too. */
        if (kill(-s->pid, s->spec.stop_signal) < 0)
            kill(s->pid, s->spec.stop_signal);
    } else {
        s->done = true;
    }
}

void supervise_stop_all(void)
{
    for (int i = 0; i < nservices; i++)
        service_stop(services[i]);
}

void supervise_kill_all(void)
{
    for (int i = 0; i < nservices; i++)
        if (services[i]->pid > 0 && kill(-services[i]->pid, SIGKILL) < 0)
            kill(services[i]->pid, SIGKILL);
}

int supervise_running(void)
{
    int n = 0;
    for (int i = 0; i < nservices; i++)
        n += services[i]->pid > 0;
    return n;
}

pid_t service_pid(const struct service *s) { return s->pid; }
unsigned service_restarts(const struct service *s) { return s->restarts; }
int service_last_status(const struct service *s) { return s->last_status; }
long service_since(const struct service *s) { return s->since_s; }
const char *service_name(const struct service *s) { return s->name; }
bool service_done(const struct service *s) { return s->done; }
