/* The plan envinit-setup hands PID 1 on a pipe: envinit-setup writes it,
 * PID 1 reads it, so both ends live here. One "key=value" line per field
 * (action, port, why, one arg per argv word, abort), "end" last. A value's
 * backslash and newline go out as \\ and \n: no value can add a line. */
#include "envinit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_value(FILE *out, const char *key, const char *v)
{
    fprintf(out, "%s=", key);
    for (; *v; v++) {
        if (*v == '\\')
            fputs("\\\\", out);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
    fputc('\n', out);
}

void ssh_plan_write(FILE *out, const struct ssh_plan *p)
{
    fprintf(out, "action=%s\nport=%d\n", ssh_action_name(p->action), p->port);
    put_value(out, "why", p->why);
    for (int i = 0; i < p->argc; i++)
        put_value(out, "arg", p->argv[i]);
    if (p->abort)
        fputs("abort=1\n", out);
    fputs("end\n", out);
}

/* Undoes put_value's escapes in place; -1 for any other escape. */
static int unescape(char *v)
{
    char *w = v;
    for (; *v; v++) {
        if (*v != '\\') {
            *w++ = *v;
            continue;
        }
        v++;
        if (*v == '\\')
            *w++ = '\\';
        else if (*v == 'n')
            *w++ = '\n';
        else
            return -1;
    }
    *w = '\0';
    return 0;
}

static int parse_port(const char *v, int *port)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > 65535)
        return -1;
    *port = (int)n;
    return 0;
}

static int parse_field(struct ssh_plan *p, const char *key, char *v)
{
    if (unescape(v) < 0)
        return -1;
    if (strcmp(key, "action") == 0) {
        int a = ssh_action_parse(v);
        p->action = (enum ssh_action)a;
        return a < 0 ? -1 : 0;
    }
    if (strcmp(key, "port") == 0)
        return parse_port(v, &p->port);
    if (strcmp(key, "why") == 0) {
        snprintf(p->why, sizeof p->why, "%s", v);
        return 0;
    }
    if (strcmp(key, "arg") == 0) {
        if (p->argc == SSH_PLAN_ARGS - 1)
            return -1;
        p->argv[p->argc++] = v;
        return 0;
    }
    if (strcmp(key, "abort") == 0) {
        p->abort = strcmp(v, "1") == 0;
        return 0;
    }
    return -1;
}

int ssh_plan_parse(char *text, struct ssh_plan *p)
{
    memset(p, 0, sizeof *p);
    p->action = SSH_ACT_ERROR;
    bool ended = false;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (ended)
            return -1;
        if (strcmp(line, "end") == 0) {
            ended = true;
            continue;
        }
        if (!eq)
            return -1;
        *eq = '\0';
        if (parse_field(p, line, eq + 1) < 0)
            return -1;
    }
    p->argv[p->argc] = NULL;
    return ended ? 0 : -1;
}
