/* Unit tests of sshfallback's pure decisions: authorized_keys options,
 * from= matching, key lookup, MaxStartups, accepted client variables,
 * terminal modes. */
#include "../../sshfallback/sshfallback.h"
#include "../../envfile/envfile.h"
#include "unit.h"

#include <libssh/libssh.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* An ed25519 public key and its wire blob (from base64 of the line below). */
#define K1 "AAAAC3NzaC1lZDI1NTE5AAAAIPxZLTg8GLuKwHF4g5AIL81Zy9gltFWmG44EXBexYAio"
#define K2 "AAAAC3NzaC1lZDI1NTE5AAAAIBUUDWCsD5GnfUbJKAgw7VCbpjtz1iRGOtelJaT4E0vC"

static long blob_of(const char *b64, unsigned char *out)
{
    return envfile_base64_decode(b64, strlen(b64), out, 128);
}

START_TEST(opts_flags)
{
    struct sf_keyopts o;
    const char *why = NULL;
    const char *s = "no-pty,no-port-forwarding,NO-AGENT-FORWARDING,no-X11-forwarding";
    ck_assert_int_eq(sf_keyopts_parse(s, strlen(s), &o, &why), 0);
    ck_assert(o.no_pty && o.no_port_forwarding && o.no_agent_forwarding && o.no_x11_forwarding);
    ck_assert(!o.restrict_all && !o.command && !o.from);
    sf_keyopts_free(&o);
}
END_TEST

START_TEST(opts_restrict_implies_all)
{
    struct sf_keyopts o;
    const char *why = NULL;
    ck_assert_int_eq(sf_keyopts_parse("restrict", 8, &o, &why), 0);
    ck_assert(o.restrict_all && o.no_pty && o.no_port_forwarding && o.no_agent_forwarding &&
              o.no_x11_forwarding);
    sf_keyopts_free(&o);
}
END_TEST

START_TEST(opts_command_and_from_unquoted)
{
    struct sf_keyopts o;
    const char *why = NULL;
    const char *s = "command=\"echo \\\"hi\\\", there\",from=\"10.0.0.0/8,!10.1.*\"";
    ck_assert_int_eq(sf_keyopts_parse(s, strlen(s), &o, &why), 0);
    ck_assert_str_eq(o.command, "echo \"hi\", there");
    ck_assert_str_eq(o.from, "10.0.0.0/8,!10.1.*");
    sf_keyopts_free(&o);
}
END_TEST

START_TEST(opts_unknown_refused)
{
    static const char *const bad[] = {
        "environment=\"A=1\"", "permitopen=\"h:1\"", "pty", "x11-forwarding", "frobnicate",
        "no-pty=\"1\"", "command", "command=\"a\",command=\"b\"", "no-pty,", "command=\"open",
        "tunnel=\"1\"", "expiry-time=\"20300101\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sf_keyopts o;
        const char *why = NULL;
        ck_assert_msg(sf_keyopts_parse(bad[i], strlen(bad[i]), &o, &why) == -1, "%s accepted", bad[i]);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_null(o.command);
    }
}
END_TEST

START_TEST(opts_sk_flags)
{
    struct sf_keyopts o;
    const char *why = NULL;
    const char *s = "no-touch-required,Verify-Required";
    ck_assert_int_eq(sf_keyopts_parse(s, strlen(s), &o, &why), 0);
    ck_assert(o.no_touch_required && o.verify_required && !o.restrict_all);
    sf_keyopts_free(&o);
    /* restrict does not waive presence; touch-required is left out (fail closed) */
    ck_assert_int_eq(sf_keyopts_parse("restrict", 8, &o, &why), 0);
    ck_assert(!o.no_touch_required && !o.verify_required);
    sf_keyopts_free(&o);
    ck_assert_int_eq(sf_keyopts_parse("no-touch-required=\"1\"", 21, &o, &why), -1);
    ck_assert_int_eq(sf_keyopts_parse("touch-required", 14, &o, &why), -1);
}
END_TEST

