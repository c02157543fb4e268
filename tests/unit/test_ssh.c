/* Unit tests of the SSH orchestration: /proc/net/tcp parsing, the SSH
 * greeting check, the decision table, sshd_config scanning and sshd's
 * command line, the fallback's command line, CVM units and the exec of
 * systemd (a fake one that records what it got), and the status file. */
#include "../../init/envinit.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

static char tmproot[256];

static void make_tmproot(void)
{
    snprintf(tmproot, sizeof tmproot, "/tmp/test_ssh.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmproot));
}

static void rm_tree(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
    ck_assert_int_eq(system(cmd), 0);
}

/* Creates ROOT/REL with TEXT and MODE, parents included. */
static void put_file(const char *rel, const char *text, mode_t mode)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmproot, rel);
    for (char *p = path + strlen(tmproot) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
}

static char *slurp(const char *path)
{
    static char buf[16384];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = '\0';
    return buf;
}

static const char *addr_text(const struct sockaddr_storage *ss, int *port)
{
    static char buf[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        *port = ntohs(sin->sin_port);
        return inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    }
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    *port = ntohs(sin6->sin6_port);
    return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
}

/* ---- /proc/net/tcp ---- */

static const char *const TCP_HEADER =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

START_TEST(procnet_ipv4)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s%s%s", TCP_HEADER,
             "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n",
             "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n",
             "   2: 0100007F:0016 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1\n");
    struct sockaddr_storage ss;
    int port = 0;
    ck_assert(procnet_find_listener(text, false, 22, &ss));
    ck_assert_str_eq(addr_text(&ss, &port), "127.0.0.1"); /* wildcard: reached through loopback */
    ck_assert_int_eq(port, 22);
    ck_assert(procnet_find_listener(text, false, 3306, &ss));
    ck_assert_str_eq(addr_text(&ss, &port), "127.0.0.1");
    ck_assert(!procnet_find_listener(text, false, 2222, NULL));
    /* A specific address is probed where it listens. */
    const char *bound = "   0: 0501A8C0:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n";
    ck_assert(procnet_find_listener(bound, false, 22, &ss));
    ck_assert_str_eq(addr_text(&ss, &port), "192.168.1.5");
}
END_TEST

START_TEST(procnet_other_states)
{
    /* ESTABLISHED (01), TIME_WAIT (06), CLOSE (07) on port 22: nobody listens. */
    char text[2048];
    snprintf(text, sizeof text, "%s%s%s%s", TCP_HEADER,
             "   0: 0100007F:0016 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000 0 0 3\n",
             "   1: 0100007F:0016 0100007F:A2C6 06 00000000:00000000 00:00000000 00000000 0 0 0\n",
             "   2: 00000000:0016 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 4\n");
    ck_assert(!procnet_find_listener(text, false, 22, NULL));
    /* A client whose *remote* port is 22 is not a listener either. */
    const char *client = "   0: 0100007F:A2C4 0100007F:0016 0A 00000000:00000000 00:00000000 00000000 0 0 3\n";
    ck_assert(!procnet_find_listener(client, false, 22, NULL));
    ck_assert(procnet_find_listener(client, false, 0xA2C4, NULL));
}
END_TEST

START_TEST(procnet_malformed)
{
    ck_assert(!procnet_find_listener("", false, 22, NULL));
    ck_assert(!procnet_find_listener(TCP_HEADER, false, 22, NULL));
    ck_assert(!procnet_find_listener("garbage\n\n\n", false, 22, NULL));
    ck_assert(!procnet_find_listener("   0: 0000000:0016 00000000:0000 0A\n", false, 22, NULL)); /* 7 digits */
    ck_assert(!procnet_find_listener("   0: 00000000:00016X 00000000:0000 0A\n", false, 22, NULL));
    ck_assert(!procnet_find_listener("   0: 00000000:0016\n", false, 22, NULL)); /* truncated */
    ck_assert(!procnet_find_listener("0: 00000000:123456789 00000000:0000 0A\n", false, 22, NULL));
    /* no trailing newline on the last line */
    ck_assert(procnet_find_listener("   0: 00000000:0016 00000000:0000 0A", false, 22, NULL));
    /* a v4 line read as tcp6 is too short to be one */
    ck_assert(!procnet_find_listener("   0: 00000000:0016 00000000:0000 0A\n", true, 22, NULL));
}
END_TEST

START_TEST(procnet_ipv6)
{
    const char *text =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue\n"
        "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5\n"
        "   1: 00000000000000000000000001000000:08AE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 6\n"
        "   2: 00000000000000000000000001000000:0050 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000 0 0 7\n";
    struct sockaddr_storage ss;
    int port = 0;
    ck_assert(procnet_find_listener(text, true, 22, &ss));
    ck_assert_int_eq(ss.ss_family, AF_INET6);
    ck_assert_str_eq(addr_text(&ss, &port), "::1"); /* :: reached through ::1 */
    ck_assert_int_eq(port, 22);
    ck_assert(procnet_find_listener(text, true, 2222, &ss));
    ck_assert_str_eq(addr_text(&ss, &port), "::1");
    ck_assert(!procnet_find_listener(text, true, 80, NULL)); /* ESTABLISHED only */
}
END_TEST

