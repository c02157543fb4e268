/* sshfallback — envinit-sshd, the bundled fallback SSH server, on libssh
 * (Debian's source package plus libssh.patch, linked in; see libssh.sh).
 *
 * Contract
 * ========
 * envinit starts envinit-sshd when the image has no OpenSSH sshd; it is
 * static, so nothing of the image's libc is used:
 *
 *   <bundle>/bin/envinit-sshd --port 2222 --user coder [flags...]
 *
 * Command line: every switch is one row of sf_options[] (options.c) with
 * its sshd_config keyword, value and one-line meaning, which `envinit-sshd
 * --help` prints; -f FILE sets the rows with a keyword. What takes more
 * than a line:
 *   -k, --host-key PATH        a key file, or a folder of them (a mounted Secret);
 *                              repeatable; the first key of each type the host
 *                              key algorithms need is served (sf_hostkey_load).
 *                              A single file that does not exist is generated
 *                              there. Default /etc/envinit/ssh_host_ed25519_key
 *                              (and _ecdsa_key, _rsa_key when enabled), generated
 *                              when absent; read-only: the state folder (not
 *                              root), then the runtime folder /run/envinit or
 *                              /tmp/envinit-UID.
 *   -u, --user NAME            default envfile_user_default: yourself when not
 *                              root; as root "coder", else uid 1000, else root
 *   logs                       one line per event on stderr:
 *                              "envinit-sshd: LEVEL: message" (error, warn, info, debug)
 *   --max-startups S:R:F       from S unauthenticated connections on, each new
 *                              one closes a silent or overdue one; refused at F
 *                              (see sf_startups_victim)
 *   --keepalive-count-max N    counts keepalives sent since the client last sent
 *                              a byte
 *   --banner FILE              sent once, when the client first tries to log in.
 *                              Read once at start (at most SF_BANNER_MAX bytes);
 *                              root reads it only where the environment user can
 *                              change nothing on its path (envfile_path_safe_from),
 *                              else the start stops (78).
 *   --no-stream-local-bind-unlink  default: a socket of the user's that nobody
 *                              listens on (connect refused) at a -R path is
 *                              replaced, as OpenSSH's StreamLocalBindUnlink yes
 *   -i, --inetd                a ProxyCommand such as `docker exec -i C envinit
 *                              ssh-stdio`, or inetd: same host key, user,
 *                              authentication, key options, features and limits
 *                              (stdio.c). Only the protocol goes to stdout; logs
 *                              stay on stderr (dropped when stderr is stdin's or
 *                              stdout's file). The client's address: a TCP
 *                              socket's peer; on pipes or a unix socket "UNKNOWN",
 *                              port 65535, as OpenSSH's sshd -i (SSH_CONNECTION,
 *                              SSH_CLIENT, the log; from= then matches only
 *                              patterns such as "*" that match the word UNKNOWN).
 *   --print-host-key           a key is made first when the rule makes one
 *   --kex-algorithms LIST ...  (and --ciphers, --macs, --host-key-algorithms,
 *                              --pubkey-accepted-algorithms) applied to SF_KEX...
 *                              below: "a,b" exactly these, "+a,b" added, "-a,b"
 *                              removed (* and ? patterns), "^a,b" put first
 *                              (sf_algo_apply). Each name must be one our libssh
 *                              implements (never "none"), else the start fails
 *                              with 78 naming it.
 *   --subsystem 'sftp internal-sftp [FLAGS]'  sftp-server's flags (-R -p -P -u
 *                              -d, see sftp.c) for each SFTP child
 *                              (envinit-sshd --sftp-server FLAGS)
 *   -f, --config FILE          applied after the command line
 *                              (sf_config_apply_text). As sshd with -o: the
 *                              command line wins, then the first value in the
 *                              file; HostKey and AcceptEnv add up. Any other
 *                              keyword, Match or a bad value (yes/no checked)
 *                              stops the start (78) naming the file, line and
 *                              keyword. The listener reads it once; connections
 *                              get its text (SF_CONN_CONFIG_FD), never the file
 *                              again.
 * Exit status: 0 after SIGTERM/SIGINT, 1 on a startup failure (logged), 2 bad flags,
 * 78 (SF_EXIT_CONFIG) for a configuration no restart can fix: no such user,
 * no usable host key, an unknown algorithm, root without the capabilities
 * to become the user.
 *
 * Behaviour:
 *  - one process per connection. The listener (root) keeps only
 *    CAP_NET_BIND_SERVICE, CAP_SETUID and CAP_SETGID (bounding set untouched,
 *    so sudo works in sessions) and holds the host keys only in a sealed
 *    memfd. Each connection is a new program image (reexec.c, --connection)
 *    that reads the keys from it and takes the user's groups, gid and uid
 *    (libcap-ng), not dumpable, before libssh reads a byte from the client.
 *    As non-root, nothing changes identity.
 *  - algorithms: SF_KEX, SF_CIPHERS, SF_MACS, SF_HOSTKEYS, SF_PUBKEYS below,
 *    changed by --kex-algorithms... (every connection's image parses the
 *    same switches, so all offer the same).
 *  - public key authentication only; authorized_keys options restrict,
 *    no-pty, no-port-forwarding, no-agent-forwarding, no-X11-forwarding,
 *    command="...", from="...", no-touch-required and verify-required are
 *    honoured; any other option makes the line refused with a warning (fail
 *    closed). The first line holding the offered key decides: a refused one
 *    is not bypassed by a later line. A security key (sk-*) signature must
 *    have the user-presence flag unless no-touch-required, and the
 *    user-verification flag with verify-required (as OpenSSH's sshd); see
 *    sf_sk_flags_refusal.
 *  - sessions: shell (login shell, "-sh" argv[0], cwd home), exec (shell -c),
 *    pty-req with its terminal modes (ttymodes.c), window-change, env, signal,
 *    break (on a pty, what a serial line's BREAK does: SIGINT to the
 *    foreground group with BRKINT, else a NUL byte unless IGNBRK; refused
 *    without a pty, as sshd does); exit-status or exit-signal always; the
 *    channel is closed only after all output went out.
 *  - the event loop of each process is one poll(2) over a signalfd, a timerfd
 *    and the descriptors; nothing sleeps or wakes up periodically (except
 *    --keepalive, when asked for).
 *  - a connection whose client vanishes: its programs get SIGHUP (process
 *    group), are reaped (the connection process is their subreaper) for up
 *    to a second, then the process exits; nothing is left but programs that
 *    ignore SIGHUP, which the init process reaps later.
 *
 * Forwarding and SFTP (fwd.c, listeners.c, session.c, all on chan.c's pump):
 *  - the "sftp" subsystem: a child of the connection process (already the
 *    user, cwd home) runs sf_sftp_serve on the channel's pipes. Allowed under
 *    "restrict" (as in OpenSSH); a forced command= runs instead of it.
 *  - -L/-D (direct-tcpip): connected by the connection process, which is the
 *    user by then, with a non-blocking connect. A failure known at once (a
 *    refused loopback port) refuses the open; one known later closes the
 *    confirmed channel (libssh needs the answer inside its callback).
 *    Host names are resolved synchronously (getaddrinfo, as sshd does).
 *    Flow control both ways; EOF and close propagated; at most 512 forwards
 *    (listeners and connections) per connection.
 *  - -R (tcpip-forward, cancel-tcpip-forward): bound to loopback unless
 *    --gateway-ports; port 0 answered with the allocated port; each accepted
 *    connection becomes a forwarded-tcpip channel to the client.
 *  - -A: a listening socket agent.PID in a private 0700 folder
 *    /tmp/envinit-ssh-XXXXXX of the user, SSH_AUTH_SOCK; removed with the
 *    session. ~/.envinit-ssh-agent.sock (envinit's ~/.ssh/environment block
 *    names it when envinit-sshd serves) leads to the newest live one of any
 *    connection: repointed when a session's socket comes or goes, removed
 *    when none is left (agentlink.c).
 *  - -X: a display from :10 up on TCP 6000+N (a display whose
 *    /tmp/.X11-unix socket exists is skipped), DISPLAY=localhost:N.S, the
 *    cookie in XAUTHORITY (a file in the same private folder) written by
 *    xauth when the image has it, else by us; each X connection becomes an
 *    x11 channel. The real cookie never reaches the server side: sessions
 *    get a random one, replaced in each X connection's setup packet.
 *  - interactive logins (pty, no command) show /etc/motd unless ~/.hushlogin.
 *  - every refusal of a client's request is logged with its reason, the
 *    first SF_REFUSALS_LOGGED of a connection (sf_conn_refused); a
 *    connection ended by a protocol violation (libssh's error) leaves a
 *    "connection closed: REASON" line.
 *  - each session leaves one info line when it ends (session.c log_end):
 *    id, user, client, what ran, bytes each way, duration, exit, why it
 *    ended, and the client's command last, escaped (log_safe).
 *  - unix sockets (ssh -L/-R with paths: direct-streamlocal@openssh.com,
 *    (cancel-)streamlocal-forward@openssh.com): connected or bound by the
 *    connection process (the user); a relative path is taken from home; a
 *    bound socket is 0600 and is removed when the forward is cancelled or
 *    the connection ends (only while it is still the socket we bound). It
 *    replaces a stale socket of the user's at the path (connect refused:
 *    a killed connection's forward) unless --no-stream-local-bind-unlink;
 *    a live socket or any other file is never replaced. Refused by
 *    no-port-forwarding and restrict, as in OpenSSH, and by
 *    --no-unix-forwarding.
 *  - each honours its authorized_keys restriction (no-port-forwarding,
 *    no-agent-forwarding, no-X11-forwarding, restrict) and its switch above.
 */