START_TEST(sk_flags_policy)
{
    struct sf_keyopts o = {0};
    /* by default presence is required, verification is not */
    ck_assert_ptr_null(sf_sk_flags_refusal(&o, SF_SK_USER_PRESENCE));
    ck_assert_ptr_null(sf_sk_flags_refusal(&o, 0xff));
    ck_assert_str_eq(sf_sk_flags_refusal(&o, 0),
                     "user presence (authenticator touch) requirement not met");
    ck_assert_ptr_nonnull(sf_sk_flags_refusal(&o, SF_SK_USER_VERIFICATION));
    ck_assert_ptr_nonnull(sf_sk_flags_refusal(&o, -1)); /* flags unknown: refused */
    o.no_touch_required = 1;
    ck_assert_ptr_null(sf_sk_flags_refusal(&o, 0));
    ck_assert_ptr_nonnull(sf_sk_flags_refusal(&o, -1));
    o.verify_required = 1;
    ck_assert_str_eq(sf_sk_flags_refusal(&o, 0), "user verification requirement not met");
    ck_assert_ptr_null(sf_sk_flags_refusal(&o, SF_SK_USER_VERIFICATION));
    o.no_touch_required = 0;
    ck_assert_ptr_nonnull(sf_sk_flags_refusal(&o, SF_SK_USER_VERIFICATION));
    ck_assert_ptr_null(sf_sk_flags_refusal(&o, SF_SK_USER_PRESENCE | SF_SK_USER_VERIFICATION));
}
END_TEST

START_TEST(glob_matches)
{
    ck_assert(sf_glob("127.0.0.*", 9, "127.0.0.1", 0));
    ck_assert(sf_glob("*", 1, "", 0));
    ck_assert(sf_glob("1?7.*.1", 7, "127.0.0.1", 0));
    ck_assert(!sf_glob("127.0.0.?", 9, "127.0.0.10", 0));
    ck_assert(sf_glob("LC_*", 4, "LC_ALL", 0));
    ck_assert(!sf_glob("lc_*", 4, "LC_ALL", 0));
    ck_assert(sf_glob("lc_*", 4, "LC_ALL", 1));
    ck_assert(sf_glob("a*b*c", 5, "aXXbYYbc", 0));
    ck_assert(!sf_glob("a*b*c", 5, "aXXbYYbd", 0));
    /* the pattern length is honoured (a view into a longer string) */
    ck_assert(sf_glob("10.*,x", 4, "10.2.3.4", 0));
}
END_TEST

START_TEST(from_patterns)
{
    ck_assert(sf_from_allows("127.0.0.1", "127.0.0.1"));
    ck_assert(!sf_from_allows("127.0.0.2", "127.0.0.1"));
    ck_assert(sf_from_allows("10.*,127.0.0.*", "127.0.0.1"));
    ck_assert(!sf_from_allows("127.0.0.*,!127.0.0.1", "127.0.0.1"));
    ck_assert(!sf_from_allows("!127.0.0.1,127.*", "127.0.0.1"));
    ck_assert(!sf_from_allows("!10.0.0.1", "127.0.0.1")); /* only negations: no grant */
    ck_assert(sf_from_allows("127.0.0.0/8", "127.9.8.7"));
    ck_assert(!sf_from_allows("10.0.0.0/8", "127.0.0.1"));
    ck_assert(sf_from_allows("192.168.1.128/25", "192.168.1.200"));
    ck_assert(!sf_from_allows("192.168.1.128/25", "192.168.1.100"));
    ck_assert(sf_from_allows("0.0.0.0/0", "8.8.8.8"));
    ck_assert(sf_from_allows("::1/128", "::1"));
    ck_assert(sf_from_allows("fe80::/10", "fe80::1"));
    ck_assert(!sf_from_allows("fe80::/10", "::1"));
    ck_assert(!sf_from_allows("10.0.0.0/8", "::1"));
    ck_assert(sf_from_allows("127.0.0.1", "::ffff:127.0.0.1")); /* dual-stack peer */
    ck_assert(!sf_from_allows("127.0.0.0/33", "127.0.0.1"));    /* broken: refuse */
    ck_assert(!sf_from_allows("127.0.0.0/x", "127.0.0.1"));
    ck_assert(!sf_from_allows("", "127.0.0.1"));
    ck_assert(sf_from_allows("FE80::*", "fe80::1"));
}
END_TEST

START_TEST(find_key_lines)
{
    unsigned char b1[128];
    long n1 = blob_of(K1, b1);
    ck_assert_int_gt(n1, 0);
    struct sf_keyopts o;
    const char *text = "# comment\n\n"
                       "ssh-ed25519 " K2 " other\n"
                       "no-pty ssh-ed25519 " K1 " me\n";
    ck_assert_int_eq(sf_authkeys_find(text, strlen(text), b1, (size_t)n1, "127.0.0.1", "t", &o),
                     SF_MATCH_OK);
    ck_assert(o.no_pty);
    sf_keyopts_free(&o);
    const char *none = "ssh-ed25519 " K2 " other\n";
    ck_assert_int_eq(sf_authkeys_find(none, strlen(none), b1, (size_t)n1, "127.0.0.1", "t", &o),
                     SF_MATCH_NONE);
}
END_TEST

