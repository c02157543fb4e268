/* envinit-setup: the part of envinit that reads what the image and the
 * user control (see "the two programs" in envinit.h). envinit runs it;
 * it is not meant to be run by hand. */
#include "envinit.h"

#include <stdio.h>

/* The settings live as long as the process, as in envinit's main: a
 * command that ends by returning from main leaves them reachable, not
 * leaked (its key lines are allocated). */
static struct config cfg;

/* `envinit env`: the block as it would be written now. */
static int env_command(const struct config *c)
{
    return environment_print_block(c, ssh_plan_runs_fallback(c), stdout);
}

/* `envinit check`: the settings, then what envinit would do with them. */
static int check_command(const struct config *c, char **command)
{
    config_print(c, stdout);
    printf("\n# plan\n");
    environment_describe(c, stdout);
    ssh_describe_plan(c, stdout);
    if (command) {
        printf("# main command:");
        for (char **a = command; *a; a++)
            printf(" %s", *a);
        printf("\n");
    } else {
        printf("# no main command: runs until SIGTERM\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli;
    char err[1024];
    if (config_resolve(argc, argv, environ, &cli, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "envinit: error: %s\n", err);
        return 2;
    }
    log_set_level((enum log_level)cfg.log_level);
    switch (cli.cmd) {
    case CMD_PREPARE:
        return prepare_command(&cfg);
    case CMD_CHECK:
        return check_command(&cfg, cli.command);
    case CMD_ENV:
        return env_command(&cfg);
    case CMD_STATUS:
        return status_command(&cfg, cli.command);
    case CMD_SSH_SUPERVISE:
        return ssh_supervise_command(&cfg);
    case CMD_SSH_STDIO:
        return ssh_stdio_command(&cfg, cli.command);
    case CMD_SSH_CONFIG:
        return ssh_config_command(&cfg, cli.command);
    default:
        fprintf(stderr, "envinit-setup: envinit runs this program (prepare, check, env, status, "
                        "ssh-supervise, ssh-stdio, ssh-config); run envinit instead\n");
        return 2;
    }
}