#ifndef ENVINIT_SSHFALLBACK_H
#define ENVINIT_SSHFALLBACK_H

/* The logger (log_msg, log_error, ..., log_safe) and the user and file
 * helpers come from envfile. */
#include "../envfile/envfile.h"
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define SF_NAME "envinit-sshd"
/* Exit status for a configuration no restart can fix (no such user,
 * unusable host key, missing capabilities): envinit then stops restarting
 * the server and reports it (sysexits' EX_CONFIG). */
#define SF_EXIT_CONFIG 78
#define SF_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define SF_KEX "curve25519-sha256,curve25519-sha256@libssh.org," \
               "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512"
#define SF_CIPHERS "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com," \
                   "aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"
#define SF_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com," \
                "hmac-sha2-256,hmac-sha2-512"
#define SF_HOSTKEYS "ssh-ed25519"
#define SF_PUBKEYS "ssh-ed25519,sk-ssh-ed25519@openssh.com," \
                   "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521," \
                   "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
/* The host key algorithms envinit-sshd can serve (with a key of its type). */
#define SF_HOSTKEYS_SERVABLE "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
                             "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa"

/* ---- algorithm lists (algo.c, pure) ---- */
/* The lists a command line may change, in the order of SF_KEX... above. */
enum sf_algo_kind { SF_ALGO_KEX, SF_ALGO_CIPHERS, SF_ALGO_MACS, SF_ALGO_HOSTKEYS, SF_ALGO_PUBKEYS, SF_ALGO_N };
#define SF_ALGO_MAX 1024
/* OpenSSH's syntax for an algorithm list SPEC (sshd_config(5)
 * KexAlgorithms...): "a,b" the list itself; "+a,b" DEFAULTS then those;
 * "-a,b" DEFAULTS without those; "^a,b" those then the rest of DEFAULTS.
 * Names may be patterns (* and ?): each stands for the names of SUPPORTED
 * it matches, and must match one. NULL SPEC: DEFAULTS. Duplicates are
 * dropped. The result (comma list) into OUT: 0, or -1 with ERR (an
 * unknown name is named, with the supported ones; an empty result). */
