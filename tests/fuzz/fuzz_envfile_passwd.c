/* libFuzzer target: the passwd and group files envinit and envinit-sshd
 * read without NSS (envfile_passwd_line, envfile_user_by_name and _by_uid,
 * envfile_user_groups). The input is one file, read both as a passwd file
 * and as a group file. Beyond memory safety it checks:
 *  - an accepted passwd line has 7 fields, a name that is its first field
 *    (not empty, no +/- entry), ids below (uid_t)-1, a home and a shell
 *    (defaults for empty ones), and reads back the same when printed
 *    (with a CRLF line end);
 *  - the first user accepted is the one found by its name and by its uid;
 *  - the groups of that user (or "coder") are its primary group, then each
 *    group line of 4 fields listing the user, in file order, without
 *    repeats, cut at the limit asked for. */
#include "envfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_GROUPS 64

static void quiet(enum log_level level, const char *msg)
{
    (void)level;
    (void)msg;
}

static int same_user(const struct envfile_user *a, const struct envfile_user *b)
{
    return strcmp(a->name, b->name) == 0 && a->uid == b->uid && a->gid == b->gid &&
           strcmp(a->home, b->home) == 0 && strcmp(a->shell, b->shell) == 0;
}

static void check_accepted(const char *line, size_t len, const struct envfile_user *u)
{
    size_t n = strlen(u->name);
    if (n == 0 || u->name[0] == '+' || u->name[0] == '-' || n >= len || line[n] != ':' ||
        memcmp(line, u->name, n) != 0 || !u->home[0] || !u->shell[0] ||
        u->uid == (uid_t)-1 || u->gid == (gid_t)-1)
        abort();
    size_t colons = 0;
    for (size_t i = 0; i < len; i++)
        colons += line[i] == ':';
    if (colons != 6)
        abort();
    static char again[sizeof u->name + sizeof u->home + sizeof u->shell + 64];
    int w = snprintf(again, sizeof again, "%s:x:%u:%u:gecos:%s:%s\r", u->name, (unsigned)u->uid,
                     (unsigned)u->gid, u->home, u->shell);
    struct envfile_user v;
    if (w < 0 || (size_t)w >= sizeof again || envfile_passwd_line(again, (size_t)w, &v) < 0 ||
        !same_user(u, &v))
        abort();
}

/* The first accepted user of the file, read line by line as getline does. */
static int first_user(const char *text, size_t size, struct envfile_user *first)
{
    int found = 0;
    size_t pos = 0;
    while (pos < size) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (text + pos)) : size - pos;
        struct envfile_user u;
        if (envfile_passwd_line(text + pos, len, &u) == 0) {
            /* an accepted line is never empty */
            size_t l = text[pos + len - 1] == '\r' ? len - 1 : len;
            check_accepted(text + pos, l, &u);
            if (!found)
                *first = u;
            found = 1;
        }
        pos += len + 1;
    }
    return found;
}

/* The group id a group line gives USER, or -1. */
static long long group_of(const char *line, size_t len, const char *user)
{
    const char *f[4];
    size_t fl[4], k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ':')
            continue;
        if (k == 4)
            return -1;
        f[k] = line + start;
        fl[k++] = i - start;
        start = i + 1;
    }
    if (k != 4 || fl[2] == 0 || fl[2] > 10)
        return -1;
    unsigned long long g = 0;
    for (size_t i = 0; i < fl[2]; i++) {
        if (f[2][i] < '0' || f[2][i] > '9')
            return -1;
        g = g * 10 + (unsigned)(f[2][i] - '0');
    }
    if (g > 0xfffffffeULL)
        return -1;
    size_t ul = strlen(user);
    for (size_t s = 0; s <= fl[3];) {
        const char *c = memchr(f[3] + s, ',', fl[3] - s);
        size_t n = c ? (size_t)(c - (f[3] + s)) : fl[3] - s;
        if (n == ul && memcmp(f[3] + s, user, ul) == 0)
            return (long long)g;
        s += n + 1;
    }
    return -1;
}

static int listed(const gid_t *g, int n, gid_t v)
{
    for (int i = 0; i < n; i++)
        if (g[i] == v)
            return 1;
    return 0;
}

static void check_groups(const char *path, const char *text, size_t size, const char *user,
                         gid_t gid, int max)
{
    gid_t got[MAX_GROUPS], want[MAX_GROUPS];
    int n = envfile_user_groups(path, user, gid, got, max), k = 0;
    want[k++] = gid;
    for (size_t pos = 0; pos < size && k < max;) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (text + pos)) : size - pos;
        size_t l = len && text[pos + len - 1] == '\r' ? len - 1 : len;
        long long g = group_of(text + pos, l, user);
        if (g >= 0 && !listed(want, k, (gid_t)g))
            want[k++] = (gid_t)g;
        pos += len + 1;
    }
    if (n != k || memcmp(got, want, (size_t)k * sizeof *got) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    log_hook = quiet;
    if (fd < 0) {
        fd = memfd_create("fuzz-passwd", MFD_CLOEXEC);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    const char *text = (const char *)data;

    struct envfile_user first, u;
    int found = first_user(text, size, &first);
    if (found) {
        if (envfile_user_by_name(path, first.name, &u) < 0 || !same_user(&u, &first) ||
            envfile_user_by_uid(path, first.uid, &u) < 0 || !same_user(&u, &first))
            abort();
    } else if (envfile_user_by_uid(path, 0, &u) == 0) {
        abort();
    }
    int max = size ? 1 + data[0] % MAX_GROUPS : 1;
    check_groups(path, text, size, found ? first.name : "coder", found ? first.gid : 1000, max);
    return 0;
}
