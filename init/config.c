/* Configuration keys, one table for the INI file, the ENVINIT_* variables
 * and the long options, so the three sources can never disagree. */
#include "envinit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum key_type { K_BOOL, K_INT, K_PORT, K_MS, K_LEVEL, K_SIGNAL, K_ENUM, K_STR, K_CODES, K_REWRITE, K_KEYS };

struct key {
    const char *name;
    enum key_type type;
    size_t offset;
    size_t size;                /* K_STR: buffer size */
    const char *const *names;   /* K_ENUM: values, index = enum value */
    const char *help;
};

static const char *const ssh_modes[] = {"auto", "openssh", "fallback", "external", "off", NULL};
static const char *const write_policies[] = {"continue", "fail", NULL};
static const char *const etc_policies[] = {"keep", "warn", "remove", NULL};

#define OFF(f) offsetof(struct config, f)
#define STR(f) OFF(f), sizeof(((struct config *)0)->f)
static const struct key keys[] = {
    {"subreaper", K_BOOL, OFF(subreaper), 0, NULL, "register as child subreaper (always when not PID 1)"},
    {"kill_process_group", K_BOOL, OFF(kill_group), 0, NULL, "forward signals to the main command's whole process group"},
    {"parent_death_signal", K_SIGNAL, OFF(parent_death_signal), 0, NULL, "signal envinit gets when its parent dies"},
    {"warn_on_reap", K_BOOL, OFF(warn_on_reap), 0, NULL, "warn for each reaped zombie that is not ours"},
    {"log_level", K_LEVEL, OFF(log_level), 0, NULL, "error, warn, info or debug (0-3)"},
    {"grace", K_MS, OFF(grace_ms), 0, NULL, "seconds between the stop signal and SIGKILL"},
    {"expect_exit", K_CODES, 0, 0, NULL, "exit codes of the main command reported as 0"},
    {"rewrite", K_REWRITE, 0, 0, NULL, "S:R rewrites signal S to R before forwarding (R 0: drop)"},
    {"user", K_STR, STR(user), NULL, "environment user (default: coder, uid 1000, root)"},
    {"on_write_error", K_ENUM, OFF(on_write_error), 0, write_policies, "continue or fail when ~/.ssh cannot be written"},
    {"etc_environment", K_ENUM, OFF(etc_environment), 0, etc_policies, "keep, warn or remove /etc/environment overrides"},
    {"authorized_keys", K_KEYS, 0, 0, NULL, "public key lines for ~/.ssh/authorized_keys"},
    {"authorized_keys_file", K_STR, STR(authorized_keys_file), NULL, "file holding more public keys"},
    {"host_keys", K_STR, STR(host_keys), NULL, "SSH host private key file, or a folder of them (a mounted Secret)"},
    {"ssh", K_ENUM, OFF(ssh), 0, ssh_modes, "auto, openssh, fallback, external or off"},
    {"ssh_port", K_PORT, OFF(ssh_port), 0, NULL, "port of the SSH server"},
    {"fallback_port", K_PORT, OFF(fallback_port), 0, NULL, "port of the fallback server when 22 is taken or not root"},
    {"ssh_wait", K_MS, OFF(ssh_wait_ms), 0, NULL, "CVM: seconds to wait for systemd's sshd"},
    {"openssh_recommended", K_BOOL, OFF(openssh_recommended), 0, NULL, "pass the page's sshd options unless sshd_config sets them"},
    {"cvm", K_BOOL, OFF(cvm), 0, NULL, "write systemd units and exec systemd as PID 1"},
    {"status_file", K_STR, STR(status_path), NULL, "where the SSH status is written"},
    {"fallback_args", K_STR, STR(fallback_args), NULL, "extra envinit-sshd switches, e.g. --no-port-forwarding"},
    {"fallback_config", K_STR, STR(fallback_config), NULL, "an sshd_config-syntax file for envinit-sshd (its -f)"},
};
#undef OFF
#undef STR
_Static_assert(sizeof keys / sizeof keys[0] == CONFIG_KEY_COUNT, "CONFIG_KEY_COUNT must count keys[]");

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -2;
}