int sf_algo_apply(const char *defaults, const char *spec, const char *supported, char *out, size_t size,
                  char *err, size_t esize);
/* The host key types the host key algorithm list ALGOS needs: SF_HK_*
 * bits; *ECDSA_BITS the curve of the ECDSA algorithm named first (256,
 * 384, 521; 0 without one): a server holds one ECDSA key. */
#define SF_HK_ED25519 1u
#define SF_HK_ECDSA 2u
#define SF_HK_RSA 4u
unsigned sf_hostkey_kinds(const char *algos, int *ecdsa_bits);


/* ---- configuration (main.c fills it from the command line) ---- */
#define SF_MAX_ACCEPT_ENV 32
#define SF_MAX_HOST_KEYS 16
#define SF_MAX_SFTP_ARGS 16
#define SF_OPT_COUNT 43
#define SF_BANNER_MAX 32768
struct sf_startups {
    unsigned start, rate, full; /* MaxStartups start:rate:full */
};
struct envfile_user;
struct sf_config {
    const struct envfile_user *account; /* the user, resolved once at start */
    const char *listen_addr;
    int port;
    const char *host_keys[SF_MAX_HOST_KEYS]; /* --host-key, in order; none: the default rule */
    size_t n_host_keys;
    const char *user;           /* NULL: envfile_user_default */
    const char *authorized_keys;/* NULL: ~/.ssh/authorized_keys */
    const char *passwd_path, *group_path;
    unsigned grace_s, max_auth_tries, max_sessions, keepalive_s;
    unsigned keepalive_max;     /* ClientAliveCountMax: unanswered keepalives; 0: no limit */
    const char *banner;         /* Banner: a path, or "none" */
    const char *banner_text;    /* its text as read at start, NULL: none */
    struct sf_startups startups;
    const char *accept_env[SF_MAX_ACCEPT_ENV];
    size_t n_accept_env;
    int ready_fd;
    int test_only;
    int connection;             /* --connection: serve the one on SF_CONN_SOCKET_FD */
    int inetd;                  /* -i: serve the one on stdin/stdout */
    int print_host_key;         /* --print-host-key */
    int libssh_log;             /* -v given twice: libssh's own log */
    int no_sftp, no_port_forwarding, no_unix_forwarding, no_agent_forwarding;
    int no_x11_forwarding, no_motd;
    int gateway_ports, x11_use_localhost;
    int no_stream_local_bind_unlink; /* never replace a stale socket at a -R path */
    unsigned x11_display_offset;
    const char *algo_spec[SF_ALGO_N]; /* --kex-algorithms...: OpenSSH syntax, NULL: default */
    char algos[SF_ALGO_N][SF_ALGO_MAX]; /* what is offered: the defaults with algo_spec applied */
    const char *config_path;    /* -f: sshd_config-syntax file, NULL: none */
    int print_config;           /* -T: print the effective settings and exit */
    const char *sftp_subsystem; /* Subsystem's value, NULL: the default */
    char *sftp_args[SF_MAX_SFTP_ARGS]; /* its sftp-server flags, for --sftp-server */
    size_t n_sftp_args;
    unsigned char seen[SF_OPT_COUNT]; /* set already (command line, then file): first wins */
};

/* ---- the settings table (options.c) ----
 * One row per setting: its sshd_config keyword (NULL: command line only),
 * its long switch (and short one), and how the value is set. main.c builds
 * getopt_long's options from it and sf_config_apply_text reads a file
 * (-f) with it, so the two cannot disagree. Precedence, as OpenSSH's sshd
 * with -o: the command line is read first and the first value wins, so a
 * switch beats the file, and a keyword given twice keeps its first value;
 * HostKey and AcceptEnv add up (the command line's first). */
enum sf_opt_kind {
    SF_OPT_INT, SF_OPT_UINT, SF_OPT_SECONDS, /* number in [lo, hi]; SECONDS also 2m, 1h... */
    SF_OPT_STR,
    SF_OPT_FLAG,      /* switch without a value; keyword yes/no (lo: the field is its negation, and
                       * "all" means yes: AllowTcpForwarding all) */
    SF_OPT_HOSTKEY, SF_OPT_ACCEPT_ENV, SF_OPT_STARTUPS,
    SF_OPT_ALGO,      /* off: enum sf_algo_kind */
    SF_OPT_SUBSYSTEM, /* "sftp internal-sftp [sftp-server flags]" */
    SF_OPT_IGNORED,   /* accepted for sshd compatibility */
    SF_OPT_ACTION,    /* done by main.c: off is an SF_ACT_ */
};
enum { SF_ACT_VERBOSE, SF_ACT_QUIET, SF_ACT_HELP };
struct sf_option {
    const char *keyword, *name;
    int short_opt;
    enum sf_opt_kind kind;
    size_t off;
    unsigned lo, hi;
    const char *arg;            /* the value's name in --help, NULL: a switch */
    const char *help;           /* one line for --help, NULL: not listed */
};
extern const struct sf_option sf_options[];
/* Sets O from VALUE (the switch's argument, or the keyword's value when
 * FROM_FILE; VALUE must outlive C). 0, or -1 with a message naming the
 * switch or keyword in ERR. */
int sf_option_set(struct sf_config *c, const struct sf_option *o, const char *value, int from_file, char *err,
                  size_t esize);
