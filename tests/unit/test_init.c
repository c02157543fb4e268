/* Unit tests of init/: command line, configuration precedence and errors,
 * signal names, forwarding set and rewriting, exit statuses, backoff. */
#include "../../init/envinit.h"
#include "unit.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char err[1024];

static int parse(struct cli *cli, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return cli_parse(argc, argv, cli, err, sizeof err);
}

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/envinit-unit-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

START_TEST(cli_tini_flags)
{
    char *argv[] = {"envinit", "-s", "-g", "-p", "SIGKILL", "-e", "143", "-e", "7", "-vv", "-w",
                    "--", "sleep", "1", NULL};
    struct cli cli;
    ck_assert_int_eq(parse(&cli, argv), 0);
    ck_assert_int_eq(cli.cmd, CMD_RUN);
    ck_assert_int_eq(cli.verbosity, 2);
    ck_assert_str_eq(cli.command[0], "sleep");
    ck_assert_str_eq(cli.command[1], "1");
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(cli_apply(&cli, &c, err, sizeof err), 0);
    ck_assert_int_eq(c.subreaper, 1);
    ck_assert_int_eq(c.kill_group, 1);
    ck_assert_int_eq(c.parent_death_signal, SIGKILL);
    ck_assert_int_eq(c.warn_on_reap, 1);
    ck_assert_int_eq(c.log_level, LOG_DEBUG);
    ck_assert_int_eq(exit_code_remap(&c, 143), 0);
    ck_assert_int_eq(exit_code_remap(&c, 7), 0);
    ck_assert_int_eq(exit_code_remap(&c, 8), 8);
}
END_TEST

/* An empty parent death signal is none, the default, as `envinit config`
 * prints it: what envinit prints it reads back. */
START_TEST(config_empty_signal_is_none)
{
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(config_set(&c, "parent_death_signal", "TERM", err, sizeof err), 0);
    ck_assert_int_eq(c.parent_death_signal, SIGTERM);
    ck_assert_int_eq(config_set(&c, "parent_death_signal", "", err, sizeof err), 0);
    ck_assert_int_eq(c.parent_death_signal, 0);
    ck_assert_int_lt(config_set(&c, "parent_death_signal", "SIGNOPE", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "not a signal name"));
    config_free(&c);
}
END_TEST

/* tini takes every exit code in one command line: so do we, as flags and
 * as one list, with no silent cap anywhere on the way. */
