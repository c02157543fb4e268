/* The listeners a session owns: its agent socket (-A) and its X11 display
 * (-X), and the private 0700 folder they live in (with the Xauthority
 * file). Each joins the forwarding loop (fwd.c), which turns every
 * connection to it into a channel; they go when their session does. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct owner_dir {
    struct owner_dir *next;
    const void *owner;
    char dir[64];
};
static struct owner_dir *dirs;

const char *sf_listen_private_dir(struct sf_conn *c, const void *owner)
{
    for (struct owner_dir *d = dirs; d; d = d->next)
        if (d->owner == owner)
            return d->dir;
    struct owner_dir *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    snprintf(d->dir, sizeof d->dir, "/tmp/envinit-ssh-XXXXXX");
    /* mkdtemp: 0700, and ours, since this process is the user by now */
    if (!mkdtemp(d->dir)) {
        log_warn("%s port %d: private folder /tmp/envinit-ssh-*: %s; forwarding refused",
                 c->peer, c->peer_port, strerror(errno));
        free(d);
        return NULL;
    }
    d->owner = owner;
    d->next = dirs;
    dirs = d;
    return d->dir;
}

int sf_listen_agent(struct sf_conn *c, const void *owner, char *path, size_t size)
{
    const char *dir = sf_listen_private_dir(c, owner);
    if (!dir)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/agent.%d", dir, (int)getpid());
    char what[320];
    snprintf(what, sizeof what, "agent socket %s", sa.sun_path);
    struct sf_listener_spec s = {.kind = SF_FWD_AGENT_LISTEN, .owner = owner, .path = sa.sun_path,
                                 .what = what};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(0177);
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 16) == 0;
    umask(old);
    if (!ok || sf_fwd_listener_add(c, &s, fd) < 0) {
        log_warn("%s port %d: agent socket %s: %s; agent forwarding refused", c->peer,
                 c->peer_port, sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(sa.sun_path);
        return -1;
    }
    snprintf(path, size, "%s", sa.sun_path);
    log_info("%s port %d: %s", c->peer, c->peer_port, what);
    sf_agent_link_add(c, sa.sun_path);
    return 0;
}

static int x11_socket(const struct sf_conn *c, int *display)
{
    const char *addr = c->cfg->x11_use_localhost ? "127.0.0.1" : "0.0.0.0";
    for (unsigned n = c->cfg->x11_display_offset; n < c->cfg->x11_display_offset + 1000; n++) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/tmp/.X11-unix/X%u", n);
        if (n + 6000 > 65535)
            break;
        if (stat(path, &st) == 0) /* a local X server has this display */
            continue;
        int bound, fd = sf_fwd_listen_tcp(addr, (int)(6000 + n), &bound);
        if (fd >= 0) {
            *display = (int)n;
            return fd;
        }
        if (errno != EADDRINUSE)
            return -1;
    }
    errno = EADDRINUSE;
    return -1;
}

int sf_listen_x11(struct sf_conn *c, const void *owner, const char *proto, const char *cookie_hex,
                  int screen, char *display, size_t dsize, char *fake_hex, size_t fsize)
{
    struct sf_x11_cookies x = {0};
    int len = sf_unhex(cookie_hex ? cookie_hex : "", x.real, sizeof x.real);
    if (len < 0 || !proto || strlen(proto) >= sizeof x.proto || fsize < 2 * (size_t)len + 1) {
        sf_conn_refused(c, LOG_INFO, "X11 request with an unusable cookie; refused");
        return -1;
    }
    snprintf(x.proto, sizeof x.proto, "%s", proto);
    x.len = (size_t)len;
    int fd = -1, n = 0;
    if (getentropy(x.fake, x.len) == 0)
        fd = x11_socket(c, &n);
    char what[320];
    snprintf(what, sizeof what, "X11 display :%d on port %d", n, 6000 + n);
    struct sf_listener_spec s = {.kind = SF_FWD_X11_LISTEN, .owner = owner, .display = n,
                                 .x11 = &x, .what = what};
    if (fd < 0 || sf_fwd_listener_add(c, &s, fd) < 0) {
        log_warn("%s port %d: X11 display: %s; X11 forwarding not set up", c->peer,
                 c->peer_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (size_t i = 0; i < x.len; i++)
        snprintf(fake_hex + 2 * i, 3, "%02x", x.fake[i]);
    snprintf(display, dsize, "localhost:%d.%d", n, screen);
    log_info("%s port %d: %s", c->peer, c->peer_port, what);
    return 0;
}

static void remove_dir(const void *owner)
{
    for (struct owner_dir **pp = &dirs; *pp; pp = &(*pp)->next)
        if ((*pp)->owner == owner) {
            struct owner_dir *d = *pp;
            char path[128];
            snprintf(path, sizeof path, "%s/Xauthority", d->dir);
            unlink(path);
            if (rmdir(d->dir) < 0)
                log_debug("%s: %s; left in place", d->dir, strerror(errno));
            *pp = d->next;
            free(d);
            return;
        }
}

void sf_listen_x11_release(struct sf_conn *c, const void *owner)
{
    sf_fwd_stop_owned(c, owner, 1);
}

void sf_listen_session_ended(struct sf_conn *c, const void *owner)
{
    sf_fwd_stop_owned(c, owner, 0);
    remove_dir(owner);
}

void sf_listen_close_all(void)
{
    while (dirs)
        remove_dir(dirs->owner);
}