/* One line per listed row: its switches, value, help and keyword. */
void sf_options_help(FILE *out);
/* The row of an sshd_config KEYWORD (any case), or NULL. */
const struct sf_option *sf_option_find_keyword(const char *keyword);
/* Applies the sshd_config TEXT of FILE to C under the precedence above:
 * 0, or -1 with ERR naming the file, the line and the keyword (an unknown
 * or unimplemented keyword, Match, a bad value). */
int sf_config_apply_text(struct sf_config *c, const char *text, const char *file, char *err, size_t esize);
/* -T: the effective settings, "keyword value" a line, keywords in lowercase. */
void sf_config_print(const struct sf_config *c, FILE *out);

/* Parses "S:R:F" (or "S"); 0, or -1 when malformed (R > 100, S > F, ...). */
int sf_startups_parse(const char *s, struct sf_startups *out);
/* MaxStartups, made so that a flood cannot lock the user out, even when
 * every connection comes through one proxy address. sshd's random early
 * drop of newcomers from `start` on would drop a real login as readily as
 * a flood's, and a burst of 100 real logins has ~50 of them pending at
 * once on a small machine. Instead, every pending (unauthenticated)
 * connection counts, and from `start` pending on, each new connection
 * first closes one that is getting nowhere: the longest silent one (not a
 * byte from the client after SF_STARTUP_SILENT_MS), else the oldest one
 * past a pre-authentication deadline that shrinks with the load, from the
 * login grace time at `start` to SF_STARTUP_FLOOR_MS at `full`. A real
 * client talks at once and authenticates within that floor. Newcomers are
 * refused only at `full` with nothing to close. `rate` is parsed for
 * sshd's syntax and not used. */
#define SF_STARTUP_SILENT_MS 1000
#define SF_STARTUP_FLOOR_MS 3000
/* The deadline (ms) for connections while PENDING are unauthenticated. Pure. */
long sf_startups_deadline_ms(const struct sf_startups *s, unsigned pending, long grace_ms);
struct sf_pending {
    long long age_ms;           /* since it was accepted */
    int silent;                 /* no byte from the client yet */
};
/* The connection to close to make room among P[0..N): the index, or -1
 * when none is silent long enough or past DEADLINE_MS. Pure. */
int sf_startups_victim(const struct sf_pending *p, unsigned n, long deadline_ms);

/* ---- authorized_keys (authkeys.c, pure) ---- */
struct sf_keyopts {
    int no_pty, no_port_forwarding, no_agent_forwarding, no_x11_forwarding;
    int restrict_all;           /* "restrict": all of the above, and future ones */
    int no_touch_required;      /* security keys: user presence not required */
    int verify_required;        /* security keys: user verification required */
    char *command;              /* command="...", unquoted, malloc'd or NULL */
    char *from;                 /* from="...", unquoted, malloc'd or NULL */
};
void sf_keyopts_free(struct sf_keyopts *o);

/* Parses an options prefix (authorized_keys syntax). Only the options above
 * are allowed: anything else, or bad syntax, gives -1 and *WHY. 0 ok. */
int sf_keyopts_parse(const char *opts, size_t len, struct sf_keyopts *out, const char **why);

/* Security key signature flags (OpenSSH's sk-api.h). */
#define SF_SK_USER_PRESENCE 0x01
#define SF_SK_USER_VERIFICATION 0x04
/* Why a security key signature with FLAGS (-1: unknown) does not satisfy
 * OPTS, or NULL when it does. Pure. */
const char *sf_sk_flags_refusal(const struct sf_keyopts *opts, int flags);

/* from= check: PATTERNS is a comma-separated list of address patterns
 * (* and ? wildcards, addr/len CIDR, "!" negates: a negated match refuses);
 * ADDR the peer's numeric address. 1 allowed, 0 refused. Pure. */
int sf_from_allows(const char *patterns, const char *addr);
/* Glob match of S against PATTERN[0..PLEN) with * and ?; NOCASE folds ASCII. */
int sf_glob(const char *pattern, size_t plen, const char *s, int nocase);

enum sf_match {
    SF_MATCH_NONE = 0,  /* no line holds this key */
    SF_MATCH_OK,        /* the first line holding it is usable: *OPTS filled */
    SF_MATCH_REFUSED,   /* the first line holding it is refused (from=, options) */
};
/* Scans the text of an authorized_keys file for the key whose wire blob is
 * BLOB, as seen from peer address ADDR. The first line holding the key
 * decides (fail closed): its options apply, or, when one of them is not
 * supported or its from= refuses ADDR, the key is refused; later lines for
 * the same key are never consulted. Bad and refused lines are logged as
 * warnings with their line number (never the key itself). Pure apart from
 * the log. */
enum sf_match sf_authkeys_find(const char *text, size_t len, const unsigned char *blob,
                               size_t blob_len, const char *addr, const char *file,
                               struct sf_keyopts *opts);

/* ---- session environment (policy.c, pure) ---- */
/* 1 when a client may set NAME: LANG, LC_*, or a glob of ACCEPT. */
int sf_env_accepted(const char *name, const char *const *accept, size_t n_accept);
/* What one session keeps of its client's env requests: without a bound a
 * client could send env requests until the connection process runs out of
 * memory (or its program's exec fails with E2BIG). */
#define SF_ENV_MAX_VARS 64
#define SF_ENV_MAX_BYTES (64 * 1024)
/* 1 when a session may hold N_VARS client variables of BYTES in total
 * ("NAME=value" plus its NUL, each). Pure. */
int sf_env_within_caps(size_t n_vars, size_t bytes);

/* X11 displays one connection may hold at once (one per session at most):
 * each is a listening port from :10 up, so a client opening sessions that
 * ask for X11 and never use it must not take the whole range. OpenSSH's
 * default MaxSessions, so a default setup refuses nothing it used to give. */
