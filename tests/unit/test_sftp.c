/* Unit tests for sshfallback/sftp.c: each case runs sf_sftp_serve in a
 * forked child on one end of a socketpair, in a scratch directory, and
 * talks SFTP version 3 to it packet by packet — including malformed,
 * truncated and oversized packets. */
#include "../../sshfallback/sshfallback.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    INIT = 1, VERSION = 2, OPEN = 3, CLOSE = 4, READ = 5, WRITE = 6, LSTAT = 7,
    FSTAT = 8, SETSTAT = 9, FSETSTAT = 10, OPENDIR = 11, READDIR = 12, REMOVE = 13,
    MKDIR = 14, RMDIR = 15, REALPATH = 16, STAT = 17, RENAME = 18, READLINK = 19,
    SYMLINK = 20, STATUS = 101, HANDLE = 102, DATA = 103, NAME = 104, ATTRS = 105,
    EXTENDED = 200, EXTENDED_REPLY = 201,
};
enum { OK = 0, FX_EOF = 1, NO_SUCH_FILE = 2, PERMISSION_DENIED = 3, FAILURE = 4,
       BAD_MESSAGE = 5, OP_UNSUPPORTED = 8 };

/* ---- a server in a child ---- */
static int srv_fd = -1;
static pid_t srv_pid = -1;
static char srv_dir[64];
static const struct sf_sftp_opts *srv_opts; /* the next srv_start's options */

