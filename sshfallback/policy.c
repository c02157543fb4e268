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

int sf_startups_drop(const struct sf_startups *s, unsigned unauth, unsigned rnd)
{
    if (unauth < s->start)
        return 0;
    if (unauth >= s->full)
        return 1;
    /* Linear from rate% at start to 100% at full, like sshd's drop_connection. */
    unsigned span = s->full - s->start;
    unsigned p = s->rate + (100 - s->rate) * (unauth - s->start) / span;
    return rnd % 100 < p;
}

unsigned sf_startups_load(const struct sf_startups *s, unsigned stale, unsigned fresh)
{
    return stale + (fresh > s->full ? fresh - s->full : 0);
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