#define SF_X11_MAX_DISPLAYS 10
/* 1 when a session may get a display while its connection holds HELD, and
 * the session itself has one already when SESSION_HAS_ONE. Pure. */
int sf_x11_display_allowed(unsigned held, int session_has_one);

/* ---- forwarding decisions (fwd.c, pure) ---- */
/* The address a remote forward (-R) binds for the client's ASKED address:
 * loopback unless GATEWAY_PORTS ("" and "*" then mean every IPv4 address,
 * "localhost" 127.0.0.1, anything else itself). */
const char *sf_fwd_bind_address(int gateway_ports, const char *asked);
/* ---- X11 cookies (x11cookie.c, pure: no libssh, so fuzzed alone) ---- */
/* Hex to bytes (the x11-req cookie): the byte count, or -1 when HEX is
 * empty, odd, not hex or longer than MAX bytes. */
int sf_unhex(const char *hex, unsigned char *out, size_t max);
/* The X11 connection setup packet PKT[0..LEN) (either byte order): once
 * complete, its authorization must be PROTO with data FAKE[0..CLEN), which
 * is replaced by REAL in place. The setup's length then, 0 while it is
 * incomplete, -1 when it is refused (other cookie, bad byte order). */
long sf_x11_swap(unsigned char *pkt, size_t len, const char *proto, const unsigned char *fake,
                 const unsigned char *real, size_t clen);

/* ---- terminal modes (ttymodes.c, pure) ---- */
struct termios;
/* Applies the encoded terminal modes M[0..LEN) of a pty-req (RFC 4254, 8)
 * to T: control characters, the i/l/o/c flags Linux has, and speeds.
 * Opcodes Linux lacks are skipped; parsing stops at TTY_OP_END or at an
 * opcode from 160 up. The number of modes read, or -1 when M is cut short
 * (what came before it is applied). */
int sf_tty_modes_apply(const unsigned char *m, size_t len, struct termios *t);

/* ---- host keys (hostkey.c) ---- */
struct envfile_owner;
#define SF_HOSTKEY_DIR "/etc/envinit"
#define SF_MAX_SERVED_KEYS 3
/* The server's host keys for the host key algorithm list ALGOS: one key
 * per type it needs (sf_hostkey_kinds), ed25519, ECDSA, RSA in this order.
 * With PATHS[0..N) (--host-key: key files or folders of them, e.g. a
 * mounted Secret): the first key of each type that envfile_hostkeys_list
 * accepts for WHO (a single file that does not exist is generated there,
 * of the first type needed; more types then need a folder). Without: for
 * each type SF_HOSTKEY_DIR/ssh_host_{ed25519,ecdsa,rsa}_key (ECDSA on
 * the curve named first, RSA of 3072 bits), generated (0600, atomically)
 * when absent; when that cannot be written, for a non-root USER its state
 * folder ($XDG_STATE_HOME, else ~/.local/state)/envinit, then the runtime
 * folder (envfile_runtime_dir; said with a warning: the key then changes
 * at every start). Logs each SHA256 fingerprint. KEYS[] gets ssh_keys
 * (void * keeps libssh out of this header); returns how many, or 0 when a
 * type needed has no usable key (logged). */
size_t sf_hostkey_load(const char *const *paths, size_t n, const char *algos, const struct envfile_user *user,
                       const struct envfile_owner *who, void *keys[SF_MAX_SERVED_KEYS]);

/* ---- the pre-authentication banner (banner.c) ---- */
/* The Banner file PATH's text into *TEXT (malloc'd; NULL for "none"): a
 * regular file of at most SF_BANNER_MAX bytes; as root serving WHO (not
 * root), only when envfile_path_safe_from allows it. 0, or -1 (logged). */
int sf_banner_read(const char *path, const struct envfile_owner *who, char **text);

/* ---- the connection process (conn.c) ---- */
/* A connection's program image (--connection) finds the client's socket,
 * the host keys (a sealed memory file) and the listener's report pipe here. */
#define SF_CONN_SOCKET_FD 3
#define SF_CONN_KEY_FD 4
#define SF_CONN_REPORT_FD 5
/* the -f file's text as the listener read it (sealed memory file): every
 * connection applies the very text the listener did */
#define SF_CONN_CONFIG_FD 6
/* the Banner file's text as the listener read it (sealed memory file) */
#define SF_CONN_BANNER_FD 7
/* Runs one accepted connection to its end; never returns. It becomes the
 * user (groups, gid, uid, no capability, not dumpable) before it reads a
 * byte from the client. REPORT_FD gets this process's pid (4 bytes) once
 * authenticated (MaxStartups accounting); -1 for none (-i). */
void sf_conn_run(const struct sf_config *cfg, void *bind, int fd, int report_fd)
    __attribute__((noreturn));
/* The same connection (the same setup, callbacks, loop and ending) run in
 * the calling process, for the fuzz target (tests/fuzz/fuzz_sshd_server.c):
 * the user is CFG->account as given (no passwd lookup), nothing changes
 * identity, the process does not become a subreaper and reports nothing;
 * it returns when the connection has ended, FD closed and what the
 * connection held freed. Meant for connections that never authenticate:
 * after a login the sessions' programs would be children of the caller,
 * reaped (waitpid -1) as the connection ends, and channels and forwards
 * are not freed. 1 when the client authenticated, 0 when not, -1 when
 * libssh could not take the connection. */
int sf_conn_serve_here(const struct sf_config *cfg, void *bind, int fd);

/* ---- one connection on stdin and stdout (stdio.c) ---- */
/* The descriptor the connection of -i runs on: stdin when it is a socket;
 * otherwise one end of a socketpair, the calling process becoming the pump
 * between it and stdin/stdout (it becomes user U first, and exits when the
 * connection's output is all out, with the connection's status); the
 * connection continues in its child. Either way the connection process is
 * left with /dev/null on stdin and stdout. -1 when that failed (logged). */
