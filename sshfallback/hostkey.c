/* The host key: given (a mounted Secret), or ed25519 created once (0600,
 * atomically) and reused after. */
#include "sshfallback.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The key's folder, made and opened without following a symlink: root
 * must not be led to write its key where someone else chose. A refused
 * component is named. */
static int open_key_dir(const char *path, const char *dir)
{
    char bad[4096] = "";
    int dfd = envfile_open_dirs(dir, 0755, bad, sizeof bad);
    if (dfd < 0 && (errno == ELOOP || errno == EPERM || errno == ENOTDIR)) {
        int err = errno;
        sf_log(SF_WARN, "host key %s: %s %s; not followed, no key is stored there", path, bad,
               err == ELOOP ? "is a symlink" : err == EPERM ? "is owned by neither root nor us" : "is not a folder");
        errno = err;
    }
    return dfd;
}

/* TEXT into a temp file in DFD, fsynced, renamed to BASE: a crash never
 * leaves a half key that the next start rejects. 0, or an errno. */
static int replace_at(int dfd, const char *base, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", base, (long)getpid());
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return errno;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int err = w == (ssize_t)len ? 0 : (w < 0 ? errno : EIO);
    if (!err && fsync(fd) < 0)
        err = errno;
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && renameat(dfd, tmp, dfd, base) < 0)
        err = errno;
    if (err)
        unlinkat(dfd, tmp, 0);
    return err;
}

/* Stores KEY at PATH; the rename is durable once the folder is synced. */
static int store_key(ssh_key key, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (parent_dir(path, dir, sizeof dir) < 0)
        return errno = ENAMETOOLONG, -1;
    int dfd = open_key_dir(path, dir);
    if (dfd < 0)
        return -1;
    char *b64 = NULL;
    int err = ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) == SSH_OK
                  ? replace_at(dfd, slash ? slash + 1 : path, b64)
                  : EINVAL;
    ssh_string_free_char(b64);
    int sfd = err ? -1 : openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd >= 0) {
        fsync(sfd);
        close(sfd);
    }
    close(dfd);
    return err ? (errno = err, -1) : 0;
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

static ssh_key load_existing(const char *path)
{
    ssh_key key = NULL;
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
        sf_log(SF_ERROR, "host key %s: cannot be read as a private key", path);
        return NULL;
    }
    return key;
}

static ssh_key create(const char *path, int quiet_eacces)
{
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

/* The first ed25519 key of the vetted list; the others are named. */
static ssh_key pick_ed25519(const struct envfile_hostkeys *keys, const char **chosen)
{
    ssh_key found = NULL;
    for (size_t i = 0; i < keys->n; i++) {
        ssh_key k = load_existing(keys->path[i]);
        if (!k)
            continue;
        if (!found && ssh_key_type(k) == SSH_KEYTYPE_ED25519) {
            found = k;
            *chosen = keys->path[i];
            continue;
        }
        sf_log(SF_INFO, "host key %s: %s; not used (envinit-sshd serves one ed25519 host key)", keys->path[i],
               ssh_key_type_to_char(ssh_key_type(k)));
        ssh_key_free(k);
    }
    return found;
}

/* Keys named on the command line: each a key file or a folder of them. A
 * single file that does not exist yet is generated there. */
static ssh_key load_given(const char *const *paths, size_t n, const struct envfile_owner *who, char *shown,
                          size_t len)
{
    struct stat st;
    if (n == 1 && lstat(paths[0], &st) < 0 && errno == ENOENT) {
        snprintf(shown, len, "%s", paths[0]);
        return create(paths[0], 0);
    }
    static struct envfile_hostkeys keys;
    memset(&keys, 0, sizeof keys);
    for (size_t i = 0; i < n; i++)
        envfile_hostkeys_list(paths[i], who, &keys);
    const char *chosen = NULL;
    ssh_key key = pick_ed25519(&keys, &chosen);
    if (!key) {
        sf_log(SF_ERROR, "no usable ed25519 host key among the %zu given (%u refused, reasons above)", keys.n,
               keys.refused);
        return NULL;
    }
    snprintf(shown, len, "%s", chosen);
    return key;
}

static ssh_key load_or_create(const char *path, int quiet_eacces)
{
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return create(path, quiet_eacces);
    if (lstat(path, &st) < 0) {
        sf_log(SF_ERROR, "host key %s: %s", path, strerror(errno));
        return NULL;
    }
    const char *problem = envfile_hostkey_mode_problem(&st, geteuid());
    if (problem) {
        sf_log(SF_ERROR, "host key %s: %s", path, problem);
        return NULL;
    }
    return load_existing(path);
}

static int unwritable(void)
{
    return errno == EACCES || errno == EROFS || errno == EPERM;
}

/* Not root: the state folder in the user's own home, which outlives the
 * container when the home does. */
static ssh_key load_state(const char *home, char *shown, size_t len)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    int n = xdg && *xdg == '/' ? snprintf(shown, len, "%s/envinit/ssh_host_ed25519_key", xdg)
                               : snprintf(shown, len, "%s/.local/state/envinit/ssh_host_ed25519_key", home);
    if (n < 0 || (size_t)n >= len)
        return errno = ENAMETOOLONG, NULL;
    return load_or_create(shown, 1);
}

/* Read-only image: a key in the runtime folder, new at every start. */
static ssh_key load_runtime(char *shown, size_t len)
{
    char dir[4096];
    const char *tried = NULL;
    if (envfile_runtime_dir(dir, sizeof dir, &tried) < 0) {
        sf_log(SF_ERROR, "no writable folder for a host key (tried %s, %s and %s): mount one (a tmpfs or "
               "emptyDir at /run or /tmp) or give keys with host_keys (ENVINIT_HOST_KEYS)",
               SF_DEFAULT_HOSTKEY, "the state folder", tried);
        return NULL;
    }
    if (snprintf(shown, len, "%s/ssh_host_ed25519_key", dir) >= (int)len)
        return NULL;
    ssh_key key = load_or_create(shown, 0);
    if (key)
        sf_log(SF_WARN, "host key %s: in the runtime folder because %s is read-only, so its fingerprint "
               "changes at every container start and clients will warn; mount a key and name it with "
               "host_keys (ENVINIT_HOST_KEYS) to keep one", shown, SF_DEFAULT_HOSTKEY);
    return key;
}

void *sf_hostkey_load(const char *const *paths, size_t n, const struct envfile_user *user,
                      const struct envfile_owner *who)
{
    static char shown[4096];
    ssh_key key;
    if (n) {
        key = load_given(paths, n, who, shown, sizeof shown);
    } else {
        snprintf(shown, sizeof shown, "%s", SF_DEFAULT_HOSTKEY);
        key = load_or_create(shown, 1);
        if (!key && unwritable() && geteuid() != 0)
            key = load_state(user->home, shown, sizeof shown);
        if (!key && unwritable())
            key = load_runtime(shown, sizeof shown);
    }
    if (key)
        log_fingerprint(key, shown);
    return key;
}
