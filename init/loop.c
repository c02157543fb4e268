/* The one event loop of the envinit process: poll(2) over a small set of
 * watched descriptors plus one timerfd armed for the earliest deadline.
 * When nothing is due the timerfd is disarmed, so an idle envinit sleeps in
 * poll() and is never scheduled. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* PID 1 watches its signalfd, the stderr pipe of each service and at most
 * one background envinit-setup; its timers are the grace period, a restart
 * per service and the SSH port check. The tables are sized for that with
 * room to spare, not more: they sit in PID 1's memory for its whole life. */
#define MAX_WATCH 16
#define MAX_TIMERS 8

struct watch {
    int fd;
    loop_fd_fn fn;
    void *ctx;
};

struct timer {
    long at_ms; /* 0: free slot */
    loop_timer_fn fn;
    void *ctx;
};

static struct watch watches[MAX_WATCH];
static int nwatch;
static struct timer timers[MAX_TIMERS];
static int tfd = -1;
static bool running;

int loop_watch_fd(int fd, loop_fd_fn fn, void *ctx)
{
    if (nwatch == MAX_WATCH) {
        log_error("cannot watch descriptor %d: %d already watched", fd, MAX_WATCH);
        return -1;
    }
    watches[nwatch++] = (struct watch){fd, fn, ctx};
    return 0;
}

void loop_unwatch_fd(int fd)
{
    for (int i = 0; i < nwatch; i++)
        if (watches[i].fd == fd) {
            watches[i] = watches[--nwatch];
            return;
        }
}

static void rearm(void)
{
    long next = 0;
    for (int i = 0; i < MAX_TIMERS; i++)
        if (timers[i].at_ms && (!next || timers[i].at_ms < next))
            next = timers[i].at_ms;
    struct itimerspec its = {0};
    if (next) {
        /* Absolute time: a deadline already past fires at once. */
        its.it_value.tv_sec = next / 1000;
        its.it_value.tv_nsec = (next % 1000) * 1000000L;
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;
    }
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        log_error("cannot arm the timer: %s; deadlines may be late", strerror(errno));
}

int loop_timer_add(long delay_ms, loop_timer_fn fn, void *ctx)
{
    for (int i = 0; i < MAX_TIMERS; i++)
        if (!timers[i].at_ms) {
            timers[i] = (struct timer){envfile_now_ms() + (delay_ms < 0 ? 0 : delay_ms), fn, ctx};
            rearm();
            return i;
        }
    log_error("no free timer slot (%d in use)", MAX_TIMERS);
    return -1;
}

void loop_timer_cancel(int id)
{
    if (id >= 0 && id < MAX_TIMERS && timers[id].at_ms) {
        timers[id].at_ms = 0;
        rearm();
    }
}

static void fire_due_timers(void)
{
    uint64_t expirations;
    ssize_t r = read(tfd, &expirations, sizeof expirations);
    (void)r;
    long now = envfile_now_ms();
    for (int i = 0; i < MAX_TIMERS; i++)
        if (timers[i].at_ms && timers[i].at_ms <= now) {
            struct timer t = timers[i];
            timers[i].at_ms = 0;
            t.fn(t.ctx);
        }
    rearm();
}

/* A callback earlier in the same round may have unwatched (and closed)
 * a descriptor that poll reported. */
static bool still_watched(const struct watch *w)
{
    for (int i = 0; i < nwatch; i++)
        if (watches[i].fd == w->fd && watches[i].fn == w->fn && watches[i].ctx == w->ctx)
            return true;
    return false;
}

int loop_init(void)
{
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    return tfd < 0 ? -1 : 0;
}

void loop_stop(void) { running = false; }

int loop_run(void)
{
    struct pollfd pfd[MAX_WATCH + 1];
    struct watch snap[MAX_WATCH];
    running = true;
    while (running) {
        int n = nwatch;
        memcpy(snap, watches, sizeof(struct watch) * (size_t)n);
        for (int i = 0; i < n; i++)
            pfd[i] = (struct pollfd){.fd = snap[i].fd, .events = POLLIN};
        pfd[n] = (struct pollfd){.fd = tfd, .events = POLLIN};
        if (poll(pfd, (nfds_t)n + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll failed: %s; envinit cannot go on", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n && running; i++)
            if (pfd[i].revents && still_watched(&snap[i]))
                snap[i].fn(snap[i].fd, pfd[i].revents, snap[i].ctx);
        if (running && pfd[n].revents)
            fire_due_timers();
    }
    return 0;
}
