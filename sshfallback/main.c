/* envinit-sshd: the command line and the listener. The listener accepts,
 * applies MaxStartups and forks one process per connection (conn.c); it
 * never speaks SSH itself, so a slow or hostile client cannot stall it. */
#include "sshfallback.h"
#include "../envfile/envfile.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <malloc.h>
#include <netdb.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 4096
/* The -f file and the banner, as read (the banner file is at most 32 KiB). */
#define SF_TEXT_MAX (1024 * 1024)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " SF_NAME " [OPTION...]                  listen and serve, a process per connection\n"
            "       " SF_NAME " -i [OPTION...]               one connection on stdin/stdout (sshd -i)\n"
            "       " SF_NAME " --print-host-key [OPTION...] the served host keys' public lines\n"
            "Options (in brackets: the sshd_config keyword that -f FILE sets them with):\n");
    sf_options_help(out);
    fprintf(out, "LIST as in sshd_config: a,b (exactly), +a,b (added to the default), -a,b (removed;\n"
                 "* and ? patterns), ^a,b (put first). Exit status 78: a configuration no restart fixes.\n"
                 "See the README's \"The fallback server\" and \"Algorithms for older clients\".\n");
}

/* The command line, through sf_options[] (options.c): getopt_long's
 * options and the short ones come from the table. A switch given twice
 * keeps its last value, as it always did; the file (-f) then only fills in
 * what the command line left unset (sf_config_apply_text). */
