/* libFuzzer target: the cgroup limit files envinit reads for
 * CODER_CPU_LIMIT and CODER_MEMORY_LIMIT: cpu.max (v2), cpu.cfs_quota_us
 * and cpu.cfs_period_us (v1), memory.max / memory.limit_in_bytes. The
 * input is one file's text; for v1 the quota, a NUL, then the period.
 * Beyond memory safety it checks:
 *  - an accepted CPU limit is positive and finite; "max" is no limit;
 *  - a memory limit is accepted exactly when the text is a positive
 *    decimal number between blanks, and is that number; "max" (between
 *    blanks) is no limit; anything else is refused. */
#include "envfile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void quiet(enum log_level level, const char *msg)
{
    (void)level;
    (void)msg;
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

static int trailing_blank(char c)
{
    return blank(c) || c == '\n' || c == '\r';
}

static int only_trailing_blanks(const char *s)
{
    while (trailing_blank(*s))
        s++;
    return *s == '\0';
}

/* What envfile_cgroup_mem must say of TEXT (and the value when 1). */
static int mem_model(const char *text, uint64_t *bytes)
{
    const char *s = text;
    while (blank(*s))
        s++;
    if (strncmp(s, "max", 3) == 0)
        return only_trailing_blanks(s + 3) ? 0 : -1;
    uint64_t v = 0;
    const char *d = s;
    for (; *d >= '0' && *d <= '9'; d++) {
        unsigned digit = (unsigned)(*d - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    if (d == s || v == 0 || !only_trailing_blanks(d))
        return -1;
    *bytes = v;
    return 1;
}

static void check_cores(int rc, double cores)
{
    if (rc < -1 || rc > 1 || (rc == 1 && !(isfinite(cores) && cores > 0)))
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    log_hook = quiet;
    char *text = malloc(size + 2);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';

    double cores = 0;
    check_cores(envfile_cgroup_cpu_v2(text, &cores), cores);
    const char *period = text + strlen(text) + 1;
    cores = 0;
    check_cores(envfile_cgroup_cpu_v1(text, period, &cores), cores);
    cores = 0;
    check_cores(envfile_cgroup_cpu_v1(text, NULL, &cores), cores);

    uint64_t got = 0, want = 0;
    int rc = envfile_cgroup_mem(text, &got), model = mem_model(text, &want);
    if (rc != model || (rc == 1 && got != want))
        abort();
    free(text);
    return 0;
}
