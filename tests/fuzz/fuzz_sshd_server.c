/* libFuzzer target: envinit-sshd's connection handling (conn.c's setup,
 * callbacks, event loop and ending, through sf_conn_serve_here) run in this
 * process over a socketpair, on the fuzz build of our patched libssh; the
 * input is everything the client sends. The server offers our key
 * exchange, host key and public key algorithms, but only the "none" cipher
 * and MAC (the fuzz build has them), so that after the key exchange the
 * input still reaches the service request, userauth and channel messages,
 * and everything the server sends stays readable.
 *
 * The environment user is this process's uid under the name "fuzzer", with
 * a throwaway home whose authorized_keys holds public keys only (the
 * client can offer and probe them but never sign for one).
 *
 * Oracles besides the sanitizers (abort when violated):
 *  - nothing reaches our channel handlers before authentication: a channel
 *    open, channel request or global request arriving at sf_session_open
 *    or sf_dispatch_message (wrapped at link time, -Wl,--wrap);
 *  - no authentication succeeds: sf_conn_serve_here says so, and the
 *    server never sends USERAUTH_SUCCESS;
 *  - no connection-protocol success leaves the server (REQUEST_SUCCESS,
 *    CHANNEL_OPEN_CONFIRMATION, CHANNEL_SUCCESS, channel data, ...), and
 *    its output is plaintext SSH packets after its banner.
 * FUZZ_SSHD_LOG=N keeps envinit-sshd's log on stderr, with libssh's at its
 * verbosity N (0 none, 1 warnings ... 4 functions);
 * FUZZ_SSHD_TRACE=1 prints the message types the server sent per input. */
#include "sshfallback.h"
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* One write fills the socket buffer before the server reads: stay within it. */
#define MAX_INPUT (64 * 1024)
#define MAX_OUTPUT (8u << 20)
#define MAX_PACKET (256u * 1024)

/* The same keys as tests/fuzz/corpus/envfile_key (the seed generator reads
 * them there): a plain line, options that allow a probe, a from= that the
 * socketpair's "UNKNOWN" peer fails, security keys, an unsupported option,
 * and a line that is no key. */
static const char authorized_keys[] =
    "# keys nobody can sign for in the fuzz target\n"
    "ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIFQ3ngU5lko5JNkBOu9DcfEXTSXbb9OJayXlAX90OjcE"
    " ed25519@test\n"
    "restrict,command=\"echo \\\"x\\\"\" ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDdXN+ocGah7DG/ruYvm8R6hXB1st1fCvm5L4D+F"
    "81jx6eyM9GikQCsm+DdB7TdpCBNT6hZ5HwAC7BFLSAWUvRE="
    " ecdsa@test\n"
    "from=\"10.0.0.0/8,!10.1.*\" ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQC9xoK8Y6M4hIEVtfwPL/b8VdtJw1ZrlS9vZPEOeY6eq8cHREQ18B2qYCKAph6D"
    "0UyL8+5jFOznvQ+dY4Y372p1K2gCHHlhLxP1gC+de0bKtR8jnJQ85LCWPjq4o++hTf5fJy59Ae4xFJ1GFGZTmQQ0tOjq"
    "DwEocjLZjMahVK3MpdfQo96LDnV5yFcvkdnsO2RhbbIuFgnPLayOJx96u8sCcmatfkx1QJpmmNM7OoO9otvlORWoIfeE"
    "DngHnBHTwmBxoLEVmKdMjnnHlQ/Lk7yEiFv8dJ5jfYmO/OirPp/sJq/zlYAKSs7nY5WaYT5w3gZhjxKBjUTDu7ZdLusR"
    "qDNH"
    " rsa@test\n"
    "no-touch-required sk-ssh-ed25519@openssh.com "
    "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIILLIVKrOT9B8FFYw+p3Dd9FnUcOYwYp9nUJymhlR6+eAAAA"
    "BHNzaDo="
    " sked@test\n"
    "verify-required sk-ecdsa-sha2-nistp256@openssh.com "
    "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBDdXN+ocGah7DG/ruYvm"
    "8R6hXB1st1fCvm5L4D+F81jx6eyM9GikQCsm+DdB7TdpCBNT6hZ5HwAC7BFLSAWUvREAAAAEc3NoOg=="
    " skec@test\n"
    "environment=\"A=B\" ecdsa-sha2-nistp521 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHdgaPiRVSYIOUHkBtnfBdkFQAyF5x5DWo5PgXN"
    "IoCyf7kh5dfwV7l45/beY38jBqhsYim/+yhXtqcpiHXHujkrOQFKtdQJkyMmltOEydwxvefQz4MTzA6e08up0TV9V83X"
    "sNnWhdeigIT7BDgJQ4pfLtY+FQ2TQMxN45dD2pxKxhRvKw=="
    " p521@test\n"
    "this is not a key\n";

