/* sftp.c — the SFTP subsystem of envinit-sshd: protocol version 3 as
 * OpenSSH's sftp and scp (sftp mode) speak it, plus the @openssh.com
 * extensions those clients use. Independent of libssh: it talks to the
 * client through two file descriptors (the channel's pipes).
 *
 * Runs in a child process that is already the user and whose cwd is the
 * user's home, so relative paths are relative to home and the kernel does
 * every permission check; nothing here needs or has privileges.
 *
 * The one event loop is a blocking read on IN_FD and blocking writes on
 * OUT_FD: a subsystem process serves exactly one client whose requests
 * arrive in order, and the SSH server on the other side of the pipes is
 * itself event driven, so blocking here cannot deadlock it. For throughput
 * input is read in large chunks and every complete packet in the chunk is
 * answered before the replies go out together; WRITE requests are written
 * with pwrite straight from the input buffer, and READ data is spliced from
 * the file to OUT_FD through pipes of our own, never copied through this
 * process (pread into the output buffer when OUT_FD or the file cannot
 * splice).
 *
 * Hostile input: every length is checked against what is left of its packet,
 * packets are at most SFTP_MAX_PACKET bytes (a longer length field ends the
 * session: the stream cannot be resynchronised), paths longer than PATH_MAX
 * or holding a NUL are refused, and at most SFTP_MAX_HANDLES handles exist.
 */
#include "sshfallback.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* ---- protocol constants (draft-ietf-secsh-filexfer-02, OpenSSH PROTOCOL) ---- */
enum {
    FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4, FXP_READ = 5,
    FXP_WRITE = 6, FXP_LSTAT = 7, FXP_FSTAT = 8, FXP_SETSTAT = 9, FXP_FSETSTAT = 10,
    FXP_OPENDIR = 11, FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14,
    FXP_RMDIR = 15, FXP_REALPATH = 16, FXP_STAT = 17, FXP_RENAME = 18,
    FXP_READLINK = 19, FXP_SYMLINK = 20,
    FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104,
    FXP_ATTRS = 105, FXP_EXTENDED = 200, FXP_EXTENDED_REPLY = 201,
};
enum {
    FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3,
    FX_FAILURE = 4, FX_BAD_MESSAGE = 5, FX_OP_UNSUPPORTED = 8,
};
#define ATTR_SIZE 0x00000001u
#define ATTR_UIDGID 0x00000002u
#define ATTR_PERMISSIONS 0x00000004u
#define ATTR_ACMODTIME 0x00000008u
#define ATTR_EXTENDED 0x80000000u
#define FXF_READ 0x01u
#define FXF_WRITE 0x02u
#define FXF_APPEND 0x04u
#define FXF_CREAT 0x08u
#define FXF_TRUNC 0x10u
#define FXF_EXCL 0x20u
#define STATVFS_RDONLY 0x1u
#define STATVFS_NOSUID 0x2u

/* ---- limits ---- */
#define SFTP_VERSION 3u
#define SFTP_MAX_MSG (256u * 1024u)           /* advertised max-packet-length */
#define SFTP_MAX_RW (SFTP_MAX_MSG - 1024u)     /* advertised read/write length */
#define SFTP_MAX_PACKET (SFTP_MAX_MSG + 1024u) /* longest accepted, length field excluded */
#define SFTP_MAX_HANDLES 256u
#define SFTP_IN_CAP (2u * 1024u * 1024u)
#define SFTP_OUT_SLACK (SFTP_MAX_MSG + 4096u)  /* room one reply may need */
/* Replies go out once this much is queued (and whenever the input holds no
 * complete request): small replies share a write, while a large READ reply
 * is passed on at once so the SSH server encrypts it while we read the next. */
#define SFTP_OUT_FLUSH (64u * 1024u)
#define SFTP_OUT_CAP (SFTP_OUT_FLUSH + SFTP_OUT_SLACK)
#define SFTP_DIR_BATCH 100                     /* entries per READDIR reply */
#define SFTP_PIPE_SIZE (1 << 20)

/* ---- request names (OpenSSH's `sftp-server -Q requests`) ---- */
enum req {
    REQ_OPEN, REQ_CLOSE, REQ_READ, REQ_WRITE, REQ_LSTAT, REQ_FSTAT, REQ_SETSTAT,
    REQ_FSETSTAT, REQ_OPENDIR, REQ_READDIR, REQ_REMOVE, REQ_MKDIR, REQ_RMDIR,
    REQ_REALPATH, REQ_STAT, REQ_RENAME, REQ_READLINK, REQ_SYMLINK, REQ_POSIX_RENAME,
    REQ_STATVFS, REQ_FSTATVFS, REQ_HARDLINK, REQ_FSYNC, REQ_LSETSTAT, REQ_LIMITS,
    REQ_EXPAND_PATH, REQ_COPY_DATA, REQ_SERVED,
    /* OpenSSH's, not served here (answered OP_UNSUPPORTED); allowed in -p/-P
     * so that an sftp-server command line works unchanged */
    REQ_HOME_DIRECTORY = REQ_SERVED, REQ_USERS_GROUPS_BY_ID, REQ_KNOWN,
};
static const struct {
    const char *name;
    bool writes; /* refused under -R (OPEN: checked by its flags instead) */
} requests[REQ_KNOWN] = {
    [REQ_OPEN] = {"open", false},         [REQ_CLOSE] = {"close", false},
    [REQ_READ] = {"read", false},         [REQ_WRITE] = {"write", true},
    [REQ_LSTAT] = {"lstat", false},       [REQ_FSTAT] = {"fstat", false},
    [REQ_SETSTAT] = {"setstat", true},    [REQ_FSETSTAT] = {"fsetstat", true},
    [REQ_OPENDIR] = {"opendir", false},   [REQ_READDIR] = {"readdir", false},
    [REQ_REMOVE] = {"remove", true},      [REQ_MKDIR] = {"mkdir", true},
    [REQ_RMDIR] = {"rmdir", true},        [REQ_REALPATH] = {"realpath", false},
    [REQ_STAT] = {"stat", false},         [REQ_RENAME] = {"rename", true},
    [REQ_READLINK] = {"readlink", false}, [REQ_SYMLINK] = {"symlink", true},
    [REQ_POSIX_RENAME] = {"posix-rename", true}, [REQ_STATVFS] = {"statvfs", false},
    [REQ_FSTATVFS] = {"fstatvfs", false}, [REQ_HARDLINK] = {"hardlink", true},
    [REQ_FSYNC] = {"fsync", true},        [REQ_LSETSTAT] = {"lsetstat", true},
    [REQ_LIMITS] = {"limits", false},     [REQ_EXPAND_PATH] = {"expand-path", false},
    [REQ_COPY_DATA] = {"copy-data", true},
    [REQ_HOME_DIRECTORY] = {"home-directory", false},
    [REQ_USERS_GROUPS_BY_ID] = {"users-groups-by-id", false},
};

/* ---- state ---- */
enum handle_kind { H_FREE = 0, H_FILE, H_DIR };
struct handle {
    enum handle_kind kind;
    uint32_t gen;  /* 24 bits, bumped at each reuse, so a stale handle does not match */
    int fd;
    DIR *dir;
};

struct name_cache {
    unsigned id[8];
    char name[8][33];
    int used[8];
    unsigned next;
};

struct sftp {
    int in_fd, out_fd;
    unsigned char *in;
    size_t in_off, in_len;   /* unparsed input is in[in_off .. in_off+in_len) */
    unsigned char *out;
    size_t out_len;
    int io_failed;
    /* READ replies without copies: file pages are spliced into dpipe, the
     * reply is assembled in rpipe (header, then the data), and rpipe goes to
     * OUT_FD in one splice. -1: pread into the output buffer instead. */
    int dpipe[2], rpipe[2];
    struct handle h[SFTP_MAX_HANDLES];
    struct name_cache users, groups;
    int read_only;           /* -R: OPEN refuses writing, creating, truncating */
    uint64_t denied;         /* bit REQ_x: answered PERMISSION_DENIED */
    unsigned char *copy_buf; /* copy-data without copy_file_range; made on first use */
};