START_TEST(cli_every_exit_code)
{
    static char words[256][8];
    static char *argv[2 + 512 + 3];
    size_t n = 0;
    argv[n++] = "envinit";
    for (int code = 0; code < 256; code++) {
        snprintf(words[code], sizeof words[code], "%d", code);
        argv[n++] = "-e";
        argv[n++] = words[code];
    }
    argv[n++] = "--";
    argv[n++] = "true";
    argv[n] = NULL;
    struct cli cli;
    ck_assert_int_eq(cli_parse((int)n, argv, &cli, err, sizeof err), 0);
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(cli_apply(&cli, &c, err, sizeof err), 0);
    for (int code = 0; code < 256; code++)
        ck_assert_int_eq(exit_code_remap(&c, code), 0);
    ck_assert_str_eq(cli.command[0], "true");
    /* the same as one list (ENVINIT_EXPECT_EXIT, the INI file) */
    static char list[256 * 4 + 1];
    size_t len = 0;
    for (int code = 0; code < 256; code++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", code ? "," : "", code);
    config_defaults(&c);
    ck_assert_int_eq(config_set(&c, "expect_exit", list, err, sizeof err), 0);
    ck_assert_int_eq(exit_code_remap(&c, 255), 0);
    ck_assert_int_eq(exit_code_remap(&c, 0), 0);
    ck_assert_int_eq(config_set(&c, "expect_exit", "256", err, sizeof err), -2);
    /* any number of flags: 2000 of them, every one applied */
    static char *many[2 + 2 * 2000];
    n = 0;
    many[n++] = "envinit";
    for (int i = 0; i < 2000; i++) {
        many[n++] = "-e";
        many[n++] = i == 1999 ? "77" : "1";
    }
    many[n] = NULL;
    ck_assert_int_eq(cli_parse((int)n, many, &cli, err, sizeof err), 0);
    ck_assert_uint_eq(cli.n_sets, 2000);
    config_defaults(&c);
    ck_assert_int_eq(cli_apply(&cli, &c, err, sizeof err), 0);
    ck_assert_int_eq(exit_code_remap(&c, 77), 0);
}
END_TEST

START_TEST(cli_command_without_dashdash)
{
    char *argv[] = {"envinit", "-g", "sh", "-c", "exit 3", NULL};
    struct cli cli;
    ck_assert_int_eq(parse(&cli, argv), 0);
    ck_assert_str_eq(cli.command[0], "sh");
    ck_assert_str_eq(cli.command[1], "-c"); /* options after COMMAND belong to it */
}
END_TEST

/* getopt_long's rules with "+", which cli_parse follows without it. */
START_TEST(cli_getopt_rules)
{
    struct cli cli;
    char *bundled[] = {"envinit", "-sgvv", "-e3", "-e", "4", "-p", "KILL", "--", "-x", NULL};
    ck_assert_int_eq(parse(&cli, bundled), 0);
    ck_assert_uint_eq(cli.n_sets, 5);
    ck_assert_str_eq(cli.sets[2].key, "expect_exit");
    ck_assert_str_eq(cli.sets[2].value, "3");
    ck_assert_str_eq(cli.sets[3].value, "4");
    ck_assert_str_eq(cli.sets[4].value, "KILL");
    ck_assert_int_eq(cli.verbosity, 2);
    ck_assert_str_eq(cli.command[0], "-x"); /* after --, a word of the command */
    char *longs[] = {"envinit", "--ssh-port", "2022", "--grace=3", "--cvm", "--conf", "/x.ini", "-", NULL};
    ck_assert_int_eq(parse(&cli, longs), 0);
    ck_assert_uint_eq(cli.n_sets, 3);
    ck_assert_str_eq(cli.sets[0].key, "ssh_port");
    ck_assert_str_eq(cli.sets[0].value, "2022");
    ck_assert_str_eq(cli.sets[1].value, "3");
    ck_assert_str_eq(cli.sets[2].key, "cvm");
    ck_assert_str_eq(cli.sets[2].value, "true"); /* a boolean given bare */
    ck_assert_str_eq(cli.config_path, "/x.ini"); /* --conf: the only option it begins */
    ck_assert_str_eq(cli.command[0], "-"); /* a lone dash is not an option */
    char *value_dash[] = {"envinit", "-c", "--", "true", NULL};
    ck_assert_int_eq(parse(&cli, value_dash), 0);
    ck_assert_str_eq(cli.config_path, "--"); /* a required value is the next word, whatever it is */
    ck_assert_str_eq(cli.command[0], "true");
    char *bad[][3] = {{"envinit", "-x", NULL},       {"envinit", "-e", NULL},
                      {"envinit", "--ssh-port", NULL}, {"envinit", "--help=1", NULL},
                      {"envinit", "--s=1", NULL},      {"envinit", "--no-such", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(parse(&cli, bad[i]), -1); /* --s: ambiguous */
    ck_assert_str_eq(err, "unknown option or missing value: --no-such");
}
END_TEST

START_TEST(cli_subcommands)
{
    struct cli cli;
    char *a1[] = {"envinit", "check", NULL};
    ck_assert_int_eq(parse(&cli, a1), 0);
    ck_assert_int_eq(cli.cmd, CMD_CHECK);
    char *a2[] = {"envinit", "--", "status", NULL};
    ck_assert_int_eq(parse(&cli, a2), 0);
    ck_assert_int_eq(cli.cmd, CMD_RUN); /* after --, a program named status */
    ck_assert_str_eq(cli.command[0], "status");
    char *a3[] = {"envinit", "--version", NULL};
    ck_assert_int_eq(parse(&cli, a3), 0);
    ck_assert_int_eq(cli.cmd, CMD_VERSION);
    char *a4[] = {"envinit", "-h", NULL};
    ck_assert_int_eq(parse(&cli, a4), 0);
    ck_assert_int_eq(cli.cmd, CMD_HELP);
    char *a5[] = {"envinit", "env", NULL};
    ck_assert_int_eq(parse(&cli, a5), 0);
    ck_assert_int_eq(cli.cmd, CMD_ENV);
    ck_assert_ptr_null(cli.command);
    /* check's command, with or without "--" after the subcommand */
    char *a6[] = {"envinit", "-v", "check", "--", "sleep", "5", NULL};
    ck_assert_int_eq(parse(&cli, a6), 0);
    ck_assert_int_eq(cli.cmd, CMD_CHECK);
    ck_assert_str_eq(cli.command[0], "sleep");
    char *a7[] = {"envinit", "check", "sleep", NULL};
    ck_assert_int_eq(parse(&cli, a7), 0);
    ck_assert_str_eq(cli.command[0], "sleep");
}
END_TEST

START_TEST(cli_long_options_for_keys)
{
    char *argv[] = {"envinit", "--ssh-port=2200", "--cvm", "--ssh", "off", "--grace=2.5",
                    "--rewrite", "15:3", "-r", "1:0", NULL};
    struct cli cli;
    ck_assert_int_eq(parse(&cli, argv), 0);
    ck_assert_ptr_null(cli.command);
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(cli_apply(&cli, &c, err, sizeof err), 0);
    ck_assert_int_eq(c.ssh_port, 2200);
    ck_assert_int_eq(c.cvm, 1);
    ck_assert_int_eq(c.ssh, SSH_OFF);
    ck_assert_int_eq(c.grace_ms, 2500);
    ck_assert_int_eq(signal_rewrite(&c, SIGTERM), SIGQUIT);
    ck_assert_int_eq(signal_rewrite(&c, SIGHUP), 0);
    ck_assert_int_eq(signal_rewrite(&c, SIGUSR1), SIGUSR1);
}
END_TEST

START_TEST(cli_bad_options)
{
    struct cli cli;
    char *a1[] = {"envinit", "-x", NULL};
    ck_assert_int_eq(parse(&cli, a1), -1);
    char *a2[] = {"envinit", "-p", NULL};
    ck_assert_int_eq(parse(&cli, a2), -1);
    char *a3[] = {"envinit", "--no-such-thing", NULL};
    ck_assert_int_eq(parse(&cli, a3), -1);
    char *a4[] = {"envinit", "--ssh-port=0", NULL};
    ck_assert_int_eq(parse(&cli, a4), 0);
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(cli_apply(&cli, &c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "ssh_port"));
}
END_TEST

START_TEST(config_file_valid)
{
    char *path = write_tmp("; comment\n[envinit]\nssh = openssh\nssh_port = 2022\ngrace = 0.25\n"
                           "user = dev\ncvm = yes\nauthorized_keys = ssh-ed25519 AAAA a\n"
                           "authorized_keys = ssh-ed25519 BBBB b\netc_environment = remove\n");
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load_file(&c, path, 0, err, sizeof err), 0);
    ck_assert_int_eq(c.ssh, SSH_OPENSSH);
    ck_assert_int_eq(c.ssh_port, 2022);
    ck_assert_int_eq(c.grace_ms, 250);
    ck_assert_str_eq(c.user, "dev");
    ck_assert_int_eq(c.cvm, 1);
    ck_assert_uint_eq(c.n_authorized_keys, 2);
    ck_assert_str_eq(c.authorized_keys[1], "ssh-ed25519 BBBB b");
    ck_assert_int_eq(c.etc_environment, ETC_ENV_REMOVE);
    ck_assert_str_eq(c.config_path, path);
    config_free(&c);
    unlink(path);
}
END_TEST

/* The inih library's syntax, without its 200-byte line limit. */
START_TEST(config_file_syntax)
{
    static char text[4096];
    char key[1500];
    memset(key, 'A', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    snprintf(text, sizeof text,
             "\xEF\xBB\xBF; a comment\n# another\n[envinit]\r\n  ssh_port: 2022 ; inline comment\n"
             "user = a;b\n\nauthorized_keys = ssh-rsa %s long\n   ssh-ed25519 CCCC continued ; note\n"
             "fallback_args =\n",
             key);
    char *path = write_tmp(text);
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load_file(&c, path, 0, err, sizeof err), 0);
    ck_assert_int_eq(c.ssh_port, 2022);
    ck_assert_str_eq(c.user, "a;b"); /* ";" starts a comment only after a blank */
    ck_assert_uint_eq(c.n_authorized_keys, 2);
    ck_assert_uint_eq(strlen(c.authorized_keys[0]), strlen(key) + 13);
    ck_assert_str_eq(c.authorized_keys[1], "ssh-ed25519 CCCC continued");
    ck_assert_str_eq(c.fallback_args, "");
    config_free(&c);
    unlink(path);
}
END_TEST

static void expect_file_error(const char *text, const char *want)
{
    char *path = write_tmp(text);
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load_file(&c, path, 0, err, sizeof err), -1);
    char full[256];
    snprintf(full, sizeof full, "%s:%s", path, want);
    ck_assert_msg(strstr(err, full) != NULL, "error '%s' lacks '%s'", err, full);
    config_free(&c);
    unlink(path);
}

START_TEST(config_file_errors)
{
    expect_file_error("[envinit]\nssh = auto\nsssh = off\n", "3: unknown key 'sssh'");
    expect_file_error("[other]\nssh = off\n", "2: unknown section [other]");
    expect_file_error("ssh_port = 70000\n", "1: ssh_port: '70000' is not a port");
    expect_file_error("\n\ncvm = maybe\n", "3: cvm: 'maybe' is not a boolean");
    expect_file_error("[envinit\nssh = off\n", "1: not an INI line");
    expect_file_error("ssh = off\njust words\n", "2: not an INI line");
    expect_file_error("[envinit]\nkey ;= 1\n", "2: not an INI line"); /* the comment hides the = */
    expect_file_error("ssh = sometimes\n", "1: ssh: 'sometimes' is not one of");
    expect_file_error("grace = -1\n", "1: grace:");
    expect_file_error("[envinit]\nthis is not ini\n", "2:");
}
END_TEST

START_TEST(config_missing_file)
{
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load_file(&c, "/nonexistent/envinit.ini", 1, err, sizeof err), 0);
    ck_assert_str_eq(c.config_path, "");
    ck_assert_int_eq(config_load_file(&c, "/nonexistent/envinit.ini", 0, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/envinit.ini"));
}
END_TEST

START_TEST(config_precedence)
{
    char *path = write_tmp("ssh = openssh\nssh_port = 2022\ngrace = 3\nfallback_port = 3000\n");
    char cfgvar[128];
    snprintf(cfgvar, sizeof cfgvar, "ENVINIT_CONFIG=%s", path);
    char *envp[] = {cfgvar, "ENVINIT_SSH_PORT=2023", "ENVINIT_GRACE=4", "TINI_VERBOSITY=3",
                    "TINI_KILL_PROCESS_GROUP=", NULL};
    char *argv[] = {"envinit", "--grace=5", "true", NULL};
    struct cli cli;
    struct config c;
    ck_assert_int_eq(config_resolve(3, argv, envp, &cli, &c, err, sizeof err), 0);
    ck_assert_int_eq(c.ssh, SSH_OPENSSH);         /* file only */
    ck_assert_int_eq(c.fallback_port, 3000);      /* file only */
    ck_assert_int_eq(c.ssh_port, 2023);           /* env over file */
    ck_assert_int_eq(c.grace_ms, 5000);           /* flag over env over file */
    ck_assert_int_eq(c.log_level, LOG_DEBUG);     /* tini's variable */
    ck_assert_int_eq(c.kill_group, 1);            /* presence means on, as in tini */
    ck_assert_int_eq(c.openssh_recommended, 1);   /* default */
    config_free(&c);
    unlink(path);
}
END_TEST

START_TEST(config_env_errors)
{
    char *envp[] = {"ENVINIT_SSH=maybe", NULL};
    struct config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load_env(&c, envp, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "ENVINIT_SSH"));
    char *envp2[] = {"ENVINIT_AUTHORIZED_KEYS=ssh-ed25519 AAAA one\r\n\n  ssh-ed25519 BBBB two  \n", NULL};
    config_defaults(&c);
    ck_assert_int_eq(config_load_env(&c, envp2, err, sizeof err), 0);
    ck_assert_uint_eq(c.n_authorized_keys, 2);
    ck_assert_str_eq(c.authorized_keys[0], "ssh-ed25519 AAAA one");
    ck_assert_str_eq(c.authorized_keys[1], "ssh-ed25519 BBBB two");
    config_free(&c);
}
END_TEST

START_TEST(config_value_parsers)
{
    long ms;
    ck_assert_int_eq(config_parse_seconds("10", &ms), 0);
    ck_assert_int_eq(ms, 10000);
    ck_assert_int_eq(config_parse_seconds("0.125", &ms), 0);
    ck_assert_int_eq(ms, 125);
    ck_assert_int_eq(config_parse_seconds("1.5s", &ms), 0);
    ck_assert_int_eq(ms, 1500);
    ck_assert_int_eq(config_parse_seconds("x", &ms), -1);
    ck_assert_int_eq(config_parse_seconds("1e3", &ms), -1);
    ck_assert_int_eq(config_parse_bool("Yes"), 1);
    ck_assert_int_eq(config_parse_bool("off"), 0);
    ck_assert_int_eq(config_parse_bool("2"), -1);
}
END_TEST

START_TEST(signal_names)
{
    ck_assert_int_eq(signal_parse("TERM"), SIGTERM);
    ck_assert_int_eq(signal_parse("SIGKILL"), SIGKILL);
    ck_assert_int_eq(signal_parse("usr1"), SIGUSR1);
    ck_assert_int_eq(signal_parse("9"), 9);
    ck_assert_int_eq(signal_parse("RTMIN+2"), SIGRTMIN + 2);
    ck_assert_int_eq(signal_parse("SIGRTMAX-1"), SIGRTMAX - 1);
    ck_assert_int_eq(signal_parse("NOPE"), -1);
    ck_assert_int_eq(signal_parse("0"), -1);
    ck_assert_int_eq(signal_parse("99"), -1);
    ck_assert_str_eq(signal_name(SIGHUP), "HUP");
}
END_TEST

START_TEST(signal_forwarded_set)
{
    int excluded[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS,
                      SIGCHLD, SIGKILL, SIGSTOP, SIGTTIN, SIGTTOU};
    for (size_t i = 0; i < sizeof excluded / sizeof excluded[0]; i++)
        ck_assert_msg(!signal_is_forwarded(excluded[i]), "%d forwarded", excluded[i]);
    int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
                       SIGCONT, SIGTSTP, SIGWINCH, SIGURG, SIGPWR, SIGRTMIN, SIGRTMAX};
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        ck_assert_msg(signal_is_forwarded(forwarded[i]), "%d not forwarded", forwarded[i]);
}
END_TEST