static int parse_args(int argc, char **argv, struct sf_config *c)
{
    static struct option opts[SF_OPT_COUNT + 1];
    char shorts[2 * SF_OPT_COUNT + 1];
    size_t ns = 0;
    for (size_t i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        int arg = o->kind != SF_OPT_FLAG && o->kind != SF_OPT_IGNORED && o->kind != SF_OPT_ACTION;
        opts[i] = (struct option){o->name, arg ? required_argument : no_argument, NULL, 256 + (int)i};
        if (o->short_opt) {
            shorts[ns++] = (char)o->short_opt;
            if (arg)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    int o;
    while ((o = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        size_t i = SF_OPT_COUNT;
        if (o >= 256)
            i = (size_t)(o - 256);
        else
            for (size_t j = 0; j < SF_OPT_COUNT; j++)
                if (sf_options[j].short_opt == o)
                    i = j;
        if (i == SF_OPT_COUNT) {
            usage(stderr);
            return -1;
        }
        const struct sf_option *opt = &sf_options[i];
        char err[512];
        if (opt->kind == SF_OPT_ACTION) {
            if (opt->off == SF_ACT_VERBOSE) {
                log_set_level(LOG_DEBUG);
                c->libssh_log++;
            } else if (opt->off == SF_ACT_QUIET) {
                log_set_level(LOG_WARN);
            } else {
                usage(stdout);
                exit(0);
            }
        } else if (opt->kind != SF_OPT_IGNORED &&
                   sf_option_set(c, opt, optarg ? optarg : "", 0, err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
        c->seen[i] = 1;
    }
    if (optind != argc) {
        log_error("unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

/* -f: the file (for a connection, the listener's copy on
 * SF_CONN_CONFIG_FD) applied after the command line; *TEXT keeps it for
 * the connections. 0, or -1 (logged). */
static int apply_config_file(struct sf_config *c, char **text)
{
    *text = NULL;
    if (!c->config_path)
        return 0;
    int fd = c->connection ? SF_CONN_CONFIG_FD : open(c->config_path, O_RDONLY | O_CLOEXEC);
    char *t = fd >= 0 ? envfile_read_fd(fd, SF_TEXT_MAX, NULL) : NULL;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (!t) {
        log_error("configuration file %s: %s; not starting", c->config_path, strerror(saved));
        return -1;
    }
    char err[768];
    if (sf_config_apply_text(c, t, c->config_path, err, sizeof err) < 0) {
        log_error("%s; not starting", err);
        free(t);
        return -1;
    }
    *text = t; /* the listener hands it on to the connections */
    return 0;
}

static int listen_on(const char *addr, int port)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(addr, service, &hints, &ai);
    if (rc != 0) {
        log_error("listen address '%s': %s; not starting", addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1, zero = 0;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        log_error("listen on [%s]:%d: %s; not starting", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* The listener needs nothing but binding low ports and handing connection
 * processes the right to become the user. Only the effective/permitted
 * sets shrink: the bounding set stays so sudo still works in sessions. */
static int drop_listener_caps(void)
{
    if (geteuid() != 0)
        return 0;
    /* Checked before, with the fix named (check_privileges). */
    /* Without CAP_NET_BIND_SERVICE the port was bound all the same
     * (net.ipv4.ip_unprivileged_port_start, checked before). */
    capng_get_caps_process();
    int bind_cap = capng_have_capability(CAPNG_PERMITTED, CAP_NET_BIND_SERVICE) ? CAP_NET_BIND_SERVICE : CAP_SETUID;
    capng_clear(CAPNG_SELECT_CAPS);
    if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, bind_cap, CAP_SETUID, CAP_SETGID, -1) < 0 ||
        capng_apply(CAPNG_SELECT_CAPS) < 0) {
        log_error("cannot drop capabilities (libcap-ng); not starting");
        return -1;
    }
    return 0;
}

/* libssh's list of what it implements for TYPE (SSH_KEX...), from its
 * kex.c: our copy of libssh is linked in, so this internal function is
 * the very list ssh_bind_options_set checks against. */
const char *ssh_kex_get_supported_method(uint32_t type);

/* The algorithm lists offered: each compiled default with its switch
 * applied (sf_algo_apply), checked against what libssh implements (never
 * "none"); for host keys, against what we can hold a key for. Parsed the
 * same way by every connection's program image. 0, or -1 (logged). */
static int resolve_algorithms(struct sf_config *c)
{
    static const struct { const char *deflt, *option; int libssh_type; } a[SF_ALGO_N] = {
        [SF_ALGO_KEX] = {SF_KEX, "--kex-algorithms", SSH_KEX},
        [SF_ALGO_CIPHERS] = {SF_CIPHERS, "--ciphers", SSH_CRYPT_C_S},
        [SF_ALGO_MACS] = {SF_MACS, "--macs", SSH_MAC_C_S},
        [SF_ALGO_HOSTKEYS] = {SF_HOSTKEYS, "--host-key-algorithms", SSH_HOSTKEYS},
        [SF_ALGO_PUBKEYS] = {SF_PUBKEYS, "--pubkey-accepted-algorithms", SSH_HOSTKEYS},
    };
    for (int i = 0; i < SF_ALGO_N; i++) {
        char supported[SF_ALGO_MAX * 2] = "", err[SF_ALGO_MAX * 3];
        const char *impl = ssh_kex_get_supported_method((uint32_t)a[i].libssh_type);
        /* libssh's names that we offer: never "none"; host keys only of a
         * type we can hold */
        for (const char *p = impl ? impl : ""; *p;) {
            size_t n = strcspn(p, ",");
            int keep = n && !(n == 4 && memcmp(p, "none", 4) == 0);
            if (keep && i == SF_ALGO_HOSTKEYS) {
                char one[128];
                keep = n < sizeof one - 2 && snprintf(one, sizeof one, ",%.*s,", (int)n, p) > 0 &&
                       strstr("," SF_HOSTKEYS_SERVABLE ",", one) != NULL;
            }
            size_t used = strlen(supported);
            if (keep && used + n + 2 < sizeof supported)
                snprintf(supported + used, sizeof supported - used, "%s%.*s", used ? "," : "", (int)n, p);
            p += n;
            if (*p == ',')
                p++;
        }
        if (sf_algo_apply(a[i].deflt, c->algo_spec[i], supported, c->algos[i], sizeof c->algos[i], err,
                          sizeof err) < 0) {
            log_error("%s '%s': %s; not starting", a[i].option, c->algo_spec[i] ? c->algo_spec[i] : "",
                      err);
            return -1;
        }
        if (c->algo_spec[i])
            log_debug("%s: %s", a[i].option, c->algos[i]);
    }
    return 0;
}

/* The bind for C's settings, holding KEYS[0..N_KEYS): libssh owns each
 * key once imported (ssh_bind_free frees it). */
static ssh_bind make_bind(const struct sf_config *c, ssh_key *keys, size_t n_keys)
{
    ssh_bind b = ssh_bind_new();
    int no = 0, verbosity = c->libssh_log > 1 ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
    if (!b)
        return NULL;
    for (size_t i = 0; i < n_keys; i++)
        if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, keys[i]) != SSH_OK) {
            log_error("libssh rejected the %s host key: %s; not starting",
                      ssh_key_type_to_char(ssh_key_type(keys[i])), ssh_get_error(b));
            ssh_bind_free(b);
            return NULL;
        }
    struct { enum ssh_bind_options_e opt; const void *val; const char *what; } o[] = {
        {SSH_BIND_OPTIONS_PROCESS_CONFIG, &no, "config"},
        {SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity, "log"},
        {SSH_BIND_OPTIONS_KEY_EXCHANGE, c->algos[SF_ALGO_KEX], "kex"},
        {SSH_BIND_OPTIONS_CIPHERS_C_S, c->algos[SF_ALGO_CIPHERS], "ciphers"},
        {SSH_BIND_OPTIONS_CIPHERS_S_C, c->algos[SF_ALGO_CIPHERS], "ciphers"},
        {SSH_BIND_OPTIONS_HMAC_C_S, c->algos[SF_ALGO_MACS], "macs"},
        {SSH_BIND_OPTIONS_HMAC_S_C, c->algos[SF_ALGO_MACS], "macs"},
        {SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, c->algos[SF_ALGO_HOSTKEYS], "host key algorithms"},
        {SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, c->algos[SF_ALGO_PUBKEYS], "public key types"},
    };
    for (size_t i = 0; i < sizeof o / sizeof o[0]; i++)
        if (ssh_bind_options_set(b, o[i].opt, o[i].val) != SSH_OK) {
            log_error("libssh rejected the %s setting: %s; not starting", o[i].what,
                      ssh_get_error(b));
            ssh_bind_free(b);
            return NULL;
        }
    return b;
}

/* ---- the listener's bookkeeping of unauthenticated connections ---- */
struct listener {
    const struct sf_config *cfg;
    char **conn_args;           /* our own switches and --connection */
    int lfd, sfd, report_rd, report_wr, key_fd;
    int config_fd;              /* the -f file's text, -1 without one */
    int banner_fd;              /* the banner's text, -1 without one */
    unsigned max_pending;       /* MaxStartups' full, within our descriptors */
    /* pending connections: the process, and our copy of its socket, to see
     * whether the client has sent anything and to close it */
    struct { pid_t pid; int fd; long long since_ms; } unauth[MAX_CHILDREN];
    unsigned n_unauth, n_children;
};

static void unauth_drop(struct listener *l, unsigned i)
{
    close(l->unauth[i].fd);
    l->unauth[i] = l->unauth[--l->n_unauth];
}

static void unauth_remove(struct listener *l, pid_t pid)
{
    for (unsigned i = 0; i < l->n_unauth; i++)
        if (l->unauth[i].pid == pid) {
            unauth_drop(l, i);
            return;
        }
}

/* In the child: the connection gets a program image of its own, started
 * with the listener's switches, the client's socket, the host key, the
 * report pipe and the texts of the -f file and the banner (each when
 * there is one) on the fixed descriptors conn.c expects. */
static void __attribute__((noreturn)) start_connection(const struct listener *l, int fd)
{
    enum { N = SF_CONN_BANNER_FD - SF_CONN_SOCKET_FD + 1 };
    int from[N] = {fd, l->key_fd, l->report_wr, l->config_fd, l->banner_fd}, high[N];
    _Static_assert(SF_CONN_CONFIG_FD - SF_CONN_SOCKET_FD == 3, "from[] follows the SF_CONN_*_FD order");
    for (int i = 0; i < N; i++)
        if (from[i] >= 0 && (high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10)) < 0)
            _exit(126);
    for (int i = 0; i < N; i++)
        if (from[i] >= 0 && dup2(high[i], SF_CONN_SOCKET_FD + i) < 0) /* the copy stays open across exec */
            _exit(126);
    sf_reexec(l->conn_args);
}

/* Has the client sent anything on FD yet (the kernel's count)? */
static int silent(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return 0;
    return ti.tcpi_bytes_received == 0;
}

/* MaxStartups (see sshfallback.h): closes the pending connection that is
 * getting nowhere, if one is. Its process sees the socket shut and ends. */
static void make_room(struct listener *l, long long now)
{
    static struct sf_pending p[MAX_CHILDREN];
    for (unsigned i = 0; i < l->n_unauth; i++)
        p[i] = (struct sf_pending){.age_ms = now - l->unauth[i].since_ms, .silent = silent(l->unauth[i].fd)};
    long deadline = sf_startups_deadline_ms(&l->cfg->startups, l->n_unauth, (long)l->cfg->grace_s * 1000);
    int v = sf_startups_victim(p, l->n_unauth, deadline);
    if (v < 0)
        return;
    log_info("closing unauthenticated connection pid %d: %s for %lld ms (%u pending, max-startups %u:%u:%u)",
             (int)l->unauth[v].pid, p[v].silent ? "silent" : "unauthenticated", p[v].age_ms, l->n_unauth,
             l->cfg->startups.start, l->cfg->startups.rate, l->cfg->startups.full);
    shutdown(l->unauth[v].fd, SHUT_RDWR);
    unauth_drop(l, (unsigned)v);
}

static void accept_one(struct listener *l)
{
    int fd = accept4(l->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            log_warn("accept: %s; still listening", strerror(errno));
        return;
    }
    long long now = envfile_now_ms();
    const struct sf_startups *ms = &l->cfg->startups;
    if (l->n_unauth >= ms->start)
        make_room(l, now);
    if (l->n_children >= MAX_CHILDREN || l->n_unauth >= l->max_pending) {
        log_warn("dropping a new connection: %u unauthenticated connections, none silent or past the "
                 "deadline (max-startups %u:%u:%u)", l->n_unauth, ms->start, ms->rate, ms->full);
        close(fd);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork for a new connection: %s; connection dropped", strerror(errno));
        close(fd);
        return;
    }
    if (pid == 0)
        start_connection(l, fd);
    l->unauth[l->n_unauth].pid = pid;
    l->unauth[l->n_unauth].fd = fd;
    l->unauth[l->n_unauth++].since_ms = now;
    l->n_children++;
}

static void read_reports(struct listener *l)
{
    int32_t pids[256];
    ssize_t n;
    while ((n = read(l->report_rd, pids, sizeof pids)) > 0)
        for (size_t i = 0; i < (size_t)n / sizeof pids[0]; i++)
            unauth_remove(l, (pid_t)pids[i]);
}

/* Returns 1 when the listener should stop. */
static int handle_signals(struct listener *l)
{
    struct signalfd_siginfo si;
    int stop = 0;
    while (read(l->sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            int st;
            pid_t pid;
            /* Reports first: a child that authenticated and exited must not
             * linger in the unauthenticated list. */
            read_reports(l);
            while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                unauth_remove(l, pid);
                if (l->n_children)
                    l->n_children--;
            }
        } else if (si.ssi_signo == SIGHUP) {
            log_info("SIGHUP: nothing to reload (flags only); still listening");
        } else {
            log_info("signal %d: stopping the listener; open connections continue",
                     (int)si.ssi_signo);
            stop = 1;
        }
    }
    return stop;
}

static int serve(struct listener *l)
{
    for (;;) {
        struct pollfd p[3] = {
            {.fd = l->sfd, .events = POLLIN},
            {.fd = l->report_rd, .events = POLLIN},
            {.fd = l->lfd, .events = POLLIN},
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s; stopping", strerror(errno));
            return 1;
        }
        if (p[0].revents && handle_signals(l))
            return 0;
        if (p[1].revents)
            read_reports(l);
        if (p[2].revents)
            accept_one(l);
    }
}

static void resolve_defaults(struct sf_config *c)
{
    if (!c->listen_addr)
        c->listen_addr = "0.0.0.0";
    if (!c->port)
        c->port = 22;
    if (!c->grace_s)
        c->grace_s = 30;
    if (!c->max_auth_tries)
        c->max_auth_tries = 6;
    if (!c->max_sessions)
        c->max_sessions = 10;
    if (!c->startups.start)
        c->startups = (struct sf_startups){10, 30, 100};
    if (!c->passwd_path)
        c->passwd_path = ENVFILE_PASSWD;
    if (!c->group_path)
        c->group_path = ENVFILE_GROUP;
    if (!c->banner)
        c->banner = "none";
}

/* The banner's text: a connection's from the listener's memory file, the
 * others' from the file. 0, or -1 (logged). */
static int load_banner(struct sf_config *c, const struct envfile_owner *who)
{
    char *text = NULL;
    if (!c->banner || strcmp(c->banner, "none") == 0 || c->print_host_key)
        return 0;
    if (c->connection) {
        text = envfile_read_fd(SF_CONN_BANNER_FD, SF_TEXT_MAX, NULL);
        close(SF_CONN_BANNER_FD);
        if (!text)
            log_error("connection: no banner from the listener: %s; connection closed", strerror(errno));
    } else if (sf_banner_read(c->banner, who, &text) < 0) {
        return -1;
    }
    c->banner_text = text;
    return text ? 0 : -1;
}

/* The host keys for the connections' program images: a sealed memory
 * file that only this process and its children hold, never a path. Each
 * key in OpenSSH's private key format, ended by a NUL byte. */
static int key_memfd(ssh_key *keys, size_t n)
{
    int fd = memfd_create("envinit-sshd host keys", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int ok = fd >= 0;
    for (size_t i = 0; ok && i < n; i++) {
        char *b64 = NULL;
        if (ssh_pki_export_privkey_base64(keys[i], NULL, NULL, NULL, &b64) != SSH_OK) {
            errno = EINVAL;
            ok = 0;
            break;
        }
        size_t len = strlen(b64) + 1; /* its NUL too */
        ok = write(fd, b64, len) == (ssize_t)len;
        explicit_bzero(b64, len);
        ssh_string_free_char(b64);
    }
    if (!ok || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        log_error("cannot hand the host keys to connections: %s; not starting", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* A file's TEXT (the -f file, the banner) for the connections' program
 * images, sealed as the keys are: each connection uses what the listener
 * read, even when the file has changed since. WHAT names it in the log. */
static int text_memfd(const char *what, const char *text)
{
    char name[64];
    snprintf(name, sizeof name, "envinit-sshd %s", what);
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    size_t len = strlen(text);
    if (fd >= 0 && (write(fd, text, len) != (ssize_t)len ||
                    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        log_error("cannot hand the %s to connections: %s; not starting", what, strerror(errno));
    return fd;
}

/* The keys of key_memfd's file FD into KEYS[]: how many (0 when any is bad). */
static size_t keys_from_fd(int fd, ssh_key keys[SF_MAX_SERVED_KEYS])
{
    struct stat st;
    size_t n = 0;
    int bad = 0;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (1 << 20) &&
        (buf = calloc(1, (size_t)st.st_size + 1)) != NULL &&
        pread(fd, buf, (size_t)st.st_size, 0) == st.st_size) {
        for (char *p = buf; p < buf + st.st_size && *p && !bad; p += strlen(p) + 1) {
            keys[n] = NULL;
            bad = n == SF_MAX_SERVED_KEYS || ssh_pki_import_privkey_base64(p, NULL, NULL, NULL, &keys[n]) != SSH_OK;
            if (!bad)
                n++;
        }
    }
    if (buf) {
        explicit_bzero(buf, (size_t)st.st_size);
        free(buf);
    }
    close(fd);
    if (bad)
        while (n)
            ssh_key_free(keys[--n]);
    return n;
}

/* A connection's own program image (--connection, started by the
 * listener): the host key from its descriptor, the same settings, then
 * conn.c, which becomes the user before it reads a byte from the client. */
static int serve_connection(struct sf_config *c)
{
    ssh_key keys[SF_MAX_SERVED_KEYS];
    size_t n = keys_from_fd(SF_CONN_KEY_FD, keys);
    ssh_bind bind = n ? make_bind(c, keys, n) : NULL;
    if (!bind) {
        log_error("connection: no host key from the listener; connection closed");
        return 1;
    }
    sf_conn_run(c, bind, SF_CONN_SOCKET_FD, SF_CONN_REPORT_FD);
}

/* The signals a listener, and each connection after it, reads from its
 * signalfd; a dead client must not kill us mid-write (SIGPIPE). */
static void block_server_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigprocmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* -i: the one connection on FD (stdio.c), with the signals a listener's
 * connection inherits blocked for conn.c's signalfd. */
static int serve_stdio(struct sf_config *c, ssh_bind bind, int fd)
{
    sigset_t set;
    block_server_signals(&set);
    sf_conn_run(c, bind, fd, -1);
}

/* --print-host-key: the public line of each key, the only thing on stdout. */
static int print_host_keys(ssh_key *keys, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char *b64 = NULL;
        if (ssh_pki_export_pubkey_base64(keys[i], &b64) != SSH_OK) {
            log_error("cannot export the host key's public part");
            return 1;
        }
        rc = printf("%s %s\n", ssh_key_type_to_char(ssh_key_type(keys[i])), b64) < 0;
        ssh_string_free_char(b64);
    }
    rc = rc || fflush(stdout) != 0;
    if (rc)
        log_error("writing the host key to stdout: %s", strerror(errno));
    return rc;
}

/* argv[1..] and --connection, for each connection's program image. */
static char **connection_args(int argc, char **argv)
{
    char **a = calloc((size_t)argc + 1, sizeof *a);
    if (!a)
        return NULL;
    for (int i = 1; i < argc; i++)
        a[i - 1] = argv[i];
    a[argc - 1] = "--connection";
    return a;
}

/* Root that cannot become the user is a configuration no restart fixes.
 * -i binds no port; printing the key needs no privilege. */
static int check_privileges(const struct sf_config *c)
{
    char missing[128], advice[768];
    int port = c->inetd ? SF_UNKNOWN_PORT : c->port;
    if (geteuid() != 0 || c->account->uid == 0 || c->print_host_key ||
        envfile_caps_missing(port, 0, missing, sizeof missing) == 0)
        return 0;
    envfile_caps_advice(missing, 0, advice, sizeof advice);
    log_error("%s; not starting", advice);
    return -1;
}

/* libssh's own log (-vv) in our one-line format. */
static void libssh_to_log(int priority, const char *function, const char *buffer, void *ud)
{
    (void)priority;
    (void)function; /* libssh repeats it at the start of BUFFER */
    (void)ud;
    log_debug("libssh: %s", buffer);
}

/* libcrypto is linked in, so the image's openssl.cnf is not read: written
 * for the image's own libcrypto, it may name modules this one cannot load,
 * and the algorithms served are envinit-sshd's own settings. */
static void init_crypto(void)
{
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    ssh_init();
}

/* The listener does no cryptography once the host keys wait in their
 * descriptor (each connection is a fresh image): what loading them set up
 * in libssh and libcrypto (algorithm tables, name maps: most of its heap)
 * is given back for the rest of its life. */
static void release_crypto(void)
{
    ssh_finalize();
    OPENSSL_cleanup();
    malloc_trim(0);
}

int main(int argc, char **argv)
{
    static struct sf_config cfg = {.ready_fd = -1, .x11_display_offset = 10, .keepalive_max = 3};
    static struct listener l;
    log_init(SF_NAME, LOG_INFO);
    /* The SFTP subsystem's own program image, started by a session
     * (already the user) on the channel's pipes; sftp-server's options
     * may follow the switch. */
    if (argc >= 2 && strcmp(argv[1], SF_SFTP_SERVER_SWITCH) == 0)
        return sf_sftp_main(SF_NAME " " SF_SFTP_SERVER_SWITCH, argc - 2, argv + 2);
    if (parse_args(argc, argv, &cfg) < 0)
        return 2;
    /* Kept to the end, like the other statics here: the listener hands it
     * on, and every way out of main leaves it reachable. */
    static char *config_text;
    if (apply_config_file(&cfg, &config_text) < 0)
        return SF_EXIT_CONFIG;
    resolve_defaults(&cfg);
    if (resolve_algorithms(&cfg) < 0)
        return SF_EXIT_CONFIG;
    if (cfg.print_config) {
        sf_config_print(&cfg, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }

    static struct envfile_user u;
    struct envfile_self self;
    envfile_self_init(&self, cfg.user);
    if (envfile_user_serve(cfg.passwd_path, &self, &u) < 0) {
        if (errno == EPERM)
            log_error("user %s: running as uid %u, and only root can serve another user; not starting",
                      cfg.user, (unsigned)self.uid);
        else
            log_error("user %s: %s in %s; not starting", cfg.user ? cfg.user : "(default)",
                      errno == ENOENT ? "not found" : strerror(errno), cfg.passwd_path);
        return SF_EXIT_CONFIG;
    }
    cfg.user = u.name;
    cfg.account = &u;
    if (check_privileges(&cfg) < 0)
        return SF_EXIT_CONFIG;
    static struct envfile_owner who;
    if (envfile_owner_of(&u, cfg.group_path, &who) < 0) {
        log_error("groups of %s: cannot read %s: %s; not starting", u.name, cfg.group_path, strerror(errno));
        return 1;
    }
    if (load_banner(&cfg, &who) < 0)
        return cfg.connection ? 1 : SF_EXIT_CONFIG;

    /* -i forks its pump before the host key is read: the pump never has it. */
    int stdio_fd = -1;
    if (cfg.inetd && !cfg.print_host_key && !cfg.test_only && (stdio_fd = sf_stdio_connection_fd(&u)) < 0)
        return 1;
    init_crypto();
    if (cfg.libssh_log > 1)
        ssh_set_log_callback(libssh_to_log);
    /* A connection starts the SFTP server as a fresh image of ours. */
    if ((cfg.connection || cfg.inetd) && sf_reexec_init() < 0) {
        log_error("connection: cannot tell which program runs (%s); connection closed", strerror(errno));
        return 1;
    }
    if (cfg.connection)
        return serve_connection(&cfg);
    ssh_key keys[SF_MAX_SERVED_KEYS];
    size_t n_keys = sf_hostkey_load(cfg.host_keys, cfg.n_host_keys, cfg.algos[SF_ALGO_HOSTKEYS], &u, &who,
                                    (void **)keys);
    if (!n_keys)
        return SF_EXIT_CONFIG;
    if (cfg.print_host_key) {
        int rc = print_host_keys(keys, n_keys);
        for (size_t i = 0; i < n_keys; i++)
            ssh_key_free(keys[i]);
        return rc;
    }
    ssh_bind bind = make_bind(&cfg, keys, n_keys);
    if (!bind)
        return 1;
    if (cfg.test_only) {
        log_info("configuration ok");
        ssh_bind_free(bind);
        return 0;
    }
    if (cfg.inetd)
        return serve_stdio(&cfg, bind, stdio_fd);
    /* The listener keeps the key only in the descriptor it hands on. */
    l.key_fd = key_memfd(keys, n_keys);
    ssh_bind_free(bind); /* and the keys with it */
    l.conn_args = connection_args(argc, argv);
    l.config_fd = config_text ? text_memfd("configuration", config_text) : -1;
    l.banner_fd = cfg.banner_text ? text_memfd("banner", cfg.banner_text) : -1;
    if (l.key_fd < 0 || (config_text && l.config_fd < 0) || (cfg.banner_text && l.banner_fd < 0) ||
        !l.conn_args || sf_reexec_init() < 0) {
        log_error("cannot prepare the connections' program image (%s); not starting", strerror(errno));
        return 1;
    }

    sigset_t set;
    block_server_signals(&set);
    int pipefd[2];
    l.cfg = &cfg;
    /* One descriptor per pending connection: full must fit in our limit. */
    struct rlimit nofile;
    l.max_pending = cfg.startups.full;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur > 64 && nofile.rlim_cur - 64 < l.max_pending)
        l.max_pending = (unsigned)(nofile.rlim_cur - 64);
    l.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    l.lfd = listen_on(cfg.listen_addr, cfg.port);
    if (l.sfd < 0 || l.lfd < 0 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
        return 1;
    l.report_rd = pipefd[0];
    l.report_wr = pipefd[1];
    if (drop_listener_caps() < 0)
        return 1;
    release_crypto();
    log_info("listening on [%s]:%d for user %s (uid %u)", cfg.listen_addr, cfg.port,
             u.name, (unsigned)u.uid);
    if (cfg.ready_fd >= 0) {
        ssize_t w = write(cfg.ready_fd, "READY\n", 6);
        (void)w;
        close(cfg.ready_fd);
    }
    return serve(&l);
}