START_TEST(find_key_refusals)
{
    unsigned char b1[128];
    long n1 = blob_of(K1, b1);
    struct sf_keyopts o;
    const char *unk = "environment=\"A=b\" ssh-ed25519 " K1 " me\n";
    ck_assert_int_eq(sf_authkeys_find(unk, strlen(unk), b1, (size_t)n1, "127.0.0.1", "t", &o),
                     SF_MATCH_REFUSED);
    const char *from = "from=\"10.0.0.0/8\" ssh-ed25519 " K1 " me\r\n";
    ck_assert_int_eq(sf_authkeys_find(from, strlen(from), b1, (size_t)n1, "127.0.0.1", "t", &o),
                     SF_MATCH_REFUSED);
    /* the first line holding the key decides: a refused one is never
     * bypassed by a later, looser line for the same key */
    const char *two = "from=\"10.0.0.0/8\" ssh-ed25519 " K1 " me\n"
                      "command=\"date\" ssh-ed25519 " K1 " me\n";
    ck_assert_int_eq(sf_authkeys_find(two, strlen(two), b1, (size_t)n1, "127.0.0.1", "t", &o),
                     SF_MATCH_REFUSED);
    ck_assert_ptr_null(o.command);
    const char *unk2 = "no-such-option ssh-ed25519 " K1 " me\n"
                       "ssh-ed25519 " K1 " me\n";
    ck_assert_int_eq(sf_authkeys_find(unk2, strlen(unk2), b1, (size_t)n1, "127.0.0.1", "t", &o),
                     SF_MATCH_REFUSED);
    const char *broken = "command=\"x ssh-ed25519 " K1 " me\n"
                         "ssh-ed25519 " K1 " me\n";
    ck_assert_int_eq(sf_authkeys_find(broken, strlen(broken), b1, (size_t)n1, "127.0.0.1", "t",
                                      &o),
                     SF_MATCH_REFUSED);
    /* the first line's options are the ones applied, not a later line's */
    const char *first = "no-pty ssh-ed25519 " K1 " me\n"
                        "from=\"10.0.0.0/8\" ssh-ed25519 " K1 " me\n";
    ck_assert_int_eq(sf_authkeys_find(first, strlen(first), b1, (size_t)n1, "127.0.0.1", "t",
                                      &o),
                     SF_MATCH_OK);
    ck_assert(o.no_pty);
    ck_assert_ptr_null(o.from);
    sf_keyopts_free(&o);
    /* lines for other keys before it do not count */
    const char *other = "no-such-option ssh-ed25519 " K2 " other\n"
                        "ssh-ed25519 " K1 " me\n";
    ck_assert_int_eq(sf_authkeys_find(other, strlen(other), b1, (size_t)n1, "127.0.0.1", "t",
                                      &o),
                     SF_MATCH_OK);
    sf_keyopts_free(&o);
    /* a different type name with the same body never matches */
    const char *type = "ssh-rsa " K1 "\n";
    ck_assert_int_eq(sf_authkeys_find(type, strlen(type), b1, (size_t)n1, "127.0.0.1", "t", &o),
                     SF_MATCH_NONE);
}
END_TEST

START_TEST(startups_policy)
{
    struct sf_startups s;
    ck_assert_int_eq(sf_startups_parse("10:30:100", &s), 0);
    ck_assert_uint_eq(s.start, 10);
    ck_assert_uint_eq(s.rate, 30);
    ck_assert_uint_eq(s.full, 100);
    ck_assert_int_eq(sf_startups_parse("5", &s), 0);
    ck_assert_uint_eq(s.full, 5);
    ck_assert_int_eq(sf_startups_parse("10:101:100", &s), -1);
    ck_assert_int_eq(sf_startups_parse("10:30:5", &s), -1);
    ck_assert_int_eq(sf_startups_parse("10:30", &s), -1);
    ck_assert_int_eq(sf_startups_parse("0:30:100", &s), -1);
    ck_assert_int_eq(sf_startups_parse("10:30:100x", &s), -1);
    sf_startups_parse("10:30:100", &s);
    /* the deadline: the grace time below start, the floor from full on */
    ck_assert_int_eq(sf_startups_deadline_ms(&s, 9, 30000), 30000);
    ck_assert_int_eq(sf_startups_deadline_ms(&s, 10, 30000), 30000);
    ck_assert_int_eq(sf_startups_deadline_ms(&s, 55, 30000), 30000 - 27000 * 45 / 90);
    ck_assert_int_eq(sf_startups_deadline_ms(&s, 100, 30000), SF_STARTUP_FLOOR_MS);
    ck_assert_int_eq(sf_startups_deadline_ms(&s, 500, 30000), SF_STARTUP_FLOOR_MS);
    ck_assert_int_eq(sf_startups_deadline_ms(&s, 100, 2000), 2000); /* never beyond the grace time */
    /* the victim: the longest silent, else the oldest overdue, else none */
    struct sf_pending p[4] = {{500, 1}, {2500, 0}, {1200, 1}, {1500, 1}};
    ck_assert_int_eq(sf_startups_victim(p, 4, 30000), 3);
    p[3].silent = p[2].silent = 0;
    ck_assert_int_eq(sf_startups_victim(p, 4, 30000), -1);  /* a burst of real logins: all talking */
    ck_assert_int_eq(sf_startups_victim(p, 4, 2000), 1);
    ck_assert_int_eq(sf_startups_victim(p, 0, 0), -1);
}
END_TEST