START_TEST(signal_rewrite_parse)
{
    int f, t;
    ck_assert_int_eq(signal_parse_rewrite("15:3", &f, &t), 0);
    ck_assert_int_eq(f, 15);
    ck_assert_int_eq(t, 3);
    ck_assert_int_eq(signal_parse_rewrite("TERM:QUIT", &f, &t), 0);
    ck_assert_int_eq(t, SIGQUIT);
    ck_assert_int_eq(signal_parse_rewrite("HUP:0", &f, &t), 0);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(signal_parse_rewrite("15", &f, &t), -1);
    ck_assert_int_eq(signal_parse_rewrite("15:BOGUS", &f, &t), -1);
    ck_assert_int_eq(signal_parse_rewrite(":3", &f, &t), -1);
}
END_TEST

START_TEST(exit_status_mapping)
{
    ck_assert_int_eq(exit_code_of(0), 0);
    ck_assert_int_eq(exit_code_of(7 << 8), 7);
    ck_assert_int_eq(exit_code_of(255 << 8), 255);
    ck_assert_int_eq(exit_code_of(SIGKILL), 137);
    ck_assert_int_eq(exit_code_of(SIGTERM), 143);
    char buf[96];
    describe_status(SIGSEGV | 0x80, buf, sizeof buf);
    ck_assert_str_eq(buf, "killed by SIGSEGV (core dumped)");
    describe_status(3 << 8, buf, sizeof buf);
    ck_assert_str_eq(buf, "exited with status 3");
}
END_TEST

