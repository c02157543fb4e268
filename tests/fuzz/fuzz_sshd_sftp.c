/* libFuzzer target: envinit-sshd's SFTP server (sf_sftp_serve in sftp.c)
 * on a stream of SFTP packets, in process, as the user running the fuzzer.
 * The input: one byte of server options (bit 0: -R, bit 1: -P with the
 * requests that remove or rename, bit 2: -p with read-only requests), then
 * the client's byte stream, length fields included.
 *
 * Confinement: the server opens, writes, renames and links whatever paths
 * the input names, so it never runs where it could reach a file of the
 * machine. At start the fuzzer enters a user and a mount namespace of its
 * own (refusing to start when it cannot) and makes a tmpfs (16 MiB,
 * attached nowhere). Each input gets a server thread that takes a file
 * system context of its own, makes that tmpfs its root (chroot), empties it
 * of what the last input left, and gives up every capability but
 * CAP_SYS_CHROOT before it reads a byte. (A fresh tmpfs for each input
 * would cost a file system teardown, milliseconds, every time.) Only if that thread
 * crashes does it go back to the real root, so that libFuzzer can write the
 * crash input where it was asked to (see leave_confinement).
 *
 * Beyond memory safety it checks, reading the replies as a client does:
 *  - every complete request gets exactly one reply, in order, carrying its
 *    id (INIT: a VERSION reply), and nothing else is sent; a length field
 *    out of bounds ends the session;
 *  - each reply's length field matches its content, every reply fits in
 *    the advertised 256 KiB, a reply's type is one its request may get, a
 *    status code is one of protocol 3's;
 *  - DATA never exceeds what was asked for, nor the advertised read
 *    length; a READDIR batch is at most 100 names;
 *  - a request -R, -p or -P refuses is answered PERMISSION_DENIED, and
 *    under -R no OPEN for writing, creating or truncating gets a handle. */
#include "sshfallback.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <sanitizer/common_interface_defs.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* sftp.c's limits, as it advertises them (limits@openssh.com) */
#define MAX_MSG (256u * 1024u)
#define MAX_RW (MAX_MSG - 1024u)
#define MAX_PACKET (MAX_MSG + 1024u)
#define DIR_BATCH 100u

enum { INIT = 1, VERSION = 2, OPEN = 3, READ = 5, LSTAT = 7, FSTAT = 8, OPENDIR = 11, READDIR = 12,
       REALPATH = 16, STAT = 17, READLINK = 19, EXTENDED = 200 };
enum { STATUS = 101, HANDLE = 102, DATA = 103, NAME = 104, ATTRS = 105, EXT_REPLY = 201 };
enum { FX_PERMISSION_DENIED = 3, FX_MAX_CODE = 8 };

/* ---- confinement ---- */

static int real_root = -1, real_cwd = -1, tmpfs = -1;
static __thread int confined;
static struct sigaction chained[NSIG];

/* The server thread gets the real root and folder back (it kept
 * CAP_SYS_CHROOT for this alone) when it is about to die, so that
 * libFuzzer's crash handler, which runs in the dying thread, writes the
 * input under the fuzzer's folder and not into the throwaway tmpfs. */
static void leave_confinement(void)
{
    if (!confined)
        return;
    confined = 0;
    if (fchdir(real_root) < 0 || chroot(".") < 0 || fchdir(real_cwd) < 0)
        dprintf(2, "fuzz_sshd_sftp: leaving the confinement: %s\n", strerror(errno));
}

static void on_death(void)
{
    leave_confinement();
    abort(); /* libFuzzer's SIGABRT handler reports and saves the input */
}

static void on_signal(int sig, siginfo_t *info, void *ctx)
{
    leave_confinement();
    const struct sigaction *old = &chained[sig];
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, info, ctx);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    } else {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

/* Once libFuzzer's handlers are in place (the first input): ours first. */
static void chain_crash_handlers(void)
{
    static const int sigs[] = {SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_NODEFER};
        sigaction(sigs[i], NULL, &chained[sigs[i]]);
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    __sanitizer_set_death_callback(on_death);
}

static void refuse(const char *what)
{
    dprintf(2, "fuzz_sshd_sftp: %s: %s; refusing to run the SFTP server unconfined\n", what,
            strerror(errno));
    exit(1);
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        refuse(path);
    close(fd);
}

/* A user namespace (our ids mapped to themselves) and a mount namespace. */
static void enter_namespaces(void)
{
    char map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
        refuse("unshare(CLONE_NEWUSER|CLONE_NEWNS)");
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    write_file("/proc/self/uid_map", map);
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    write_file("/proc/self/gid_map", map);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        refuse("making the mounts private");
}

/* A fresh tmpfs attached nowhere: an O_PATH descriptor of its root, or -1. */
static int new_tmpfs(void)
{
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return -1;
    int m = -1;
    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "16m", 0) == 0 &&
        fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "4096", 0) == 0 &&
        fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) == 0 &&
        fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
        m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    close(fs);
    return m;
}

