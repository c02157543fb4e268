/* libFuzzer target: the status file (/run/envinit/status, or a path a
 * user chose) as `envinit status` and orchestrators' probes read it.
 * Checks, beyond memory safety:
 * - an accepted file's values are within their limits: strings terminated
 *   and on one line, numbers in the ranges the parser allows;
 * - what was accepted round-trips: rendering it and parsing that gives
 *   the same status, and rendering that again the same bytes;
 * - a status built from the input's bytes (the values envinit writes)
 *   renders, parses back equal, and its JSON form is built.
 * Input: byte 0 bit 0 picks the direction (parse the rest / build a
 * status from it). */
#include "envinit.h"

#include <stdlib.h>
#include <string.h>

#define RENDER_MAX 4096         /* status.c's STATUS_FILE_MAX */

static bool one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n < cap && !memchr(s, '\n', n);
}

static void check_limits(const struct ssh_status *s)
{
    if (!one_line(s->kind, sizeof s->kind) || !one_line(s->state, sizeof s->state) ||
        !one_line(s->note, sizeof s->note) || strchr(s->note, '\r'))
        abort();
    if (s->port < 0 || s->port > 65535 || s->pid < 0 || s->pid > (1L << 22) || s->restarts > (1u << 30) ||
        s->last_status < -1 || s->last_status > 0xffff || s->since < 0 || s->since > (1L << 40))
        abort();
}

static bool same_status(const struct ssh_status *a, const struct ssh_status *b)
{
    return strcmp(a->kind, b->kind) == 0 && strcmp(a->state, b->state) == 0 && a->port == b->port &&
           a->pid == b->pid && a->expected == b->expected && a->restarts == b->restarts &&
           a->last_status == b->last_status && a->since == b->since && strcmp(a->note, b->note) == 0;
}

/* Renders S, parses it back: equal, and the second rendering identical. */
static void check_round_trip(const struct ssh_status *s)
{
    static char text[RENDER_MAX], again[RENDER_MAX];
    struct ssh_status back;
    int n = status_render(s, text, sizeof text);
    if (n < 0 || status_parse(text, &back) != 0 || !same_status(s, &back))
        abort();
    check_limits(&back);
    if (status_render(&back, again, sizeof again) != n || memcmp(text, again, (size_t)n) != 0)
        abort();
    char *json = status_render_json(&back, true);
    if (!json)
        abort();
    free(json);
}

static void parse_direction(const unsigned char *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    struct ssh_status s;
    if (status_parse(text, &s) == 0) {
        check_limits(&s);
        check_round_trip(&s);
    }
    free(text);
}

/* Takes N bytes of the input as a string without NUL or newline. */
static void take_string(const unsigned char **p, const unsigned char *end, char *out, size_t cap, size_t n)
{
    size_t k = 0;
    while (k < n && k < cap - 1 && *p < end) {
        unsigned char c = *(*p)++;
        out[k++] = c == '\0' || c == '\n' || c == '\r' ? '_' : (char)c;
    }
    out[k] = '\0';
}

static long take_number(const unsigned char **p, const unsigned char *end, long min, long max)
{
    unsigned long long v = 0;
    for (int i = 0; i < 6 && *p < end; i++)
        v = v << 8 | *(*p)++;
    return min + (long)(v % (unsigned long long)(max - min + 1));
}

static void build_direction(const unsigned char *p, const unsigned char *end)
{
    struct ssh_status s;
    memset(&s, 0, sizeof s);
    s.port = (int)take_number(&p, end, 0, 65535);
    s.pid = (pid_t)take_number(&p, end, 0, 1L << 22);
    s.restarts = (unsigned)take_number(&p, end, 0, 1L << 30);
    s.last_status = (int)take_number(&p, end, -1, 0xffff);
    s.since = take_number(&p, end, 0, 1L << 40);
    s.expected = p < end && (*p++ & 1);
    size_t lens = p < end ? *p++ : 0;
    take_string(&p, end, s.kind, sizeof s.kind, lens & 15);
    take_string(&p, end, s.state, sizeof s.state, lens >> 4);
    take_string(&p, end, s.note, sizeof s.note, (size_t)(end - p));
    check_round_trip(&s);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    log_set_level(LOG_ERROR);
    if (size < 1)
        return 0;
    if (data[0] & 1)
        build_direction(data + 1, data + size);
    else
        parse_direction(data + 1, size - 1);
    return 0;
}
