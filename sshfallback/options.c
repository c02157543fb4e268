/* envinit-sshd's settings: one table maps each sshd_config keyword to its
 * long switch and its setter, so the command line (main.c builds its
 * getopt_long options from sf_options[]) and the configuration file
 * (sf_config_apply_text) cannot drift apart. Pure apart from strdup. */
#define SF_INTERNAL /* sf_sftp_parse_args */
#include "sshfallback.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(struct sf_config, f)

const struct sf_option sf_options[] = {
    {"Port", "port", 'p', SF_OPT_INT, OFF(port), 1, 65535, "N", "TCP port (default 22)"},
    {"ListenAddress", "listen", 'l', SF_OPT_STR, OFF(listen_addr), 0, 0, "ADDR",
     "address to bind (default 0.0.0.0; :: binds IPv6 and IPv4)"},
    {"HostKey", "host-key", 'k', SF_OPT_HOSTKEY, 0, 0, 0, "PATH",
     "host private key file or folder of them; repeatable (default /etc/envinit/ssh_host_*_key)"},
    {NULL, "user", 'u', SF_OPT_STR, OFF(user), 0, 0, "NAME",
     "the one user who may log in (default: yourself; as root coder, else uid 1000, else root)"},
    {"AuthorizedKeysFile", "authorized-keys", 'a', SF_OPT_STR, OFF(authorized_keys), 0, 0, "PATH",
     "the keys file (default ~/.ssh/authorized_keys), read at each attempt"},
    {NULL, "log-stderr", 'e', SF_OPT_IGNORED, 0, 0, 0, NULL, "accepted for sshd; logs always go to stderr"},
    {NULL, "foreground", 'D', SF_OPT_IGNORED, 0, 0, 0, NULL, "accepted for sshd; never daemonizes"},
    {NULL, "verbose", 'v', SF_OPT_ACTION, SF_ACT_VERBOSE, 0, 0, NULL, "debug log (twice: libssh's too)"},
    {NULL, "quiet", 'q', SF_OPT_ACTION, SF_ACT_QUIET, 0, 0, NULL, "warnings and errors only"},
    {NULL, "test", 't', SF_OPT_FLAG, OFF(test_only), 0, 0, NULL, "check settings, user and host keys, then exit"},
    {NULL, "help", 'h', SF_OPT_ACTION, SF_ACT_HELP, 0, 0, NULL, "this text"},
    {NULL, "config", 'f', SF_OPT_STR, OFF(config_path), 0, 0, "FILE",
     "settings in sshd_config syntax (the keywords in brackets); switches win"},
    {NULL, "print-config", 'T', SF_OPT_FLAG, OFF(print_config), 0, 0, NULL,
     "print the effective settings as sshd -T does, then exit"},
    {"LoginGraceTime", "login-grace-time", 0, SF_OPT_SECONDS, OFF(grace_s), 1, 86400, "S",
     "seconds to authenticate (default 30)"},
    {"MaxAuthTries", "max-auth-tries", 0, SF_OPT_UINT, OFF(max_auth_tries), 1, 1000, "N",
     "failed attempts before disconnect (default 6)"},
    {"MaxSessions", "max-sessions", 0, SF_OPT_UINT, OFF(max_sessions), 1, 1000, "N",
     "session channels per connection (default 10)"},
    {"MaxStartups", "max-startups", 0, SF_OPT_STARTUPS, OFF(startups), 0, 0, "S:R:F",
     "unauthenticated connections (default 10:30:100)"},
    {"AcceptEnv", "accept-env", 0, SF_OPT_ACCEPT_ENV, 0, 0, 0, "PATTERN",
     "client variables accepted besides LANG, LC_*; repeatable"},
    {"ClientAliveInterval", "keepalive", 0, SF_OPT_SECONDS, OFF(keepalive_s), 0, 86400, "S",
     "a keepalive every S seconds after login (default 0: none)"},
    {"ClientAliveCountMax", "keepalive-count-max", 0, SF_OPT_UINT, OFF(keepalive_max), 0, 1000, "N",
     "unanswered keepalives before disconnect (default 3; 0: never)"},
    {"Banner", "banner", 0, SF_OPT_STR, OFF(banner), 0, 0, "FILE", "text sent before authentication (default none)"},
    {NULL, "passwd", 0, SF_OPT_STR, OFF(passwd_path), 0, 0, "PATH", "user database (default /etc/passwd)"},
    {NULL, "group", 0, SF_OPT_STR, OFF(group_path), 0, 0, "PATH", "group database (default /etc/group)"},
    {NULL, "ready-fd", 0, SF_OPT_INT, OFF(ready_fd), 0, 65535, "N", "write READY to fd N once listening"},
    {NULL, "no-sftp", 0, SF_OPT_FLAG, OFF(no_sftp), 0, 0, NULL, "refuse the sftp subsystem"},
    {"Subsystem", "subsystem", 0, SF_OPT_SUBSYSTEM, 0, 0, 0, "'sftp internal-sftp [FLAGS]'",
     "sftp-server's flags (-R -p -P -u -d) for SFTP"},
    {"AllowTcpForwarding", "no-port-forwarding", 0, SF_OPT_FLAG, OFF(no_port_forwarding), 1, 0, NULL,
     "refuse -L, -D and -R of TCP ports"},
    {"AllowStreamLocalForwarding", "no-unix-forwarding", 0, SF_OPT_FLAG, OFF(no_unix_forwarding), 1, 0, NULL,
     "refuse -L and -R of unix sockets"},
    {"AllowAgentForwarding", "no-agent-forwarding", 0, SF_OPT_FLAG, OFF(no_agent_forwarding), 1, 0, NULL,
     "refuse agent forwarding (ssh -A)"},
    {"X11Forwarding", "no-x11-forwarding", 0, SF_OPT_FLAG, OFF(no_x11_forwarding), 1, 0, NULL,
     "refuse X11 forwarding (ssh -X)"},
    {"PrintMotd", "no-print-motd", 0, SF_OPT_FLAG, OFF(no_motd), 1, 0, NULL, "logins do not show /etc/motd"},
    {"GatewayPorts", "gateway-ports", 0, SF_OPT_FLAG, OFF(gateway_ports), 0, 0, NULL,
     "-R binds the address asked for (default: loopback)"},
    {"StreamLocalBindUnlink", "no-stream-local-bind-unlink", 0, SF_OPT_FLAG, OFF(no_stream_local_bind_unlink), 1,
     0, NULL, "-R PATH never replaces a stale socket"},
    {"X11UseLocalhost", "x11-use-localhost", 0, SF_OPT_FLAG, OFF(x11_use_localhost), 0, 0, NULL,
     "X11 displays on loopback only (default: every address)"},
    {"X11DisplayOffset", "x11-display-offset", 0, SF_OPT_UINT, OFF(x11_display_offset), 0, 1000, "N",
     "first X11 display tried (default 10)"},
    {NULL, "connection", 0, SF_OPT_FLAG, OFF(connection), 0, 0, NULL, NULL}, /* the listener's, not a user's */
    {NULL, "inetd", 'i', SF_OPT_FLAG, OFF(inetd), 0, 0, NULL, "serve one connection on stdin/stdout (sshd -i)"},
    {NULL, "print-host-key", 0, SF_OPT_FLAG, OFF(print_host_key), 0, 0, NULL,
     "print the served host keys' public lines, then exit"},
    {"KexAlgorithms", "kex-algorithms", 0, SF_OPT_ALGO, SF_ALGO_KEX, 0, 0, "LIST", "key exchanges offered"},
    {"Ciphers", "ciphers", 0, SF_OPT_ALGO, SF_ALGO_CIPHERS, 0, 0, "LIST", "ciphers offered"},
    {"MACs", "macs", 0, SF_OPT_ALGO, SF_ALGO_MACS, 0, 0, "LIST", "MACs offered"},
    {"HostKeyAlgorithms", "host-key-algorithms", 0, SF_OPT_ALGO, SF_ALGO_HOSTKEYS, 0, 0, "LIST",
     "host key algorithms offered (ecdsa-*, rsa-*: a key of that type too)"},
    {"PubkeyAcceptedAlgorithms", "pubkey-accepted-algorithms", 0, SF_OPT_ALGO, SF_ALGO_PUBKEYS, 0, 0, "LIST",
     "user key algorithms accepted"},
};
_Static_assert(sizeof sf_options / sizeof sf_options[0] == SF_OPT_COUNT, "SF_OPT_COUNT must count sf_options[]");

