/* libFuzzer target: a supervised service's stderr (sshd's, whose lines
 * carry what clients send: user names, key comments) split into log lines
 * and given a level. The bytes arrive in pieces of fuzzer-chosen sizes, as
 * supervise.c's read() gets them, then the end of the stream.
 * Checks, beyond memory safety, against the stream cut at its newlines:
 * - every line comes out once, in order, nothing lost or made up: a line
 *   shorter than the buffer holds whole, a longer one as its first
 *   CAP - 1 bytes marked truncated, and none of its rest comes out (a
 *   line's bytes are compared up to a NUL in it: the log gets a C string);
 * - the buffer never holds a full line between reads (there is room to read);
 * - the level and text of every line: the text is the line or its end
 *   after "NAME: " (and "LEVEL: " when the level is the service's own).
 * Input: byte 0 the buffer size (small ones reach the limit), byte 1 the
 * service name, byte 2 seeds the piece sizes, then the stream. */
#include "envinit.h"

#include <stdlib.h>
#include <string.h>

#define REAL_CAP 1024           /* supervise.c's LINE_MAX_LEN */

struct expect {
    const char *name;
    const char *stream;         /* the input, for the expected lines */
    size_t len, pos;            /* next line of the stream starts at POS */
    size_t cap;
    size_t lines;
};

static void check_level(const char *name, const char *line)
{
    const char *text = NULL;
    enum log_level level = service_line_level(name, line, &text);
    size_t ll = strlen(line), nl = strlen(name);
    if (level < LOG_ERROR || level > LOG_DEBUG || !text || text < line || text > line + ll)
        abort();
    if (text == line)
        return;
    if (strncmp(line, name, nl) != 0 || line[nl] != ':' || line[nl + 1] != ' ')
        abort();
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    const char *after = line + nl + 2;
    if (text != after) {
        size_t lv = strlen(levels[level]);
        if (text != after + lv + 2 || strncmp(after, levels[level], lv) != 0 || after[lv] != ':')
            abort();
    }
}

/* The next line of the stream as it must come out. */
static void emit(const char *line, bool truncated, void *ctx)
{
    struct expect *e = ctx;
    if (e->pos >= e->len)
        abort();                /* a line the stream does not have */
    const char *start = e->stream + e->pos;
    const char *nl = memchr(start, '\n', e->len - e->pos);
    size_t whole = nl ? (size_t)(nl - start) : e->len - e->pos;
    bool cut = whole >= e->cap - 1;
    size_t shown = cut ? e->cap - 1 : whole;
    const char *nul = memchr(start, '\0', shown);
    if (nul)
        shown = (size_t)(nul - start);
    if (truncated != cut || strlen(line) != shown || memcmp(line, start, shown) != 0)
        abort();
    e->pos = nl ? (size_t)(nl - e->stream) + 1 : e->len;
    e->lines++;
    check_level(e->name, line);
}

/* The number of lines the stream has: a last one without newline counts
 * when it is not empty. */
static size_t stream_lines(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n + (len && s[len - 1] != '\n');
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const names[] = {"sshd", "envinit-sshd", "x", ""};
    if (size < 3)
        return 0;
    size_t cap = data[0] < 2 ? REAL_CAP : data[0];
    struct expect e = {.name = names[data[1] & 3], .stream = (const char *)data + 3, .len = size - 3, .cap = cap};
    unsigned seed = data[2];
    char *buf = malloc(cap);
    if (!buf)
        abort();
    size_t len = 0;
    bool dropping = false;
    for (size_t fed = 0; fed < e.len;) {
        size_t room = cap - 1 - len;
        if (room == 0)
            abort();            /* read() would be asked for nothing */
        seed = seed * 1103515245u + 12345u;
        size_t piece = 1 + (seed >> 16) % room;
        if (piece > e.len - fed)
            piece = e.len - fed;
        memcpy(buf + len, e.stream + fed, piece);
        len += piece;
        fed += piece;
        service_lines_split(buf, &len, cap, &dropping, false, emit, &e);
        if (len >= cap - 1)
            abort();
    }
    service_lines_split(buf, &len, cap, &dropping, true, emit, &e);
    if (len != 0 || dropping || e.pos != e.len || e.lines != stream_lines(e.stream, e.len))
        abort();
    free(buf);
    return 0;
}