START_TEST(backoff_sequence)
{
    long d = backoff_next(0, 0);
    ck_assert_int_eq(d, 100);
    long want[] = {200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        d = backoff_next(d, 50);
        ck_assert_int_eq(d, want[i]);
    }
    ck_assert_int_eq(backoff_next(30000, 60000), 100); /* a minute up: start over */
    ck_assert_int_eq(backoff_next(800, 59999), 1600);
}
END_TEST

START_TEST(log_levels)
{
    ck_assert_int_eq(log_parse_level("debug"), LOG_DEBUG);
    ck_assert_int_eq(log_parse_level("warn"), LOG_WARN);
    ck_assert_int_eq(log_parse_level("2"), LOG_INFO);
    ck_assert_int_eq(log_parse_level("9"), LOG_DEBUG);
    ck_assert_int_eq(log_parse_level("loud"), -1);
}
END_TEST

/* Records what service_lines_split emits, one "line|t" or "line|-" each. */
struct emitted {
    char lines[8][1200];
    int n;
};

static void record_line(const char *line, bool truncated, void *ctx)
{
    struct emitted *e = ctx;
    ck_assert_int_lt(e->n, 8);
    snprintf(e->lines[e->n++], sizeof e->lines[0], "%s|%c", line, truncated ? 't' : '-');
}

