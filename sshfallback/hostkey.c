/* The host keys: given (a mounted Secret), or created once (0600,
 * atomically) and reused after; one per type the host key algorithms
 * need (ed25519 by default; ECDSA and RSA when enabled). */
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
        log_warn("host key %s: %s %s; not followed, no key is stored there", path, bad,
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

/* A type of host key: what makes one, and its file name. */
struct kind {
    unsigned bit;               /* SF_HK_* */
    const char *file;           /* under /etc/envinit, the state or the runtime folder */
};
static const struct kind kinds[] = {
    {SF_HK_ED25519, "ssh_host_ed25519_key"},
    {SF_HK_ECDSA, "ssh_host_ecdsa_key"},
    {SF_HK_RSA, "ssh_host_rsa_key"},
};
#define SF_RSA_BITS 3072

/* What a key of kind K must be: its libssh type (ECDSA: of curve BITS). */
static enum ssh_keytypes_e wanted_type(const struct kind *k, int ecdsa_bits)
{
    if (k->bit == SF_HK_ED25519)
        return SSH_KEYTYPE_ED25519;
    if (k->bit == SF_HK_RSA)
        return SSH_KEYTYPE_RSA;
    return ecdsa_bits == 384 ? SSH_KEYTYPE_ECDSA_P384 : ecdsa_bits == 521 ? SSH_KEYTYPE_ECDSA_P521
                                                                          : SSH_KEYTYPE_ECDSA_P256;
}

/* The type as ssh-keygen -l names it, so fingerprints compare at a glance. */
static const char *label(enum ssh_keytypes_e t)
{
    switch (t) {
    case SSH_KEYTYPE_ED25519: return "ED25519";
    case SSH_KEYTYPE_RSA: return "RSA";
    case SSH_KEYTYPE_ECDSA_P256: case SSH_KEYTYPE_ECDSA_P384: case SSH_KEYTYPE_ECDSA_P521: return "ECDSA";
    default: return ssh_key_type_to_char(t);
    }
}

static void log_fingerprint(ssh_key key, const char *path)
{
    unsigned char *hash = NULL;
    size_t hlen = 0;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK)
        return;
    char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    if (fp)
        log_info("host key %s: %s %s", path, label(ssh_key_type(key)), fp);
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
}

static ssh_key load_existing(const char *path)
{
    ssh_key key = NULL;
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
        log_error("host key %s: cannot be read as a private key", path);
        return NULL;
    }
    return key;
}

static ssh_key create(const char *path, enum ssh_keytypes_e type, int quiet_eacces)
{
    ssh_key key = NULL;
    if (ssh_pki_generate(type, type == SSH_KEYTYPE_RSA ? SF_RSA_BITS : 0, &key) != SSH_OK) {
        log_error("host key %s: %s generation failed", path, ssh_key_type_to_char(type));
        return NULL;
    }
    if (store_key(key, path) < 0) {
        int err = errno;
        if (!(quiet_eacces && (err == EACCES || err == EROFS || err == EPERM)))
            log_error("host key %s: cannot store: %s", path, strerror(err));
        ssh_key_free(key);
        errno = err;
        return NULL;
    }
    log_info("host key %s: generated", path);
    return key;
}

/* From the vetted list, the first key of each type WANT[0..N) into
 * OUT[] (NULL where none is), its path into CHOSEN[]; the others are named. */
static void pick(const struct envfile_hostkeys *keys, const enum ssh_keytypes_e *want, size_t n, ssh_key *out,
                 const char **chosen)
{
    for (size_t i = 0; i < keys->n; i++) {
        ssh_key k = load_existing(keys->path[i]);
        if (!k)
            continue;
        size_t j = 0;
        while (j < n && (out[j] || ssh_key_type(k) != want[j]))
            j++;
        if (j < n) {
            out[j] = k;
            chosen[j] = keys->path[i];
            continue;
        }
        log_info("host key %s: %s; not used (one key per type the host key algorithms enable)",
                 keys->path[i], ssh_key_type_to_char(ssh_key_type(k)));
        ssh_key_free(k);
    }
}

/* Keys named on the command line: each a key file or a folder of them. A
 * single file that does not exist yet is generated there, of the first
 * type needed. Every type needed must be found: else -1 (logged). */
static int load_given(const char *const *paths, size_t n, const struct envfile_owner *who,
                      const enum ssh_keytypes_e *want, size_t n_want, ssh_key *out, const char **shown)
{
    struct stat st;
    if (n == 1 && lstat(paths[0], &st) < 0 && errno == ENOENT) {
        shown[0] = paths[0];
        out[0] = create(paths[0], want[0], 0);
        if (out[0] && n_want > 1) {
            log_error("host key %s: generated as %s, but the host key algorithms need %zu types of key: "
                      "give a folder holding one of each (ssh-keygen -t ed25519/ecdsa/rsa)", paths[0],
                      ssh_key_type_to_char(want[0]), n_want);
            return -1;
        }
        return out[0] ? 0 : -1;
    }
    static struct envfile_hostkeys keys;
    memset(&keys, 0, sizeof keys);
    for (size_t i = 0; i < n; i++)
        envfile_hostkeys_list(paths[i], who, &keys);
    pick(&keys, want, n_want, out, shown);
    for (size_t j = 0; j < n_want; j++)
        if (!out[j]) {
            log_error("no usable %s host key among the %zu given (%u refused, reasons above); the host key "
                      "algorithms (--host-key-algorithms) need one", ssh_key_type_to_char(want[j]), keys.n,
                      keys.refused);
            return -1;
        }
    return 0;
}

