/* Variable lists, the ~/.ssh/environment format and its managed block. */
#include "envfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void envfile_vars_free(struct envfile_vars *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        free(vs->v[i].entry);
    free(vs->v);
    vs->v = NULL;
    vs->n = vs->cap = 0;
}

static long find_index(const struct envfile_vars *vs, const char *name, size_t len)
{
    for (size_t i = 0; i < vs->n; i++)
        if (vs->v[i].name_len == len && memcmp(vs->v[i].entry, name, len) == 0)
            return (long)i;
    return -1;
}

int envfile_vars_set(struct envfile_vars *vs, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    if (name_len + value_len + 2 < name_len) {
        errno = ENOMEM;
        return -1;
    }
    char *e = malloc(name_len + value_len + 2);
    if (!e)
        return -1;
    memcpy(e, name, name_len);
    e[name_len] = '=';
    memcpy(e + name_len + 1, value, value_len);
    e[name_len + 1 + value_len] = '\0';
    long i = find_index(vs, name, name_len);
    if (i >= 0) {
        free(vs->v[i].entry);
        vs->v[i].entry = e;
        return 0;
    }
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 32;
        struct envfile_var *v = realloc(vs->v, cap * sizeof *v);
        if (!v) {
            free(e);
            return -1;
        }
        vs->v = v;
        vs->cap = cap;
    }
    vs->v[vs->n].entry = e;
    vs->v[vs->n].name_len = name_len;
    vs->n++;
    return 0;
}

int envfile_vars_from_environ(struct envfile_vars *vs, char *const *envp, const char *skip_prefix)
{
    size_t skip = skip_prefix ? strlen(skip_prefix) : 0;
    for (; envp && *envp; envp++) {
        const char *eq = strchr(*envp, '=');
        if (!eq || (skip && strncmp(*envp, skip_prefix, skip) == 0))
            continue;
        if (envfile_vars_set(vs, *envp, (size_t)(eq - *envp), eq + 1, strlen(eq + 1)) < 0)
            return -1;
    }
    return 0;
}

const struct envfile_var *envfile_vars_find(const struct envfile_vars *vs, const char *name)
{
    long i = find_index(vs, name, strlen(name));
    return i < 0 ? NULL : &vs->v[i];
}

void envfile_vars_unset(struct envfile_vars *vs, const char *name)
{
    long i = find_index(vs, name, strlen(name));
    if (i < 0)
        return;
    free(vs->v[i].entry);
    memmove(&vs->v[i], &vs->v[i + 1], (vs->n - (size_t)i - 1) * sizeof vs->v[0]);
    vs->n--;
}

static int cmp_var(const void *a, const void *b)
{
    const struct envfile_var *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->entry, y->entry, n);
    if (c)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

void envfile_vars_sort(struct envfile_vars *vs)
{
    if (vs->n > 1)
        qsort(vs->v, vs->n, sizeof vs->v[0], cmp_var);
}

int envfile_name_valid(const char *name, size_t len)
{
    if (len == 0 || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int envfile_value_valid(const char *value, size_t len)
{
    return !memchr(value, '\n', len) && !memchr(value, '\r', len) && !memchr(value, '\0', len);
}

/* Copies at most 64 bytes of a name, printable ASCII only, for a warning. */
static void sanitize(const char *s, size_t len, char out[80])
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < 64; i++)
        out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (len > 64) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

size_t envfile_vars_filter(struct envfile_vars *vs)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < vs->n; i++) {
        const struct envfile_var *v = &vs->v[i];
        const char *val = envfile_var_value(v);
        char shown[80];
        sanitize(v->entry, v->name_len, shown);
        if (!envfile_name_valid(v->entry, v->name_len)) {
            log_warn("environment variable '%s' left out of ~/.ssh/environment: "
                     "the name is not [A-Za-z_][A-Za-z0-9_]*", shown);
        } else if (!envfile_value_valid(val, strlen(val))) {
            log_warn("environment variable %s left out of ~/.ssh/environment: "
                     "its value has a newline or carriage return", shown);
        } else {
            vs->v[kept++] = *v;
            continue;
        }
        free(v->entry);
        removed++;
    }
    vs->n = kept;
    return removed;
}