const char *ssh_mode_name(enum ssh_mode m)
{
    return m <= SSH_OFF ? ssh_modes[m] : "?";
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    c->log_level = LOG_WARN;
    c->grace_ms = 10000;
    c->ssh = SSH_AUTO;
    c->ssh_port = 22;
    c->fallback_port = 2222;
    c->ssh_wait_ms = 15000;
    c->openssh_recommended = 1;
    c->etc_environment = ETC_ENV_WARN;
    snprintf(c->status_path, sizeof c->status_path, "%s", CONFIG_STATUS_PATH);
}

void config_free(struct config *c)
{
    for (size_t i = 0; i < c->n_authorized_keys; i++)
        free(c->authorized_keys[i]);
    c->n_authorized_keys = 0;
}

static const struct key *key_find(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

int config_parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (ascii_strcasecmp(v, yes[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (ascii_strcasecmp(v, no[i]) == 0)
            return 0;
    return -1;
}

int config_parse_long(const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* Seconds with up to three decimals ("10", "0.5"); no locale, no float. */
int config_parse_seconds(const char *v, long *ms)
{
    long whole = 0, frac = 0, scale = 1000;
    const char *p = v;
    if (!ascii_isdigit((unsigned char)*p))
        return -1;
    for (; ascii_isdigit((unsigned char)*p); p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 86400L * 365)
            return -1;
    }
    if (*p == '.') {
        for (p++; ascii_isdigit((unsigned char)*p); p++)
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
    }
    if (*p == 's')
        p++;
    if (*p != '\0')
        return -1;
    *ms = whole * 1000 + frac;
    return 0;
}

/* A list of any length ("1,2, 3"): every code 0-255 fits the bit set. */
static int set_codes(struct config *c, const char *v, char *err, size_t errlen)
{
    for (const char *p = v; *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        char tok[8];
        long code = -1;
        if (n >= sizeof tok || (memcpy(tok, p, n), tok[n] = '\0', config_parse_long(tok, 0, 255, &code)) < 0)
            return fail(err, errlen, "exit code '%.*s' is not a number from 0 to 255", (int)(n > 16 ? 16 : n), p);
        c->expect_exit[code / 8] |= (unsigned char)(1u << (code % 8));
        p += n;
    }
    return 0;
}

static int set_rewrites(struct config *c, const char *v, char *err, size_t errlen)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int from, to;
        if (signal_parse_rewrite(tok, &from, &to) < 0)
            return fail(err, errlen, "rewrite '%s' is not SIGNAL:SIGNAL (signal 1-%d, target 0 drops)",
                        tok, CONFIG_MAX_REWRITE);
        c->rewrite[from] = (unsigned char)to;
        c->rewrite_set[from] = 1;
    }
    return 0;
}

static int add_key_lines(struct config *c, const char *v, char *err, size_t errlen)
{
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, "\n");
        size_t len = n;
        while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        const char *s = p;
        while (len && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        if (len) {
            if (c->n_authorized_keys >= CONFIG_MAX_KEYS)
                return fail(err, errlen, "more than %d authorized keys", CONFIG_MAX_KEYS);
            char *line = strndup(s, len);
            if (!line)
                return fail(err, errlen, "out of memory");
            c->authorized_keys[c->n_authorized_keys++] = line;
        }
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

static int set_typed(struct config *c, const struct key *k, const char *v, char *err, size_t errlen)
{
    char *field = (char *)c + k->offset;
    long n;
    int b;
    switch (k->type) {
    case K_BOOL:
        if ((b = config_parse_bool(v)) < 0)
            return fail(err, errlen, "%s: '%s' is not a boolean (true/false, yes/no, 1/0)", k->name, v);
        *(int *)field = b;
        return 0;
    case K_INT:
        if (config_parse_long(v, 0, INT_MAX, &n) < 0)
            return fail(err, errlen, "%s: '%s' is not a number", k->name, v);
        *(int *)field = (int)n;
        return 0;
    case K_PORT:
        if (config_parse_long(v, 1, 65535, &n) < 0)
            return fail(err, errlen, "%s: '%s' is not a port (1-65535)", k->name, v);
        *(int *)field = (int)n;
        return 0;
    case K_MS:
        if (config_parse_seconds(v, &n) < 0)
            return fail(err, errlen, "%s: '%s' is not a duration in seconds (e.g. 10 or 2.5)", k->name, v);
        *(long *)field = n;
        return 0;
    case K_LEVEL:
        if ((b = log_parse_level(v)) < 0)
            return fail(err, errlen, "%s: '%s' is not error, warn, info, debug or 0-3", k->name, v);
        *(int *)field = b;
        return 0;
    case K_SIGNAL:
        /* Empty is "none", the default, as envinit prints it back. */
        if (!*v) {
            *(int *)field = 0;
            return 0;
        }
        if ((b = signal_parse(v)) <= 0)
            return fail(err, errlen, "%s: '%s' is not a signal name or number", k->name, v);
        *(int *)field = b;
        return 0;
    case K_ENUM:
        for (int i = 0; k->names[i]; i++)
            if (strcmp(k->names[i], v) == 0) {
                *(int *)field = i;
                return 0;
            }
        return fail(err, errlen, "%s: '%s' is not one of the allowed values", k->name, v);
    case K_STR:
        if (strlen(v) >= k->size)
            return fail(err, errlen, "%s: value is longer than %zu bytes", k->name, k->size - 1);
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case K_CODES:
        return set_codes(c, v, err, errlen);
    case K_REWRITE:
        return set_rewrites(c, v, err, errlen);
    case K_KEYS:
        return add_key_lines(c, v, err, errlen);
    }
    return -2;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct key *k = key_find(key);
    if (!k) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return -1;
    }
    return set_typed(c, k, value, err, errlen);
}

/* ---- the INI file ----
 * The syntax of the inih library, which users' files follow: ";" or "#"
 * starts a comment line, and ";" after a blank an inline comment; a line
 * is "key = value" or "key: value", or [section]; an indented line
 * continues the previous key (one more value for it); a UTF-8 byte order
 * mark at the start is skipped. Unlike inih's, a line may be of any
 * length: 200-byte lines would cut an RSA authorized_keys line in two. */
#define CONFIG_FILE_MAX (1024 * 1024)

struct ini_state {
    struct config *c;
    const char *path;
    char *err;
    size_t errlen;
    const char *section;        /* "" before the first [section] */
    const char *prev;           /* the last key, for continuation lines */
    int lineno;
};

static char *skip_blanks(char *s)
{
    while (*s && ascii_isspace((unsigned char)*s))
        s++;
    return s;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && ascii_isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* The first of CHARS in S, else where an inline comment starts, else S's end. */
static char *find_or_comment(char *s, const char *chars)
{
    bool after_blank = false;
    for (; *s; s++) {
        if ((chars && strchr(chars, *s)) || (after_blank && *s == ';'))
            break;
        after_blank = ascii_isspace((unsigned char)*s);
    }
    return s;
}

static int ini_fail(struct ini_state *st, const char *why)
{
    snprintf(st->err, st->errlen, "%s:%d: %s", st->path, st->lineno, why);
    return -1;
}

static int ini_set(struct ini_state *st, const char *key, const char *value)
{
    char why[512];
    if (st->section[0] && strcmp(st->section, "envinit") != 0)
        snprintf(why, sizeof why, "unknown section [%s] (only [envinit])", st->section);
    else if (config_set(st->c, key, value, why, sizeof why) == 0)
        return 0;
    return ini_fail(st, why);
}

/* LINE without its newline, cut in place: 0, or -1 with the error. */
static int ini_line(struct ini_state *st, char *line)
{
    char *start = skip_blanks(line), *end;
    trim_end(start);
    if (!*start || *start == ';' || *start == '#')
        return 0;
    if (st->prev && start > line) {
        *find_or_comment(start, NULL) = '\0';
        trim_end(start);
        return ini_set(st, st->prev, start);
    }
    if (*start == '[') {
        if (*(end = find_or_comment(start + 1, "]")) == ']') {
            *end = '\0';
            st->section = start + 1;
            st->prev = NULL;
            return 0;
        }
    } else if (*(end = find_or_comment(start, "=:")) == '=' || *end == ':') {
        *end = '\0';
        trim_end(start);
        char *value = end + 1;
        *find_or_comment(value, NULL) = '\0';
        value = skip_blanks(value);
        trim_end(value);
        st->prev = start;
        return ini_set(st, start, value);
    }
    return ini_fail(st, "not an INI line (expected key = value or [envinit])");
}

/* TEXT[0..LEN) is the file, with a NUL after it. */
static int ini_parse(struct ini_state *st, char *text, size_t len)
{
    char *p = text, *stop = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < stop) {
        char *nl = memchr(p, '\n', (size_t)(stop - p));
        char *next = nl ? nl + 1 : stop;
        if (nl)
            *nl = '\0';
        st->lineno++;
        if (ini_line(st, p) < 0)
            return -1;
        p = next;
    }
    return 0;
}

int config_load_file(struct config *c, const char *path, int missing_ok, char *err, size_t errlen)
{
    if (strlen(path) >= sizeof c->config_path) {
        snprintf(err, errlen, "config file path is longer than %zu bytes", sizeof c->config_path - 1);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && missing_ok)
        return 0;
    size_t len = 0;
    char *text = fd < 0 ? NULL : envfile_read_fd(fd, CONFIG_FILE_MAX, &len);
    int read_errno = errno;
    if (fd >= 0)
        close(fd);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(read_errno));
        return -1;
    }
    struct ini_state st = {.c = c, .path = path, .err = err, .errlen = errlen, .section = ""};
    int r = ini_parse(&st, text, len);
    free(text);
    if (r < 0)
        return -1;
    snprintf(c->config_path, sizeof c->config_path, "%s", path);
    return 0;
}