/* Feeds TEXT as one read into BUF (CAP bytes) holding *LEN already. */
static void feed(char *buf, size_t cap, size_t *len, bool *dropping, const char *text, bool eof,
                 struct emitted *e)
{
    size_t n = strlen(text);
    ck_assert_uint_le(*len + n, cap - 1);
    memcpy(buf + *len, text, n);
    *len += n;
    service_lines_split(buf, len, cap, dropping, eof, record_line, e);
}

START_TEST(service_lines_splitting)
{
    char buf[16];
    size_t len = 0;
    bool dropping = false;
    struct emitted e = {.n = 0};
    feed(buf, sizeof buf, &len, &dropping, "one\ntw", false, &e);
    ck_assert_int_eq(e.n, 1);
    ck_assert_str_eq(e.lines[0], "one|-");
    ck_assert_uint_eq(len, 2);
    feed(buf, sizeof buf, &len, &dropping, "o\n", false, &e);
    ck_assert_str_eq(e.lines[1], "two|-");
    ck_assert_uint_eq(len, 0);
    /* 15 bytes without a newline fill the buffer: cut, and what follows up
     * to the newline is dropped, however many reads it takes. */
    feed(buf, sizeof buf, &len, &dropping, "0123456789abcde", false, &e);
    ck_assert_str_eq(e.lines[2], "0123456789abcde|t");
    feed(buf, sizeof buf, &len, &dropping, "envinit: error", false, &e);
    feed(buf, sizeof buf, &len, &dropping, ": forged\nnext\n", false, &e);
    ck_assert_int_eq(e.n, 4);
    ck_assert_str_eq(e.lines[3], "next|-");
    /* At the end, an unfinished line is logged whole. */
    feed(buf, sizeof buf, &len, &dropping, "last", true, &e);
    ck_assert_int_eq(e.n, 5);
    ck_assert_str_eq(e.lines[4], "last|-");
    ck_assert_uint_eq(len, 0);
    ck_assert(!dropping);
}
END_TEST

