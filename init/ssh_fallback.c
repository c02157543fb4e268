/* The command line of envinit-sshd, the bundled fallback server (see
 * sshfallback/sshfallback.h). It is installed next to envinit and started
 * directly: static (or, sanitized, linked to the bundle's own loader and
 * ../lib), it uses nothing of the image's libc. */
#include "envinit.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FALLBACK_NAME "envinit-sshd"

static bool is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

bool fallback_build_argv(struct fallback_cmd *cmd, const char *self_dir, int port, const char *user)
{
    memset(cmd, 0, sizeof *cmd);
    if (snprintf(cmd->exe, sizeof cmd->exe, "%s/%s", self_dir, FALLBACK_NAME) >= (int)sizeof cmd->exe ||
        !is_executable(cmd->exe))
        return false;
    snprintf(cmd->port, sizeof cmd->port, "%d", port);
    snprintf(cmd->user, sizeof cmd->user, "%s", user ? user : "");
    size_t n = 0;
    cmd->argv[n++] = cmd->exe;
    if (port > 0) {
        cmd->argv[n++] = "--port";
        cmd->argv[n++] = cmd->port;
    }
    if (cmd->user[0]) {
        cmd->argv[n++] = "--user";
        cmd->argv[n++] = cmd->user;
    }
    cmd->argv[n] = NULL;
    return true;
}

/* Appends --host-key HOST_KEYS (the host_keys setting, "" for none), -f
 * CONFIG (fallback_config, "" for none) and WORDS (fallback_args:
 * envinit-sshd's own switches such as --no-port-forwarding, separated by
 * blanks; on envinit-sshd's command line they win over the file). Words
 * beyond the argv's room are dropped with a warning rather than cut in the
 * middle. */
void fallback_add_args(struct fallback_cmd *cmd, const char *host_keys, const char *config, const char *words)
{
    size_t n = 0;
    while (cmd->argv[n])
        n++;
    if (host_keys && host_keys[0]) {
        snprintf(cmd->host_keys, sizeof cmd->host_keys, "%s", host_keys);
        cmd->argv[n++] = "--host-key";
        cmd->argv[n++] = cmd->host_keys;
    }
    if (config && config[0]) {
        snprintf(cmd->config, sizeof cmd->config, "%s", config);
        cmd->argv[n++] = "-f";
        cmd->argv[n++] = cmd->config;
    }
    snprintf(cmd->extra, sizeof cmd->extra, "%s", words ? words : "");
    for (char *save = NULL, *w = strtok_r(cmd->extra, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n == FALLBACK_ARGV_MAX - 1) {
            log_warn("fallback_args: envinit-sshd's command line holds %d words; '%s' and the rest are ignored",
                     FALLBACK_ARGV_MAX - 1, w);
            break;
        }
        cmd->argv[n++] = w;
    }
    cmd->argv[n] = NULL;
}