int sf_stdio_connection_fd(const struct envfile_user *u);
/* The address word for a peer that is not an IP socket, and its port, as
 * OpenSSH's sshd -i gives them. */
#define SF_UNKNOWN_PEER "UNKNOWN"
#define SF_UNKNOWN_PORT 65535

/* ---- starting our own program image again (reexec.c) ---- */
/* Notes which program file this process runs; 0, or -1. */
int sf_reexec_init(void);
/* Replaces this process with a fresh envinit-sshd given ARGS (after
 * argv[0]); never returns (logs and exits 127 on failure). */
void sf_reexec(char *const *args) __attribute__((noreturn));

/* ---- internals of the connection process (not for other components) ----
 * Its files form layers, each calling only those below it (.ci/cycles):
 * chan.c (the channel pump); fwd.c (forwarding channels and listeners);
 * listeners.c (a session's agent and X11 listeners, on fwd.c); session.c
 * (on listeners.c and chan.c); dispatch.c (libssh's messages, to fwd.c and
 * session.c); conn.c (the connection and its loop, on all of them). */
#ifdef SF_INTERNAL
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>

/* chan.c: the byte pump between a channel and descriptors that every
 * kind of channel uses, with flow control both ways (see there). */
void sf_close_fd(int *fd);
struct sf_pump;
/* What differs between kinds of channels; any may be NULL. */
struct sf_chan_ops {
    /* Opens a channel we start (forwarded-tcpip, x11...; called from the
     * loop, never from a libssh callback): 1 open, 0 waiting, -1 refused. */
    int (*open)(struct sf_pump *p);
    /* The client sent EOF and all its data was written. */
    void (*eof)(struct sf_pump *p);
    /* The client closed the channel (inside libssh's callback). */
    void (*close)(struct sf_pump *p);
    /* A descriptor or the channel failed (WHY for the log): the channel is
     * given up. NULL: the descriptor that failed is dropped (the client's
     * data is then consumed and dropped), the others carry on. */
    void (*abort)(struct sf_pump *p, const char *why);
    /* What is read from the first output goes out through this instead of
     * straight (the X11 cookie swap): NULL, or why the channel must end. */
    const char *(*relay)(struct sf_pump *p, const char *data, size_t n);
};
struct sf_pump {
    const struct sf_chan_ops *ops;
    void *self;                 /* the kind's structure, for its callbacks */
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb; /* the kind may add its own before sf_pump_attach */
    int started;                /* descriptors set: the client's data goes to them */
    int fd_in;                  /* takes the client's data */
    int fd_out[2];              /* read into the channel: data, extended data (stderr);
                                   a socket is fd_in and fd_out[0] at once */
    char *inbuf;                /* the client's data not written yet */
    size_t in_len, in_off;
    uint32_t pending;           /* bytes libssh holds for us */
    int reading;                /* inside ssh_channel_read_nonblocking */
    struct {                    /* output libssh did not take yet (during a re-key) */
        char *buf;
        size_t len, off;
    } unsent[2];
    int client_eof, eof_sent, remote_closed;
    int closing;                /* we close: nothing more goes out */
    unsigned long long bytes_in, bytes_out; /* from the client, to it */
};
/* A pump of kind OPS for SELF, no descriptor, no channel yet. */
void sf_pump_init(struct sf_pump *p, const struct sf_chan_ops *ops, void *self);
/* CH's data, EOF and close reach P (and what else P->cb names). */
void sf_pump_attach(struct sf_pump *p, ssh_channel ch);
/* The descriptors are there (-1: none); the client's data now goes to IN. */
void sf_pump_start(struct sf_pump *p, int in, int out, int err);
/* Appends what P waits on: at most MAX entries (3 at most). */
size_t sf_pump_pollfds(const struct sf_pump *p, struct pollfd *out, size_t max);
void sf_pump_ready(struct sf_pump *p, const struct pollfd *pfd);
/* Each loop turn: the client's data written, unsent output flushed, the
 * client's EOF passed on (ops->eof) once its data is all written. */
void sf_pump_tend(struct sf_pump *p);
/* DATA out on stream I (1: stderr); what libssh does not take now goes
 * first next time. 0, or -1 when the channel is broken. */
int sf_pump_send(struct sf_pump *p, int i, const char *data, size_t n);
/* How much may go out now: the client's window, 0 when nothing may. */
uint32_t sf_pump_room(const struct sf_pump *p);
/* What output I holds now goes out, then it is dropped (a pty whose
 * program ended: other holders of the terminal keep no channel open). */
void sf_pump_drain_output(struct sf_pump *p, int i);
/* Both outputs ended and all they gave went out. */
int sf_pump_output_done(const struct sf_pump *p);
/* EOF to the client, once, when nothing is left unsent. */
void sf_pump_send_eof(struct sf_pump *p);
/* Drops descriptor slot FD: closed unless another slot still holds it. */
void sf_pump_drop(struct sf_pump *p, int *fd);
/* Every descriptor dropped, unsent output dropped. */
void sf_pump_stop(struct sf_pump *p);
/* The channel (EOF and close first unless the client closed it), the
 * descriptors and buffers go. */
void sf_pump_free(struct sf_pump *p);

struct sf_chan;
/* Why the connection process ends the connection itself; SF_STOP_NONE
 * while it does not. The last one decided counts. */
enum sf_stop { SF_STOP_NONE, SF_STOP_KEX_FAILED, SF_STOP_AUTH_FAILURES, SF_STOP_SHUTDOWN,
               SF_STOP_GRACE, SF_STOP_KEEPALIVE };
