/* The command line: tini's short options, dumb-init's --rewrite, and one
 * long option per configuration key (--ssh-port=22 sets ssh_port). Flags
 * are only recorded here; they are applied over file and environment. */
#include "envinit.h"

#include <stdlib.h>
#include <string.h>

static const char *const subcommands[] = {
    [CMD_CHECK] = "check", [CMD_ENV] = "env", [CMD_STATUS] = "status",
    [CMD_SSH_SUPERVISE] = "ssh-supervise", [CMD_PREPARE] = "prepare",
    [CMD_SSH_STDIO] = "ssh-stdio", [CMD_SSH_CONFIG] = "ssh-config",
};

const char *cli_command_name(enum cli_cmd cmd)
{
    return cmd < sizeof subcommands / sizeof subcommands[0] && subcommands[cmd] ? subcommands[cmd] : "";
}

static void add_set(struct cli *cli, const char *key, const char *value)
{
    /* room for every word was made by cli_parse */
    cli->sets[cli->n_sets].key = key;
    cli->sets[cli->n_sets].value = value;
    cli->n_sets++;
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

/* The options are read here rather than by getopt_long, whose option
 * tables and permutation logic would stay in PID 1's memory for its whole
 * life. The rules are getopt_long's with "+": options end at the first
 * word that is not one, or after "--"; short options may be bundled (-sg)
 * and take their value attached (-e0) or as the next word; a long option
 * may be shortened to any prefix that names only it, and takes its value
 * after "=" or, when it needs one, as the next word. */
struct words {
    int argc;
    char **argv;
    int next;                   /* the first word not read yet */
};

enum parsed { PARSED_ERROR = -1, PARSED_GO_ON, PARSED_DONE };

/* A value for the option just read: ATTACHED when the word held one, else
 * the next word; NULL when there is none. */
static const char *option_value(struct words *w, const char *attached)
{
    if (attached && *attached)
        return attached;
    return w->next < w->argc ? w->argv[w->next++] : NULL;
}

static enum parsed short_option(struct cli *cli, struct words *w, const char *p, char *err, size_t errlen)
{
    for (; *p; p++) {
        const char *value = NULL;
        if (strchr("pecr", *p) && !(value = option_value(w, p + 1))) {
            snprintf(err, errlen, "unknown option -%c or missing value", *p);
            return PARSED_ERROR;
        }
        switch (*p) {
        case 'h': cli->cmd = CMD_HELP; return PARSED_DONE;
        case 'V': cli->cmd = CMD_VERSION; return PARSED_DONE;
        case 's': add_set(cli, "subreaper", "true"); break;
        case 'g': add_set(cli, "kill_process_group", "true"); break;
        case 'w': add_set(cli, "warn_on_reap", "true"); break;
        case 'v': cli->verbosity++; break;
        case 'p': add_set(cli, "parent_death_signal", value); return PARSED_GO_ON;
        case 'e': add_set(cli, "expect_exit", value); return PARSED_GO_ON;
        case 'r': add_set(cli, "rewrite", value); return PARSED_GO_ON;
        case 'c': cli->config_path = value; return PARSED_GO_ON;
        default:
            snprintf(err, errlen, "unknown option -%c or missing value", *p);
            return PARSED_ERROR;
        }
    }
    return PARSED_GO_ON;
}

/* The long options: these four, then one per setting (its key with "-"
 * for "_"). */
static const char *const fixed_long[] = {"help", "version", "config", "verbose"};
#define N_FIXED_LONG (sizeof fixed_long / sizeof fixed_long[0])
enum takes { TAKES_NONE, TAKES_VALUE, TAKES_OPTIONAL };

static const char *long_name(size_t i)
{
    return i < N_FIXED_LONG ? fixed_long[i] : config_key_name(i - N_FIXED_LONG);
}

static enum takes long_takes(size_t i)
{
    if (i < N_FIXED_LONG)
        return i == 2 ? TAKES_VALUE : TAKES_NONE;
    /* Booleans may be given bare (--cvm) or with =false. */
    return config_key_is_bool(i - N_FIXED_LONG) ? TAKES_OPTIONAL : TAKES_VALUE;
}

/* How WORD[0..LEN) compares with long option NAME: 2 the same, 1 a
 * prefix of it, 0 neither. */
static int long_match(const char *word, size_t len, const char *name)
{
    for (size_t i = 0; i < len; i++, name++)
        if (!*name || word[i] != (*name == '_' ? '-' : *name))
            return 0;
    return *name ? 1 : 2;
}

/* The option WORD (without "--", up to any "=") names: an exact match, or
 * the only option it is a prefix of; -1 when none or several. */
static long find_long(const char *word, size_t len)
{
    size_t n = N_FIXED_LONG + config_key_count();
    long found = -1;
    int prefixes = 0;
    for (size_t i = 0; i < n; i++) {
        int m = long_match(word, len, long_name(i));
        if (m == 2)
            return (long)i;
        if (m == 1) {
            found = (long)i;
            prefixes++;
        }
    }
    return prefixes == 1 ? found : -1;
}

static enum parsed long_option(struct cli *cli, struct words *w, const char *word, char *err, size_t errlen)
{
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    long i = len ? find_long(word, len) : -1;
    const char *value = eq ? eq + 1 : NULL;
    enum takes takes = i < 0 ? TAKES_NONE : long_takes((size_t)i);
    if (takes == TAKES_VALUE && !eq)
        value = option_value(w, NULL);
    if (i < 0 || (takes == TAKES_NONE && eq) || (takes == TAKES_VALUE && !value)) {
        snprintf(err, errlen, "unknown option or missing value: --%s", word);
        return PARSED_ERROR;
    }
    switch (i) {
    case 0: cli->cmd = CMD_HELP; return PARSED_DONE;
    case 1: cli->cmd = CMD_VERSION; return PARSED_DONE;
    case 2: cli->config_path = value; return PARSED_GO_ON;
    case 3: cli->verbosity++; return PARSED_GO_ON;
    default: add_set(cli, config_key_name((size_t)i - N_FIXED_LONG), value ? value : "true"); return PARSED_GO_ON;
    }
}

/* Reads the options from W->next on; *DASHDASH: they ended with "--". */
static enum parsed read_options(struct cli *cli, struct words *w, bool *dashdash, char *err, size_t errlen)
{
    while (w->next < w->argc) {
        const char *word = w->argv[w->next];
        if (word[0] != '-' || word[1] == '\0')
            break;
        w->next++;
        if (strcmp(word, "--") == 0) {
            *dashdash = true;
            break;
        }
        enum parsed r = word[1] == '-' ? long_option(cli, w, word + 2, err, errlen)
                                       : short_option(cli, w, word + 1, err, errlen);
        if (r != PARSED_GO_ON)
            return r;
    }
    return PARSED_GO_ON;
}

int cli_parse(int argc, char **argv, struct cli *cli, char *err, size_t errlen)
{
    memset(cli, 0, sizeof *cli);
    cli->sets = room_for_sets(argc > 0 ? (size_t)argc : 1);
    if (!cli->sets) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct words w = {argc, argv, 1};
    bool dashdash = false;
    enum parsed r = read_options(cli, &w, &dashdash, err, errlen);
    if (r != PARSED_GO_ON)
        return r == PARSED_ERROR ? -1 : 0;
    /* `envinit check -- CMD`: the "--" after a subcommand ends its words. */
    if (w.next < argc && !dashdash && is_subcommand(argv[w.next], &cli->cmd) && ++w.next < argc &&
        strcmp(argv[w.next], "--") == 0)
        w.next++;
    cli->command = w.next < argc ? &argv[w.next] : NULL;
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