START_TEST(service_line_levels)
{
    const char *text;
    ck_assert_int_eq(service_line_level("envinit-sshd", "envinit-sshd: info: key exchange failed: x", &text),
                     LOG_INFO);
    ck_assert_str_eq(text, "key exchange failed: x");
    ck_assert_int_eq(service_line_level("envinit-sshd", "envinit-sshd: error: no host key", &text), LOG_ERROR);
    ck_assert_str_eq(text, "no host key");
    ck_assert_int_eq(service_line_level("envinit-sshd", "envinit-sshd: debug: x", &text), LOG_DEBUG);
    ck_assert_int_eq(service_line_level("envinit-sshd", "envinit-sshd: warn: user 'x' refused", &text), LOG_WARN);
    /* Only the service's own name introduces its level. */
    ck_assert_int_eq(service_line_level("sshd", "envinit-sshd: error: forged", &text), LOG_WARN);
    ck_assert_str_eq(text, "envinit-sshd: error: forged");
    /* Free form (sshd -e): guessed from the words. */
    ck_assert_int_eq(service_line_level("sshd", "Server listening on 0.0.0.0 port 22.", &text), LOG_INFO);
    ck_assert_int_eq(service_line_level("sshd", "error: Bind to port 22 failed", &text), LOG_WARN);
    ck_assert_int_eq(service_line_level("sshd", "sshd: Accepted publickey for coder", &text), LOG_INFO);
    ck_assert_str_eq(text, "Accepted publickey for coder");
}
END_TEST

