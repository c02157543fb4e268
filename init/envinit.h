/* envinit — PID 1 of a developer-environment container.
 *
 * This is the init component's one header, for its two programs (see "the
 * two programs" below). Its parts, each in its own .c:
 *   main.c        envinit: PID 1, the main command, reaping, shutdown
 *   setup_main.c  envinit-setup: prepare, check, env, status, ssh-supervise
 *   config.c      defaults < INI file < ENVINIT_* variables < flags
 *   cli.c         the tini/dumb-init compatible command line
 *   signals.c     which signals are forwarded, rewriting, exit statuses
 *   supervise.c   services (the SSH server) with restart and backoff
 *   loop.c        the single event loop: signalfd, timerfd, poll
 *   ssh_run.c     PID 1's side of SSH: runs envinit-setup, starts the plan
 *   ssh_plan.c    envinit-setup's side: facts, decision, OpenSSH preparation
 *   plan.c        the plan between the two: written by envinit-setup, read by PID 1
 *   ssh_*.c       /proc/net parsing, greeting probe, decision table,
 *                 sshd_config and command lines
 *   setup.c       the SSH files through envfile, and what `check` and `env` show of them
 *   ssh_stdio.c   `ssh-stdio` (SSH on stdin/stdout for a ProxyCommand) and
 *                 `ssh-config` (the client's Host block for it)
 *   cvm.c         CVM mode: the systemd unit and the exec of systemd
 *   status.c, status_cmd.c  the status file and `envinit status`
 */
#ifndef ENVINIT_H
#define ENVINIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Logging: the one logger in envfile (log_msg, log_error, ...). */
#include "../envfile/envfile.h"

/* ---- ASCII helpers ----
 * Settings, signal names and sshd_config keywords are ASCII. These replace
 * <ctype.h> and strcasecmp, whose locale tables and per-CPU variants would
 * add about 100 KiB to the static binary's resident set. */
static inline bool ascii_isdigit(int c) { return c >= '0' && c <= '9'; }
static inline bool ascii_isspace(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static inline int ascii_tolower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static inline int ascii_toupper(int c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }
static inline int ascii_strncasecmp(const char *a, const char *b, size_t n)
{
    for (; n; a++, b++, n--) {
        int d = ascii_tolower((unsigned char)*a) - ascii_tolower((unsigned char)*b);
        if (d || !*a)
            return d;
    }
    return 0;
}
static inline int ascii_strcasecmp(const char *a, const char *b) { return ascii_strncasecmp(a, b, (size_t)-1); }

/* ---- configuration ---- */
/* Configuration: built-in defaults < INI file < ENVINIT_* variables < flags.
 *
 * Every key of the INI file (section [envinit], or before any section) has
 * an ENVINIT_<KEY> variable of the same name upper-cased (ssh_port ->
 * ENVINIT_SSH_PORT); tini's TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP and
 * TINI_VERBOSITY are honoured too. A bad line stops envinit before it does
 * anything, with "file:line: what is wrong" (exit 2). */
#define CONFIG_MAX_REWRITE 64
#define CONFIG_MAX_KEYS 64
#define CONFIG_KEY_COUNT 23 /* the settings (config.c's table checks it) */
/* Paths in settings: ample for any real path, small enough that the
 * settings do not weigh on an idle PID 1's memory. */
#define CONFIG_PATH_LEN 512
#define CONFIG_DEFAULT_PATH "/etc/envinit/envinit.ini"
#define CONFIG_STATUS_PATH "/run/envinit/status"

enum ssh_mode { SSH_AUTO, SSH_OPENSSH, SSH_FALLBACK, SSH_EXTERNAL, SSH_OFF };
enum write_error_policy { ON_WRITE_ERROR_CONTINUE, ON_WRITE_ERROR_FAIL };
enum etc_env_policy { ETC_ENV_KEEP, ETC_ENV_WARN, ETC_ENV_REMOVE };

struct config {
    /* PID 1 */
    int subreaper;              /* -s, TINI_SUBREAPER, subreaper */
    int kill_group;             /* -g, TINI_KILL_PROCESS_GROUP, kill_process_group */
    int parent_death_signal;    /* -p SIGNAL (0: none) */
    int warn_on_reap;           /* -w */
    int log_level;              /* -v..., TINI_VERBOSITY, log_level */
    long grace_ms;              /* grace (seconds in file/env, may be fractional) */
    unsigned char expect_exit[256 / 8]; /* -e CODE: bit CODE set, that exit code becomes 0 */
    unsigned char rewrite[CONFIG_MAX_REWRITE + 1]; /* -r S:R, 0 = drop, index = signal */
    int rewrite_set[CONFIG_MAX_REWRITE + 1];
    /* environment user and files */
    char user[64];              /* empty: the default rule */
    enum write_error_policy on_write_error;
    enum etc_env_policy etc_environment;
    char authorized_keys_file[CONFIG_PATH_LEN];
    char *authorized_keys[CONFIG_MAX_KEYS]; /* from the file's authorized_key lines and
                                               ENVINIT_AUTHORIZED_KEYS (malloc'd) */
    size_t n_authorized_keys;
    /* SSH */
    char host_keys[CONFIG_PATH_LEN]; /* host key file or folder, "" for generated keys */
    enum ssh_mode ssh;
    int ssh_port;               /* 22 */
    int fallback_port;          /* 2222 */
    long ssh_wait_ms;           /* 15 s, CVM mode */
    int openssh_recommended;    /* 1 */
    int cvm;                    /* 0 */
    char status_path[CONFIG_PATH_LEN]; /* /run/envinit/status */
    char fallback_args[256];    /* extra envinit-sshd switches, blank-separated */
    char fallback_config[CONFIG_PATH_LEN]; /* envinit-sshd -f: an sshd_config-syntax file */
    char config_path[CONFIG_PATH_LEN]; /* the file that was read, "" when none */
};

void config_defaults(struct config *c);

/* Reads the INI file at PATH into C. MISSING_OK: a missing file is fine
 * (the default path). Returns 0, or -1 after printing "file:line: ..." to
 * ERRBUF. */
int config_load_file(struct config *c, const char *path, int missing_ok, char *err, size_t errlen);

/* Applies ENVINIT_* and TINI_* variables from ENVP. -1 with ERR on a bad value. */
int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen);

