/* authorized_keys lines: parsed and validated the way sshd reads them, so a
 * line envinit writes is one sshd accepts, and a bad one is refused with its
 * position rather than breaking the file. */
#include "envfile.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ---------------- base64 ---------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long envfile_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    size_t n = len;
    if (n && in[n - 1] == '=')
        n--;
    if (n && in[n - 1] == '=')
        n--;
    if ((n != len && len % 4) || n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* leftover bits must be zero: one encoding per byte string */
    if (acc != 0)
        return -1;
    return (long)o;
}

/* ---------------- options ---------------- */

int envfile_opts_next(const char *opts, size_t len, size_t *pos, struct envfile_opt *opt)
{
    size_t p = *pos;
    if (p >= len)
        return 0;
    size_t start = p;
    while (p < len && opts[p] != '=' && opts[p] != ',' && opts[p] != '"')
        p++;
    if (p == start || (p < len && opts[p] == '"'))
        return -1;
    opt->name = opts + start;
    opt->name_len = p - start;
    opt->value = NULL;
    opt->value_len = 0;
    if (p < len && opts[p] == '=') {
        if (++p >= len || opts[p] != '"')
            return -1;
        size_t vstart = ++p;
        while (p < len && opts[p] != '"')
            p += (opts[p] == '\\' && p + 1 < len && opts[p + 1] == '"') ? 2 : 1;
        if (p >= len)
            return -1;
        opt->value = opts + vstart;
        opt->value_len = p - vstart;
        p++;
    }
    if (p < len) {
        if (opts[p] != ',' || p + 1 >= len)
            return -1;
        p++;
    }
    *pos = p;
    return 1;
}

long envfile_opt_unquote(const struct envfile_opt *opt, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; opt->value && i < opt->value_len; i++) {
        if (opt->value[i] == '\\' && i + 1 < opt->value_len && opt->value[i + 1] == '"')
            i++;
        if (o + 1 >= size)
            return -1;
        out[o++] = opt->value[i];
    }
    if (size == 0)
        return -1;
    out[o] = '\0';
    return (long)o;
}

int envfile_opt_is(const struct envfile_opt *opt, const char *name)
{
    return opt->name_len == strlen(name) && strncasecmp(opt->name, name, opt->name_len) == 0;
}

static const char *const flag_opts[] = {
    "agent-forwarding", "no-agent-forwarding", "cert-authority", "port-forwarding",
    "no-port-forwarding", "pty", "no-pty", "user-rc", "no-user-rc", "x11-forwarding",
    "no-x11-forwarding", "restrict", "no-touch-required", "verify-required", NULL};
static const char *const value_opts[] = {"command", "environment", "expiry-time", "from",
                                         "permitlisten", "permitopen", "principals", "tunnel",
                                         NULL};

static int opt_in(const struct envfile_opt *o, const char *const *list)
{
    for (; *list; list++)
        if (envfile_opt_is(o, *list))
            return 1;
    return 0;
}

int envfile_opts_validate(const char *opts, size_t len, const char **why)
{
    size_t pos = 0;
    struct envfile_opt o;
    int r;
    while ((r = envfile_opts_next(opts, len, &pos, &o)) == 1) {
        if (opt_in(&o, flag_opts)) {
            if (o.value) {
                *why = "a flag option has a value";
                return -1;
            }
        } else if (opt_in(&o, value_opts)) {
            if (!o.value) {
                *why = "an option needs a quoted value";
                return -1;
            }
        } else {
            *why = "unknown option";
            return -1;
        }
    }
    if (r < 0) {
        *why = "bad option syntax";
        return -1;
    }
    return 0;
}

/* ---------------- key bodies ---------------- */

enum kind { K_ED25519, K_ECDSA, K_RSA, K_SK_ED25519, K_SK_ECDSA };

struct ktype {
    const char *name;
    enum kind kind;
    int cert;
    const char *curve; /* ecdsa */
    size_t point;      /* uncompressed point size */
};

