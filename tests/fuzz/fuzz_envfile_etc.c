/* libFuzzer target: the /etc/environment conflict check envfile_install
 * runs (etc_environment = warn or remove) on the image's file, against the
 * variables of the environment block. The input is the block's variables
 * (~/.ssh/environment syntax), a NUL, then the /etc/environment text.
 * Checks, beyond memory safety:
 * - the names reported are as many as the count, each a valid name the
 *   block sets;
 * - lines are judged one by one: the count is the sum over the lines, as
 *   envfile_install relies on when it drops the conflicting lines, and
 *   the text without them has no conflict left;
 * - the block's own values written the pam_env way (NAME="value", with or
 *   without "export ") never conflict; another value always does. */
#include "envfile.h"

#include <stdlib.h>
#include <string.h>

static void quiet(enum log_level level, const char *msg)
{
    (void)level;
    (void)msg;
}

static void check_names(const struct envfile_buf *names, size_t count, const struct envfile_vars *vs)
{
    if (count == 0) {
        if (names->len != 0)
            abort();
        return;
    }
    size_t seen = 0;
    for (size_t pos = 0; pos <= names->len; seen++) {
        const char *comma = memchr(names->data + pos, ',', names->len - pos);
        size_t n = comma ? (size_t)(comma - (names->data + pos)) : names->len - pos;
        char name[4096];
        if (!envfile_name_valid(names->data + pos, n) || n >= sizeof name)
            abort();
        memcpy(name, names->data + pos, n);
        name[n] = '\0';
        if (!envfile_vars_find(vs, name))
            abort();
        pos += n + 1;
    }
    if (seen != count)
        abort();
}

/* Line by line, as envfile_install's without_conflicts: the count adds up,
 * and the kept lines have no conflict. */
static void check_lines(const char *text, size_t len, const struct envfile_vars *vs, size_t count)
{
    struct envfile_buf kept = {0};
    size_t pos = 0, n, sum = 0;
    const char *line;
    while (envfile_next_line(text, len, &pos, &line, &n)) {
        size_t c = envfile_etc_conflicts(line, n, vs, NULL);
        sum += c;
        if (c > 1 || (!c && envfile_buf_add(&kept, line, (size_t)(text + pos - line)) < 0))
            abort();
    }
    if (sum != count || envfile_etc_conflicts(kept.data, kept.len, vs, NULL) != 0)
        abort();
    envfile_buf_free(&kept);
}

/* Each variable of VS written back the pam_env way agrees with VS. */
static void check_own_values(const struct envfile_vars *vs)
{
    struct envfile_buf line = {0};
    for (size_t i = 0; i < vs->n; i++) {
        const struct envfile_var *v = &vs->v[i];
        const char *value = envfile_var_value(v);
        for (int form = 0; form < 3; form++) {
            line.len = 0;
            if ((form == 1 && envfile_buf_str(&line, "export ") < 0) ||
                (form == 2 && envfile_buf_str(&line, " \t") < 0) ||
                envfile_buf_add(&line, v->entry, v->name_len) < 0 || envfile_buf_str(&line, "=\"") < 0 ||
                envfile_buf_str(&line, value) < 0 || envfile_buf_str(&line, "\"") < 0 ||
                (form == 2 && envfile_buf_str(&line, "\r") < 0))
                abort();
            size_t same = envfile_etc_conflicts(line.data, line.len, vs, NULL);
            line.len -= form == 2 ? 2 : 1;
            if (envfile_buf_str(&line, "-\"") < 0)
                abort();
            size_t other = envfile_etc_conflicts(line.data, line.len, vs, NULL);
            if (same != 0 || other != 1)
                abort();
        }
    }
    envfile_buf_free(&line);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    log_hook = quiet;
    const char *in = (const char *)data;
    const char *nul = memchr(in, '\0', size);
    size_t vl = nul ? (size_t)(nul - in) : size;
    const char *text = nul ? nul + 1 : in + size;
    size_t tl = size - (size_t)(text - in);
    struct envfile_vars vs = {0};
    envfile_env_parse(in, vl, &vs, NULL);
    envfile_vars_filter(&vs);
    struct envfile_buf names = {0};
    size_t count = envfile_etc_conflicts(text, tl, &vs, &names);
    if (count != envfile_etc_conflicts(text, tl, &vs, NULL))
        abort();
    check_names(&names, count, &vs);
    check_lines(text, tl, &vs, count);
    check_own_values(&vs);
    envfile_vars_free(&vs);
    envfile_buf_free(&names);
    return 0;
}
