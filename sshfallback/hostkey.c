/* The host key: ed25519, created once (0600, atomically), reused after. */
#include "sshfallback.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdirs(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return errno = ENAMETOOLONG, -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int parent_dir(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (n == 0)
        n = 1;
    if (n >= size)
        return -1;
    memcpy(out, slash ? path : ".", n);
    out[n] = '\0';
    return 0;
}

/* Writes the key to a temp file next to PATH, fsyncs it and renames it in
 * place, so a crash never leaves a half key that the next start rejects. */
static int store_key(ssh_key key, const char *path)
{
    char dir[4096], tmp[4200];
    if (parent_dir(path, dir, sizeof dir) < 0 || mkdirs(dir) < 0)
        return -1;
    char *b64 = NULL;
    if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK)
        return errno = EINVAL, -1;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        ssh_string_free_char(b64);
        return -1;
    }
    size_t len = strlen(b64);
    ssize_t w = write(fd, b64, len);
    int err = w == (ssize_t)len ? 0 : (w < 0 ? errno : EIO);
    ssh_string_free_char(b64);
    if (!err && fsync(fd) < 0)
        err = errno;
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) < 0)
        err = errno;
    if (err) {
        unlink(tmp);
        return errno = err, -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void log_fingerprint(ssh_key key, const char *path)
{
    unsigned char *hash = NULL;
    size_t hlen = 0;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK)
        return;
    char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    if (fp)
        sf_log(SF_INFO, "host key %s: ED25519 %s", path, fp);
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
}

static ssh_key load_existing(const char *path, const struct stat *st)
{
    if (!S_ISREG(st->st_mode)) {
        sf_log(SF_ERROR, "host key %s: not a regular file; not starting", path);
        return NULL;
    }
    if (st->st_mode & 077) {
        sf_log(SF_ERROR, "host key %s: readable by others (mode %04o); fix with chmod 600; "
               "not starting", path, (unsigned)(st->st_mode & 07777));
        return NULL;
    }
    ssh_key key = NULL;
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
        sf_log(SF_ERROR, "host key %s: cannot be read as a private key; not starting", path);
        return NULL;
    }
    if (ssh_key_type(key) != SSH_KEYTYPE_ED25519) {
        sf_log(SF_ERROR, "host key %s: is %s, only ed25519 is used; not starting", path,
               ssh_key_type_to_char(ssh_key_type(key)));
        ssh_key_free(key);
        return NULL;
    }
    return key;
}

static ssh_key load_or_create(const char *path, int quiet_eacces)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return load_existing(path, &st);
    if (errno != ENOENT) {
        sf_log(SF_ERROR, "host key %s: %s", path, strerror(errno));
        return NULL;
    }
    ssh_key key = NULL;
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
        sf_log(SF_ERROR, "host key %s: ed25519 generation failed", path);
        return NULL;
    }
    if (store_key(key, path) < 0) {
        int err = errno;
        if (!(quiet_eacces && (err == EACCES || err == EROFS || err == EPERM)))
            sf_log(SF_ERROR, "host key %s: cannot store: %s", path, strerror(err));
        ssh_key_free(key);
        errno = err;
        return NULL;
    }
    sf_log(SF_INFO, "host key %s: generated", path);
    return key;
}

void *sf_hostkey_load(const char *path)
{
    ssh_key key;
    char state[4096];
    if (path) {
        key = load_or_create(path, 0);
    } else {
        path = SF_DEFAULT_HOSTKEY;
        key = load_or_create(path, 1);
        if (!key && (errno == EACCES || errno == EROFS || errno == EPERM)) {
            const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
            if (xdg && *xdg == '/')
                snprintf(state, sizeof state, "%s/envinit/ssh_host_ed25519_key", xdg);
            else
                snprintf(state, sizeof state, "%s/.local/state/envinit/ssh_host_ed25519_key",
                         home && *home == '/' ? home : "/tmp");
            sf_log(SF_INFO, "%s is not writable; using %s", SF_DEFAULT_HOSTKEY, state);
            path = state;
            key = load_or_create(path, 0);
        }
    }
    if (key)
        log_fingerprint(key, path);
    return key;
}