struct sf_conn {
    const struct sf_config *cfg;
    ssh_session session;
    ssh_event event;
    struct envfile_user user;
    char peer[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
    int peer_port, local_port;
    int sfd, tfd, report_fd;
    unsigned refusals;          /* of requests the client may repeat at will */
    int kex_done, authenticated, failures;
    enum sf_stop stop;
    int banner_sent;
    unsigned alive_unanswered;  /* keepalives sent since the client last sent anything */
    struct sf_keyopts opts;     /* of the authorized_keys line that let us in */
    struct sf_chan *chans;
    unsigned n_chans;
    struct sf_fwd *fwds;        /* forwarding listeners and bridged channels */
    unsigned n_fwds;
    struct ssh_server_callbacks_struct server_cb;
};

/* refusal.c: a refusal of something the client may ask for again and again
 * (sessions past max-sessions, forwards, channel types never opened):
 * logged, FMT after "PEER port N: ", for the first SF_REFUSALS_LOGGED of
 * the connection; the rest are counted and their number logged when the
 * connection ends, so that a client cannot flood the log. */
#define SF_REFUSALS_LOGGED 16
void sf_conn_refused(struct sf_conn *c, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* session.c: session channels */
ssh_channel sf_session_open(ssh_session session, void *userdata);
/* Appends the descriptors the sessions wait on; REF[i] names the channel. */
size_t sf_session_pollfds(struct sf_conn *c, struct pollfd *p, struct sf_chan **ref, size_t max);
void sf_session_ready(struct sf_chan *ch, const struct pollfd *p);
void sf_session_reaped(struct sf_conn *c, pid_t pid, int status);
/* After each loop turn: finishes sessions whose program ended and whose
 * output is all out, frees channels closed both ways. */
void sf_session_housekeeping(struct sf_conn *c);
/* The connection is gone: hang up every program still running. */
void sf_session_hangup_all(struct sf_conn *c);
/* The connection ends for WHY (client-closed, network, timeout, killed):
 * each session not logged yet gets its line (see log_end in session.c). */
void sf_session_end_all(struct sf_conn *c, const char *why);
/* pty-req and break, which reach sf_dispatch_message as messages: 0 when
 * answered, 1 for libssh's default refusal (also for an unknown channel). */
int sf_session_message(struct sf_conn *c, ssh_message msg);
/* auth-agent-req@openssh.com on a session that may not forward the agent
 * (sf_dispatch_message's handler): logged; 1, libssh's default refusal. */
int sf_session_agent_refused(struct sf_conn *c, ssh_message msg);
/* x11-req on session channel CH: 0 when a display was set up, -1 refused. */
int sf_session_x11(struct sf_conn *c, ssh_channel ch, const char *proto, const char *cookie,
                   int screen);

/* dispatch.c: libssh's message callback: channel opens, global requests
 * and session requests that no other callback took, to fwd.c or session.c;
 * nothing before authentication. 0 when answered, 1 for libssh's default
 * refusal. */
int sf_dispatch_message(ssh_session session, ssh_message msg, void *userdata);

/* fwd.c: forwarding (-L, -D, -R) and the channels of the -A and -X
 * listeners, each kind a table of pump operations */
struct sf_fwd;
/* The requests dispatch.c hands on, each answered (0) or left to libssh's
 * default refusal (1), the refusal logged: direct-tcpip (-L, -D),
 * tcpip-forward and its cancel (-R), and the same for unix sockets. */
int sf_fwd_direct_tcpip(struct sf_conn *c, ssh_message msg);
int sf_fwd_tcpip_forward(struct sf_conn *c, ssh_message msg);
int sf_fwd_cancel_tcpip_forward(struct sf_conn *c, ssh_message msg);
int sf_fwd_direct_streamlocal(struct sf_conn *c, ssh_message msg);
int sf_fwd_streamlocal_forward(struct sf_conn *c, ssh_message msg);
int sf_fwd_cancel_streamlocal_forward(struct sf_conn *c, ssh_message msg);
size_t sf_fwd_pollfds(struct sf_conn *c, struct pollfd *p, struct sf_fwd **ref, size_t max);
void sf_fwd_ready(struct sf_conn *c, struct sf_fwd *f, const struct pollfd *p);
/* After each loop turn: finishes channel opens, frees what has ended. */
void sf_fwd_housekeeping(struct sf_conn *c);
/* The connection ends: every socket closed, every socket file removed. */
void sf_fwd_close_all(struct sf_conn *c);
/* What the listeners of a session (listeners.c) are: their connections
 * become channels of the kind's type (auth-agent, x11). */
enum sf_fwd_kind { SF_FWD_BRIDGE, SF_FWD_TCP_LISTEN, SF_FWD_UNIX_LISTEN, SF_FWD_AGENT_LISTEN,
                   SF_FWD_X11_LISTEN };
/* An X11 display's cookies: the client's REAL one and the FAKE one the
 * session gets, LEN bytes each, for protocol PROTO. */
struct sf_x11_cookies {
    char proto[64];
    unsigned char real[64], fake[64];
    size_t len;
};
struct sf_listener_spec {
    enum sf_fwd_kind kind;      /* SF_FWD_AGENT_LISTEN or SF_FWD_X11_LISTEN */
    const void *owner;          /* the session */
    const char *path;           /* agent: the socket file, removed with the listener */
    int display;                /* X11: the display number */
    const struct sf_x11_cookies *x11; /* X11: swapped in each connection's setup */
    const char *what;           /* for the log */
};
/* Listening socket FD joins the loop as S says (copied). 0, or -1 when the
 * connection holds the most forwards it may (FD is then the caller's). */
int sf_fwd_listener_add(struct sf_conn *c, const struct sf_listener_spec *s, int fd);
/* Session OWNER's listeners stop: with X11_ONLY its X11 display (logged),
 * else all of them, their socket files removed. */
void sf_fwd_stop_owned(struct sf_conn *c, const void *owner, int x11_only);
/* A listening TCP socket on ADDR:PORT (numeric; port 0: any), its port
 * into *BOUND. The descriptor, or -1 with errno. */
int sf_fwd_listen_tcp(const char *addr, int port, int *bound);

/* listeners.c: the listeners a session owns, in its private folder. */
/* Agent socket for session OWNER: its path into PATH. 0, or -1 (logged). */
int sf_listen_agent(struct sf_conn *c, const void *owner, char *path, size_t size);
/* X11 display for session OWNER; DISPLAY into DISPLAY, the session's fake
 * cookie (hex) into FAKE_HEX. 0, or -1 (logged). */
int sf_listen_x11(struct sf_conn *c, const void *owner, const char *proto, const char *cookie_hex,
                  int screen, char *display, size_t dsize, char *fake_hex, size_t fsize);
/* The private 0700 folder of session OWNER (created on first use), or NULL. */
const char *sf_listen_private_dir(struct sf_conn *c, const void *owner);
/* Session OWNER's program ended: its X11 display stops listening. */
void sf_listen_x11_release(struct sf_conn *c, const void *owner);
/* Session OWNER ended: its listeners and private folder go. */
void sf_listen_session_ended(struct sf_conn *c, const void *owner);
/* The connection ends: every private folder goes (after sf_fwd_close_all). */
void sf_listen_close_all(void);

/* agentlink.c: the stable agent path ~/ENVFILE_AGENT_LINK, which leads to
 * the newest live agent socket of every connection's sessions (a registry
 * in ~/.envinit-ssh-agent.d; see there). Each logs what fails and carries on. */
/* Agent socket SOCK of this process is up: registered, the link points at it. */
void sf_agent_link_add(const struct sf_conn *c, const char *sock);
/* SOCK goes: unregistered; the link then leads to the newest live socket
 * left, or is removed when none is. */
void sf_agent_link_remove(const struct sf_conn *c, const char *sock);
#endif

/* The agent registry's entry names, "NS-PID-START" (agentlink.c). Pure. */
struct sf_agent_entry {
    unsigned long long ns;      /* CLOCK_REALTIME when registered */
    pid_t pid;                  /* the connection process */
    unsigned long long start;   /* its start time, /proc/PID/stat field 22 */
};
/* 0, or -1 when NAME is not an entry's name. */
int sf_agent_entry_parse(const char *name, struct sf_agent_entry *out);
/* The start time (field 22) in the text of a /proc/PID/stat; 0 when cut short. */
unsigned long long sf_proc_stat_start(const char *stat);

/* sftp.c: the SFTP subsystem (protocol 3), run in a program image of its
 * own (envinit-sshd --sftp-server [OPTIONS], started by a session that is
 * already the user): it holds nothing of the connection's keys. OPTIONS are
 * OpenSSH sftp-server's, with its meaning (tests/envinit-sftp-server takes
 * the same, so either can stand in for sftp-server):
 *   -R           read only: every request that would change something
 *                (write, setstat, remove, mkdir, rename, an OPEN that
 *                writes, creates or truncates, ...) gets PERMISSION_DENIED
 *   -p LIST      only the requests named in the comma list are served
 *   -P LIST      the requests named are refused (PERMISSION_DENIED)
 *                LIST names are `-Q requests`' (open, read, remove,
 *                posix-rename, copy-data, ...); an unknown name is an error
 *   -u UMASK     octal umask for the files and folders created
 *   -d DIR       start folder; %d the user's home, %u the user's name,
 *                %% a %, a leading ~ or ~user a home (unreachable: logged,
 *                the session starts in the home)
 *   -Q requests  print the request names, one a line, and exit
 *   -e, -f FACILITY, -l LEVEL are taken and change nothing (errors always
 *   go to stderr); -h prints the usage. */
#define SF_SFTP_SERVER_SWITCH "--sftp-server"
struct sf_sftp_opts {
    int read_only;           /* -R */
    const char *allow, *deny; /* -p, -P comma lists; NULL: not given */
    int umask;               /* -u; -1: not given */
    const char *start_dir;   /* -d, before expansion; NULL: not given */
    int query_requests, help; /* -Q requests, -h */
};
/* Parses the options in ARGV[0..ARGC) (no program name) into O. 0, or -1
 * with a message in ERR. Pure. */
int sf_sftp_parse_args(int argc, char *const *argv, struct sf_sftp_opts *o, char *err,
                       size_t errlen);
/* Whether O (NULL: no options) lets the request NAME (as -Q lists it) be
 * served; 0 for a name no one knows. An OPEN under -R is decided by its
 * flags, not here. Pure. */
int sf_sftp_request_permitted(const struct sf_sftp_opts *o, const char *name);
/* The Ith name -Q requests prints; NULL past the last. */
const char *sf_sftp_request_name(int i);
/* -d's expansion of TMPL: a leading ~ or ~/ and %d are HOME, %u is USER,
 * %% is %. 0, or -1 with errno EINVAL (another %x, or empty) or
 * ENAMETOOLONG. Pure. */
int sf_sftp_expand_dir(const char *tmpl, const char *user, const char *home, char *out,
                       size_t size);
/* A whole server on stdin and stdout: ARGV[0..ARGC) are the options; PROG
 * names us in messages. The exit status. */
int sf_sftp_main(const char *prog, int argc, char *const *argv);
/* Serves one client on IN_FD/OUT_FD under O (NULL: no restrictions); the
 * caller has applied -u and -d. */
int sf_sftp_serve(int in_fd, int out_fd, const struct sf_sftp_opts *o);

#endif