/* A reader over one packet's payload; any overrun sets bad and yields zeros. */
struct rd {
    const unsigned char *p;
    size_t len, off;
    int bad;
};

/* ---- input decoding ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void be32_put(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t rd_u32(struct rd *r)
{
    if (r->bad || r->len - r->off < 4) {
        r->bad = 1;
        return 0;
    }
    uint32_t v = be32(r->p + r->off);
    r->off += 4;
    return v;
}

static uint64_t rd_u64(struct rd *r)
{
    uint64_t hi = rd_u32(r);
    return hi << 32 | rd_u32(r);
}

static uint8_t rd_u8(struct rd *r)
{
    if (r->bad || r->len - r->off < 1) {
        r->bad = 1;
        return 0;
    }
    return r->p[r->off++];
}

/* A string in place: *LEN bytes at the returned pointer (NULL when bad). */
static const unsigned char *rd_str(struct rd *r, size_t *len)
{
    size_t n = rd_u32(r);
    if (r->bad || r->len - r->off < n) {
        r->bad = 1;
        *len = 0;
        return NULL;
    }
    const unsigned char *s = r->p + r->off;
    r->off += n;
    *len = n;
    return s;
}

/* A path copied NUL-terminated into BUF[PATH_MAX]: 0, or -1 with bad set
 * (truncated packet) or errno set (ENAMETOOLONG, EINVAL for an inner NUL). */
static int rd_path(struct rd *r, char *buf)
{
    size_t n;
    const unsigned char *s = rd_str(r, &n);
    if (!s)
        return -1;
    if (n >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (memchr(s, 0, n)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    return 0;
}

struct attrs {
    uint32_t flags;
    uint64_t size;
    uint32_t uid, gid, perm, atime, mtime;
};

static void rd_attrs(struct rd *r, struct attrs *a)
{
    memset(a, 0, sizeof *a);
    a->flags = rd_u32(r);
    if (a->flags & ATTR_SIZE)
        a->size = rd_u64(r);
    if (a->flags & ATTR_UIDGID) {
        a->uid = rd_u32(r);
        a->gid = rd_u32(r);
    }
    if (a->flags & ATTR_PERMISSIONS)
        a->perm = rd_u32(r);
    if (a->flags & ATTR_ACMODTIME) {
        a->atime = rd_u32(r);
        a->mtime = rd_u32(r);
    }
    if (a->flags & ATTR_EXTENDED) {
        uint32_t n = rd_u32(r);
        size_t len;
        /* Each pair takes at least 8 bytes, so a huge count ends at the packet end. */
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            rd_str(r, &len);
            rd_str(r, &len);
        }
    }
}

/* ---- output encoding: replies are built in place in s->out ---- */

static int out_flush(struct sftp *s)
{
    size_t done = 0;
    while (done < s->out_len && !s->io_failed) {
        ssize_t n = write(s->out_fd, s->out + done, s->out_len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            /* A non-blocking descriptor from the caller: wait for room. */
            struct pollfd p = {.fd = s->out_fd, .events = POLLOUT};
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                s->io_failed = 1;
        } else if (n == 0 || errno != EINTR) {
            s->io_failed = 1;
        }
    }
    s->out_len = 0;
    return s->io_failed ? -1 : 0;
}

static void put_u8(struct sftp *s, uint8_t v)
{
    s->out[s->out_len++] = v;
}

static void put_u32(struct sftp *s, uint32_t v)
{
    be32_put(s->out + s->out_len, v);
    s->out_len += 4;
}

static void put_u64(struct sftp *s, uint64_t v)
{
    put_u32(s, (uint32_t)(v >> 32));
    put_u32(s, (uint32_t)v);
}

static void put_bytes(struct sftp *s, const void *p, size_t n)
{
    put_u32(s, (uint32_t)n);
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
}

static void put_cstr(struct sftp *s, const char *str)
{
    put_bytes(s, str, strlen(str));
}

/* Starts a reply: makes room for SFTP_OUT_SLACK bytes, writes a length
 * placeholder and the type; returns the reply's offset for reply_end. Every
 * reply fits in SFTP_OUT_SLACK by construction (reads are clamped to
 * SFTP_MAX_RW, paths to PATH_MAX, a READDIR batch to SFTP_DIR_BATCH names). */
static size_t reply_begin(struct sftp *s, uint8_t type)
{
    if (SFTP_OUT_CAP - s->out_len < SFTP_OUT_SLACK)
        out_flush(s);
    size_t at = s->out_len;
    s->out_len += 4;
    put_u8(s, type);
    return at;
}

static void reply_end(struct sftp *s, size_t at)
{
    uint32_t n = (uint32_t)(s->out_len - at - 4);
    be32_put(s->out + at, n);
}

static void send_status(struct sftp *s, uint32_t id, uint32_t code, const char *msg)
{
    size_t at = reply_begin(s, FXP_STATUS);
    put_u32(s, id);
    put_u32(s, code);
    put_cstr(s, msg);
    put_cstr(s, "en");
    reply_end(s, at);
}

static uint32_t errno_to_fx(int e)
{
    switch (e) {
    case 0:
        return FX_OK;
    case ENOENT:
    case ENOTDIR:
    case EBADF:
    case ELOOP:
        return FX_NO_SUCH_FILE;
    case EPERM:
    case EACCES:
    case EFAULT:
        return FX_PERMISSION_DENIED;
    case ENAMETOOLONG:
    case EINVAL:
        return FX_BAD_MESSAGE;
    case ENOSYS:
    case EOPNOTSUPP:
        return FX_OP_UNSUPPORTED;
    default:
        return FX_FAILURE;
    }
}

/* The status for an operation's result: OK when RC >= 0, else from errno. */
static void send_result(struct sftp *s, uint32_t id, int rc)
{
    if (rc >= 0)
        send_status(s, id, FX_OK, "Success");
    else
        send_status(s, id, errno_to_fx(errno), strerror(errno));
}

static void send_bad(struct sftp *s, uint32_t id)
{
    send_status(s, id, FX_BAD_MESSAGE, "Malformed request");
}

static void put_attrs(struct sftp *s, const struct stat *st)
{
    put_u32(s, ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME);
    put_u64(s, (uint64_t)st->st_size);
    put_u32(s, (uint32_t)st->st_uid);
    put_u32(s, (uint32_t)st->st_gid);
    put_u32(s, (uint32_t)st->st_mode);
    put_u32(s, (uint32_t)st->st_atime);
    put_u32(s, (uint32_t)st->st_mtime);
}

static void send_attrs(struct sftp *s, uint32_t id, const struct stat *st)
{
    size_t at = reply_begin(s, FXP_ATTRS);
    put_u32(s, id);
    put_attrs(s, st);
    reply_end(s, at);
}

/* A NAME reply with one entry and no attributes (realpath, readlink). */
static void send_one_name(struct sftp *s, uint32_t id, const char *name)
{
    size_t at = reply_begin(s, FXP_NAME);
    put_u32(s, id);
    put_u32(s, 1);
    put_cstr(s, name);
    put_cstr(s, name);
    put_u32(s, 0);
    reply_end(s, at);
}

/* ---- handles ---- */

static uint32_t handle_new(struct sftp *s, enum handle_kind kind, int fd, DIR *dir)
{
    for (uint32_t i = 0; i < SFTP_MAX_HANDLES; i++) {
        struct handle *h = &s->h[i];
        if (h->kind != H_FREE)
            continue;
        h->kind = kind;
        h->fd = fd;
        h->dir = dir;
        h->gen = (h->gen + 1) & 0xffffffu;
        return h->gen << 8 | i;
    }
    return UINT32_MAX;
}

static void send_handle(struct sftp *s, uint32_t id, uint32_t handle)
{
    size_t at = reply_begin(s, FXP_HANDLE);
    put_u32(s, id);
    put_u32(s, 4);
    put_u32(s, handle);
    reply_end(s, at);
}

/* The handle a request names, when it is open and of KIND (H_FREE: any). */
static struct handle *rd_handle(struct sftp *s, struct rd *r, enum handle_kind kind)
{
    size_t n;
    const unsigned char *p = rd_str(r, &n);
    if (!p || n != 4)
        return NULL;
    uint32_t v = be32(p);
    struct handle *h = &s->h[v & 0xffu];
    if (h->kind == H_FREE || h->gen != v >> 8 || (kind != H_FREE && h->kind != kind))
        return NULL;
    return h;
}

static int handle_close(struct handle *h)
{
    int rc = h->kind == H_DIR ? closedir(h->dir) : close(h->fd);
    h->kind = H_FREE;
    h->dir = NULL;
    h->fd = -1;
    return rc;
}

static void send_denied(struct sftp *s, uint32_t id)
{
    send_status(s, id, FX_PERMISSION_DENIED, "Permission denied");
}

static void send_bad_handle(struct sftp *s, uint32_t id)
{
    send_status(s, id, FX_FAILURE, "Invalid handle");
}

/* ---- requests ---- */

/* After a request's fields are read: true, with BAD_MESSAGE sent, when
 * they did not parse. */
static bool malformed(struct sftp *s, uint32_t id, const struct rd *r)
{
    if (r->bad)
        send_bad(s, id);
    return r->bad;
}

/* The same, and an invalid-handle status when the request names no open
 * handle (H NULL). True when the request has been answered that way. */
static bool refused(struct sftp *s, uint32_t id, const struct rd *r, const struct handle *h)
{
    if (malformed(s, id, r))
        return true;
    if (!h) {
        send_bad_handle(s, id);
        return true;
    }
    return false;
}

static void do_init(struct sftp *s, struct rd *r)
{
    (void)r; /* the client's version and extensions change nothing for us */
    static const char *const ext[][2] = {
        {"posix-rename@openssh.com", "1"}, {"statvfs@openssh.com", "2"},
        {"fstatvfs@openssh.com", "2"},     {"hardlink@openssh.com", "1"},
        {"fsync@openssh.com", "1"},        {"lsetstat@openssh.com", "1"},
        {"limits@openssh.com", "1"},       {"expand-path@openssh.com", "1"},
        {"copy-data", "1"},
    };
    size_t at = reply_begin(s, FXP_VERSION);
    put_u32(s, SFTP_VERSION);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        put_cstr(s, ext[i][0]);
        put_cstr(s, ext[i][1]);
    }
    reply_end(s, at);
}