/* Sets KEY (a file key name) from VALUE; used by all three sources.
 * Returns 0, -1 unknown key, -2 bad value (ERR says why). */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/* Prints the effective configuration as an INI file. */
void config_print(const struct config *c, FILE *out);

void config_free(struct config *c);

const char *ssh_mode_name(enum ssh_mode m);

/* Value parsers shared by the three sources (-1: invalid). */
int config_parse_bool(const char *v);
int config_parse_long(const char *v, long min, long max, long *out);
int config_parse_seconds(const char *v, long *ms);
size_t config_key_count(void);
const char *config_key_name(size_t i);
bool config_key_is_bool(size_t i);
bool config_key_is_keys(size_t i);        /* authorized_keys: key lines, not a value */
/* The value of setting I as config_set, the INI file and ENVINIT_* take it
 * ("" for an unset string or signal); authorized_keys gives its count only.
 * 0, or -1 when it does not fit LEN. */
#define CONFIG_VALUE_MAX 1280
int config_key_value(const struct config *c, size_t i, char *out, size_t len);
void config_print_help(FILE *out);
/* Not root and status_file left at its default: a path this user can write. */
void config_default_status_path(struct config *c, char *const *envp);
/* Where the status goes when the default path's folder cannot be made
 * (a read-only /run): /tmp/envinit-UID/status. */
void config_status_fallback(char *out, size_t len);
void env_key_upper(const char *name, char *out, size_t outlen);

/* ---- command line ---- */
enum cli_cmd { CMD_RUN, CMD_CHECK, CMD_ENV, CMD_STATUS, CMD_SSH_SUPERVISE, CMD_PREPARE, CMD_SSH_STDIO,
               CMD_SSH_CONFIG, CMD_HELP, CMD_VERSION };
