/* The byte pump between a channel and descriptors, shared by every kind
 * of channel: sessions (the program's stdin, stdout, stderr or its pty)
 * and forwarded connections (one socket both ways). Flow control both
 * ways: a descriptor is read only while the client's window has room, and
 * the client's data the descriptor cannot take yet stays in libssh, which
 * then stops growing the client's window. libssh callbacks only copy or
 * mark; the loop (sf_pump_pollfds, sf_pump_ready, sf_pump_tend) moves the
 * rest. What differs between kinds is behind struct sf_chan_ops. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUMP_BUF (256 * 1024)

static char relay_buf[PUMP_BUF];

void sf_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void sf_pump_drop(struct sf_pump *p, int *fd)
{
    int v = *fd;
    *fd = -1;
    if (v >= 0 && v != p->fd_in && v != p->fd_out[0] && v != p->fd_out[1])
        close(v);
}

static void drop_unsent(struct sf_pump *p, int i)
{
    free(p->unsent[i].buf);
    p->unsent[i].buf = NULL;
    p->unsent[i].len = p->unsent[i].off = 0;
}

void sf_pump_stop(struct sf_pump *p)
{
    sf_pump_drop(p, &p->fd_in);
    sf_pump_drop(p, &p->fd_out[0]);
    sf_pump_drop(p, &p->fd_out[1]);
    drop_unsent(p, 0);
    drop_unsent(p, 1);
}

/* ---- client -> descriptor ---- */

/* Copies bytes libssh holds for us. libssh 0.11 handles packets first, so
 * on_data may run inside: it then leaves the new data behind the old in
 * libssh's buffer instead of taking it ahead of what is read here. */
static int read_pending(struct sf_pump *p, char *dst, uint32_t want)
{
    p->reading = 1;
    int n = ssh_channel_read_nonblocking(p->ch, dst, want, 0);
    p->reading = 0;
    if (n > 0)
        p->bytes_in += (unsigned)n;
    return n;
}

/* The descriptor no longer takes the client's data: what comes is still
 * consumed, so that the client's window keeps moving, as sshd does. */
static void input_gone(struct sf_pump *p)
{
    sf_pump_drop(p, &p->fd_in);
    p->in_len = p->in_off = 0;
    while (p->pending > 0) {
        int n = read_pending(p, relay_buf, p->pending < PUMP_BUF ? p->pending : PUMP_BUF);
        if (n <= 0)
            break;
        p->pending -= (uint32_t)n;
    }
    p->pending = 0;
}

static void failed(struct sf_pump *p, int *fd, const char *why)
{
    if (p->ops->abort)
        p->ops->abort(p, why);
    else if (fd == &p->fd_in)
        input_gone(p);
    else
        sf_pump_drop(p, fd);
}

/* Buffered, not written at once: the loop writes what a whole socket read
 * brought (several packets) in one write(2), one wake-up of the reader
 * instead of one per 32 KiB packet. */
static uint32_t take_data(struct sf_pump *p, const void *data, uint32_t len, int is_stderr)
{
    if (is_stderr)
        return len;
    if (p->reading || !p->started) {
        p->pending = len; /* kept by libssh until it is read */
        return 0;
    }
    if (p->fd_in < 0)
        return len;
    if (!p->inbuf && (p->inbuf = malloc(PUMP_BUF)) == NULL) {
        p->pending = len;
        return 0;
    }
    if (p->in_off == p->in_len)
        p->in_len = p->in_off = 0;
    else if (p->in_off > 0 && PUMP_BUF - p->in_len < len) {
        memmove(p->inbuf, p->inbuf + p->in_off, p->in_len - p->in_off);
        p->in_len -= p->in_off;
        p->in_off = 0;
    }
    size_t room = PUMP_BUF - p->in_len;
    uint32_t take = len < room ? len : (uint32_t)room;
    memcpy(p->inbuf + p->in_len, data, take);
    p->in_len += take;
    p->pending = len - take;
    return take;
}

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
                   void *ud)
{
    struct sf_pump *p = ud;
    (void)s;
    (void)ch;
    uint32_t n = take_data(p, data, len, is_stderr);
    p->bytes_in += n;
    return (int)n;
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_pump *p = ud;
    (void)s;
    (void)ch;
    p->client_eof = 1;
}

static void on_close(ssh_session s, ssh_channel ch, void *ud)
{
    struct sf_pump *p = ud;
    (void)s;
    (void)ch;
    p->remote_closed = 1;
    if (p->ops->close)
        p->ops->close(p);
}

static int input_drained(const struct sf_pump *p)
{
    return p->in_off == p->in_len && p->pending == 0;
}