static struct envfile_user account;
static struct sf_config cfg;
static ssh_bind sshbind;
static char home[256], ssh_dir[300], keys_file[320];
static int trace;

static void __attribute__((noreturn, format(printf, 1, 2))) oracle_fail(const char *fmt, ...);
static void oracle_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz_sshd_server: oracle: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- the throwaway home ---- */

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0)
        oracle_fail("cannot write %s: %s", path, strerror(errno));
}

static void remove_home(void)
{
    unlink(keys_file);
    rmdir(ssh_dir);
    rmdir(home);
}

static void make_home(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(home, sizeof home, "%s/fuzz-sshd.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(home))
        oracle_fail("mkdtemp %s: %s", home, strerror(errno));
    snprintf(ssh_dir, sizeof ssh_dir, "%s/.ssh", home);
    snprintf(keys_file, sizeof keys_file, "%s/authorized_keys", ssh_dir);
    if (mkdir(ssh_dir, 0700) < 0)
        oracle_fail("mkdir %s: %s", ssh_dir, strerror(errno));
    write_file(keys_file, authorized_keys, 0600);
    atexit(remove_home);
}

/* ---- the server's settings ---- */

static void libssh_log(int priority, const char *function, const char *buffer, void *ud)
{
    (void)priority;
    (void)function;
    (void)ud;
    log_debug("libssh: %s", buffer);
}

/* main.c's bind with our algorithm lists, but the "none" cipher and MAC. */
static ssh_bind make_bind(int verbosity)
{
    ssh_key key = NULL;
    ssh_bind b = ssh_bind_new();
    int no = 0;
    if (!b || ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK)
        oracle_fail("no host key for the fuzz server");
    struct { enum ssh_bind_options_e opt; const void *val; } o[] = {
        {SSH_BIND_OPTIONS_PROCESS_CONFIG, &no},
        {SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity},
        {SSH_BIND_OPTIONS_KEY_EXCHANGE, SF_KEX},
        {SSH_BIND_OPTIONS_CIPHERS_C_S, "none"},
        {SSH_BIND_OPTIONS_CIPHERS_S_C, "none"},
        {SSH_BIND_OPTIONS_HMAC_C_S, "none"},
        {SSH_BIND_OPTIONS_HMAC_S_C, "none"},
        {SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, SF_HOSTKEYS},
        {SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, SF_PUBKEYS},
    };
    for (size_t i = 0; i < sizeof o / sizeof o[0]; i++)
        if (ssh_bind_options_set(b, o[i].opt, o[i].val) != SSH_OK)
            oracle_fail("libssh refused bind option %d: %s (built without "
                        "LIBSSH_INSECURE_NONE=1?)", (int)o[i].opt, ssh_get_error(b));
    return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *log = getenv("FUZZ_SSHD_LOG");
    int verbose = log != NULL;
    trace = getenv("FUZZ_SSHD_TRACE") != NULL;
    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_DEBUG);
    if (!verbose) {
        int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd < 0)
            oracle_fail("/dev/null: %s", strerror(errno));
        log_set_fd(null_fd);
    }
    make_home();
    account = (struct envfile_user){.uid = geteuid(), .gid = getegid()};
    snprintf(account.name, sizeof account.name, "fuzzer");
    snprintf(account.home, sizeof account.home, "%s", home);
    snprintf(account.shell, sizeof account.shell, "/bin/sh");
    cfg = (struct sf_config){
        .account = &account, .user = account.name, .ready_fd = -1, .grace_s = 30,
        .max_auth_tries = 6, .max_sessions = 10, .startups = {10, 30, 100},
        .passwd_path = ENVFILE_PASSWD, .group_path = ENVFILE_GROUP, .x11_display_offset = 10,
    };
    ssh_init();
    if (verbose)
        ssh_set_log_callback(libssh_log);
    sshbind = make_bind(verbose ? atoi(log) : SSH_LOG_NOLOG);
    return 0;
}

