/* SSH without a port: `envinit ssh-stdio`, which a client's ProxyCommand
 * (`docker exec -i`, `kubectl exec -i`) runs inside the container, and
 * `envinit ssh-config`, which prints the client's Host block for it. Both
 * run in envinit-setup. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST_KEY_LINE_MAX 1024
#define KUBE_NAMESPACE_FILE "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

/* Appends WORD to CMD's command line (room was left for it). */
static void fallback_append(struct fallback_cmd *cmd, char *word)
{
    size_t n = 0;
    while (cmd->argv[n])
        n++;
    cmd->argv[n] = word;
    cmd->argv[n + 1] = NULL;
}

/* envinit-sshd MODE ("-i", "--print-host-key") with what PID 1 gives the
 * fallback (user, host_keys, fallback_args), so both serve the same key
 * and rules; envinit's log level picks the server's. false when
 * envinit-sshd is not installed (logged). */
static bool stdio_argv(const struct config *c, struct fallback_cmd *cmd, char *mode)
{
    if (!fallback_build_argv(cmd, envfile_self_dir(), 0, c->user)) {
        log_error("envinit-sshd is not installed in %s: no SSH without a port either", envfile_self_dir());
        return false;
    }
    fallback_append(cmd, mode);
    /* Its stderr reaches the client's terminal: quiet unless asked. */
    if (c->log_level <= LOG_WARN)
        fallback_append(cmd, "-q");
    else if (c->log_level == LOG_DEBUG)
        fallback_append(cmd, "-v");
    fallback_add_args(cmd, c->host_keys, c->fallback_config, c->fallback_args);
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

/* ---- envinit ssh-config ---- */

/* A container, pod or namespace name that goes into an ssh_config line and
 * a shell command unquoted: Docker's and Kubernetes' own name characters. */
static bool safe_name(const char *s)
{
    if (!s || !*s || strlen(s) > 253 || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || ascii_isdigit(*s)))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || ascii_isdigit(*s) || *s == '_' ||
              *s == '.' || *s == '-'))
            return false;
    return true;
}