static int open_flags(uint32_t pflags)
{
    int fl;
    if ((pflags & FXF_READ) && (pflags & FXF_WRITE))
        fl = O_RDWR;
    else if (pflags & FXF_WRITE)
        fl = O_WRONLY;
    else
        fl = O_RDONLY;
    if (pflags & FXF_APPEND)
        fl |= O_APPEND;
    if (pflags & FXF_CREAT)
        fl |= O_CREAT;
    if (pflags & FXF_TRUNC)
        fl |= O_TRUNC;
    if (pflags & FXF_EXCL)
        fl |= O_EXCL;
    return fl | O_CLOEXEC | O_NOCTTY;
}

static void do_open(struct sftp *s, uint32_t id, struct rd *r)
{
    char path[PATH_MAX];
    struct attrs a;
    int prc = rd_path(r, path);
    uint32_t pflags = rd_u32(r);
    rd_attrs(r, &a);
    if (malformed(s, id, r))
        return;
    if (prc < 0) {
        send_result(s, id, -1);
        return;
    }
    int fl = open_flags(pflags);
    if (s->read_only && ((fl & O_ACCMODE) != O_RDONLY || (fl & (O_CREAT | O_TRUNC)))) {
        send_denied(s, id);
        return;
    }
    mode_t mode = (a.flags & ATTR_PERMISSIONS) ? (mode_t)(a.perm & 07777) : 0666;
    int fd = open(path, fl, mode);
    if (fd < 0) {
        send_result(s, id, -1);
        return;
    }
    uint32_t h = handle_new(s, H_FILE, fd, NULL);
    if (h == UINT32_MAX) {
        close(fd);
        send_status(s, id, FX_FAILURE, "Too many open handles");
        return;
    }
    send_handle(s, id, h);
}

static void do_opendir(struct sftp *s, uint32_t id, struct rd *r)
{
    char path[PATH_MAX];
    int prc = rd_path(r, path);
    if (malformed(s, id, r))
        return;
    if (prc < 0) {
        send_result(s, id, -1);
        return;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        send_result(s, id, -1);
        return;
    }
    uint32_t h = handle_new(s, H_DIR, fd, d);
    if (h == UINT32_MAX) {
        closedir(d);
        send_status(s, id, FX_FAILURE, "Too many open handles");
        return;
    }
    send_handle(s, id, h);
}

static void do_close(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_FREE);
    if (refused(s, id, r, h))
        return;
    send_result(s, id, handle_close(h));
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    p[0] = p[1] = -1;
}

/* Moves N bytes of an assembled reply from rpipe to OUT_FD. Should OUT_FD
 * refuse splice, the rest is copied and splicing stops for the session. */
static void rpipe_drain(struct sftp *s, size_t n)
{
    while (n > 0 && !s->io_failed) {
        ssize_t m = splice(s->rpipe[0], NULL, s->out_fd, NULL, n, SPLICE_F_MOVE);
        if (m > 0) {
            n -= (size_t)m;
        } else if (m < 0 && errno == EINTR) {
            continue;
        } else if (m < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = s->out_fd, .events = POLLOUT};
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                s->io_failed = 1;
        } else if (m < 0 && errno == EINVAL) {
            ssize_t k = read(s->rpipe[0], s->out, n < SFTP_OUT_CAP ? n : SFTP_OUT_CAP);
            if (k <= 0) {
                s->io_failed = 1;
                break;
            }
            s->out_len = (size_t)k;
            n -= (size_t)k;
            out_flush(s);
            if (n == 0) {
                close_pair(s->dpipe);
                close_pair(s->rpipe);
            }
        } else {
            s->io_failed = 1;
        }
    }
}

/* Moves N bytes from dpipe to rpipe; both are ours and rpipe has room. */
static int dpipe_to_rpipe(struct sftp *s, size_t n)
{
    while (n > 0) {
        ssize_t m = splice(s->dpipe[0], NULL, s->rpipe[1], NULL, n, SPLICE_F_MOVE);
        if (m < 0 && errno == EINTR)
            continue;
        if (m <= 0)
            return -1;
        n -= (size_t)m;
    }
    return 0;
}

/* A READ reply whose data never passes through this process. The file is
 * spliced first, so the reply's length is known exactly; the whole reply
 * then reaches OUT_FD at once, so the SSH server never sees a header alone
 * (which would cost it a tiny channel packet). 0 when the file cannot be
 * spliced: the caller falls back to pread. */
