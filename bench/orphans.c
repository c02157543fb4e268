/* bench/orphans.c — the main command of bench/init.sh's reaping run.
 *
 * Usage: orphans N   (run as the main child of the init under test, PID 1
 * of a fresh PID namespace)
 *
 * An intermediate process forks N children that exit at once and are never
 * waited for, so they are N zombies of the intermediate. When all have exited
 * the intermediate exits too: the kernel hands the N zombies to PID 1 in one
 * go (with SIGCHLD), and PID 1 must reap them. This process times from the
 * intermediate's death until every one of the N pids is gone (kill(pid, 0)
 * fails with ESRCH once a zombie is reaped; pids are not reused this soon in
 * a fresh namespace), then prints "reaped N in MS ms" and exits 0, or 1 when
 * some are still zombies after 60 s. Only the reaping is timed, not the
 * forks or the exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The intermediate: N children that report their pid and exit. Returns only
 * after all of them have closed the pipe (have exited). */
static void make_zombies(int n, int report_fd)
{
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0) {
            perror("orphans: fork");
            _exit(2);
        }
        if (c == 0) {
            pid_t me = getpid();
            if (write(report_fd, &me, sizeof me) != sizeof me)
                _exit(3);
            _exit(0);
        }
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    int fds[2];
    if (n <= 0 || pipe(fds) != 0) {
        fprintf(stderr, "usage: orphans N\n");
        return 2;
    }
    pid_t mid = fork();
    if (mid < 0) {
        perror("orphans: fork");
        return 2;
    }
    if (mid == 0) {
        close(fds[0]);
        make_zombies(n, fds[1]);
        close(fds[1]);
        /* Wait for the reader's go: it has read every pid, so every child
         * has written and is exiting; give the last ones a moment to become
         * zombies before they are handed to PID 1 as a batch. */
        pause();
        _exit(0);
    }
    close(fds[1]);
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (!pids || read_full(fds[0], pids, (size_t)n * sizeof *pids) != 0) {
        fprintf(stderr, "orphans: lost children's pids\n");
        return 2;
    }
    /* All N have exited once their write ends are all closed (EOF). */
    char c;
    while (read(fds[0], &c, 1) > 0)
        ;
    kill(mid, SIGKILL);
    waitpid(mid, NULL, 0);
    double t0 = now_ms();
    int first = 0;
    while (first < n) {
        while (first < n && kill(pids[first], 0) != 0 && errno == ESRCH)
            first++;
        if (first < n) {
            if (now_ms() - t0 > 60000) {
                int left = 0;
                for (int i = first; i < n; i++)
                    left += kill(pids[i], 0) == 0;
                printf("reaped %d of %d in 60 s: %d zombies left\n", n - left, n, left);
                return 1;
            }
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
    printf("reaped %d in %.3f ms\n", n, now_ms() - t0);
    return 0;
}