/* Capabilities of this thread: CAP_SYS_CHROOT only (see leave_confinement). */
static int keep_only_chroot(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    d[0].effective = d[0].permitted = 1u << CAP_SYS_CHROOT;
    return (int)syscall(SYS_capset, &h, d);
}

/* Moves the entries of folder NAME (in ROOTFD) up into ROOTFD, under new
 * names; links are never followed. 0, or -1. */
static int hoist(int rootfd, const char *name)
{
    static unsigned long seq;
    int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = 0;
    for (const struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char to[32];
        do
            snprintf(to, sizeof to, "hoisted-%lu", seq++);
        while ((rc = renameat2(dirfd(d), e->d_name, rootfd, to, RENAME_NOREPLACE)) < 0 &&
               errno == EEXIST);
    }
    closedir(d);
    return rc;
}

/* Empties this thread's root of what the last session left, whatever the
 * modes it set (the thread still has its capabilities), without recursion:
 * a folder that is not empty has its entries moved up first. 0, or -1. */
static int empty_root(void)
{
    if (chmod("/", 0755) < 0)
        return -1;
    for (int pass = 0; pass < 100000; pass++) {
        DIR *d = opendir("/");
        if (!d)
            return -1;
        int left = 0, rc = 0;
        for (const struct dirent *e; rc == 0 && (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            left++;
            if (unlinkat(dirfd(d), e->d_name, 0) == 0 ||
                (errno == EISDIR && unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0))
                continue;
            rc = errno == ENOTEMPTY ? hoist(dirfd(d), e->d_name) : -1;
        }
        closedir(d);
        if (rc < 0 || left == 0)
            return rc;
    }
    return -1;
}

/* Makes the tmpfs ROOT this thread's root and folder; signals other than
 * a crash's go to the main thread. 0, or -1. */
static int confine_thread(int root)
{
    sigset_t all;
    sigfillset(&all);
    static const int crash[] = {SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
        sigdelset(&all, crash[i]);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    if (unshare(CLONE_FS) < 0 || fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
        return -1;
    confined = 1;
    umask(022);
    return empty_root() < 0 ? -1 : keep_only_chroot();
}

/* ---- one session ---- */

struct session {
    int root, in, out;
    struct sf_sftp_opts opts;
    int confined_ok;
};

static void *serve(void *arg)
{
    struct session *s = arg;
    if (confine_thread(s->root) == 0) {
        s->confined_ok = 1;
        sf_sftp_serve(s->in, s->out, &s->opts);
    }
    close(s->out);
    return NULL;
}

/* The probe session at start: the server thread must see an empty root
 * that is the tmpfs, and no file of the machine. */
static void *probe(void *arg)
{
    struct session *s = arg;
    if (confine_thread(s->root) < 0)
        return NULL;
    DIR *d = opendir("/");
    int entries = 0;
    for (const struct dirent *e; d && (e = readdir(d));)
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    int fd = open("/../../probe", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    s->confined_ok = d && entries == 0 && fd >= 0 && access("/proc/self", F_OK) < 0;
    if (fd >= 0)
        close(fd);
    leave_confinement();
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* NSS and the symbolizer are loaded while the real root is there */
    getpwuid(getuid());
    getgrgid(getgid());
    getpwnam("root");
    __sanitizer_sandbox_on_notify(NULL);
    real_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    real_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (real_root < 0 || real_cwd < 0)
        refuse("opening / and .");
    enter_namespaces();
    struct session s = {.root = tmpfs = new_tmpfs()};
    if (s.root < 0)
        refuse("a tmpfs for the server");
    pthread_t t;
    if (pthread_create(&t, NULL, probe, &s) != 0 || pthread_join(t, NULL) != 0)
        refuse("the probe thread");
    if (!s.confined_ok || faccessat(s.root, "probe", F_OK, 0) < 0) {
        errno = EPERM;
        refuse("the server thread is not confined to its tmpfs");
    }
    return 0;
}

/* ---- what the client expects ---- */

struct rd {
    const unsigned char *p;
    size_t len, off;
    int bad;
};

static uint32_t rd_u32(struct rd *r)
{
    if (r->bad || r->len - r->off < 4) {
        r->bad = 1;
        return 0;
    }
    const unsigned char *p = r->p + r->off;
    r->off += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd_u64(struct rd *r)
{
    uint64_t hi = rd_u32(r);
    return hi << 32 | rd_u32(r);
}

static const unsigned char *rd_str(struct rd *r, size_t *n)
{
    *n = rd_u32(r);
    if (r->bad || r->len - r->off < *n) {
        r->bad = 1;
        return NULL;
    }
    r->off += *n;
    return r->p + r->off - *n;
}

static void rd_attrs(struct rd *r)
{
    uint32_t f = rd_u32(r);
    size_t n;
    if (f & 1)
        rd_u64(r);
    if (f & 2)
        rd_u64(r);
    if (f & 4)
        rd_u32(r);
    if (f & 8)
        rd_u64(r);
    if (f & 0x80000000u)
        for (uint32_t i = rd_u32(r); i > 0 && !r->bad; i--) {
            rd_str(r, &n);
            rd_str(r, &n);
        }
}

struct req {
    const unsigned char *p; /* the packet after its length field */
    size_t len;
    uint32_t id;
};

static const char *const std_names[] = {
    "open", "close", "read", "write", "lstat", "fstat", "setstat", "fsetstat", "opendir",
    "readdir", "remove", "mkdir", "rmdir", "realpath", "stat", "rename", "readlink", "symlink",
};
static const char *const ext_names[][2] = {
    {"posix-rename@openssh.com", "posix-rename"}, {"hardlink@openssh.com", "hardlink"},
    {"statvfs@openssh.com", "statvfs"}, {"fstatvfs@openssh.com", "fstatvfs"},
    {"fsync@openssh.com", "fsync"}, {"lsetstat@openssh.com", "lsetstat"},
    {"limits@openssh.com", "limits"}, {"expand-path@openssh.com", "expand-path"},
    {"copy-data", "copy-data"},
};

/* The -Q name of an extended request, or NULL (unknown, or no name). */
static const char *ext_name(const struct req *q)
{
    struct rd r = {.p = q->p, .len = q->len, .off = 5};
    size_t n;
    const unsigned char *s = rd_str(&r, &n);
    for (size_t i = 0; s && i < sizeof ext_names / sizeof ext_names[0]; i++)
        if (n == strlen(ext_names[i][0]) && memcmp(s, ext_names[i][0], n) == 0)
            return ext_names[i][1];
    return NULL;
}

static const char *req_name(const struct req *q)
{
    uint8_t t = q->p[0];
    if (q->len < 5)
        return NULL;
    if (t >= OPEN && t < OPEN + sizeof std_names / sizeof std_names[0])
        return std_names[t - OPEN];
    return t == EXTENDED ? ext_name(q) : NULL;
}

/* The reply types request Q may get besides STATUS (0: none). */
static int reply_allowed(const struct req *q, uint8_t type)
{
    if (type == STATUS)
        return 1;
    const char *ext = q->p[0] == EXTENDED ? ext_name(q) : NULL;
    switch (q->p[0]) {
    case OPEN: case OPENDIR: return type == HANDLE;
    case READ: return type == DATA;
    case LSTAT: case FSTAT: case STAT: return type == ATTRS;
    case READDIR: case REALPATH: case READLINK: return type == NAME;
    case EXTENDED:
        if (ext && strcmp(ext, "expand-path") == 0)
            return type == NAME;
        return ext && (!strcmp(ext, "statvfs") || !strcmp(ext, "fstatvfs") || !strcmp(ext, "limits")) &&
               type == EXT_REPLY;
    default: return 0;
    }
}

/* The requests of the input stream the server must answer, in order. */
static size_t expected_requests(const unsigned char *p, size_t n, struct req *out, size_t max)
{
    size_t k = 0, off = 0;
    while (n - off >= 4 && k < max) {
        uint32_t len = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
                       (uint32_t)p[off + 2] << 8 | p[off + 3];
        if (len == 0 || len > MAX_PACKET || n - off - 4 < len)
            break;
        struct req *q = &out[k++];
        q->p = p + off + 4;
        q->len = len;
        q->id = len >= 5 ? (uint32_t)q->p[1] << 24 | (uint32_t)q->p[2] << 16 |
                               (uint32_t)q->p[3] << 8 | q->p[4]
                         : 0;
        off += 4 + (size_t)len;
    }
    return k;
}

/* ---- checking one reply ---- */

static void check_version(struct rd *r)
{
    size_t n;
    if (rd_u32(r) != 3)
        abort();
    while (!r->bad && r->off < r->len) {
        rd_str(r, &n);
        rd_str(r, &n);
    }
}

static void check_body(const struct req *q, uint8_t type, struct rd *r)
{
    size_t n;
    switch (type) {
    case STATUS:
        if (rd_u32(r) > FX_MAX_CODE)
            abort();
        rd_str(r, &n);
        rd_str(r, &n);
        break;
    case HANDLE:
        if (!rd_str(r, &n) || n != 4)
            abort();
        break;
    case DATA: {
        struct rd qr = {.p = q->p, .len = q->len, .off = 5};
        rd_str(&qr, &n);
        rd_u64(&qr);
        uint32_t asked = rd_u32(&qr);
        if (!rd_str(r, &n) || n == 0 || n > MAX_RW || n > asked)
            abort();
        break;
    }
    case NAME: {
        uint32_t count = rd_u32(r);
        if (count == 0 || count > DIR_BATCH || (q->p[0] != READDIR && count != 1))
            abort();
        for (uint32_t i = 0; i < count && !r->bad; i++) {
            rd_str(r, &n);
            rd_str(r, &n);
            rd_attrs(r);
        }
        break;
    }
    case ATTRS:
        rd_attrs(r);
        break;
    default: /* EXT_REPLY: statvfs (11) or limits (4) numbers */
        if (r->len - r->off != 11 * 8 && r->len - r->off != 4 * 8)
            abort();
        r->off = r->len;
        break;
    }
}

static void check_policy(const struct req *q, const struct sf_sftp_opts *o, uint8_t type,
                         uint32_t code)
{
    const char *name = req_name(q);
    if (name && !sf_sftp_request_permitted(o, name) && (type != STATUS || code != FX_PERMISSION_DENIED))
        abort();
    if (o->read_only && q->p[0] == OPEN && type == HANDLE) {
        struct rd r = {.p = q->p, .len = q->len, .off = 5};
        size_t n;
        rd_str(&r, &n);
        if (rd_u32(&r) & (0x02u | 0x08u | 0x10u)) /* WRITE, CREAT, TRUNC */
            abort();
    }
}

static void check_reply(const struct req *q, const struct sf_sftp_opts *o, const unsigned char *p,
                        size_t len)
{
    struct rd r = {.p = p, .len = len, .off = 1};
    uint8_t type = p[0];
    if (q->p[0] == INIT) {
        if (type != VERSION)
            abort();
        check_version(&r);
    } else {
        if (rd_u32(&r) != q->id || !reply_allowed(q, type))
            abort();
        struct rd c = r;
        uint32_t code = type == STATUS ? rd_u32(&c) : 0;
        check_body(q, type, &r);
        check_policy(q, o, type, code);
    }
    if (r.bad || r.off != r.len)
        abort();
}

/* ---- reading the replies ---- */

struct client {
    const struct req *reqs;
    size_t n_reqs, answered;
    const struct sf_sftp_opts *opts;
    unsigned char *buf;
    size_t len;
};

/* Checks the complete replies at the front of the buffer and drops them. */
static void take_replies(struct client *c)
{
    size_t off = 0;
    while (c->len - off >= 4) {
        const unsigned char *p = c->buf + off;
        uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (len == 0 || len > MAX_MSG || c->answered >= c->n_reqs)
            abort();
        if (c->len - off - 4 < len)
            break;
        check_reply(&c->reqs[c->answered++], c->opts, p + 4, len);
        off += 4 + (size_t)len;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

static void read_replies(int fd, struct client *c)
{
    const size_t cap = 2 * (MAX_MSG + 4);
    for (;;) {
        ssize_t n = read(fd, c->buf + c->len, cap - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            abort();
        if (n == 0)
            break;
        c->len += (size_t)n;
        take_replies(c);
    }
    if (c->len != 0 || c->answered != c->n_reqs)
        abort();
}

static void set_options(unsigned flags, struct sf_sftp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->umask = -1;
    o->read_only = flags & 1;
    if (flags & 2)
        o->deny = "remove,rename,posix-rename,rmdir";
    if (flags & 4)
        o->allow = "open,close,read,readdir,opendir,realpath,stat,lstat,fstat,limits,expand-path";
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int in = -1, handlers;
    static unsigned char *replies;
    static struct req reqs[65536];
    if (!handlers++)
        chain_crash_handlers();
    if (in < 0 && (in = memfd_create("fuzz-sftp-in", MFD_CLOEXEC)) < 0)
        abort();
    if (!replies && !(replies = malloc(2 * (MAX_MSG + 4))))
        abort();
    /* every request takes 5 bytes or more: REQS holds them all */
    if (size < 1 || size - 1 > 5 * (sizeof reqs / sizeof reqs[0]))
        return 0;
    struct session s = {.in = in, .root = tmpfs};
    set_options(data[0], &s.opts);
    if (ftruncate(in, 0) < 0 || pwrite(in, data + 1, size - 1, 0) != (ssize_t)(size - 1) ||
        lseek(in, 0, SEEK_SET) != 0)
        abort();
    struct client c = {.reqs = reqs, .opts = &s.opts, .buf = replies};
    c.n_reqs = expected_requests(data + 1, size - 1, reqs, sizeof reqs / sizeof reqs[0]);

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        abort();
    s.out = pfd[1];
    pthread_t t;
    if (pthread_create(&t, NULL, serve, &s) != 0)
        abort();
    read_replies(pfd[0], &c);
    pthread_join(t, NULL);
    if (!s.confined_ok)
        abort();
    close(pfd[0]);
    return 0;
}