static void write_input(struct sf_pump *p)
{
    while (p->fd_in >= 0) {
        if (p->in_off < p->in_len) {
            ssize_t w = write(p->fd_in, p->inbuf + p->in_off, p->in_len - p->in_off);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (w < 0) {
                failed(p, &p->fd_in, strerror(errno));
                return;
            }
            p->in_off += (size_t)w;
            if (p->in_off < p->in_len)
                return;
        }
        p->in_len = p->in_off = 0;
        if (p->pending == 0)
            return;
        if (!p->inbuf && (p->inbuf = malloc(PUMP_BUF)) == NULL)
            return;
        int n = read_pending(p, p->inbuf, p->pending < PUMP_BUF ? p->pending : PUMP_BUF);
        if (n <= 0) {
            p->pending = 0;
            return;
        }
        p->pending -= (uint32_t)n;
        p->in_len = (size_t)n;
    }
}

/* ---- descriptor -> client ---- */

static int chan_write(struct sf_pump *p, int i, const char *data, size_t n)
{
    return i ? ssh_channel_write_stderr(p->ch, data, (uint32_t)n)
             : ssh_channel_write(p->ch, data, (uint32_t)n);
}

int sf_pump_send(struct sf_pump *p, int i, const char *data, size_t n)
{
    p->bytes_out += n; /* what libssh does not take now goes out later */
    int rc = chan_write(p, i, data, n);
    if (rc == SSH_ERROR)
        return -1;
    if ((size_t)rc < n) { /* libssh takes nothing during a re-key */
        char *copy = malloc(n - (size_t)rc);
        if (!copy)
            return -1;
        memcpy(copy, data + rc, n - (size_t)rc);
        p->unsent[i].buf = copy;
        p->unsent[i].len = n - (size_t)rc;
        p->unsent[i].off = 0;
    }
    return 0;
}

/* Whether anything may still go out on the channel. */
static int usable(const struct sf_pump *p)
{
    return p->started && !p->closing && !p->remote_closed && ssh_channel_is_open(p->ch);
}

uint32_t sf_pump_room(const struct sf_pump *p)
{
    return usable(p) ? ssh_channel_window_size(p->ch) : 0;
}

/* 1 when nothing of stream I is left unsent, 0 when some still is, -1 on
 * error. */
static int flush_unsent(struct sf_pump *p, int i)
{
    if (p->unsent[i].len == 0)
        return 1;
    uint32_t win = sf_pump_room(p);
    if (win == 0)
        return 0;
    size_t left = p->unsent[i].len - p->unsent[i].off;
    int rc = chan_write(p, i, p->unsent[i].buf + p->unsent[i].off, left < win ? left : win);
    if (rc == SSH_ERROR) {
        drop_unsent(p, i);
        return -1;
    }
    p->unsent[i].off += (size_t)rc;
    if (p->unsent[i].off < p->unsent[i].len)
        return 0;
    drop_unsent(p, i);
    return 1;
}

static const char *relay(struct sf_pump *p, int i, const char *data, size_t n)
{
    if (i == 0 && p->ops->relay)
        return p->ops->relay(p, data, n);
    return sf_pump_send(p, i, data, n) < 0 ? "channel write failed" : NULL;
}

static void read_output(struct sf_pump *p, int i)
{
    int fl = flush_unsent(p, i);
    if (fl < 0) {
        failed(p, &p->fd_out[i], "channel write failed");
        return;
    }
    uint32_t win = sf_pump_room(p);
    if (fl != 1 || win == 0)
        return;
    ssize_t n = read(p->fd_out[i], relay_buf, win < PUMP_BUF ? win : PUMP_BUF);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) { /* a pty gives EIO once its last user closed it: an end too */
        failed(p, &p->fd_out[i], strerror(errno));
        return;
    }
    if (n == 0) {
        sf_pump_drop(p, &p->fd_out[i]);
        return;
    }
    const char *why = relay(p, i, relay_buf, (size_t)n);
    if (why)
        failed(p, &p->fd_out[i], why);
}

void sf_pump_drain_output(struct sf_pump *p, int i)
{
    while (p->fd_out[i] >= 0 && sf_pump_room(p) > 0 && flush_unsent(p, i) == 1) {
        uint32_t win = sf_pump_room(p);
        ssize_t n = read(p->fd_out[i], relay_buf, win < PUMP_BUF ? win : PUMP_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || relay(p, i, relay_buf, (size_t)n))
            sf_pump_drop(p, &p->fd_out[i]);
    }
}

