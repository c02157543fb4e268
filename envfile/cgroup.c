/* CODER_CPU_LIMIT / CODER_MEMORY_LIMIT from the container's cgroup. */
#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 when S starts a decimal number as the kernel writes one: a digit, or
 * '-' and a digit. strtoll and strtoull alone would also take leading
 * white space of any kind and a sign, and strtoull wraps "-1" around. */
static int starts_number(const char *s, int negative_ok)
{
    if (negative_ok && *s == '-')
        s++;
    return *s >= '0' && *s <= '9';
}

/* Parses a decimal integer (optionally negative) followed only by blanks. */
static int parse_num(const char *s, const char **end, long long *v)
{
    char *e;
    if (!starts_number(s, 1))
        return -1;
    errno = 0;
    long long x = strtoll(s, &e, 10);
    if (e == s || errno)
        return -1;
    *v = x;
    *end = e;
    return 0;
}

static int only_blanks(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int envfile_cgroup_cpu_v2(const char *cpu_max, double *cores)
{
    const char *s = skip_blanks(cpu_max), *e;
    long long quota = 0, period = 100000;
    int unlimited = strncmp(s, "max", 3) == 0;
    if (unlimited)
        e = s + 3;
    else if (parse_num(s, &e, &quota) < 0 || quota <= 0)
        return -1;
    if (*e == ' ' || *e == '\t') {
        s = skip_blanks(e);
        if (parse_num(s, &e, &period) < 0 || period <= 0)
            return -1;
    }
    if (!only_blanks(e))
        return -1;
    if (unlimited)
        return 0;
    *cores = (double)quota / (double)period;
    return 1;
}

int envfile_cgroup_cpu_v1(const char *quota, const char *period, double *cores)
{
    const char *e;
    long long q, p;
    if (parse_num(quota, &e, &q) < 0 || !only_blanks(e))
        return -1;
    if (q < 0)
        return 0; /* -1: no quota */
    if (q == 0 || !period || parse_num(period, &e, &p) < 0 || !only_blanks(e) || p <= 0)
        return -1;
    *cores = (double)q / (double)p;
    return 1;
}

int envfile_cgroup_mem(const char *text, uint64_t *bytes)
{
    const char *s = skip_blanks(text), *e;
    if (strncmp(s, "max", 3) == 0)
        return only_blanks(s + 3) ? 0 : -1;
    if (!starts_number(s, 0))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    e = end;
    if (e == s || errno || !only_blanks(e) || v == 0)
        return -1;
    *bytes = v;
    return 1;
}

double envfile_limit_cap(int have, double limit, double machine)
{
    return have == 1 && limit < machine ? limit : machine;
}

/* Reads a small file at DIR/NAME into BUF; -1 when missing or unreadable. */
static int read_small(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

static double machine_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (double)n : 1.0;
}

static double machine_mem_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}

/* The process's own v2 cgroup under ROOT, when /proc/self/cgroup names one
 * that exists there (host cgroup namespace); else ROOT itself. */
static void v2_dir(const char *root, char *dir, size_t cap)
{
    char self[4096];
    snprintf(dir, cap, "%s", root);
    if (read_small("/proc/self", "cgroup", self, sizeof self) < 0)
        return;
    const char *p = strstr(self, "0::/");
    if (!p || (p != self && p[-1] != '\n'))
        return;
    p += 3;
    size_t n = strcspn(p, "\n");
    char cand[4096];
    if (n <= 1 || (size_t)snprintf(cand, sizeof cand, "%s%.*s", root, (int)n, p) >= sizeof cand ||
        access(cand, F_OK) != 0)
        return;
    snprintf(dir, cap, "%s", cand);
}

void envfile_limits_read(const char *cgroup_root, struct envfile_limits *out)
{
    const char *root = cgroup_root ? cgroup_root : "/sys/fs/cgroup";
    char a[256];
    double cores = 0;
    uint64_t bytes = 0;
    int have_cpu = 0, have_mem = 0;
    if (read_small(root, "cgroup.controllers", a, sizeof a) == 0) {
        char dir[4096];
        v2_dir(root, dir, sizeof dir);
        if (read_small(dir, "cpu.max", a, sizeof a) == 0)
            have_cpu = envfile_cgroup_cpu_v2(a, &cores);
        if (read_small(dir, "memory.max", a, sizeof a) == 0)
            have_mem = envfile_cgroup_mem(a, &bytes);
    } else {
        char b[256];
        if (read_small(root, "cpu/cpu.cfs_quota_us", a, sizeof a) == 0 &&
            read_small(root, "cpu/cpu.cfs_period_us", b, sizeof b) == 0)
            have_cpu = envfile_cgroup_cpu_v1(a, b, &cores);
        else if (read_small(root, "cpu,cpuacct/cpu.cfs_quota_us", a, sizeof a) == 0 &&
                 read_small(root, "cpu,cpuacct/cpu.cfs_period_us", b, sizeof b) == 0)
            have_cpu = envfile_cgroup_cpu_v1(a, b, &cores);
        if (read_small(root, "memory/memory.limit_in_bytes", a, sizeof a) == 0)
            have_mem = envfile_cgroup_mem(a, &bytes);
    }
    if (have_cpu < 0)
        log_debug("cgroup cpu limit under %s is malformed; using the machine's CPUs", root);
    if (have_mem < 0)
        log_debug("cgroup memory limit under %s is malformed; using the machine's memory", root);
    const double gib = 1024.0 * 1024.0 * 1024.0;
    out->cpus = envfile_limit_cap(have_cpu, cores, machine_cpus());
    out->mem_gib = envfile_limit_cap(have_mem, (double)bytes / gib, machine_mem_bytes() / gib);
}
