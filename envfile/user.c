/* The environment user, read from passwd/group files directly: envinit is
 * static and must not depend on NSS modules the image may lack. */
#include "envfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Splits LINE into exactly N colon-separated fields. */
static int split_fields(const char *line, size_t len, const char **f, size_t *fl, int n)
{
    int i = 0;
    const char *p = line, *end = line + len;
    while (i < n) {
        const char *c = memchr(p, ':', (size_t)(end - p));
        f[i] = p;
        if (!c) {
            fl[i] = (size_t)(end - p);
            i++;
            break;
        }
        fl[i] = (size_t)(c - p);
        p = c + 1;
        i++;
    }
    return i == n && (i == 0 || f[n - 1] + fl[n - 1] == end) ? 0 : -1;
}

static int parse_id(const char *s, size_t len, unsigned long *out)
{
    if (len == 0 || len > 10)
        return -1;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 0xfffffffeUL) /* (uid_t)-1 is "no id" */
        return -1;
    *out = v;
    return 0;
}

static int copy_field(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap || memchr(src, '\0', len))
        return -1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

int envfile_passwd_line(const char *line, size_t len, struct envfile_user *out)
{
    const char *f[7];
    size_t fl[7];
    unsigned long uid, gid;
    if (len && line[len - 1] == '\r')
        len--;
    if (split_fields(line, len, f, fl, 7) < 0 || fl[0] == 0 || f[0][0] == '+' || f[0][0] == '-' ||
        parse_id(f[2], fl[2], &uid) < 0 || parse_id(f[3], fl[3], &gid) < 0)
        return -1;
    if (copy_field(out->name, sizeof out->name, f[0], fl[0]) < 0 ||
        copy_field(out->home, sizeof out->home, f[5], fl[5]) < 0 ||
        copy_field(out->shell, sizeof out->shell, f[6], fl[6]) < 0)
        return -1;
    /* login(1) semantics for empty fields */
    if (!out->home[0])
        strcpy(out->home, "/");
    if (!out->shell[0])
        strcpy(out->shell, "/bin/sh");
    out->uid = (uid_t)uid;
    out->gid = (gid_t)gid;
    return 0;
}

/* Calls MATCH for each well-formed passwd entry until it returns 1. */
static int scan_passwd(const char *path, int (*match)(const struct envfile_user *, const void *),
                       const void *ctx, struct envfile_user *out)
{
    FILE *f = fopen(path ? path : ENVFILE_PASSWD, "re");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int found = 0;
    struct envfile_user *u = malloc(sizeof *u);
    while (u && !found && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            n--;
        if (envfile_passwd_line(line, (size_t)n, u) == 0 && match(u, ctx)) {
            *out = *u;
            found = 1;
        }
    }
    int err = ferror(f) ? EIO : ENOENT;
    if (!u)
        err = ENOMEM;
    free(u);
    free(line);
    fclose(f);
    if (!found)
        errno = err;
    return found ? 0 : -1;
}

static int match_name(const struct envfile_user *u, const void *name)
{
    return strcmp(u->name, name) == 0;
}

static int match_uid(const struct envfile_user *u, const void *uid)
{
    return u->uid == *(const uid_t *)uid;
}

int envfile_user_by_name(const char *path, const char *name, struct envfile_user *out)
{
    return scan_passwd(path, match_name, name, out);
}

int envfile_user_by_uid(const char *path, uid_t uid, struct envfile_user *out)
{
    return scan_passwd(path, match_uid, &uid, out);
}

int envfile_user_default(const char *path, uid_t self, struct envfile_user *out)
{
    if (self != 0)
        return envfile_user_by_uid(path, self, out);
    if (envfile_user_by_name(path, "coder", out) == 0)
        return 0;
    if (errno != ENOENT)
        return -1;
    if (envfile_user_by_uid(path, 1000, out) == 0)
        return 0;
    if (errno != ENOENT)
        return -1;
    return envfile_user_by_uid(path, 0, out);
}

/* A login name taken from the environment: what useradd would accept. */
static int plausible_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= sizeof ((struct envfile_user *)0)->name || s[0] == '-')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int usable_home(const char *dir)
{
    struct stat st;
    return dir && dir[0] == '/' && strlen(dir) < sizeof ((struct envfile_user *)0)->home &&
           stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0;
}

