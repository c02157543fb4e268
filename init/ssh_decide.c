/* The SSH decision table, as one pure function: which server runs
 * on which port, given what envinit found. Every row is a unit test. */
#include "envinit.h"

#include <string.h>

const char *ssh_action_name(enum ssh_action a)
{
    switch (a) {
    case SSH_ACT_OFF:
        return "off";
    case SSH_ACT_EXTERNAL:
        return "external";
    case SSH_ACT_SERVED:
        return "served";
    case SSH_ACT_OPENSSH:
        return "openssh";
    case SSH_ACT_FALLBACK:
        return "fallback";
    case SSH_ACT_CVM_UNITS:
        return "cvm-units";
    case SSH_ACT_NONE_AVAILABLE:
        return "none-available";
    case SSH_ACT_ERROR:
    default:
        return "error";
    }
}

static struct ssh_decision act(enum ssh_action a, int port, bool broken, const char *why)
{
    return (struct ssh_decision){.action = a, .port = port, .port_broken = broken, .why = why};
}

/* Where a server of ours goes when ssh_port is free: ports below 1024
 * need root, so a non-root envinit uses fallback_port. */
static int own_port(const struct ssh_facts *f)
{
    return f->root || f->ssh_port >= 1024 ? f->ssh_port : f->fallback_port;
}

static struct ssh_decision decide_auto(const struct ssh_facts *f, bool busy, bool broken)
{
    if (busy && !broken)
        return act(SSH_ACT_SERVED, f->ssh_port, false,
                   "an SSH server already answers on the port: starting none");
    if (busy && !f->have_fallback)
        return act(SSH_ACT_NONE_AVAILABLE, 0, true,
                   "the port is taken by a non-SSH server and envinit-sshd is not installed");
    if (busy)
        return act(SSH_ACT_FALLBACK, f->fallback_port, true,
                   "the port is taken by a non-SSH server: the fallback runs on fallback_port");
    if (f->have_sshd && f->root)
        return act(SSH_ACT_OPENSSH, f->ssh_port, false, "the image has OpenSSH and envinit is root");
    if (!f->have_fallback)
        return act(SSH_ACT_NONE_AVAILABLE, 0, false,
                   f->have_sshd ? "OpenSSH needs root and envinit-sshd is not installed"
                                : "the image has no OpenSSH sshd and envinit-sshd is not installed");
    if (f->have_sshd)
        return act(SSH_ACT_FALLBACK, own_port(f), false,
                   "OpenSSH needs root: the fallback runs as this user");
    return act(SSH_ACT_FALLBACK, own_port(f), false, "the image has no OpenSSH sshd: the fallback runs");
}

static struct ssh_decision decide_openssh(const struct ssh_facts *f, bool busy, bool broken)
{
    if (!f->have_sshd)
        return act(SSH_ACT_ERROR, 0, broken, "ssh = openssh but the image has no OpenSSH sshd");
    if (!f->root)
        return act(SSH_ACT_ERROR, 0, broken, "ssh = openssh but OpenSSH needs root and envinit is not root");
    if (busy && f->fallback_port == f->ssh_port)
        return act(SSH_ACT_ERROR, 0, broken, "ssh = openssh but the port is taken and fallback_port is the same port");
    if (busy)
        return act(SSH_ACT_OPENSSH, f->fallback_port, broken,
                   "ssh = openssh and the port is taken: OpenSSH runs on fallback_port");
    return act(SSH_ACT_OPENSSH, f->ssh_port, false, "ssh = openssh");
}

static struct ssh_decision decide_fallback(const struct ssh_facts *f, bool busy, bool broken)
{
    if (!f->have_fallback)
        return act(SSH_ACT_ERROR, 0, broken, "ssh = fallback but envinit-sshd is not installed next to envinit");
    if (busy && f->fallback_port == f->ssh_port)
        return act(SSH_ACT_ERROR, 0, broken, "ssh = fallback but the port is taken and fallback_port is the same port");
    if (busy)
        return act(SSH_ACT_FALLBACK, f->fallback_port, broken,
                   "ssh = fallback and the port is taken: the fallback runs on fallback_port");
    return act(SSH_ACT_FALLBACK, own_port(f), false, "ssh = fallback");
}

bool ssh_cvm_units(enum ssh_mode mode)
{
    return mode != SSH_OFF && mode != SSH_EXTERNAL;
}

struct ssh_decision ssh_decide(const struct ssh_facts *f)
{
    if (f->mode == SSH_OFF)
        return act(SSH_ACT_OFF, 0, false, "ssh = off: no SSH server and no key files");
    if (f->mode == SSH_EXTERNAL)
        return act(SSH_ACT_EXTERNAL, f->ssh_port, false,
                   "ssh = external: the image or the platform runs the SSH server");
    if (f->cvm && ssh_cvm_units(f->mode))
        return act(SSH_ACT_CVM_UNITS, f->ssh_port, false,
                   "CVM mode: systemd runs OpenSSH; envinit-ssh.service starts the fallback if nothing listens");
    bool busy = f->listener;
    bool broken = busy && f->probe != SSH_PROBE_SSH;
    struct ssh_decision d;
    switch (f->mode) {
    case SSH_OPENSSH:
        d = decide_openssh(f, busy, broken);
        break;
    case SSH_FALLBACK:
        d = decide_fallback(f, busy, broken);
        break;
    case SSH_AUTO:
    default:
        d = decide_auto(f, busy, broken);
        break;
    }
    /* Either server must become the user: without the capabilities for
     * that, starting one would only fail again at every restart. */
    if ((d.action == SSH_ACT_OPENSSH || d.action == SSH_ACT_FALLBACK) && f->root && f->no_privilege)
        return act(SSH_ACT_ERROR, 0, d.port_broken, f->no_privilege);
    return d;
}

bool ssh_fast_exit(unsigned *count, long uptime_ms)
{
    *count = uptime_ms < SSH_FAST_EXIT_MS ? *count + 1 : 0;
    if (*count < SSH_FAST_EXIT_LIMIT)
        return false;
    *count = 0;
    return true;
}

int ssh_action_parse(const char *name)
{
    for (int a = SSH_ACT_OFF; a <= SSH_ACT_ERROR; a++)
        if (strcmp(name, ssh_action_name((enum ssh_action)a)) == 0)
            return a;
    return -1;
}