const char *cli_command_name(enum cli_cmd cmd);  /* "check", ...; "" for none */
struct cli_set {
    const char *key, *value;
};
struct cli {
    enum cli_cmd cmd;
    const char *config_path;    /* -c/--config */
    int verbosity;              /* number of -v */
    /* flags, applied last: one per word of ARGV at most, so room for
     * argc of them is allocated (no cap; tini's -e for all 256 codes) */
    struct cli_set *sets;
    size_t n_sets;
    char **command;             /* COMMAND [ARG...], NULL when none */
};

/* Parses ARGV by getopt_long's rules with "+" (it may be called
 * repeatedly; CLI->sets is one array that each call reuses, valid until
 * the next). A
 * first non-option word check, env, status, ssh-supervise, ssh-stdio or
 * ssh-config is a subcommand unless "--" came before it; the words after
 * it are COMMAND. -1 with ERR on a bad option. */
int cli_parse(int argc, char **argv, struct cli *cli, char *err, size_t errlen);
int cli_apply(const struct cli *cli, struct config *c, char *err, size_t errlen);
/* The whole precedence chain: defaults < file < environment < flags. */
int config_resolve(int argc, char **argv, char *const *envp, struct cli *cli, struct config *c,
                   char *err, size_t errlen);

/* ---- signals and exit statuses ---- */
const char *signal_name(int sig);          /* "TERM", "RTMIN+2" */
int signal_parse(const char *s);           /* name or number; -1 invalid */
int signal_parse_rewrite(const char *s, int *from, int *to); /* "S:R" */
bool signal_is_forwarded(int sig);
int signal_rewrite(const struct config *c, int sig); /* 0: dropped */
int exit_code_of(int wstatus);             /* status, or 128+N for signal N */
int exit_code_remap(const struct config *c, int code);
void describe_status(int wstatus, char *buf, size_t len);
/* Blocks the forwarded signals and SIGCHLD (for signalfd), remembering the
 * mask and dispositions envinit was started with. */
int signals_take_over(sigset_t *forwarded);
/* In a child before exec: back to what envinit was started with. */
void signals_restore_for_child(void);

/* ---- event loop ---- */
typedef void (*loop_fd_fn)(int fd, short revents, void *ctx);
typedef void (*loop_timer_fn)(void *ctx);
int loop_init(void);
int loop_watch_fd(int fd, loop_fd_fn fn, void *ctx);
void loop_unwatch_fd(int fd);
int loop_timer_add(long delay_ms, loop_timer_fn fn, void *ctx); /* id, -1 */
void loop_timer_cancel(int id);
int loop_run(void);
void loop_stop(void);

/* ---- supervision ---- */
/* Supervision of long-running services (the SSH server) next to the main
 * command, driven by envinit's single event loop: no thread, no timer
 * that fires while nothing is due.
 *
 * A service is started with envinit's original signal mask and
 * dispositions, optionally as another user (groups, gid, uid), with its
 * stderr read line by line into envinit's log under its name. When it
 * exits it is restarted according to its policy after an exponential
 * backoff (100 ms doubling to 30 s, reset after 60 s of uptime). */

enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };

struct service;

/* Called after the service's process was reaped, before any restart is
 * scheduled. STATUS is the raw wait status; UPTIME_MS how long it ran.
 * Return false to stop supervising it (no restart). */
typedef bool (*service_exit_fn)(struct service *s, int status, long uptime_ms, void *ctx);

struct service_spec {
    const char *name;           /* log prefix and status name, e.g. "sshd" */
    char *const *argv;          /* argv[0] is the path to execute */
    char *const *envp;          /* NULL: envinit's own environment */
    bool set_user;              /* run as uid/gid with groups */
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int ngroups;
    enum restart_policy restart;
    int stop_signal;            /* SIGTERM by default (0) */
    bool capture_stderr;        /* log its stderr lines as "name: line" */
    service_exit_fn on_exit;
    void *ctx;
};

/* Next restart delay: PREV_MS is the delay used last time (0 for the first
 * restart), UPTIME_MS how long the process ran before it exited. */
long backoff_next(long prev_ms, long uptime_ms);

/* Registers and starts a service (copies the spec's strings). NULL on
 * allocation failure (logged). */