START_TEST(procnet_v4_mapped)
{
    /* ::ffff:127.0.0.1 and ::ffff:0.0.0.0 as the kernel prints them (host-order words). */
    char line[512], mapped[64];
    uint32_t w[4] = {0, 0, htonl(0xffff), htonl(0x7f000001)};
    snprintf(mapped, sizeof mapped, "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
    snprintf(line, sizeof line, "   0: %s:0016 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 9\n", mapped);
    struct sockaddr_storage ss;
    int port = 0;
    ck_assert(procnet_find_listener(line, true, 22, &ss));
    ck_assert_int_eq(ss.ss_family, AF_INET);
    ck_assert_str_eq(addr_text(&ss, &port), "127.0.0.1");
    w[3] = 0;
    snprintf(mapped, sizeof mapped, "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
    snprintf(line, sizeof line, "   0: %s:0016 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 9\n", mapped);
    ck_assert(procnet_find_listener(line, true, 22, &ss));
    ck_assert_int_eq(ss.ss_family, AF_INET);
    ck_assert_str_eq(addr_text(&ss, &port), "127.0.0.1");
}
END_TEST

START_TEST(procnet_files)
{
    make_tmproot();
    char proc[512];
    snprintf(proc, sizeof proc, "%s/proc", tmproot);
    put_file("proc/net/tcp", "  sl header\n   0: 0100007F:0CEA 00000000:0000 0A 0 0 0\n", 0644);
    put_file("proc/net/tcp6",
             "  sl header\n   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0\n",
             0644);
    struct sockaddr_storage ss;
    ck_assert_int_eq(procnet_listening(proc, 22, &ss), 1); /* found in tcp6 */
    ck_assert_int_eq(ss.ss_family, AF_INET6);
    ck_assert_int_eq(procnet_listening(proc, 3306, &ss), 1);
    ck_assert_int_eq(procnet_listening(proc, 2222, &ss), 0);
    snprintf(proc, sizeof proc, "%s/nonexistent", tmproot);
    ck_assert_int_eq(procnet_listening(proc, 22, &ss), -1);
    rm_tree();
}
END_TEST

/* ---- greeting ---- */

static int greet(const char *s) { return ssh_greeting_check(s, strlen(s)); }

START_TEST(greeting_ssh)
{
    ck_assert_int_eq(greet("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), 1);
    ck_assert_int_eq(greet("SSH-2.0-"), 1);              /* decided before the line ends */
    ck_assert_int_eq(greet("SSH-1.99-OpenSSH_3.9\r\n"), 1);
    ck_assert_int_eq(greet("Welcome\r\nbe nice\r\nSSH-2.0-x\r\n"), 1); /* RFC 4253 4.2 pre-lines */
}
END_TEST

START_TEST(greeting_not_ssh)
{
    ck_assert_int_eq(greet("SSH-1.5-old\r\n"), 0);
    ck_assert_int_eq(greet("SSH-3.0-\r\n"), 0);
    ck_assert_int_eq(greet("SSH-2.1"), 0);
    ck_assert_int_eq(ssh_greeting_check("\x16\x03\x01\x00\x00", 5), 0); /* TLS, binary */
    char many[64 * 40];
    size_t used = 0;
    for (int i = 0; i < 40; i++)
        used += (size_t)snprintf(many + used, sizeof many - used, "HTTP/1.1 200 OK x\r\n");
    ck_assert_int_eq(greet(many), 0);                   /* never identifies */
    char big[9000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(greet(big), 0);
}
END_TEST

START_TEST(greeting_undecided)
{
    ck_assert_int_eq(greet(""), -1);
    ck_assert_int_eq(greet("S"), -1);
    ck_assert_int_eq(greet("SSH-2.0"), -1);
    ck_assert_int_eq(greet("SSH-1.9"), -1);
    ck_assert_int_eq(greet("HTTP/1.1 400 Bad Request\r\n"), -1); /* could still be a pre-line */
    ck_assert_int_eq(greet("220 smtp ready"), -1);
    ck_assert_str_eq(ssh_probe_name(SSH_PROBE_SSH), "ssh");
    ck_assert_str_eq(ssh_probe_name(SSH_PROBE_NOT_SSH), "not-ssh");
    ck_assert_str_eq(ssh_probe_name(SSH_PROBE_NO_ANSWER), "no-answer");
}
END_TEST

/* ---- decision table ---- */

enum lst { FREE, SSH, NONSSH, SILENT };

static struct ssh_decision decide(enum ssh_mode mode, enum lst l, bool sshd, bool fb, bool root, bool cvm)
{
    struct ssh_facts f = {
        .mode = mode,
        .listener = l != FREE,
        .probe = l == SSH ? SSH_PROBE_SSH : l == NONSSH ? SSH_PROBE_NOT_SSH : SSH_PROBE_NO_ANSWER,
        .have_sshd = sshd,
        .have_fallback = fb,
        .root = root,
        .cvm = cvm,
        .ssh_port = 22,
        .fallback_port = 2222,
    };
    return ssh_decide(&f);
}

#define EXPECT(d, act, prt, brk)                                                                     \
    do {                                                                                             \
        struct ssh_decision d_ = (d);                                                                \
        ck_assert_msg(d_.action == (act) && d_.port == (prt) && d_.port_broken == (brk),             \
                      "line %d: got %s port %d broken %d", __LINE__, ssh_action_name(d_.action),     \
                      d_.port, d_.port_broken);                                                      \
        ck_assert(d_.why && d_.why[0]);                                                              \
    } while (0)

static const struct {
    enum lst l;
    enum ssh_action act;
    int port;
    bool sshd, fb, root, broken;
} auto_rows[] = {
    /* nothing listens on 22 */
    {FREE, SSH_ACT_OPENSSH, 22, true, true, true, false},
    {FREE, SSH_ACT_OPENSSH, 22, true, false, true, false},
    {FREE, SSH_ACT_FALLBACK, 2222, true, true, false, false},   /* OpenSSH needs root */
    {FREE, SSH_ACT_NONE_AVAILABLE, 0, true, false, false, false},
    {FREE, SSH_ACT_FALLBACK, 22, false, true, true, false},
    {FREE, SSH_ACT_FALLBACK, 2222, false, true, false, false},
    {FREE, SSH_ACT_NONE_AVAILABLE, 0, false, false, true, false}, /* no placeholder server */
    {FREE, SSH_ACT_NONE_AVAILABLE, 0, false, false, false, false},
    /* an SSH server already answers: start nothing, whatever else is true */
    {SSH, SSH_ACT_SERVED, 22, true, true, true, false},
    {SSH, SSH_ACT_SERVED, 22, true, false, true, false},
    {SSH, SSH_ACT_SERVED, 22, true, true, false, false},
    {SSH, SSH_ACT_SERVED, 22, true, false, false, false},
    {SSH, SSH_ACT_SERVED, 22, false, true, true, false},
    {SSH, SSH_ACT_SERVED, 22, false, false, true, false},
    {SSH, SSH_ACT_SERVED, 22, false, true, false, false},
    {SSH, SSH_ACT_SERVED, 22, false, false, false, false},
    /* a non-SSH server on 22: error, and the fallback on fallback_port */
    {NONSSH, SSH_ACT_FALLBACK, 2222, true, true, true, true},
    {NONSSH, SSH_ACT_NONE_AVAILABLE, 0, true, false, true, true},
    {NONSSH, SSH_ACT_FALLBACK, 2222, true, true, false, true},
    {NONSSH, SSH_ACT_NONE_AVAILABLE, 0, true, false, false, true},
    {NONSSH, SSH_ACT_FALLBACK, 2222, false, true, true, true},
    {NONSSH, SSH_ACT_NONE_AVAILABLE, 0, false, false, true, true},
    {NONSSH, SSH_ACT_FALLBACK, 2222, false, true, false, true},
    {NONSSH, SSH_ACT_NONE_AVAILABLE, 0, false, false, false, true},
    /* a silent server is not SSH either */
    {SILENT, SSH_ACT_FALLBACK, 2222, true, true, true, true},
    {SILENT, SSH_ACT_NONE_AVAILABLE, 0, false, false, true, true},
};

START_TEST(decide_auto)
{
    for (size_t i = 0; i < sizeof auto_rows / sizeof auto_rows[0]; i++) {
        struct ssh_decision d = decide(SSH_AUTO, auto_rows[i].l, auto_rows[i].sshd, auto_rows[i].fb,
                                       auto_rows[i].root, false);
        ck_assert_msg(d.action == auto_rows[i].act && d.port == auto_rows[i].port &&
                          d.port_broken == auto_rows[i].broken,
                      "auto row %zu: got %s port %d broken %d", i, ssh_action_name(d.action), d.port,
                      d.port_broken);
    }
}
END_TEST

START_TEST(decide_off_external_cvm)
{
    for (int l = FREE; l <= SILENT; l++)
        for (int bits = 0; bits < 16; bits++) {
            bool sshd = bits & 1, fb = bits & 2, root = bits & 4, cvm = bits & 8;
            EXPECT(decide(SSH_OFF, (enum lst)l, sshd, fb, root, cvm), SSH_ACT_OFF, 0, false);
            EXPECT(decide(SSH_EXTERNAL, (enum lst)l, sshd, fb, root, cvm), SSH_ACT_EXTERNAL, 22, false);
            if (cvm) {
                EXPECT(decide(SSH_AUTO, (enum lst)l, sshd, fb, root, cvm), SSH_ACT_CVM_UNITS, 22, false);
                EXPECT(decide(SSH_OPENSSH, (enum lst)l, sshd, fb, root, cvm), SSH_ACT_CVM_UNITS, 22, false);
                EXPECT(decide(SSH_FALLBACK, (enum lst)l, sshd, fb, root, cvm), SSH_ACT_CVM_UNITS, 22, false);
            }
        }
}
END_TEST

START_TEST(decide_forced_openssh)
{
    EXPECT(decide(SSH_OPENSSH, FREE, true, true, true, false), SSH_ACT_OPENSSH, 22, false);
    EXPECT(decide(SSH_OPENSSH, FREE, true, false, true, false), SSH_ACT_OPENSSH, 22, false);
    EXPECT(decide(SSH_OPENSSH, FREE, false, true, true, false), SSH_ACT_ERROR, 0, false);
    EXPECT(decide(SSH_OPENSSH, FREE, true, true, false, false), SSH_ACT_ERROR, 0, false);
    EXPECT(decide(SSH_OPENSSH, SSH, true, true, true, false), SSH_ACT_OPENSSH, 2222, false);
    EXPECT(decide(SSH_OPENSSH, NONSSH, true, true, true, false), SSH_ACT_OPENSSH, 2222, true);
    EXPECT(decide(SSH_OPENSSH, NONSSH, false, true, true, false), SSH_ACT_ERROR, 0, true);
    struct ssh_facts f = {.mode = SSH_OPENSSH, .listener = true, .probe = SSH_PROBE_SSH, .have_sshd = true,
                          .root = true, .ssh_port = 22, .fallback_port = 22};
    EXPECT(ssh_decide(&f), SSH_ACT_ERROR, 0, false);
}
END_TEST

START_TEST(decide_forced_fallback)
{
    EXPECT(decide(SSH_FALLBACK, FREE, true, true, true, false), SSH_ACT_FALLBACK, 22, false);
    EXPECT(decide(SSH_FALLBACK, FREE, false, true, false, false), SSH_ACT_FALLBACK, 2222, false);
    EXPECT(decide(SSH_FALLBACK, FREE, true, false, true, false), SSH_ACT_ERROR, 0, false);
    EXPECT(decide(SSH_FALLBACK, SSH, true, true, true, false), SSH_ACT_FALLBACK, 2222, false);
    EXPECT(decide(SSH_FALLBACK, NONSSH, true, true, true, false), SSH_ACT_FALLBACK, 2222, true);
    EXPECT(decide(SSH_FALLBACK, SILENT, true, false, true, false), SSH_ACT_ERROR, 0, true);
    struct ssh_facts f = {.mode = SSH_FALLBACK, .listener = true, .probe = SSH_PROBE_NOT_SSH,
                          .have_fallback = true, .root = true, .ssh_port = 2222, .fallback_port = 2222};
    EXPECT(ssh_decide(&f), SSH_ACT_ERROR, 0, true);
}
END_TEST

START_TEST(decide_unprivileged_high_port)
{
    /* Not root, but ssh_port needs no privilege: the server keeps it. */
    struct ssh_facts f = {.mode = SSH_AUTO, .have_fallback = true, .ssh_port = 2022, .fallback_port = 2222};
    EXPECT(ssh_decide(&f), SSH_ACT_FALLBACK, 2022, false);
    f.mode = SSH_FALLBACK;
    EXPECT(ssh_decide(&f), SSH_ACT_FALLBACK, 2022, false);
    ck_assert_str_eq(ssh_action_name(SSH_ACT_CVM_UNITS), "cvm-units");
    ck_assert_str_eq(ssh_action_name(SSH_ACT_NONE_AVAILABLE), "none-available");
}
END_TEST

START_TEST(decide_without_privilege)
{
    /* Root that cannot become the user: an error with the reason, never a
     * server that would fail at every restart. */
    const char *why = "root without CAP_SETUID";
    for (int mode = SSH_AUTO; mode <= SSH_FALLBACK; mode++)
        for (int bits = 0; bits < 4; bits++) {
            struct ssh_facts f = {.mode = (enum ssh_mode)mode, .have_sshd = bits & 1, .have_fallback = bits & 2,
                                  .root = true, .ssh_port = 22, .fallback_port = 2222, .no_privilege = why};
            struct ssh_decision d = ssh_decide(&f);
            ck_assert_msg(d.action != SSH_ACT_OPENSSH && d.action != SSH_ACT_FALLBACK, "mode %d bits %d: %s",
                          mode, bits, ssh_action_name(d.action));
            if (d.action == SSH_ACT_ERROR && (bits & (mode == SSH_OPENSSH ? 1 : 2)))
                ck_assert_str_eq(d.why, why);
        }
    /* An SSH server already there, off, external: nothing to start anyway. */
    struct ssh_facts f = {.mode = SSH_AUTO, .listener = true, .probe = SSH_PROBE_SSH, .root = true,
                          .ssh_port = 22, .fallback_port = 2222, .no_privilege = why};
    EXPECT(ssh_decide(&f), SSH_ACT_SERVED, 22, false);
    f.mode = SSH_EXTERNAL;
    EXPECT(ssh_decide(&f), SSH_ACT_EXTERNAL, 22, false);
    /* Not root: the capabilities are not needed. */
    f = (struct ssh_facts){.mode = SSH_AUTO, .have_fallback = true, .ssh_port = 22, .fallback_port = 2222,
                           .no_privilege = why};
    EXPECT(ssh_decide(&f), SSH_ACT_FALLBACK, 2222, false);
}
END_TEST

START_TEST(fast_exits)
{
    unsigned n = 0;
    for (int i = 0; i < SSH_FAST_EXIT_LIMIT - 1; i++)
        ck_assert(!ssh_fast_exit(&n, 10));
    ck_assert(!ssh_fast_exit(&n, SSH_FAST_EXIT_MS)); /* a 1 s run breaks the series */
    for (int i = 0; i < SSH_FAST_EXIT_LIMIT - 1; i++)
        ck_assert(!ssh_fast_exit(&n, 999));
    ck_assert(ssh_fast_exit(&n, 0));                 /* the fifth in a row */
    ck_assert_uint_eq(n, 0);
    ck_assert(!ssh_fast_exit(&n, 0));                /* counting starts over */
}
END_TEST

/* ---- sshd_config and sshd's command line ---- */

static char includes[8][256];
static int n_includes;

static void record_include(const char *pattern, void *ctx)
{
    (void)ctx;
    if (n_includes < 8)
        snprintf(includes[n_includes++], sizeof includes[0], "%s", pattern);
}

START_TEST(sshd_config_keywords)
{
    unsigned sets = 0;
    sshd_config_scan("Include /etc/ssh/sshd_config.d/*.conf\n"
                     "KbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\n",
                     &sets, NULL, NULL);
    ck_assert_uint_eq(sets, SSHD_SETS_X11_FORWARDING); /* Debian 12's default file */
    sets = 0;
    sshd_config_scan("# PermitUserEnvironment yes\n  permituserenvironment=no\n\tX11USELOCALHOST\tyes\n", &sets,
                     NULL, NULL);
    ck_assert_uint_eq(sets, SSHD_SETS_PERMIT_USER_ENV | SSHD_SETS_X11_USE_LOCALHOST);
    sets = 0;
    sshd_config_scan("X11ForwardingX yes\nX11 yes\nPermitUserEnvironmentYes\n", &sets, NULL, NULL);
    ck_assert_uint_eq(sets, 0);
    sets = 0; /* only the global part counts */
    sshd_config_scan("Port 22\nMatch User git\n  PermitUserEnvironment no\n  X11Forwarding no\n", &sets, NULL, NULL);
    ck_assert_uint_eq(sets, 0);
    sets = 0;
    sshd_config_scan("X11UseLocalhost no", &sets, NULL, NULL); /* no final newline */
    ck_assert_uint_eq(sets, SSHD_SETS_X11_USE_LOCALHOST);
}
END_TEST

START_TEST(sshd_config_includes)
{
    unsigned sets = 0;
    n_includes = 0;
    sshd_config_scan("Include a.conf \"/etc/ssh/with space/*.conf\" b # c\ninclude=/x\nMatch all\nInclude /no\n",
                     &sets, record_include, NULL);
    ck_assert_int_eq(n_includes, 4);
    ck_assert_str_eq(includes[0], "a.conf");
    ck_assert_str_eq(includes[1], "/etc/ssh/with space/*.conf");
    ck_assert_str_eq(includes[2], "b");
    ck_assert_str_eq(includes[3], "/x");
}
END_TEST

START_TEST(sshd_config_files)
{
    make_tmproot();
    char main_conf[512], etc[512];
    snprintf(etc, sizeof etc, "%s/etc/ssh", tmproot);
    snprintf(main_conf, sizeof main_conf, "%s/etc/ssh/sshd_config", tmproot);
    put_file("etc/ssh/sshd_config", "Include sshd_config.d/*.conf\nX11Forwarding yes\nMatch User x\nX11UseLocalhost yes\n",
             0644);
    put_file("etc/ssh/sshd_config.d/10-env.conf", "PermitUserEnvironment no\nInclude loop.conf\n", 0644);
    put_file("etc/ssh/loop.conf", "Include loop.conf\n", 0644); /* endless: stops at the depth limit */
    put_file("etc/ssh/sshd_config.d/.hidden.conf", "X11UseLocalhost no\n", 0644); /* * skips dot files */
    put_file("etc/ssh/sshd_config.d/20-x.conf.disabled", "X11UseLocalhost no\n", 0644);
    ck_assert_uint_eq(sshd_config_sets(main_conf, etc), SSHD_SETS_X11_FORWARDING | SSHD_SETS_PERMIT_USER_ENV);
    put_file("etc/ssh/sshd_config", "Include /nonexistent/*.conf\nInclude sshd_config.d/.hidden.conf\n", 0644);
    ck_assert_uint_eq(sshd_config_sets(main_conf, etc), SSHD_SETS_X11_USE_LOCALHOST); /* exact path */
    put_file("etc/ssh/sshd_config", "Include sshd_config.d/?0-*.c*\n", 0644);
    ck_assert_uint_eq(sshd_config_sets(main_conf, etc), SSHD_SETS_PERMIT_USER_ENV | SSHD_SETS_X11_USE_LOCALHOST);
    ck_assert_uint_eq(sshd_config_sets("/nonexistent/sshd_config", etc), 0);
    rm_tree();
}
END_TEST

START_TEST(sshd_config_include_fan_out)
{
    /* Includes that fan out at every level: 3^16 reads within the depth
     * limit alone; the limit on the files read in all ends it at once. */
    make_tmproot();
    char main_conf[512], etc[512];
    snprintf(etc, sizeof etc, "%s/etc/ssh", tmproot);
    snprintf(main_conf, sizeof main_conf, "%s/etc/ssh/sshd_config", tmproot);
    put_file("etc/ssh/sshd_config", "X11Forwarding yes\nInclude sshd_config sshd_config sshd_config\n", 0644);
    ck_assert_uint_eq(sshd_config_sets(main_conf, etc), SSHD_SETS_X11_FORWARDING);
    put_file("etc/ssh/sshd_config", "Include sshd_config.d/*.conf\n", 0644);
    put_file("etc/ssh/sshd_config.d/1.conf", "Include sshd_config.d/*.conf\n", 0644);
    put_file("etc/ssh/sshd_config.d/2.conf", "Include sshd_config.d/*.conf\n", 0644);
    put_file("etc/ssh/sshd_config.d/3.conf", "PermitUserEnvironment no\nInclude sshd_config.d/*.conf\n", 0644);
    ck_assert_uint_eq(sshd_config_sets(main_conf, etc), SSHD_SETS_PERMIT_USER_ENV);
    rm_tree();
}
END_TEST

START_TEST(sshd_config_wildcards_long_name)
{
    /* Trying every split at every star: C(240, 10) tries for this name. */
    make_tmproot();
    char main_conf[512], etc[512], name[300];
    snprintf(etc, sizeof etc, "%s/etc/ssh", tmproot);
    snprintf(main_conf, sizeof main_conf, "%s/etc/ssh/sshd_config", tmproot);
    memset(name, 'a', 240);
    snprintf(name + 240, sizeof name - 240, ".conf");
    char rel[400];
    snprintf(rel, sizeof rel, "etc/ssh/sshd_config.d/%s", name);
    put_file(rel, "X11UseLocalhost no\n", 0644);
    put_file("etc/ssh/sshd_config", "Include sshd_config.d/*a*a*a*a*a*a*a*a*a*a*b\n", 0644);
    ck_assert_uint_eq(sshd_config_sets(main_conf, etc), 0);
    put_file("etc/ssh/sshd_config", "Include sshd_config.d/*a*a*a*a*a*a*a*a*a*a*.c?nf\n", 0644);
    ck_assert_uint_eq(sshd_config_sets(main_conf, etc), SSHD_SETS_X11_USE_LOCALHOST);
    rm_tree();
}
END_TEST

static void argv_join(char *const *argv, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            strncat(out, " ", len - strlen(out) - 1);
        strncat(out, argv[i], len - strlen(out) - 1);
    }
}

START_TEST(sshd_argv)
{
    struct sshd_cmd cmd = {.argv = {NULL}};
    char line[1024];
    sshd_build_argv(&cmd, "/usr/sbin/sshd", 22, true, 0);
    argv_join(cmd.argv, line, sizeof line);
    ck_assert_str_eq(line, "/usr/sbin/sshd -D -e -p 22 -o PermitUserEnvironment=yes -o X11Forwarding=yes "
                           "-o X11UseLocalhost=no");
    sshd_build_argv(&cmd, "/usr/sbin/sshd", 2222, true, SSHD_SETS_X11_FORWARDING);
    argv_join(cmd.argv, line, sizeof line);
    ck_assert_str_eq(line, "/usr/sbin/sshd -D -e -p 2222 -o PermitUserEnvironment=yes -o X11UseLocalhost=no");
    sshd_build_argv(&cmd, "/usr/sbin/sshd", 22, true,
                    SSHD_SETS_X11_FORWARDING | SSHD_SETS_PERMIT_USER_ENV | SSHD_SETS_X11_USE_LOCALHOST);
    argv_join(cmd.argv, line, sizeof line);
    ck_assert_str_eq(line, "/usr/sbin/sshd -D -e -p 22");
    sshd_build_argv(&cmd, "/usr/bin/sshd", 22, false, 0); /* openssh_recommended = false */
    argv_join(cmd.argv, line, sizeof line);
    ck_assert_str_eq(line, "/usr/bin/sshd -D -e -p 22");
}
END_TEST

START_TEST(sshd_host_keys)
{
    struct sshd_cmd cmd = {.argv = {NULL}};
    char line[8192], want[64];
    sshd_build_argv(&cmd, "/usr/sbin/sshd", 22, false, 0);
    ck_assert(sshd_add_host_key(&cmd, "/keys/ssh_host_ed25519_key"));
    ck_assert(sshd_add_host_key(&cmd, "/keys/ssh_host_rsa_key"));
    argv_join(cmd.argv, line, sizeof line);
    ck_assert_str_eq(line, "/usr/sbin/sshd -D -e -p 22 -h /keys/ssh_host_ed25519_key -h /keys/ssh_host_rsa_key");
    /* Full: refused (logged), never cut. */
    for (int i = 2; i < SSHD_HOST_KEYS_MAX; i++) {
        snprintf(want, sizeof want, "/k/%d", i);
        ck_assert(sshd_add_host_key(&cmd, want));
    }
    ck_assert(!sshd_add_host_key(&cmd, "/k/one-too-many"));
    argv_join(cmd.argv, line, sizeof line);
    ck_assert_ptr_null(strstr(line, "one-too-many"));
    ck_assert_ptr_nonnull(strstr(line, "-h /k/15"));
}
END_TEST

START_TEST(sshd_finding)
{
    make_tmproot();
    char out[1024], want[1024], path_env[1024];
    ck_assert(!sshd_find(tmproot, NULL, out, sizeof out));
    put_file("opt/ssh/bin/sshd", "#!/bin/sh\n", 0755);
    snprintf(path_env, sizeof path_env, "relative/dir:/nonexistent:/opt/ssh/bin");
    ck_assert(sshd_find(tmproot, path_env, out, sizeof out));
    snprintf(want, sizeof want, "%s/opt/ssh/bin/sshd", tmproot);
    ck_assert_str_eq(out, want);
    put_file("usr/bin/sshd", "not executable\n", 0644);
    ck_assert(sshd_find(tmproot, path_env, out, sizeof out));
    ck_assert_str_eq(out, want);
    put_file("usr/sbin/sshd", "#!/bin/sh\n", 0755);
    ck_assert(sshd_find(tmproot, path_env, out, sizeof out));
    snprintf(want, sizeof want, "%s/usr/sbin/sshd", tmproot);
    ck_assert_str_eq(out, want);
    rm_tree();
}
END_TEST

START_TEST(exec_stat_rules)
{
    char why[128];
    struct stat st = {.st_uid = 0, .st_gid = 0, .st_mode = S_IFDIR | 0755};
    ck_assert_ptr_null(exec_stat_problem(&st, 0, why, sizeof why));
    st.st_uid = 1000;
    ck_assert_str_eq(exec_stat_problem(&st, 0, why, sizeof why), "is writable by uid 1000 (not root's)");
    /* Not root: our own folders are as safe as root's. */
    ck_assert_ptr_null(exec_stat_problem(&st, 1000, why, sizeof why));
    ck_assert_ptr_nonnull(exec_stat_problem(&st, 1001, why, sizeof why));
    st.st_uid = 0;
    st.st_mode = S_IFDIR | 0775;
    st.st_gid = 50;
    ck_assert_str_eq(exec_stat_problem(&st, 0, why, sizeof why), "is writable by group 50 (mode 0775)");
    /* The sticky bit keeps others' entries, not the folder, from change. */
    st.st_mode = S_IFDIR | 01777;
    ck_assert_str_eq(exec_stat_problem(&st, 0, why, sizeof why), "is writable by others (mode 1777)");
    st.st_mode = S_IFREG | 0757;
    ck_assert_ptr_nonnull(exec_stat_problem(&st, 0, why, sizeof why));
    st.st_mode = S_IFREG | 04755;
    ck_assert_ptr_null(exec_stat_problem(&st, 0, why, sizeof why));
    /* A symlink's mode is always 0777 and means nothing; its owner counts. */
    st.st_mode = S_IFLNK | 0777;
    ck_assert_ptr_null(exec_stat_problem(&st, 0, why, sizeof why));
    st.st_uid = 1000;
    ck_assert_ptr_nonnull(exec_stat_problem(&st, 0, why, sizeof why));
}
END_TEST

static void chmod_rel(const char *rel, mode_t mode)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmproot, rel);
    ck_assert_int_eq(chmod(path, mode), 0);
}

static void symlink_rel(const char *target_rel, const char *rel)
{
    char target[1024], path[1024];
    snprintf(target, sizeof target, "%s/%s", tmproot, target_rel);
    snprintf(path, sizeof path, "%s/%s", tmproot, rel);
    ck_assert_int_eq(symlink(target, path), 0);
}

/* A link the user made (uid 1000): never followed by root. */
static void user_symlink_rel(const char *target_rel, const char *rel)
{
    char path[1024];
    symlink_rel(target_rel, rel);
    snprintf(path, sizeof path, "%s/%s", tmproot, rel);
    ck_assert_int_eq(lchown(path, 1000, 1000), 0);
}

START_TEST(sshd_finding_refuses_replaceable)
{
    make_tmproot();
    char out[1024], want[1024];
    put_file("home/u/go/bin/sshd", "#!/bin/sh\n", 0755);
    const char *path_env = "/home/u/go/bin";
    static const mode_t open_modes[] = {0777, 01777, 0775, 0757};
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        chmod_rel("home/u/go/bin", open_modes[i]);
        ck_assert_msg(!sshd_find(tmproot, path_env, out, sizeof out), "folder mode %o used", open_modes[i]);
    }
    chmod_rel("home/u/go/bin", 0755);
    chmod_rel("home/u", 0777);          /* any folder on the way counts */
    ck_assert(!sshd_find(tmproot, path_env, out, sizeof out));
    chmod_rel("home/u", 0755);
    chmod_rel("home/u/go/bin/sshd", 0775);
    ck_assert(!sshd_find(tmproot, path_env, out, sizeof out));
    chmod_rel("home/u/go/bin/sshd", 0755);
    ck_assert(sshd_find(tmproot, path_env, out, sizeof out));
    snprintf(want, sizeof want, "%s/home/u/go/bin/sshd", tmproot);
    ck_assert_str_eq(out, want);
    /* Resolved: a safe name that leads into a world-writable folder. */
    put_file("tmp/bin/sshd", "#!/bin/sh\n", 0755);
    chmod_rel("tmp", 01777);
    put_file("opt/keep", "", 0644);
    symlink_rel("tmp/bin", "opt/bin");
    ck_assert(!sshd_find(tmproot, "/opt/bin", out, sizeof out));
    /* As named: a safe file reached through a world-writable folder. */
    symlink_rel("home/u/go/bin/sshd", "tmp/sshd");
    chmod_rel("tmp/bin/sshd", 0644);
    ck_assert(!sshd_find(tmproot, "/tmp", out, sizeof out));
    rm_tree();
}
END_TEST

START_TEST(fallback_argv)
{
    make_tmproot();
    char bin[512], line[2048], want[2048];
    struct fallback_cmd fb;
    snprintf(bin, sizeof bin, "%s/bundle/bin", tmproot);
    ck_assert(!fallback_build_argv(&fb, bin, 22, ""));
    put_file("bundle/bin/envinit-sshd", "#!/bin/sh\n", 0755);
    ck_assert(fallback_build_argv(&fb, bin, 22, ""));
    argv_join(fb.argv, line, sizeof line);
    snprintf(want, sizeof want, "%s/envinit-sshd --port 22", bin);
    ck_assert_str_eq(line, want);
    /* A loader in the bundle's lib/ (a sanitized bundle) changes nothing:
     * the program is linked to load it. */
    put_file("bundle/lib/ld-linux-x86-64.so.2", "", 0755);
    ck_assert(fallback_build_argv(&fb, bin, 2222, "coder"));
    argv_join(fb.argv, line, sizeof line);
    snprintf(want, sizeof want, "%s/envinit-sshd --port 2222 --user coder", bin);
    ck_assert_str_eq(line, want);
    fallback_add_args(&fb, "/etc/envinit/host-keys", "/etc/envinit/sshd_config", "");
    argv_join(fb.argv, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, " --user coder --host-key /etc/envinit/host-keys -f /etc/envinit/sshd_config"));
    ck_assert(fallback_build_argv(&fb, bin, 2222, "coder"));
    rm_tree();
    fallback_add_args(&fb, "", "", "--no-port-forwarding  --no-x11-forwarding");
    size_t n = 0;
    while (fb.argv[n])
        n++;
    ck_assert_uint_ge(n, 2);
    ck_assert_str_eq(fb.argv[n - 2], "--no-port-forwarding");
    ck_assert_str_eq(fb.argv[n - 1], "--no-x11-forwarding");
    /* envinit-sshd's algorithm lists in OpenSSH's syntax are single words */
    fb.argv[n - 2] = NULL; /* those words go: their buffer is reused */
    fallback_add_args(&fb, "", "", "--kex-algorithms ^ecdh-sha2-nistp256,diffie-hellman-group14-sha256 "
                               "--host-key-algorithms +ecdsa-sha2-nistp256 --macs -hmac-sha2-*");
    for (n = 0; fb.argv[n];)
        n++;
    ck_assert_uint_ge(n, 6);
    ck_assert_str_eq(fb.argv[n - 5], "^ecdh-sha2-nistp256,diffie-hellman-group14-sha256");
    ck_assert_str_eq(fb.argv[n - 3], "+ecdsa-sha2-nistp256");
    ck_assert_str_eq(fb.argv[n - 1], "-hmac-sha2-*");
}
END_TEST

