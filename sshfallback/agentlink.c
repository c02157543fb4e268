/* The stable agent path: ~/.envinit-ssh-agent.sock (ENVFILE_AGENT_LINK), a
 * symlink to the per-session agent socket of the newest live `ssh -A`
 * session of any connection, so that programs that outlive a connection
 * (tmux, an IDE's terminals) keep reaching a forwarded agent.
 *
 * Each connection process knows only its own sessions, so the agent
 * sockets of all of them are kept in a registry, the folder
 * ~/.envinit-ssh-agent.d: one symlink per socket, named
 * "NS-PID-START" (CLOCK_REALTIME nanoseconds when it was registered, the
 * connection process's pid and its start time in /proc/PID/stat) and
 * pointing at the socket. An entry is live while that process (same pid
 * and start time: a reused pid does not count) runs and its socket exists;
 * a killed connection's entries are found dead and removed by the next
 * update. Processes are checked instead of connecting to the sockets: a
 * connect would open an agent channel to that connection's client.
 *
 * Every update (a socket added or gone) holds flock on the registry folder,
 * registers or unregisters, then points the link at the newest live entry
 * (symlink to a temporary name, then rename: a reader sees the old link or
 * the new one), or removes the link when none is left, so ssh-add then
 * fails at once instead of waiting. The lock is held for a few system
 * calls on local files, never across anything that waits for a peer.
 *
 * This runs in the connection process, which is the user by then: the
 * home's files are the user's own, as they would be for any login. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REGISTRY ".envinit-ssh-agent.d"
#define TARGET_MAX 256

int sf_agent_entry_parse(const char *name, struct sf_agent_entry *out)
{
    char *end;
    if (!name || name[0] < '0' || name[0] > '9')
        return -1;
    errno = 0;
    out->ns = strtoull(name, &end, 10);
    if (errno || *end != '-' || end[1] < '1' || end[1] > '9')
        return -1;
    long pid = strtol(end + 1, &end, 10);
    if (errno || *end != '-' || pid <= 0 || pid > (1L << 22) || end[1] < '0' || end[1] > '9')
        return -1;
    out->pid = (pid_t)pid;
    out->start = strtoull(end + 1, &end, 10);
    return errno || *end ? -1 : 0;
}

unsigned long long sf_proc_stat_start(const char *stat)
{
    /* "PID (COMM) S PPID ...": COMM may hold blanks and parentheses, so
     * fields are counted after the last ')'; the start time is field 22. */
    const char *p = stat ? strrchr(stat, ')') : NULL;
    if (!p)
        return 0;
    p++;
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return 0;
        if (field == 22)
            return strtoull(p, NULL, 10);
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

/* PID's start time, 0 when it does not run (or /proc cannot tell). */
static unsigned long long proc_start(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    return sf_proc_stat_start(text);
}

/* The registry folder, made 0700 when missing, locked exclusively; -1
 * with errno when it cannot be, or is a symlink or not ours (EPERM). */
static int open_registry(int home)
{
    if (mkdirat(home, REGISTRY, 0700) < 0 && errno != EEXIST)
        return -1;
    int fd = openat(home, REGISTRY, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != geteuid())) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A listing of REG from its start: the duplicate shares REG's position,
 * which an earlier listing left at the end. */
static DIR *open_dir(int reg)
{
    int dfd = dup(reg);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d && dfd >= 0)
        close(dfd);
    if (d)
        rewinddir(d);
    return d;
}

/* 1 when entry NAME of REG is live; its socket path then in TARGET. */
static int entry_live(int reg, const char *name, char target[TARGET_MAX])
{
    struct sf_agent_entry e;
    if (sf_agent_entry_parse(name, &e) < 0)
        return -1; /* not an entry: left alone */
    ssize_t n = readlinkat(reg, name, target, TARGET_MAX - 1);
    if (n <= 0 || proc_start(e.pid) != e.start)
        return 0;
    target[n] = '\0';
    struct stat st;
    return lstat(target, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The newest live entry's socket into NEWEST (1), or 0 when none is left.
 * Dead entries are removed on the way. */
static int newest_live(int reg, char newest[TARGET_MAX])
{
    DIR *d = open_dir(reg);
    if (!d)
        return 0;
    unsigned long long best = 0;
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char target[TARGET_MAX];
        struct sf_agent_entry e;
        int live = entry_live(reg, de->d_name, target);
        if (live == 0)
            unlinkat(reg, de->d_name, 0);
        if (live == 1 && sf_agent_entry_parse(de->d_name, &e) == 0 && (!found || e.ns > best)) {
            best = e.ns;
            found = 1;
            snprintf(newest, TARGET_MAX, "%s", target);
        }
    }
    closedir(d);
    return found;
}

/* Points the link at TARGET, or removes it (TARGET NULL); a file at the
 * link's name that is not a symlink is the user's and stays. */
static void set_link(const struct sf_conn *c, int home, const char *target)
{
    struct stat st;
    if (fstatat(home, ENVFILE_AGENT_LINK, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode)) {
        log_warn("%s/%s is not a symlink; left alone, so it does not lead to a forwarded agent",
                 c->user.home, ENVFILE_AGENT_LINK);
        return;
    }
    if (!target) {
        unlinkat(home, ENVFILE_AGENT_LINK, 0);
        return;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", ENVFILE_AGENT_LINK, (int)getpid());
    unlinkat(home, tmp, 0);
    if (symlinkat(target, home, tmp) < 0 || renameat(home, tmp, home, ENVFILE_AGENT_LINK) < 0) {
        log_info("%s/%s: %s; the stable agent path is not updated", c->user.home,
                 ENVFILE_AGENT_LINK, strerror(errno));
        unlinkat(home, tmp, 0);
    }
}

/* Runs one update under the registry's lock: EDIT changes the registry,
 * then the link follows the newest live entry. */
static void update(const struct sf_conn *c, const char *sock, void (*edit)(int reg, const char *sock))
{
    int home = open(c->user.home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int reg = home >= 0 ? open_registry(home) : -1;
    if (reg < 0) {
        log_info("%s/%s: %s; the stable agent path is not updated", c->user.home, REGISTRY,
                 strerror(errno));
        if (home >= 0)
            close(home);
        return;
    }
    edit(reg, sock);
    char newest[TARGET_MAX];
    set_link(c, home, newest_live(reg, newest) ? newest : NULL);
    close(reg); /* releases the lock */
    close(home);
}

static void add_entry(int reg, const char *sock)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char name[96];
    snprintf(name, sizeof name, "%020llu-%d-%llu",
             (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec,
             (int)getpid(), proc_start(getpid()));
    if (symlinkat(sock, reg, name) < 0)
        log_info("agent registry entry for %s: %s", sock, strerror(errno));
}

/* Our own entries for SOCK go (a pid of ours, the same target). */
static void remove_entry(int reg, const char *sock)
{
    DIR *d = open_dir(reg);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct sf_agent_entry e;
        char target[TARGET_MAX];
        ssize_t n;
        if (sf_agent_entry_parse(de->d_name, &e) < 0 || e.pid != getpid() ||
            (n = readlinkat(reg, de->d_name, target, sizeof target - 1)) <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, sock) == 0)
            unlinkat(reg, de->d_name, 0);
    }
    closedir(d);
}

void sf_agent_link_add(const struct sf_conn *c, const char *sock)
{
    update(c, sock, add_entry);
}

void sf_agent_link_remove(const struct sf_conn *c, const char *sock)
{
    update(c, sock, remove_entry);
}