/* Variables read from the environment that are not file keys. */
static int is_known_extra(const char *name)
{
    return strcmp(name, "ENVINIT_CONFIG") == 0;
}

static int env_key(const char *name, size_t len, char *out, size_t outlen)
{
    if (len >= outlen)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)ascii_tolower((unsigned char)name[i]);
    out[len] = '\0';
    return 0;
}

static int load_tini_var(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
    char why[512];
    const char *key = NULL;
    /* tini treats the mere presence of these two as "on". */
    if (strcmp(name, "TINI_SUBREAPER") == 0)
        c->subreaper = 1;
    else if (strcmp(name, "TINI_KILL_PROCESS_GROUP") == 0)
        c->kill_group = 1;
    else if (strcmp(name, "TINI_VERBOSITY") == 0)
        key = "log_level";
    if (key && config_set(c, key, value, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    return 0;
}

int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen)
{
    /* Two passes so ENVINIT_* wins over TINI_* whatever the order. */
    for (char *const *e = envp; *e; e++)
        if (strncmp(*e, "TINI_", 5) == 0) {
            const char *eq = strchr(*e, '=');
            char name[64];
            if (!eq || (size_t)(eq - *e) >= sizeof name)
                continue;
            memcpy(name, *e, (size_t)(eq - *e));
            name[eq - *e] = '\0';
            if (load_tini_var(c, name, eq + 1, err, errlen) < 0)
                return -1;
        }
    for (char *const *e = envp; *e; e++) {
        if (strncmp(*e, "ENVINIT_", 8) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[64], key[64], why[512];
        size_t len = (size_t)(eq - *e);
        if (len >= sizeof name)
            continue;
        memcpy(name, *e, len);
        name[len] = '\0';
        if (is_known_extra(name) || env_key(name + 8, len - 8, key, sizeof key) < 0)
            continue;
        int r = config_set(c, key, eq + 1, why, sizeof why);
        if (r == -1) {
            log_warn("ignoring %s: no such setting (see envinit --help)", name);
            continue;
        }
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", name, why);
            return -1;
        }
    }
    return 0;
}

/* Appends to OUT[LEN] at *AT; -1 once it is full. */
static int append(char *out, size_t len, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int append(char *out, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = *at < len ? vsnprintf(out + *at, len - *at, fmt, ap) : -1;
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *at)
        return -1;
    *at += (size_t)n;
    return 0;
}

static int format_list(const struct config *c, const struct key *k, char *out, size_t len)
{
    size_t at = 0;
    int rc = 0;
    const char *sep = "";
    if (k->type == K_CODES) {
        for (int code = 0; code < 256 && rc == 0; code++)
            if (c->expect_exit[code / 8] & (1u << (code % 8))) {
                rc = append(out, len, &at, "%s%d", sep, code);
                sep = ",";
            }
    } else {
        for (int sig = 1; sig <= CONFIG_MAX_REWRITE && rc == 0; sig++)
            if (c->rewrite_set[sig]) {
                rc = append(out, len, &at, "%s%d:%d", sep, sig, c->rewrite[sig]);
                sep = ",";
            }
    }
    return rc;
}

int config_key_value(const struct config *c, size_t i, char *out, size_t len)
{
    if (i >= sizeof keys / sizeof keys[0] || len == 0)
        return -1;
    const struct key *k = &keys[i];
    const char *field = (const char *)c + k->offset;
    const int *n = (const int *)field;
    size_t at = 0;
    out[0] = '\0';
    switch (k->type) {
    case K_BOOL:
        return append(out, len, &at, "%s", *n ? "true" : "false");
    case K_INT:
    case K_PORT:
    case K_LEVEL:
        return append(out, len, &at, "%d", *n);
    case K_MS:
        return append(out, len, &at, "%ld.%03ld", *(const long *)field / 1000, *(const long *)field % 1000);
    case K_SIGNAL:
        return append(out, len, &at, "%s", *n ? signal_name(*n) : "");
    case K_ENUM:
        return append(out, len, &at, "%s", k->names[*n]);
    case K_STR:
        return append(out, len, &at, "%s", field);
    case K_CODES:
    case K_REWRITE:
        return format_list(c, k, out, len);
    case K_KEYS:
        /* Keys are public, but a long line helps nobody: type and count. */
        return append(out, len, &at, "%zu key line(s)", c->n_authorized_keys);
    }
    return -1;
}

bool config_key_is_keys(size_t i)
{
    return i < config_key_count() && keys[i].type == K_KEYS;
}

void config_print(const struct config *c, FILE *out)
{
    fprintf(out, "# effective configuration (file: %s)\n[envinit]\n",
            c->config_path[0] ? c->config_path : "none");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char v[CONFIG_VALUE_MAX];
        if (config_key_value(c, i, v, sizeof v) < 0)
            snprintf(v, sizeof v, "(too long to show)");
        if (keys[i].type == K_KEYS)
            fprintf(out, "# %s: %s\n", keys[i].name, v);
        else
            /* ";" after a blank starts a comment: a value beginning with
             * one follows "=" directly, so that the file reads back. */
            fprintf(out, "%s =%s%s\n", keys[i].name, v[0] && v[0] != ';' ? " " : "", v);
    }
}

