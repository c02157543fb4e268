/* envfile — the environment user's SSH files, written safely.
 *
 * Contract:
 *  - Pure functions (user/passwd parsing, block render/merge, variable
 *    filtering, key validation, option tokenizing, cgroup parsing,
 *    ~/.ssh/environment parsing) touch no file and allocate only what they
 *    return; they are unit-tested and fuzzed.
 *  - envfile_install() is the one entry point that writes: it never follows a
 *    symlink the user controls, replaces files atomically (temp + fsync +
 *    rename in the same directory) and leaves the old file intact on failure.
 *  - Diagnostics go through the one logger (log_msg, below), shared by the
 *    three programs; a warning never quotes a whole authorized_keys line nor
 *    a variable's value.
 *  - envfile/ does not depend on init/: it is linked into envinit and into the
 *    fallback SSH server alike.
 */
#ifndef ENVINIT_ENVFILE_H
#define ENVINIT_ENVFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ======================================================================
 * Logging (log.c)
 * ====================================================================== */

/* The one logger of the three programs: "PROGRAM: LEVEL: message\n" in one
 * write(2) (programs and children share a stderr), bytes below 0x20 in the
 * message shown as '?' so that no message adds a line. Messages above the
 * level are dropped; LOG_NONE drops all. errno is kept. */
