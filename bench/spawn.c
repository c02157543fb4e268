/* bench/spawn.c — wall time of short commands, interleaved, for bench/init.sh.
 *
 * Usage: spawn RUNS WARMUP 'CMD ARG...' 'CMD ARG...' ...
 *
 * Each round runs every command once, in an order rotated from round to round,
 * so that load from elsewhere on a shared machine falls on all commands alike
 * (hyperfine runs one command's whole series before the next). A run is timed
 * with CLOCK_MONOTONIC from just before fork to the return of waitpid, stdin,
 * stdout and stderr on /dev/null. Commands are split on spaces (no quoting).
 * Prints one line per command: "median_ms p25_ms p75_ms min_ms". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 32

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void split(char *line, char **argv)
{
    int n = 0;
    for (char *tok = strtok(line, " "); tok && n < MAX_ARGS - 1; tok = strtok(NULL, " "))
        argv[n++] = tok;
    argv[n] = NULL;
}

/* One timed run; -1 when the command could not run or failed. */
static double run_once(char **argv, int devnull)
{
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    double t = now_ms() - t0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: spawn RUNS WARMUP 'CMD ARG...'...\n");
        return 2;
    }
    int runs = atoi(argv[1]), warmup = atoi(argv[2]), ncmd = argc - 3;
    int devnull = open("/dev/null", O_RDWR);
    char *cmd[ncmd][MAX_ARGS];
    double *t = calloc((size_t)ncmd * (size_t)runs, sizeof *t);
    if (runs <= 0 || devnull < 0 || !t)
        return 2;
    for (int c = 0; c < ncmd; c++)
        split(argv[c + 3], cmd[c]);
    for (int r = -warmup; r < runs; r++) {
        for (int k = 0; k < ncmd; k++) {
            int c = (k + (r < 0 ? 0 : r)) % ncmd;
            double d = run_once(cmd[c], devnull);
            if (d < 0) {
                fprintf(stderr, "spawn: '%s' failed\n", cmd[c][0]);
                return 1;
            }
            if (r >= 0)
                t[c * runs + r] = d;
        }
    }
    for (int c = 0; c < ncmd; c++) {
        double *v = t + c * runs;
        qsort(v, (size_t)runs, sizeof *v, cmp_double);
        printf("%.3f %.3f %.3f %.3f\n", v[runs / 2], v[runs / 4], v[(3 * runs) / 4], v[0]);
    }
    return 0;
}
