/* The command line: tini's short options, dumb-init's --rewrite, and one
 * long option per configuration key (--ssh-port=22 sets ssh_port). Flags
 * are only recorded here; they are applied over file and environment. */
#include "envinit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define N_FIXED_LONG 4 /* help, version, config, verbose */
#define MAX_LONG (N_FIXED_LONG + CONFIG_KEY_COUNT + 1)

static const char *const subcommands[] = {
    [CMD_CHECK] = "check", [CMD_ENV] = "env", [CMD_STATUS] = "status",
    [CMD_SSH_SUPERVISE] = "ssh-supervise", [CMD_PREPARE] = "prepare",
    [CMD_SSH_STDIO] = "ssh-stdio", [CMD_SSH_CONFIG] = "ssh-config",
};

const char *cli_command_name(enum cli_cmd cmd)
{
    return cmd < sizeof subcommands / sizeof subcommands[0] && subcommands[cmd] ? subcommands[cmd] : "";
}

static int add_set(struct cli *cli, const char *key, const char *value, char *err, size_t errlen)
{
    (void)err, (void)errlen; /* room for every word was made by cli_parse */
    cli->sets[cli->n_sets].key = key;
    cli->sets[cli->n_sets].value = value;
    cli->n_sets++;
    return 0;
}

static void build_long_options(struct option *lo, char names[][32])
{
    size_t n = 0;
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n++] = (struct option){"version", no_argument, NULL, 'V'};
    lo[n++] = (struct option){"config", required_argument, NULL, 'c'};
    lo[n++] = (struct option){"verbose", no_argument, NULL, 'v'};
    for (size_t i = 0; i < config_key_count(); i++) {
        const char *k = config_key_name(i);
        size_t j = 0;
        for (; j < 31 && k[j]; j++)
            names[i][j] = k[j] == '_' ? '-' : k[j];
        names[i][j] = '\0';
        /* Booleans may be given bare (--cvm) or with =false. */
        int has = config_key_is_bool(i) ? optional_argument : required_argument;
        lo[n++] = (struct option){names[i], has, NULL, 1000 + (int)i};
    }
    lo[n] = (struct option){0};
}

static bool is_subcommand(const char *arg, enum cli_cmd *cmd)
{
    for (size_t i = 1; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (subcommands[i] && strcmp(arg, subcommands[i]) == 0) {
            *cmd = (enum cli_cmd)i;
            return true;
        }
    return false;
}

/* Room for N flags, in one array reused by every parse: a parse's flags
 * stay valid until the next one, and none is ever unreachable. */
static struct cli_set *room_for_sets(size_t n)
{
    static struct cli_set *sets;
    static size_t cap;
    if (n > cap) {
        struct cli_set *grown = realloc(sets, n * sizeof *grown);
        if (!grown)
            return NULL;
        sets = grown;
        cap = n;
    }
    memset(sets, 0, cap * sizeof *sets);
    return sets;
}

int cli_parse(int argc, char **argv, struct cli *cli, char *err, size_t errlen)
{
    static struct option lo[MAX_LONG];
    static char names[MAX_LONG][32];
    memset(cli, 0, sizeof *cli);
    cli->sets = room_for_sets(argc > 0 ? (size_t)argc : 1);
    if (!cli->sets) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    build_long_options(lo, names);
    optind = 0; /* full reset, so tests can parse repeatedly */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+hsgp:e:vwr:c:V", lo, NULL)) != -1) {
        int r = 0;
        switch (c) {
        case 'h': cli->cmd = CMD_HELP; return 0;
        case 'V': cli->cmd = CMD_VERSION; return 0;
        case 's': r = add_set(cli, "subreaper", "true", err, errlen); break;
        case 'g': r = add_set(cli, "kill_process_group", "true", err, errlen); break;
        case 'w': r = add_set(cli, "warn_on_reap", "true", err, errlen); break;
        case 'p': r = add_set(cli, "parent_death_signal", optarg, err, errlen); break;
        case 'e': r = add_set(cli, "expect_exit", optarg, err, errlen); break;
        case 'r': r = add_set(cli, "rewrite", optarg, err, errlen); break;
        case 'c': cli->config_path = optarg; break;
        case 'v': cli->verbosity++; break;
        case '?':
            if (optopt)
                snprintf(err, errlen, "unknown option -%c or missing value", optopt);
            else
                snprintf(err, errlen, "unknown option or missing value: %s", argv[optind - 1]);
            return -1;
        default:
            if (c >= 1000) {
                size_t i = (size_t)(c - 1000);
                r = add_set(cli, config_key_name(i), optarg ? optarg : "true", err, errlen);
            }
        }
        if (r < 0)
            return -1;
    }
    bool dashdash = optind > 0 && optind <= argc && strcmp(argv[optind - 1], "--") == 0;
    /* `envinit check -- CMD`: the "--" after a subcommand ends its words. */
    if (optind < argc && !dashdash && is_subcommand(argv[optind], &cli->cmd) && ++optind < argc &&
        strcmp(argv[optind], "--") == 0)
        optind++;
    cli->command = optind < argc ? &argv[optind] : NULL;
    return 0;
}

int cli_apply(const struct cli *cli, struct config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < cli->n_sets; i++) {
        char why[512];
        if (config_set(c, cli->sets[i].key, cli->sets[i].value, why, sizeof why) != 0) {
            snprintf(err, errlen, "option for %s: %s", cli->sets[i].key, why);
            return -1;
        }
    }
    if (cli->verbosity)
        c->log_level = LOG_WARN + cli->verbosity > LOG_DEBUG ? LOG_DEBUG : LOG_WARN + cli->verbosity;
    return 0;
}

int config_resolve(int argc, char **argv, char *const *envp, struct cli *cli, struct config *c,
                   char *err, size_t errlen)
{
    config_defaults(c);
    if (cli_parse(argc, argv, cli, err, errlen) < 0)
        return -1;
    const char *path = cli->config_path;
    if (!path)
        for (char *const *e = envp; *e; e++)
            if (strncmp(*e, "ENVINIT_CONFIG=", 15) == 0)
                path = *e + 15;
    if (config_load_file(c, path ? path : CONFIG_DEFAULT_PATH, path == NULL, err, errlen) < 0)
        return -1;
    if (config_load_env(c, envp, err, errlen) < 0)
        return -1;
    if (cli_apply(cli, c, err, errlen) < 0)
        return -1;
    config_default_status_path(c, envp);
    return 0;
}