/* ---- CVM ---- */

static struct config cvm_config(void)
{
    struct config c;
    config_defaults(&c);
    c.cvm = 1;
    return c;
}

START_TEST(cvm_unit_rendering)
{
    struct config c = cvm_config();
    char unit[8192];
    int n = cvm_render_unit(&c, "/opt/envinit/bin/envinit", unit, sizeof unit);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq((int)strlen(unit), n);
    ck_assert_ptr_nonnull(strstr(unit, "[Unit]\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nAfter=network.target ssh.service sshd.service\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\n[Service]\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nExecStart=\"/opt/envinit/bin/envinit\" ssh-supervise\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nRestart=on-failure\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nRestartPreventExitStatus=3\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_SSH=auto\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_SSH_PORT=22\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_FALLBACK_PORT=2222\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_SSH_WAIT=15.000\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_STATUS_FILE=/run/envinit/status\"\n"));
    ck_assert_ptr_null(strstr(unit, "ENVINIT_USER"));
    ck_assert_ptr_null(strstr(unit, "ENVINIT_CONFIG"));
    ck_assert_ptr_null(strstr(unit, "ENVINIT_HOST_KEYS"));
    snprintf(c.host_keys, sizeof c.host_keys, "/etc/envinit/host-keys");
    ck_assert_int_gt(cvm_render_unit(&c, "/opt/envinit/bin/envinit", unit, sizeof unit), 0);
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_HOST_KEYS=/etc/envinit/host-keys\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\n[Install]\nWantedBy=multi-user.target\n"));
}
END_TEST

