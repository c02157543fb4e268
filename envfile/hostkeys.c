/* SSH host keys handed in from outside (a mounted Secret). Both servers
 * use this: envinit-setup for OpenSSH's -h list, envinit-sshd for
 * its own keys, so a key is accepted or refused for the same reason. */
#include "envfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- who could replace a file ---- */

static int in_groups(gid_t g, const struct envfile_owner *who)
{
    for (int i = 0; i < who->ngroups; i++)
        if (who->groups[i] == g)
            return 1;
    return 0;
}

int envfile_owner_can_write(const struct stat *dir, const struct envfile_owner *who)
{
    if (dir->st_uid == who->uid)
        return 1;
    if ((dir->st_mode & S_IWGRP) && in_groups(dir->st_gid, who))
        return 1;
    return (dir->st_mode & S_IWOTH) != 0;
}

/* An entry of folder DIR (stat of both) that WHO could unlink, rename over
 * or have made: WHO writes DIR and the sticky bit does not protect it, or
 * WHO owns it. */
int envfile_owner_can_replace(const struct stat *dir, const struct stat *entry, const struct envfile_owner *who)
{
    if (entry->st_uid == who->uid)
        return 1;
    if (!envfile_owner_can_write(dir, who))
        return 0;
    return !(dir->st_mode & S_ISVTX) || dir->st_uid == who->uid;
}

const char *envfile_hostkey_mode_problem(const struct stat *st, uid_t self)
{
    if (!S_ISREG(st->st_mode))
        return "not a regular file";
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return "writable by others than its owner";
    if (st->st_mode & S_IROTH)
        return "readable by everyone (mount it with mode 0400, or 0440 with a group of the server's)";
    /* OpenSSH's rule for one's own key, so both servers accept the same files. */
    if (st->st_uid == self && (st->st_mode & 077))
        return "readable by its group although the server owns it (use mode 0400 or 0600)";
    return NULL;
}

/* Every folder from PATH's parent up to "/" (PATH absolute, no "..").
 * WHY gets the first folder WHO could change, as a reason. */
static int ancestors_safe(const char *path, const struct envfile_owner *who, char *why, size_t whylen)
{
    char dir[PATH_MAX], name[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    struct stat entry, parent;
    if (lstat(dir, &entry) < 0)
        return snprintf(why, whylen, "%s", strerror(errno)), 0;
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        snprintf(name, sizeof name, "%s", dir);
        slash[slash == dir] = '\0';
        if (lstat(dir, &parent) < 0)
            return snprintf(why, whylen, "%s: %s", dir, strerror(errno)), 0;
        if (entry.st_uid == who->uid)
            return snprintf(why, whylen, "%s belongs to the environment user (uid %u)", name,
                            (unsigned)who->uid), 0;
        if (envfile_owner_can_replace(&parent, &entry, who))
            return snprintf(why, whylen, "the environment user (uid %u) could replace %s", (unsigned)who->uid,
                            name), 0;
        if (slash == dir)
            break;
        entry = parent;
    }
    return 1;
}

int envfile_path_safe_from(const char *path, const struct envfile_owner *who, char *why, size_t whylen)
{
    char real[PATH_MAX];
    if (path[0] != '/')
        return snprintf(why, whylen, "not an absolute path"), 0;
    if (!realpath(path, real))
        return snprintf(why, whylen, "%s", strerror(errno)), 0;
    return ancestors_safe(path, who, why, whylen) && ancestors_safe(real, who, why, whylen);
}

/* PATH (as named, maybe through Kubernetes' ..data symlinks) is usable as a
 * host key for a server running as SELF on behalf of WHO. REAL gets the
 * resolved path. NULL, or the reason it is refused. */
static const char *vet_key(const char *path, const struct envfile_owner *who, uid_t self, char *real,
                           char *why, size_t whylen)
{
    struct stat st;
    if (!realpath(path, real) || stat(real, &st) < 0)
        return strerror(errno);
    const char *mode = envfile_hostkey_mode_problem(&st, self);
    if (mode)
        return mode;
    if (access(real, R_OK) != 0)
        return self ? "not readable by the server's uid (a non-root pod: mode 0440 with fsGroup)" : strerror(errno);
    /* Served by the user itself: no one else's file is at stake. */
    if (self != 0 || who->uid == 0)
        return NULL;
    if (!envfile_path_safe_from(path, who, why, whylen))
        return why;
    return NULL;
}

static int key_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && !(n > 4 && strcmp(name + n - 4, ".pub") == 0);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The key files of folder DIR: regular files (through symlinks), sorted,
 * without dot names (Kubernetes' ..data and its timestamped folders) and
 * without .pub files. */
static int list_folder(const char *dir, char **names, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t n = 0;
    const struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        char full[PATH_MAX];
        struct stat st;
        if (!key_name(de->d_name) || snprintf(full, sizeof full, "%s/%s", dir, de->d_name) >= (int)sizeof full ||
            stat(full, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((names[n] = strdup(full)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], compare_names);
    return (int)n;
}

static void add_key(const char *path, const struct envfile_owner *who, struct envfile_hostkeys *out)
{
    char real[PATH_MAX], why[PATH_MAX + 96];
    const char *problem = vet_key(path, who, geteuid(), real, why, sizeof why);
    if (problem) {
        log_error("host key %s: %s; not used", path, problem);
        out->refused++;
        return;
    }
    if (out->n == ENVFILE_HOSTKEYS_MAX) {
        log_warn("host key %s: more than %d keys; not used", path, ENVFILE_HOSTKEYS_MAX);
        return;
    }
    snprintf(out->path[out->n++], sizeof out->path[0], "%s", real);
}

int envfile_hostkeys_list(const char *path, const struct envfile_owner *who, struct envfile_hostkeys *out)
{
    struct stat st;
    if (path[0] != '/') {
        log_error("host keys %s: not an absolute path", path);
        return -1;
    }
    if (stat(path, &st) < 0) {
        log_error("host keys %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_key(path, who, out);
        return 0;
    }
    char *names[ENVFILE_HOSTKEYS_MAX * 2];
    int n = list_folder(path, names, sizeof names / sizeof names[0]);
    if (n < 0) {
        log_error("host keys %s: %s", path, strerror(errno));
        return -1;
    }
    if (n == 0)
        log_error("host keys %s: the folder holds no key file", path);
    for (int i = 0; i < n; i++) {
        add_key(names[i], who, out);
        free(names[i]);
    }
    return 0;
}

int envfile_owner_of(const struct envfile_user *u, const char *group_path, struct envfile_owner *out)
{
    out->uid = u->uid;
    out->ngroups = envfile_user_groups(group_path, u->name, u->gid, out->groups, ENVFILE_GROUPS_MAX);
    return out->ngroups < 0 ? -1 : 0;
}