enum log_level { LOG_NONE = -1, LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
/* PROGRAM prefixes every line (default "envinit", level LOG_WARN). */
void log_init(const char *program, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Where lines go: stderr, or FD (a fuzz target formats every line but
 * sends it to /dev/null). */
void log_set_fd(int fd);
/* "error", "warn", "info", "debug". */
const char *log_level_name(enum log_level level);
/* Parses "error|warn|info|debug" or a number 0-3; returns -1 when invalid. */
int log_parse_level(const char *s);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
/* Unit tests: when set, a message (without prefix or newline) goes here
 * instead of to the file descriptor. */
extern void (*log_hook)(enum log_level level, const char *msg);
/* A string someone else chose (a client's user name, variable or path, a
 * file's line), made safe for a message: bytes outside printable ASCII,
 * and the backslash, become \xNN; past LOG_SAFE_MAX bytes of S it is cut
 * and ends in "...". NULL gives "?". Returns BUF. */
#define LOG_SAFE_MAX 64
#define LOG_SAFE_SIZE (LOG_SAFE_MAX * 4 + 4)
const char *log_safe(const char *s, char buf[LOG_SAFE_SIZE]);

/* ======================================================================
 * The environment user, read from /etc/passwd directly (no NSS)
 * ====================================================================== */
struct envfile_user {
    char name[64];
    uid_t uid;
    gid_t gid;
    char home[4096];
    char shell[4096];
};

#define ENVFILE_PASSWD "/etc/passwd"
#define ENVFILE_GROUP "/etc/group"

/* Finds NAME (or UID) in the passwd file at PATH (NULL: /etc/passwd).
 * 0 found, -1 not found or unreadable (errno ENOENT when the user is
 * missing, otherwise the open/read error). Malformed lines are skipped. */
int envfile_user_by_name(const char *path, const char *name, struct envfile_user *out);
int envfile_user_by_uid(const char *path, uid_t uid, struct envfile_user *out);
/* The default environment user: when SELF is not 0, the user SELF is;
 * as root: "coder" if present, else uid 1000, else root. */
int envfile_user_default(const char *path, uid_t self, struct envfile_user *out);
/* Who envinit serves, as the running process sees it. */
struct envfile_self {
    uid_t uid;                  /* geteuid() */
    gid_t gid;                  /* getegid() */
    const char *name;           /* the `user` setting; NULL or "": none */
    const char *user_env;       /* $USER, $HOME as inherited (NULL: unset) */
    const char *home_env;
};
void envfile_self_init(struct envfile_self *self, const char *name);
#define ENVFILE_UNLISTED_NAME "coder"
#define ENVFILE_UNLISTED_HOME_PARENT "/tmp/envinit-%u"
/* The one account envinit writes files for and envinit-sshd logs in,
 * read from the passwd file at PATH:
 *  - root: NAME, else the default rule above;
 *  - another UID with a passwd entry: that entry (a NAME naming another
 *    user is refused, errno EPERM: only root can serve someone else);
 *  - a UID without one (OpenShift's arbitrary UID): envfile_user_unlisted.
 * 0, or -1 with errno (ENOENT: NAME not found). $HOME and $USER are read
 * only for a UID that is not root: root never trusts the inherited ones. */
int envfile_user_serve(const char *path, const struct envfile_self *self, struct envfile_user *out);
/* A UID without a passwd entry: login name NAME, else $USER, else "coder";
 * uid and gid the process's own; shell and home candidates from the passwd
 * entry of that name when there is one (shell else /bin/sh); home $HOME
 * when this UID can write it, else that entry's home when it can, else a
 * private 0700 folder /tmp/envinit-UID/home (created). 0, or -1. */
int envfile_user_unlisted(const char *path, const struct envfile_self *self, struct envfile_user *out);
/* ======================================================================
 * Host keys from outside (hostkeys.c)
 * ====================================================================== */
#define ENVFILE_GROUPS_MAX 64
/* Whose changes a file must be safe from: the environment user, with the
 * groups it has (gid 0 included on OpenShift). */
struct envfile_owner {
    uid_t uid;
    gid_t groups[ENVFILE_GROUPS_MAX];
    int ngroups;
};
/* U's uid and groups (primary first) from the group file at GROUP_PATH. */
int envfile_owner_of(const struct envfile_user *u, const char *group_path, struct envfile_owner *out);
struct stat;
/* WHO may create, remove or rename entries in folder DIR. */
int envfile_owner_can_write(const struct stat *dir, const struct envfile_owner *who);
/* WHO could replace ENTRY of folder DIR: owns it, or writes DIR without
 * the sticky bit protecting ENTRY. Pure. */
int envfile_owner_can_replace(const struct stat *dir, const struct stat *entry, const struct envfile_owner *who);
/* Neither PATH (absolute) as named nor as resolved, nor any folder above
 * either, is owned by WHO or replaceable by WHO: root may read it on WHO's
 * behalf without WHO choosing what it reads. 1, or 0 with WHY set. */
int envfile_path_safe_from(const char *path, const struct envfile_owner *who, char *why, size_t whylen);
/* Why ST cannot be a host key for a server running as SELF: NULL when it
 * can. Refused: not a regular file, writable by group or others, readable
 * by others, and (OpenSSH's rule) group-readable when SELF owns it. Pure. */
const char *envfile_hostkey_mode_problem(const struct stat *st, uid_t self);

#define ENVFILE_HOSTKEYS_MAX 16
struct envfile_hostkeys {
    char path[ENVFILE_HOSTKEYS_MAX][4096]; /* resolved paths, in order */
    size_t n;
    unsigned refused;           /* files named but refused (logged) */
};
/* The host private keys PATH names: a key file, or a folder of them (its
 * regular files, sorted, without dot names such as Kubernetes' ..data and
 * without *.pub), symlinks resolved. Each is vetted as the running process
 * reads it: envfile_hostkey_mode_problem, and when root reads it for WHO
 * (not root), neither the file nor any folder on its path, as named and as
 * resolved, may be replaceable by WHO. Refused keys are logged with the
 * reason and counted. Appends to OUT; -1 when PATH itself is unusable. */
int envfile_hostkeys_list(const char *path, const struct envfile_owner *who, struct envfile_hostkeys *out);

/* ======================================================================
 * Folders root writes into, and the runtime folder (dirs.c)
 * ====================================================================== */
/* Opens folder DIR, making it and its missing parents (MODE) one component
 * at a time: each is made with mkdirat in its parent's descriptor and
 * opened O_DIRECTORY|O_NOFOLLOW. A symlink is followed only when root owns
 * it and the folder holding it, and no one else can write that folder
 * (/var/run -> /run); any other symlink (ELOOP), a component that is not
 * a folder (ENOTDIR), or one owned by neither root nor this uid (EPERM;
 * when not root, only the last component must be) is refused, nothing is
 * made below it, and BAD (may be NULL) gets the path up to it. An O_PATH
 * descriptor of DIR (for the *at calls), or -1 with errno. */
int envfile_open_dirs(const char *dir, mode_t mode, char *bad, size_t badlen);
/* NAME in folder DIRFD (envfile_open_dirs's descriptor) replaced by DATA
 * whole: a temporary file of mode MODE next to it, then renameat(2), so a
 * reader sees the old text or the new, never a part. No fsync: for files
 * that describe this boot (/run). 0, or -1 with errno, nothing left over. */
int envfile_replace_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode);
/* The next component of *PATH (slashes skipped) into NAME (NAME_MAX + 1
 * bytes), *PATH moved past it: 1, 0 at the end, -1 (ENAMETOOLONG). */
int envfile_path_next(const char **path, char *name);

/* CLOCK_MONOTONIC in milliseconds (clock.c). */
long long envfile_now_ms(void);

/* Where the bundle is installed when /proc cannot tell. */
#define ENVFILE_BUNDLE_ROOT "/opt/envinit"
/* The folder of the running program (/opt/envinit/bin for
 * /opt/envinit/bin/envinit), from /proc/self/exe; ENVFILE_BUNDLE_ROOT/bin
 * without /proc. The same for the life of the process. */
const char *envfile_self_dir(void);
/* That folder without a last "/bin": the bundle's root (/opt/envinit). */
const char *envfile_bundle_root(void);

#define ENVFILE_RUNTIME_DIR "/run/envinit"
/* DIR exists (made MODE when missing) as a real folder (not a symlink) of
 * this process's uid that no one else can write into. 0, or -1 (errno;
 * EPERM when DIR is someone else's or open to others). */
int envfile_own_folder(const char *dir, mode_t mode);
/* The folder for what must be written when the image is read-only: /run/
 * envinit, else (not root) $XDG_RUNTIME_DIR/envinit, else /tmp/envinit-UID
 * (0700), the first that envfile_own_folder accepts. It lives as long as
 * the container. 0, or -1 with *TRIED naming the candidates. */
int envfile_runtime_dir(char *out, size_t len, const char **tried);

/* ======================================================================
 * Capabilities (privilege.c)
 * ====================================================================== */
/* The capabilities root lacks to serve another user on PORT, named
 * ("CAP_SETUID, CAP_SETGID") into OUT from the permitted set PERMITTED
 * and the first unprivileged port UNPRIV_START; with FILES also those for
 * writing the user's files (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER).
 * Returns how many. Pure. */
int envfile_caps_describe(uint64_t permitted, int port, int unpriv_start, int files, char *out, size_t len);
/* The same for this process (/proc/self/status, the namespace's
 * net.ipv4.ip_unprivileged_port_start). */
int envfile_caps_missing(int port, int files, char *out, size_t len);
/* The one message for MISSING capabilities, with both fixes: add them, or
 * run the container as the user (SSH then on FALLBACK_PORT). */
void envfile_caps_advice(const char *missing, int fallback_port, char *out, size_t len);

/* Supplementary groups of USER from the group file at PATH (NULL:
 * /etc/group), primary GID first. Returns the count (<= max), or -1. */
int envfile_user_groups(const char *path, const char *user, gid_t gid, gid_t *out, int max);
/* Parses one passwd line (no newline). 0 ok, -1 malformed. Pure. */
int envfile_passwd_line(const char *line, size_t len, struct envfile_user *out);

/* ======================================================================
 * Growable byte buffer (used by render/merge results)
 * ====================================================================== */
struct envfile_buf {
    char *data;   /* NUL-terminated when non-NULL (NUL not counted in len) */
    size_t len;
    size_t cap;
};
int envfile_buf_add(struct envfile_buf *b, const void *p, size_t n); /* 0 / -1 ENOMEM */
int envfile_buf_str(struct envfile_buf *b, const char *s);
void envfile_buf_free(struct envfile_buf *b);

/* FD's whole contents, at most MAX bytes, NUL-terminated, malloc'd; the
 * length in *LEN (when LEN is not NULL). Read with pread from offset 0, so
 * that a descriptor shared with other processes (the listener's memfds)
 * keeps its offset. NULL with errno: EFBIG past MAX, ENOMEM, or read's
 * (readall.c). */
char *envfile_read_fd(int fd, size_t max, size_t *len);

/* Line iterator over BUF[0..LEN): returns 1 and sets *LINE and *LINE_LEN to the
 * next line without its "\n" (a trailing "\r" is kept: callers decide),
 * 0 at the end. *POS starts at 0. A final line without "\n" is returned. */
int envfile_next_line(const char *buf, size_t len, size_t *pos, const char **line,
                      size_t *line_len);

/* ======================================================================
 * Environment variables
 * ====================================================================== */
/* One variable, stored as a single "NAME=value" string (usable directly in
 * an execve() envp). */
struct envfile_var {
    char *entry;      /* malloc'd "NAME=value\0" */
    size_t name_len;  /* value starts at entry + name_len + 1 */
};
struct envfile_vars {
    struct envfile_var *v;
    size_t n;
    size_t cap;
};
static inline const char *envfile_var_value(const struct envfile_var *v)
{
    return v->entry + v->name_len + 1;
}

void envfile_vars_free(struct envfile_vars *vs);
/* Sets NAME to VALUE: an existing NAME is replaced in place, else appended.
 * 0, or -1 (ENOMEM). Lengths let callers pass slices; no validation. */
int envfile_vars_set(struct envfile_vars *vs, const char *name, size_t name_len,
                     const char *value, size_t value_len);
/* Adds "NAME=value" strings of ENVP (later duplicates win); entries without
 * '=' are ignored. SKIP_PREFIX (may be NULL) drops names starting with it. */
int envfile_vars_from_environ(struct envfile_vars *vs, char *const *envp, const char *skip_prefix);
const struct envfile_var *envfile_vars_find(const struct envfile_vars *vs, const char *name);
void envfile_vars_unset(struct envfile_vars *vs, const char *name);
/* Sorts by name (byte order) so the same inputs give the same output. */
void envfile_vars_sort(struct envfile_vars *vs);

/* [A-Za-z_][A-Za-z0-9_]* */
int envfile_name_valid(const char *name, size_t len);
/* No "\n", no "\r" and no NUL: OpenSSH's environment file cannot carry them
 * (sshd cuts at "\n" and keeps "\r" in the value). */
int envfile_value_valid(const char *value, size_t len);
/* Removes variables OpenSSH's format cannot carry, warning once per
 * variable with its (sanitized) name and never its value. Returns the
 * number removed. */
size_t envfile_vars_filter(struct envfile_vars *vs);

/* Parses a ~/.ssh/environment the way sshd 9.x does (session.c
 * read_environment_file): leading spaces/tabs skipped; blank lines and
 * lines starting with '#' skipped; the line is cut at the first "\n" (and,
 * since C strings, at a NUL); lines without '=' are ignored (counted in
 * *BAD_LINES when not NULL); NAME is everything before the first '=', the
 * value everything after it, a "\r" included (sshd does not strip it);
 * a later NAME replaces an earlier one. Lines with an empty NAME are
 * ignored too (counted as bad). Returns 0, or -1 with errno ENOMEM, or
 * E2BIG when the file has more than ENVFILE_SSHD_MAX_LINES lines (sshd
 * refuses the session then: "Too many lines in environment file"); OUT
 * then holds what was parsed before the limit. */
#define ENVFILE_SSHD_MAX_LINES 1000
int envfile_env_parse(const char *buf, size_t len, struct envfile_vars *out, unsigned *bad_lines);

/* The stable agent path, in the environment user's home: envinit-sshd
 * keeps it a symlink to the newest live forwarded agent of its sessions;
 * the block sets SSH_AUTH_SOCK to it when envinit-sshd serves. */
#define ENVFILE_AGENT_LINK ".envinit-ssh-agent.sock"

/* ======================================================================
 * ~/.ssh/environment managed block
 * ====================================================================== */
#define ENVFILE_ENV_START "# --------- START CODER ENVIRONMENT VARIABLES ----------"
#define ENVFILE_ENV_HEAD1 "# The following has been auto-generated at environment startup"
#define ENVFILE_ENV_HEAD2 "# You should not hand-edit this section, unless you are deleting it."
#define ENVFILE_ENV_END "# ----------------- END CODER -----------------------"

/* Renders the block (start marker, two comment lines, one NAME=value line
 * per variable in VS's order, end marker; "\n" line ends) into OUT
 * (appended). The caller filters and sorts first. 0 / -1 ENOMEM. */
int envfile_env_render(const struct envfile_vars *vs, struct envfile_buf *out);

/* Flags reported by the merges. */
enum {
    ENVFILE_MERGE_APPENDED = 1,     /* no block was found: added at the end */
    ENVFILE_MERGE_TWO_BLOCKS = 2,   /* more than one block: extra ones removed */
    ENVFILE_MERGE_UNTERMINATED = 4, /* a start marker without an end marker */
    ENVFILE_MERGE_STRAY_END = 8,    /* an end marker without a start: removed */
    ENVFILE_MERGE_KEPT_LINES = 16,  /* lines after an unterminated start were
                                       kept as the user's */
};

/* Merges BLOCK (a rendered block, or NULL/0 to remove the block) into the
 * file contents OLD[0..OLD_LEN) (NULL/0: no file) and writes the result to
 * OUT (appended). Every byte outside the block is kept; an existing block is
 * replaced where it stands; a missing one is appended (after a "\n" or
 * "\r\n" if the file does not end with one); a second block is removed; an
 * unterminated one is repaired: the start marker, the comment lines and the
 * directly following run of NAME=value lines whose NAME the new block sets
 * are the old block's, every other line is kept. Markers are recognized
 * with trailing spaces, tabs or "\r" (CRLF files). Sets *FLAGS (may be
 * NULL). 0, or -1 ENOMEM. Idempotent: merging the result again with the
 * same block gives the same bytes. */
int envfile_merge_env(const char *old, size_t old_len, const char *block, size_t block_len,
                      struct envfile_buf *out, unsigned *flags);

/* ======================================================================
 * Authorized keys
 * ====================================================================== */
#define ENVFILE_KEYS_START "# --------- START CODER AUTHORIZED KEYS ----------"
#define ENVFILE_KEYS_HEAD "# Injected by envinit at startup; keys outside this block are kept."
#define ENVFILE_KEYS_END "# ----------------- END CODER AUTHORIZED KEYS -----------------------"

/* Same as envfile_merge_env for the keys block, except for an unterminated
 * block: from its start marker to the next marker (or the end), only lines
 * identical to a line of the new block are the old block's; every other
 * line (a user's key) is kept. */
int envfile_merge_keys(const char *old, size_t old_len, const char *block, size_t block_len,
                       struct envfile_buf *out, unsigned *flags);

/* Result of envfile_key_parse. */
enum envfile_key_status {
    ENVFILE_KEY_OK = 0,
    ENVFILE_KEY_SKIP,          /* blank or comment line: not a key, not an error */
    ENVFILE_KEY_TOO_LONG,      /* longer than ENVFILE_KEY_MAX_LINE */
    ENVFILE_KEY_BAD_CHAR,      /* NUL, "\n" or another control character */
    ENVFILE_KEY_BAD_OPTIONS,   /* unterminated quote, unknown option, bad syntax */
    ENVFILE_KEY_UNKNOWN_TYPE,  /* not a key type OpenSSH accepts (see below) */
    ENVFILE_KEY_NO_BODY,       /* type without base64 body */
    ENVFILE_KEY_BAD_BASE64,    /* body does not decode */
    ENVFILE_KEY_TYPE_MISMATCH, /* the body's inner type differs from the type field */
    ENVFILE_KEY_BAD_BODY,      /* the body's structure is wrong for its type */
};
/* 16 KiB covers 16384-bit RSA certificates with options; nothing valid
 * is longer. */
#define ENVFILE_KEY_MAX_LINE 16384

/* A parsed authorized_keys line: views into the caller's line (not
 * NUL-terminated), lengths 0 when absent. */
struct envfile_key {
    const char *options;  /* raw options prefix, e.g. `command="x y",no-pty` */
    size_t options_len;
    const char *type;     /* e.g. "ssh-ed25519" */
    size_t type_len;
    const char *body;     /* base64 text */
    size_t body_len;
    const char *comment;  /* rest of the line after the body, trailing blanks cut */
    size_t comment_len;
};

/* Parses and validates one authorized_keys line (without "\n"; a trailing
 * "\r" and trailing blanks are ignored), like sshd: leading blanks skipped;
 * '#' or blank → ENVFILE_KEY_SKIP; when the first word is not a known key
 * type it is an options prefix (ending at the first blank outside double
 * quotes, \" escapes a quote), validated by envfile_opts_validate; then the
 * type, blanks, the base64 body, blanks, an optional comment. The body
 * must decode, its first string must equal the type, and the rest must
 * have the shape of that type (ed25519: 32-byte key; ecdsa: matching curve
 * and an uncompressed point of the right size; rsa: e and n with n of
 * 1024..16384 bits; sk-*: plus an application string; certificates: the
 * whole certificate framing). Known types: ssh-ed25519,
 * ecdsa-sha2-nistp256/384/521, ssh-rsa, sk-ssh-ed25519@openssh.com,
 * sk-ecdsa-sha2-nistp256@openssh.com and each one's -cert-v01@openssh.com
 * form. OUT is filled as far as parsing got. Returns an envfile_key_status. */
int envfile_key_parse(const char *line, size_t len, struct envfile_key *out);
const char *envfile_key_strerror(int status);
/* 1 when TYPE[0..LEN) is one of the known key types. */
int envfile_key_type_known(const char *type, size_t len);

/* Options prefix tokenizer (authorized_keys options, sshd's syntax:
 * comma-separated `name` or `name="value"`, names case-insensitive, inside
 * a value only \" is an escape). */
struct envfile_opt {
    const char *name;    /* view into the options text */
    size_t name_len;
    const char *value;   /* raw text between the quotes (escapes not undone), */
    size_t value_len;    /* NULL when the option has no value */
};
/* Returns 1 and fills *OPT with the option at *POS (advancing *POS past it
 * and its comma), 0 at the end, -1 on a syntax error (empty name, value not
 * quoted, unterminated quote, junk after the closing quote, trailing
 * comma). *POS starts at 0; LEN is the options prefix length. */
int envfile_opts_next(const char *opts, size_t len, size_t *pos, struct envfile_opt *opt);
/* Copies an option value with \" undone into OUT (NUL-terminated).
 * Returns the unescaped length, or -1 when it does not fit in SIZE. */
long envfile_opt_unquote(const struct envfile_opt *opt, char *out, size_t size);
/* 1 when the option's name equals NAME (ASCII case-insensitive). */
int envfile_opt_is(const struct envfile_opt *opt, const char *name);
/* Checks the whole prefix: syntax, every name known to sshd 9.x
 * (agent-forwarding, cert-authority, command, environment, expiry-time,
 * from, no-agent-forwarding, no-port-forwarding, no-pty, no-touch-required,
 * no-user-rc, no-x11-forwarding, permitlisten, permitopen, port-forwarding,
 * principals, pty, restrict, tunnel, user-rc, verify-required,
 * x11-forwarding), flags without a value and the others with one.
 * 0 ok, -1 with *WHY (static string) set. */
int envfile_opts_validate(const char *opts, size_t len, const char **why);

/* Strict standard base64 (padding optional at the very end, no blanks).
 * Writes at most CAP bytes to OUT. Returns the decoded length or -1. */
long envfile_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

/* Validates every line of every entry of KEYS (NULL-terminated; an entry
 * may hold several lines), warns about each bad one with its position
 * ("authorized key N (entry E, line L)") and reason, never its full text,
 * drops exact duplicates, and renders the keys block (markers, comment
 * line, keys in input order with trailing blanks and "\r" cut) into OUT.
 * Returns the number of valid keys (OUT is left empty when 0), -1 ENOMEM. */
long envfile_keys_render(const char *const *keys, struct envfile_buf *out);

/* ======================================================================
 * Container limits (CODER_CPU_LIMIT, CODER_MEMORY_LIMIT)
 * ====================================================================== */
/* Each returns 1 (a limit, stored), 0 (no limit) or -1 (malformed). Text
 * is a file's contents (trailing blanks/newline fine). */
int envfile_cgroup_cpu_v2(const char *cpu_max, double *cores);             /* "max 100000" */
int envfile_cgroup_cpu_v1(const char *quota, const char *period, double *cores); /* -1 = none */
int envfile_cgroup_mem(const char *text, uint64_t *bytes);                 /* "max" = none */

struct envfile_limits {
    double cpus;      /* cores */
    double mem_gib;   /* GiB (2^30 bytes) */
};
/* Reads the cgroup limits under CGROUP_ROOT (NULL: /sys/fs/cgroup): v2
 * when cgroup.controllers exists (the process's own cgroup from
 * /proc/self/cgroup if present under the root, else the root), else v1
 * (cpu/ or cpu,cpuacct/, memory/). A missing or malformed file, or a limit
 * above the machine's, gives the machine's value (usable CPUs, physical
 * memory). */
void envfile_limits_read(const char *cgroup_root, struct envfile_limits *out);
/* Combines parsed values: a limit (when HAVE) capped at the machine's. Pure. */
double envfile_limit_cap(int have, double limit, double machine);

/* ======================================================================
 * The startup step
 * ====================================================================== */
/* Same order as init's etc_env_policy (keep, warn, remove). */
enum envfile_etc_mode { ENVFILE_ETC_KEEP, ENVFILE_ETC_WARN, ENVFILE_ETC_REMOVE };

/* Zero-initialize, then fill what you have; every NULL/0 field means its
 * documented default. */
struct envfile_request {
    const struct envfile_user *user; /* NULL: looked up from user_name */
    const char *user_name;         /* NULL or "": envfile_user_default(passwd_path, geteuid()) */
    const char *passwd_path;       /* NULL: /etc/passwd */
    const char *group_path;        /* NULL: /etc/group */
    char *const *environ;          /* envinit's environment at start (ENVINIT_* dropped) */
    const char *assets_root;       /* CODER_ASSETS_ROOT; NULL: envfile_bundle_root() */
    const char *const *keys;       /* authorized key lines (NULL-terminated, NULL: none),
                                      from ENVINIT_AUTHORIZED_KEYS, the keys file and config */
    int write_keys;                /* 0 when ssh = off */
    int write_env;                 /* 0 when ssh = off */
    enum envfile_etc_mode etc_environment;
    const char *cgroup_root;       /* NULL: /sys/fs/cgroup; tests point elsewhere */
    const char *etc_environment_path; /* NULL: /etc/environment */
    const char *hostname;          /* NULL: gethostname() */
    int agent_link;                /* 1: envinit-sshd serves: SSH_AUTH_SOCK is
                                      ~/ENVFILE_AGENT_LINK; 0: SSH_AUTH_SOCK is
                                      left out (see envfile_collect) */
};

/* Builds the variables the block holds (environ minus ENVINIT_*, the
 * user's USER/HOME/SHELL/PWD forced, HOSTNAME/LANG/CODER_* defaults,
 * filtered, sorted). SSH_AUTH_SOCK is never envinit's own: with
 * req->agent_link it is the stable agent path in the user's home, else it
 * is left out, because OpenSSH applies ~/.ssh/environment after setting
 * its own per-session SSH_AUTH_SOCK, and a value from the block would
 * break `ssh -A` there. 0 / -1 (user lookup failed: logged). */
int envfile_collect(const struct envfile_request *req, const struct envfile_user *user,
                    struct envfile_vars *out);

/* Resolves the request's user (req->user, else user_name, else the
 * default rule). 0, or -1 after logging "environment user NAME: reason". */
int envfile_resolve_user(const struct envfile_request *req, struct envfile_user *out);

/* Writes ~/.ssh/environment (when write_env) and ~/.ssh/authorized_keys
 * (when write_keys), then applies the etc_environment mode.
 * Safety rules, as root in a directory the user controls:
 *  - the home path is walked one component at a time (O_NOFOLLOW); a
 *    symlink in it is followed only when root owns it and the user cannot
 *    replace it (its directory is not the user's and not writable, or is
 *    sticky); ~/.ssh is opened with O_DIRECTORY|O_NOFOLLOW and refused when
 *    it is a symlink or not owned by the user; a missing one is created 0700;
 *  - a file that is a symlink, not a regular file, larger than 16 MiB, or a
 *    hard link to someone else's file is refused and left as it is;
 *  - the new file is written to ".NAME.envinit-tmp" in the same directory
 *    (O_CREAT|O_EXCL|O_NOFOLLOW; anything planted at that name is unlinked,
 *    never followed), chowned to the user, 0600, fsynced, renamed over NAME,
 *    and the directory fsynced; identical content is not rewritten.
 * Returns 0 when
 * everything is in place (written or already identical), -1 when something
 * failed: each failure is logged as an error with the path and reason, and
 * the old file is left exactly as it was. The caller decides (config
 * on_write_error) whether -1 stops the container; nothing here exits. */
int envfile_install(const struct envfile_request *req);

/* Renders the block envfile_install would write to ~/.ssh/environment into a
 * malloc'd string (for `envinit env`); changes nothing. NULL on failure
 * (allocation, or the user could not be resolved: logged). */
char *envfile_render_for(const struct envfile_request *req);

/* Compares /etc/environment-style text (pam_env: optional "export ",
 * optional quotes) with VS: appends to CONFLICTS (may be NULL) the names it
 * sets to a value different from VS's, comma-separated. Returns the count. */
size_t envfile_etc_conflicts(const char *text, size_t len, const struct envfile_vars *vs,
                             struct envfile_buf *conflicts);

#endif