/* Parsing again takes no more memory: the flags' array is reused, a
 * smaller command line keeps it, a larger one grows it. */
START_TEST(cli_parse_reuses_flags)
{
    char *big[] = {"envinit", "-s", "-g", "-w", "--", "true", NULL};
    char *small[] = {"envinit", "-s", NULL};
    struct cli cli;
    ck_assert_int_eq(parse(&cli, big), 0);
    const struct cli_set *first = cli.sets;
    ck_assert_int_eq(parse(&cli, small), 0);
    ck_assert_ptr_eq(cli.sets, first);
    ck_assert_uint_eq(cli.n_sets, 1);
    ck_assert_str_eq(cli.sets[0].key, "subreaper");
    ck_assert_int_eq(parse(&cli, big), 0);
    ck_assert_ptr_eq(cli.sets, first);
    ck_assert_uint_eq(cli.n_sets, 3);
}
END_TEST

START_TEST(cli_ssh_config_words)
{
    char *a1[] = {"envinit", "--user", "coder", "ssh-config", "--kubectl", "dev-0", "-n", "team", NULL};
    struct cli cli;
    ck_assert_int_eq(parse(&cli, a1), 0);
    ck_assert_int_eq(cli.cmd, CMD_SSH_CONFIG);
    ck_assert_ptr_nonnull(cli.command);
    ck_assert_str_eq(cli.command[0], "--kubectl");
    ck_assert_str_eq(cli.command[3], "team");
    /* as envinit hands it to envinit-setup */
    char *a2[] = {"envinit-setup", "ssh-config", "--", "--docker", "box", NULL};
    ck_assert_int_eq(parse(&cli, a2), 0);
    ck_assert_int_eq(cli.cmd, CMD_SSH_CONFIG);
    ck_assert_str_eq(cli.command[0], "--docker");
    char *a3[] = {"envinit", "ssh-stdio", NULL};
    ck_assert_int_eq(parse(&cli, a3), 0);
    ck_assert_int_eq(cli.cmd, CMD_SSH_STDIO);
    ck_assert_ptr_null(cli.command);
}
END_TEST

