/* Merging a managed block into a file the user also edits: every byte that
 * is not the block's survives, whatever state the user left the file in. */
#include "envfile.h"

#include <stdlib.h>
#include <string.h>

enum line_kind { LINE_OTHER, LINE_START, LINE_END };
enum merge_mode { MODE_ENV, MODE_KEYS };

struct markers {
    const char *start, *end, *head1, *head2;
};

static const struct markers env_markers = {ENVFILE_ENV_START, ENVFILE_ENV_END, ENVFILE_ENV_HEAD1,
                                           ENVFILE_ENV_HEAD2};
static const struct markers key_markers = {ENVFILE_KEYS_START, ENVFILE_KEYS_END, ENVFILE_KEYS_HEAD,
                                           NULL};

/* A line's length without trailing blanks and "\r" (CRLF files, editors). */
static size_t trimmed(const char *line, size_t n)
{
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    return n;
}

static int line_is(const char *line, size_t n, const char *text)
{
    size_t t = trimmed(line, n);
    return text && t == strlen(text) && memcmp(line, text, t) == 0;
}

static enum line_kind kind_of(const struct markers *m, const char *line, size_t n)
{
    if (line_is(line, n, m->start))
        return LINE_START;
    if (line_is(line, n, m->end))
        return LINE_END;
    return LINE_OTHER;
}

/* The sort key of a block line: the variable name (env) or the line. */
struct key {
    const char *p;
    size_t n;
};

static int cmp_key(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->n < y->n ? -1 : x->n > y->n);
}

static struct key line_key(enum merge_mode mode, const char *line, size_t n)
{
    struct key k = {line, trimmed(line, n)};
    if (mode == MODE_ENV) {
        const char *eq = memchr(line, '=', n);
        k.n = eq ? (size_t)(eq - line) : 0;
    }
    return k;
}

/* Sorted keys of the new block's content lines, to recognize the old
 * block's lines after an unterminated start marker. */
struct index {
    struct key *k;
    size_t n;
};

static int index_build(struct index *ix, enum merge_mode mode, const struct markers *m,
                       const char *block, size_t len)
{
    size_t pos = 0, n, cap = 0;
    const char *line;
    ix->k = NULL;
    ix->n = 0;
    while (envfile_next_line(block, len, &pos, &line, &n)) {
        if (kind_of(m, line, n) != LINE_OTHER)
            continue;
        struct key k = line_key(mode, line, n);
        if (k.n == 0)
            continue;
        if (ix->n == cap) {
            cap = cap ? cap * 2 : 64;
            struct key *nk = realloc(ix->k, cap * sizeof *nk);
            if (!nk)
                return -1;
            ix->k = nk;
        }
        ix->k[ix->n++] = k;
    }
    if (ix->n > 1)
        qsort(ix->k, ix->n, sizeof *ix->k, cmp_key);
    return 0;
}

static int index_has(const struct index *ix, struct key k)
{
    return k.n && ix->n && bsearch(&k, ix->k, ix->n, sizeof *ix->k, cmp_key) != NULL;
}

/* Kind of the next marker line at or after POS, and its offset in *AT. */
static enum line_kind next_marker(const struct markers *m, const char *buf, size_t len, size_t pos,
                                  size_t *at)
{
    const char *line;
    size_t n, p = pos;
    while (envfile_next_line(buf, len, &p, &line, &n)) {
        enum line_kind k = kind_of(m, line, n);
        if (k != LINE_OTHER) {
            *at = (size_t)(line - buf);
            return k;
        }
    }
    *at = len;
    return LINE_OTHER;
}

struct merge {
    enum merge_mode mode;
    const struct markers *m;
    struct index ix;
    struct envfile_buf *out;
    unsigned flags;
};

/* NAME=value with a valid name: the only shape of the env block's lines. */
static int is_assignment(const char *line, size_t n)
{
    const char *eq = memchr(line, '=', n);
    return eq && envfile_name_valid(line, (size_t)(eq - line));
}

