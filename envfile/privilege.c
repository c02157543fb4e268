/* What root may still do in a container that dropped capabilities: the
 * servers need CAP_SETUID and CAP_SETGID to become the user, and
 * CAP_NET_BIND_SERVICE for a port below the network namespace's first
 * unprivileged one; writing the user's files in the user's home needs
 * CAP_CHOWN, CAP_DAC_OVERRIDE and CAP_FOWNER. Read from /proc, so a static
 * binary needs no libcap. */
#include "envfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_BIT_SETGID 6
#define CAP_BIT_SETUID 7
#define CAP_BIT_NET_BIND_SERVICE 10
#define CAP_BIT_CHOWN 0
#define CAP_BIT_DAC_OVERRIDE 1
#define CAP_BIT_FOWNER 3

int envfile_caps_describe(uint64_t permitted, int port, int unpriv_start, int files, char *out, size_t len)
{
    static const struct {
        int bit;
        const char *name;
    } need[] = {{CAP_BIT_SETUID, "CAP_SETUID"}, {CAP_BIT_SETGID, "CAP_SETGID"},
                {CAP_BIT_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE"}, {CAP_BIT_CHOWN, "CAP_CHOWN"},
                {CAP_BIT_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"}, {CAP_BIT_FOWNER, "CAP_FOWNER"}};
    size_t used = 0;
    int missing = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        if (need[i].bit == CAP_BIT_NET_BIND_SERVICE && port >= unpriv_start)
            continue;
        if (!files && (need[i].bit == CAP_BIT_CHOWN || need[i].bit == CAP_BIT_DAC_OVERRIDE ||
                       need[i].bit == CAP_BIT_FOWNER))
            continue;
        if (permitted & (UINT64_C(1) << need[i].bit))
            continue;
        int n = snprintf(out + used, len - used, "%s%s", missing ? ", " : "", need[i].name);
        if (n > 0 && (size_t)n < len - used)
            used += (size_t)n;
        missing++;
    }
    return missing;
}

/* A "Name:\t<hex>" or "<decimal>" value from a small /proc file. */
static int read_proc(const char *path, const char *field, int hex, unsigned long long *out)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[256];
    int found = -1;
    size_t fl = field ? strlen(field) : 0;
    while (found < 0 && fgets(line, sizeof line, f)) {
        if (field && strncmp(line, field, fl) != 0)
            continue;
        char *end;
        *out = strtoull(line + fl, &end, hex ? 16 : 10);
        found = end != line + fl ? 0 : -1;
    }
    fclose(f);
    return found;
}

int envfile_caps_missing(int port, int files, char *out, size_t len)
{
    unsigned long long prm = ~0ULL, start = 1024;
    if (read_proc("/proc/self/status", "CapPrm:", 1, &prm) < 0)
        prm = ~0ULL; /* unknown: let the server find out and say so */
    read_proc("/proc/sys/net/ipv4/ip_unprivileged_port_start", NULL, 0, &start);
    return envfile_caps_describe(prm, port, (int)start, files, out, len);
}

void envfile_caps_advice(const char *missing, int fallback_port, char *out, size_t len)
{
    char port[48];
    if (fallback_port > 0)
        snprintf(port, sizeof port, "port %d (fallback_port)", fallback_port);
    else
        snprintf(port, sizeof port, "envinit's fallback_port");
    snprintf(out, len,
             "root without %s (dropped from the container) cannot serve SSH as the user; add them "
             "(docker run --cap-add NAME, Kubernetes capabilities.add) or run the container as the user "
             "(docker run --user 1000, Kubernetes runAsUser): SSH then runs on %s with no capability",
             missing, port);
}
