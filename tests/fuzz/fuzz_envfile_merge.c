/* libFuzzer target: the block merge of ~/.ssh/environment and
 * ~/.ssh/authorized_keys on arbitrary file contents. Checks, beyond memory
 * safety: merging succeeds, exactly one block results, merging again gives
 * the same bytes, a file without markers is kept as a prefix, and removing
 * the block leaves no marker. */
#include "envfile.h"

#include <stdlib.h>
#include <string.h>

static void quiet(enum log_level level, const char *msg)
{
    (void)level;
    (void)msg;
}

static size_t marker_lines(const char *p, size_t n, const char *marker)
{
    size_t pos = 0, len, count = 0, ml = strlen(marker);
    const char *line;
    while (envfile_next_line(p, n, &pos, &line, &len)) {
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        count += len == ml && memcmp(line, marker, ml) == 0;
    }
    return count;
}

typedef int (*merge_fn)(const char *, size_t, const char *, size_t, struct envfile_buf *, unsigned *);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    log_hook = quiet;
    if (size < 1)
        return 0;
    int keys = data[0] & 1, remove = (data[0] & 2) != 0;
    const char *old = (const char *)data + 1;
    size_t old_len = size - 1;
    merge_fn merge = keys ? envfile_merge_keys : envfile_merge_env;
    const char *start = keys ? ENVFILE_KEYS_START : ENVFILE_ENV_START;
    const char *end = keys ? ENVFILE_KEYS_END : ENVFILE_ENV_END;

    /* a realistic block: the variables found in the input itself */
    struct envfile_vars vs = {0};
    struct envfile_buf block = {0}, out = {0}, again = {0};
    envfile_env_parse(old, old_len, &vs, NULL);
    envfile_vars_filter(&vs);
    envfile_vars_sort(&vs);
    if (keys) {
        const char *k[] = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFQ3ngU5lko5JNkBOu9DcfEXTSXbb9OJayXlAX90OjcE k", NULL};
        if (envfile_keys_render(k, &block) != 1)
            abort();
    } else if (envfile_env_render(&vs, &block) < 0) {
        abort();
    }
    const char *b = remove ? NULL : block.data;
    size_t bl = remove ? 0 : block.len;
    unsigned flags;
    if (merge(old, old_len, b, bl, &out, &flags) < 0)
        abort();
    if (marker_lines(out.data, out.len, start) != (remove ? 0u : 1u) ||
        marker_lines(out.data, out.len, end) != (remove ? 0u : 1u))
        abort();
    if (!marker_lines(old, old_len, start) && !marker_lines(old, old_len, end) &&
        (out.len < old_len || memcmp(out.data, old, old_len) != 0))
        abort();
    if (merge(out.data, out.len, b, bl, &again, &flags) < 0 || again.len != out.len ||
        memcmp(again.data, out.data, out.len) != 0 || flags != 0)
        abort();
    envfile_vars_free(&vs);
    envfile_buf_free(&block);
    envfile_buf_free(&out);
    envfile_buf_free(&again);
    return 0;
}