/* ---- the oracles ---- */

/* conn.c's references to these reach the wrappers (-Wl,--wrap): no
 * authentication ever succeeds here, so none may be called with a
 * connection-protocol request. */
ssh_channel __wrap_sf_session_open(ssh_session session, void *userdata);
ssh_channel __wrap_sf_session_open(ssh_session session, void *userdata)
{
    (void)session;
    (void)userdata;
    oracle_fail("a session channel open reached sf_session_open without authentication");
}

int __real_sf_dispatch_message(ssh_session session, ssh_message msg, void *userdata);
int __wrap_sf_dispatch_message(ssh_session session, ssh_message msg, void *userdata);
int __wrap_sf_dispatch_message(ssh_session session, ssh_message msg, void *userdata)
{
    int type = ssh_message_type(msg);
    if (type == SSH_REQUEST_CHANNEL_OPEN || type == SSH_REQUEST_CHANNEL || type == SSH_REQUEST_GLOBAL)
        oracle_fail("message type %d (subtype %d) reached sf_dispatch_message without authentication", type,
                    ssh_message_subtype(msg));
    return __real_sf_dispatch_message(session, msg, userdata);
}

/* RFC 4252/4254 messages a server sends only to an authenticated client:
 * USERAUTH_SUCCESS, and the connection protocol but for its refusals
 * (REQUEST_FAILURE, CHANNEL_OPEN_FAILURE). */
static int needs_login(unsigned type)
{
    return type == 52 || (type >= 80 && type <= 99 && type != 82 && type != 92);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The server's output: its banner line, then packets in the clear (only
 * "none" is offered, and compression waits for a login). A packet cut
 * short at the very end is the socket closing under it. */
static void check_output(const unsigned char *p, size_t n)
{
    if (n == 0)
        return;
    if (n < 8 || memcmp(p, "SSH-2.0-", 8) != 0)
        oracle_fail("server output does not start with its banner");
    const unsigned char *nl = memchr(p, '\n', n);
    size_t pos = nl ? (size_t)(nl - p) + 1 : n;
    if (trace)
        fprintf(stderr, "fuzz_sshd_server: server sent:");
    while (n - pos >= 6) {
        uint32_t len = be32(p + pos);
        if (len < 5 || len > MAX_PACKET || p[pos + 4] + 1u >= len)
            oracle_fail("server packet at byte %zu is not a plaintext packet (length %u)", pos,
                        (unsigned)len);
        if (n - pos - 4 < len)
            break;
        unsigned type = p[pos + 5];
        if (trace)
            fprintf(stderr, " %u", type);
        if (needs_login(type))
            oracle_fail("server sent message %u to a client that never authenticated", type);
        pos += 4 + (size_t)len;
    }
    if (trace)
        fputc('\n', stderr);
}

/* ---- one connection ---- */

struct drain {
    int fd;
    unsigned char *buf;
    size_t len, size;
};

/* Reads what the server sends until it closes the connection. */
static void *drain_output(void *arg)
{
    struct drain *d = arg;
    for (;;) {
        if (d->len == d->size) {
            if (d->size >= MAX_OUTPUT)
                oracle_fail("server sent more than %u bytes", MAX_OUTPUT);
            d->size = d->size ? d->size * 2 : 65536;
            d->buf = realloc(d->buf, d->size);
            if (!d->buf)
                abort();
        }
        ssize_t r = read(d->fd, d->buf + d->len, d->size - d->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
        d->len += (size_t)r;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > MAX_INPUT)
        return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        oracle_fail("socketpair: %s", strerror(errno));
    if ((size && write(sv[1], data, size) != (ssize_t)size) || shutdown(sv[1], SHUT_WR) < 0)
        oracle_fail("writing the input: %s", strerror(errno));
    struct drain d = {.fd = sv[1]};
    pthread_t t;
    if (pthread_create(&t, NULL, drain_output, &d) != 0)
        oracle_fail("pthread_create failed");
    int rc = sf_conn_serve_here(&cfg, sshbind, sv[0]);
    pthread_join(t, NULL);
    close(sv[1]);
    if (rc < 0)
        oracle_fail("the server could not take the connection");
    if (rc > 0)
        oracle_fail("a client authenticated without a private key");
    check_output(d.buf, d.len);
    free(d.buf);
    return 0;
}