/* The value of one Environment="NAME=value" line, systemd's quoting undone. */
static void unit_unquote(const char *q, char *out, size_t len)
{
    size_t n = 0;
    for (q++; *q && *q != '"' && n + 1 < len; q++) {
        if (*q == '\\' || ((*q == '$' || *q == '%') && q[1] == *q))
            q++;
        out[n++] = *q;
    }
    out[n] = '\0';
}

/* ssh-supervise, started by systemd, must resolve the very configuration
 * PID 1 did: every setting the unit passes on reads back the same. */
START_TEST(cvm_unit_carries_every_setting)
{
    static const char *const set[][2] = {
        {"subreaper", "true"}, {"kill_process_group", "true"}, {"parent_death_signal", "SIGUSR1"},
        {"warn_on_reap", "true"}, {"log_level", "debug"}, {"grace", "2.5"}, {"expect_exit", "3,143"},
        {"rewrite", "15:2,1:0"}, {"user", "dev"}, {"on_write_error", "fail"}, {"etc_environment", "remove"},
        {"authorized_keys_file", "/run/keys/ak"}, {"host_keys", "/run/secrets/host keys"}, {"ssh", "fallback"},
        {"ssh_port", "2022"}, {"fallback_port", "2223"}, {"ssh_wait", "3"}, {"openssh_recommended", "false"},
        {"cvm", "true"}, {"status_file", "/run/st%at$us"}, {"fallback_args", "--no-sftp --keepalive 5"},
        {"fallback_config", "/etc/\"x\".conf"},
    };
    struct config c, back;
    char err[256], unit[16384], env_text[16384], a[2048], b[2048];
    config_defaults(&c);
    config_defaults(&back);
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        ck_assert_msg(config_set(&c, set[i][0], set[i][1], err, sizeof err) == 0, "%s", err);
    /* the list above names every setting but the key lines */
    ck_assert_uint_eq(sizeof set / sizeof set[0] + 1, config_key_count());
    ck_assert_int_gt(cvm_render_unit(&c, "/opt/envinit/bin/envinit", unit, sizeof unit), 0);
    char *envp[64];
    size_t n = 0, used = 0;
    for (const char *l = strstr(unit, "\nEnvironment="); l && n < 63; l = strstr(l + 1, "\nEnvironment=")) {
        unit_unquote(l + 13, env_text + used, sizeof env_text - used);
        envp[n++] = env_text + used;
        used += strlen(env_text + used) + 1;
    }
    envp[n] = NULL;
    ck_assert_int_eq(config_load_env(&back, envp, err, sizeof err), 0);
    for (size_t i = 0; i < config_key_count(); i++) {
        ck_assert_int_eq(config_key_value(&c, i, a, sizeof a), 0);
        ck_assert_int_eq(config_key_value(&back, i, b, sizeof b), 0);
        if (!config_key_is_keys(i))
            ck_assert_msg(strcmp(a, b) == 0, "%s: '%s' became '%s'", config_key_name(i), a, b);
    }
}
END_TEST