static int read_spliced(struct sftp *s, uint32_t id, int fd, uint64_t off, uint32_t len)
{
    if (s->dpipe[1] < 0)
        return 0;
    loff_t o = (loff_t)off;
    ssize_t n;
    do
        n = splice(fd, &o, s->dpipe[1], NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return 0; /* not spliceable, or a read error that pread will report */
    if (n == 0) {
        send_status(s, id, FX_EOF, "End of file");
        return 1;
    }
    unsigned char hdr[13];
    be32_put(hdr, 9 + (uint32_t)n);
    be32_put(hdr + 5, id);
    be32_put(hdr + 9, (uint32_t)n);
    hdr[4] = FXP_DATA;
    if (write(s->rpipe[1], hdr, sizeof hdr) != (ssize_t)sizeof hdr ||
        dpipe_to_rpipe(s, (size_t)n) < 0) {
        /* cannot happen with empty pipes of SFTP_PIPE_SIZE; fail loudly */
        dprintf(2, SF_NAME ": sftp: assembling a READ reply: %s; ending the session\n",
                strerror(errno));
        s->io_failed = 1;
        return 1;
    }
    out_flush(s); /* replies queued before this one go first */
    rpipe_drain(s, sizeof hdr + (size_t)n);
    return 1;
}

static void do_read(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_FILE);
    uint64_t off = rd_u64(r);
    uint32_t len = rd_u32(r);
    if (refused(s, id, r, h))
        return;
    if (off > (uint64_t)INT64_MAX) {
        errno = EINVAL;
        send_result(s, id, -1);
        return;
    }
    if (len > SFTP_MAX_RW)
        len = SFTP_MAX_RW;
    if (len > 0 && read_spliced(s, id, h->fd, off, len))
        return;
    /* The data goes straight into the reply: header first, length patched after. */
    size_t at = reply_begin(s, FXP_DATA);
    put_u32(s, id);
    size_t len_at = s->out_len;
    s->out_len += 4;
    ssize_t n;
    do
        n = pread(h->fd, s->out + s->out_len, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        int e = errno;
        s->out_len = at; /* drop the half-built DATA reply */
        if (n == 0 && len > 0) {
            send_status(s, id, FX_EOF, "End of file");
            return;
        }
        errno = n == 0 ? EINVAL : e;
        send_result(s, id, -1);
        return;
    }
    s->out_len += (size_t)n;
    be32_put(s->out + len_at, (uint32_t)n);
    reply_end(s, at);
}

static int write_all(int fd, const unsigned char *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void do_write(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_FILE);
    uint64_t off = rd_u64(r);
    size_t n;
    const unsigned char *data = rd_str(r, &n);
    if (refused(s, id, r, h))
        return;
    if (off > (uint64_t)INT64_MAX - n) {
        errno = EFBIG;
        send_result(s, id, -1);
        return;
    }
    send_result(s, id, write_all(h->fd, data, n, off));
}

static void do_stat(struct sftp *s, uint32_t id, struct rd *r, int follow)
{
    char path[PATH_MAX];
    struct stat st;
    int prc = rd_path(r, path);
    if (malformed(s, id, r))
        return;
    if (prc < 0 || (follow ? stat(path, &st) : lstat(path, &st)) < 0) {
        send_result(s, id, -1);
        return;
    }
    send_attrs(s, id, &st);
}

static void do_fstat(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_FREE);
    struct stat st;
    if (refused(s, id, r, h))
        return;
    if (fstat(h->fd, &st) < 0) {
        send_result(s, id, -1);
        return;
    }
    send_attrs(s, id, &st);
}

/* Applies A in OpenSSH's order (size, mode, times, owner) to PATH, or to FD
 * when PATH is NULL (NOFOLLOW: to the link itself, as lsetstat wants). */
static int apply_attrs(int fd, const char *path, const struct attrs *a, int nofollow)
{
    int atflag = nofollow ? AT_SYMLINK_NOFOLLOW : 0;
    if (a->flags & ATTR_SIZE) {
        if (a->size > (uint64_t)INT64_MAX) {
            errno = EINVAL;
            return -1;
        }
        if (nofollow) {
            errno = EOPNOTSUPP;
            return -1;
        }
        if ((path ? truncate(path, (off_t)a->size) : ftruncate(fd, (off_t)a->size)) < 0)
            return -1;
    }
    if (a->flags & ATTR_PERMISSIONS) {
        mode_t m = (mode_t)(a->perm & 07777);
        if ((path ? fchmodat(AT_FDCWD, path, m, atflag) : fchmod(fd, m)) < 0)
            return -1;
    }
    if (a->flags & ATTR_ACMODTIME) {
        struct timespec ts[2] = {{.tv_sec = (time_t)a->atime}, {.tv_sec = (time_t)a->mtime}};
        if ((path ? utimensat(AT_FDCWD, path, ts, atflag) : futimens(fd, ts)) < 0)
            return -1;
    }
    if (a->flags & ATTR_UIDGID) {
        uid_t u = (uid_t)a->uid;
        gid_t g = (gid_t)a->gid;
        if ((path ? fchownat(AT_FDCWD, path, u, g, atflag) : fchown(fd, u, g)) < 0)
            return -1;
    }
    return 0;
}

static void do_setstat(struct sftp *s, uint32_t id, struct rd *r, int nofollow)
{
    char path[PATH_MAX];
    struct attrs a;
    int prc = rd_path(r, path);
    rd_attrs(r, &a);
    if (malformed(s, id, r))
        return;
    send_result(s, id, prc < 0 ? -1 : apply_attrs(-1, path, &a, nofollow));
}

static void do_fsetstat(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_FREE);
    struct attrs a;
    rd_attrs(r, &a);
    if (refused(s, id, r, h))
        return;
    send_result(s, id, apply_attrs(h->fd, NULL, &a, 0));
}

/* ---- directory listings ---- */

static const char *cached_name(struct name_cache *c, unsigned id, int is_group)
{
    for (unsigned i = 0; i < 8; i++)
        if (c->used[i] && c->id[i] == id)
            return c->name[i];
    unsigned i = c->next++ % 8;
    const char *name = NULL;
    if (is_group) {
        const struct group *g = getgrgid((gid_t)id);
        name = g ? g->gr_name : NULL;
    } else {
        const struct passwd *p = getpwuid((uid_t)id);
        name = p ? p->pw_name : NULL;
    }
    if (name && strlen(name) < sizeof c->name[i])
        snprintf(c->name[i], sizeof c->name[i], "%s", name);
    else
        snprintf(c->name[i], sizeof c->name[i], "%u", id);
    c->id[i] = id;
    c->used[i] = 1;
    return c->name[i];
}

static void mode_string(mode_t m, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    char t = '?';
    switch (m & S_IFMT) {
    case S_IFREG: t = '-'; break;
    case S_IFDIR: t = 'd'; break;
    case S_IFLNK: t = 'l'; break;
    case S_IFCHR: t = 'c'; break;
    case S_IFBLK: t = 'b'; break;
    case S_IFIFO: t = 'p'; break;
    case S_IFSOCK: t = 's'; break;
    default: break;
    }
    out[0] = t;
    for (int i = 0; i < 9; i++)
        out[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & S_ISUID)
        out[3] = (m & S_IXUSR) ? 's' : 'S';
    if (m & S_ISGID)
        out[6] = (m & S_IXGRP) ? 's' : 'S';
    if (m & S_ISVTX)
        out[9] = (m & S_IXOTH) ? 't' : 'T';
    out[10] = 0;
}

/* The `ls -l` line OpenSSH's sftp prints for `ls -l`: mode, links, owner,
 * group, size, date (time of day when within six months), name. */
static void long_name(struct sftp *s, const struct stat *st, const char *name, time_t now,
                      char *buf, size_t size)
{
    char mode[11], when[32];
    struct tm tm;
    mode_string(st->st_mode, mode);
    int recent = st->st_mtime > now - 182 * 86400 && st->st_mtime <= now + 3600;
    size_t w = 0;
    if (localtime_r(&st->st_mtime, &tm))
        w = recent ? strftime(when, sizeof when, "%b %e %H:%M", &tm)
                   : strftime(when, sizeof when, "%b %e  %Y", &tm);
    if (w == 0)
        snprintf(when, sizeof when, "%lld", (long long)st->st_mtime);
    snprintf(buf, size, "%s %3lu %-8s %-8s %8lld %s %s", mode, (unsigned long)st->st_nlink,
             cached_name(&s->users, (unsigned)st->st_uid, 0),
             cached_name(&s->groups, (unsigned)st->st_gid, 1), (long long)st->st_size, when,
             name);
}

