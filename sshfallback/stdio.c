/* envinit-sshd -i: one connection on stdin and stdout, as sshd -i serves
 * one for inetd, or a ProxyCommand such as `docker exec -i` reaches it.
 *
 * libssh talks on one bidirectional descriptor. stdin that is a socket is
 * one already. Pipes (docker exec, kubectl exec, ssh's own ProxyCommand)
 * are two descriptors: a pump, the process that was started, copies stdin
 * into a socketpair and the socketpair out to stdout, and the connection
 * runs in its child on the other end. The pump is forked before the host
 * key is read, so it never holds it, and it is the user (or stays the
 * unprivileged caller) like the connection. It exits after the last byte
 * of the connection reached stdout, so whoever waits for the command that
 * was started (docker exec, ssh) sees the whole stream. */
#include "sshfallback.h"
#include "../envfile/envfile.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PUMP_BUF (64 * 1024)

/* One direction of the pump: bytes read from FROM wait in BUF for TO. */
struct flow {
    const char *name;           /* for the log */
    int from, to;
    char buf[PUMP_BUF];
    size_t off, len;
    int eof;                    /* nothing more will come from FROM */
    int done;                   /* TO got everything, or can take nothing more */
};

static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Points FD at /dev/null. 0, or -1. */
static int to_null(int fd)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int rc = null < 0 || dup2(null, fd) < 0 ? -1 : 0;
    if (null >= 0 && null != fd)
        close(null);
    return rc;
}

/* The pump needs no right at all: root becomes the user (no group, no
 * capability), and nothing may ptrace it. */
static int pump_drop_privileges(const struct envfile_user *u)
{
    if (geteuid() == 0) {
        capng_clear(CAPNG_SELECT_CAPS);
        if (capng_change_id((int)u->uid, (int)u->gid, CAPNG_DROP_SUPP_GRP) < 0 ||
            geteuid() != u->uid) {
            log_error("stdio: the pump cannot become %s (uid %u); connection closed", u->name,
                      (unsigned)u->uid);
            return -1;
        }
    }
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return 0;
}

/* What poll waits for in F: its source while the buffer is empty, else
 * its sink. Nothing (-1) once done. */
static void flow_poll(const struct flow *f, struct pollfd *p)
{
    if (f->done)
        *p = (struct pollfd){.fd = -1};
    else if (f->len)
        *p = (struct pollfd){.fd = f->to, .events = POLLOUT};
    else
        *p = (struct pollfd){.fd = f->eof ? -1 : f->from, .events = POLLIN};
}

/* The source is readable: one read, which a blocking stdin answers at
 * once after poll said so. */
static void flow_read(struct flow *f)
{
    ssize_t n = read(f->from, f->buf, sizeof f->buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0)
        log_info("stdio: reading %s: %s; treated as its end", f->name, strerror(errno));
    if (n <= 0) {
        f->eof = 1;
        return;
    }
    f->off = 0;
    f->len = (size_t)n;
}

/* The sink is writable. At most PIPE_BUF bytes: stdout stays blocking (its
 * file description is shared with whoever started us), and a pipe that
 * poll calls writable takes that much without blocking. */
static void flow_write(struct flow *f, size_t max)
{
    ssize_t n = write(f->to, f->buf + f->off, f->len < max ? f->len : max);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0) {
        log_info("stdio: writing %s: %s; that direction ends", f->name, strerror(errno));
        f->len = 0;
        f->eof = f->done = 1;
        return;
    }
    f->off += (size_t)n;
    f->len -= (size_t)n;
}

/* Copies both ways until the connection's side has ended and all it sent
 * is on stdout. The end of stdin becomes the end of the socket's sending
 * side, the end of the socket closes stdout. */
static void pump(int sock)
{
    static struct flow in = {.name = "stdin to the connection", .from = STDIN_FILENO};
    static struct flow out = {.name = "the connection to stdout", .to = STDOUT_FILENO};
    in.to = out.from = sock;
    while (!out.done) {
        struct pollfd p[2];
        flow_poll(&in, &p[0]);
        flow_poll(&out, &p[1]);
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("stdio: poll: %s; connection closed", strerror(errno));
            return;
        }
        struct flow *f[2] = {&in, &out};
        for (int i = 0; i < 2; i++) {
            if (!p[i].revents)
                continue;
            if (f[i]->len)
                flow_write(f[i], f[i] == &out ? PIPE_BUF : sizeof f[i]->buf);
            else
                flow_read(f[i]);
        }
        if (in.eof && !in.len && !in.done) {
            shutdown(sock, SHUT_WR);
            in.done = 1;
        }
        if (out.eof && !out.len)
            out.done = 1;
    }
    close(STDOUT_FILENO); /* the client's end of the stream, before we wait */
}

/* The pump's life: copy, then wait for the connection and exit as it did. */
static void __attribute__((noreturn)) run_pump(const struct envfile_user *u, int sock, pid_t conn)
{
    signal(SIGPIPE, SIG_IGN);
    if (pump_drop_privileges(u) == 0)
        pump(sock);
    close(sock); /* the connection sees the end, if it has not yet */
    int st = 0;
    while (waitpid(conn, &st, 0) < 0 && errno == EINTR)
        ;
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

/* Logs must never mix with the protocol: stderr that is stdin's or
 * stdout's file (inetd hands the socket as all three) goes to /dev/null. */
static void keep_logs_off_the_stream(void)
{
    if (same_file(STDERR_FILENO, STDIN_FILENO) || same_file(STDERR_FILENO, STDOUT_FILENO))
        to_null(STDERR_FILENO);
}

int sf_stdio_connection_fd(const struct envfile_user *u)
{
    if (!is_socket(STDIN_FILENO) && fcntl(STDIN_FILENO, F_GETFL) < 0) {
        log_error("stdio: stdin is closed; nothing to serve");
        return -1;
    }
    keep_logs_off_the_stream();
    if (is_socket(STDIN_FILENO)) {
        int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd < 0 || to_null(STDIN_FILENO) < 0 || to_null(STDOUT_FILENO) < 0) {
            log_error("stdio: cannot take the socket on stdin: %s; connection closed", strerror(errno));
            return -1;
        }
        return fd;
    }
    if (fcntl(STDOUT_FILENO, F_GETFL) < 0) {
        log_error("stdio: stdout is closed; nothing to serve");
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        log_error("stdio: socketpair: %s; connection closed", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error("stdio: fork: %s; connection closed", strerror(errno));
        return -1;
    }
    if (pid > 0) {
        close(sv[0]);
        fcntl(sv[1], F_SETFL, O_NONBLOCK);
        run_pump(u, sv[1], pid);
    }
    /* The connection: only the socketpair; stdin and stdout are the pump's. */
    close(sv[1]);
    if (to_null(STDIN_FILENO) < 0 || to_null(STDOUT_FILENO) < 0) {
        log_error("stdio: /dev/null: %s; connection closed", strerror(errno));
        return -1;
    }
    return sv[0];
}