struct service *service_start(const struct service_spec *spec);
/* Sends the stop signal; the service is not restarted. */
void service_stop(struct service *s);
pid_t service_pid(const struct service *s);
unsigned service_restarts(const struct service *s);
int service_last_status(const struct service *s);   /* -1: never exited */
long service_since(const struct service *s);        /* CLOCK_REALTIME s of last start */
const char *service_name(const struct service *s);

/* A service's stderr as read, BUF[0..*LEN) of a CAP-byte buffer, split
 * into lines for the log: EMIT gets each complete line (NUL-terminated in
 * place). A line that fills the buffer without a newline is emitted cut,
 * TRUNCATED, and the rest of it up to its newline is dropped (*DROPPING
 * carries that across reads): no part of one line ever starts a line of
 * its own. AT_EOF: what is left is emitted as well. The unfinished tail
 * moves to BUF's start, *LEN is its length. Pure apart from EMIT. */
void service_lines_split(char *buf, size_t *len, size_t cap, bool *dropping, bool at_eof,
                         void (*emit)(const char *line, bool truncated, void *ctx), void *ctx);
/* The level LINE of service NAME is logged at, and in *TEXT what is logged
 * after "NAME: ". "NAME: LEVEL: text" keeps the service's own LEVEL (error,
 * warn, info, debug); other lines (sshd -e) are warn when they read like a
 * problem, else info. Pure. */
enum log_level service_line_level(const char *name, const char *line, const char **text);

/* Observer called on every start/exit of any service (status file). */
void supervise_set_observer(void (*fn)(void *ctx), void *ctx);

/* Called by the reaper: true when PID was a service (then handled). */
bool supervise_reaped(pid_t pid, int status);
void supervise_stop_all(void);
void supervise_kill_all(void);
int supervise_running(void);
bool service_done(const struct service *s);

/* ---- the two programs ----
 * envinit is PID 1: it parses its settings, forwards signals, reaps, and
 * supervises. Everything that reads files the image or the user controls
 * (the home directory, authorized keys, sshd_config, the port's current
 * owner) runs in envinit-setup, a second program next to it: run once at
 * start (`prepare`, its plan returned on a pipe) and for the `check`, `env`,
 * `status` and `ssh-supervise` subcommands. A hostile input can then cost
 * SSH access, never PID 1, and PID 1's binary stays small. */
#define SETUP_NAME "envinit-setup"
extern char **environ;
/* envinit: replaces itself with envinit-setup SUB, passing envinit's options
 * (ARGV up to COMMAND). Returns only on failure (logged), with 1. */
int setup_exec(char **argv, char **command, const char *sub);

/* envinit-setup (setup.c, ssh_plan.c): */
/* Writes the environment user's SSH files; -1 only when on_write_error = fail
 * and a write failed. Everything is logged. AGENT_LINK: envinit-sshd will
 * serve, so the block's SSH_AUTH_SOCK is its stable agent path (else the
 * block leaves SSH_AUTH_SOCK out: OpenSSH sets its own). */
int environment_setup(const struct config *c, bool agent_link);
/* Whether the plan, decided as `envinit check` does (no probe: a listener
 * on the port counts as an SSH server), runs envinit-sshd. */
bool ssh_plan_runs_fallback(const struct config *c);
/* The ~/.ssh/environment block as environment_setup would write it now
 * (AGENT_LINK as there) on OUT; 0, or 1 (logged). */
int environment_print_block(const struct config *c, bool agent_link, FILE *out);
/* `envinit check`'s lines on the environment user and the files written. */
void environment_describe(const struct config *c, FILE *out);
/* `prepare`: the files, then the SSH decision and OpenSSH's preparation;
 * prints the plan (see ssh_plan_parse) on stdout. */
int prepare_command(const struct config *c);
/* `envinit status [--json]`: WORDS are those after the subcommand. */
int status_command(const struct config *c, char **words);
struct envfile_owner;
/* The environment user's uid and groups, whose writes a file root reads
 * for it must be safe from. 0, or -1 (logged). */
int environment_owner(const struct config *c, struct envfile_owner *who);
struct envfile_user;
/* The environment user, by the rule the SSH files are written for. 0, or
 * -1 (logged). */