/* sshd_config keywords with no behaviour here, refused with the reason. */
static const struct { const char *keyword, *why; } refused_keywords[] = {
    {"Match", "Match blocks are not supported: every setting applies to every connection"},
};

/* The copies settings point into live as long as the process: noted here. */
static char *kept[256];
static size_t n_kept;
static char *keep(char *copy)
{
    if (copy && n_kept == sizeof kept / sizeof kept[0]) {
        free(copy);
        return NULL;
    }
    if (copy)
        kept[n_kept++] = copy;
    return copy;
}

static int fail(char *err, size_t esize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t esize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, esize, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_ul(const char *s, unsigned long lo, unsigned long hi, int seconds, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return -1;
    if (seconds && *end) { /* sshd_config(5) TIME FORMATS, one unit */
        static const char units[] = "smhdw";
        static const unsigned long mult[] = {1, 60, 3600, 86400, 604800};
        const char *u = strchr(units, tolower((unsigned char)*end));
        if (!u || end[1] || v > hi)
            return -1;
        v *= mult[u - units];
        end++;
    }
    if (*end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int sf_option_set(struct sf_config *c, const struct sf_option *o, const char *value, int from_file, char *err,
                  size_t esize)
{
    char *base = (char *)c;
    const char *name = from_file ? o->keyword : o->name;
    const char *dash = from_file ? "" : "--";
    unsigned long v;
    switch (o->kind) {
    case SF_OPT_INT:
    case SF_OPT_UINT:
    case SF_OPT_SECONDS:
        if (parse_ul(value, o->lo, o->hi, o->kind == SF_OPT_SECONDS, &v) < 0)
            return fail(err, esize, "bad value '%s' for %s%s (%u to %u)", value, dash, name, o->lo, o->hi);
        if (o->kind == SF_OPT_INT)
            *(int *)(base + o->off) = (int)v;
        else
            *(unsigned *)(base + o->off) = (unsigned)v;
        return 0;
    case SF_OPT_STR:
        if (!*value)
            return fail(err, esize, "empty value for %s%s", dash, name);
        *(const char **)(base + o->off) = value;
        return 0;
    case SF_OPT_FLAG: {
        int yes;
        if (!from_file)
            yes = 1; /* the switch itself */
        else if (strcasecmp(value, "yes") == 0 || (o->lo && strcasecmp(value, "all") == 0))
            yes = 1;
        else if (strcasecmp(value, "no") == 0)
            yes = 0;
        else
            return fail(err, esize, "bad value '%s' for %s: yes or no", value, name);
        /* lo: the field says the opposite of the keyword (no_...) */
        *(int *)(base + o->off) = from_file && o->lo ? !yes : yes;
        return 0;
    }
    case SF_OPT_HOSTKEY:
        if (c->n_host_keys == SF_MAX_HOST_KEYS)
            return fail(err, esize, "%s%s: too many (the limit is %d)", dash, name, SF_MAX_HOST_KEYS);
        if (!*value)
            return fail(err, esize, "empty value for %s%s", dash, name);
        c->host_keys[c->n_host_keys++] = value;
        return 0;
    case SF_OPT_ACCEPT_ENV: {
        /* the file takes several patterns on one line, as sshd's */
        char *copy = keep(strdup(value)), *save = NULL;
        if (!copy)
            return fail(err, esize, "out of memory");
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            if (c->n_accept_env == SF_MAX_ACCEPT_ENV)
                return fail(err, esize, "%s%s: too many (the limit is %d)", dash, name, SF_MAX_ACCEPT_ENV);
            c->accept_env[c->n_accept_env++] = w;
        }
        return 0; /* COPY stays: the patterns point into it */
    }
    case SF_OPT_STARTUPS:
        if (sf_startups_parse(value, (struct sf_startups *)(base + o->off)) < 0)
            return fail(err, esize, "bad value '%s' for %s%s", value, dash, name);
        return 0;
    case SF_OPT_ALGO:
        if (!*value)
            return fail(err, esize, "empty value for %s%s", dash, name);
        c->algo_spec[o->off] = value; /* checked once all is read (resolve_algorithms) */
        return 0;
    case SF_OPT_SUBSYSTEM: {
        /* "sftp internal-sftp [sftp-server flags]" */
        char *copy = keep(strdup(value)), *save = NULL, *args[SF_MAX_SFTP_ARGS];
        size_t n = 0;
        if (!copy)
            return fail(err, esize, "out of memory");
        char *sub = strtok_r(copy, " \t", &save), *cmd = strtok_r(NULL, " \t", &save);
        if (!sub || strcmp(sub, "sftp") != 0 || !cmd || strcmp(cmd, "internal-sftp") != 0) {
            return fail(err, esize, "%s%s '%s': only \"sftp internal-sftp [FLAGS]\" is supported", dash, name,
                        value);
        }
        for (char *w = strtok_r(NULL, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            if (n == SF_MAX_SFTP_ARGS) {
                    return fail(err, esize, "%s%s: more than %d sftp flags", dash, name, SF_MAX_SFTP_ARGS);
            }
            args[n++] = w;
        }
        struct sf_sftp_opts so;
        char why[256];
        if (sf_sftp_parse_args((int)n, args, &so, why, sizeof why) < 0 || so.help || so.query_requests) {
            return fail(err, esize, "%s%s '%s': %s", dash, name, value, why[0] ? why : "-h and -Q are not flags "
                        "for a server");
        }
        memcpy(c->sftp_args, args, n * sizeof args[0]);
        c->n_sftp_args = n;
        c->sftp_subsystem = value;
        return 0; /* COPY stays: the flags point into it */
    }
    default:
        return fail(err, esize, "%s%s cannot be set here", dash, name);
    }
}

const struct sf_option *sf_option_find_keyword(const char *keyword)
{
    for (size_t i = 0; i < SF_OPT_COUNT; i++)
        if (sf_options[i].keyword && strcasecmp(sf_options[i].keyword, keyword) == 0)
            return &sf_options[i];
    return NULL;
}

static int accumulates(const struct sf_option *o)
{
    return o->kind == SF_OPT_HOSTKEY || o->kind == SF_OPT_ACCEPT_ENV;
}

int sf_config_apply_text(struct sf_config *c, const char *text, const char *file, char *err, size_t esize)
{
    char *copy = keep(strdup(text));
    unsigned line = 0;
    if (!copy)
        return fail(err, esize, "%s: out of memory", file);
    /* one copy for the whole file: the settings point into it */
    for (char *p = copy, *next; p; p = next) {
        line++;
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        while (isspace((unsigned char)*p))
            p++;
        size_t len = strlen(p);
        while (len && isspace((unsigned char)p[len - 1]))
            p[--len] = '\0';
        if (!*p || *p == '#')
            continue;
        char *kw = p;
        p += strcspn(p, " \t=");
        if (*p) {
            *p++ = '\0';
            while (isspace((unsigned char)*p))
                p++;
            if (*p == '=') /* "Keyword = value" */
                for (p++; isspace((unsigned char)*p); p++)
                    ;
        }
        char *value = p;
        len = strlen(value);
        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
            value[len - 1] = '\0';
            value++;
        }
        for (size_t i = 0; i < sizeof refused_keywords / sizeof refused_keywords[0]; i++)
            if (strcasecmp(kw, refused_keywords[i].keyword) == 0)
                return fail(err, esize, "%s line %u: %s: %s", file, line, refused_keywords[i].keyword,
                            refused_keywords[i].why);
        const struct sf_option *o = sf_option_find_keyword(kw);
        if (!o)
            return fail(err, esize, "%s line %u: unsupported keyword '%s'", file, line, kw);
        if (!*value)
            return fail(err, esize, "%s line %u: %s without a value", file, line, o->keyword);
        size_t idx = (size_t)(o - sf_options);
        /* OpenSSH: the first value wins (the command line is read first);
         * HostKey and AcceptEnv add up */
        if (c->seen[idx] && !accumulates(o)) {
            if (o->kind == SF_OPT_FLAG || o->kind == SF_OPT_UINT || o->kind == SF_OPT_INT ||
                o->kind == SF_OPT_SECONDS) {
                /* still validated: a typo must not hide behind precedence */
                struct sf_config scratch;
                memset(&scratch, 0, sizeof scratch);
                if (sf_option_set(&scratch, o, value, 1, err, esize) < 0)
                    goto bad;
            }
            continue;
        }
        if (sf_option_set(c, o, value, 1, err, esize) < 0)
            goto bad;
        c->seen[idx] = 1;
        continue;
    bad: {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", err);
            return fail(err, esize, "%s line %u: %s", file, line, msg);
        }
    }
    return 0; /* COPY stays: the settings point into it */
}

static void print_flag(FILE *out, const struct sf_option *o, const struct sf_config *c)
{
    int v = *(const int *)((const char *)c + o->off);
    fprintf(out, "%s\n", (o->lo ? !v : v) ? "yes" : "no");
}

void sf_options_help(FILE *out)
{
    for (size_t i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        char sw[96];
        if (!o->help)
            continue;
        int n = snprintf(sw, sizeof sw, "%c%c%s --%s%s%s", o->short_opt ? '-' : ' ',
                         o->short_opt ? o->short_opt : ' ', o->short_opt ? "," : " ", o->name,
                         o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(out, "  %-30s%s%s", sw, n >= 30 ? "\n                                " : "", o->help);
        if (o->keyword)
            fprintf(out, " [%s]", o->keyword);
        fputc('\n', out);
    }
}

void sf_config_print(const struct sf_config *c, FILE *out)
{
    for (size_t i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        const char *base = (const char *)c;
        char kw[64];
        if (!o->keyword)
            continue;
        size_t k = 0;
        for (; k < sizeof kw - 1 && o->keyword[k]; k++)
            kw[k] = (char)tolower((unsigned char)o->keyword[k]);
        kw[k] = '\0';
        switch (o->kind) {
        case SF_OPT_INT:
            fprintf(out, "%s %d\n", kw, *(const int *)(base + o->off));
            break;
        case SF_OPT_UINT:
        case SF_OPT_SECONDS:
            fprintf(out, "%s %u\n", kw, *(const unsigned *)(base + o->off));
            break;
        case SF_OPT_STR: {
            const char *s = *(const char *const *)(base + o->off);
            fprintf(out, "%s %s\n", kw, s ? s : ".ssh/authorized_keys");
            break;
        }
        case SF_OPT_FLAG:
            fprintf(out, "%s ", kw);
            print_flag(out, o, c);
            break;
        case SF_OPT_HOSTKEY:
            if (!c->n_host_keys)
                fprintf(out, "%s %s/ssh_host_ed25519_key\n", kw, SF_HOSTKEY_DIR);
            for (size_t j = 0; j < c->n_host_keys; j++)
                fprintf(out, "%s %s\n", kw, c->host_keys[j]);
            break;
        case SF_OPT_ACCEPT_ENV:
            fprintf(out, "%s LANG LC_*", kw);
            for (size_t j = 0; j < c->n_accept_env; j++)
                fprintf(out, " %s", c->accept_env[j]);
            fputc('\n', out);
            break;
        case SF_OPT_STARTUPS:
            fprintf(out, "%s %u:%u:%u\n", kw, c->startups.start, c->startups.rate, c->startups.full);
            break;
        case SF_OPT_ALGO:
            fprintf(out, "%s %s\n", kw, c->algos[o->off]);
            break;
        case SF_OPT_SUBSYSTEM:
            if (!c->no_sftp) {
                fprintf(out, "%s sftp internal-sftp", kw);
                for (size_t j = 0; j < c->n_sftp_args; j++)
                    fprintf(out, " %s", c->sftp_args[j]);
                fputc('\n', out);
            }
            break;
        default:
            break;
        }
    }
}