static const struct ktype ktypes[] = {
    {"ssh-ed25519", K_ED25519, 0, NULL, 0},
    {"ecdsa-sha2-nistp256", K_ECDSA, 0, "nistp256", 65},
    {"ecdsa-sha2-nistp384", K_ECDSA, 0, "nistp384", 97},
    {"ecdsa-sha2-nistp521", K_ECDSA, 0, "nistp521", 133},
    {"ssh-rsa", K_RSA, 0, NULL, 0},
    {"sk-ssh-ed25519@openssh.com", K_SK_ED25519, 0, NULL, 0},
    {"sk-ecdsa-sha2-nistp256@openssh.com", K_SK_ECDSA, 0, "nistp256", 65},
    {"ssh-ed25519-cert-v01@openssh.com", K_ED25519, 1, NULL, 0},
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com", K_ECDSA, 1, "nistp256", 65},
    {"ecdsa-sha2-nistp384-cert-v01@openssh.com", K_ECDSA, 1, "nistp384", 97},
    {"ecdsa-sha2-nistp521-cert-v01@openssh.com", K_ECDSA, 1, "nistp521", 133},
    {"ssh-rsa-cert-v01@openssh.com", K_RSA, 1, NULL, 0},
    {"sk-ssh-ed25519-cert-v01@openssh.com", K_SK_ED25519, 1, NULL, 0},
    {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", K_SK_ECDSA, 1, "nistp256", 65},
};

static const struct ktype *ktype_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof ktypes / sizeof ktypes[0]; i++)
        if (strlen(ktypes[i].name) == len && memcmp(ktypes[i].name, name, len) == 0)
            return &ktypes[i];
    return NULL;
}

int envfile_key_type_known(const char *type, size_t len)
{
    return ktype_find(type, len) != NULL;
}

/* SSH wire format reader (RFC 4251 types). */
struct rd {
    const unsigned char *p;
    size_t n;
};

static int rd_skip(struct rd *r, size_t n)
{
    if (r->n < n)
        return -1;
    r->p += n;
    r->n -= n;
    return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
    if (r->n < 4)
        return -1;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    return rd_skip(r, 4);
}

static int rd_str(struct rd *r, const unsigned char **s, size_t *len)
{
    uint32_t l;
    if (rd_u32(r, &l) < 0 || l > r->n)
        return -1;
    *s = r->p;
    *len = l;
    return rd_skip(r, l);
}

static int rd_str_is(struct rd *r, const char *want)
{
    const unsigned char *s;
    size_t l;
    return rd_str(r, &s, &l) == 0 && l == strlen(want) && memcmp(s, want, l) == 0 ? 0 : -1;
}

static int rd_str_len(struct rd *r, size_t want)
{
    const unsigned char *s;
    size_t l;
    return rd_str(r, &s, &l) == 0 && l == want ? 0 : -1;
}

/* A positive mpint, returned with its size in bits. */
static int rd_mpint(struct rd *r, size_t *bits)
{
    const unsigned char *s;
    size_t l;
    if (rd_str(r, &s, &l) < 0 || l == 0 || (s[0] & 0x80) || (l > 1 && s[0] == 0 && !(s[1] & 0x80)))
        return -1;
    while (l && s[0] == 0) {
        s++;
        l--;
    }
    if (l == 0)
        return -1;
    size_t b = 0;
    for (unsigned c = s[0]; c; c >>= 1)
        b++;
    *bits = (l - 1) * 8 + b;
    return 0;
}

static int rd_public(struct rd *r, const struct ktype *t)
{
    size_t ebits, nbits;
    const unsigned char *pt;
    size_t pl;
    switch (t->kind) {
    case K_ED25519:
    case K_SK_ED25519:
        if (rd_str_len(r, 32) < 0)
            return -1;
        break;
    case K_ECDSA:
    case K_SK_ECDSA:
        if (rd_str_is(r, t->curve) < 0 || rd_str(r, &pt, &pl) < 0 || pl != t->point || pt[0] != 4)
            return -1;
        break;
    case K_RSA:
        /* sshd refuses RSA moduli under 1024 bits and over 16384 */
        if (rd_mpint(r, &ebits) < 0 || rd_mpint(r, &nbits) < 0 || nbits < 1024 || nbits > 16384)
            return -1;
        break;
    }
    if (t->kind == K_SK_ED25519 || t->kind == K_SK_ECDSA) {
        const unsigned char *app;
        size_t al;
        if (rd_str(r, &app, &al) < 0)
            return -1;
    }
    return 0;
}