START_TEST(ssh_config_blocks)
{
    char buf[2048];
    struct ssh_client_config r = {.name = "box", .user = "coder", .envinit = "/opt/envinit/bin/envinit",
                                  .host_key = "ssh-ed25519 AAAAkey"};
    ck_assert_int_gt(ssh_config_render(&r, buf, sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "\nHost box\n    User coder\n"));
    ck_assert_ptr_nonnull(strstr(buf, "    ProxyCommand docker exec -i box /opt/envinit/bin/envinit ssh-stdio\n"));
    ck_assert_ptr_nonnull(strstr(buf, "    KnownHostsCommand /bin/echo %H ssh-ed25519 AAAAkey\n"));
    ck_assert_ptr_nonnull(strstr(buf, "#   box ssh-ed25519 AAAAkey\n"));
    ck_assert_ptr_null(strstr(buf, "StrictHostKeyChecking"));
    r.kubectl = true;
    r.ns = "team";
    ck_assert_int_gt(ssh_config_render(&r, buf, sizeof buf), 0);
    ck_assert_ptr_nonnull(
        strstr(buf, "    ProxyCommand kubectl exec -i -n team box -- /opt/envinit/bin/envinit ssh-stdio\n"));
    r.ns = NULL;
    ck_assert_int_gt(ssh_config_render(&r, buf, sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "    ProxyCommand kubectl exec -i box -- /opt/envinit/bin/envinit ssh-stdio\n"));
    ck_assert_int_eq(ssh_config_render(&r, buf, 64), -1);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    UNIT_ADD(s, cli_tini_flags);
    UNIT_ADD(s, cli_command_without_dashdash);
    UNIT_ADD(s, cli_subcommands);
    UNIT_ADD(s, config_empty_signal_is_none);
    UNIT_ADD(s, cli_every_exit_code);
    UNIT_ADD(s, cli_long_options_for_keys);
    UNIT_ADD(s, cli_bad_options);
    UNIT_ADD(s, cli_ssh_config_words);
    UNIT_ADD(s, cli_parse_reuses_flags);
    UNIT_ADD(s, cli_getopt_rules);
    UNIT_ADD(s, ssh_config_blocks);
    return s;
}

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    UNIT_ADD(s, config_file_valid);
    UNIT_ADD(s, config_file_errors);
    UNIT_ADD(s, config_file_syntax);
    UNIT_ADD(s, config_missing_file);
    UNIT_ADD(s, config_precedence);
    UNIT_ADD(s, config_env_errors);
    UNIT_ADD(s, config_value_parsers);
    UNIT_ADD(s, log_levels);
    return s;
}

static Suite *signal_suite(void)
{
    Suite *s = suite_create("signals");
    UNIT_ADD(s, signal_names);
    UNIT_ADD(s, signal_forwarded_set);
    UNIT_ADD(s, signal_rewrite_parse);
    UNIT_ADD(s, exit_status_mapping);
    UNIT_ADD(s, backoff_sequence);
    UNIT_ADD(s, service_lines_splitting);
    UNIT_ADD(s, service_line_levels);
    return s;
}

int main(void)
{
    Suite *suites[] = {cli_suite(), config_suite(), signal_suite(), NULL};
    return unit_run("init", suites);
}