static void do_readdir(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_DIR);
    if (refused(s, id, r, h))
        return;
    size_t at = reply_begin(s, FXP_NAME);
    put_u32(s, id);
    size_t count_at = s->out_len;
    s->out_len += 4;
    uint32_t count = 0;
    time_t now = time(NULL);
    char line[NAME_MAX + 256];
    int err = 0;
    while (count < SFTP_DIR_BATCH) {
        errno = 0;
        const struct dirent *e = readdir(h->dir);
        if (!e) {
            err = errno;
            break;
        }
        struct stat st;
        if (fstatat(dirfd(h->dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* vanished since readdir: leave it out */
        long_name(s, &st, e->d_name, now, line, sizeof line);
        put_cstr(s, e->d_name);
        put_cstr(s, line);
        put_attrs(s, &st);
        count++;
    }
    if (count == 0) {
        s->out_len = at;
        if (err) {
            send_status(s, id, errno_to_fx(err), strerror(err));
            return;
        }
        send_status(s, id, FX_EOF, "End of directory");
        return;
    }
    be32_put(s->out + count_at, count);
    reply_end(s, at);
}

/* ---- names ---- */

/* Like realpath(3), but a missing last component is allowed (OpenSSH's
 * clients resolve a destination before creating it); "" means ".". */
static int canonical(const char *path, char *out)
{
    if (!path[0])
        path = ".";
    if (realpath(path, out))
        return 0;
    if (errno != ENOENT)
        return -1;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        dir[--n] = 0;
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    char resolved[PATH_MAX];
    if (slash == dir)
        snprintf(resolved, sizeof resolved, "/");
    else if (slash) {
        *slash = 0;
        if (!realpath(dir, resolved))
            return -1;
    } else if (!realpath(".", resolved))
        return -1;
    if (!strcmp(base, ".") || !strcmp(base, "..") || !base[0]) {
        errno = ENOENT;
        return -1;
    }
    int w = snprintf(out, PATH_MAX, "%s%s%s", resolved,
                     strcmp(resolved, "/") ? "/" : "", base);
    if (w < 0 || w >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static void do_realpath(struct sftp *s, uint32_t id, struct rd *r)
{
    char path[PATH_MAX], out[PATH_MAX];
    int prc = rd_path(r, path);
    if (malformed(s, id, r))
        return;
    if (prc < 0 || canonical(path, out) < 0) {
        send_result(s, id, -1);
        return;
    }
    send_one_name(s, id, out);
}

/* expand-path@openssh.com: "~" and "~/x" are home (our cwd), "~user/x" that
 * user's home; then canonical(). */
static void do_expand_path(struct sftp *s, uint32_t id, struct rd *r)
{
    char path[PATH_MAX], tmp[PATH_MAX], out[PATH_MAX];
    int prc = rd_path(r, path);
    if (malformed(s, id, r))
        return;
    if (prc < 0) {
        send_result(s, id, -1);
        return;
    }
    const char *p = path;
    if (path[0] == '~') {
        const char *rest = strchr(path, '/');
        size_t ulen = rest ? (size_t)(rest - path - 1) : strlen(path + 1);
        rest = rest ? rest + 1 : "";
        if (ulen == 0) {
            p = rest;
        } else {
            char user[256];
            if (ulen >= sizeof user) {
                errno = ENOENT;
                send_result(s, id, -1);
                return;
            }
            memcpy(user, path + 1, ulen);
            user[ulen] = 0;
            const struct passwd *pw = getpwnam(user);
            if (!pw) {
                send_status(s, id, FX_NO_SUCH_FILE, "No such user");
                return;
            }
            int w = snprintf(tmp, sizeof tmp, "%s/%s", pw->pw_dir, rest);
            if (w < 0 || w >= (int)sizeof tmp) {
                errno = ENAMETOOLONG;
                send_result(s, id, -1);
                return;
            }
            p = tmp;
        }
    }
    if (canonical(p, out) < 0) {
        send_result(s, id, -1);
        return;
    }
    send_one_name(s, id, out);
}

static void do_readlink(struct sftp *s, uint32_t id, struct rd *r)
{
    char path[PATH_MAX], target[PATH_MAX];
    int prc = rd_path(r, path);
    if (malformed(s, id, r))
        return;
    ssize_t n = prc < 0 ? -1 : readlink(path, target, sizeof target - 1);
    if (n < 0) {
        send_result(s, id, -1);
        return;
    }
    target[n] = 0;
    send_one_name(s, id, target);
}

/* Requests that take one path and make one call. */
static void do_path_op(struct sftp *s, uint32_t id, struct rd *r, uint8_t type)
{
    char path[PATH_MAX];
    struct attrs a = {0};
    int prc = rd_path(r, path);
    if (type == FXP_MKDIR)
        rd_attrs(r, &a);
    if (malformed(s, id, r))
        return;
    if (prc < 0) {
        send_result(s, id, -1);
        return;
    }
    int rc;
    if (type == FXP_MKDIR)
        rc = mkdir(path, (a.flags & ATTR_PERMISSIONS) ? (mode_t)(a.perm & 07777) : 0777);
    else if (type == FXP_RMDIR)
        rc = rmdir(path);
    else
        rc = unlink(path);
    send_result(s, id, rc);
}

/* Plain SSH_FXP_RENAME must not replace an existing target (draft 02). */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* No RENAME_NOREPLACE on this file system: link + unlink for files. */
    struct stat st;
    if (lstat(from, &st) < 0)
        return -1;
    if (S_ISREG(st.st_mode)) {
        if (link(from, to) < 0)
            return -1;
        return unlink(from);
    }
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

enum two_path_op { OP_RENAME, OP_POSIX_RENAME, OP_SYMLINK, OP_HARDLINK };

static void do_two_paths(struct sftp *s, uint32_t id, struct rd *r, enum two_path_op op)
{
    char a[PATH_MAX], b[PATH_MAX];
    int prc = rd_path(r, a);
    if (prc == 0)
        prc = rd_path(r, b);
    else {
        size_t n;
        rd_str(r, &n);
    }
    if (malformed(s, id, r))
        return;
    if (prc < 0) {
        send_result(s, id, -1);
        return;
    }
    int rc;
    switch (op) {
    case OP_RENAME:
        rc = rename_noreplace(a, b);
        break;
    case OP_POSIX_RENAME:
        rc = rename(a, b);
        break;
    case OP_SYMLINK:
        /* OpenSSH sends the target first and the link second, the reverse
         * of the draft; every client in use follows OpenSSH. */
        rc = symlink(a, b);
        break;
    default:
        rc = link(a, b);
        break;
    }
    send_result(s, id, rc);
}

/* ---- extensions ---- */

static void send_statvfs(struct sftp *s, uint32_t id, const struct statvfs *v)
{
    size_t at = reply_begin(s, FXP_EXTENDED_REPLY);
    put_u32(s, id);
    put_u64(s, v->f_bsize);
    put_u64(s, v->f_frsize);
    put_u64(s, v->f_blocks);
    put_u64(s, v->f_bfree);
    put_u64(s, v->f_bavail);
    put_u64(s, v->f_files);
    put_u64(s, v->f_ffree);
    put_u64(s, v->f_favail);
    put_u64(s, v->f_fsid);
    put_u64(s, ((v->f_flag & ST_RDONLY) ? STATVFS_RDONLY : 0) |
                   ((v->f_flag & ST_NOSUID) ? STATVFS_NOSUID : 0));
    put_u64(s, v->f_namemax);
    reply_end(s, at);
}

static void do_statvfs(struct sftp *s, uint32_t id, struct rd *r)
{
    char path[PATH_MAX];
    struct statvfs v;
    int prc = rd_path(r, path);
    if (malformed(s, id, r))
        return;
    if (prc < 0 || statvfs(path, &v) < 0) {
        send_result(s, id, -1);
        return;
    }
    send_statvfs(s, id, &v);
}

static void do_fstatvfs(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_FREE);
    struct statvfs v;
    if (refused(s, id, r, h))
        return;
    if (fstatvfs(h->fd, &v) < 0) {
        send_result(s, id, -1);
        return;
    }
    send_statvfs(s, id, &v);
}

static void do_fsync(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *h = rd_handle(s, r, H_FILE);
    if (refused(s, id, r, h))
        return;
    send_result(s, id, fsync(h->fd));
}

/* One step of copy-data: up to N bytes from IN at *RO to OUT at *WO (the
 * end, for an O_APPEND handle). The bytes, 0 at the end of IN, or -1. */
static ssize_t copy_step(struct sftp *s, int in, uint64_t *ro, int out, uint64_t *wo, size_t n,
                         bool append)
{
    if (!append) {
        /* In the kernel: no copy through us, and a reflink where the file system has them. */
        loff_t i = (loff_t)*ro, o = (loff_t)*wo;
        ssize_t m;
        do
            m = copy_file_range(in, &i, out, &o, n, 0);
        while (m < 0 && errno == EINTR);
        if (m >= 0) {
            *ro += (uint64_t)m;
            *wo += (uint64_t)m;
            return m;
        }
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return -1;
    }
    if (!s->copy_buf && !(s->copy_buf = malloc(SFTP_MAX_RW)))
        return -1;
    if (n > SFTP_MAX_RW)
        n = SFTP_MAX_RW;
    ssize_t m;
    do
        m = pread(in, s->copy_buf, n, (off_t)*ro);
    while (m < 0 && errno == EINTR);
    if (m <= 0)
        return m;
    if (write_all(out, s->copy_buf, (size_t)m, *wo) < 0)
        return -1;
    *ro += (uint64_t)m;
    *wo += (uint64_t)m;
    return m;
}

/* copy-data (OpenSSH's PROTOCOL): LENGTH bytes (0: up to the end) from
 * READ-HANDLE at an offset to WRITE-HANDLE at an offset, in the server.
 * One handle for both, or ranges of one file that overlap, are refused as
 * FAILURE, as OpenSSH's sftp-server does: the result would depend on the
 * order of the copying. */
static void do_copy_data(struct sftp *s, uint32_t id, struct rd *r)
{
    struct handle *from = rd_handle(s, r, H_FILE);
    uint64_t ro = rd_u64(r), len = rd_u64(r);
    struct handle *to = rd_handle(s, r, H_FILE);
    uint64_t wo = rd_u64(r);
    if (malformed(s, id, r))
        return;
    if (!from || !to) {
        send_bad_handle(s, id);
        return;
    }
    if (from == to) {
        send_status(s, id, FX_FAILURE, "Cannot copy within one handle");
        return;
    }
    int rfl = fcntl(from->fd, F_GETFL), wfl = fcntl(to->fd, F_GETFL);
    if (rfl < 0 || wfl < 0) {
        send_result(s, id, -1);
        return;
    }
    if ((rfl & O_ACCMODE) == O_WRONLY || (wfl & O_ACCMODE) == O_RDONLY) {
        send_status(s, id, FX_PERMISSION_DENIED,
                    (rfl & O_ACCMODE) == O_WRONLY ? "Read handle is not open for reading"
                                                  : "Write handle is not open for writing");
        return;
    }
    if (ro > (uint64_t)INT64_MAX || wo > (uint64_t)INT64_MAX) {
        errno = EINVAL;
        send_result(s, id, -1);
        return;
    }
    bool to_eof = len == 0, append = (wfl & O_APPEND) != 0;
    if (to_eof || len > (uint64_t)INT64_MAX - ro)
        len = (uint64_t)INT64_MAX - ro; /* the end of the file comes first */
    struct stat a, b;
    if (fstat(from->fd, &a) < 0 || fstat(to->fd, &b) < 0) {
        send_result(s, id, -1);
        return;
    }
    /* Appending to the file being read: the write range is its end, which moves. */
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
        (append || (ro < wo ? wo - ro < len : ro - wo < len))) {
        send_status(s, id, FX_FAILURE, "Overlapping copy within one file");
        return;
    }
    while (len > 0) {
        if (!append && wo > (uint64_t)INT64_MAX - 1) {
            errno = EFBIG;
            send_result(s, id, -1);
            return;
        }
        uint64_t room = append ? len : (uint64_t)INT64_MAX - wo;
        uint64_t step = len < room ? len : room;
        if (step > (1u << 30))
            step = 1u << 30;
        ssize_t m = copy_step(s, from->fd, &ro, to->fd, &wo, (size_t)step, append);
        if (m < 0) {
            send_result(s, id, -1);
            return;
        }
        if (m == 0) {
            if (to_eof)
                break;
            send_status(s, id, FX_EOF, "End of file");
            return;
        }
        len -= (uint64_t)m;
    }
    send_status(s, id, FX_OK, "Success");
}

static void do_limits(struct sftp *s, uint32_t id)
{
    size_t at = reply_begin(s, FXP_EXTENDED_REPLY);
    put_u32(s, id);
    put_u64(s, SFTP_MAX_MSG);
    put_u64(s, SFTP_MAX_RW);
    put_u64(s, SFTP_MAX_RW);
    put_u64(s, SFTP_MAX_HANDLES);
    reply_end(s, at);
}

static int ext_is(const unsigned char *name, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(name, want, n) == 0;
}

/* Extended requests by wire name, and their names in -p/-P. */
static const struct {
    const char *wire;
    enum req req;
} extensions[] = {
    {"posix-rename@openssh.com", REQ_POSIX_RENAME}, {"hardlink@openssh.com", REQ_HARDLINK},
    {"statvfs@openssh.com", REQ_STATVFS},           {"fstatvfs@openssh.com", REQ_FSTATVFS},
    {"fsync@openssh.com", REQ_FSYNC},               {"lsetstat@openssh.com", REQ_LSETSTAT},
    {"limits@openssh.com", REQ_LIMITS},             {"expand-path@openssh.com", REQ_EXPAND_PATH},
    {"copy-data", REQ_COPY_DATA},
};

static void do_extended(struct sftp *s, uint32_t id, struct rd *r)
{
    size_t n;
    const unsigned char *name = rd_str(r, &n);
    if (malformed(s, id, r))
        return;
    int req = -1;
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0] && req < 0; i++)
        if (ext_is(name, n, extensions[i].wire))
            req = (int)extensions[i].req;
    if (req < 0) {
        send_status(s, id, FX_OP_UNSUPPORTED, "Unsupported extension");
        return;
    }
    if (s->denied & UINT64_C(1) << req) {
        send_denied(s, id);
        return;
    }
    switch (req) {
    case REQ_POSIX_RENAME: do_two_paths(s, id, r, OP_POSIX_RENAME); break;
    case REQ_HARDLINK: do_two_paths(s, id, r, OP_HARDLINK); break;
    case REQ_STATVFS: do_statvfs(s, id, r); break;
    case REQ_FSTATVFS: do_fstatvfs(s, id, r); break;
    case REQ_FSYNC: do_fsync(s, id, r); break;
    case REQ_LSETSTAT: do_setstat(s, id, r, 1); break;
    case REQ_LIMITS: do_limits(s, id); break;
    case REQ_EXPAND_PATH: do_expand_path(s, id, r); break;
    default: do_copy_data(s, id, r); break;
    }
}