START_TEST(cvm_unit_quoting)
{
    struct config c = cvm_config();
    char unit[8192];
    snprintf(c.user, sizeof c.user, "dev");
    snprintf(c.config_path, sizeof c.config_path, "/etc/en\"v%%init/$x.ini");
    c.ssh = SSH_FALLBACK;
    c.ssh_wait_ms = 2500;
    ck_assert_int_gt(cvm_render_unit(&c, "/opt/my $dir/100%/envinit", unit, sizeof unit), 0);
    ck_assert_ptr_nonnull(strstr(unit, "\nExecStart=\"/opt/my $$dir/100%%/envinit\" ssh-supervise\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_CONFIG=/etc/en\\\"v%%init/$x.ini\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_USER=dev\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_SSH=fallback\"\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nEnvironment=\"ENVINIT_SSH_WAIT=2.500\"\n"));
    ck_assert_int_eq(cvm_render_unit(&c, "/opt/new\nline", unit, sizeof unit), -1);
    ck_assert_int_eq(cvm_render_unit(&c, "/opt/envinit", unit, 100), -1);
}
END_TEST

START_TEST(cvm_units_written)
{
    make_tmproot();
    struct config c = cvm_config();
    char path[1024], target[256];
    ck_assert_int_eq(cvm_write_units(tmproot, &c, "/opt/envinit/bin/envinit"), 0);
    snprintf(path, sizeof path, "%s/run/systemd/system/envinit-ssh.service", tmproot);
    const char *text = slurp(path);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "ExecStart=\"/opt/envinit/bin/envinit\" ssh-supervise"));
    snprintf(path, sizeof path, "%s/run/systemd/system/multi-user.target.wants/envinit-ssh.service", tmproot);
    ssize_t n = readlink(path, target, sizeof target - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_str_eq(target, "../envinit-ssh.service");
    ck_assert_ptr_nonnull(slurp(path)); /* the link resolves */
    ck_assert_int_eq(cvm_write_units(tmproot, &c, "/opt/envinit/bin/envinit"), 0); /* again: replaced */
    rm_tree();
}
END_TEST