static ssh_key load_or_create(const char *path, enum ssh_keytypes_e type, int quiet_eacces)
{
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return create(path, type, quiet_eacces);
    if (lstat(path, &st) < 0) {
        log_error("host key %s: %s", path, strerror(errno));
        return NULL;
    }
    const char *problem = envfile_hostkey_mode_problem(&st, geteuid());
    if (problem) {
        log_error("host key %s: %s", path, problem);
        return NULL;
    }
    ssh_key key = load_existing(path);
    if (key && ssh_key_type(key) != type) {
        log_error("host key %s: a %s key where a %s key belongs", path, ssh_key_type_to_char(ssh_key_type(key)),
                  ssh_key_type_to_char(type));
        ssh_key_free(key);
        return NULL;
    }
    return key;
}

static int unwritable(void)
{
    return errno == EACCES || errno == EROFS || errno == EPERM;
}

/* Not root: the state folder in the user's own home, which outlives the
 * container when the home does. */
static ssh_key load_state(const char *home, const char *file, enum ssh_keytypes_e type, char *shown, size_t len)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    int n = xdg && *xdg == '/' ? snprintf(shown, len, "%s/envinit/%s", xdg, file)
                               : snprintf(shown, len, "%s/.local/state/envinit/%s", home, file);
    if (n < 0 || (size_t)n >= len)
        return errno = ENAMETOOLONG, NULL;
    return load_or_create(shown, type, 1);
}

/* Read-only image: a key in the runtime folder, new at every start. */
static ssh_key load_runtime(const char *deflt, const char *file, enum ssh_keytypes_e type, char *shown, size_t len)
{
    char dir[4096];
    const char *tried = NULL;
    if (envfile_runtime_dir(dir, sizeof dir, &tried) < 0) {
        log_error("no writable folder for a host key (tried %s, %s and %s): mount one (a tmpfs or "
                  "emptyDir at /run or /tmp) or give keys with host_keys (ENVINIT_HOST_KEYS)",
                  deflt, "the state folder", tried);
        return NULL;
    }
    if (snprintf(shown, len, "%s/%s", dir, file) >= (int)len)
        return NULL;
    ssh_key key = load_or_create(shown, type, 0);
    if (key)
        log_warn("host key %s: in the runtime folder because %s is read-only, so its fingerprint "
                 "changes at every container start and clients will warn; mount a key and name it with "
                 "host_keys (ENVINIT_HOST_KEYS) to keep one", shown, deflt);
    return key;
}

/* The default rule for one kind: /etc/envinit, the state folder, the runtime folder. */
static ssh_key load_default(const struct kind *k, enum ssh_keytypes_e type, const struct envfile_user *user,
                            char *shown, size_t len)
{
    char deflt[256];
    snprintf(deflt, sizeof deflt, "%s/%s", SF_HOSTKEY_DIR, k->file);
    snprintf(shown, len, "%s", deflt);
    ssh_key key = load_or_create(shown, type, 1);
    if (!key && unwritable() && geteuid() != 0)
        key = load_state(user->home, k->file, type, shown, len);
    if (!key && unwritable())
        key = load_runtime(deflt, k->file, type, shown, len);
    return key;
}

size_t sf_hostkey_load(const char *const *paths, size_t n, const char *algos, const struct envfile_user *user,
                       const struct envfile_owner *who, void *keys[SF_MAX_SERVED_KEYS])
{
    static char shown_buf[SF_MAX_SERVED_KEYS][4096];
    const char *shown[SF_MAX_SERVED_KEYS] = {0};
    enum ssh_keytypes_e want[SF_MAX_SERVED_KEYS];
    const struct kind *kind[SF_MAX_SERVED_KEYS];
    ssh_key out[SF_MAX_SERVED_KEYS] = {0};
    int ecdsa_bits;
    unsigned need = sf_hostkey_kinds(algos, &ecdsa_bits);
    size_t n_want = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (need & kinds[i].bit) {
            kind[n_want] = &kinds[i];
            want[n_want++] = wanted_type(&kinds[i], ecdsa_bits);
        }
    if (n_want == 0) {
        log_error("the host key algorithms '%s' name no type of key envinit-sshd serves", algos);
        return 0;
    }
    int ok = 1;
    if (n) {
        ok = load_given(paths, n, who, want, n_want, out, shown) == 0;
    } else {
        for (size_t j = 0; ok && j < n_want; j++) {
            out[j] = load_default(kind[j], want[j], user, shown_buf[j], sizeof shown_buf[j]);
            shown[j] = shown_buf[j];
            ok = out[j] != NULL;
        }
    }
    for (size_t j = 0; j < n_want; j++) {
        if (ok) {
            log_fingerprint(out[j], shown[j]);
            keys[j] = out[j];
        } else {
            ssh_key_free(out[j]);
        }
    }
    return ok ? n_want : 0;
}
