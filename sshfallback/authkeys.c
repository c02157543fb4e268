/* authorized_keys: which line grants a key, and what that line allows.
 * The line syntax (options, type, base64 body) is envfile's; the policy
 * (which options we honour, from= matching) is ours. */
#include "sshfallback.h"
#include "../envfile/envfile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void sf_keyopts_free(struct sf_keyopts *o)
{
    free(o->command);
    free(o->from);
    memset(o, 0, sizeof *o);
}

static char *opt_value(const struct envfile_opt *opt)
{
    size_t size = opt->value_len + 1;
    char *v = malloc(size);
    if (v && envfile_opt_unquote(opt, v, size) < 0) {
        free(v);
        v = NULL;
    }
    return v;
}

static int set_flag(const struct envfile_opt *opt, struct sf_keyopts *out)
{
    static const struct { const char *name; size_t off; } flags[] = {
        {"restrict", offsetof(struct sf_keyopts, restrict_all)},
        {"no-pty", offsetof(struct sf_keyopts, no_pty)},
        {"no-port-forwarding", offsetof(struct sf_keyopts, no_port_forwarding)},
        {"no-agent-forwarding", offsetof(struct sf_keyopts, no_agent_forwarding)},
        {"no-x11-forwarding", offsetof(struct sf_keyopts, no_x11_forwarding)},
        {"no-touch-required", offsetof(struct sf_keyopts, no_touch_required)},
        {"verify-required", offsetof(struct sf_keyopts, verify_required)},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (envfile_opt_is(opt, flags[i].name)) {
            *(int *)(void *)((char *)out + flags[i].off) = 1;
            return 0;
        }
    return -1;
}

int sf_keyopts_parse(const char *opts, size_t len, struct sf_keyopts *out, const char **why)
{
    memset(out, 0, sizeof *out);
    size_t pos = 0;
    struct envfile_opt opt;
    int rc;
    while ((rc = envfile_opts_next(opts, len, &pos, &opt)) == 1) {
        char **slot = envfile_opt_is(&opt, "command") ? &out->command
                      : envfile_opt_is(&opt, "from")  ? &out->from
                                                      : NULL;
        if (slot) {
            if (!opt.value || *slot) {
                *why = opt.value ? "option given twice" : "option needs a quoted value";
                goto bad;
            }
            *slot = opt_value(&opt);
            if (!*slot) {
                *why = "option value unusable";
                goto bad;
            }
        } else if (opt.value || set_flag(&opt, out) < 0) {
            *why = "option not supported by envinit-sshd (refused: fail closed)";
            goto bad;
        }
    }
    if (rc < 0) {
        *why = "option syntax error";
        goto bad;
    }
    if (out->restrict_all)
        out->no_pty = out->no_port_forwarding = out->no_agent_forwarding =
            out->no_x11_forwarding = 1;
    return 0;
bad:
    sf_keyopts_free(out);
    return -1;
}

const char *sf_sk_flags_refusal(const struct sf_keyopts *opts, int flags)
{
    if (flags < 0)
        return "no verified signature flags";
    if (!opts->no_touch_required && !(flags & SF_SK_USER_PRESENCE))
        return "user presence (authenticator touch) requirement not met";
    if (opts->verify_required && !(flags & SF_SK_USER_VERIFICATION))
        return "user verification requirement not met";
    return NULL;
}

int sf_glob(const char *p, size_t plen, const char *s, int nocase)
{
    /* Iterative matcher with one backtrack point: linear enough for the
     * short patterns of authorized_keys, and no recursion on hostile input. */
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    size_t slen = strlen(s);
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            star_p = pi++;
            star_s = si;
            continue;
        }
        if (pi < plen) {
            unsigned char a = (unsigned char)p[pi], b = (unsigned char)s[si];
            if (nocase) {
                a = (unsigned char)tolower(a);
                b = (unsigned char)tolower(b);
            }
            if (a == '?' || a == b) {
                pi++;
                si++;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return 0;
        pi = star_p + 1;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

/* addr/len against ADDR; -1 when the pattern is not a valid CIDR. */
static int cidr_match(const char *pat, size_t plen, const char *addr)
{
    char net[64];
    const char *slash = memchr(pat, '/', plen);
    size_t nlen = (size_t)(slash - pat);
    if (nlen == 0 || nlen >= sizeof net)
        return -1;
    memcpy(net, pat, nlen);
    net[nlen] = '\0';
    char *end;
    const char *bits_s = slash + 1;
    if (bits_s >= pat + plen || !isdigit((unsigned char)*bits_s))
        return -1;
    unsigned long bits = strtoul(bits_s, &end, 10);
    if (end != pat + plen)
        return -1;
    unsigned char a[16], b[16];
    int family = strchr(net, ':') ? AF_INET6 : AF_INET;
    size_t n = family == AF_INET6 ? 16 : 4;
    if (bits > n * 8 || inet_pton(family, net, a) != 1)
        return -1;
    if (inet_pton(family, addr, b) != 1)
        return 0; /* other family */
    for (size_t i = 0; i < n && bits > 0; i++, bits = bits >= 8 ? bits - 8 : 0) {
        unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
        if ((a[i] & mask) != (b[i] & mask))
            return 0;
    }
    return 1;
}

int sf_from_allows(const char *patterns, const char *addr)
{
    /* An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d. */
    if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
        addr += 7;
    int allowed = 0;
    const char *p = patterns;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int neg = len > 0 && p[0] == '!';
        const char *pat = p + neg;
        size_t plen = len - (size_t)neg;
        int m;
        if (plen > 0 && memchr(pat, '/', plen)) {
            m = cidr_match(pat, plen, addr);
            if (m < 0)
                return 0; /* a broken pattern refuses, like sshd */
        } else {
            m = plen > 0 && sf_glob(pat, plen, addr, 1);
        }
        if (m && neg)
            return 0;
        if (m)
            allowed = 1;
        if (!end)
            break;
        p = end + 1;
    }
    return allowed;
}

static int body_is(const char *b64, size_t len, const unsigned char *blob, size_t blob_len)
{
    unsigned char buf[16384];
    if (len < blob_len * 4 / 3 || len > blob_len * 4 / 3 + 4)
        return 0; /* cheap length check before decoding every word */
    long n = envfile_base64_decode(b64, len, buf, sizeof buf);
    return n >= 0 && (size_t)n == blob_len && memcmp(buf, blob, blob_len) == 0;
}

/* A line envfile could not parse as a key (an option it does not know
 * makes the whole line look like an unknown key type): does one of its
 * blank-separated words carry the key? Then the line was meant for it. */
static int line_mentions_key(const char *line, size_t len, const unsigned char *blob,
                             size_t blob_len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        size_t w = i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        if (i > w && body_is(line + w, i - w, blob, blob_len))
            return 1;
    }
    return 0;
}

/* The verdict on the line holding the key: its options, or a refusal
 * (logged with the line number, never the key). */
static enum sf_match judge_line(const struct envfile_key *k, const char *addr, const char *file,
                                size_t lineno, struct sf_keyopts *opts)
{
    const char *why = NULL;
    struct sf_keyopts o;
    if (sf_keyopts_parse(k->options, k->options_len, &o, &why) < 0) {
        log_warn("%s:%zu: key refused: %s", file, lineno, why);
        return SF_MATCH_REFUSED;
    }
    if (o.from && !sf_from_allows(o.from, addr)) {
        log_warn("%s:%zu: key refused: from=\"%s\" does not allow %s", file, lineno,
                 o.from, addr);
        sf_keyopts_free(&o);
        return SF_MATCH_REFUSED;
    }
    *opts = o;
    return SF_MATCH_OK;
}

enum sf_match sf_authkeys_find(const char *text, size_t len, const unsigned char *blob,
                               size_t blob_len, const char *addr, const char *file,
                               struct sf_keyopts *opts)
{
    size_t pos = 0, lineno = 0, line_len;
    const char *line;
    memset(opts, 0, sizeof *opts);
    while (envfile_next_line(text, len, &pos, &line, &line_len)) {
        lineno++;
        struct envfile_key k;
        int st = envfile_key_parse(line, line_len, &k);
        if (st == ENVFILE_KEY_SKIP)
            continue;
        /* The first line holding the key decides, whatever follows: a
         * restriction we cannot honour (an unknown option) or a from= that
         * refuses this peer must not be bypassed by a later, looser line
         * for the same key. Fail closed. */
        if (st == ENVFILE_KEY_OK || (st == ENVFILE_KEY_BAD_OPTIONS && k.body_len > 0)) {
            if (body_is(k.body, k.body_len, blob, blob_len))
                return judge_line(&k, addr, file, lineno, opts);
            continue;
        }
        if ((st == ENVFILE_KEY_BAD_OPTIONS || st == ENVFILE_KEY_UNKNOWN_TYPE) &&
            line_mentions_key(line, line_len, blob, blob_len)) {
            log_warn("%s:%zu: key refused: option not supported by envinit-sshd or "
                     "malformed (refused: fail closed)", file, lineno);
            return SF_MATCH_REFUSED;
        }
        /* Not a key line, or one for another key; options envfile could
         * not even tokenize leave the owner a warning: the line does nothing. */
        log_msg(st == ENVFILE_KEY_BAD_OPTIONS ? LOG_WARN : LOG_DEBUG, "%s:%zu: %s: %s", file,
                lineno, st == ENVFILE_KEY_BAD_OPTIONS ? "line ignored" : "not a key",
                envfile_key_strerror(st));
    }
    return SF_MATCH_NONE;
}