START_TEST(cvm_finding_systemd)
{
    make_tmproot();
    char out[1024], want[1024], self[1024], link[1024];
    ck_assert(!cvm_find_systemd(tmproot, NULL, out, sizeof out));
    put_file("opt/envinit/bin/envinit", "#!/bin/sh\n", 0755);
    snprintf(self, sizeof self, "%s/opt/envinit/bin/envinit", tmproot);
    snprintf(link, sizeof link, "%s/sbin", tmproot);
    mkdir(link, 0755);
    snprintf(link, sizeof link, "%s/sbin/init", tmproot);
    ck_assert_int_eq(symlink(self, link), 0);
    ck_assert(!cvm_find_systemd(tmproot, self, out, sizeof out)); /* /sbin/init is envinit itself */
    unlink(link);
    put_file("sbin/init", "#!/bin/sh\n", 0755);
    ck_assert(cvm_find_systemd(tmproot, self, out, sizeof out));
    ck_assert_str_eq(out, link);
    put_file("lib/systemd/systemd", "#!/bin/sh\n", 0755);
    ck_assert(cvm_find_systemd(tmproot, self, out, sizeof out));
    snprintf(want, sizeof want, "%s/lib/systemd/systemd", tmproot);
    ck_assert_str_eq(out, want);
    rm_tree();
}
END_TEST

START_TEST(cvm_argv)
{
    char line[1024];
    char **argv = cvm_build_argv("/lib/systemd/systemd", NULL);
    argv_join(argv, line, sizeof line);
    ck_assert_str_eq(line, "/lib/systemd/systemd");
    free(argv);
    char *args[] = {"--unit=multi-user.target", "--show-status=no", NULL};
    argv = cvm_build_argv("/lib/systemd/systemd", args);
    argv_join(argv, line, sizeof line);
    ck_assert_str_eq(line, "/lib/systemd/systemd --unit=multi-user.target --show-status=no");
    free(argv);
    char *with_init[] = {"/sbin/init", "--log-level=debug", NULL};
    argv = cvm_build_argv("/lib/systemd/systemd", with_init);
    argv_join(argv, line, sizeof line);
    ck_assert_str_eq(line, "/lib/systemd/systemd --log-level=debug");
    free(argv);
}
END_TEST

