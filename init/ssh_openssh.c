/* OpenSSH: finding sshd, reading which of the page's recommendations the
 * image's sshd_config already decides, the command line, and the one-off
 * preparation before its first start (host keys, /run/sshd, sshd -t). */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define INCLUDE_DEPTH_MAX 16    /* sshd's own limit */
/* Files read for one sshd_config in all. The depth limit alone still lets
 * a file that includes itself twice ask for 2^16 reads, three times for
 * 3^16: envinit-setup would not finish and PID 1 waits for its plan. */
#define INCLUDE_FILES_MAX 1024
#define CONFIG_FILE_MAX (1024 * 1024)
#define PREP_TIMEOUT_MS 60000   /* RSA host key generation on a slow machine */

static const struct {
    const char *keyword;
    unsigned bit;
    const char *option;
} recommended[] = {
    {"PermitUserEnvironment", SSHD_SETS_PERMIT_USER_ENV, "PermitUserEnvironment=yes"},
    {"X11Forwarding", SSHD_SETS_X11_FORWARDING, "X11Forwarding=yes"},
    {"X11UseLocalhost", SSHD_SETS_X11_USE_LOCALHOST, "X11UseLocalhost=no"},
};
#define N_RECOMMENDED (sizeof recommended / sizeof recommended[0])

/* ---- sshd_config ---- */

/* Splits the arguments of an Include line: blanks separate, double quotes
 * group, as sshd's argv_split does for this purpose. */
static void include_args(const char *p, const char *end, void (*include)(const char *, void *), void *ctx)
{
    while (p < end) {
        while (p < end && ascii_isspace((unsigned char)*p))
            p++;
        if (p >= end || *p == '#')
            return;
        char arg[4096];
        size_t n = 0;
        bool quoted = *p == '"';
        if (quoted)
            p++;
        while (p < end && (quoted ? *p != '"' : !ascii_isspace((unsigned char)*p))) {
            if (n < sizeof arg - 1)
                arg[n++] = *p;
            p++;
        }
        if (quoted && p < end)
            p++;
        arg[n] = '\0';
        if (n)
            include(arg, ctx);
    }
}

/* One line; false at a Match line, where the global part ends. */
static bool scan_line(const char *p, const char *end, unsigned *sets,
                      void (*include)(const char *, void *), void *ctx)
{
    while (p < end && ascii_isspace((unsigned char)*p))
        p++;
    if (p == end || *p == '#')
        return true;
    const char *kw = p;
    while (p < end && !ascii_isspace((unsigned char)*p) && *p != '=')
        p++;
    size_t kl = (size_t)(p - kw);
    if (kl == 5 && ascii_strncasecmp(kw, "Match", 5) == 0)
        return false;
    if (kl == 7 && ascii_strncasecmp(kw, "Include", 7) == 0) {
        while (p < end && (ascii_isspace((unsigned char)*p) || *p == '='))
            p++;
        if (include)
            include_args(p, end, include, ctx);
        return true;
    }
    for (size_t i = 0; i < N_RECOMMENDED; i++)
        if (strlen(recommended[i].keyword) == kl && ascii_strncasecmp(kw, recommended[i].keyword, kl) == 0)
            *sets |= recommended[i].bit;
    return true;
}

/* Settings inside Match blocks apply to some connections only and override
 * the global value for them, so passing a global -o does not undo them:
 * only the global part decides whether the image set a keyword. */
void sshd_config_scan(const char *text, unsigned *sets,
                      void (*include)(const char *pattern, void *ctx), void *ctx)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if (!scan_line(line, end, sets, include, ctx))
            return;
        line = nl ? nl + 1 : NULL;
    }
}