/* The client closed the channel while the descriptor still has to take
 * what the client sent before: what the descriptor sends now has nowhere
 * to go and is dropped, so a peer that writes before it reads (an echo)
 * cannot stall the flush forever. Its end ends the descriptor side. */
static void discard_output(struct sf_pump *p, int i)
{
    ssize_t n = read(p->fd_out[i], relay_buf, PUMP_BUF);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        sf_pump_stop(p);
}

/* ---- the loop ---- */

void sf_pump_attach(struct sf_pump *p, ssh_channel ch)
{
    p->ch = ch;
    p->cb.userdata = p;
    p->cb.channel_data_function = on_data;
    p->cb.channel_eof_function = on_eof;
    p->cb.channel_close_function = on_close;
    ssh_callbacks_init(&p->cb);
    ssh_set_channel_callbacks(ch, &p->cb);
}

void sf_pump_init(struct sf_pump *p, const struct sf_chan_ops *ops, void *self)
{
    p->ops = ops;
    p->self = self;
    p->fd_in = p->fd_out[0] = p->fd_out[1] = -1;
}

void sf_pump_start(struct sf_pump *p, int in, int out, int err)
{
    p->fd_in = in;
    p->fd_out[0] = out;
    p->fd_out[1] = err;
    p->started = 1;
}

static void poll_on(struct pollfd *out, size_t *n, size_t max, int fd, short ev)
{
    if (*n > 0 && out[*n - 1].fd == fd)
        out[*n - 1].events |= ev; /* a socket both ways: one entry */
    else if (*n < max)
        out[(*n)++] = (struct pollfd){.fd = fd, .events = ev};
}

size_t sf_pump_pollfds(const struct sf_pump *p, struct pollfd *out, size_t max)
{
    size_t n = 0;
    if (!p->started)
        return 0;
    if (p->fd_in >= 0 && (p->in_off < p->in_len || p->pending > 0))
        poll_on(out, &n, max, p->fd_in, POLLOUT);
    int room = sf_pump_room(p) > 0;
    for (int i = 0; i < 2; i++) {
        if (p->fd_out[i] < 0)
            continue;
        if ((room && p->unsent[i].len == 0) || p->remote_closed)
            poll_on(out, &n, max, p->fd_out[i], POLLIN); /* closed: see discard_output */
    }
    return n;
}

void sf_pump_ready(struct sf_pump *p, const struct pollfd *pfd)
{
    /* A callback during this turn may have closed and reused descriptors:
     * act only on what is still this channel's. */
    if ((pfd->events & POLLOUT) && pfd->fd == p->fd_in &&
        (pfd->revents & (POLLOUT | POLLERR | POLLHUP)))
        write_input(p);
    if (!(pfd->events & POLLIN) || !(pfd->revents & (POLLIN | POLLERR | POLLHUP)))
        return;
    for (int i = 0; i < 2; i++)
        if (pfd->fd >= 0 && pfd->fd == p->fd_out[i]) {
            if (p->remote_closed)
                discard_output(p, i);
            else
                read_output(p, i);
            return;
        }
}

int sf_pump_output_done(const struct sf_pump *p)
{
    return p->fd_out[0] < 0 && p->fd_out[1] < 0 && !p->unsent[0].len && !p->unsent[1].len;
}

void sf_pump_tend(struct sf_pump *p)
{
    if (!p->started)
        return;
    if (p->fd_in >= 0 && !input_drained(p))
        write_input(p);
    for (int i = 0; i < 2; i++)
        if (p->unsent[i].len && flush_unsent(p, i) < 0)
            failed(p, &p->fd_out[i], "channel write failed");
    if (p->client_eof && p->fd_in >= 0 && input_drained(p) && p->ops->eof)
        p->ops->eof(p);
}

void sf_pump_send_eof(struct sf_pump *p)
{
    if (!p->eof_sent && !p->unsent[0].len && !p->unsent[1].len && usable(p)) {
        ssh_channel_send_eof(p->ch);
        p->eof_sent = 1;
    }
}

void sf_pump_free(struct sf_pump *p)
{
    if (p->ch) {
        ssh_remove_channel_callbacks(p->ch, &p->cb);
        if (!p->remote_closed && ssh_channel_is_open(p->ch)) {
            /* EOF first: in non-blocking mode ssh_channel_close gives up
             * when its own EOF cannot be flushed at once; sent separately,
             * it is queued. */
            if (!p->eof_sent)
                ssh_channel_send_eof(p->ch);
            ssh_channel_close(p->ch);
        }
        ssh_channel_free(p->ch);
        p->ch = NULL;
    }
    sf_pump_stop(p);
    free(p->inbuf);
    p->inbuf = NULL;
}