int environment_user(const struct config *c, struct envfile_user *u);
/* `envinit ssh-stdio` (no ARGS): becomes envinit-sshd -i with the command
 * line PID 1 gives the fallback (user, host_keys, fallback_args), so a
 * ProxyCommand reaches SSH through stdin and stdout. Returns only on
 * failure (logged). */
int ssh_stdio_command(const struct config *c, char **args);
/* `envinit ssh-config [--docker NAME | --kubectl POD [-n NS]]`: prints the
 * OpenSSH Host block that reaches this environment through ssh-stdio,
 * with the host key envinit-sshd -i serves pinned. */
int ssh_config_command(const struct config *c, char **args);
/* What the Host block says. */
struct ssh_client_config {
    const char *name;           /* container or pod: the Host alias as well */
    const char *ns;             /* kubectl's namespace, NULL: its default */
    bool kubectl;               /* kubectl exec, else docker exec */
    const char *user;           /* the environment user */
    const char *envinit;        /* envinit's path inside the container */
    const char *host_key;       /* "ssh-ed25519 AAAA..." */
};
/* The block into BUF: a comment with the known_hosts line for clients
 * before OpenSSH 8.5, then Host, User, ProxyCommand and KnownHostsCommand.
 * Length, or -1 when BUF is too small. Pure. */
int ssh_config_render(const struct ssh_client_config *r, char *buf, size_t len);
int ssh_supervise_command(const struct config *c);
void ssh_describe_plan(const struct config *c, FILE *out);

/* envinit (ssh_run.c, cvm.c): */
/* Runs envinit-setup prepare (NO_CVM adds --cvm=false) and keeps its plan.
 * -1 when envinit must stop (on_write_error = fail); otherwise 0, also when
 * setup failed (logged: the container runs without SSH). */
int ssh_plan_fetch(const struct config *c, char **argv, char **command, bool no_cvm);
/* Carries the kept plan out: starts and supervises the server. With a main
 * command in auto mode, the command first gets a moment (1 s) to serve the
 * port itself; if it does, or takes the port from sshd later, envinit-setup
 * decides again in the background. */
void ssh_start(const struct config *c, bool has_main);
int cvm_exec_systemd(const struct config *c, char *const argv[], char *const envp[]);

/* ---- SSH orchestration, CVM mode, status (owned by the ssh work) ---- */
/* Which SSH server the environment gets: OpenSSH when the image
 * has it and envinit is root, else the bundled envinit-sshd; never a second
 * server on a port that is already served; in CVM mode systemd runs it.
 * Pure parts (parsers, the decision, rendering) take strings and structs
 * and touch nothing; the wrappers around them do the I/O.
 *
 * Order of calls in PID 1 (main.c): ssh_plan_fetch() (envinit-setup decides,
 * then writes the files: environment_setup()), then with cvm
 * cvm_exec_systemd() (before any child is started; returns only when it
 * cannot exec systemd; ssh_plan_fetch() again without CVM mode if so), then
 * the main command, then ssh_start() once, before loop_run(). */
struct sockaddr_storage;

/* /proc/net/tcp (V6 false) or /proc/net/tcp6 (V6 true) contents in TEXT:
 * true when a socket is in LISTEN state (st 0A) on local PORT. OUT, when
 * not NULL, gets an address that reaches it from here: the wildcard becomes
 * 127.0.0.1 or ::1, a v4-mapped address becomes plain IPv4. */
bool procnet_find_listener(const char *text, bool v6, int port, struct sockaddr_storage *out);
/* Reads PROC/net/tcp, then PROC/net/tcp6 (PROC is "/proc"). 1 listening,
 * 0 not, -1 when neither file can be read (logged). */
int procnet_listening(const char *proc, int port, struct sockaddr_storage *out);

enum ssh_probe { SSH_PROBE_SSH, SSH_PROBE_NOT_SSH, SSH_PROBE_NO_ANSWER };
#define SSH_PROBE_TIMEOUT_MS 2000
/* What the first bytes of a TCP server say: 1 an SSH greeting line
 * ("SSH-2.0-" or "SSH-1.99-", after optional other lines as RFC 4253
 * allows), 0 not SSH, -1 undecided yet (need more bytes). */
int ssh_greeting_check(const char *buf, size_t len);
/* Connects to ADDR and waits up to TIMEOUT_MS (poll, non-blocking) for the
 * greeting; sends nothing. */