/* PROTOCOL.certkeys: the fields after the public key. */
static int rd_cert_tail(struct rd *r)
{
    const unsigned char *s;
    size_t l;
    uint32_t type;
    if (rd_skip(r, 8) < 0 || rd_u32(r, &type) < 0 || (type != 1 && type != 2))
        return -1;
    for (int i = 0; i < 2; i++) /* key id, valid principals */
        if (rd_str(r, &s, &l) < 0)
            return -1;
    if (rd_skip(r, 16) < 0) /* valid after, valid before */
        return -1;
    for (int i = 0; i < 5; i++) /* options, extensions, reserved, signature key, signature */
        if (rd_str(r, &s, &l) < 0 || (i == 3 && l == 0) || (i == 4 && l == 0))
            return -1;
    return 0;
}

static int check_body(const struct ktype *t, const unsigned char *blob, size_t len)
{
    struct rd r = {blob, len};
    const unsigned char *s;
    size_t l;
    if (rd_str(&r, &s, &l) < 0 || l != strlen(t->name) || memcmp(s, t->name, l) != 0)
        return ENVFILE_KEY_TYPE_MISMATCH;
    if (t->cert && rd_str(&r, &s, &l) < 0) /* nonce */
        return ENVFILE_KEY_BAD_BODY;
    if (rd_public(&r, t) < 0 || (t->cert && rd_cert_tail(&r) < 0) || r.n != 0)
        return ENVFILE_KEY_BAD_BODY;
    return ENVFILE_KEY_OK;
}

/* ---------------- lines ---------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static size_t word_len(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && !is_blank(p[i]))
        i++;
    return i;
}

static size_t blanks(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_blank(p[i]))
        i++;
    return i;
}

/* Length of the options prefix: up to the first blank outside quotes.
 * -1 when a quote is left open. */
static long options_len(const char *p, size_t n)
{
    int quoted = 0;
    size_t i = 0;
    for (; i < n && (quoted || !is_blank(p[i])); i++) {
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == '"')
            i++;
        else if (p[i] == '"')
            quoted = !quoted;
    }
    return quoted ? -1 : (long)i;
}

static int has_control(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 1;
    }
    return 0;
}

/* Parses the options prefix at the start of P; on return P/N are past it
 * and the blanks that follow. */
static int parse_options(const char **p, size_t *n, struct envfile_key *out)
{
    long ol = options_len(*p, *n);
    const char *why;
    size_t first = word_len(*p, *n);
    int looks_like_type = !memchr(*p, '=', first) && !memchr(*p, '"', first);
    if (ol < 0)
        return ENVFILE_KEY_BAD_OPTIONS;
    if (envfile_opts_validate(*p, (size_t)ol, &why) < 0)
        return looks_like_type ? ENVFILE_KEY_UNKNOWN_TYPE : ENVFILE_KEY_BAD_OPTIONS;
    out->options = *p;
    out->options_len = (size_t)ol;
    *p += ol;
    *n -= (size_t)ol;
    size_t b = blanks(*p, *n);
    *p += b;
    *n -= b;
    return ENVFILE_KEY_OK;
}

int envfile_key_parse(const char *line, size_t len, struct envfile_key *out)
{
    memset(out, 0, sizeof *out);
    if (len > ENVFILE_KEY_MAX_LINE)
        return ENVFILE_KEY_TOO_LONG;
    while (len && (line[len - 1] == '\r' || is_blank(line[len - 1])))
        len--;
    size_t b = blanks(line, len);
    const char *p = line + b;
    size_t n = len - b;
    if (n == 0 || *p == '#')
        return ENVFILE_KEY_SKIP;
    if (has_control(p, n))
        return ENVFILE_KEY_BAD_CHAR;
    if (!ktype_find(p, word_len(p, n))) {
        int st = parse_options(&p, &n, out);
        if (st != ENVFILE_KEY_OK)
            return st;
    }
    size_t tl = word_len(p, n);
    const struct ktype *t = ktype_find(p, tl);
    out->type = p;
    out->type_len = tl;
    if (!t)
        return ENVFILE_KEY_UNKNOWN_TYPE;
    p += tl;
    n -= tl;
    b = blanks(p, n);
    p += b;
    n -= b;
    size_t bl = word_len(p, n);
    if (bl == 0)
        return ENVFILE_KEY_NO_BODY;
    out->body = p;
    out->body_len = bl;
    p += bl;
    n -= bl;
    b = blanks(p, n);
    out->comment = n > b ? p + b : NULL;
    out->comment_len = n - b;
    unsigned char blob[ENVFILE_KEY_MAX_LINE / 4 * 3 + 3];
    long dl = envfile_base64_decode(out->body, bl, blob, sizeof blob);
    if (dl < 0)
        return ENVFILE_KEY_BAD_BASE64;
    return check_body(t, blob, (size_t)dl);
}

