/* Where the requests that reach libssh's message callback go: channel
 * opens and global requests for forwarding (fwd.c), and the session
 * requests libssh has no callback for (pty-req, break, x11-req, agent
 * forwarding: session.c). In one place, so that the forwarding and the
 * session code never call each other, and so that nothing is handled
 * before the client has authenticated. */
#define SF_INTERNAL
#include "sshfallback.h"

#include <libssh/server.h>

/* x11-req: here rather than in a channel callback, because libssh
 * answers success to x11-req whatever that callback does; its fields have
 * no other accessors than these deprecated ones. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int x11_request(struct sf_conn *c, ssh_message msg)
{
    ssh_channel ch = ssh_message_channel_request_channel(msg);
    const char *proto = ssh_message_channel_request_x11_auth_protocol(msg);
    const char *cookie = ssh_message_channel_request_x11_auth_cookie(msg);
    int screen = ssh_message_channel_request_x11_screen_number(msg);
    if (!ch || sf_session_x11(c, ch, proto, cookie, screen) < 0)
        return 1;
    ssh_message_channel_request_reply_success(msg);
    return 0;
}
#pragma GCC diagnostic pop

/* The requests libssh hands to the message callback, and who answers them. */
static const struct {
    int type, sub;
    int (*handle)(struct sf_conn *c, ssh_message msg);
} handlers[] = {
    {SSH_REQUEST_CHANNEL_OPEN, SSH_CHANNEL_DIRECT_TCPIP, sf_fwd_direct_tcpip},
    {SSH_REQUEST_CHANNEL_OPEN, SSH_CHANNEL_DIRECT_STREAMLOCAL, sf_fwd_direct_streamlocal},
    {SSH_REQUEST_GLOBAL, SSH_GLOBAL_REQUEST_TCPIP_FORWARD, sf_fwd_tcpip_forward},
    {SSH_REQUEST_GLOBAL, SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD, sf_fwd_cancel_tcpip_forward},
    {SSH_REQUEST_GLOBAL, SSH_GLOBAL_REQUEST_STREAMLOCAL_FORWARD, sf_fwd_streamlocal_forward},
    {SSH_REQUEST_GLOBAL, SSH_GLOBAL_REQUEST_CANCEL_STREAMLOCAL_FORWARD,
     sf_fwd_cancel_streamlocal_forward},
    {SSH_REQUEST_CHANNEL, SSH_CHANNEL_REQUEST_X11, x11_request},
    {SSH_REQUEST_CHANNEL, SSH_CHANNEL_REQUEST_PTY, sf_session_message},
    {SSH_REQUEST_CHANNEL, SSH_CHANNEL_REQUEST_BREAK, sf_session_message},
    {SSH_REQUEST_CHANNEL, SSH_CHANNEL_REQUEST_AUTH_AGENT, sf_session_agent_refused},
};

/* Channel types a client may ask for that no handler above opens. */
static const char *channel_type_name(int sub)
{
    switch (sub) {
    case SSH_CHANNEL_SESSION:
        return "session";
    case SSH_CHANNEL_FORWARDED_TCPIP:
        return "forwarded-tcpip";
    case SSH_CHANNEL_X11:
        return "x11";
    case SSH_CHANNEL_AUTH_AGENT:
        return "auth-agent@openssh.com";
    default:
        return "unknown";
    }
}

int sf_dispatch_message(ssh_session session, ssh_message msg, void *userdata)
{
    struct sf_conn *c = userdata;
    (void)session;
    if (!c->authenticated)
        return 1;
    int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (handlers[i].type == type && handlers[i].sub == sub)
            return handlers[i].handle(c, msg);
    if (type == SSH_REQUEST_CHANNEL_OPEN)
        sf_conn_refused(c, LOG_INFO, "channel open of type %s from a client; refused",
                        channel_type_name(sub));
    return 1;
}