START_TEST(env_accepted)
{
    const char *acc[] = {"MY_*", "EDITOR"};
    ck_assert(sf_env_accepted("LANG", NULL, 0));
    ck_assert(sf_env_accepted("LC_ALL", NULL, 0));
    ck_assert(!sf_env_accepted("LANGUAGE", NULL, 0));
    ck_assert(!sf_env_accepted("LD_PRELOAD", acc, 2));
    ck_assert(!sf_env_accepted("PATH", acc, 2));
    ck_assert(sf_env_accepted("MY_X", acc, 2));
    ck_assert(sf_env_accepted("EDITOR", acc, 2));
    ck_assert(!sf_env_accepted("EDITORS", acc, 2));
}
END_TEST

START_TEST(env_caps)
{
    ck_assert(sf_env_within_caps(0, 0));
    ck_assert(sf_env_within_caps(SF_ENV_MAX_VARS, 100));
    ck_assert(!sf_env_within_caps(SF_ENV_MAX_VARS + 1, 100));
    ck_assert(sf_env_within_caps(1, SF_ENV_MAX_BYTES));
    ck_assert(!sf_env_within_caps(1, SF_ENV_MAX_BYTES + 1));
}
END_TEST

START_TEST(x11_displays_capped)
{
    ck_assert(sf_x11_display_allowed(0, 0));
    ck_assert(sf_x11_display_allowed(SF_X11_MAX_DISPLAYS - 1, 0));
    ck_assert(!sf_x11_display_allowed(SF_X11_MAX_DISPLAYS, 0));
    ck_assert(!sf_x11_display_allowed(1, 1)); /* one per session */
}
END_TEST

/* One encoded mode: opcode, then the value as a big-endian uint32. */
static size_t mode(unsigned char *p, unsigned char op, unsigned value)
{
    p[0] = op;
    p[1] = (unsigned char)(value >> 24);
    p[2] = (unsigned char)(value >> 16);
    p[3] = (unsigned char)(value >> 8);
    p[4] = (unsigned char)value;
    return 5;
}