const char *envfile_key_strerror(int status)
{
    switch (status) {
    case ENVFILE_KEY_OK: return "valid";
    case ENVFILE_KEY_SKIP: return "blank or comment line";
    case ENVFILE_KEY_TOO_LONG: return "line too long";
    case ENVFILE_KEY_BAD_CHAR: return "control character in the line";
    case ENVFILE_KEY_BAD_OPTIONS: return "bad options prefix";
    case ENVFILE_KEY_UNKNOWN_TYPE: return "unknown key type";
    case ENVFILE_KEY_NO_BODY: return "no base64 key body after the type";
    case ENVFILE_KEY_BAD_BASE64: return "key body is not valid base64";
    case ENVFILE_KEY_TYPE_MISMATCH: return "key body's type differs from the type field";
    case ENVFILE_KEY_BAD_BODY: return "key body is malformed for its type";
    default: return "invalid key line";
    }
}

/* ---------------- the keys block ---------------- */

/* A short, printable excerpt of a refused line: never the whole line. */
static void excerpt(const char *p, size_t n, char out[32])
{
    size_t show = n / 2, o = 0;
    if (show > 20)
        show = 20;
    for (size_t i = 0; i < show; i++)
        out[o++] = ((unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f) ? p[i] : '?';
    out[o] = '\0';
}

struct keys_ctx {
    struct envfile_buf *out;
    long valid, seen;
    size_t body_start;
};

static int already_written(const struct keys_ctx *k, const char *p, size_t n)
{
    const char *d = k->out->data + k->body_start, *end = k->out->data + k->out->len;
    while (d < end) {
        const char *nl = memchr(d, '\n', (size_t)(end - d));
        if ((size_t)(nl - d) == n && memcmp(d, p, n) == 0)
            return 1;
        d = nl + 1;
    }
    return 0;
}

static int add_key_line(struct keys_ctx *k, const char *line, size_t n, size_t entry, size_t lineno)
{
    struct envfile_key key;
    int st = envfile_key_parse(line, n, &key);
    if (st == ENVFILE_KEY_SKIP)
        return 0;
    k->seen++;
    if (st != ENVFILE_KEY_OK) {
        char ex[32];
        excerpt(line, n, ex);
        log_warn("authorized key %ld (entry %zu, line %zu) refused: %s (starts '%s', %zu bytes)",
                 k->seen, entry, lineno, envfile_key_strerror(st), ex, n);
        return 0;
    }
    const char *p = key.options_len ? key.options : key.type;
    size_t len = (size_t)((key.comment_len ? key.comment + key.comment_len : key.body + key.body_len) - p);
    if (already_written(k, p, len))
        return 0;
    k->valid++;
    if (envfile_buf_add(k->out, p, len) < 0 || envfile_buf_add(k->out, "\n", 1) < 0)
        return -1;
    return 0;
}

long envfile_keys_render(const char *const *keys, struct envfile_buf *out)
{
    size_t start_len = out->len;
    struct keys_ctx k = {out, 0, 0, 0};
    if (envfile_buf_str(out, ENVFILE_KEYS_START "\n" ENVFILE_KEYS_HEAD "\n") < 0)
        return -1;
    k.body_start = out->len;
    for (size_t e = 0; keys && keys[e]; e++) {
        size_t pos = 0, n, lineno = 0;
        const char *line;
        while (envfile_next_line(keys[e], strlen(keys[e]), &pos, &line, &n))
            if (add_key_line(&k, line, n, e + 1, ++lineno) < 0)
                return -1;
    }
    if (k.valid == 0) {
        out->len = start_len;
        if (out->data)
            out->data[out->len] = '\0';
        return 0;
    }
    if (envfile_buf_str(out, ENVFILE_KEYS_END "\n") < 0)
        return -1;
    return k.valid;
}