enum ssh_probe ssh_probe(const struct sockaddr_storage *addr, int timeout_ms);
const char *ssh_probe_name(enum ssh_probe p);

/* The decision table. */
enum ssh_action {
    SSH_ACT_OFF,            /* ssh = off: no server, no key files (logged once) */
    SSH_ACT_EXTERNAL,       /* ssh = external: the image or platform runs one */
    SSH_ACT_SERVED,         /* an SSH server already answers on ssh_port */
    SSH_ACT_OPENSSH,        /* OpenSSH's sshd on .port, supervised */
    SSH_ACT_FALLBACK,       /* envinit-sshd on .port, supervised */
    SSH_ACT_CVM_UNITS,      /* write envinit-ssh.service; systemd runs the rest */
    SSH_ACT_NONE_AVAILABLE, /* a server is needed but none is installed */
    SSH_ACT_ERROR,          /* a forced mode cannot be honoured */
};
struct ssh_facts {
    enum ssh_mode mode;
    bool listener;          /* something LISTENs on ssh_port */
    enum ssh_probe probe;   /* what it said (only read when listener) */
    bool have_sshd;         /* the image has OpenSSH's sshd */
    bool have_fallback;     /* envinit-sshd is installed next to envinit */
    bool root;              /* envinit runs as uid 0 */
    bool cvm;
    int ssh_port, fallback_port;
    const char *no_privilege;   /* root lacks the capabilities to serve the user:
                                   why, with the fixes (NULL: it has them) */
};
struct ssh_decision {
    enum ssh_action action;
    int port;               /* where the server runs (0: none) */
    bool port_broken;       /* ssh_port carries non-SSH traffic: log an error */
    const char *why;        /* one sentence for the log and `envinit check` */
};
struct ssh_decision ssh_decide(const struct ssh_facts *f);
/* CVM mode leaves the SSH unit for systemd unless ssh is off or external:
 * ssh_decide's rule, apart so that PID 1 links it without the table. */
bool ssh_cvm_units(enum ssh_mode mode);
const char *ssh_action_name(enum ssh_action a);

/* sshd exits within SSH_FAST_EXIT_MS of its start SSH_FAST_EXIT_LIMIT
 * times in a row: its configuration is broken. COUNT is the caller's
 * counter; true when the limit is reached (the counter then restarts). */
#define SSH_FAST_EXIT_MS 1000
#define SSH_FAST_EXIT_LIMIT 5
bool ssh_fast_exit(unsigned *count, long uptime_ms);

/* OpenSSH. Keywords of the recommendations the image's config sets itself: */
enum {
    SSHD_SETS_PERMIT_USER_ENV = 1,   /* PermitUserEnvironment */
    SSHD_SETS_X11_FORWARDING = 2,    /* X11Forwarding */
    SSHD_SETS_X11_USE_LOCALHOST = 4, /* X11UseLocalhost */
};
/* Scans sshd_config TEXT up to its first Match block (the global part):
 * ORs the SSHD_SETS_* bits of the keywords set there into *SETS, and calls
 * INCLUDE with each Include argument, in order (may be NULL). */
void sshd_config_scan(const char *text, unsigned *sets,
                      void (*include)(const char *pattern, void *ctx), void *ctx);
/* The same over the file at PATH and the files it includes (relative
 * patterns are under ETC_DIR, as sshd does), nested up to 16 deep as sshd
 * allows, and 1024 files read in all. Unreadable: 0. */
unsigned sshd_config_sets(const char *path, const char *etc_dir);

#define SSHD_HOST_KEYS_MAX 16
#define SSHD_ARGV_MAX (16 + 2 * SSHD_HOST_KEYS_MAX)
struct sshd_cmd {
    char *argv[SSHD_ARGV_MAX];
    char path[4096], port[16];
    char host_keys[SSHD_HOST_KEYS_MAX][1024];
    size_t n_host_keys;
};
/* sshd -D -e -p PORT, then -o for each recommendation not in SETS when
 * RECOMMENDED. */
