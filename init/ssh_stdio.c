/* SSH without a port: `envinit ssh-stdio`, which a client's ProxyCommand
 * (`docker exec -i`, `kubectl exec -i`) runs inside the container. It runs
 * in envinit-setup. */
#include "envinit.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Appends WORD to CMD's command line (room was left for it). */
static void fallback_append(struct fallback_cmd *cmd, char *word)
{
    size_t n = 0;
    while (cmd->argv[n])
        n++;
    cmd->argv[n] = word;
    cmd->argv[n + 1] = NULL;
}

/* envinit-sshd MODE ("-i") with what PID 1 gives the
 * fallback (user, host_keys, fallback_args), so both serve the same key
 * and rules; envinit's log level picks the server's. false when
 * envinit-sshd is not installed (logged). */
static bool stdio_argv(const struct config *c, struct fallback_cmd *cmd, char *mode)
{
    if (!fallback_build_argv(cmd, self_dir(), 0, c->user)) {
        log_error("envinit-sshd is not installed in %s: no SSH without a port either", self_dir());
        return false;
    }
    fallback_append(cmd, mode);
    /* Its stderr reaches the client's terminal: quiet unless asked. */
    if (c->log_level <= LOG_WARN)
        fallback_append(cmd, "-q");
    else if (c->log_level == LOG_DEBUG)
        fallback_append(cmd, "-v");
    fallback_add_args(cmd, c->host_keys, c->fallback_args);
    return true;
}

int ssh_stdio_command(const struct config *c, char **args)
{
    if (args && args[0]) {
        log_error("ssh-stdio takes no arguments ('%s'); settings go before it or in ENVINIT_ variables", args[0]);
        return 2;
    }
    if (c->ssh == SSH_OFF) {
        log_error("ssh-stdio: ssh = off: SSH access is disabled");
        return 1;
    }
    struct fallback_cmd cmd;
    if (!stdio_argv(c, &cmd, "-i"))
        return 1;
    /* The same process carries on as the server: stdin and stdout are its. */
    execv(cmd.argv[0], cmd.argv);
    log_error("ssh-stdio: cannot run %s: %s", cmd.argv[0], strerror(errno));
    return 1;
}