/* A fake systemd that records its argv and environment, exec'd by a child
 * of the test as PID 1 would. */
START_TEST(cvm_exec_fake_systemd)
{
    make_tmproot();
    char script[2048], rec[1024], unit[1024];
    snprintf(script, sizeof script,
             "#!/bin/sh\nfor a in \"$0\" \"$@\"; do echo \"arg:$a\"; done > '%s/argv'\nenv > '%s/env'\nexit 42\n",
             tmproot, tmproot);
    put_file("lib/systemd/systemd", script, 0755);
    struct config c = cvm_config();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char *args[] = {"/sbin/init", "--unit=multi-user.target", NULL};
        char *envp[] = {"container=docker", "PATH=/usr/bin:/bin", "TERM=xterm", NULL};
        cvm_exec_systemd_at(tmproot, &c, args, envp);
        _exit(99); /* only on failure */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 42);
    snprintf(rec, sizeof rec, "%s/argv", tmproot);
    char want[2048];
    snprintf(want, sizeof want, "arg:%s/lib/systemd/systemd\narg:--unit=multi-user.target\n", tmproot);
    ck_assert_str_eq(slurp(rec), want);
    snprintf(rec, sizeof rec, "%s/env", tmproot);
    const char *env = slurp(rec);
    ck_assert_ptr_nonnull(strstr(env, "container=docker\n"));
    ck_assert_ptr_nonnull(strstr(env, "TERM=xterm\n"));
    snprintf(unit, sizeof unit, "%s/run/systemd/system/envinit-ssh.service", tmproot);
    ck_assert_ptr_nonnull(slurp(unit)); /* the unit was written before the exec */
    rm_tree();
}
END_TEST

START_TEST(cvm_exec_without_systemd)
{
    make_tmproot();
    struct config c = cvm_config();
    char *envp[] = {"container=docker", NULL};
    ck_assert_int_eq(cvm_exec_systemd_at(tmproot, &c, NULL, envp), -1); /* returns: carry on as PID 1 */
    char unit[1024];
    snprintf(unit, sizeof unit, "%s/run/systemd/system/envinit-ssh.service", tmproot);
    ck_assert_ptr_null(slurp(unit));
    /* A systemd that cannot be executed: also a return, and no unit left behind. */
    put_file("lib/systemd/systemd", "\x7f" "ELF broken", 0755);
    ck_assert_int_eq(cvm_exec_systemd_at(tmproot, &c, NULL, envp), -1);
    ck_assert_ptr_null(slurp(unit));
    rm_tree();
}
END_TEST

START_TEST(cvm_off_writes_no_unit)
{
    make_tmproot();
    struct config c = cvm_config();
    c.ssh = SSH_OFF;
    put_file("lib/systemd/systemd", "#!/bin/sh\nexit 0\n", 0755);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        cvm_exec_systemd_at(tmproot, &c, NULL, (char *[]){NULL});
        _exit(99);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    char unit[1024];
    snprintf(unit, sizeof unit, "%s/run/systemd/system/envinit-ssh.service", tmproot);
    ck_assert_ptr_null(slurp(unit));
    rm_tree();
}
END_TEST

/* ---- status ---- */

static struct ssh_status sample_status(void)
{
    struct ssh_status s = {.kind = "openssh", .state = "running", .port = 22, .pid = 1234, .expected = true,
                           .restarts = 3, .last_status = 9, .since = 1764035639};
    snprintf(s.note, sizeof s.note, "the image has OpenSSH\nand envinit is root");
    return s;
}

START_TEST(status_rendering)
{
    struct ssh_status s = sample_status();
    char text[4096];
    ck_assert_int_gt(status_render(&s, text, sizeof text), 0);
    ck_assert_str_eq(strchr(text, '\n') + 1, "kind=openssh\nstate=running\nport=22\npid=1234\nexpected=yes\n"
                                             "restarts=3\nlast_status=9\nsince=1764035639\n"
                                             "note=the image has OpenSSH and envinit is root\n");
    char small[20];
    ck_assert_int_eq(status_render(&s, small, sizeof small), -1);
    struct ssh_status back;
    ck_assert_int_eq(status_parse(text, &back), 0);
    ck_assert_str_eq(back.kind, "openssh");
    ck_assert_str_eq(back.state, "running");
    ck_assert_int_eq(back.port, 22);
    ck_assert_int_eq(back.pid, 1234);
    ck_assert(back.expected);
    ck_assert_uint_eq(back.restarts, 3);
    ck_assert_int_eq(back.last_status, 9);
    ck_assert_int_eq(back.since, 1764035639);
    ck_assert_str_eq(back.note, "the image has OpenSSH and envinit is root");
}
END_TEST

START_TEST(status_json_rendering)
{
    struct ssh_status s = sample_status();
    char *j = status_render_json(&s, true);
    ck_assert_str_eq(j, "{\"kind\":\"openssh\",\"server\":\"OpenSSH sshd\",\"state\":\"running\",\"up\":true,"
                        "\"expected\":true,\"port\":22,\"pid\":1234,\"restarts\":3,"
                        "\"last_exit\":\"killed by SIGKILL\",\"since\":1764035639,"
                        "\"note\":\"the image has OpenSSH\\nand envinit is root\"}\n");
    free(j);
    /* never exited: null; quotes, backslashes, control bytes escaped; UTF-8
     * kept, bytes that are not UTF-8 replaced */
    s.last_status = -1;
    snprintf(s.note, sizeof s.note, "a \"q\" \\ \t\x01\x7f caf\xc3\xa9 \xff\xc3 \xed\xa0\x80 \xe2\x82\xac");
    j = status_render_json(&s, false);
    ck_assert_ptr_nonnull(strstr(j, "\"up\":false,"));
    ck_assert_ptr_nonnull(strstr(j, "\"last_exit\":null,"));
    ck_assert_ptr_nonnull(strstr(j, "\"note\":\"a \\\"q\\\" \\\\ \\t\\u0001\\u007f caf\xc3\xa9 "
                                    "\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \xe2\x82\xac\"}\n"));
    free(j);
}
END_TEST

START_TEST(status_parsing)
{
    struct ssh_status s;
    ck_assert_int_eq(status_parse("kind=off\nstate=off\nexpected=no\nfuture_key=1\n", &s), 0);
    ck_assert_str_eq(s.kind, "off");
    ck_assert(!s.expected);
    ck_assert_int_eq(s.last_status, -1);
    ck_assert_int_eq(status_parse("state=running\n", &s), -1);          /* no kind */
    ck_assert_int_eq(status_parse("kind=openssh\n", &s), -1);           /* no state */
    ck_assert_int_eq(status_parse("kind=x\nstate=y\nport=99999\n", &s), -1);
    ck_assert_int_eq(status_parse("kind=x\nstate=y\npid=12ab\n", &s), -1);
    ck_assert_int_eq(status_parse("", &s), -1);
}
END_TEST

START_TEST(status_file_atomic)
{
    make_tmproot();
    char path[1024], text[4096];
    snprintf(path, sizeof path, "%s/run/envinit/status", tmproot);
    struct ssh_status s = sample_status();
    ck_assert_int_eq(status_write(path, &s), 0); /* creates run/envinit */
    s.restarts = 4;
    ck_assert_int_eq(status_write(path, &s), 0);
    status_render(&s, text, sizeof text);
    ck_assert_str_eq(slurp(path), text);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s/run/envinit' | wc -l) -eq 1", tmproot); /* no temp left */
    ck_assert_int_eq(system(cmd), 0);
    rm_tree();
}
END_TEST