START_TEST(log_safe_strings)
{
    char buf[LOG_SAFE_SIZE];
    ck_assert_str_eq(log_safe("coder", buf), "coder");
    ck_assert_str_eq(log_safe(NULL, buf), "?");
    ck_assert_str_eq(log_safe("", buf), "");
    /* A newline cannot start a line of its own; escapes stay unambiguous. */
    ck_assert_str_eq(log_safe("x\nenvinit: error: forged", buf), "x\\x0aenvinit: error: forged");
    ck_assert_str_eq(log_safe("a\\x0a\x7f\xc3\xa9\x1b[2J", buf), "a\\x5cx0a\\x7f\\xc3\\xa9\\x1b[2J");
    char long_name[200];
    memset(long_name, 'A', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    log_safe(long_name, buf);
    ck_assert_uint_eq(strlen(buf), LOG_SAFE_MAX + 3);
    ck_assert_str_eq(buf + LOG_SAFE_MAX, "...");
    long_name[LOG_SAFE_MAX] = '\0';  /* exactly the cap: not cut */
    ck_assert_str_eq(log_safe(long_name, buf), long_name);
    /* The worst case fits: every byte escaped, and cut. */
    memset(long_name, '\n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    ck_assert_uint_eq(strlen(log_safe(long_name, buf)), LOG_SAFE_SIZE - 1);
}
END_TEST

/* A key named in a folder reached through a symlink is not generated
 * there: root would write where whoever made the link chose. */
START_TEST(hostkey_no_symlinked_folder)
{
    char root[] = "/tmp/test_sshfallback.XXXXXX", target[64], link[64], key[96], made[96], cmd[96];
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(target, sizeof target, "%s/elsewhere", root);
    snprintf(link, sizeof link, "%s/etc", root);
    ck_assert_int_eq(mkdir(target, 0755), 0);
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(lchown(link, 1000, 1000), 0); /* the user's link: never followed by root */
    snprintf(key, sizeof key, "%s/envinit/ssh_host_ed25519_key", link);
    struct envfile_user u = {.uid = geteuid()};
    struct envfile_owner who = {.uid = geteuid()};
    const char *paths[] = {key};
    void *k[SF_MAX_SERVED_KEYS] = {0};
    ck_assert_uint_eq(sf_hostkey_load(paths, 1, SF_HOSTKEYS, &u, &who, k), 0);
    struct stat st;
    snprintf(made, sizeof made, "%s/envinit", target);
    ck_assert_int_eq(lstat(made, &st), -1);
    /* Through real folders it is made, folders included. */
    snprintf(key, sizeof key, "%s/real/envinit/ssh_host_ed25519_key", root);
    ck_assert_uint_eq(sf_hostkey_load(paths, 1, SF_HOSTKEYS, &u, &who, k), 1);
    ck_assert_int_eq(ssh_key_type(k[0]), SSH_KEYTYPE_ED25519);
    ssh_key_free(k[0]);
    ck_assert_int_eq(lstat(key, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* OpenSSH's list syntax on a default, against what is supported. */
#define ALGO_SUP "a1,a2,b1,b2,c1,none-x"
static const char *algo(const char *deflt, const char *spec, int want_rc, char *err)
{
    static char out[SF_ALGO_MAX];
    ck_assert_int_eq(sf_algo_apply(deflt, spec, ALGO_SUP, out, sizeof out, err, 256), want_rc);
    return out;
}

START_TEST(algo_lists)
{
    char err[256] = "";
    ck_assert_str_eq(algo("a1,b1", NULL, 0, err), "a1,b1");
    ck_assert_str_eq(algo("a1,b1", "c1,a2", 0, err), "c1,a2");       /* exactly */
    ck_assert_str_eq(algo("a1,b1", "+c1,a2", 0, err), "a1,b1,c1,a2"); /* appended */
    ck_assert_str_eq(algo("a1,b1", "+b1,c1", 0, err), "a1,b1,c1");    /* no duplicate */
    ck_assert_str_eq(algo("a1,b1,c1", "-b1", 0, err), "a1,c1");       /* removed */
    ck_assert_str_eq(algo("a1,a2,b1", "-a*", 0, err), "b1");          /* removed by pattern */
    ck_assert_str_eq(algo("a1,b1,c1", "^c1", 0, err), "c1,a1,b1");    /* put first */
    ck_assert_str_eq(algo("a1,b1", "^a2,b1", 0, err), "a2,b1,a1");    /* new and old first */
    ck_assert_str_eq(algo("a1", "+b?", 0, err), "a1,b1,b2");          /* a pattern: what it matches */
    ck_assert_str_eq(algo("a1", "b*,a*", 0, err), "b1,b2,a1,a2");     /* pattern by pattern */
}
END_TEST

START_TEST(algo_errors)
{
    char err[256] = "";
    algo("a1", "+a1,nonsense", -1, err);
    ck_assert_ptr_nonnull(strstr(err, "'nonsense'")); /* the unknown name is named */
    algo("a1", "-zz*", -1, err);                      /* a removal that matches nothing: a typo */
    ck_assert_ptr_nonnull(strstr(err, "'zz*'"));
    algo("a1", "-a1", -1, err);                       /* nothing left */
    ck_assert_ptr_nonnull(strstr(err, "no algorithm"));
    algo("a1", "+", -1, err);
    algo("a1", "", -1, err);
    algo("a1", "a1,,b1", -1, err);
    algo("a1", "a1,", -1, err);
    algo("a1", "A1", -1, err); /* names are case-sensitive, as in OpenSSH */
    char small[8], e[64];
    ck_assert_int_eq(sf_algo_apply("a1", "+b1,b2,c1", ALGO_SUP, small, sizeof small, e, sizeof e), -1);
}
END_TEST

START_TEST(algo_hostkey_kinds)
{
    int bits;
    ck_assert_uint_eq(sf_hostkey_kinds(SF_HOSTKEYS, &bits), SF_HK_ED25519);
    ck_assert_int_eq(bits, 0);
    ck_assert_uint_eq(sf_hostkey_kinds("rsa-sha2-512,ssh-ed25519,ecdsa-sha2-nistp384,ecdsa-sha2-nistp256", &bits),
                      SF_HK_ED25519 | SF_HK_ECDSA | SF_HK_RSA);
    ck_assert_int_eq(bits, 384); /* the curve named first */
    ck_assert_uint_eq(sf_hostkey_kinds("rsa-sha2-256", &bits), SF_HK_RSA);
    ck_assert_uint_eq(sf_hostkey_kinds("ssh-rsa", &bits), SF_HK_RSA);
    ck_assert_uint_eq(sf_hostkey_kinds("ecdsa-sha2-nistp521", &bits), SF_HK_ECDSA);
    ck_assert_int_eq(bits, 521);
    ck_assert_uint_eq(sf_hostkey_kinds("sk-ssh-ed25519@openssh.com,ssh-ed25519-cert-v01@openssh.com", &bits), 0);
}
END_TEST

START_TEST(tty_modes_applied)
{
    unsigned char m[64];
    size_t n = 0;
    n += mode(m + n, 3, 0x18);   /* VERASE ^X */
    n += mode(m + n, 1, 0x02);   /* VINTR ^B */
    n += mode(m + n, 53, 0);     /* -echo */
    n += mode(m + n, 36, 1);     /* icrnl */
    n += mode(m + n, 42, 1);     /* iutf8 */
    n += mode(m + n, 72, 0);     /* -onlcr */
    n += mode(m + n, 90, 1);     /* cs7 */
    n += mode(m + n, 4, 255);    /* VKILL disabled */
    n += mode(m + n, 129, 115200);
    n += mode(m + n, 200, 1);    /* unknown opcode from 160: parsing stops */
    n += mode(m + n, 14, 0x01);  /* never reached */
    struct termios t = {.c_lflag = ECHO, .c_oflag = ONLCR, .c_cflag = CS8};
    t.c_cc[VLNEXT] = 0x16;
    ck_assert_int_eq(sf_tty_modes_apply(m, n, &t), 9);
    ck_assert_int_eq(t.c_cc[VERASE], 0x18);
    ck_assert_int_eq(t.c_cc[VINTR], 0x02);
    ck_assert_int_eq(t.c_cc[VKILL], _POSIX_VDISABLE);
    ck_assert_int_eq(t.c_cc[VLNEXT], 0x16);
    ck_assert(!(t.c_lflag & ECHO));
    ck_assert(t.c_iflag & ICRNL);
    ck_assert(t.c_iflag & IUTF8);
    ck_assert(!(t.c_oflag & ONLCR));
    ck_assert_int_eq(t.c_cflag & CSIZE, CS7);
    ck_assert_int_eq(cfgetospeed(&t), B115200);
}
END_TEST

START_TEST(tty_modes_edges)
{
    unsigned char m[16] = {0};
    struct termios t = {0};
    ck_assert_int_eq(sf_tty_modes_apply(m, 0, &t), 0);
    m[0] = 0; /* TTY_OP_END first */
    ck_assert_int_eq(sf_tty_modes_apply(m, 1, &t), 0);
    size_t n = mode(m, 53, 1);
    ck_assert_int_eq(sf_tty_modes_apply(m, n - 2, &t), -1); /* value cut short */
    ck_assert(!(t.c_lflag & ECHO));
    n = mode(m, 11, 7);          /* VDSUSP: Linux has none, skipped */
    n += mode(m + n, 53, 1);
    ck_assert_int_eq(sf_tty_modes_apply(m, n, &t), 2);
    ck_assert(t.c_lflag & ECHO);
}
END_TEST

START_TEST(agent_registry_names)
{
    struct sf_agent_entry e;
    ck_assert_int_eq(sf_agent_entry_parse("01700000000123456789-4242-98765", &e), 0);
    ck_assert(e.ns == 1700000000123456789ULL && e.pid == 4242 && e.start == 98765ULL);
    ck_assert_int_eq(sf_agent_entry_parse("00000000000000000001-1-0", &e), 0);
    const char *bad[] = {".", "..", "", "x-1-2", "1-0-2", "1--2", "1-2", "1-2-", "1-2-3x",
                         "1-2-3-4", "1-99999999-3", ".envinit-ssh-agent.sock.tmp.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sf_agent_entry_parse(bad[i], &e) < 0, "%s accepted", bad[i]);
}
END_TEST

START_TEST(proc_stat_start_time)
{
    /* the command name may hold blanks and parentheses */
    const char *st = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
                     "98765 10000 200 18446744073709551615";
    ck_assert(sf_proc_stat_start(st) == 98765ULL);
    ck_assert(sf_proc_stat_start("4242 (sh) S 1 2 3") == 0);
    ck_assert(sf_proc_stat_start("no parenthesis") == 0);
    ck_assert(sf_proc_stat_start(NULL) == 0);
}
END_TEST

START_TEST(config_keywords)
{
    static struct sf_config c;
    char err[512];
    memset(&c, 0, sizeof c);
    const char *text = "# comment\n\n  Port 2300\nport 2400\nMaxAuthTries=3\nAllowTcpForwarding no\n"
                       "GatewayPorts yes\nPrintMotd no\nAcceptEnv FOO BAR_*\nAcceptEnv BAZ\n"
                       "Subsystem sftp internal-sftp -R -u 022\nKexAlgorithms -diffie-hellman-group18-sha512\n"
                       "LoginGraceTime 2m\nHostKey /a\nHostKey \"/b\"\nAllowStreamLocalForwarding all\n"
                       "ClientAliveCountMax 0\nBanner /etc/issue.net\n";
    ck_assert_int_eq(sf_config_apply_text(&c, text, "f", err, sizeof err), 0);
    ck_assert_int_eq(c.port, 2300); /* the first value wins */
    ck_assert_uint_eq(c.max_auth_tries, 3);
    ck_assert(c.no_port_forwarding && c.gateway_ports && c.no_motd && !c.no_unix_forwarding);
    ck_assert_uint_eq(c.n_accept_env, 3);
    ck_assert_str_eq(c.accept_env[2], "BAZ");
    ck_assert_uint_eq(c.n_sftp_args, 3);
    ck_assert_str_eq(c.sftp_args[0], "-R");
    ck_assert_str_eq(c.sftp_args[2], "022");
    ck_assert_str_eq(c.algo_spec[SF_ALGO_KEX], "-diffie-hellman-group18-sha512");
    ck_assert_uint_eq(c.grace_s, 120);
    ck_assert_uint_eq(c.n_host_keys, 2);
    ck_assert_str_eq(c.host_keys[1], "/b");
    ck_assert_uint_eq(c.keepalive_max, 0);
    ck_assert_str_eq(c.banner, "/etc/issue.net");
}
END_TEST

START_TEST(config_command_line_wins)
{
    static struct sf_config c;
    char err[512];
    memset(&c, 0, sizeof c);
    const struct sf_option *port = sf_option_find_keyword("port"), *fwd = sf_option_find_keyword("AllowTcpForwarding");
    ck_assert_ptr_nonnull(port);
    ck_assert_str_eq(port->name, "port");
    ck_assert_str_eq(fwd->name, "no-port-forwarding");
    ck_assert_int_eq(sf_option_set(&c, port, "2222", 0, err, sizeof err), 0);
    c.seen[port - sf_options] = 1;
    ck_assert_int_eq(sf_option_set(&c, fwd, "", 0, err, sizeof err), 0);
    c.seen[fwd - sf_options] = 1;
    ck_assert_int_eq(sf_config_apply_text(&c, "Port 2300\nAllowTcpForwarding yes\n", "f", err, sizeof err), 0);
    ck_assert_int_eq(c.port, 2222);
    ck_assert(c.no_port_forwarding);
    /* a value the command line overrides is still checked */
    ck_assert_int_eq(sf_config_apply_text(&c, "AllowTcpForwarding perhaps\n", "f", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "AllowTcpForwarding"));
}
END_TEST

START_TEST(config_refusals)
{
    static const struct { const char *text, *named; } bad[] = {
        {"Port 22\nMatch User root\n", "line 2: Match"},
        {"UsePAM yes\n", "'UsePAM'"},
        {"ClientAliveCountMax -1\n", "ClientAliveCountMax"},
        {"Banner\n", "Banner without a value"},
        {"X11Forwarding maybe\n", "X11Forwarding"},
        {"GatewayPorts clientspecified\n", "GatewayPorts"},
        {"MaxAuthTries 0\n", "MaxAuthTries"},
        {"Port\n", "Port without a value"},
        {"Subsystem sftp /usr/lib/openssh/sftp-server\n", "Subsystem"},
        {"Subsystem sftp internal-sftp -x\n", "Subsystem"},
        {"LoginGraceTime 5x\n", "LoginGraceTime"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static struct sf_config c;
        char err[512];
        memset(&c, 0, sizeof c);
        ck_assert_int_eq(sf_config_apply_text(&c, bad[i].text, "cfg", err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].named) && strstr(err, "cfg line"), "%s: %s", bad[i].text, err);
    }
}
END_TEST

START_TEST(config_table_unique)
{
    for (size_t i = 0; i < SF_OPT_COUNT; i++)
        for (size_t j = i + 1; j < SF_OPT_COUNT; j++) {
            ck_assert_msg(strcmp(sf_options[i].name, sf_options[j].name) != 0, "%s", sf_options[i].name);
            ck_assert(!sf_options[i].short_opt || sf_options[i].short_opt != sf_options[j].short_opt);
            ck_assert(!sf_options[i].keyword || !sf_options[j].keyword ||
                      strcasecmp(sf_options[i].keyword, sf_options[j].keyword) != 0);
        }
}
END_TEST

/* --help is made from the table: every switch a user may give is listed
 * with its value and keyword. */
START_TEST(config_help_lists_every_switch)
{
    static char buf[16384];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ck_assert_ptr_nonnull(f);
    sf_options_help(f);
    fclose(f);
    for (size_t i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        char want[128];
        if (strcmp(o->name, "connection") == 0) {
            ck_assert_ptr_null(o->help); /* the listener's own switch */
            continue;
        }
        ck_assert_msg(o->help != NULL, "--%s has no help line", o->name);
        snprintf(want, sizeof want, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        ck_assert_msg(strstr(buf, want), "--help lacks %s", want);
        ck_assert_msg((o->arg != NULL) == (o->kind != SF_OPT_FLAG && o->kind != SF_OPT_IGNORED &&
                                           o->kind != SF_OPT_ACTION), "--%s: value name", o->name);
        if (o->keyword) {
            snprintf(want, sizeof want, "[%s]", o->keyword);
            ck_assert_msg(strstr(buf, want), "--help lacks %s", want);
        }
    }
}
END_TEST

START_TEST(config_print)
{
    static struct sf_config c;
    char err[512], buf[8192];
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(sf_config_apply_text(&c, "Port 2300\nX11Forwarding no\nSubsystem sftp internal-sftp -R\n",
                                          "f", err, sizeof err), 0);
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ck_assert_ptr_nonnull(f);
    sf_config_print(&c, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "port 2300\n"));
    ck_assert_ptr_nonnull(strstr(buf, "x11forwarding no\n"));
    ck_assert_ptr_nonnull(strstr(buf, "allowtcpforwarding yes\n"));
    ck_assert_ptr_nonnull(strstr(buf, "subsystem sftp internal-sftp -R\n"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sshfallback");
    UNIT_ADD(s, opts_flags);
    UNIT_ADD(s, opts_restrict_implies_all);
    UNIT_ADD(s, opts_command_and_from_unquoted);
    UNIT_ADD(s, opts_unknown_refused);
    UNIT_ADD(s, opts_sk_flags);
    UNIT_ADD(s, sk_flags_policy);
    UNIT_ADD(s, glob_matches);
    UNIT_ADD(s, from_patterns);
    UNIT_ADD(s, find_key_lines);
    UNIT_ADD(s, find_key_refusals);
    UNIT_ADD(s, startups_policy);
    UNIT_ADD(s, env_accepted);
    UNIT_ADD(s, env_caps);
    UNIT_ADD(s, x11_displays_capped);
    UNIT_ADD(s, algo_lists);
    UNIT_ADD(s, algo_errors);
    UNIT_ADD(s, algo_hostkey_kinds);
    UNIT_ADD(s, tty_modes_applied);
    UNIT_ADD(s, tty_modes_edges);
    UNIT_ADD(s, log_safe_strings);
    UNIT_ADD(s, hostkey_no_symlinked_folder);
    UNIT_ADD(s, agent_registry_names);
    UNIT_ADD(s, proc_stat_start_time);
    UNIT_ADD(s, config_keywords);
    UNIT_ADD(s, config_command_line_wins);
    UNIT_ADD(s, config_refusals);
    UNIT_ADD(s, config_table_unique);
    UNIT_ADD(s, config_help_lists_every_switch);
    UNIT_ADD(s, config_print);
    return s;
}

int main(void)
{
    log_set_level(LOG_NONE); /* the lookups warn; keep test output to PASS/FAIL lines */
    Suite *suites[] = {suite(), NULL};
    return unit_run("sshfallback", suites);
}