static void srv_start(void)
{
    int sv[2];
    snprintf(srv_dir, sizeof srv_dir, "/tmp/test_sftp.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(srv_dir));
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    srv_pid = fork();
    ck_assert_int_ge(srv_pid, 0);
    if (srv_pid == 0) {
        close(sv[0]);
        if (chdir(srv_dir) < 0)
            _exit(99);
        _exit(sf_sftp_serve(sv[1], sv[1], srv_opts));
    }
    close(sv[1]);
    srv_fd = sv[0];
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Ends the session with EOF; returns the server's exit status. */
static int srv_stop(void)
{
    int status = -1;
    shutdown(srv_fd, SHUT_WR);
    waitpid(srv_pid, &status, 0);
    close(srv_fd);
    nftw(srv_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- building requests ---- */
struct pkt {
    unsigned char b[300000];
    size_t n;
};
static struct pkt P;

static void p_begin(uint8_t type)
{
    P.n = 4;
    P.b[P.n++] = type;
}
static void p_u32(uint32_t v)
{
    P.b[P.n++] = (unsigned char)(v >> 24);
    P.b[P.n++] = (unsigned char)(v >> 16);
    P.b[P.n++] = (unsigned char)(v >> 8);
    P.b[P.n++] = (unsigned char)v;
}
static void p_u64(uint64_t v)
{
    p_u32((uint32_t)(v >> 32));
    p_u32((uint32_t)v);
}
static void p_bytes(const void *s, size_t n)
{
    p_u32((uint32_t)n);
    memcpy(P.b + P.n, s, n);
    P.n += n;
}
static void p_str(const char *s)
{
    p_bytes(s, strlen(s));
}
static void write_fd(int fd, const void *b, size_t n)
{
    const unsigned char *p = b;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        ck_assert_int_gt(w, 0);
        p += w;
        n -= (size_t)w;
    }
}
static void write_all(const void *b, size_t n)
{
    write_fd(srv_fd, b, n);
}
/* Sends the request built so far to FD, with its true length. */
static void p_send_to(int fd)
{
    uint32_t len = (uint32_t)(P.n - 4);
    P.b[0] = (unsigned char)(len >> 24);
    P.b[1] = (unsigned char)(len >> 16);
    P.b[2] = (unsigned char)(len >> 8);
    P.b[3] = (unsigned char)len;
    write_fd(fd, P.b, P.n);
}
/* Sends the request built so far to the server. */
static void p_send(void)
{
    p_send_to(srv_fd);
}

/* ---- reading replies ---- */
struct reply {
    unsigned char b[300000];
    size_t n, off;
    uint8_t type;
};
static struct reply R;

static int read_full(void *b, size_t n)
{
    unsigned char *p = b;
    while (n > 0) {
        ssize_t r = read(srv_fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}
static uint32_t r_u32(void)
{
    ck_assert_uint_ge(R.n - R.off, 4);
    const unsigned char *p = R.b + R.off;
    R.off += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t r_u64(void)
{
    uint64_t hi = r_u32();
    return hi << 32 | r_u32();
}
/* A string of the reply, NUL-terminated in a static buffer of 4 slots. */
static const char *r_str(size_t *len)
{
    static char bufs[4][70000];
    static unsigned k;
    size_t n = r_u32();
    ck_assert_uint_ge(R.n - R.off, n);
    char *b = bufs[k++ % 4];
    ck_assert_uint_lt(n, sizeof bufs[0]);
    memcpy(b, R.b + R.off, n);
    b[n] = 0;
    R.off += n;
    if (len)
        *len = n;
    return b;
}
static void recv_reply(void)
{
    unsigned char h[4];
    ck_assert_int_eq(read_full(h, 4), 0);
    R.n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    ck_assert_uint_ge(R.n, 1);
    ck_assert_uint_le(R.n, sizeof R.b);
    ck_assert_int_eq(read_full(R.b, R.n), 0);
    R.type = R.b[0];
    R.off = 1;
}
/* Receives a reply of TYPE to request ID. */
static void expect_reply(uint8_t type, uint32_t id)
{
    recv_reply();
    ck_assert_int_eq(R.type, type);
    ck_assert_uint_eq(r_u32(), id);
}
static void expect_status(uint32_t id, uint32_t code)
{
    expect_reply(STATUS, id);
    ck_assert_uint_eq(r_u32(), code);
    size_t n;
    r_str(&n);
    ck_assert_uint_gt(n, 0); /* always a message */
    r_str(NULL);
}

/* ---- request shorthands ---- */
static uint32_t next_id = 100;

static void init(void)
{
    p_begin(INIT);
    p_u32(3);
    p_send();
    recv_reply();
    ck_assert_int_eq(R.type, VERSION);
    ck_assert_uint_eq(r_u32(), 3);
}

static uint32_t req_path(uint8_t type, const char *path)
{
    uint32_t id = next_id++;
    p_begin(type);
    p_u32(id);
    p_str(path);
    p_send();
    return id;
}

/* Opens PATH with PFLAGS; returns the handle (4 bytes) in H. */
static void open_file(const char *path, uint32_t pflags, unsigned char h[4])
{
    uint32_t id = next_id++;
    p_begin(OPEN);
    p_u32(id);
    p_str(path);
    p_u32(pflags);
    p_u32(4); /* permissions */
    p_u32(0600);
    p_send();
    expect_reply(HANDLE, id);
    size_t n;
    const char *s = r_str(&n);
    ck_assert_uint_eq(n, 4);
    memcpy(h, s, 4);
}

static uint32_t req_handle(uint8_t type, const unsigned char h[4])
{
    uint32_t id = next_id++;
    p_begin(type);
    p_u32(id);
    p_bytes(h, 4);
    p_send();
    return id;
}

static void write_at(const unsigned char h[4], uint64_t off, const void *data, size_t n)
{
    uint32_t id = next_id++;
    p_begin(WRITE);
    p_u32(id);
    p_bytes(h, 4);
    p_u64(off);
    p_bytes(data, n);
    p_send();
    expect_status(id, OK);
}

static uint32_t req_read(const unsigned char h[4], uint64_t off, uint32_t len)
{
    uint32_t id = next_id++;
    p_begin(READ);
    p_u32(id);
    p_bytes(h, 4);
    p_u64(off);
    p_u32(len);
    p_send();
    return id;
}

static int srv_file(const char *name, struct stat *st)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", srv_dir, name);
    return lstat(path, st);
}

/* ---- cases ---- */

START_TEST(version_lists_extensions)
{
    srv_start();
    init();
    int seen = 0;
    while (R.off < R.n) {
        const char *name = r_str(NULL);
        const char *data = r_str(NULL);
        if (!strcmp(name, "limits@openssh.com") || !strcmp(name, "posix-rename@openssh.com") ||
            !strcmp(name, "fsync@openssh.com") || !strcmp(name, "hardlink@openssh.com") ||
            (!strcmp(name, "statvfs@openssh.com") && !strcmp(data, "2")) ||
            (!strcmp(name, "fstatvfs@openssh.com") && !strcmp(data, "2")) ||
            !strcmp(name, "lsetstat@openssh.com") || !strcmp(name, "expand-path@openssh.com") ||
            (!strcmp(name, "copy-data") && !strcmp(data, "1")))
            seen++;
    }
    ck_assert_int_eq(seen, 9);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(limits_allow_large_transfers)
{
    srv_start();
    init();
    p_begin(EXTENDED);
    p_u32(7);
    p_str("limits@openssh.com");
    p_send();
    expect_reply(EXTENDED_REPLY, 7);
    ck_assert_uint_eq(r_u64(), 256 * 1024);
    ck_assert_uint_eq(r_u64(), 255 * 1024);
    ck_assert_uint_eq(r_u64(), 255 * 1024);
    ck_assert_uint_ge(r_u64(), 64); /* OpenSSH's client keeps 64 requests in flight */
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(write_read_roundtrip)
{
    static unsigned char data[200000], got[200000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 9));
    srv_start();
    init();
    unsigned char h[4];
    open_file("f", 0x02 | 0x08 | 0x10, h); /* WRITE|CREAT|TRUNC */
    write_at(h, 100000, data + 100000, 100000);
    write_at(h, 0, data, 100000);
    expect_status(req_handle(CLOSE, h), OK);
    struct stat st;
    ck_assert_int_eq(srv_file("f", &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, sizeof data);

    open_file("f", 0x01, h);
    size_t have = 0;
    while (have < sizeof data) {
        uint32_t id = req_read(h, have, 65536);
        expect_reply(DATA, id);
        size_t n;
        const unsigned char *p = R.b + R.off + 4;
        n = r_u32();
        ck_assert_uint_gt(n, 0);
        ck_assert_uint_le(have + n, sizeof got);
        memcpy(got + have, p, n);
        have += n;
        R.off += n;
    }
    ck_assert_int_eq(memcmp(data, got, sizeof data), 0);
    expect_status(req_read(h, sizeof data, 100), FX_EOF);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(read_length_is_clamped)
{
    static unsigned char big[1 << 20];
    srv_start();
    init();
    unsigned char h[4];
    open_file("big", 0x01 | 0x02 | 0x08, h);
    for (int i = 0; i < 4; i++)
        write_at(h, (uint64_t)i * sizeof big / 4, big, sizeof big / 4);
    expect_reply(DATA, req_read(h, 0, 0xffffffffu));
    ck_assert_uint_eq(r_u32(), 255 * 1024);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(pipelined_requests_answered_in_order)
{
    srv_start();
    init();
    /* 300 STATs in one write: replies come back complete and in order. */
    static unsigned char all[300 * 32];
    size_t n = 0;
    for (uint32_t i = 0; i < 300; i++) {
        p_begin(STAT);
        p_u32(1000 + i);
        p_str(i % 2 ? "." : "missing");
        uint32_t len = (uint32_t)(P.n - 4);
        P.b[0] = 0;
        P.b[1] = 0;
        P.b[2] = (unsigned char)(len >> 8);
        P.b[3] = (unsigned char)len;
        memcpy(all + n, P.b, P.n);
        n += P.n;
    }
    write_all(all, n);
    for (uint32_t i = 0; i < 300; i++) {
        recv_reply();
        ck_assert_int_eq(R.type, i % 2 ? ATTRS : STATUS);
        ck_assert_uint_eq(r_u32(), 1000 + i);
    }
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(stat_and_errors_mapped)
{
    srv_start();
    init();
    expect_status(req_path(STAT, "missing"), NO_SUCH_FILE);
    expect_status(req_path(STAT, "missing/x"), NO_SUCH_FILE);
    expect_status(req_path(OPENDIR, "missing"), NO_SUCH_FILE);
    expect_status(req_path(REMOVE, "missing"), NO_SUCH_FILE);
    expect_status(req_path(RMDIR, "."), BAD_MESSAGE); /* EINVAL, as OpenSSH maps it */
    uint32_t id = req_path(LSTAT, ".");
    expect_reply(ATTRS, id);
    uint32_t flags = r_u32();
    ck_assert_uint_eq(flags, 0xf);
    r_u64();
    ck_assert_uint_eq(r_u32(), getuid());
    r_u32();
    ck_assert(S_ISDIR(r_u32()));
    if (getuid() == 0) {
        /* root may write anywhere; a mode-0 file still refuses an ordinary user */
    } else {
        expect_status(req_path(OPENDIR, "/root"), PERMISSION_DENIED);
    }
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(mkdir_opendir_readdir_longname)
{
    srv_start();
    init();
    uint32_t id = next_id++;
    p_begin(MKDIR);
    p_u32(id);
    p_str("d");
    p_u32(4);
    p_u32(0750);
    p_send();
    expect_status(id, OK);
    struct stat st;
    ck_assert_int_eq(srv_file("d", &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0750);
    unsigned char h[4];
    for (int i = 0; i < 250; i++) {
        char name[32];
        snprintf(name, sizeof name, "d/file%03d", i);
        open_file(name, 0x02 | 0x08, h);
        expect_status(req_handle(CLOSE, h), OK);
    }
    id = req_path(OPENDIR, "d");
    expect_reply(HANDLE, id);
    memcpy(h, r_str(NULL), 4);
    int total = 0, batches = 0, saw_long = 0;
    for (;;) {
        id = req_handle(READDIR, h);
        recv_reply();
        ck_assert_uint_eq(r_u32(), id);
        if (R.type == STATUS) {
            ck_assert_uint_eq(r_u32(), FX_EOF);
            break;
        }
        ck_assert_int_eq(R.type, NAME);
        uint32_t count = r_u32();
        ck_assert_uint_le(count, 100);
        batches++;
        for (uint32_t i = 0; i < count; i++) {
            const char *name = r_str(NULL);
            const char *lname = r_str(NULL);
            if (!strcmp(name, "file007")) {
                ck_assert_msg(!strncmp(lname, "-rw-------   1 ", 15), "longname '%s'", lname);
                ck_assert_msg(strstr(lname, " file007") && lname[strlen(lname) - 1] == '7',
                              "longname '%s'", lname);
                saw_long = 1;
            }
            ck_assert_uint_eq(r_u32(), 0xf);
            R.off += 8 + 4 + 4 + 4 + 4 + 4;
            total++;
        }
    }
    ck_assert_int_eq(total, 252); /* . and .. too */
    ck_assert_int_ge(batches, 3);
    ck_assert(saw_long);
    expect_status(req_handle(CLOSE, h), OK);
    expect_status(req_handle(CLOSE, h), FAILURE); /* stale handle */
    expect_status(req_path(RMDIR, "d"), FAILURE);   /* not empty */
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

static uint32_t two_paths(uint8_t type, const char *ext, const char *a, const char *b)
{
    uint32_t id = next_id++;
    p_begin(type);
    p_u32(id);
    if (ext)
        p_str(ext);
    p_str(a);
    p_str(b);
    p_send();
    return id;
}

START_TEST(rename_symlink_link)
{
    srv_start();
    init();
    unsigned char h[4];
    open_file("a", 0x02 | 0x08, h);
    write_at(h, 0, "A", 1);
    expect_status(req_handle(CLOSE, h), OK);
    open_file("b", 0x02 | 0x08, h);
    expect_status(req_handle(CLOSE, h), OK);
    /* plain RENAME never replaces; posix-rename does */
    expect_status(two_paths(RENAME, NULL, "a", "b"), FAILURE);
    expect_status(two_paths(RENAME, NULL, "a", "c"), OK);
    expect_status(two_paths(EXTENDED, "posix-rename@openssh.com", "c", "b"), OK);
    struct stat st;
    ck_assert_int_eq(srv_file("b", &st), 0);
    ck_assert_int_eq(st.st_size, 1);
    ck_assert_int_ne(srv_file("c", &st), 0);
    /* OpenSSH's order: target first, then the link */
    expect_status(two_paths(SYMLINK, NULL, "b", "l"), OK);
    uint32_t id = req_path(READLINK, "l");
    expect_reply(NAME, id);
    ck_assert_uint_eq(r_u32(), 1);
    ck_assert_str_eq(r_str(NULL), "b");
    expect_status(two_paths(EXTENDED, "hardlink@openssh.com", "b", "hl"), OK);
    ck_assert_int_eq(srv_file("hl", &st), 0);
    ck_assert_int_eq(st.st_nlink, 2);
    expect_status(req_path(REMOVE, "hl"), OK);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(realpath_and_expand_path)
{
    srv_start();
    init();
    char want[PATH_MAX + 8];
    char real[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(srv_dir, real));
    const char *cases[][2] = {{"", ""}, {".", ""}, {"x/..", ""}, {"new", "/new"}, {"./new/", "/new"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!strcmp(cases[i][0], "x/.."))
            continue; /* x does not exist: realpath refuses, as the kernel does */
        uint32_t id = req_path(REALPATH, cases[i][0]);
        expect_reply(NAME, id);
        ck_assert_uint_eq(r_u32(), 1);
        snprintf(want, sizeof want, "%s%s", real, cases[i][1]);
        ck_assert_str_eq(r_str(NULL), want);
    }
    expect_status(req_path(REALPATH, "no/such/dir"), NO_SUCH_FILE);
    uint32_t id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str("expand-path@openssh.com");
    p_str("~/sub");
    p_send();
    expect_reply(NAME, id);
    ck_assert_uint_eq(r_u32(), 1);
    snprintf(want, sizeof want, "%s/sub", real);
    ck_assert_str_eq(r_str(NULL), want);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(setstat_fsetstat_statvfs_fsync)
{
    srv_start();
    init();
    unsigned char h[4];
    open_file("f", 0x02 | 0x08, h);
    uint32_t id = next_id++;
    p_begin(FSETSTAT);
    p_u32(id);
    p_bytes(h, 4);
    p_u32(0x1 | 0x8); /* size, times */
    p_u64(12345);
    p_u32(1000000000);
    p_u32(1200000000);
    p_send();
    expect_status(id, OK);
    id = next_id++;
    p_begin(SETSTAT);
    p_u32(id);
    p_str("f");
    p_u32(0x4 | 0x80000000u); /* permissions, one extended pair */
    p_u32(0640);
    p_u32(1);
    p_str("name@x");
    p_str("data");
    p_send();
    expect_status(id, OK);
    struct stat st;
    ck_assert_int_eq(srv_file("f", &st), 0);
    ck_assert_int_eq(st.st_size, 12345);
    ck_assert_int_eq(st.st_mtime, 1200000000);
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str("fsync@openssh.com");
    p_bytes(h, 4);
    p_send();
    expect_status(id, OK);
    id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str("fstatvfs@openssh.com");
    p_bytes(h, 4);
    p_send();
    expect_reply(EXTENDED_REPLY, id);
    ck_assert_uint_eq(R.n, 1 + 4 + 11 * 8);
    id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str("statvfs@openssh.com");
    p_str(".");
    p_send();
    expect_reply(EXTENDED_REPLY, id);
    ck_assert_uint_gt(r_u64(), 0); /* f_bsize */
    expect_reply(ATTRS, req_handle(FSTAT, h));
    ck_assert_uint_eq(r_u32(), 0xf);
    ck_assert_uint_eq(r_u64(), 12345);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(malformed_requests_get_bad_message)
{
    srv_start();
    init();
    /* a path string longer than the packet */
    p_begin(STAT);
    p_u32(11);
    p_u32(1000);
    p_send();
    expect_status(11, BAD_MESSAGE);
    /* a path with a NUL inside */
    p_begin(STAT);
    p_u32(12);
    p_bytes("a\0b", 3);
    p_send();
    expect_status(12, BAD_MESSAGE);
    /* a path longer than PATH_MAX */
    static char longp[PATH_MAX + 10];
    memset(longp, 'a', sizeof longp - 1);
    req_path(STAT, longp);
    expect_status(next_id - 1, BAD_MESSAGE);
    /* READ missing its length */
    p_begin(READ);
    p_u32(13);
    p_bytes("\0\0\0\0", 4);
    p_send();
    expect_status(13, BAD_MESSAGE);
    /* no id at all */
    p_begin(OPEN);
    p_send();
    expect_status(0, BAD_MESSAGE);
    /* unknown request type, unknown extension */
    p_begin(99);
    p_u32(14);
    p_send();
    expect_status(14, OP_UNSUPPORTED);
    p_begin(EXTENDED);
    p_u32(15);
    p_str("nope@example.com");
    p_send();
    expect_status(15, OP_UNSUPPORTED);
    /* a handle that was never given out, and one of the wrong size */
    expect_status(req_handle(READ, (const unsigned char *)"\1\2\3\4"), BAD_MESSAGE);
    expect_status(req_handle(CLOSE, (const unsigned char *)"\1\2\3\4"), FAILURE);
    p_begin(CLOSE);
    p_u32(16);
    p_bytes("\0\0\0\0\0", 5);
    p_send();
    expect_status(16, FAILURE);
    /* an attribute block claiming 2^32-1 extended pairs */
    p_begin(SETSTAT);
    p_u32(17);
    p_str("x");
    p_u32(0x80000000u);
    p_u32(0xffffffffu);
    p_send();
    expect_status(17, BAD_MESSAGE);
    /* still serving */
    expect_reply(ATTRS, req_path(STAT, "."));
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(handle_table_is_bounded)
{
    srv_start();
    init();
    unsigned char h[4], first[4];
    for (int i = 0; i < 256; i++) {
        open_file(".", 0x01, h);
        if (i == 0)
            memcpy(first, h, 4);
    }
    uint32_t id = next_id++;
    p_begin(OPENDIR);
    p_u32(id);
    p_str(".");
    p_send();
    expect_status(id, FAILURE);
    expect_status(req_handle(CLOSE, first), OK);
    open_file(".", 0x01, h);
    ck_assert_int_ne(memcmp(h, first, 4), 0); /* the reused slot has a new name */
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(oversized_packet_ends_session)
{
    srv_start();
    init();
    write_all("\x7f\xff\xff\xff\x03", 5);
    unsigned char b[4];
    ck_assert_int_ne(read_full(b, 4), 0); /* no reply: the server went away */
    ck_assert_int_eq(srv_stop(), 1);
}
END_TEST

/* A bad length right behind good requests, all in one write (so in one
 * read of the server's): the requests before it were carried out, and
 * their replies still go out before the session ends. */
START_TEST(requests_before_a_bad_length_are_answered)
{
    srv_start();
    init();
    p_begin(STAT);
    p_u32(7);
    p_str(".");
    uint32_t len = (uint32_t)(P.n - 4);
    P.b[0] = (unsigned char)(len >> 24);
    P.b[1] = (unsigned char)(len >> 16);
    P.b[2] = (unsigned char)(len >> 8);
    P.b[3] = (unsigned char)len;
    memcpy(P.b + P.n, "\x7f\xff\xff\xff\x03", 5);
    write_all(P.b, P.n + 5);
    expect_reply(ATTRS, 7);
    unsigned char b[4];
    ck_assert_int_ne(read_full(b, 4), 0); /* then nothing: the server went away */
    ck_assert_int_eq(srv_stop(), 1);
}
END_TEST

START_TEST(zero_length_packet_ends_session)
{
    srv_start();
    write_all("\0\0\0\0", 4);
    ck_assert_int_eq(srv_stop(), 1);
}
END_TEST

START_TEST(eof_mid_packet_exits_cleanly)
{
    srv_start();
    init();
    write_all("\0\0\1\0\x11\0\0", 7);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

/* Random packets of the read-only kinds (with random lengths in their
 * strings) never crash the server, and it keeps answering. */
START_TEST(random_packets_never_crash)
{
    static const uint8_t kinds[] = {INIT, CLOSE, READ, LSTAT, FSTAT, OPENDIR, READDIR,
                                    REALPATH, STAT, READLINK, EXTENDED, 0, 99, 255};
    static const char *const exts[] = {"limits@openssh.com", "statvfs@openssh.com",
                                       "fstatvfs@openssh.com", "expand-path@openssh.com",
                                       "fsync@openssh.com"};
    srv_start();
    init();
    unsigned seed = 12345;
    for (int i = 0; i < 3000; i++) {
        seed = seed * 1103515245u + 12345u;
        p_begin(kinds[(seed >> 16) % sizeof kinds]);
        if (P.b[4] == EXTENDED) {
            p_u32((uint32_t)i);
            p_str(exts[(seed >> 8) % 5]);
        }
        size_t n = (seed >> 4) % 40;
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned char c = (unsigned char)(seed >> 16);
            /* small string lengths now and then, so fields parse */
            P.b[P.n++] = (k % 4 != 3 && (seed & 0x100)) ? 0 : (c & 0x0f);
        }
        p_send();
        recv_reply(); /* every request gets exactly one reply */
    }
    expect_reply(ATTRS, req_path(STAT, "."));
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

/* OUT_FD a regular file: READ data takes the pread path (no splice). */
START_TEST(replies_to_a_regular_file)
{
    char dir[] = "/tmp/test_sftp.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/data", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("hello, sftp", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/out", dir);
    int out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int in[2];
    ck_assert_int_ge(out, 0);
    ck_assert_int_eq(pipe(in), 0);
    /* the requests: INIT, OPEN data, READ 0..100, READ at 11 (EOF) */
    p_begin(INIT);
    p_u32(3);
    p_send_to(in[1]);
    p_begin(OPEN);
    p_u32(1);
    p_str("data");
    p_u32(1);
    p_u32(0);
    p_send_to(in[1]);
    p_begin(READ);
    p_u32(2);
    p_bytes("\0\0\0\0", 4); /* the first handle given out is 0x00000100 */
    P.b[P.n - 2] = 1;
    p_u64(0);
    p_u32(100);
    p_send_to(in[1]);
    p_begin(READ);
    p_u32(3);
    p_bytes("\0\0\1\0", 4);
    p_u64(11);
    p_u32(100);
    p_send_to(in[1]);
    close(in[1]);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) < 0)
            _exit(99);
        _exit(sf_sftp_serve(in[0], out, NULL));
    }
    close(in[0]);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    lseek(out, 0, SEEK_SET);
    srv_fd = out;
    recv_reply();
    ck_assert_int_eq(R.type, VERSION);
    expect_reply(HANDLE, 1);
    size_t hn;
    const char *hs = r_str(&hn);
    ck_assert_uint_eq(hn, 4);
    ck_assert_int_eq(memcmp(hs, "\0\0\1\0", 4), 0);
    expect_reply(DATA, 2);
    ck_assert_str_eq(r_str(NULL), "hello, sftp");
    expect_status(3, FX_EOF);
    close(out);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

static uint32_t req_copy(const unsigned char rh[4], uint64_t roff, uint64_t len,
                         const unsigned char wh[4], uint64_t woff)
{
    uint32_t id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str("copy-data");
    p_bytes(rh, 4);
    p_u64(roff);
    p_u64(len);
    p_bytes(wh, 4);
    p_u64(woff);
    p_send();
    return id;
}

/* The N bytes of srv_dir/NAME in BUF; the file's size. */
static size_t srv_read(const char *name, unsigned char *buf, size_t n)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", srv_dir, name);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ssize_t got = read(fd, buf, n);
    ck_assert_int_ge(got, 0);
    close(fd);
    return (size_t)got;
}

START_TEST(copy_data_copies_ranges)
{
    static unsigned char data[700000], got[800000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 13 + (i >> 11));
    srv_start();
    init();
    unsigned char src[4], dst[4], part[4];
    open_file("src", 0x02 | 0x08 | 0x10, src);
    for (size_t off = 0; off < sizeof data; off += 100000)
        write_at(src, off, data + off, sizeof data - off < 100000 ? sizeof data - off : 100000);
    expect_status(req_handle(CLOSE, src), OK);
    open_file("src", 0x01, src);
    /* length 0: up to the end of the file */
    open_file("dst", 0x02 | 0x08 | 0x10, dst);
    expect_status(req_copy(src, 0, 0, dst, 0), OK);
    ck_assert_uint_eq(srv_read("dst", got, sizeof got), sizeof data);
    ck_assert_int_eq(memcmp(got, data, sizeof data), 0);
    /* a range to an offset */
    open_file("part", 0x02 | 0x08 | 0x10, part);
    expect_status(req_copy(src, 1000, 5000, part, 10), OK);
    ck_assert_uint_eq(srv_read("part", got, sizeof got), 5010);
    ck_assert_int_eq(memcmp(got + 10, data + 1000, 5000), 0);
    ck_assert_int_eq(got[0], 0); /* the hole before the offset */
    /* a length past the end: what there is is copied, then EOF */
    expect_status(req_copy(src, sizeof data - 100, 1000, part, 0), FX_EOF);
    ck_assert_uint_eq(srv_read("part", got, sizeof got), 5010);
    ck_assert_int_eq(memcmp(got, data + sizeof data - 100, 100), 0);
    /* reading at the end: nothing to copy, EOF */
    expect_status(req_copy(src, sizeof data, 10, part, 0), FX_EOF);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(copy_data_appends_to_an_append_handle)
{
    srv_start();
    init();
    unsigned char src[4], dst[4];
    open_file("src", 0x01 | 0x02 | 0x08, src);
    write_at(src, 0, "0123456789", 10);
    open_file("log", 0x02 | 0x08, dst);
    write_at(dst, 0, "head:", 5);
    expect_status(req_handle(CLOSE, dst), OK);
    open_file("log", 0x02 | 0x04, dst); /* APPEND */
    expect_status(req_copy(src, 2, 3, dst, 0), OK);
    unsigned char got[32];
    ck_assert_uint_eq(srv_read("log", got, sizeof got), 8);
    ck_assert_int_eq(memcmp(got, "head:234", 8), 0);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(copy_data_refusals)
{
    srv_start();
    init();
    unsigned char rw[4], rw2[4], ro[4], wo[4];
    open_file("f", 0x01 | 0x02 | 0x08, rw);
    static unsigned char data[4096];
    memset(data, 'x', sizeof data);
    write_at(rw, 0, data, sizeof data);
    open_file("f", 0x01 | 0x02, rw2);
    /* one handle for both ends */
    expect_status(req_copy(rw, 0, 10, rw, 100), FAILURE);
    /* one file, overlapping ranges, either way round, and to its end */
    expect_status(req_copy(rw, 0, 200, rw2, 100), FAILURE);
    expect_status(req_copy(rw, 100, 200, rw2, 0), FAILURE);
    expect_status(req_copy(rw, 0, 0, rw2, 8192), FAILURE);
    /* one file, ranges apart: fine */
    expect_status(req_copy(rw, 0, 100, rw2, 100), OK);
    expect_status(req_copy(rw, 1000, 100, rw2, 4096), OK);
    /* a read end not open for reading, a write end not open for writing */
    open_file("f", 0x01, ro);
    open_file("w", 0x02 | 0x08, wo);
    expect_status(req_copy(wo, 0, 10, rw, 0), PERMISSION_DENIED);
    expect_status(req_copy(rw, 0, 10, ro, 0), PERMISSION_DENIED);
    /* stale, directory and unknown handles */
    unsigned char stale[4];
    memcpy(stale, wo, 4);
    expect_status(req_handle(CLOSE, wo), OK);
    expect_status(req_copy(rw, 0, 10, stale, 0), FAILURE);
    uint32_t id = req_path(OPENDIR, ".");
    expect_reply(HANDLE, id);
    unsigned char dh[4];
    memcpy(dh, r_str(NULL), 4);
    expect_status(req_copy(dh, 0, 10, rw2, 0), FAILURE);
    /* offsets past what a file can hold */
    expect_status(req_copy(ro, UINT64_MAX, 10, rw2, 0), BAD_MESSAGE);
    expect_status(req_copy(ro, 0, 10, rw2, UINT64_MAX - 5), BAD_MESSAGE);
    /* truncated: no write offset */
    id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str("copy-data");
    p_bytes(ro, 4);
    p_u64(0);
    p_u64(0);
    p_bytes(rw2, 4);
    p_send();
    expect_status(id, BAD_MESSAGE);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

/* ---- options ---- */

/* sftp-server's flags WORDS (NULL-ended) into O; ERR gets the message. */
static int parse_words(struct sf_sftp_opts *o, char *err, char *const *words)
{
    char *argv[16];
    int argc = 0;
    for (; argc < 15 && words[argc]; argc++)
        argv[argc] = words[argc];
    argv[argc] = NULL;
    return sf_sftp_parse_args(argc, argv, o, err, 256);
}
/* parse(&o, err, "-R", "-u", "077", NULL): the words as an array, so the
 * ending NULL is a pointer of the right type. */
#define parse(o, err, ...) parse_words(o, err, (char *[]){__VA_ARGS__})

START_TEST(options_parse_like_sftp_server)
{
    struct sf_sftp_opts o;
    char err[256];
    ck_assert_int_eq(parse(&o, err, NULL), 0);
    ck_assert_int_eq(o.read_only, 0);
    ck_assert_int_eq(o.umask, -1);
    ck_assert_ptr_null(o.allow);
    ck_assert_ptr_null(o.deny);
    ck_assert_ptr_null(o.start_dir);
    ck_assert_int_eq(parse(&o, err, "-R", "-p", "open,read,close", "-P", "remove", "-u", "077",
                           "-d", "%d/in", NULL), 0);
    ck_assert_int_eq(o.read_only, 1);
    ck_assert_str_eq(o.allow, "open,read,close");
    ck_assert_str_eq(o.deny, "remove");
    ck_assert_int_eq(o.umask, 077);
    ck_assert_str_eq(o.start_dir, "%d/in");
    /* getopt's forms: flags together, a value in the same word */
    ck_assert_int_eq(parse(&o, err, "-eRu022", "-Pcopy-data,posix-rename", NULL), 0);
    ck_assert_int_eq(o.read_only, 1);
    ck_assert_int_eq(o.umask, 022);
    ck_assert_str_eq(o.deny, "copy-data,posix-rename");
    /* sftp-server's logging options are taken */
    ck_assert_int_eq(parse(&o, err, "-e", "-f", "AUTHPRIV", "-l", "VERBOSE", NULL), 0);
    ck_assert_int_eq(parse(&o, err, "-Q", "requests", NULL), 0);
    ck_assert_int_eq(o.query_requests, 1);
    ck_assert_int_eq(parse(&o, err, "-h", NULL), 0);
    ck_assert_int_eq(o.help, 1);
    /* OpenSSH's names we do not serve are still names */
    ck_assert_int_eq(parse(&o, err, "-P", "home-directory,users-groups-by-id", NULL), 0);
    /* empty items are nothing */
    ck_assert_int_eq(parse(&o, err, "-p", "open,,read,", NULL), 0);

    ck_assert_int_eq(parse(&o, err, "-p", "open,bogus", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "bogus"));
    ck_assert_int_eq(parse(&o, err, "-P", "open*", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-p", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-p", "open", "-p", "read", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-u", "8", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-u", "1000", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-u", "", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-u", "-1", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-u", "07x", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-Q", "features", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-x", NULL), -1);
    ck_assert_ptr_nonnull(strstr(err, "-x"));
    ck_assert_int_eq(parse(&o, err, "extra", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-R", "--", "extra", NULL), -1);
    ck_assert_int_eq(parse(&o, err, "-R", "--", NULL), 0);
}
END_TEST

START_TEST(options_decide_requests)
{
    struct sf_sftp_opts o;
    char err[256];
    ck_assert_int_eq(sf_sftp_request_permitted(NULL, "remove"), 1);
    ck_assert_int_eq(sf_sftp_request_permitted(NULL, "nonsense"), 0);
    ck_assert_int_eq(parse(&o, err, "-R", NULL), 0);
    const char *writes[] = {"write", "setstat", "fsetstat", "remove", "mkdir", "rmdir", "rename",
                            "symlink", "posix-rename", "hardlink", "fsync", "lsetstat",
                            "copy-data"};
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++)
        ck_assert_msg(!sf_sftp_request_permitted(&o, writes[i]), "%s under -R", writes[i]);
    const char *reads[] = {"open", "close", "read", "lstat", "fstat", "opendir", "readdir",
                           "realpath", "stat", "readlink", "statvfs", "fstatvfs", "limits",
                           "expand-path"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
        ck_assert_msg(sf_sftp_request_permitted(&o, reads[i]), "%s under -R", reads[i]);
    ck_assert_int_eq(parse(&o, err, "-P", "remove,rmdir", NULL), 0);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "remove"), 0);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "rmdir"), 0);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "rename"), 1);
    /* "remove" is not a prefix match */
    ck_assert_int_eq(parse(&o, err, "-P", "rename", NULL), 0);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "posix-rename"), 1);
    ck_assert_int_eq(parse(&o, err, "-p", "open,read,close,stat", NULL), 0);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "read"), 1);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "lstat"), 0);
    /* denied wins over allowed */
    ck_assert_int_eq(parse(&o, err, "-p", "open,read", "-P", "read", NULL), 0);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "open"), 1);
    ck_assert_int_eq(sf_sftp_request_permitted(&o, "read"), 0);
    /* -Q requests' list */
    int n = 0;
    while (sf_sftp_request_name(n))
        n++;
    ck_assert_int_eq(n, 27);
    ck_assert_str_eq(sf_sftp_request_name(0), "open");
    ck_assert_str_eq(sf_sftp_request_name(26), "copy-data");
    ck_assert_ptr_null(sf_sftp_request_name(-1));
}
END_TEST

START_TEST(options_expand_start_dir)
{
    char out[64];
    ck_assert_int_eq(sf_sftp_expand_dir("%d/up", "alice", "/home/alice", out, sizeof out), 0);
    ck_assert_str_eq(out, "/home/alice/up");
    ck_assert_int_eq(sf_sftp_expand_dir("/srv/%u/%%d", "alice", "/h", out, sizeof out), 0);
    ck_assert_str_eq(out, "/srv/alice/%d");
    ck_assert_int_eq(sf_sftp_expand_dir("~", "a", "/h/a", out, sizeof out), 0);
    ck_assert_str_eq(out, "/h/a");
    ck_assert_int_eq(sf_sftp_expand_dir("~/x", "a", "/h/a", out, sizeof out), 0);
    ck_assert_str_eq(out, "/h/a/x");
    ck_assert_int_eq(sf_sftp_expand_dir("/tmp", "a", "/h/a", out, sizeof out), 0);
    ck_assert_str_eq(out, "/tmp");
    ck_assert_int_eq(sf_sftp_expand_dir("a~", "a", "/h", out, sizeof out), 0);
    ck_assert_str_eq(out, "a~");
    errno = 0;
    ck_assert_int_eq(sf_sftp_expand_dir("%h", "a", "/h", out, sizeof out), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(sf_sftp_expand_dir("/x%", "a", "/h", out, sizeof out), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(sf_sftp_expand_dir("", "a", "/h", out, sizeof out), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(sf_sftp_expand_dir("%d%d%d%d%d%d%d%d", "a", "/home/someone", out, sizeof out),
                     -1);
    ck_assert_int_eq(errno, ENAMETOOLONG);
    /* OUT holds 63 bytes and the NUL */
    char longest[65];
    memset(longest, 'x', 64);
    longest[64] = 0;
    ck_assert_int_eq(sf_sftp_expand_dir(longest + 1, "a", "/h", out, sizeof out), 0);
    ck_assert_str_eq(out, longest + 1);
    ck_assert_int_eq(sf_sftp_expand_dir(longest, "a", "/h", out, sizeof out), -1);
    ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

static void make_file(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", srv_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "data", 4), 4);
    close(fd);
}

static uint32_t req_ext_path(const char *ext, const char *path)
{
    uint32_t id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str(ext);
    p_str(path);
    p_send();
    return id;
}

START_TEST(read_only_server_refuses_changes)
{
    struct sf_sftp_opts o;
    char err[256];
    ck_assert_int_eq(parse(&o, err, "-R", NULL), 0);
    srv_opts = &o;
    srv_start();
    srv_opts = NULL;
    init();
    make_file("f");
    struct stat st;
    /* OPEN: reading yes; writing, creating, truncating no */
    unsigned char h[4], w[4];
    open_file("f", 0x01, h);
    expect_reply(DATA, req_read(h, 0, 100));
    ck_assert_str_eq(r_str(NULL), "data");
    const uint32_t denied_open[] = {0x02, 0x01 | 0x02, 0x01 | 0x08, 0x01 | 0x10, 0x02 | 0x04};
    for (size_t i = 0; i < sizeof denied_open / sizeof denied_open[0]; i++) {
        uint32_t id = next_id++;
        p_begin(OPEN);
        p_u32(id);
        p_str(i == 2 ? "new" : "f");
        p_u32(denied_open[i]);
        p_u32(0);
        p_send();
        expect_status(id, PERMISSION_DENIED);
    }
    ck_assert_int_eq(srv_file("new", &st), -1);
    expect_status(req_path(REMOVE, "f"), PERMISSION_DENIED);
    expect_status(req_path(RMDIR, "."), PERMISSION_DENIED);
    uint32_t id = next_id++;
    p_begin(MKDIR);
    p_u32(id);
    p_str("d");
    p_u32(0);
    p_send();
    expect_status(id, PERMISSION_DENIED);
    expect_status(two_paths(RENAME, NULL, "f", "g"), PERMISSION_DENIED);
    expect_status(two_paths(EXTENDED, "posix-rename@openssh.com", "f", "g"), PERMISSION_DENIED);
    expect_status(two_paths(EXTENDED, "hardlink@openssh.com", "f", "g"), PERMISSION_DENIED);
    expect_status(two_paths(SYMLINK, NULL, "f", "g"), PERMISSION_DENIED);
    id = next_id++;
    p_begin(SETSTAT);
    p_u32(id);
    p_str("f");
    p_u32(4);
    p_u32(0600);
    p_send();
    expect_status(id, PERMISSION_DENIED);
    expect_status(req_handle(FSETSTAT, h), PERMISSION_DENIED);
    memcpy(w, h, 4);
    expect_status(req_copy(h, 0, 0, w, 0), PERMISSION_DENIED);
    /* a write on a read handle would fail anyway; it is refused before that */
    id = next_id++;
    p_begin(WRITE);
    p_u32(id);
    p_bytes(h, 4);
    p_u64(0);
    p_str("x");
    p_send();
    expect_status(id, PERMISSION_DENIED);
    /* everything is where it was */
    ck_assert_int_eq(srv_file("f", &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0644);
    ck_assert_int_eq(st.st_size, 4);
    ck_assert_int_eq(srv_file("g", &st), -1);
    ck_assert_int_eq(srv_file("d", &st), -1);
    /* reading requests still work */
    expect_reply(ATTRS, req_path(STAT, "f"));
    expect_reply(HANDLE, req_path(OPENDIR, "."));
    expect_reply(EXTENDED_REPLY, req_ext_path("statvfs@openssh.com", "."));
    expect_reply(NAME, req_path(REALPATH, "."));
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

START_TEST(allow_and_deny_lists)
{
    struct sf_sftp_opts o;
    char err[256];
    ck_assert_int_eq(parse(&o, err, "-P", "remove", NULL), 0);
    srv_opts = &o;
    srv_start();
    srv_opts = NULL;
    init();
    make_file("f");
    struct stat st;
    expect_status(req_path(REMOVE, "f"), PERMISSION_DENIED);
    ck_assert_int_eq(srv_file("f", &st), 0);
    expect_status(two_paths(RENAME, NULL, "f", "g"), OK);
    ck_assert_int_eq(srv_stop(), 0);

    ck_assert_int_eq(parse(&o, err, "-p", "open,close,read,stat", NULL), 0);
    srv_opts = &o;
    srv_start();
    srv_opts = NULL;
    init();
    make_file("f");
    unsigned char h[4];
    open_file("f", 0x01, h);
    expect_reply(ATTRS, req_path(STAT, "f"));
    expect_status(req_path(LSTAT, "f"), PERMISSION_DENIED);
    expect_status(req_path(OPENDIR, "."), PERMISSION_DENIED);
    uint32_t id = next_id++;
    p_begin(EXTENDED);
    p_u32(id);
    p_str("limits@openssh.com");
    p_send();
    expect_status(id, PERMISSION_DENIED);
    /* unknown extensions stay unsupported, whatever the lists say */
    expect_status(req_ext_path("nonsense@example.com", "."), OP_UNSUPPORTED);
    expect_status(req_handle(CLOSE, h), OK);
    ck_assert_int_eq(srv_stop(), 0);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("sftp");
    const TTest *tests[] = {
        version_lists_extensions, limits_allow_large_transfers, write_read_roundtrip,
        read_length_is_clamped, pipelined_requests_answered_in_order, stat_and_errors_mapped,
        mkdir_opendir_readdir_longname, rename_symlink_link, realpath_and_expand_path,
        setstat_fsetstat_statvfs_fsync, malformed_requests_get_bad_message,
        handle_table_is_bounded, oversized_packet_ends_session,
        requests_before_a_bad_length_are_answered, zero_length_packet_ends_session,
        eof_mid_packet_exits_cleanly, random_packets_never_crash, replies_to_a_regular_file,
        copy_data_copies_ranges, copy_data_appends_to_an_append_handle, copy_data_refusals,
        options_parse_like_sftp_server, options_decide_requests, options_expand_start_dir,
        read_only_server_refuses_changes, allow_and_deny_lists,
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        UNIT_ADD(s, tests[i]);
    Suite *const suites[] = {s, NULL};
    return unit_run("sftp", suites);
}