static char *print_to_string(const struct ssh_status *s, bool up)
{
    static char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    status_print(s, up, s->since + 42, f);
    fclose(f);
    return buf;
}

START_TEST(status_file_no_symlink)
{
    make_tmproot();
    char path[1024], link[1024];
    put_file("elsewhere/keep", "", 0644);
    snprintf(link, sizeof link, "%s/run", tmproot);
    user_symlink_rel("elsewhere", "run");
    snprintf(path, sizeof path, "%s/run/envinit/status", tmproot);
    struct ssh_status s = sample_status();
    ck_assert_int_eq(status_write(path, &s), -1);
    ck_assert_int_eq(errno, ELOOP);
    struct stat st;
    snprintf(path, sizeof path, "%s/elsewhere/envinit", tmproot);
    ck_assert_int_eq(lstat(path, &st), -1);     /* nothing made through it */
    /* The status file's own folder as a symlink: refused as well. */
    put_file("real/keep", "", 0644);
    user_symlink_rel("real", "elsewhere/envinit");
    snprintf(path, sizeof path, "%s/elsewhere/envinit/status", tmproot);
    ck_assert_int_eq(status_write(path, &s), -1);
    snprintf(path, sizeof path, "%s/real/status", tmproot);
    ck_assert_int_eq(lstat(path, &st), -1);
    /* root's own link in a folder only root writes (/var/run -> /run): followed */
    symlink_rel("real", "varrun");
    snprintf(path, sizeof path, "%s/varrun/status", tmproot);
    ck_assert_int_eq(status_write(path, &s), 0);
    snprintf(path, sizeof path, "%s/real/status", tmproot);
    ck_assert_int_eq(lstat(path, &st), 0);
    rm_tree();
}
END_TEST

START_TEST(status_printing)
{
    struct ssh_status s = sample_status();
    const char *out = print_to_string(&s, true);
    ck_assert_ptr_nonnull(strstr(out, "SSH server:  OpenSSH sshd\n"));
    ck_assert_ptr_nonnull(strstr(out, "port:        22\n"));
    ck_assert_ptr_nonnull(strstr(out, "state:       running (up: listening)\n"));
    ck_assert_ptr_nonnull(strstr(out, "pid:         1234\n"));
    ck_assert_ptr_nonnull(strstr(out, "(42 s ago)"));
    ck_assert_ptr_nonnull(strstr(out, "2025-11-25 01:53:59 UTC"));
    ck_assert_ptr_nonnull(strstr(out, "restarts:    3\n"));
    ck_assert_ptr_nonnull(strstr(out, "last exit:   killed by SIGKILL\n"));
    out = print_to_string(&s, false);
    ck_assert_ptr_nonnull(strstr(out, "DOWN"));
    struct ssh_status off = {.kind = "off", .state = "off", .last_status = -1};
    out = print_to_string(&off, false);
    ck_assert_ptr_nonnull(strstr(out, "none (ssh = off)"));
    ck_assert_ptr_null(strstr(out, "DOWN"));
    ck_assert_ptr_null(strstr(out, "restarts"));
}
END_TEST

/* ---- the plan between envinit-setup and PID 1 ---- */

static char *plan_text(const struct ssh_plan *p)
{
    static char buf[8192];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ck_assert_ptr_nonnull(f);
    ssh_plan_write(f, p);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

START_TEST(plan_round_trip)
{
    /* words with a real newline and a backslash */
    char a0[] = "/usr/sbin/sshd", a1[] = "-h", a2[] = "/keys/odd\nname\\x", a3[] = "line\narg=break";
    struct ssh_plan in = {.action = SSH_ACT_OPENSSH, .port = 2222, .argc = 4, .argv = {a0, a1, a2, a3, NULL}};
    snprintf(in.why, sizeof in.why, "why\nwith a newline\\");
    char *text = plan_text(&in);
    ck_assert_ptr_null(strstr(text, "\narg=break")); /* no value adds a line */
    struct ssh_plan out;
    ck_assert_int_eq(ssh_plan_parse(text, &out), 0);
    ck_assert_int_eq(out.action, SSH_ACT_OPENSSH);
    ck_assert_int_eq(out.port, 2222);
    ck_assert_str_eq(out.why, in.why);
    ck_assert_int_eq(out.argc, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(out.argv[i], in.argv[i]);
    ck_assert_ptr_null(out.argv[4]);
    ck_assert(!out.abort);
    struct ssh_plan ab = {.action = SSH_ACT_ERROR, .abort = true};
    ck_assert_int_eq(ssh_plan_parse(plan_text(&ab), &out), 0);
    ck_assert(out.abort);
    ck_assert_int_eq(out.action, SSH_ACT_ERROR);
}
END_TEST

START_TEST(plan_malformed)
{
    static const char *const bad[] = {
        "action=openssh\nport=22\n",                 /* cut short: no end */
        "action=nonsense\nend\n",                    /* unknown action */
        "action=openssh\nport=99999\nend\n",         /* port out of range */
        "action=openssh\nport=22x\nend\n",
        "action=openssh\nno equals sign\nend\n",
        "action=openssh\nwhy=bad \\q escape\nend\n",
        "action=openssh\nwhy=dangling \\\nend\n",
        "action=openssh\nsurprise=1\nend\n",        /* unknown field */
        "action=openssh\nend\narg=-oProxyCommand=x\n", /* a line after end */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        struct ssh_plan p;
        snprintf(text, sizeof text, "%s", bad[i]);
        ck_assert_msg(ssh_plan_parse(text, &p) == -1, "accepted: %s", bad[i]);
    }
    char many[SSH_PLAN_ARGS * 8 + 64];
    size_t at = (size_t)snprintf(many, sizeof many, "action=openssh\n");
    for (int i = 0; i < SSH_PLAN_ARGS; i++)
        at += (size_t)snprintf(many + at, sizeof many - at, "arg=x\n");
    snprintf(many + at, sizeof many - at, "end\n");
    struct ssh_plan p;
    ck_assert_int_eq(ssh_plan_parse(many, &p), -1); /* more words than argv holds */
}
END_TEST

static Suite *suite(const char *name, const TTest *const *tests)
{
    Suite *s = suite_create(name);
    for (size_t i = 0; tests[i]; i++)
        UNIT_ADD(s, tests[i]);
    return s;
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const TTest *const procnet[] = {procnet_ipv4, procnet_other_states, procnet_malformed, procnet_ipv6,
                                           procnet_v4_mapped, procnet_files, NULL};
    const TTest *const greeting[] = {greeting_ssh, greeting_not_ssh, greeting_undecided, NULL};
    const TTest *const decision[] = {decide_auto, decide_off_external_cvm, decide_forced_openssh,
                                            decide_forced_fallback, decide_unprivileged_high_port,
                                            decide_without_privilege, fast_exits,
                                            NULL};
    const TTest *const openssh[] = {sshd_config_keywords, sshd_config_includes, sshd_config_files,
                                           sshd_config_include_fan_out, sshd_config_wildcards_long_name, sshd_argv,
                                           sshd_host_keys, sshd_finding, exec_stat_rules,
                                           sshd_finding_refuses_replaceable, fallback_argv, NULL};
    const TTest *const cvm[] = {cvm_unit_rendering, cvm_unit_carries_every_setting, cvm_unit_quoting, cvm_units_written,
                                       cvm_finding_systemd, cvm_argv, cvm_exec_fake_systemd,
                                       cvm_exec_without_systemd, cvm_off_writes_no_unit, NULL};
    const TTest *const status[] = {status_rendering, status_json_rendering, status_parsing, status_file_atomic, status_file_no_symlink, status_printing,
                                          NULL};
    const TTest *const plan[] = {plan_round_trip, plan_malformed, NULL};
    Suite *suites[] = {suite("procnet", procnet), suite("greeting", greeting), suite("decision", decision),
                       suite("openssh", openssh), suite("cvm", cvm), suite("status", status),
                       suite("plan", plan), NULL};
    return unit_run("ssh", suites);
}
