/* libFuzzer target: the authorized_keys line validator, the options
 * tokenizer and base64 decoder, and the keys block renderer. Checks that an
 * accepted line is consistent: known type, valid options, decodable body,
 * and that the rendered block holds only accepted lines. */
#include "envfile.h"

#include <stdlib.h>
#include <string.h>

static void quiet(enum log_level level, const char *msg)
{
    (void)level;
    (void)msg;
}

static void check_options(const char *p, size_t n)
{
    size_t pos = 0;
    struct envfile_opt o;
    char val[256];
    while (envfile_opts_next(p, n, &pos, &o) == 1) {
        if (pos > n || o.name_len == 0 || o.name < p || o.name + o.name_len > p + n)
            abort();
        if (o.value && envfile_opt_unquote(&o, val, sizeof val) > (long)o.value_len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    log_hook = quiet;
    const char *line = (const char *)data;
    struct envfile_key k;
    int st = envfile_key_parse(line, size, &k);
    check_options(line, size);
    if (st == ENVFILE_KEY_OK) {
        const char *why;
        unsigned char blob[ENVFILE_KEY_MAX_LINE];
        if (!envfile_key_type_known(k.type, k.type_len) || k.body_len == 0 ||
            envfile_base64_decode(k.body, k.body_len, blob, sizeof blob) < 0 ||
            (k.options_len && envfile_opts_validate(k.options, k.options_len, &why) < 0))
            abort();
    }
    /* the renderer on the same bytes as one entry */
    char *entry = malloc(size + 1);
    if (!entry)
        return 0;
    memcpy(entry, data, size);
    entry[size] = '\0';
    const char *keys[] = {entry, NULL};
    struct envfile_buf out = {0};
    long n = envfile_keys_render(keys, &out);
    if (n < 0 || (n == 0 && out.len != 0))
        abort();
    size_t pos = 0, len;
    const char *l;
    long seen = 0;
    while (n > 0 && envfile_next_line(out.data, out.len, &pos, &l, &len)) {
        int s = envfile_key_parse(l, len, &k);
        if (s == ENVFILE_KEY_OK)
            seen++;
        else if (s != ENVFILE_KEY_SKIP)
            abort();
    }
    if (seen != n)
        abort();
    envfile_buf_free(&out);
    free(entry);
    return 0;
}