void config_print_help(FILE *out)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char opt[64];
        size_t j = 0;
        for (const char *p = keys[i].name; *p && j < sizeof opt - 1; p++)
            opt[j++] = *p == '_' ? '-' : *p;
        opt[j] = '\0';
        char var[64];
        env_key_upper(keys[i].name, var, sizeof var);
        fprintf(out, "  --%-22s ENVINIT_%-22s %s\n", opt, var, keys[i].help);
    }
}

void env_key_upper(const char *name, char *out, size_t outlen)
{
    size_t j = 0;
    for (; j < outlen - 1 && name[j]; j++)
        out[j] = (char)ascii_toupper((unsigned char)name[j]);
    out[j] = '\0';
}

size_t config_key_count(void)
{
    return sizeof keys / sizeof keys[0];
}

const char *config_key_name(size_t i)
{
    return i < config_key_count() ? keys[i].name : NULL;
}

bool config_key_is_bool(size_t i)
{
    return i < config_key_count() && keys[i].type == K_BOOL;
}

void config_status_fallback(char *out, size_t len)
{
    snprintf(out, len, "/tmp/envinit-%u/status", (unsigned)geteuid());
}

/* /run is root's: a non-root envinit (docker run --user) keeps its status
 * in XDG_RUNTIME_DIR, else in /tmp/envinit-UID, unless status_file says
 * otherwise. `envinit status` run as the same user finds the same file. */
void config_default_status_path(struct config *c, char *const *envp)
{
    if (strcmp(c->status_path, CONFIG_STATUS_PATH) != 0 || geteuid() == 0)
        return;
    const char *xdg = NULL;
    for (char *const *e = envp; *e; e++)
        if (strncmp(*e, "XDG_RUNTIME_DIR=", 16) == 0 && (*e)[16] == '/')
            xdg = *e + 16;
    int n = xdg ? snprintf(c->status_path, sizeof c->status_path, "%s/envinit/status", xdg) : -1;
    if (n < 0 || (size_t)n >= sizeof c->status_path)
        config_status_fallback(c->status_path, sizeof c->status_path);
}
