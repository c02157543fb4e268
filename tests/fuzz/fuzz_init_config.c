/* libFuzzer target: envinit's INI file (-c, ENVINIT_CONFIG, the image's
 * /etc/envinit/envinit.ini), read by config_load_file, whose bytes the
 * image's author or a mounted ConfigMap chose. The input becomes the file.
 * Checks, beyond memory safety:
 * - a refusal is one line that names the file;
 * - an accepted file's settings, printed as envinit prints them
 *   (config_print), load again into a fresh configuration and print the
 *   same: what the reader accepts, the printer writes back readably;
 * - the reader does not depend on how the file ends: the same text with
 *   CR LF line ends loads to the same settings. */
#include "envinit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void remove_file(void) { unlink(path); }

static void write_file(const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0)
        abort();
}

/* Loads DATA as the file into C (from the defaults); 0 or -1. */
static int load(struct config *c, const char *data, size_t len, char *err, size_t errlen)
{
    write_file(data, len);
    config_defaults(c);
    return config_load_file(c, path, 0, err, errlen);
}

/* C's settings as config_print writes them, without its comment lines
 * (the file's name and the key count). Malloc'd. */
static char *printed(const struct config *c, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        abort();
    config_print(c, f);
    if (fclose(f) != 0)
        abort();
    char *out = malloc(*len + 1), *o = out;
    for (char *line = text; out && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (line[0] != '#') {
            memcpy(o, line, n);
            o += n;
        }
        line += n;
    }
    if (!out)
        abort();
    *o = '\0';
    *len = (size_t)(o - out);
    free(text);
    return out;
}

static void check_refusal(const char *err)
{
    if (strncmp(err, path, strlen(path)) != 0 || strchr(err, '\n'))
        abort();
}

static void check_reprint(const struct config *c)
{
    size_t len, again_len;
    char *text = printed(c, &len);
    struct config back;
    char err[1024];
    if (load(&back, text, len, err, sizeof err) != 0) {
        fprintf(stderr, "printed settings refused: %s\n%s", err, text);
        abort();
    }
    char *again = printed(&back, &again_len);
    if (again_len != len || memcmp(text, again, len) != 0) {
        fprintf(stderr, "printed:\n%s\nreloaded:\n%s", text, again);
        abort();
    }
    config_free(&back);
    free(again);
    free(text);
}

/* DATA with every LF made CR LF loads to the same settings. */
static void check_crlf(const char *data, size_t size, const struct config *c)
{
    char *crlf = malloc(size * 2 + 1), *o = crlf;
    if (!crlf)
        abort();
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n')
            *o++ = '\r';
        *o++ = data[i];
    }
    struct config other;
    char err[1024];
    size_t a_len, b_len;
    if (load(&other, crlf, (size_t)(o - crlf), err, sizeof err) != 0)
        abort();
    char *a = printed(c, &a_len), *b = printed(&other, &b_len);
    if (a_len != b_len || memcmp(a, b, a_len) != 0 || other.n_authorized_keys != c->n_authorized_keys)
        abort();
    free(a);
    free(b);
    config_free(&other);
    free(crlf);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/envinit-fuzz-config.%d.ini", (int)getpid());
        log_set_level(LOG_NONE);
        atexit(remove_file);
    }
    struct config c;
    char err[1024];
    if (load(&c, (const char *)data, size, err, sizeof err) != 0) {
        check_refusal(err);
        config_free(&c);
        return 0;
    }
    check_reprint(&c);
    if (!memchr(data, '\r', size))
        check_crlf((const char *)data, size, &c);
    config_free(&c);
    return 0;
}