/* Emits the lines of an unterminated block's region [FROM, TO) that are
 * not the old block's. */
static int keep_unterminated(struct merge *mg, const char *buf, size_t from, size_t to)
{
    size_t pos = from, n;
    const char *line;
    int in_head = 1, in_run = 1;
    while (envfile_next_line(buf, to, &pos, &line, &n)) {
        if (in_head && (line_is(line, n, mg->m->head1) || line_is(line, n, mg->m->head2)))
            continue;
        in_head = 0;
        int owned;
        if (mg->mode == MODE_ENV) {
            in_run = in_run && is_assignment(line, n);
            owned = in_run && index_has(&mg->ix, line_key(MODE_ENV, line, n));
        } else {
            owned = index_has(&mg->ix, line_key(MODE_KEYS, line, n));
        }
        if (owned)
            continue;
        mg->flags |= ENVFILE_MERGE_KEPT_LINES;
        if (envfile_buf_add(mg->out, line, (size_t)(buf + pos - line)) < 0)
            return -1;
    }
    return 0;
}

/* The separator before an appended block: none when the file ends with
 * "\n", else the file's own line end. */
static const char *separator(const char *old, size_t len)
{
    if (len == 0 || old[len - 1] == '\n')
        return "";
    if (old[len - 1] == '\r')
        return "\n";
    const char *nl = memchr(old, '\n', len);
    return nl && nl > old && nl[-1] == '\r' ? "\r\n" : "\n";
}

static int merge(enum merge_mode mode, const char *old, size_t old_len, const char *block,
                 size_t block_len, struct envfile_buf *out, unsigned *flags)
{
    struct merge mg = {mode, mode == MODE_ENV ? &env_markers : &key_markers, {NULL, 0}, out, 0};
    int placed = 0, rc = -1;
    size_t pos = 0, n;
    const char *line;
    if (!block)
        block_len = 0;
    if (!old)
        old_len = 0;
    if (index_build(&mg.ix, mode, mg.m, block, block_len) < 0)
        goto done;
    while (envfile_next_line(old, old_len, &pos, &line, &n)) {
        enum line_kind k = kind_of(mg.m, line, n);
        if (k == LINE_OTHER) {
            if (envfile_buf_add(out, line, (size_t)(old + pos - line)) < 0)
                goto done;
            continue;
        }
        if (k == LINE_END) {
            mg.flags |= ENVFILE_MERGE_STRAY_END;
            continue;
        }
        if (placed)
            mg.flags |= ENVFILE_MERGE_TWO_BLOCKS;
        else if (envfile_buf_add(out, block, block_len) < 0)
            goto done;
        placed = 1;
        size_t at;
        if (next_marker(mg.m, old, old_len, pos, &at) == LINE_END) {
            size_t after = at;
            envfile_next_line(old, old_len, &after, &line, &n);
            pos = after;
            continue;
        }
        mg.flags |= ENVFILE_MERGE_UNTERMINATED;
        if (keep_unterminated(&mg, old, pos, at) < 0)
            goto done;
        pos = at;
    }
    if (!placed && block_len) {
        mg.flags |= ENVFILE_MERGE_APPENDED;
        if (envfile_buf_str(out, separator(old, old_len)) < 0 ||
            envfile_buf_add(out, block, block_len) < 0)
            goto done;
    }
    if (envfile_buf_add(out, "", 0) < 0) /* data non-NULL even when empty */
        goto done;
    rc = 0;
done:
    free(mg.ix.k);
    if (flags)
        *flags = mg.flags;
    return rc;
}

int envfile_merge_env(const char *old, size_t old_len, const char *block, size_t block_len,
                      struct envfile_buf *out, unsigned *flags)
{
    return merge(MODE_ENV, old, old_len, block, block_len, out, flags);
}

int envfile_merge_keys(const char *old, size_t old_len, const char *block, size_t block_len,
                       struct envfile_buf *out, unsigned *flags)
{
    return merge(MODE_KEYS, old, old_len, block, block_len, out, flags);
}
