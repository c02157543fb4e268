/* libFuzzer target: the plan envinit-setup hands PID 1 on a pipe, parsed
 * by PID 1 (ssh_plan_parse) and written by envinit-setup (ssh_plan_write).
 * Checks, beyond memory safety:
 * - an accepted plan keeps its limits: argc below SSH_PLAN_ARGS, argv
 *   NULL-terminated, why terminated, a port in 0..65535;
 * - what was accepted round-trips: writing it and parsing that gives the
 *   same action, port, why and words;
 * - a plan built from the input (an action, a port, a why and words
 *   without newline, as envinit-setup has them) is parsed back equal.
 * Input: byte 0 bit 0 picks the direction (parse the rest / build a plan
 * from it). */
#include "envinit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_limits(const struct ssh_plan *p)
{
    if (p->argc < 0 || p->argc >= SSH_PLAN_ARGS || p->argv[p->argc] != NULL ||
        strnlen(p->why, sizeof p->why) == sizeof p->why || p->port < 0 || p->port > 65535 ||
        p->action < SSH_ACT_OFF || p->action > SSH_ACT_ERROR)
        abort();
    for (int i = 0; i < p->argc; i++)
        if (!p->argv[i])
            abort();
}

static bool same_plan(const struct ssh_plan *a, const struct ssh_plan *b)
{
    if (a->action != b->action || a->port != b->port || strcmp(a->why, b->why) != 0 || a->argc != b->argc)
        return false;
    for (int i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], b->argv[i]) != 0)
            return false;
    return true;
}

/* Writes P as envinit-setup does and parses the text back into BACK
 * (whose words point into the returned buffer). */
static char *write_and_parse(const struct ssh_plan *p, struct ssh_plan *back)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        abort();
    ssh_plan_write(f, p);
    if (fclose(f) != 0 || ssh_plan_parse(text, back) != 0)
        abort();
    check_limits(back);
    return text;
}

static void check_round_trip(const struct ssh_plan *p)
{
    struct ssh_plan back;
    char *text = write_and_parse(p, &back);
    if (!same_plan(p, &back))
        abort();
    free(text);
}

static void parse_direction(const unsigned char *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    struct ssh_plan p;
    if (ssh_plan_parse(text, &p) == 0) {
        check_limits(&p);
        check_round_trip(&p);
    }
    free(text);
}

/* The rest of the input, NUL-separated: why, then the words, newlines and
 * backslashes included (the writer escapes them). */
static void build_direction(const unsigned char *data, size_t size)
{
    if (size < 3)
        return;
    static struct ssh_plan p;
    memset(&p, 0, sizeof p);
    p.action = (enum ssh_action)(data[0] % (SSH_ACT_ERROR + 1));
    p.port = (int)((unsigned)data[1] << 8 | data[2]);
    char *rest = malloc(size - 3 + 1);
    if (!rest)
        abort();
    memcpy(rest, data + 3, size - 3);
    rest[size - 3] = '\0';
    const char *end = rest + (size - 3);
    snprintf(p.why, sizeof p.why, "%s", rest);
    for (char *w = rest + strlen(rest) + 1; w <= end && p.argc < SSH_PLAN_ARGS - 1; w += strlen(w) + 1)
        p.argv[p.argc++] = w;
    check_round_trip(&p);
    free(rest);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        build_direction(data + 1, size - 1);
    else
        parse_direction(data + 1, size - 1);
    return 0;
}