/* ---- dispatch ---- */

static void handle_packet(struct sftp *s, const unsigned char *p, size_t len)
{
    struct rd r = {.p = p, .len = len};
    uint8_t type = rd_u8(&r);
    if (type == FXP_INIT) {
        do_init(s, &r);
        return;
    }
    uint32_t id = rd_u32(&r);
    if (r.bad) {
        send_bad(s, 0);
        return;
    }
    /* FXP_OPEN .. FXP_SYMLINK are REQ_OPEN .. REQ_SYMLINK, in order */
    if (type >= FXP_OPEN && type <= FXP_SYMLINK && (s->denied & UINT64_C(1) << (type - FXP_OPEN))) {
        send_denied(s, id);
        return;
    }
    switch (type) {
    case FXP_OPEN: do_open(s, id, &r); break;
    case FXP_CLOSE: do_close(s, id, &r); break;
    case FXP_READ: do_read(s, id, &r); break;
    case FXP_WRITE: do_write(s, id, &r); break;
    case FXP_LSTAT: do_stat(s, id, &r, 0); break;
    case FXP_STAT: do_stat(s, id, &r, 1); break;
    case FXP_FSTAT: do_fstat(s, id, &r); break;
    case FXP_SETSTAT: do_setstat(s, id, &r, 0); break;
    case FXP_FSETSTAT: do_fsetstat(s, id, &r); break;
    case FXP_OPENDIR: do_opendir(s, id, &r); break;
    case FXP_READDIR: do_readdir(s, id, &r); break;
    case FXP_REMOVE:
    case FXP_MKDIR:
    case FXP_RMDIR: do_path_op(s, id, &r, type); break;
    case FXP_REALPATH: do_realpath(s, id, &r); break;
    case FXP_RENAME: do_two_paths(s, id, &r, OP_RENAME); break;
    case FXP_READLINK: do_readlink(s, id, &r); break;
    case FXP_SYMLINK: do_two_paths(s, id, &r, OP_SYMLINK); break;
    case FXP_EXTENDED: do_extended(s, id, &r); break;
    default: send_status(s, id, FX_OP_UNSUPPORTED, "Unsupported request"); break;
    }
}

