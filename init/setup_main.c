/* envinit-setup: the part of envinit that reads what the image and the
 * user control (see "the two programs" in envinit.h). envinit runs it;
 * it is not meant to be run by hand. */
#include "envinit.h"

#include <stdio.h>

/* The settings live as long as the process, as in envinit's main: a
 * command that ends by returning from main leaves them reachable, not
 * leaked (its key lines are allocated). */
static struct config cfg;

/* `envinit --help`: envinit hands it over, so that PID 1 does not carry
 * the text. */
static void usage(FILE *out)
{
    fprintf(out,
            "usage: envinit [options] [--] [COMMAND [ARG...]]\n"
            "       envinit check | env | status [--json] | ssh-supervise | ssh-stdio\n"
            "       envinit ssh-config [--docker NAME | --kubectl POD [-n NS]]\n"
            "\n"
            "Runs COMMAND as the main process of a developer-environment container:\n"
            "reaps zombies, forwards signals, writes ~/.ssh/environment and\n"
            "~/.ssh/authorized_keys, starts and supervises an SSH server.\n"
            "\n"
            "tini-compatible options:\n"
            "  -s            register as child subreaper (always when not PID 1)\n"
            "  -g            forward signals to COMMAND's whole process group\n"
            "  -p SIGNAL     signal envinit gets when its parent dies\n"
            "  -e CODE       report exit code CODE of COMMAND as 0 (repeatable)\n"
            "  -v            more verbose (repeatable: -vv for debug)\n"
            "  -w            warn for each reaped zombie that is not ours\n"
            "  -r S:R        rewrite signal S to R before forwarding, R 0 drops (dumb-init)\n"
            "  -c, --config PATH   INI file (default " CONFIG_DEFAULT_PATH ", or ENVINIT_CONFIG)\n"
            "  -h, --help    this text\n"
            "      --version print the version\n"
            "\n"
            "Settings (INI key = value under [envinit]; flag; variable):\n");
    config_print_help(out);
    fprintf(out,
            "\nSubcommands:\n"
            "  check          print the effective configuration and plan; change nothing\n"
            "  env            print the ~/.ssh/environment block envinit would write\n"
            "  status [--json]  print the SSH server's status (--json: one JSON object);\n"
            "                 non-zero when it should be up and is not\n"
            "  ssh-supervise  CVM mode: wait for sshd on the port, else run the fallback\n"
            "  ssh-stdio      serve one SSH connection on stdin/stdout (envinit-sshd -i), for\n"
            "                 a client's ProxyCommand: docker exec -i NAME envinit ssh-stdio\n"
            "  ssh-config     print the client's ssh_config Host block for that ProxyCommand,\n"
            "                 host key pinned: --docker NAME, or --kubectl POD [-n NS]\n"
            "\nTINI_SUBREAPER, TINI_KILL_PROCESS_GROUP and TINI_VERBOSITY are honoured.\n");
}

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
    case CMD_HELP:
        usage(stdout);
        return 0;
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