void sshd_build_argv(struct sshd_cmd *cmd, const char *sshd, int port, bool recommended, unsigned sets);
/* Finds OpenSSH's sshd: ROOT/usr/sbin/sshd, ROOT/usr/bin/sshd, then each
 * directory of PATH_ENV (may be NULL) under ROOT. ROOT is "" in production.
 * A candidate is used only when it and every folder on its path below ROOT,
 * as named and as resolved, pass exec_stat_problem; one that does not is
 * logged (warn) with the reason and skipped. ssh-keygen is found the same way. */
bool sshd_find(const char *root, const char *path_env, char *out, size_t len);
struct stat;
/* Why a program envinit (uid SELF) runs could be replaced by someone else
 * through ST, the program or a folder on its path (lstat or stat): NULL
 * when it cannot, else the reason in BUF ("is writable by uid 1000 (not
 * root's)"). Refused: owned by neither root nor SELF; not a symlink and
 * writable by group or others, a sticky bit notwithstanding. Pure. */
const char *exec_stat_problem(const struct stat *st, uid_t self, char *buf, size_t len);
/* Appends "-h PATH" to CMD's command line. false when it is full or PATH
 * too long (logged). */
bool sshd_add_host_key(struct sshd_cmd *cmd, const char *path);
/* Before the first start, synchronously: unless CMD already has host keys
 * (-h, from the host_keys setting), the default ones (ssh-keygen -A when
 * one is missing; when /etc/ssh is read-only and none exists, an ed25519
 * key in the runtime folder, added with -h); /run/sshd; and CMD's command
 * line with -t instead of -D (sshd's message is logged). -1 when that failed. */
int openssh_make_ready(struct sshd_cmd *cmd);

/* envinit-sshd next to envinit in SELF_DIR, executed directly. */
#define FALLBACK_ARGV_MAX 64
struct fallback_cmd {
    char *argv[FALLBACK_ARGV_MAX];
    char exe[4096], port[16], user[64], extra[256];
    char host_keys[CONFIG_PATH_LEN], config[CONFIG_PATH_LEN];
};
/* false when envinit-sshd is not installed. USER may be "" (its default);
 * PORT 0 gives no --port (-i, --print-host-key). */
bool fallback_build_argv(struct fallback_cmd *cmd, const char *self_dir, int port, const char *user);
/* envinit-sshd's exit status for a configuration no restart can fix
 * (sshfallback.h: SF_EXIT_CONFIG): it is not restarted. */
#define FALLBACK_EXIT_CONFIG 78
/* Appends the host_keys setting (--host-key, when not "") and the
 * fallback_args setting's words to a built command line. */
void fallback_add_args(struct fallback_cmd *cmd, const char *host_keys, const char *config, const char *words);

/* CVM mode. */
#define CVM_UNIT_NAME "envinit-ssh.service"
/* Renders envinit-ssh.service, which runs `ENVINIT ssh-supervise` with C's
 * SSH settings baked in (systemd services do not see the container's
 * variables). Length, or -1 when BUF is too small or a value cannot be
 * written into a unit file (newline). */
int cvm_render_unit(const struct config *c, const char *envinit, char *buf, size_t len);
/* Writes ROOT/run/systemd/system/envinit-ssh.service (atomically) and its
 * multi-user.target.wants link. 0, or -1 (logged). */
int cvm_write_units(const char *root, const struct config *c, const char *envinit);
/* ROOT/lib/systemd/systemd, else ROOT/sbin/init unless that is SELF
 * (envinit itself). false when the image has neither. */
bool cvm_find_systemd(const char *root, const char *self, char *out, size_t len);
/* ARGS (the container's COMMAND [ARG...], may be NULL) for INIT: a first
 * word that names an init (.../systemd, .../init) is dropped, INIT replaces it.
 * malloc'd NULL-terminated vector of borrowed strings; free() only it. */
char **cvm_build_argv(const char *init, char *const args[]);
/* cvm_exec_systemd() (declared above) under ROOT, for tests. */
int cvm_exec_systemd_at(const char *root, const struct config *c, char *const args[],
                        char *const envp[]);

/* The plan envinit-setup hands PID 1 (plan.c): "key=value" lines (action,
 * port, why, arg per argv word, abort) closed by "end", a value's
 * backslash and newline escaped as \\ and \n. */