/* Answers every complete packet in the input buffer. -1 when a length field
 * is out of bounds: the stream is lost, the session ends. */
static int handle_input(struct sftp *s)
{
    while (s->in_len >= 4 && !s->io_failed) {
        const unsigned char *p = s->in + s->in_off;
        uint32_t len = be32(p);
        if (len == 0 || len > SFTP_MAX_PACKET) {
            dprintf(2, SF_NAME ": sftp: packet length %u out of bounds; ending the session\n",
                    (unsigned)len);
            return -1;
        }
        if (s->in_len - 4 < len)
            break;
        handle_packet(s, p + 4, len);
        s->in_off += 4 + (size_t)len;
        s->in_len -= 4 + (size_t)len;
        if (s->out_len >= SFTP_OUT_FLUSH)
            out_flush(s);
    }
    return 0;
}

/* Moves a partial packet to the front when the rest of the buffer could not
 * hold the largest packet. */
static void compact_input(struct sftp *s)
{
    if (s->in_len == 0)
        s->in_off = 0;
    else if (SFTP_IN_CAP - s->in_off - s->in_len < SFTP_MAX_PACKET + 4) {
        memmove(s->in, s->in + s->in_off, s->in_len);
        s->in_off = 0;
    }
}

/* 1 data read, 0 end of input, -1 error. */
static int read_input(struct sftp *s)
{
    for (;;) {
        size_t end = s->in_off + s->in_len;
        ssize_t n = read(s->in_fd, s->in + end, SFTP_IN_CAP - end);
        if (n > 0) {
            s->in_len += (size_t)n;
            return 1;
        }
        if (n == 0)
            return 0;
        if (errno == EAGAIN) {
            struct pollfd p = {.fd = s->in_fd, .events = POLLIN};
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
}

static int big_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0) {
        p[0] = p[1] = -1;
        return -1;
    }
    /* room for a whole READ reply, so assembling one never blocks */
    if (fcntl(p[1], F_SETPIPE_SZ, SFTP_PIPE_SIZE) < (int)(SFTP_MAX_RW + 64)) {
        close_pair(p);
        return -1;
    }
    return 0;
}

/* Splicing needs OUT_FD to be a pipe or a socket. */
static void splice_setup(struct sftp *s)
{
    struct stat st;
    s->dpipe[0] = s->dpipe[1] = s->rpipe[0] = s->rpipe[1] = -1;
    if (fstat(s->out_fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return;
    if (big_pipe(s->dpipe) < 0 || big_pipe(s->rpipe) < 0) {
        close_pair(s->dpipe);
        close_pair(s->rpipe);
    }
}

static void close_all(struct sftp *s)
{
    close_pair(s->dpipe);
    close_pair(s->rpipe);
    for (unsigned i = 0; i < SFTP_MAX_HANDLES; i++)
        if (s->h[i].kind != H_FREE)
            handle_close(&s->h[i]);
}

/* ---- options (OpenSSH's sftp-server's, same letters, same meaning) ---- */

/* The request named by the N bytes at NAME; -1 when there is none. */
static int request_index(const char *name, size_t n)
{
    for (int i = 0; i < REQ_KNOWN; i++)
        if (strlen(requests[i].name) == n && memcmp(requests[i].name, name, n) == 0)
            return i;
    return -1;
}

/* Whether the comma list LIST names request I. */
static bool list_has(const char *list, int i)
{
    while (list && *list) {
        size_t n = strcspn(list, ",");
        if (request_index(list, n) == i)
            return true;
        list += n + (list[n] == ',');
    }
    return false;
}

/* 0, or -1 with an error in ERR when LIST names a request no one knows. */
static int check_list(const char *list, char opt, char *err, size_t errlen)
{
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n > 0 && request_index(list, n) < 0) {
            snprintf(err, errlen, "-%c: unknown request \"%.*s\" (-Q requests lists them)", opt,
                     (int)(n > 64 ? 64 : n), list);
            return -1;
        }
        list += n + (list[n] == ',');
    }
    return 0;
}

int sf_sftp_parse_args(int argc, char *const *argv, struct sf_sftp_opts *o, char *err,
                       size_t errlen)
{
    *o = (struct sf_sftp_opts){.umask = -1};
    err[0] = 0;
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || !a[1])
            break;
        for (const char *c = a + 1; *c; c++) {
            char opt = *c;
            if (opt == 'R') {
                o->read_only = 1;
                continue;
            }
            if (opt == 'e')
                continue; /* log to stderr: we always do */
            if (opt == 'h') {
                o->help = 1;
                continue;
            }
            if (!strchr("dflpPQu", opt)) {
                snprintf(err, errlen, "unknown option -%c", opt);
                return -1;
            }
            /* An option with a value: the rest of this word, or the next word. */
            const char *v = c[1] ? c + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                snprintf(err, errlen, "option -%c needs a value", opt);
                return -1;
            }
            switch (opt) {
            case 'd':
                o->start_dir = v;
                break;
            case 'p':
            case 'P':
                if (check_list(v, opt, err, errlen) < 0)
                    return -1;
                if (*(opt == 'p' ? &o->allow : &o->deny)) {
                    snprintf(err, errlen, "-%c given twice", opt);
                    return -1;
                }
                *(opt == 'p' ? &o->allow : &o->deny) = v;
                break;
            case 'Q':
                if (strcmp(v, "requests") != 0) {
                    snprintf(err, errlen, "-Q: unknown query \"%.64s\" (only \"requests\")", v);
                    return -1;
                }
                o->query_requests = 1;
                break;
            case 'u': {
                char *end;
                errno = 0;
                long m = strtol(v, &end, 8);
                if (errno || end == v || *end || m < 0 || m > 0777) {
                    snprintf(err, errlen, "-u: invalid umask \"%.64s\" (octal, at most 0777)", v);
                    return -1;
                }
                o->umask = (int)m;
                break;
            }
            default:
                break; /* -f FACILITY, -l LEVEL: we log errors to stderr only */
            }
            break; /* the value ended this word */
        }
    }
    if (i < argc) {
        snprintf(err, errlen, "unexpected argument \"%.64s\"", argv[i]);
        return -1;
    }
    return 0;
}