static char *read_small_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct stat sb;
    char *buf = NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < CONFIG_FILE_MAX)
        buf = malloc((size_t)sb.st_size + 1);
    size_t len = 0;
    ssize_t n = 1;
    while (buf && n > 0 && len < (size_t)sb.st_size) {
        n = read(fd, buf + len, (size_t)sb.st_size - len);
        if (n > 0)
            len += (size_t)n;
        else if (n < 0 && errno == EINTR)
            n = 1;
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

struct scan_ctx {
    const char *etc_dir;
    unsigned sets;
    int depth;
    unsigned files;             /* scan_file calls so far */
    bool too_deep;              /* said once: a loop hits the limit at every turn */
};

static void scan_file(struct scan_ctx *sc, const char *path);

/* * and ? as glob(3) has them (dot names are the caller's to leave out).
 * After a mismatch only the last star takes one more character: that
 * suffices for these two wildcards and keeps the time to pattern length
 * times name length, where retrying every star is exponential (a long
 * name and a pattern with a dozen stars would take years). */
static bool wild_match(const char *p, const char *s)
{
    const char *star = NULL, *retry = NULL;
    while (*s) {
        if (*p == '*') {
            star = ++p;
            retry = s;
        } else if (*p && (*p == '?' || *p == *s)) {
            p++;
            s++;
        } else if (star) {
            p = star;
            s = ++retry;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return !*p;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sshd expands Include patterns with glob(3). envinit follows the common
 * form, wildcards in the last component only ("sshd_config.d/" then "*.conf"), with
 * its own matcher: glob(3) would add 24 KiB to the static binary. Files
 * are read in sorted order, as glob returns them. */
static void scan_matches(struct scan_ctx *sc, const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;                 /* no match is fine, as for sshd */
    char *names[256] = {NULL};
    size_t n = 0;
    const struct dirent *de;
    while ((de = readdir(d)) && n < sizeof names / sizeof names[0])
        if ((de->d_name[0] != '.' || base[0] == '.') && wild_match(base, de->d_name))
            if ((names[n] = strdup(de->d_name)))
                n++;
    closedir(d);
    qsort(names, n, sizeof names[0], compare_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path)
            scan_file(sc, path);
        free(names[i]);
    }
}

static void scan_include(const char *pattern, void *ctx)
{
    struct scan_ctx *sc = ctx;
    char full[4096];
    int n = pattern[0] == '/' ? snprintf(full, sizeof full, "%s", pattern)
                              : snprintf(full, sizeof full, "%s/%s", sc->etc_dir, pattern);
    char *slash = strrchr(full, '/');
    if (n >= (int)sizeof full || !slash)
        return;
    *slash = '\0';
    if (strpbrk(full, "*?[")) {
        log_debug("sshd_config: Include %s has wildcards in its directory part; not followed", pattern);
        return;
    }
    if (!strpbrk(slash + 1, "*?")) {
        *slash = '/';
        scan_file(sc, full);
        return;
    }
    scan_matches(sc, full[0] ? full : "/", slash + 1);
}

static void scan_file(struct scan_ctx *sc, const char *path)
{
    if (sc->files >= INCLUDE_FILES_MAX) {
        if (sc->files++ == INCLUDE_FILES_MAX)
            log_warn("sshd_config: Include reaches more than %d files; %s and any further not read",
                     INCLUDE_FILES_MAX, path);
        return;
    }
    sc->files++;
    if (sc->depth >= INCLUDE_DEPTH_MAX) {
        if (!sc->too_deep)
            log_warn("sshd_config: Include nesting deeper than %d at %s; not read further", INCLUDE_DEPTH_MAX, path);
        sc->too_deep = true;
        return;
    }
    char *text = read_small_file(path);
    if (!text) {
        log_debug("sshd_config: cannot read %s: %s", path, strerror(errno));
        return;
    }
    sc->depth++;
    sshd_config_scan(text, &sc->sets, scan_include, sc);
    sc->depth--;
    free(text);
}

unsigned sshd_config_sets(const char *path, const char *etc_dir)
{
    struct scan_ctx sc = {.etc_dir = etc_dir};
    scan_file(&sc, path);
    return sc.sets;
}

/* ---- command line ---- */

void sshd_build_argv(struct sshd_cmd *cmd, const char *sshd, int port, bool recommend, unsigned sets)
{
    size_t n = 0;
    snprintf(cmd->path, sizeof cmd->path, "%s", sshd);
    snprintf(cmd->port, sizeof cmd->port, "%d", port);
    cmd->argv[n++] = cmd->path;
    cmd->argv[n++] = "-D";
    cmd->argv[n++] = "-e";
    cmd->argv[n++] = "-p";
    cmd->argv[n++] = cmd->port;
    for (size_t i = 0; recommend && i < N_RECOMMENDED; i++)
        if (!(sets & recommended[i].bit)) {
            cmd->argv[n++] = "-o";
            cmd->argv[n++] = (char *)recommended[i].option;
        }
    cmd->argv[n] = NULL;
}

bool sshd_add_host_key(struct sshd_cmd *cmd, const char *path)
{
    size_t n = 0;
    while (cmd->argv[n])
        n++;
    if (cmd->n_host_keys == SSHD_HOST_KEYS_MAX || n + 2 >= SSHD_ARGV_MAX ||
        strlen(path) >= sizeof cmd->host_keys[0]) {
        log_error("host key %s: more than %d keys, or a path too long for sshd's command line; not used", path,
                  SSHD_HOST_KEYS_MAX);
        return false;
    }
    char *slot = cmd->host_keys[cmd->n_host_keys++];
    snprintf(slot, sizeof cmd->host_keys[0], "%s", path);
    cmd->argv[n++] = "-h";
    cmd->argv[n++] = slot;
    cmd->argv[n] = NULL;
    return true;
}

static bool is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* Anyone who can write the program or any folder on its way can make it
 * run anything as us. A sticky bit only keeps others from replacing an
 * entry they do not own, and the entries on the way are someone's, so a
 * folder open to group or others is refused whatever its sticky bit. */
const char *exec_stat_problem(const struct stat *st, uid_t self, char *buf, size_t len)
{
    if (st->st_uid != 0 && st->st_uid != self) {
        if (self == 0)
            snprintf(buf, len, "is writable by uid %u (not root's)", (unsigned)st->st_uid);
        else
            snprintf(buf, len, "is writable by uid %u (neither root's nor uid %u's)", (unsigned)st->st_uid,
                     (unsigned)self);
        return buf;
    }
    if (S_ISLNK(st->st_mode))   /* its mode means nothing; its folder is checked */
        return NULL;
    if (st->st_mode & S_IWOTH)
        snprintf(buf, len, "is writable by others (mode %04o)", (unsigned)(st->st_mode & 07777));
    else if (st->st_mode & S_IWGRP)
        snprintf(buf, len, "is writable by group %u (mode %04o)", (unsigned)st->st_gid,
                 (unsigned)(st->st_mode & 07777));
    else
        return NULL;
    return buf;
}

/* WHY, formatted (cut to LEN), returned for the callers' one-liners. */
static const char *why_fmt(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *why_fmt(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return why;
}

/* Checks PATH and each folder leading to it, from the first component
 * after SKIP bytes (the test root), with STATF (lstat: as named; stat:
 * resolved). NULL when all are safe, else why, naming the culprit. */
static const char *walk_problem(const char *path, size_t skip, int (*statf)(const char *, struct stat *),
                                char *why, size_t len)
{
    char prefix[4096], reason[128];
    size_t n = strlen(path);
    if (n >= sizeof prefix)
        return why_fmt(why, len, "the path is too long");
    for (size_t i = skip; i <= n; i++) {
        if (i < n && path[i] != '/')
            continue;
        size_t end = i == 0 ? 1 : i;   /* "/" itself, then each prefix */
        memcpy(prefix, path, end);
        prefix[end] = '\0';
        struct stat st;
        if (statf(prefix, &st) < 0)
            return why_fmt(why, len, "%s: %s", prefix, strerror(errno));
        if (exec_stat_problem(&st, geteuid(), reason, sizeof reason))
            return why_fmt(why, len, "%s %s", prefix, reason);
    }
    return NULL;
}

/* Whether a program at PATH (under ROOT, "" in production) is safe to run:
 * NULL, or why not. Checked as named and as resolved, since a symlink on
 * the way leads through folders of its own. */
static const char *exec_path_problem(const char *root, const char *path, char *why, size_t len)
{
    char real[PATH_MAX], real_root[PATH_MAX] = "";
    size_t skip = strlen(root);
    const char *problem = walk_problem(path, skip, lstat, why, len);
    if (problem)
        return problem;
    if (!realpath(path, real))
        return why_fmt(why, len, "cannot be resolved: %s", strerror(errno));
    if (root[0] && !realpath(root, real_root))
        real_root[0] = '\0';
    skip = strlen(real_root);
    if (!skip || strncmp(real, real_root, skip) != 0 || real[skip] != '/')
        skip = 0;
    return walk_problem(real, skip, stat, why, len);
}

/* An executable NAME at OUT that is safe to run; a candidate that is not
 * is logged with the reason. */
static bool usable_program(const char *root, const char *out)
{
    if (!is_executable(out))
        return false;
    char why[4200];
    if (!exec_path_problem(root, out, why, sizeof why))
        return true;
    log_warn("%s: skipped: %s; %s", out, why,
             geteuid() == 0 ? "root runs nothing the user can replace" : "envinit runs nothing another user can replace");
    return false;
}

/* NAME in the fixed DIRS, then in PATH_ENV, all under ROOT. */
static bool find_program(const char *root, const char *const *dirs, const char *path_env,
                         const char *name, char *out, size_t len)
{
    for (size_t i = 0; dirs[i]; i++) {
        snprintf(out, len, "%s%s/%s", root, dirs[i], name);
        if (usable_program(root, out))
            return true;
    }
    for (const char *p = path_env; p && *p;) {
        const char *colon = strchr(p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen(p);
        if (dl > 0 && p[0] == '/') { /* a relative PATH entry means nothing to PID 1 */
            snprintf(out, len, "%s%.*s/%s", root, (int)dl, p, name);
            if (usable_program(root, out))
                return true;
        }
        p = colon ? colon + 1 : NULL;
    }
    return false;
}

bool sshd_find(const char *root, const char *path_env, char *out, size_t len)
{
    static const char *const dirs[] = {"/usr/sbin", "/usr/bin", NULL};
    return find_program(root, dirs, path_env, "sshd", out, len);
}

/* ---- preparation ---- */

static void child_exec(char *const argv[], int out_fd)
{
    signals_restore_for_child();
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0)
        dup2(devnull, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    execv(argv[0], argv);
    dprintf(out_fd, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Reads the child's output from FD until EOF or DEADLINE. */
static bool collect_output(int fd, char *out, size_t outlen, long deadline)
{
    size_t len = 0;
    for (;;) {
        long left = deadline - envfile_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return false;
        if (r == 0)
            continue;
        char tmp[1024];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n < outlen - 1 - len ? (size_t)n : outlen - 1 - len;
        memcpy(out + len, tmp, take);
        len += take;
    }
    out[len] = '\0';
    return true;
}

/* Runs ARGV to completion with its output in OUT. At start-up, before the
 * event loop runs, waiting here is what we want: sshd must not start
 * before its keys exist. Returns the wait status, or -1 (logged). */
static int run_capture(char *const argv[], char *out, size_t outlen)
{
    int p[2];
    out[0] = '\0';
    if (pipe2(p, O_CLOEXEC) < 0) {
        log_error("cannot run %s: pipe: %s", argv[0], strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error("cannot run %s: fork: %s", argv[0], strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0)
        child_exec(argv, p[1]);
    close(p[1]);
    bool done = collect_output(p[0], out, outlen, envfile_now_ms() + PREP_TIMEOUT_MS);
    close(p[0]);
    if (!done) {
        log_error("%s did not finish within %d s; killed", argv[0], PREP_TIMEOUT_MS / 1000);
        kill(pid, SIGKILL);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return done ? status : -1;
}

static void log_lines(enum log_level level, const char *prefix, const char *text)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        int ll = (int)(nl ? nl - line : (long)strlen(line));
        if (ll > 0)
            log_msg(level, "%s: %.*s", prefix, ll, line);
        line = nl ? nl + 1 : NULL;
    }
}

static const char *const default_keys[] = {"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key",
                                           "/etc/ssh/ssh_host_ed25519_key"};
#define N_DEFAULT_KEYS (sizeof default_keys / sizeof default_keys[0])

static size_t default_keys_present(void)
{
    size_t n = 0;
    for (size_t i = 0; i < N_DEFAULT_KEYS; i++)
        n += access(default_keys[i], F_OK) == 0;
    return n;
}

/* /etc/ssh is read-only and holds no key: one ed25519 key in the runtime
 * folder, shared with envinit-sshd (the same path and format), for sshd's -h. */
static void runtime_host_key(struct sshd_cmd *cmd, char *keygen)
{
    char dir[4096], key[4200];
    const char *tried = NULL;
    if (envfile_runtime_dir(dir, sizeof dir, &tried) < 0) {
        log_error("/etc/ssh is read-only and no runtime folder is writable (tried %s): sshd has no host key; "
                  "mount a tmpfs or emptyDir at /run or /tmp, or give keys with host_keys", tried);
        return;
    }
    snprintf(key, sizeof key, "%s/ssh_host_ed25519_key", dir);
    if (access(key, F_OK) != 0) {
        char out[4096];
        char *argv[] = {keygen, "-q", "-t", "ed25519", "-N", "", "-C", "envinit", "-f", key, NULL};
        if (run_capture(argv, out, sizeof out) != 0) {
            log_lines(LOG_ERROR, "ssh-keygen", out);
            log_error("cannot create a host key in %s; sshd has no host key", dir);
            return;
        }
    }
    log_warn("host key %s: in the runtime folder because /etc/ssh is read-only, so its fingerprint changes at "
             "every container start and clients will warn; mount keys and name them with host_keys "
             "(ENVINIT_HOST_KEYS) to keep them", key);
    sshd_add_host_key(cmd, key);
}

static void ensure_host_keys(struct sshd_cmd *cmd)
{
    if (default_keys_present() == N_DEFAULT_KEYS)
        return;
    char keygen[4096], out[4096];
    static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/bin", NULL};
    if (!find_program("", dirs, getenv("PATH"), "ssh-keygen", keygen, sizeof keygen)) {
        log_warn("OpenSSH host keys are missing in /etc/ssh and ssh-keygen is not installed; "
                 "%s may refuse to start", cmd->path);
        return;
    }
    char *argv[] = {keygen, "-A", NULL};
    /* ssh-keygen -A exits 0 even when it could not save a key: count them. */
    int st = run_capture(argv, out, sizeof out);
    size_t present = default_keys_present();
    if (st == 0 && present == N_DEFAULT_KEYS) {
        log_info("created the missing OpenSSH host keys with %s -A", keygen);
        return;
    }
    if (present > 0) {
        log_info("%s -A could not create every default host key in /etc/ssh; sshd uses the %zu there", keygen,
                 present);
        return;
    }
    if (access("/etc/ssh", W_OK) != 0 && (errno == EROFS || errno == EACCES)) {
        runtime_host_key(cmd, keygen);
        return;
    }
    log_lines(LOG_ERROR, "ssh-keygen", out);
    log_error("%s -A failed to create the missing host keys in /etc/ssh; %s may refuse to start", keygen,
              cmd->path);
}

static int ensure_privsep_dir(void)
{
    /* sshd insists on this empty root-owned directory for its privilege
     * separation chroot; /run is a fresh tmpfs in most containers. */
    if (mkdir("/run/sshd", 0755) < 0 && errno != EEXIST) {
        log_error("cannot create /run/sshd (sshd's privilege separation directory): %s", strerror(errno));
        return -1;
    }
    struct stat sb;
    if (stat("/run/sshd", &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        log_error("/run/sshd exists and is not a directory; sshd will refuse to start");
        return -1;
    }
    return 0;
}

int openssh_make_ready(struct sshd_cmd *cmd)
{
    if (cmd->n_host_keys == 0)
        ensure_host_keys(cmd);
    ensure_privsep_dir();
    if (!cmd->argv[0])
        return -1;
    char *test[SSHD_ARGV_MAX] = {NULL};
    for (size_t i = 0; i < SSHD_ARGV_MAX - 1 && cmd->argv[i]; i++)
        test[i] = strcmp(cmd->argv[i], "-D") == 0 ? "-t" : cmd->argv[i];
    char out[8192];
    int st = run_capture(test, out, sizeof out);
    if (st == 0)
        return 0;
    log_lines(LOG_ERROR, "sshd -t", out);
    log_error("%s -t rejects the configuration (its message is above); starting it anyway, "
              "its own log will show the problem", cmd->path);
    return -1;
}