int ssh_config_render(const struct ssh_client_config *r, char *buf, size_t len)
{
    char proxy[1024];
    int n;
    if (r->kubectl && r->ns && r->ns[0])
        n = snprintf(proxy, sizeof proxy, "kubectl exec -i -n %s %s -- %s ssh-stdio", r->ns, r->name, r->envinit);
    else if (r->kubectl)
        n = snprintf(proxy, sizeof proxy, "kubectl exec -i %s -- %s ssh-stdio", r->name, r->envinit);
    else
        n = snprintf(proxy, sizeof proxy, "docker exec -i %s %s ssh-stdio", r->name, r->envinit);
    if (n < 0 || (size_t)n >= sizeof proxy)
        return -1;
    n = snprintf(buf, len,
                 "# %s through `%s exec` (envinit ssh-config). The host key is pinned by\n"
                 "# KnownHostsCommand (OpenSSH 8.5 and later); with an older ssh, drop that\n"
                 "# line and add this one to ~/.ssh/known_hosts:\n"
                 "#   %s %s\n"
                 "Host %s\n"
                 "    User %s\n"
                 "    ProxyCommand %s\n"
                 "    KnownHostsCommand /bin/echo %%H %s\n",
                 r->name, r->kubectl ? "kubectl" : "docker", r->name, r->host_key, r->name, r->user, proxy,
                 r->host_key);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

/* The public line of the key envinit-sshd -i serves, from its
 * --print-host-key. 0, or -1 (logged). */
static int served_host_key(const struct config *c, char *line, size_t len)
{
    struct fallback_cmd cmd;
    int p[2];
    if (!stdio_argv(c, &cmd, "--print-host-key"))
        return -1;
    if (pipe2(p, O_CLOEXEC) < 0) {
        log_error("ssh-config: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(p[1], STDOUT_FILENO) < 0)
            _exit(126);
        execv(cmd.argv[0], cmd.argv);
        _exit(127);
    }
    close(p[1]);
    size_t got = 0;
    ssize_t r = 1;
    while (pid > 0 && got < len - 1 && (r = read(p[0], line + got, len - 1 - got)) != 0)
        if (r > 0)
            got += (size_t)r;
        else if (errno != EINTR)
            break;
    close(p[0]);
    line[got] = '\0';
    int st = -1;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    char *nl = strchr(line, '\n');
    if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !nl || strncmp(line, "ssh-ed25519 ", 12) != 0) {
        log_error("ssh-config: %s --print-host-key gave no host key (%s); see its message above", cmd.exe,
                  pid < 0 ? strerror(errno) : "exit status or output not as expected");
        return -1;
    }
    *nl = '\0';
    return 0;
}

/* Kubernetes runs the pod's containers with KUBERNETES_SERVICE_HOST set;
 * the namespace is the service account's when one is mounted. */
static bool in_kubernetes(char *ns, size_t len)
{
    if (!getenv("KUBERNETES_SERVICE_HOST"))
        return false;
    ns[0] = '\0';
    int fd = open(KUBE_NAMESPACE_FILE, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, ns, len - 1);
    if (fd >= 0)
        close(fd);
    ns[n > 0 ? n : 0] = '\0';
    ns[strcspn(ns, "\n")] = '\0';
    return true;
}

/* --docker NAME | --kubectl POD [-n NS]; neither: this container by its
 * host name (Docker's short id, Kubernetes' pod name). 0, or -1. */
static int parse_target(char **args, struct ssh_client_config *r, char *host, char *ns, size_t len)
{
    for (size_t i = 0; args && args[i]; i++) {
        const char *a = args[i], *v = args[i + 1];
        if (strcmp(a, "--docker") == 0 && v) {
            r->kubectl = false;
            r->name = v;
        } else if (strcmp(a, "--kubectl") == 0 && v) {
            r->kubectl = true;
            r->name = v;
        } else if ((strcmp(a, "-n") == 0 || strcmp(a, "--namespace") == 0) && v) {
            r->ns = v;
        } else {
            log_error("ssh-config: unexpected '%s'; usage: envinit ssh-config [--docker NAME | --kubectl POD [-n NS]]", a);
            return -1;
        }
        i++;
    }
    if (!r->name) {
        if (gethostname(host, len) < 0)
            host[0] = '\0';
        r->name = host;
        r->kubectl = in_kubernetes(ns, len);
        if (r->kubectl && !r->ns && ns[0])
            r->ns = ns;
    }
    if (r->ns && !r->kubectl) {
        log_error("ssh-config: -n is kubectl's namespace; it goes with --kubectl POD");
        return -1;
    }
    if (!safe_name(r->name) || (r->ns && !safe_name(r->ns))) {
        log_error("ssh-config: '%s' is not a container, pod or namespace name (letters, digits, '_', '.', '-')",
                  safe_name(r->name) ? r->ns : r->name);
        return -1;
    }
    return 0;
}

int ssh_config_command(const struct config *c, char **args)
{
    static char host[256], ns[256], key[HOST_KEY_LINE_MAX], envinit[1100], out[4096];
    struct ssh_client_config r = {0};
    if (parse_target(args, &r, host, ns, sizeof host) < 0)
        return 2;
    struct envfile_user u;
    if (environment_user(c, &u) < 0 || served_host_key(c, key, sizeof key) < 0)
        return 1;
    snprintf(envinit, sizeof envinit, "%s/envinit", envfile_self_dir());
    r.user = u.name;
    r.host_key = key;
    r.envinit = envinit;
    if (ssh_config_render(&r, out, sizeof out) < 0) {
        log_error("ssh-config: the Host block does not fit in %zu bytes", sizeof out);
        return 1;
    }
    fputs(out, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