#define SSH_PLAN_ARGS SSHD_ARGV_MAX
struct ssh_plan {
    enum ssh_action action;
    int port;
    bool abort;                 /* on_write_error = fail and a write failed */
    bool quiet;                 /* ssh = off in envinit itself: write no status */
    char why[512];
    char *argv[SSH_PLAN_ARGS];
    int argc;
};
/* P as the plan's lines on OUT (envinit-setup's side). */
void ssh_plan_write(FILE *out, const struct ssh_plan *p);
/* TEXT's plan into P, in place (argv and TEXT's values share memory): 0,
 * or -1 when a line is malformed, a field unknown, or "end" is missing or
 * not last (PID 1's side). */
int ssh_plan_parse(char *text, struct ssh_plan *p);
int ssh_action_parse(const char *name);   /* inverse of ssh_action_name, -1 */
/* Status file state shared by both programs (ssh_run.c). */
void ssh_status_init(const struct config *c, const char *self_dir);
/* The status file's kind=: which server serves SSH. */
enum ssh_kind {
    SSH_KIND_NONE,              /* none: no SSH server */
    SSH_KIND_OPENSSH,           /* openssh: OpenSSH's sshd, started by envinit */
    SSH_KIND_FALLBACK,          /* fallback: envinit-sshd, started by envinit */
    SSH_KIND_SERVED,            /* served: a server envinit did not start answers on the port */
    SSH_KIND_EXTERNAL,          /* external: ssh = external, someone else's job */
    SSH_KIND_OFF,               /* off: ssh = off */
};
/* Its state=. */
enum ssh_state {
    SSH_STATE_DOWN,             /* down: nothing of ours can serve */
    SSH_STATE_STARTING,         /* starting: chosen, its process not started yet */
    SSH_STATE_RUNNING,          /* running: its process is alive */
    SSH_STATE_RESTARTING,       /* restarting: it exited, the next start is due */
    SSH_STATE_STOPPED,          /* stopped: it exited and is not restarted */
    SSH_STATE_EXTERNAL,         /* external: not ours to run */
    SSH_STATE_OFF,              /* off: ssh = off */
    SSH_STATE_UNKNOWN,          /* unknown: no status file (envinit status --json) */
};
const char *ssh_kind_name(enum ssh_kind k);
const char *ssh_state_name(enum ssh_state s);
/* Whether the kind= text NAME is K. */
bool ssh_kind_is(const char *name, enum ssh_kind k);
void ssh_status_set(enum ssh_kind kind, enum ssh_state state, int port, bool expected, pid_t pid, const char *note);

/* Status file: key=value lines, replaced atomically on every change. */
struct ssh_status {
    char kind[16];          /* ssh_kind_name: as written, so a newer envinit's file reads */
    char state[16];         /* ssh_state_name */
    int port;
    pid_t pid;              /* 0: no process of ours */
    bool expected;          /* an SSH server should be up */
    unsigned restarts;
    int last_status;        /* raw wait status, -1: never exited */
    long since;             /* CLOCK_REALTIME s when the state began */
    char note[512];         /* why, in one line */
};
int status_render(const struct ssh_status *s, char *buf, size_t len);  /* length or -1 */
int status_parse(const char *text, struct ssh_status *out);             /* 0 or -1 */
int status_write(const char *path, const struct ssh_status *s);         /* 0, or -1 and errno */
/* Readable form for `envinit status`; UP says whether it is up now, NOW
 * is the current CLOCK_REALTIME second. */
void status_print(const struct ssh_status *s, bool up, long now, FILE *out);
/* `envinit status --json`: one JSON object (kind, server, state, up,
 * expected, port, pid, restarts, last_exit, since, note) and a newline;
 * strings escaped, bytes that are not UTF-8 as U+FFFD. malloc'd, NULL
 * when out of memory. Pure. */
char *status_render_json(const struct ssh_status *s, bool up);
/* ssh-supervise's exit status when no server can run: its unit does not
 * restart it (RestartPreventExitStatus). */
#define SSH_SUPERVISE_NO_SERVER 3
/* ---- end SSH orchestration ---- */

#endif