const char *sf_sftp_request_name(int i)
{
    return i >= 0 && i < REQ_SERVED ? requests[i].name : NULL;
}

int sf_sftp_request_permitted(const struct sf_sftp_opts *o, const char *name)
{
    int i = request_index(name, strlen(name));
    if (i < 0)
        return 0;
    if (!o)
        return 1;
    if (o->read_only && requests[i].writes)
        return 0;
    if (list_has(o->deny, i))
        return 0;
    return !o->allow || list_has(o->allow, i);
}

int sf_sftp_expand_dir(const char *tmpl, const char *user, const char *home, char *out,
                       size_t size)
{
    size_t n = 0;
    const char *p = tmpl;
    /* "~" and "~/..." first, as OpenSSH's tilde expansion; "~user" is the caller's. */
    if (p[0] == '~' && (p[1] == '/' || !p[1])) {
        int w = snprintf(out, size, "%s", home);
        if (w < 0 || (size_t)w >= size)
            goto too_long;
        n = (size_t)w;
        p++;
    }
    for (; *p; p++) {
        const char *add = NULL;
        char one[2] = {*p, 0};
        if (*p != '%') {
            add = one;
        } else if (p[1] == '%') {
            add = "%";
        } else if (p[1] == 'd') {
            add = home;
        } else if (p[1] == 'u') {
            add = user;
        } else {
            errno = EINVAL;
            return -1;
        }
        if (*p == '%')
            p++;
        size_t k = strlen(add);
        if (size - n <= k)
            goto too_long;
        memcpy(out + n, add, k);
        n += k;
    }
    if (n == 0)
        goto invalid;
    out[n] = 0;
    return 0;
invalid:
    errno = EINVAL;
    return -1;
too_long:
    errno = ENAMETOOLONG;
    return -1;
}

static void usage(const char *prog)
{
    dprintf(2, "usage: %s [-ehR] [-d start_directory] [-f log_facility] [-l log_level]\n"
               "       [-P denied_requests] [-p allowed_requests] [-u umask]\n"
               "       %s -Q requests\n",
            prog, prog);
}

/* The user's name and home for -d: from the password database, else the
 * numeric id and the folder we were started in (the home, as sshd does). */
static void who_am_i(char *user, size_t ulen, char *home, size_t hlen)
{
    const struct passwd *pw = getpwuid(getuid());
    if (pw && strlen(pw->pw_name) < ulen && strlen(pw->pw_dir) < hlen) {
        snprintf(user, ulen, "%s", pw->pw_name);
        snprintf(home, hlen, "%s", pw->pw_dir);
        return;
    }
    snprintf(user, ulen, "%u", (unsigned)getuid());
    if (!getcwd(home, hlen))
        snprintf(home, hlen, "/");
}

/* -d: the start folder, expanded; a folder we cannot enter is reported and
 * the session goes on where it is, as OpenSSH's sftp-server does. */
static void enter_start_dir(const char *tmpl)
{
    char user[256], home[PATH_MAX], tilde[PATH_MAX], dir[PATH_MAX];
    who_am_i(user, sizeof user, home, sizeof home);
    if (tmpl[0] == '~' && tmpl[1] && tmpl[1] != '/') {
        /* ~name/...: that user's home */
        size_t n = strcspn(tmpl + 1, "/");
        char name[256];
        const struct passwd *pw = NULL;
        if (n < sizeof name) {
            memcpy(name, tmpl + 1, n);
            name[n] = 0;
            pw = getpwnam(name);
        }
        if (!pw) {
            dprintf(2, SF_NAME ": sftp: -d %s: no such user; staying in the home folder\n", tmpl);
            return;
        }
        int w = snprintf(tilde, sizeof tilde, "%s%s", pw->pw_dir, tmpl + 1 + n);
        if (w < 0 || (size_t)w >= sizeof tilde) {
            dprintf(2, SF_NAME ": sftp: -d %s: too long; staying in the home folder\n", tmpl);
            return;
        }
        tmpl = tilde;
    }
    if (sf_sftp_expand_dir(tmpl, user, home, dir, sizeof dir) < 0) {
        dprintf(2, SF_NAME ": sftp: -d %s: %s; staying in the home folder\n", tmpl,
                errno == EINVAL ? "only %d, %u and %% expand" : strerror(errno));
        return;
    }
    if (chdir(dir) < 0)
        dprintf(2, SF_NAME ": sftp: -d: cannot enter %s: %s; staying in the home folder\n", dir,
                strerror(errno));
}

int sf_sftp_main(const char *prog, int argc, char *const *argv)
{
    struct sf_sftp_opts o;
    char err[256];
    if (sf_sftp_parse_args(argc, argv, &o, err, sizeof err) < 0) {
        dprintf(2, "%s: %s\n", prog, err);
        usage(prog);
        return 2;
    }
    if (o.help) {
        usage(prog);
        return 1;
    }
    if (o.query_requests) {
        for (int i = 0; i < REQ_SERVED; i++)
            printf("%s\n", requests[i].name);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (o.umask >= 0)
        umask((mode_t)o.umask);
    if (o.start_dir)
        enter_start_dir(o.start_dir);
    return sf_sftp_serve(STDIN_FILENO, STDOUT_FILENO, &o);
}

int sf_sftp_serve(int in_fd, int out_fd, const struct sf_sftp_opts *o)
{
    struct sftp *s = calloc(1, sizeof *s);
    if (s)
        s->in = malloc(SFTP_IN_CAP);
    if (s && s->in)
        s->out = malloc(SFTP_OUT_CAP);
    if (!s || !s->out) {
        dprintf(2, SF_NAME ": sftp: out of memory; ending the session\n");
        if (s)
            free(s->in);
        free(s);
        return 1;
    }
    s->in_fd = in_fd;
    s->out_fd = out_fd;
    s->read_only = o && o->read_only;
    for (int i = 0; i < REQ_SERVED; i++)
        if (!sf_sftp_request_permitted(o, requests[i].name))
            s->denied |= UINT64_C(1) << i;
    for (unsigned i = 0; i < SFTP_MAX_HANDLES; i++)
        s->h[i].fd = -1;
    splice_setup(s);
    /* Bigger pipes mean fewer wake-ups per megabyte; not a pipe: no matter. */
    (void)fcntl(in_fd, F_SETPIPE_SZ, SFTP_PIPE_SIZE);
    (void)fcntl(out_fd, F_SETPIPE_SZ, SFTP_PIPE_SIZE);
    int rc = 0;
    for (;;) {
        if (handle_input(s) < 0) {
            /* the requests before the bad length were carried out: the
             * client still gets their replies */
            out_flush(s);
            rc = 1;
            break;
        }
        if (out_flush(s) < 0) {
            rc = 1;
            break;
        }
        compact_input(s);
        int got = read_input(s);
        if (got <= 0) {
            rc = got < 0;
            if (got < 0)
                dprintf(2, SF_NAME ": sftp: reading requests: %s; ending the session\n",
                        strerror(errno));
            break;
        }
    }
    close_all(s);
    free(s->copy_buf);
    free(s->in);
    free(s->out);
    free(s);
    return rc;
}