/* The private folder a home-less UID gets: /tmp/envinit-UID/home, 0700. */
static int private_home(uid_t uid, char *out, size_t len)
{
    char parent[64];
    snprintf(parent, sizeof parent, ENVFILE_UNLISTED_HOME_PARENT, (unsigned)uid);
    snprintf(out, len, "%s/home", parent);
    const char *dirs[] = {parent, out};
    for (size_t i = 0; i < 2; i++)
        if (envfile_own_folder(dirs[i], 0700) < 0) {
            log_error("%s: %s; uid %u has no home: set HOME to a folder it can write", dirs[i],
                      errno == EPERM ? "not a private folder of this uid's (someone else made it)"
                                     : strerror(errno), (unsigned)uid);
            return errno = EACCES, -1;
        }
    return 0;
}

int envfile_user_unlisted(const char *path, const struct envfile_self *self, struct envfile_user *out)
{
    memset(out, 0, sizeof *out);
    const char *name = self->name && self->name[0] ? self->name
                       : plausible_name(self->user_env) ? self->user_env : ENVFILE_UNLISTED_NAME;
    struct envfile_user *named = malloc(sizeof *named);
    int known = named && envfile_user_by_name(path, name, named) == 0;
    snprintf(out->name, sizeof out->name, "%s", name);
    out->uid = self->uid;
    out->gid = self->gid;
    snprintf(out->shell, sizeof out->shell, "%s", known ? named->shell : "/bin/sh");
    int rc = 0;
    if (usable_home(self->home_env))
        snprintf(out->home, sizeof out->home, "%s", self->home_env);
    else if (known && usable_home(named->home))
        snprintf(out->home, sizeof out->home, "%s", named->home);
    else
        rc = private_home(self->uid, out->home, sizeof out->home);
    free(named);
    return rc;
}

int envfile_user_serve(const char *path, const struct envfile_self *self, struct envfile_user *out)
{
    if (self->uid == 0)
        return self->name && self->name[0] ? envfile_user_by_name(path, self->name, out)
                                           : envfile_user_default(path, 0, out);
    if (envfile_user_by_uid(path, self->uid, out) == 0) {
        if (self->name && self->name[0] && strcmp(self->name, out->name) != 0)
            return errno = EPERM, -1;
        return 0;
    }
    if (errno != ENOENT)
        return -1;
    return envfile_user_unlisted(path, self, out);
}

void envfile_self_init(struct envfile_self *self, const char *name)
{
    self->uid = geteuid();
    self->gid = getegid();
    self->name = name;
    self->user_env = getenv("USER");
    self->home_env = getenv("HOME");
}

/* 1 when USER appears in the comma-separated member list. */
static int has_member(const char *list, size_t len, const char *user)
{
    size_t ul = strlen(user), pos = 0;
    while (pos <= len) {
        const char *c = memchr(list + pos, ',', len - pos);
        size_t n = c ? (size_t)(c - (list + pos)) : len - pos;
        if (n == ul && memcmp(list + pos, user, ul) == 0)
            return 1;
        pos += n + 1;
    }
    return 0;
}

static int listed(const gid_t *g, int n, gid_t gid)
{
    for (int i = 0; i < n; i++)
        if (g[i] == gid)
            return 1;
    return 0;
}

int envfile_user_groups(const char *path, const char *user, gid_t gid, gid_t *out, int max)
{
    if (max < 1) {
        errno = EINVAL;
        return -1;
    }
    int count = 0;
    out[count++] = gid;
    FILE *f = fopen(path ? path : ENVFILE_GROUP, "re");
    if (!f)
        return errno == ENOENT ? count : -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (count < max && (n = getline(&line, &cap, f)) > 0) {
        const char *fld[4];
        size_t fl[4];
        unsigned long g;
        if (line[n - 1] == '\n')
            n--;
        if (n && line[n - 1] == '\r')
            n--;
        if (split_fields(line, (size_t)n, fld, fl, 4) < 0 || parse_id(fld[2], fl[2], &g) < 0 ||
            !has_member(fld[3], fl[3], user) || listed(out, count, (gid_t)g))
            continue;
        out[count++] = (gid_t)g;
    }
    free(line);
    fclose(f);
    return count;
}
