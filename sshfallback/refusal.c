/* Refusals of what a client may ask for again and again (sessions past
 * max-sessions, forwards, channel types never opened, ptys under no-pty):
 * the first few of a connection are logged, the rest counted, so that a
 * client cannot flood the log. A leaf of the connection's files: the
 * dispatcher, the sessions and the forwards all report here. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <stdarg.h>
#include <stdio.h>

void sf_conn_refused(struct sf_conn *c, enum log_level level, const char *fmt, ...)
{
    if (++c->refusals > SF_REFUSALS_LOGGED)
        return;
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    log_msg(level, "%s port %d: %s%s", c->peer, c->peer_port, what,
            c->refusals == SF_REFUSALS_LOGGED
                ? " (further refusals on this connection are counted, not logged)"
                : "");
}

