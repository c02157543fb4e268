/* TRANSITIONAL: weak stand-ins until init/ssh.c, cvm.c and status.c land;
 * each says plainly that the feature is not built. Removed at integration. */
#include "envinit.h"

__attribute__((weak)) int ssh_orchestrate(const struct config *c, const char *dir)
{
    (void)dir;
    if (c->ssh != SSH_OFF)
        log_warn("SSH orchestration is not built into this envinit; no SSH server started");
    return 0;
}
__attribute__((weak)) int status_command(const struct config *c)
{
    (void)c;
    log_error("status: SSH orchestration is not built into this envinit");
    return 1;
}
__attribute__((weak)) int ssh_supervise_command(const struct config *c, const char *dir)
{
    (void)c, (void)dir;
    log_error("ssh-supervise: SSH orchestration is not built into this envinit");
    return 1;
}
__attribute__((weak)) int cvm_exec_systemd(const struct config *c, char *const argv[], char *const envp[])
{
    (void)c, (void)argv, (void)envp;
    log_error("CVM mode is not built into this envinit; carrying on as PID 1");
    return -1;
}
__attribute__((weak)) void ssh_describe_plan(const struct config *c, FILE *out)
{
    fprintf(out, "# ssh = %s (orchestration not built)\n", ssh_mode_name(c->ssh));
}

#include "../envfile/envfile.h"
__attribute__((weak)) int envfile_install(const struct envfile_request *req)
{
    (void)req;
    log_warn("envfile is not built into this envinit; no SSH files written");
    return 0;
}
__attribute__((weak)) char *envfile_render_for(const struct envfile_request *req)
{
    (void)req;
    log_error("envfile is not built into this envinit");
    return NULL;
}
__attribute__((weak)) int envfile_resolve_user(const struct envfile_request *req, struct envfile_user *out)
{
    (void)req, (void)out;
    return -1;
}
__attribute__((weak)) void (*envfile_log)(int level, const char *msg);