int envfile_env_parse(const char *buf, size_t len, struct envfile_vars *out, unsigned *bad_lines)
{
    size_t pos = 0, lineno = 0, n;
    const char *line;
    unsigned bad = 0;
    int rc = 0;
    while (envfile_next_line(buf, len, &pos, &line, &n)) {
        if (++lineno > ENVFILE_SSHD_MAX_LINES) {
            errno = E2BIG;
            rc = -1;
            break;
        }
        const char *nul = memchr(line, '\0', n);
        if (nul)
            n = (size_t)(nul - line);
        while (n && (*line == ' ' || *line == '\t')) {
            line++;
            n--;
        }
        if (n == 0 || *line == '#')
            continue;
        const char *eq = memchr(line, '=', n);
        if (!eq || eq == line) {
            bad++;
            continue;
        }
        size_t nl = (size_t)(eq - line);
        if (envfile_vars_set(out, line, nl, eq + 1, n - nl - 1) < 0) {
            rc = -1;
            break;
        }
    }
    if (bad_lines)
        *bad_lines = bad;
    return rc;
}

int envfile_env_render(const struct envfile_vars *vs, struct envfile_buf *out)
{
    if (envfile_buf_str(out, ENVFILE_ENV_START "\n" ENVFILE_ENV_HEAD1 "\n" ENVFILE_ENV_HEAD2 "\n") < 0)
        return -1;
    for (size_t i = 0; i < vs->n; i++)
        if (envfile_buf_str(out, vs->v[i].entry) < 0 || envfile_buf_add(out, "\n", 1) < 0)
            return -1;
    return envfile_buf_str(out, ENVFILE_ENV_END "\n");
}

/* One pam_env style assignment of /etc/environment: optional blanks and
 * "export ", NAME=value, value optionally in single or double quotes. */
static int etc_assignment(const char *line, size_t n, const char **name, size_t *nl,
                          const char **val, size_t *vl)
{
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    if (n >= 7 && memcmp(line, "export", 6) == 0 && (line[6] == ' ' || line[6] == '\t')) {
        line += 7;
        n -= 7;
        while (n && (*line == ' ' || *line == '\t')) {
            line++;
            n--;
        }
    }
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    const char *eq = n ? memchr(line, '=', n) : NULL;
    if (!eq || *line == '#' || !envfile_name_valid(line, (size_t)(eq - line)))
        return 0;
    *name = line;
    *nl = (size_t)(eq - line);
    *val = eq + 1;
    *vl = n - *nl - 1;
    if (*vl >= 2 && ((*val)[0] == '"' || (*val)[0] == '\'') && (*val)[*vl - 1] == (*val)[0]) {
        (*val)++;
        *vl -= 2;
    }
    return 1;
}

size_t envfile_etc_conflicts(const char *text, size_t len, const struct envfile_vars *vs,
                             struct envfile_buf *conflicts)
{
    size_t pos = 0, n, count = 0;
    const char *line;
    while (envfile_next_line(text, len, &pos, &line, &n)) {
        const char *name, *val;
        size_t nl, vl;
        if (!etc_assignment(line, n, &name, &nl, &val, &vl))
            continue;
        long i = find_index(vs, name, nl);
        if (i < 0)
            continue;
        const char *ours = envfile_var_value(&vs->v[i]);
        if (strlen(ours) == vl && memcmp(ours, val, vl) == 0)
            continue;
        if (conflicts && ((count && envfile_buf_add(conflicts, ",", 1) < 0) ||
                          envfile_buf_add(conflicts, name, nl) < 0))
            return count;
        count++;
    }
    return count;
}
