/* Small pure decisions: MaxStartups, which client variables are taken and
 * how many, X11 displays per connection. */
#include "sshfallback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sf_startups_parse(const char *s, struct sf_startups *out)
{
    unsigned a = 0, b = 30, c = 0;
    char extra;
    int n = sscanf(s, "%u:%u:%u%c", &a, &b, &c, &extra);
    if (n == 1) {
        c = a;
        b = 100;
    } else if (n != 3) {
        return -1;
    }
    if (a == 0 || b > 100 || c < a || c > 100000)
        return -1;
    out->start = a;
    out->rate = b;
    out->full = c;
    return 0;
}

long sf_startups_deadline_ms(const struct sf_startups *s, unsigned pending, long grace_ms)
{
    long floor = grace_ms < SF_STARTUP_FLOOR_MS ? grace_ms : SF_STARTUP_FLOOR_MS;
    if (pending < s->start)
        return grace_ms;
    if (pending >= s->full)
        return floor;
    long span = (long)(s->full - s->start), over = (long)(pending - s->start);
    return grace_ms - (grace_ms - floor) * over / span;
}

int sf_startups_victim(const struct sf_pending *p, unsigned n, long deadline_ms)
{
    int silent = -1, overdue = -1;
    for (unsigned i = 0; i < n; i++) {
        if (p[i].silent && p[i].age_ms >= SF_STARTUP_SILENT_MS && (silent < 0 || p[i].age_ms > p[silent].age_ms))
            silent = (int)i;
        if (p[i].age_ms >= deadline_ms && (overdue < 0 || p[i].age_ms > p[overdue].age_ms))
            overdue = (int)i;
    }
    return silent >= 0 ? silent : overdue;
}

int sf_env_accepted(const char *name, const char *const *accept, size_t n_accept)
{
    if (strcmp(name, "LANG") == 0 || strncmp(name, "LC_", 3) == 0)
        return name[0] != '\0';
    for (size_t i = 0; i < n_accept; i++)
        if (sf_glob(accept[i], strlen(accept[i]), name, 0))
            return 1;
    return 0;
}

int sf_env_within_caps(size_t n_vars, size_t bytes)
{
    return n_vars <= SF_ENV_MAX_VARS && bytes <= SF_ENV_MAX_BYTES;
}

int sf_x11_display_allowed(unsigned held, int session_has_one)
{
    return !session_has_one && held < SF_X11_MAX_DISPLAYS;
}
