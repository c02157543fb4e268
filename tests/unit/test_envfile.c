/* Unit tests of envfile: rendering, merging, filtering, key validation,
 * option tokenizing, cgroup parsing, passwd/group lookup, and the safe
 * writer on a temporary home. */
#include "../../envfile/envfile.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sched.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------- helpers ---------------- */

static int CPU_COUNT_MACHINE(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

static char logbuf[65536];
static size_t loglen;

static void capture_log(enum log_level level, const char *msg)
{
    int n = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%d:%s\n", level, msg);
    if (n > 0 && (size_t)n < sizeof logbuf - loglen)
        loglen += (size_t)n;
}

static void log_setup(void)
{
    log_hook = capture_log;
    loglen = 0;
    logbuf[0] = '\0';
}

static void log_teardown(void)
{
    log_hook = NULL;
}

/* One key of each type OpenSSH accepts, plain and certificate (made with
 * ssh-keygen; the sk ones were built by hand and signed by ssh-keygen -s). */
static const char *const good_keys[] = {
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFQ3ngU5lko5JNkBOu9DcfEXTSXbb9OJayXlAX90OjcE ed25519@test",
    "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIDthUVjQFQIHZ1WM8WXDIZ8p/k95AKNvNceKhf8FO7BjAAAAIFQ3ngU5lko5JNkBOu9DcfEXTSXbb9OJayXlAX90OjcEAAAAAAAAAAAAAAABAAAAAmlkAAAACQAAAAVjb2RlcgAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBObeAjUgMbA39IUEOg9peA3cEqyQH2cA7CUYAgXNoGawAAAFMAAAALc3NoLWVkMjU1MTkAAABArvLS8mHrckAvXIPnw8t1zzCIQXF/INIBuGLxupyZ0XDlxJ7ynIf5aWGsK0crwQ4Sjc2piZXBknyMplyVmzLHDQ== ed25519@test",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDdXN+ocGah7DG/ruYvm8R6hXB1st1fCvm5L4D+F81jx6eyM9GikQCsm+DdB7TdpCBNT6hZ5HwAC7BFLSAWUvRE= ecdsab256@test",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgUp5OGHZiZE/X89zx6dq4fDwFGYqua8BNe6AppBBmr/gAAAAIbmlzdHAyNTYAAABBBDdXN+ocGah7DG/ruYvm8R6hXB1st1fCvm5L4D+F81jx6eyM9GikQCsm+DdB7TdpCBNT6hZ5HwAC7BFLSAWUvREAAAAAAAAAAAAAAAEAAAACaWQAAAAJAAAABWNvZGVyAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIE5t4CNSAxsDf0hQQ6D2l4DdwSrJAfZwDsJRgCBc2gZrAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEBPLoPADm9tw+Pm3pQnu+rWfSp/gTNmW/0Q3IeaJEAk7iKyFKr4GAlhRX1XIz2kILNNAp4ugAR7DucsRWQOvtcH ecdsab256@test",
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBIbW49cTb+fqX3FKX8DI7mCqo9fsUTcvCw2BDMylPllfFUercLlApRR4is22v8i0w7TJnXZz0VpHcrJOK9Z2xjJFFX5u7zFIXerVaMVAAXxIbH6/lay9KfOS8AdCls+7GQ== ecdsab384@test",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAzODQtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg81wTMCYcbrLHSvh4urpmxC5UwWrPbSaKT8zHymxrtSoAAAAIbmlzdHAzODQAAABhBIbW49cTb+fqX3FKX8DI7mCqo9fsUTcvCw2BDMylPllfFUercLlApRR4is22v8i0w7TJnXZz0VpHcrJOK9Z2xjJFFX5u7zFIXerVaMVAAXxIbH6/lay9KfOS8AdCls+7GQAAAAAAAAAAAAAAAQAAAAJpZAAAAAkAAAAFY29kZXIAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgTm3gI1IDGwN/SFBDoPaXgN3BKskB9nAOwlGAIFzaBmsAAABTAAAAC3NzaC1lZDI1NTE5AAAAQBXz+VjsC110glvIvpeGdFy7VvZ5rWnEcgtfH00Wvik/8OtCwp113GKTvHHHXvr6JiWAcQvnDUtspjG2On33QQU= ecdsab384@test",
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHdgaPiRVSYIOUHkBtnfBdkFQAyF5x5DWo5PgXNIoCyf7kh5dfwV7l45/beY38jBqhsYim/+yhXtqcpiHXHujkrOQFKtdQJkyMmltOEydwxvefQz4MTzA6e08up0TV9V83XsNnWhdeigIT7BDgJQ4pfLtY+FQ2TQMxN45dD2pxKxhRvKw== ecdsab521@test",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA1MjEtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg3m/7P85EqlnGu9y8TAbD7l4srMUPr/hme5VvZdeB2LQAAAAIbmlzdHA1MjEAAACFBAHdgaPiRVSYIOUHkBtnfBdkFQAyF5x5DWo5PgXNIoCyf7kh5dfwV7l45/beY38jBqhsYim/+yhXtqcpiHXHujkrOQFKtdQJkyMmltOEydwxvefQz4MTzA6e08up0TV9V83XsNnWhdeigIT7BDgJQ4pfLtY+FQ2TQMxN45dD2pxKxhRvKwAAAAAAAAAAAAAAAQAAAAJpZAAAAAkAAAAFY29kZXIAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgTm3gI1IDGwN/SFBDoPaXgN3BKskB9nAOwlGAIFzaBmsAAABTAAAAC3NzaC1lZDI1NTE5AAAAQBZymOJP6RTswZmoqwCa1mVwHAFXBJON9/kP6f8YzCkgCUo60ae8bOAmGSYJ6Ikz2PQPrnhuXYl/9a3WkdOjvQ4= ecdsab521@test",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC9xoK8Y6M4hIEVtfwPL/b8VdtJw1ZrlS9vZPEOeY6eq8cHREQ18B2qYCKAph6D0UyL8+5jFOznvQ+dY4Y372p1K2gCHHlhLxP1gC+de0bKtR8jnJQ85LCWPjq4o++hTf5fJy59Ae4xFJ1GFGZTmQQ0tOjqDwEocjLZjMahVK3MpdfQo96LDnV5yFcvkdnsO2RhbbIuFgnPLayOJx96u8sCcmatfkx1QJpmmNM7OoO9otvlORWoIfeEDngHnBHTwmBxoLEVmKdMjnnHlQ/Lk7yEiFv8dJ5jfYmO/OirPp/sJq/zlYAKSs7nY5WaYT5w3gZhjxKBjUTDu7ZdLusRqDNH rsab2048@test",
    "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgsJOVcOr0TyrSmuYclMK628Atob7fylZxtbVwEyoeBiAAAAADAQABAAABAQC9xoK8Y6M4hIEVtfwPL/b8VdtJw1ZrlS9vZPEOeY6eq8cHREQ18B2qYCKAph6D0UyL8+5jFOznvQ+dY4Y372p1K2gCHHlhLxP1gC+de0bKtR8jnJQ85LCWPjq4o++hTf5fJy59Ae4xFJ1GFGZTmQQ0tOjqDwEocjLZjMahVK3MpdfQo96LDnV5yFcvkdnsO2RhbbIuFgnPLayOJx96u8sCcmatfkx1QJpmmNM7OoO9otvlORWoIfeEDngHnBHTwmBxoLEVmKdMjnnHlQ/Lk7yEiFv8dJ5jfYmO/OirPp/sJq/zlYAKSs7nY5WaYT5w3gZhjxKBjUTDu7ZdLusRqDNHAAAAAAAAAAAAAAABAAAAAmlkAAAACQAAAAVjb2RlcgAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBObeAjUgMbA39IUEOg9peA3cEqyQH2cA7CUYAgXNoGawAAAFMAAAALc3NoLWVkMjU1MTkAAABABgzogwGqJEMjx+6Wtt6orb031fgofNsCkW8EzkmQPYPJkmRHG1BWp5pmLMG8kn9WBSpXZxDzNhiZgVERLqCjAA== rsab2048@test",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDLAQHn0RWzel1Mm/XNej+KvNCcIePHZntz6FEAeYrbA0LpGiZ5Uzi2+KKn7b18qI210/CElMOYYCO0uFo/FBUJPqIEraNV3eW0BETYJvzbRfyP/RKpsdQbvdgtjp9OrV2KBzp+Vf0TB4oYcxMDb98J/DmYYeht2nxK9SVPRY/kew== rsab1024@test",
    "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgNyZjxnfr21bbTtWM78mBfcO6DgdB8qwsnjPoWLM0XYQAAAADAQABAAAAgQDLAQHn0RWzel1Mm/XNej+KvNCcIePHZntz6FEAeYrbA0LpGiZ5Uzi2+KKn7b18qI210/CElMOYYCO0uFo/FBUJPqIEraNV3eW0BETYJvzbRfyP/RKpsdQbvdgtjp9OrV2KBzp+Vf0TB4oYcxMDb98J/DmYYeht2nxK9SVPRY/kewAAAAAAAAAAAAAAAQAAAAJpZAAAAAkAAAAFY29kZXIAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgTm3gI1IDGwN/SFBDoPaXgN3BKskB9nAOwlGAIFzaBmsAAABTAAAAC3NzaC1lZDI1NTE5AAAAQIV7cGpWGBduxL0lCdlcLpu5ujHGXS8hC5VNAYv045eLuaJNrpJu4yVHO1aZCuiSf07Ih1BbR2nCAHNqGJWdUQI= rsab1024@test",
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIILLIVKrOT9B8FFYw+p3Dd9FnUcOYwYp9nUJymhlR6+eAAAABHNzaDo= sked@test",
    "sk-ssh-ed25519-cert-v01@openssh.com AAAAI3NrLXNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAICXKXhFZ/LHhD5xorYseCjbWAKamknAoqi8fRUz6CFLJAAAAIILLIVKrOT9B8FFYw+p3Dd9FnUcOYwYp9nUJymhlR6+eAAAABHNzaDoAAAAAAAAAAAAAAAEAAAACaWQAAAAJAAAABWNvZGVyAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIE5t4CNSAxsDf0hQQ6D2l4DdwSrJAfZwDsJRgCBc2gZrAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEAYfkqyxmB/QoqJK67VE/spYMuuPCqCmCoM9IuvJANF3ETCGS9255MJp6++q87RGagk9NdBgVh7lEzBehOQJE8F sked@test",
    "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBDdXN+ocGah7DG/ruYvm8R6hXB1st1fCvm5L4D+F81jx6eyM9GikQCsm+DdB7TdpCBNT6hZ5HwAC7BFLSAWUvREAAAAEc3NoOg== skec@test",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAK3NrLWVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAglmZ+tVDabt/a6LM5qNK2uEv14KZRCWnCg9742nEi1awAAAAIbmlzdHAyNTYAAABBBDdXN+ocGah7DG/ruYvm8R6hXB1st1fCvm5L4D+F81jx6eyM9GikQCsm+DdB7TdpCBNT6hZ5HwAC7BFLSAWUvREAAAAEc3NoOgAAAAAAAAAAAAAAAQAAAAJpZAAAAAkAAAAFY29kZXIAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgTm3gI1IDGwN/SFBDoPaXgN3BKskB9nAOwlGAIFzaBmsAAABTAAAAC3NzaC1lZDI1NTE5AAAAQCzvxXMOhbEG4nI134+eGlY/gwGr4GWBHs1KqfLSUbu7JbtHQDbztHE3j8xZbFQ4NdFpzFKlQNDS2O/5s90R7wE= skec@test",
};
#define N_GOOD (sizeof good_keys / sizeof good_keys[0])

static const char *ENV_BLOCK_AB =
    ENVFILE_ENV_START "\n" ENVFILE_ENV_HEAD1 "\n" ENVFILE_ENV_HEAD2 "\n"
    "A=1\nB=2\n" ENVFILE_ENV_END "\n";

static struct envfile_buf merged(const char *old, const char *block, unsigned *flags)
{
    struct envfile_buf out = {0};
    int rc = envfile_merge_env(old, old ? strlen(old) : 0, block, block ? strlen(block) : 0, &out, flags);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(out.data);
    return out;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static char *env_block(const char *body)
{
    static char b[1024];
    snprintf(b, sizeof b, ENVFILE_ENV_START "\n" ENVFILE_ENV_HEAD1 "\n" ENVFILE_ENV_HEAD2 "\n%s" ENVFILE_ENV_END "\n", body);
    return b;
}

/* ---------------- rendering and collecting ---------------- */

START_TEST(render_shape)
{
    struct envfile_vars vs = {0};
    struct envfile_buf out = {0};
    ck_assert_int_eq(envfile_vars_set(&vs, "B", 1, "2", 1), 0);
    ck_assert_int_eq(envfile_vars_set(&vs, "A", 1, "1", 1), 0);
    envfile_vars_sort(&vs);
    ck_assert_int_eq(envfile_env_render(&vs, &out), 0);
    ck_assert_str_eq(out.data, ENV_BLOCK_AB);
    envfile_buf_free(&out);
    envfile_vars_free(&vs);
}
END_TEST

START_TEST(render_empty)
{
    struct envfile_vars vs = {0};
    struct envfile_buf out = {0};
    ck_assert_int_eq(envfile_env_render(&vs, &out), 0);
    ck_assert_str_eq(out.data, env_block(""));
    envfile_buf_free(&out);
}
END_TEST

START_TEST(render_product_page_marker_text)
{
    ck_assert_str_eq(ENVFILE_ENV_START, "# --------- START CODER ENVIRONMENT VARIABLES ----------");
    ck_assert_str_eq(ENVFILE_ENV_END, "# ----------------- END CODER -----------------------");
    ck_assert_str_eq(ENVFILE_ENV_HEAD1, "# The following has been auto-generated at environment startup");
    ck_assert_str_eq(ENVFILE_ENV_HEAD2, "# You should not hand-edit this section, unless you are deleting it.");
}
END_TEST

static const struct envfile_user coder = {"coder", 1000, 1000, "/home/coder", "/bin/zsh"};

static char *collect_render(char *const *envp, const char *cgroup_root)
{
    struct envfile_request req = {.user = &coder, .environ = envp, .assets_root = "/opt/coder",
                                  .cgroup_root = cgroup_root, .hostname = "dev"};
    return envfile_render_for(&req);
}

START_TEST(collect_forces_user_identity)
{
    char *envp[] = {"USER=root", "HOME=/root", "SHELL=/bin/sh", "PWD=/", "FOO=bar", NULL};
    char *b = collect_render(envp, "/nonexistent");
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(strstr(b, "\nUSER=coder\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nHOME=/home/coder\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nSHELL=/bin/zsh\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nPWD=/home/coder\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nFOO=bar\n"));
    ck_assert_ptr_null(strstr(b, "root"));
    free(b);
}
END_TEST

START_TEST(collect_defaults)
{
    char *envp[] = {NULL};
    char *b = collect_render(envp, "/nonexistent");
    ck_assert_ptr_nonnull(strstr(b, "\nHOSTNAME=dev\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nLANG=en_US.UTF-8\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_USERNAME=coder\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_ENVIRONMENT_NAME=dev\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_ASSETS_ROOT=/opt/coder\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_CPU_LIMIT="));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_MEMORY_LIMIT="));
    free(b);
}
END_TEST

START_TEST(collect_passed_in_wins)
{
    char *envp[] = {"LANG=de_DE.UTF-8", "HOSTNAME=box", "CODER_USERNAME=john",
                    "CODER_ENVIRONMENT_NAME=env1", "CODER_CPU_LIMIT=24.00",
                    "CODER_MEMORY_LIMIT=32.00", "CODER_ASSETS_ROOT=/x", NULL};
    char *b = collect_render(envp, "/nonexistent");
    ck_assert_ptr_nonnull(strstr(b, "\nLANG=de_DE.UTF-8\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nHOSTNAME=box\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_USERNAME=john\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_ENVIRONMENT_NAME=env1\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_CPU_LIMIT=24.00\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_MEMORY_LIMIT=32.00\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_ASSETS_ROOT=/x\n"));
    free(b);
}
END_TEST

START_TEST(collect_drops_envinit_vars)
{
    char *envp[] = {"ENVINIT_AUTHORIZED_KEYS=ssh-ed25519 AAAA", "ENVINIT_USER=coder", "ENVINITX=1", NULL};
    char *b = collect_render(envp, "/nonexistent");
    ck_assert_ptr_null(strstr(b, "ENVINIT_"));
    ck_assert_ptr_nonnull(strstr(b, "\nENVINITX=1\n"));
    free(b);
}
END_TEST

START_TEST(collect_agent_sock_by_server)
{
    char *envp[] = {"SSH_AUTH_SOCK=/tmp/ssh-runtime/agent.1", NULL};
    /* OpenSSH (or any other server) sets its own: the block leaves it out */
    char *b = collect_render(envp, "/nonexistent");
    ck_assert_ptr_null(strstr(b, "SSH_AUTH_SOCK"));
    free(b);
    /* envinit-sshd: the stable agent path in the user's home */
    struct envfile_request req = {.user = &coder, .environ = envp, .assets_root = "/opt/coder",
                                  .cgroup_root = "/nonexistent", .hostname = "dev", .agent_link = 1};
    b = envfile_render_for(&req);
    ck_assert_ptr_nonnull(strstr(b, "\nSSH_AUTH_SOCK=/home/coder/.envinit-ssh-agent.sock\n"));
    ck_assert_ptr_null(strstr(b, "/tmp/ssh-runtime"));
    free(b);
}
END_TEST

START_TEST(collect_sorted_and_stable)
{
    char *envp1[] = {"ZED=1", "ALPHA=2", "MID=3", "_U=4", "a=5", NULL};
    char *envp2[] = {"a=5", "_U=4", "MID=3", "ZED=1", "ALPHA=2", NULL};
    char *b1 = collect_render(envp1, "/nonexistent");
    char *b2 = collect_render(envp2, "/nonexistent");
    ck_assert_str_eq(b1, b2);
    /* byte order: uppercase < '_' < lowercase */
    const char *order[] = {"\nALPHA=", "\nCODER_ASSETS_ROOT=", "\nMID=", "\nZED=", "\n_U=", "\na=", NULL};
    const char *prev = b1;
    for (int i = 0; order[i]; i++) {
        const char *p = strstr(b1, order[i]);
        ck_assert_msg(p && p > prev, "%s out of order", order[i]);
        prev = p;
    }
    free(b1);
    free(b2);
}
END_TEST

START_TEST(collect_filters_bad_vars)
{
    log_setup();
    char *envp[] = {"GOOD=1", "BAD-NAME=2", "NL=a\nb", "CR=a\rb", "1DIGIT=3", "=empty", NULL};
    char *b = collect_render(envp, "/nonexistent");
    log_teardown();
    ck_assert_ptr_nonnull(strstr(b, "\nGOOD=1\n"));
    ck_assert_ptr_null(strstr(b, "BAD-NAME"));
    ck_assert_ptr_null(strstr(b, "NL="));
    ck_assert_ptr_null(strstr(b, "CR="));
    ck_assert_ptr_null(strstr(b, "1DIGIT"));
    ck_assert_ptr_nonnull(strstr(logbuf, "'BAD-NAME'"));
    ck_assert_ptr_nonnull(strstr(logbuf, "variable NL left out"));
    ck_assert_ptr_nonnull(strstr(logbuf, "variable CR left out"));
    ck_assert_ptr_nonnull(strstr(logbuf, "'1DIGIT'"));
    ck_assert_ptr_null(strstr(logbuf, "a\nb")); /* never the value */
    free(b);
}
END_TEST

/* ---------------- filtering ---------------- */

START_TEST(filter_names)
{
    ck_assert(envfile_name_valid("A", 1));
    ck_assert(envfile_name_valid("_", 1));
    ck_assert(envfile_name_valid("a_B9", 4));
    ck_assert(!envfile_name_valid("", 0));
    ck_assert(!envfile_name_valid("9A", 2));
    ck_assert(!envfile_name_valid("A-B", 3));
    ck_assert(!envfile_name_valid("A.B", 3));
    ck_assert(!envfile_name_valid("A B", 3));
    ck_assert(!envfile_name_valid("\xc3\xa9", 2));
}
END_TEST

START_TEST(filter_values)
{
    ck_assert(envfile_value_valid("", 0));
    ck_assert(envfile_value_valid("a b=c\t\"'$", 9));
    ck_assert(!envfile_value_valid("a\nb", 3));
    ck_assert(!envfile_value_valid("a\rb", 3));
    ck_assert(!envfile_value_valid("a\0b", 3));
}
END_TEST

START_TEST(filter_removes_and_counts)
{
    struct envfile_vars vs = {0};
    log_setup();
    envfile_vars_set(&vs, "OK", 2, "1", 1);
    envfile_vars_set(&vs, "B\x01X", 3, "1", 1);
    envfile_vars_set(&vs, "V", 1, "x\ny", 3);
    envfile_vars_set(&vs, "OK2", 3, "", 0);
    ck_assert_uint_eq(envfile_vars_filter(&vs), 2);
    log_teardown();
    ck_assert_uint_eq(vs.n, 2);
    ck_assert_str_eq(vs.v[0].entry, "OK=1");
    ck_assert_str_eq(vs.v[1].entry, "OK2=");
    ck_assert_ptr_nonnull(strstr(logbuf, "'B?X'")); /* control character sanitized */
    envfile_vars_free(&vs);
}
END_TEST

START_TEST(vars_set_replaces_in_place)
{
    struct envfile_vars vs = {0};
    char *envp[] = {"A=1", "B=2", "A=3", "NOEQ", NULL};
    ck_assert_int_eq(envfile_vars_from_environ(&vs, envp, NULL), 0);
    ck_assert_uint_eq(vs.n, 2);
    ck_assert_str_eq(vs.v[0].entry, "A=3");
    ck_assert_str_eq(envfile_var_value(envfile_vars_find(&vs, "B")), "2");
    envfile_vars_unset(&vs, "A");
    ck_assert_uint_eq(vs.n, 1);
    ck_assert_ptr_null(envfile_vars_find(&vs, "A"));
    envfile_vars_free(&vs);
}
END_TEST

/* ---------------- ~/.ssh/environment parsing (sshd's reading) ---------------- */

START_TEST(envparse_like_sshd)
{
    const char text[] = "# comment\n\n   \n  A=1\n\tB = two \nNOEQUALS\n=empty\nC=x=y\nD=cr\r\nA=again\nE=";
    struct envfile_vars vs = {0};
    unsigned bad = 0;
    ck_assert_int_eq(envfile_env_parse(text, sizeof text - 1, &vs, &bad), 0);
    ck_assert_uint_eq(bad, 2);
    ck_assert_uint_eq(vs.n, 5);
    ck_assert_str_eq(vs.v[0].entry, "A=again");   /* later wins, first position */
    ck_assert_str_eq(vs.v[1].entry, "B = two ");  /* name "B ", value " two " */
    ck_assert_uint_eq(vs.v[1].name_len, 2);
    ck_assert_str_eq(vs.v[2].entry, "C=x=y");
    ck_assert_str_eq(envfile_var_value(&vs.v[3]), "cr\r"); /* sshd keeps the CR */
    ck_assert_str_eq(vs.v[4].entry, "E=");
    envfile_vars_free(&vs);
}
END_TEST

START_TEST(envparse_nul_cuts_line)
{
    const char text[] = "A=x\0hidden\nB=2\n";
    struct envfile_vars vs = {0};
    ck_assert_int_eq(envfile_env_parse(text, sizeof text - 1, &vs, NULL), 0);
    ck_assert_uint_eq(vs.n, 2);
    ck_assert_str_eq(vs.v[0].entry, "A=x");
    envfile_vars_free(&vs);
}
END_TEST

START_TEST(envparse_too_many_lines)
{
    struct envfile_buf b = {0};
    for (int i = 0; i < 1001; i++)
        envfile_buf_str(&b, "# x\n");
    struct envfile_vars vs = {0};
    errno = 0;
    ck_assert_int_eq(envfile_env_parse(b.data, b.len, &vs, NULL), -1);
    ck_assert_int_eq(errno, E2BIG);
    b.len -= 4; /* exactly 1000 lines is fine */
    ck_assert_int_eq(envfile_env_parse(b.data, b.len, &vs, NULL), 0);
    envfile_buf_free(&b);
    envfile_vars_free(&vs);
}
END_TEST

START_TEST(envparse_reads_rendered_block)
{
    struct envfile_vars vs = {0}, back = {0};
    struct envfile_buf out = {0};
    envfile_vars_set(&vs, "PATH", 4, "/usr/bin:/bin", 13);
    envfile_vars_set(&vs, "X", 1, "a = b # c", 9);
    envfile_env_render(&vs, &out);
    ck_assert_int_eq(envfile_env_parse(out.data, out.len, &back, NULL), 0);
    ck_assert_uint_eq(back.n, 2);
    ck_assert_str_eq(back.v[0].entry, "PATH=/usr/bin:/bin");
    ck_assert_str_eq(back.v[1].entry, "X=a = b # c");
    envfile_vars_free(&vs);
    envfile_vars_free(&back);
    envfile_buf_free(&out);
}
END_TEST

/* ---------------- merge ---------------- */

START_TEST(merge_no_file)
{
    unsigned f;
    struct envfile_buf out = merged(NULL, ENV_BLOCK_AB, &f);
    ck_assert_str_eq(out.data, ENV_BLOCK_AB);
    ck_assert(f & ENVFILE_MERGE_APPENDED);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_empty_file)
{
    unsigned f;
    struct envfile_buf out = merged("", ENV_BLOCK_AB, &f);
    ck_assert_str_eq(out.data, ENV_BLOCK_AB);
    ck_assert_uint_eq(f, ENVFILE_MERGE_APPENDED);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_no_block_appends)
{
    unsigned f;
    struct envfile_buf out = merged("MINE=1\n# my comment\n", ENV_BLOCK_AB, &f);
    ck_assert_uint_eq(out.len, strlen("MINE=1\n# my comment\n") + strlen(ENV_BLOCK_AB));
    ck_assert(strncmp(out.data, "MINE=1\n# my comment\n", 20) == 0);
    ck_assert_str_eq(out.data + 20, ENV_BLOCK_AB);
    ck_assert_uint_eq(f, ENVFILE_MERGE_APPENDED);
    envfile_buf_free(&out);
    /* no final newline: one is added before the block */
    out = merged("MINE=1", ENV_BLOCK_AB, &f);
    ck_assert(strncmp(out.data, "MINE=1\n", 7) == 0);
    ck_assert_str_eq(out.data + 7, ENV_BLOCK_AB);
    envfile_buf_free(&out);
}
END_TEST

static void check_positions(const char *before, const char *after)
{
    char old[4096], want[4096];
    snprintf(old, sizeof old, "%s%s%s", before, env_block("OLD=1\nA=0\n"), after);
    snprintf(want, sizeof want, "%s%s%s", before, ENV_BLOCK_AB, after);
    unsigned f;
    struct envfile_buf out = merged(old, ENV_BLOCK_AB, &f);
    ck_assert_str_eq(out.data, want);
    ck_assert_uint_eq(f, 0);
    envfile_buf_free(&out);
}

START_TEST(merge_block_first)
{
    check_positions("", "MINE=1\n# after\n");
}
END_TEST

START_TEST(merge_block_middle)
{
    check_positions("# before\nX=1\n\n", "\nMINE=1\n");
}
END_TEST

START_TEST(merge_block_last)
{
    check_positions("# before\nX=1\n", "");
    check_positions("# before\nX=1\n", "trailing-without-newline");
}
END_TEST

START_TEST(merge_two_blocks)
{
    char old[4096];
    snprintf(old, sizeof old, "U1=1\n%sU2=2\n", env_block("A=old\n"));
    size_t l = strlen(old);
    snprintf(old + l, sizeof old - l, "%sU3=3\n", env_block("B=old\n"));
    unsigned f;
    struct envfile_buf out = merged(old, ENV_BLOCK_AB, &f);
    char want[4096];
    snprintf(want, sizeof want, "U1=1\n%sU2=2\nU3=3\n", ENV_BLOCK_AB);
    ck_assert_str_eq(out.data, want);
    ck_assert(f & ENVFILE_MERGE_TWO_BLOCKS);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_unterminated_block)
{
    /* end marker deleted: the old block's run (names the new block sets)
     * goes, the user's lines stay */
    const char *old = "U1=1\n" ENVFILE_ENV_START "\n" ENVFILE_ENV_HEAD1 "\n" ENVFILE_ENV_HEAD2 "\n"
                      "A=old\nB=old\nGONE=stale\n\n# mine\nA=user-override\n";
    unsigned f;
    struct envfile_buf out = merged(old, ENV_BLOCK_AB, &f);
    char want[4096];
    snprintf(want, sizeof want, "U1=1\n%sGONE=stale\n\n# mine\nA=user-override\n", ENV_BLOCK_AB);
    ck_assert_str_eq(out.data, want);
    ck_assert(f & ENVFILE_MERGE_UNTERMINATED);
    ck_assert(f & ENVFILE_MERGE_KEPT_LINES);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_unterminated_then_block)
{
    char old[4096];
    snprintf(old, sizeof old, ENVFILE_ENV_START "\nA=x\nU=1\n%s", env_block("B=y\n"));
    unsigned f;
    struct envfile_buf out = merged(old, ENV_BLOCK_AB, &f);
    char want[4096];
    snprintf(want, sizeof want, "%sU=1\n", ENV_BLOCK_AB);
    ck_assert_str_eq(out.data, want);
    ck_assert(f & ENVFILE_MERGE_UNTERMINATED);
    ck_assert(f & ENVFILE_MERGE_TWO_BLOCKS);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_stray_end)
{
    unsigned f;
    struct envfile_buf out = merged("U=1\n" ENVFILE_ENV_END "\nV=2\n", ENV_BLOCK_AB, &f);
    char want[4096];
    snprintf(want, sizeof want, "U=1\nV=2\n%s", ENV_BLOCK_AB);
    ck_assert_str_eq(out.data, want);
    ck_assert(f & ENVFILE_MERGE_STRAY_END);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_crlf)
{
    const char *old = "U1=1\r\n" ENVFILE_ENV_START "\r\n" ENVFILE_ENV_HEAD1 "\r\n" ENVFILE_ENV_HEAD2
                      "\r\nA=old\r\n" ENVFILE_ENV_END "\r\nU2=2\r\n";
    unsigned f;
    struct envfile_buf out = merged(old, ENV_BLOCK_AB, &f);
    char want[4096];
    snprintf(want, sizeof want, "U1=1\r\n%sU2=2\r\n", ENV_BLOCK_AB);
    ck_assert_str_eq(out.data, want);
    ck_assert_uint_eq(f, 0);
    envfile_buf_free(&out);
    /* CRLF file without block and without final line end: CRLF separator */
    out = merged("U1=1\r\nU2=2", ENV_BLOCK_AB, &f);
    snprintf(want, sizeof want, "U1=1\r\nU2=2\r\n%s", ENV_BLOCK_AB);
    ck_assert_str_eq(out.data, want);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_idempotent)
{
    const char *olds[] = {"", "U=1", "U=1\r\n", ENVFILE_ENV_START "\nA=1\nX=2\n",
                          ENVFILE_ENV_END "\n" ENVFILE_ENV_START "\n", "\n\n\n"};
    for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++) {
        struct envfile_buf a = merged(olds[i], ENV_BLOCK_AB, NULL);
        unsigned f;
        struct envfile_buf b = merged(a.data, ENV_BLOCK_AB, &f);
        ck_assert_str_eq(a.data, b.data);
        ck_assert_uint_eq(f, 0);
        ck_assert_int_eq(count_of(b.data, ENVFILE_ENV_START), 1);
        envfile_buf_free(&a);
        envfile_buf_free(&b);
    }
}
END_TEST

START_TEST(merge_one_mib_file)
{
    struct envfile_buf old = {0};
    while (old.len < (1u << 20))
        envfile_buf_str(&old, "USERVAR_WITH_A_LONG_NAME=some value that is long enough\n");
    size_t user_len = old.len;
    envfile_buf_str(&old, env_block("A=old\n"));
    envfile_buf_str(&old, "TAIL=1\n");
    unsigned f;
    struct envfile_buf out = {0};
    ck_assert_int_eq(envfile_merge_env(old.data, old.len, ENV_BLOCK_AB, strlen(ENV_BLOCK_AB), &out, &f), 0);
    ck_assert_uint_eq(out.len, user_len + strlen(ENV_BLOCK_AB) + 7);
    ck_assert(memcmp(out.data, old.data, user_len) == 0);
    ck_assert(memcmp(out.data + user_len, ENV_BLOCK_AB, strlen(ENV_BLOCK_AB)) == 0);
    ck_assert_str_eq(out.data + out.len - 7, "TAIL=1\n");
    envfile_buf_free(&old);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_keeps_binary_bytes)
{
    const char old[] = "B\0IN\xff\n" ENVFILE_ENV_START "\n" ENVFILE_ENV_END "\nT\0\n";
    struct envfile_buf out = {0};
    ck_assert_int_eq(envfile_merge_env(old, sizeof old - 1, ENV_BLOCK_AB, strlen(ENV_BLOCK_AB), &out, NULL), 0);
    ck_assert_uint_eq(out.len, 6 + strlen(ENV_BLOCK_AB) + 3);
    ck_assert(memcmp(out.data, "B\0IN\xff\n", 6) == 0);
    ck_assert(memcmp(out.data + out.len - 3, "T\0\n", 3) == 0);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(merge_keys_remove_and_unterminated)
{
    const char *kb = ENVFILE_KEYS_START "\n" ENVFILE_KEYS_HEAD "\nssh-ed25519 AAAA k1\n" ENVFILE_KEYS_END "\n";
    const char *old = "ssh-ed25519 MINE me\n" ENVFILE_KEYS_START "\n" ENVFILE_KEYS_HEAD
                      "\nssh-ed25519 AAAA k1\nssh-ed25519 USER u\n";
    struct envfile_buf out = {0};
    unsigned f;
    ck_assert_int_eq(envfile_merge_keys(old, strlen(old), kb, strlen(kb), &out, &f), 0);
    char want[1024];
    snprintf(want, sizeof want, "ssh-ed25519 MINE me\n%sssh-ed25519 USER u\n", kb);
    ck_assert_str_eq(out.data, want);
    ck_assert(f & ENVFILE_MERGE_UNTERMINATED);
    ck_assert(f & ENVFILE_MERGE_KEPT_LINES);
    envfile_buf_free(&out);
    /* NULL block removes the block and keeps the rest */
    ck_assert_int_eq(envfile_merge_keys(want, strlen(want), NULL, 0, &out, &f), 0);
    ck_assert_str_eq(out.data, "ssh-ed25519 MINE me\nssh-ed25519 USER u\n");
    envfile_buf_free(&out);
    /* nothing to remove: unchanged */
    ck_assert_int_eq(envfile_merge_keys("x\n", 2, NULL, 0, &out, &f), 0);
    ck_assert_str_eq(out.data, "x\n");
    ck_assert_uint_eq(f, 0);
    envfile_buf_free(&out);
}
END_TEST

START_TEST(lines_iterate)
{
    const char *text = "a\r\n\nb";
    size_t pos = 0, n;
    const char *line;
    ck_assert(envfile_next_line(text, 5, &pos, &line, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(envfile_next_line(text, 5, &pos, &line, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert(envfile_next_line(text, 5, &pos, &line, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert(line[0] == 'b');
    ck_assert(!envfile_next_line(text, 5, &pos, &line, &n));
}
END_TEST

/* ---------------- keys ---------------- */

static int parse_str(const char *line, struct envfile_key *k)
{
    return envfile_key_parse(line, strlen(line), k);
}

START_TEST(key_each_type)
{
    struct envfile_key k;
    const char *line = good_keys[_i];
    ck_assert_msg(parse_str(line, &k) == ENVFILE_KEY_OK, "key %d: %s", _i,
                  envfile_key_strerror(parse_str(line, &k)));
    size_t tl = strcspn(line, " ");
    ck_assert_uint_eq(k.type_len, tl);
    ck_assert(memcmp(k.type, line, tl) == 0);
    ck_assert(envfile_key_type_known(k.type, k.type_len));
    ck_assert_uint_eq(k.options_len, 0);
    ck_assert_uint_gt(k.body_len, 40);
    ck_assert_uint_gt(k.comment_len, 0);
}
END_TEST

/* Same key with the type field of another kind: the body's type differs. */
START_TEST(key_inner_type_mismatch)
{
    char line[4096];
    const char *body = strchr(good_keys[0], ' ') + 1; /* ed25519 body */
    snprintf(line, sizeof line, "ssh-rsa %s", body);
    struct envfile_key k;
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_TYPE_MISMATCH);
    snprintf(line, sizeof line, "ssh-ed25519-cert-v01@openssh.com %s", body);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_TYPE_MISMATCH);
    snprintf(line, sizeof line, "ecdsa-sha2-nistp384 %s", strchr(good_keys[2], ' ') + 1);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_TYPE_MISMATCH);
}
END_TEST

START_TEST(key_bad_base64)
{
    char line[4096];
    struct envfile_key k;
    snprintf(line, sizeof line, "%s", good_keys[0]);
    line[20] = '!';
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_BAD_BASE64);
    ck_assert_int_eq(parse_str("ssh-ed25519 A comment", &k), ENVFILE_KEY_BAD_BASE64);
    ck_assert_int_eq(parse_str("ssh-ed25519 AAAA=AAA comment", &k), ENVFILE_KEY_BAD_BASE64);
    /* truncated body: decodes, but the structure is short */
    snprintf(line, sizeof line, "%.40s", good_keys[0]);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_BAD_BODY);
}
END_TEST

START_TEST(key_options_prefix)
{
    char line[8192];
    struct envfile_key k;
    const char *opts[] = {
        "no-pty",
        "restrict,pty",
        "command=\"echo \\\"hi there\\\"\",no-agent-forwarding",
        "from=\"10.0.0.0/8,!10.1.2.3\",environment=\"A=b c\"",
        "NO-PTY,Permitopen=\"localhost:80\",expiry-time=\"20300101\"",
        "cert-authority,principals=\"coder\"",
        "verify-required,no-touch-required,tunnel=\"1\",permitlisten=\"8080\"",
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        snprintf(line, sizeof line, "%s %s", opts[i], good_keys[0]);
        ck_assert_msg(parse_str(line, &k) == ENVFILE_KEY_OK, "%s", opts[i]);
        ck_assert_uint_eq(k.options_len, strlen(opts[i]));
        ck_assert(memcmp(k.options, opts[i], k.options_len) == 0);
        ck_assert(memcmp(k.type, "ssh-ed25519 ", 12) == 0);
    }
}
END_TEST

START_TEST(key_bad_options)
{
    char line[8192];
    struct envfile_key k;
    const char *bad[] = {
        "no-ptyx", "bogus-option", "command=unquoted", "command=\"unterminated",
        "no-pty,", "no-pty,,restrict", "no-pty=\"x\"", "command", "command=\"a\"x",
        "command=\"a\";no-pty",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "%s %s", bad[i], good_keys[0]);
        int st = parse_str(line, &k);
        ck_assert_msg(st == ENVFILE_KEY_BAD_OPTIONS || st == ENVFILE_KEY_UNKNOWN_TYPE,
                      "%s: %s", bad[i], envfile_key_strerror(st));
    }
}
END_TEST

START_TEST(key_comments_blank_and_shapes)
{
    struct envfile_key k;
    ck_assert_int_eq(parse_str("", &k), ENVFILE_KEY_SKIP);
    ck_assert_int_eq(parse_str("   \t\r", &k), ENVFILE_KEY_SKIP);
    ck_assert_int_eq(parse_str("# ssh-ed25519 AAAA", &k), ENVFILE_KEY_SKIP);
    ck_assert_int_eq(parse_str("  # indented comment", &k), ENVFILE_KEY_SKIP);
    ck_assert_int_eq(parse_str("ssh-ed25519", &k), ENVFILE_KEY_NO_BODY);
    ck_assert_int_eq(parse_str("ssh-dss AAAAB3NzaC1kc3MAAACBAP comment", &k), ENVFILE_KEY_UNKNOWN_TYPE);
    ck_assert_int_eq(parse_str("no-pty ssh-dss AAAAB3Nza", &k), ENVFILE_KEY_UNKNOWN_TYPE);
    ck_assert_int_eq(parse_str("ssh-ed25519 AAAA\x01 x", &k), ENVFILE_KEY_BAD_CHAR);
    /* leading blanks, tabs, CRLF and no comment are fine */
    char line[4096];
    snprintf(line, sizeof line, " \t%s \r", good_keys[0]);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_OK);
    ck_assert(memcmp(k.comment, "ed25519@test", 12) == 0);
    ck_assert_uint_eq(k.comment_len, 12);
    snprintf(line, sizeof line, "%.*s", (int)(strrchr(good_keys[0], ' ') - good_keys[0]), good_keys[0]);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_OK);
    ck_assert_uint_eq(k.comment_len, 0);
    ck_assert_ptr_null(k.comment);
    /* comment with spaces and UTF-8 */
    snprintf(line, sizeof line, "%s and more w\xc3\xb6rds", good_keys[0]);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_OK);
}
END_TEST

START_TEST(key_64k_line)
{
    size_t n = 64 * 1024;
    char *line = malloc(n + 1);
    memcpy(line, "ssh-ed25519 ", 12);
    memset(line + 12, 'A', n - 12);
    line[n] = '\0';
    struct envfile_key k;
    ck_assert_int_eq(envfile_key_parse(line, n, &k), ENVFILE_KEY_TOO_LONG);
    /* a long comment on a valid key stays under the limit and is fine */
    snprintf(line, n, "%s ", good_keys[0]);
    size_t l = strlen(line);
    memset(line + l, 'c', 4000);
    ck_assert_int_eq(envfile_key_parse(line, l + 4000, &k), ENVFILE_KEY_OK);
    free(line);
}
END_TEST

/* Builds "TYPE BASE64(blob)" for hand-made bodies. */
static void b64(const unsigned char *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[o] = '\0';
}

static size_t put_str(unsigned char *p, const void *s, size_t n)
{
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    memcpy(p + 4, s, n);
    return n + 4;
}

START_TEST(key_structure_checks)
{
    unsigned char blob[2048], pk[300];
    char line[4096], enc[3000];
    struct envfile_key k;
    memset(pk, 0x11, sizeof pk);
    /* ed25519 with a 31-byte key */
    size_t n = put_str(blob, "ssh-ed25519", 11);
    n += put_str(blob + n, pk, 31);
    b64(blob, n, enc);
    snprintf(line, sizeof line, "ssh-ed25519 %s", enc);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_BAD_BODY);
    /* trailing garbage after a good ed25519 key */
    n = put_str(blob, "ssh-ed25519", 11);
    n += put_str(blob + n, pk, 32);
    b64(blob, n, enc);
    snprintf(line, sizeof line, "ssh-ed25519 %s", enc);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_OK);
    blob[n++] = 0;
    b64(blob, n, enc);
    snprintf(line, sizeof line, "ssh-ed25519 %s", enc);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_BAD_BODY);
    /* RSA with a 512-bit modulus: sshd refuses it */
    n = put_str(blob, "ssh-rsa", 7);
    unsigned char e[] = {1, 0, 1};
    n += put_str(blob + n, e, 3);
    pk[0] = 0x40;
    n += put_str(blob + n, pk, 64);
    b64(blob, n, enc);
    snprintf(line, sizeof line, "ssh-rsa %s", enc);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_BAD_BODY);
    /* ecdsa whose curve name does not match the type */
    n = put_str(blob, "ecdsa-sha2-nistp256", 19);
    n += put_str(blob + n, "nistp384", 8);
    pk[0] = 4;
    n += put_str(blob + n, pk, 65);
    b64(blob, n, enc);
    snprintf(line, sizeof line, "ecdsa-sha2-nistp256 %s", enc);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_BAD_BODY);
    /* length field larger than the blob */
    n = put_str(blob, "ssh-ed25519", 11);
    blob[n] = 0x7f;
    blob[n + 1] = blob[n + 2] = blob[n + 3] = 0xff;
    n += 4;
    b64(blob, n, enc);
    snprintf(line, sizeof line, "ssh-ed25519 %s", enc);
    ck_assert_int_eq(parse_str(line, &k), ENVFILE_KEY_BAD_BODY);
}
END_TEST

START_TEST(base64_decode_cases)
{
    unsigned char out[16];
    ck_assert_int_eq(envfile_base64_decode("", 0, out, sizeof out), 0);
    ck_assert_int_eq(envfile_base64_decode("YQ==", 4, out, sizeof out), 1);
    ck_assert_int_eq(out[0], 'a');
    ck_assert_int_eq(envfile_base64_decode("YQ", 2, out, sizeof out), 1);
    ck_assert_int_eq(envfile_base64_decode("YWJj", 4, out, sizeof out), 3);
    ck_assert(memcmp(out, "abc", 3) == 0);
    ck_assert_int_eq(envfile_base64_decode("YR==", 4, out, sizeof out), -1); /* non-zero pad bits */
    ck_assert_int_eq(envfile_base64_decode("Y", 1, out, sizeof out), -1);
    ck_assert_int_eq(envfile_base64_decode("YQ=", 3, out, sizeof out), -1);
    ck_assert_int_eq(envfile_base64_decode("Y Q=", 4, out, sizeof out), -1);
    ck_assert_int_eq(envfile_base64_decode("YWJj", 4, out, 2), -1); /* too small */
}
END_TEST

START_TEST(opts_tokenizer)
{
    const char *o = "no-pty,command=\"say \\\"hi\\\", ok\",FROM=\"a,b\"";
    size_t pos = 0;
    struct envfile_opt opt;
    char val[64];
    ck_assert_int_eq(envfile_opts_next(o, strlen(o), &pos, &opt), 1);
    ck_assert(envfile_opt_is(&opt, "no-pty"));
    ck_assert_ptr_null(opt.value);
    ck_assert_int_eq(envfile_opts_next(o, strlen(o), &pos, &opt), 1);
    ck_assert(envfile_opt_is(&opt, "command"));
    ck_assert_int_eq(envfile_opt_unquote(&opt, val, sizeof val), 12);
    ck_assert_str_eq(val, "say \"hi\", ok");
    ck_assert_int_eq(envfile_opt_unquote(&opt, val, 5), -1);
    ck_assert_int_eq(envfile_opts_next(o, strlen(o), &pos, &opt), 1);
    ck_assert(envfile_opt_is(&opt, "from"));
    ck_assert_uint_eq(opt.value_len, 3);
    ck_assert_int_eq(envfile_opts_next(o, strlen(o), &pos, &opt), 0);
    const char *why = NULL;
    ck_assert_int_eq(envfile_opts_validate(o, strlen(o), &why), 0);
    ck_assert_int_eq(envfile_opts_validate("pty=\"1\"", 7, &why), -1);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(envfile_opts_validate("tunnel", 6, &why), -1);
    pos = 0;
    ck_assert_int_eq(envfile_opts_next(",x", 2, &pos, &opt), -1);
    pos = 0;
    ck_assert_int_eq(envfile_opts_next("a\"b", 3, &pos, &opt), -1);
}
END_TEST

START_TEST(keys_render_block)
{
    log_setup();
    char entry1[8192], entry2[4096];
    snprintf(entry1, sizeof entry1, "# a comment\n\n%s\r\nssh-ed25519 NOTBASE64!! secret-comment\n%s",
             good_keys[0], good_keys[2]);
    snprintf(entry2, sizeof entry2, "%s\n  %s  ", good_keys[2], good_keys[4]); /* duplicate + one */
    const char *keys[] = {entry1, entry2, NULL};
    struct envfile_buf out = {0};
    ck_assert_int_eq(envfile_keys_render(keys, &out), 3);
    log_teardown();
    char want[16384];
    snprintf(want, sizeof want, ENVFILE_KEYS_START "\n" ENVFILE_KEYS_HEAD "\n%s\n%s\n%s\n" ENVFILE_KEYS_END "\n",
             good_keys[0], good_keys[2], good_keys[4]);
    ck_assert_str_eq(out.data, want);
    /* position given, never the whole line */
    ck_assert_ptr_nonnull(strstr(logbuf, "authorized key 2 (entry 1, line 4) refused"));
    ck_assert_ptr_nonnull(strstr(logbuf, "not valid base64"));
    ck_assert_ptr_null(strstr(logbuf, "secret-comment"));
    envfile_buf_free(&out);
}
END_TEST

START_TEST(keys_render_none_valid)
{
    log_setup();
    const char *keys[] = {"garbage", "# only a comment", NULL};
    struct envfile_buf out = {0};
    ck_assert_int_eq(envfile_keys_render(keys, &out), 0);
    log_teardown();
    ck_assert_uint_eq(out.len, 0);
    const char *none[] = {NULL};
    ck_assert_int_eq(envfile_keys_render(none, &out), 0);
    ck_assert_int_eq(envfile_keys_render(NULL, &out), 0);
    envfile_buf_free(&out);
}
END_TEST

/* ---------------- cgroups ---------------- */

START_TEST(cgroup_v2_cpu)
{
    double c = -1;
    ck_assert_int_eq(envfile_cgroup_cpu_v2("max 100000\n", &c), 0);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("max", &c), 0);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("200000 100000\n", &c), 1);
    ck_assert_double_eq_tol(c, 2.0, 1e-9);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("150000 100000", &c), 1);
    ck_assert_double_eq_tol(c, 1.5, 1e-9);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("33333 100000", &c), 1);
    ck_assert_double_eq_tol(c, 0.33333, 1e-9);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("50000", &c), 1); /* period defaults to 100000 */
    ck_assert_double_eq_tol(c, 0.5, 1e-9);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("abc 100000", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("100000 0", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("-5 100000", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("100 100 x", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("\n100 100", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("+100 100", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v2("100 \v100", &c), -1);
}
END_TEST

START_TEST(cgroup_v1_cpu)
{
    double c = -1;
    ck_assert_int_eq(envfile_cgroup_cpu_v1("-1\n", "100000\n", &c), 0);
    ck_assert_int_eq(envfile_cgroup_cpu_v1("250000\n", "100000\n", &c), 1);
    ck_assert_double_eq_tol(c, 2.5, 1e-9);
    ck_assert_int_eq(envfile_cgroup_cpu_v1("12345", "50000", &c), 1);
    ck_assert_double_eq_tol(c, 0.2469, 1e-9);
    ck_assert_int_eq(envfile_cgroup_cpu_v1("x", "100000", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v1("1000", "0", &c), -1);
    ck_assert_int_eq(envfile_cgroup_cpu_v1("1000", NULL, &c), -1);
}
END_TEST

START_TEST(cgroup_memory)
{
    uint64_t b = 0;
    ck_assert_int_eq(envfile_cgroup_mem("max\n", &b), 0);
    ck_assert_int_eq(envfile_cgroup_mem("536870912\n", &b), 1);
    ck_assert_uint_eq(b, 536870912u);
    ck_assert_int_eq(envfile_cgroup_mem("9223372036854771712\n", &b), 1); /* v1 "unlimited" */
    ck_assert_int_eq(envfile_cgroup_mem("", &b), -1);
    ck_assert_int_eq(envfile_cgroup_mem("-1", &b), -1);
    ck_assert_int_eq(envfile_cgroup_mem("12k", &b), -1);
    /* only blanks before the number, and no sign: "\n-1" is not 2^64-1 */
    ck_assert_int_eq(envfile_cgroup_mem("\n1", &b), -1);
    ck_assert_int_eq(envfile_cgroup_mem("\v-1", &b), -1);
    ck_assert_int_eq(envfile_cgroup_mem("+1", &b), -1);
    ck_assert_int_eq(envfile_cgroup_mem(" \t4096 \r\n", &b), 1);
    ck_assert_uint_eq(b, 4096u);
    ck_assert_double_eq_tol(envfile_limit_cap(1, 0.5, 8), 0.5, 1e-9);
    ck_assert_double_eq_tol(envfile_limit_cap(1, 64, 8), 8, 1e-9);  /* above the machine */
    ck_assert_double_eq_tol(envfile_limit_cap(0, 0, 8), 8, 1e-9);
    ck_assert_double_eq_tol(envfile_limit_cap(-1, 3, 8), 8, 1e-9);
}
END_TEST

static char tmpdir[256];

static void tmp_setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_envfile.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

static char *get(const char *rel)
{
    static char buf[65536];
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void sub(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}

START_TEST(cgroup_read_v2_files)
{
    put("cgroup.controllers", "cpu memory\n");
    put("cpu.max", "50000 100000\n");
    put("memory.max", "536870912\n");
    struct envfile_limits l;
    envfile_limits_read(tmpdir, &l);
    ck_assert_double_eq_tol(l.cpus, 0.5, 1e-9);
    ck_assert_double_eq_tol(l.mem_gib, 0.5, 1e-9);
    put("cpu.max", "max 100000\n");
    put("memory.max", "max\n");
    envfile_limits_read(tmpdir, &l);
    ck_assert_double_eq_tol(l.cpus, (double)CPU_COUNT_MACHINE(), 1e-9);
    ck_assert_double_gt(l.mem_gib, 0.0);
}
END_TEST

START_TEST(cgroup_read_v1_and_missing)
{
    struct envfile_limits l;
    envfile_limits_read(tmpdir, &l); /* nothing there: the machine */
    ck_assert_double_eq_tol(l.cpus, (double)CPU_COUNT_MACHINE(), 1e-9);
    double machine_mem = l.mem_gib;
    ck_assert_double_gt(machine_mem, 0.0);
    sub("cpu,cpuacct");
    sub("memory");
    put("cpu,cpuacct/cpu.cfs_quota_us", "25000\n");
    put("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    put("memory/memory.limit_in_bytes", "9223372036854771712\n");
    envfile_limits_read(tmpdir, &l);
    ck_assert_double_eq_tol(l.cpus, 0.25, 1e-9);
    ck_assert_double_eq_tol(l.mem_gib, machine_mem, 1e-9);
    put("memory/memory.limit_in_bytes", "1073741824\n");
    envfile_limits_read(tmpdir, &l);
    ck_assert_double_eq_tol(l.mem_gib, 1.0, 1e-9);
}
END_TEST

START_TEST(cgroup_limits_in_block)
{
    put("cgroup.controllers", "cpu memory\n");
    put("cpu.max", "150000 100000\n");
    put("memory.max", "3221225472\n");
    char *envp[] = {NULL};
    char *b = collect_render(envp, tmpdir);
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_CPU_LIMIT=1.50\n"));
    ck_assert_ptr_nonnull(strstr(b, "\nCODER_MEMORY_LIMIT=3.00\n"));
    free(b);
}
END_TEST

/* ---------------- users ---------------- */

static const char *PASSWD =
    "root:x:0:0:root:/root:/bin/bash\n"
    "+nis\n"
    "broken line\n"
    "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
    "alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\n"
    "noshell:x:1001:1001:::\n";

START_TEST(user_lookup)
{
    put("passwd", PASSWD);
    char p[512];
    snprintf(p, sizeof p, "%s/passwd", tmpdir);
    struct envfile_user u;
    ck_assert_int_eq(envfile_user_by_name(p, "alice", &u), 0);
    ck_assert_str_eq(u.home, "/home/alice");
    ck_assert_str_eq(u.shell, "/bin/zsh");
    ck_assert_int_eq(u.uid, 1000);
    ck_assert_int_eq(envfile_user_by_uid(p, 1001, &u), 0);
    ck_assert_str_eq(u.name, "noshell");
    ck_assert_str_eq(u.shell, "/bin/sh");
    ck_assert_str_eq(u.home, "/");
    errno = 0;
    ck_assert_int_eq(envfile_user_by_name(p, "bob", &u), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(envfile_user_by_name(p, "nis", &u), -1);
    /* default: uid 1000 when no coder; coder when present; root otherwise */
    ck_assert_int_eq(envfile_user_default(p, 0, &u), 0);
    ck_assert_str_eq(u.name, "alice");
    ck_assert_int_eq(envfile_user_default(p, 1, &u), 0);
    ck_assert_str_eq(u.name, "daemon");
    put("passwd", "root:x:0:0::/root:/bin/sh\ncoder:x:1234:1234::/home/coder:/bin/bash\n"
                  "x:x:1000:1000::/x:/bin/sh\n");
    ck_assert_int_eq(envfile_user_default(p, 0, &u), 0);
    ck_assert_str_eq(u.name, "coder");
    put("passwd", "root:x:0:0::/root:/bin/sh\n");
    ck_assert_int_eq(envfile_user_default(p, 0, &u), 0);
    ck_assert_str_eq(u.name, "root");
    snprintf(p, sizeof p, "%s/missing", tmpdir);
    ck_assert_int_eq(envfile_user_by_name(p, "root", &u), -1);
}
END_TEST

START_TEST(user_serve_root_and_listed)
{
    put("passwd", PASSWD);
    char p[512];
    snprintf(p, sizeof p, "%s/passwd", tmpdir);
    struct envfile_user u;
    struct envfile_self self = {.uid = 0, .user_env = "attacker", .home_env = "/tmp"};
    ck_assert_int_eq(envfile_user_serve(p, &self, &u), 0);
    ck_assert_str_eq(u.name, "alice"); /* root ignores the inherited $USER and $HOME */
    ck_assert_str_eq(u.home, "/home/alice");
    self.name = "daemon";
    ck_assert_int_eq(envfile_user_serve(p, &self, &u), 0);
    ck_assert_str_eq(u.name, "daemon");
    /* a listed uid is that user; naming another is refused */
    self = (struct envfile_self){.uid = 1000, .gid = 1000, .user_env = "x", .home_env = "/tmp"};
    ck_assert_int_eq(envfile_user_serve(p, &self, &u), 0);
    ck_assert_str_eq(u.name, "alice");
    ck_assert_str_eq(u.home, "/home/alice");
    self.name = "alice";
    ck_assert_int_eq(envfile_user_serve(p, &self, &u), 0);
    self.name = "daemon";
    errno = 0;
    ck_assert_int_eq(envfile_user_serve(p, &self, &u), -1);
    ck_assert_int_eq(errno, EPERM);
}
END_TEST

/* In a child that is really UID 12345 with group 0 (OpenShift's arbitrary
 * UID), so that "can this uid write its home" is the kernel's answer.
 * Returns 0, or the number of the first failed check. */
static int unlisted_checks(const char *passwd, const char *writable)
{
    struct envfile_user u;
    struct envfile_self self = {.uid = 12345, .gid = 0, .user_env = "dev", .home_env = writable};
    if (envfile_user_serve(passwd, &self, &u) != 0 || strcmp(u.name, "dev") || strcmp(u.home, writable) ||
        strcmp(u.shell, "/bin/sh") || u.uid != 12345 || u.gid != 0)
        return 1;
    /* a named user's passwd entry gives the shell; its home is not ours */
    self.name = "alice";
    self.home_env = "/";
    if (envfile_user_serve(passwd, &self, &u) != 0 || strcmp(u.name, "alice") || strcmp(u.shell, "/bin/zsh") ||
        strcmp(u.home, "/tmp/envinit-12345/home") || u.uid != 12345)
        return 2;
    struct stat st;
    if (stat(u.home, &st) != 0 || st.st_uid != 12345 || (st.st_mode & 0777) != 0700)
        return 3;
    /* nothing given: the documented default name */
    self = (struct envfile_self){.uid = 12345, .gid = 0, .user_env = "bad name!", .home_env = writable};
    if (envfile_user_serve(passwd, &self, &u) != 0 || strcmp(u.name, ENVFILE_UNLISTED_NAME))
        return 4;
    return 0;
}

START_TEST(user_serve_unlisted_uid)
{
    ck_assert_msg(geteuid() == 0, "this case switches to uid 12345: run the unit tests as root");
    put("passwd", PASSWD);
    char p[512], home[512];
    snprintf(p, sizeof p, "%s/passwd", tmpdir);
    snprintf(home, sizeof home, "%s/home-12345", tmpdir);
    ck_assert_int_eq(mkdir(home, 0700), 0);
    ck_assert_int_eq(chown(home, 12345, 0), 0);
    ck_assert_int_eq(chmod(tmpdir, 0755), 0);
    ck_assert_int_eq(system("rm -rf /tmp/envinit-12345"), 0);
    pid_t pid = fork();
    if (pid == 0) {
        gid_t none[] = {0};
        if (setgroups(1, none) < 0 || setresgid(0, 0, 0) < 0 || setresuid(12345, 12345, 12345) < 0)
            _exit(100);
        _exit(unlisted_checks(p, home));
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_int_eq(system("rm -rf /tmp/envinit-12345"), 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "check %d failed", WEXITSTATUS(st));
}
END_TEST

START_TEST(user_passwd_line)
{
    struct envfile_user u;
    ck_assert_int_eq(envfile_passwd_line("a:x:1:2:g:/h:/s", 15, &u), 0);
    ck_assert_int_eq(envfile_passwd_line("a:x:1:2:g:/h:/s\r", 16, &u), 0);
    ck_assert_str_eq(u.shell, "/s");
    ck_assert_int_eq(envfile_passwd_line("a:x:1:2:g:/h", 12, &u), -1);
    ck_assert_int_eq(envfile_passwd_line("a:x:1:2:g:/h:/s:extra", 21, &u), -1);
    ck_assert_int_eq(envfile_passwd_line("a:x:-1:2:g:/h:/s", 16, &u), -1);
    ck_assert_int_eq(envfile_passwd_line("a:x:99999999999:2:g:/h:/s", 26, &u), -1);
    ck_assert_int_eq(envfile_passwd_line(":x:1:2:g:/h:/s", 14, &u), -1);
}
END_TEST

START_TEST(user_groups)
{
    put("group", "root:x:0:\nwheel:x:10:alice,bob\nstaff:x:50:bob\ndocker:x:999:alice\nalice:x:1000:alice\n"
                 "wheel:x:10:alice\n");
    char p[512];
    snprintf(p, sizeof p, "%s/group", tmpdir);
    gid_t g[8];
    ck_assert_int_eq(envfile_user_groups(p, "alice", 1000, g, 8), 3);
    ck_assert_int_eq(g[0], 1000);
    ck_assert_int_eq(g[1], 10);
    ck_assert_int_eq(g[2], 999);
    ck_assert_int_eq(envfile_user_groups(p, "alice", 1000, g, 2), 2);
    snprintf(p, sizeof p, "%s/nogroup", tmpdir);
    ck_assert_int_eq(envfile_user_groups(p, "alice", 1000, g, 8), 1);
}
END_TEST

/* ---------------- /etc/environment ---------------- */

START_TEST(etc_conflicts)
{
    struct envfile_vars vs = {0};
    envfile_vars_set(&vs, "PATH", 4, "/a:/b", 5);
    envfile_vars_set(&vs, "LANG", 4, "C.UTF-8", 7);
    envfile_vars_set(&vs, "TZ", 2, "UTC", 3);
    const char *text = "# comment\nPATH=\"/usr/bin:/bin\"\nexport LANG=C.UTF-8\nTZ='Europe/Paris'\r\nOTHER=1\n";
    struct envfile_buf names = {0};
    ck_assert_uint_eq(envfile_etc_conflicts(text, strlen(text), &vs, &names), 2);
    ck_assert_str_eq(names.data, "PATH,TZ");
    envfile_buf_free(&names);
    envfile_vars_free(&vs);
}
END_TEST

/* ---------------- the safe writer, on a temporary home (as the running user) ---------------- */

static struct envfile_user me;

static void home_setup(void)
{
    tmp_setup();
    memset(&me, 0, sizeof me);
    snprintf(me.name, sizeof me.name, "me");
    me.uid = getuid();
    me.gid = getgid();
    snprintf(me.home, sizeof me.home, "%s/home", tmpdir);
    snprintf(me.shell, sizeof me.shell, "/bin/sh");
    sub("home");
    log_setup();
}

static void home_teardown(void)
{
    log_teardown();
    tmp_teardown();
}

static int install_me(const char *const *keys)
{
    char *envp[] = {"FOO=bar", NULL};
    struct envfile_request req = {.user = &me, .environ = envp, .assets_root = "/opt/x",
                                  .keys = keys, .write_env = 1, .write_keys = 1,
                                  .etc_environment = ENVFILE_ETC_KEEP, .cgroup_root = "/nonexistent",
                                  .hostname = "h"};
    return envfile_install(&req);
}

static mode_t mode_of(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    ck_assert_int_eq(lstat(p, &st), 0);
    return st.st_mode & 07777;
}

static ino_t ino_of(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    ck_assert_int_eq(lstat(p, &st), 0);
    return st.st_ino;
}

START_TEST(install_creates_and_keeps)
{
    const char *keys[] = {good_keys[0], NULL};
    ck_assert_int_eq(install_me(keys), 0);
    ck_assert_uint_eq(mode_of("home/.ssh"), 0700);
    ck_assert_uint_eq(mode_of("home/.ssh/environment"), 0600);
    ck_assert_uint_eq(mode_of("home/.ssh/authorized_keys"), 0600);
    ck_assert_ptr_nonnull(strstr(get("home/.ssh/environment"), "\nFOO=bar\n"));
    ck_assert_ptr_nonnull(strstr(get("home/.ssh/authorized_keys"), good_keys[0]));
    /* unchanged content: not rewritten (same inode) */
    ino_t a = ino_of("home/.ssh/environment"), b = ino_of("home/.ssh/authorized_keys");
    ck_assert_int_eq(install_me(keys), 0);
    ck_assert_uint_eq(ino_of("home/.ssh/environment"), a);
    ck_assert_uint_eq(ino_of("home/.ssh/authorized_keys"), b);
    /* the user's own lines survive, CRLF included */
    put("home/.ssh/authorized_keys", "ssh-ed25519 MINE mykey\r\n");
    ck_assert_int_eq(install_me(keys), 0);
    char *ak = get("home/.ssh/authorized_keys");
    ck_assert(strncmp(ak, "ssh-ed25519 MINE mykey\r\n" ENVFILE_KEYS_START "\n", 24 + strlen(ENVFILE_KEYS_START) + 1) == 0);
    char tmpname[512];
    snprintf(tmpname, sizeof tmpname, "%s/home/.ssh/.authorized_keys.envinit-tmp", tmpdir);
    ck_assert_int_eq(access(tmpname, F_OK), -1);
    /* keys gone: the block goes, the user's key stays */
    ck_assert_int_eq(install_me(NULL), 0);
    ck_assert_str_eq(get("home/.ssh/authorized_keys"), "ssh-ed25519 MINE mykey\r\n");
}
END_TEST

START_TEST(install_refuses_symlinks)
{
    sub("outside");
    put("outside/environment", "precious\n");
    char p[512], t[512];
    /* ~/.ssh -> outside */
    snprintf(t, sizeof t, "%s/outside", tmpdir);
    snprintf(p, sizeof p, "%s/home/.ssh", tmpdir);
    ck_assert_int_eq(symlink(t, p), 0);
    ck_assert_int_eq(install_me(NULL), -1);
    ck_assert_str_eq(get("outside/environment"), "precious\n");
    ck_assert_msg(strstr(logbuf, ".ssh is a symbolic link; refusing") != NULL, "%s", logbuf);
    ck_assert_int_eq(unlink(p), 0);
    /* ~/.ssh/environment -> outside file */
    sub("home/.ssh");
    snprintf(t, sizeof t, "%s/outside/environment", tmpdir);
    snprintf(p, sizeof p, "%s/home/.ssh/environment", tmpdir);
    ck_assert_int_eq(symlink(t, p), 0);
    loglen = 0;
    ck_assert_int_eq(install_me(NULL), -1);
    ck_assert_str_eq(get("outside/environment"), "precious\n");
    ck_assert_ptr_nonnull(strstr(logbuf, "environment is a symbolic link"));
    ck_assert_int_eq(unlink(p), 0);
    /* planted symlink at the temporary name */
    snprintf(p, sizeof p, "%s/home/.ssh/.environment.envinit-tmp", tmpdir);
    ck_assert_int_eq(symlink(t, p), 0);
    ck_assert_int_eq(install_me(NULL), 0);
    ck_assert_str_eq(get("outside/environment"), "precious\n");
    ck_assert_ptr_nonnull(strstr(get("home/.ssh/environment"), "\nFOO=bar\n"));
    ck_assert_int_eq(access(p, F_OK), -1);
}
END_TEST

START_TEST(install_ssh_off_writes_nothing)
{
    struct envfile_request req = {.user = &me, .write_env = 0, .write_keys = 0};
    ck_assert_int_eq(envfile_install(&req), 0);
    ck_assert_int_eq(access(me.home, F_OK), 0);
    char p[sizeof me.home + 8];
    snprintf(p, sizeof p, "%s/.ssh", me.home);
    ck_assert_int_eq(access(p, F_OK), -1);
}
END_TEST

START_TEST(install_unknown_user)
{
    put("passwd", "root:x:0:0::/root:/bin/sh\n");
    char p[512];
    snprintf(p, sizeof p, "%s/passwd", tmpdir);
    struct envfile_request req = {.user_name = "ghost", .passwd_path = p, .write_env = 1};
    ck_assert_int_eq(envfile_install(&req), -1);
    ck_assert_ptr_nonnull(strstr(logbuf, "environment user ghost: not found"));
    ck_assert_ptr_null(envfile_render_for(&req));
}
END_TEST

START_TEST(log_default_format)
{
    char path[] = "/tmp/test_envfile_log.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    log_hook = NULL;
    log_warn("something %s", "odd");
    log_error("broken");
    log_debug("debug is not shown by default");
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[256] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(buf, "envinit: warn: something odd\nenvinit: error: broken\n");
}
END_TEST

/* A whole file, bounded, and the descriptor's offset left where it was. */
START_TEST(read_fd_whole_and_bounded)
{
    char path[] = "/tmp/test_envfile_read.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    static char data[10000];
    memset(data, 'x', sizeof data);
    data[9999] = 'y';
    ck_assert_int_eq(write(fd, data, sizeof data), (int)sizeof data);
    ck_assert_int_eq(lseek(fd, 5, SEEK_SET), 5);
    size_t len = 0;
    char *text = envfile_read_fd(fd, sizeof data, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, sizeof data);
    ck_assert_int_eq(text[9999], 'y');
    ck_assert_int_eq(text[len], '\0');
    ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 5);
    free(text);
    errno = 0;
    ck_assert_ptr_null(envfile_read_fd(fd, sizeof data - 1, &len));
    ck_assert_int_eq(errno, EFBIG);
    close(fd);
}
END_TEST

/* A message is one line whatever it quotes; the level decides what shows. */
START_TEST(log_one_line_per_message)
{
    log_setup();
    log_error("user %s", "a\nenvinit: error: forged\tx\r");
    ck_assert_str_eq(logbuf, "0:user a?envinit: error: forged?x?\n");
    log_set_level(LOG_NONE);
    log_error("dropped");
    log_set_level(LOG_DEBUG);
    log_debug("shown");
    log_set_level(LOG_WARN);
    ck_assert_str_eq(logbuf, "0:user a?envinit: error: forged?x?\n3:shown\n");
    ck_assert_str_eq(log_level_name(LOG_INFO), "info");
    ck_assert_int_eq(log_parse_level("debug"), LOG_DEBUG);
    ck_assert_int_eq(log_parse_level("7"), LOG_DEBUG);
    ck_assert_int_eq(log_parse_level("loud"), -1);
    log_teardown();
}
END_TEST

/* ---------------- host keys and privilege ---------------- */

START_TEST(hostkey_modes)
{
    struct stat st = {.st_mode = S_IFREG | 0400, .st_uid = 0};
    ck_assert_ptr_null(envfile_hostkey_mode_problem(&st, 0));
    st.st_mode = S_IFREG | 0600;
    ck_assert_ptr_null(envfile_hostkey_mode_problem(&st, 0));
    st.st_mode = S_IFREG | 0440; /* root's own key readable by its group: OpenSSH refuses it */
    ck_assert_ptr_nonnull(envfile_hostkey_mode_problem(&st, 0));
    ck_assert_ptr_null(envfile_hostkey_mode_problem(&st, 1000)); /* a Secret with fsGroup, non-root server */
    st.st_mode = S_IFREG | 0644;                                    /* Kubernetes' defaultMode */
    ck_assert_ptr_nonnull(strstr(envfile_hostkey_mode_problem(&st, 1000), "everyone"));
    st.st_mode = S_IFREG | 0620;
    ck_assert_ptr_nonnull(strstr(envfile_hostkey_mode_problem(&st, 1000), "writable"));
    st.st_mode = S_IFDIR | 0400;
    ck_assert_ptr_nonnull(envfile_hostkey_mode_problem(&st, 0));
}
END_TEST

START_TEST(owner_can_replace)
{
    struct envfile_owner who = {.uid = 1000, .groups = {1000, 0}, .ngroups = 2};
    struct stat root_file = {.st_uid = 0, .st_gid = 0}, user_file = {.st_uid = 1000};
    struct stat d = {.st_uid = 0, .st_gid = 0, .st_mode = S_IFDIR | 0755};
    ck_assert(!envfile_owner_can_replace(&d, &root_file, &who));
    ck_assert(envfile_owner_can_replace(&d, &user_file, &who));       /* it is the user's own */
    d.st_mode = S_IFDIR | 0775;                                         /* group 0: OpenShift's */
    ck_assert(envfile_owner_can_replace(&d, &root_file, &who));
    who.ngroups = 1;
    ck_assert(!envfile_owner_can_replace(&d, &root_file, &who));
    d.st_mode = S_IFDIR | 01777;                                        /* sticky, as /tmp */
    ck_assert(!envfile_owner_can_replace(&d, &root_file, &who));
    d.st_mode = S_IFDIR | 0777;
    ck_assert(envfile_owner_can_replace(&d, &root_file, &who));
    d = (struct stat){.st_uid = 1000, .st_mode = S_IFDIR | 01700};       /* the user's own folder */
    ck_assert(envfile_owner_can_replace(&d, &root_file, &who));
}
END_TEST

/* A key file with a ed25519 private key's first line is enough here:
 * listing and vetting never parse it. */
static void put_key(const char *rel, mode_t mode)
{
    char p[512];
    put(rel, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    ck_assert_int_eq(chmod(p, mode), 0);
}

static size_t list_keys(const char *rel, uid_t uid, struct envfile_hostkeys *out)
{
    char p[512];
    struct envfile_owner who = {.uid = uid, .groups = {uid}, .ngroups = 1};
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    memset(out, 0, sizeof *out);
    ck_assert_int_eq(envfile_hostkeys_list(p, &who, out), 0);
    return out->n;
}

static int tmp_exists(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    return lstat(p, &st) == 0;
}

/* Opens TMPDIR/REL with envfile_open_dirs: its fd (closed here) or -1. */
static int open_dirs_rel(const char *rel, char *bad, size_t badlen)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    int fd = envfile_open_dirs(p, 0755, bad, badlen);
    int err = errno;
    if (fd >= 0)
        close(fd);
    errno = err;
    return fd < 0 ? -1 : 0;
}

START_TEST(open_dirs_never_follows)
{
    char bad[512] = "", want[512], p[512], target[512];
    ck_assert_int_eq(open_dirs_rel("a/b/c", bad, sizeof bad), 0);
    ck_assert(tmp_exists("a/b/c"));
    ck_assert_int_eq(open_dirs_rel("a/b/c", bad, sizeof bad), 0);   /* already there */
    /* A planted symlink: refused and named, nothing made through it. */
    snprintf(target, sizeof target, "%s/elsewhere", tmpdir);
    ck_assert_int_eq(mkdir(target, 0755), 0);
    snprintf(p, sizeof p, "%s/a/link", tmpdir);
    ck_assert_int_eq(symlink(target, p), 0);
    ck_assert_int_eq(lchown(p, 1000, 1000), 0);
    ck_assert_int_eq(open_dirs_rel("a/link/envinit", bad, sizeof bad), -1);
    ck_assert_int_eq(errno, ELOOP);
    ck_assert_str_eq(bad, p);
    ck_assert(!tmp_exists("elsewhere/envinit"));
    /* A relative symlink to a folder, last on the path: refused too. */
    snprintf(p, sizeof p, "%s/a/rel", tmpdir);
    ck_assert_int_eq(symlink("b", p), 0);
    ck_assert_int_eq(lchown(p, 1000, 1000), 0);
    ck_assert_int_eq(open_dirs_rel("a/rel", bad, sizeof bad), -1);
    ck_assert_int_eq(errno, ELOOP);
    /* Root's own link in a folder only root writes (/var/run -> /run): followed. */
    ck_assert_int_eq(chmod(tmpdir, 0755), 0);
    snprintf(p, sizeof p, "%s/a/run", tmpdir);
    ck_assert_int_eq(symlink("b", p), 0);
    ck_assert_int_eq(open_dirs_rel("a/run/envinit", bad, sizeof bad), 0);
    ck_assert(tmp_exists("a/b/envinit"));
    /* ... but not in a folder others may write. */
    snprintf(p, sizeof p, "%s/a", tmpdir);
    ck_assert_int_eq(chmod(p, 0777), 0);
    ck_assert_int_eq(open_dirs_rel("a/run/more", bad, sizeof bad), -1);
    ck_assert_int_eq(errno, ELOOP);
    ck_assert_int_eq(chmod(p, 0755), 0);
    put("a/file", "x");
    ck_assert_int_eq(open_dirs_rel("a/file/d", bad, sizeof bad), -1);
    ck_assert_int_eq(errno, ENOTDIR);
    snprintf(want, sizeof want, "%s/a/file", tmpdir);
    ck_assert_str_eq(bad, want);
    /* Someone else's folder: refused, nothing made in it. */
    ck_assert_msg(geteuid() == 0, "a folder of another uid needs root: run the unit tests as root");
    snprintf(p, sizeof p, "%s/a/theirs", tmpdir);
    ck_assert_int_eq(mkdir(p, 0777), 0);
    ck_assert_int_eq(chown(p, 1000, 1000), 0);
    ck_assert_int_eq(open_dirs_rel("a/theirs/envinit", bad, sizeof bad), -1);
    ck_assert_int_eq(errno, EPERM);
    ck_assert_str_eq(bad, p);
    ck_assert(!tmp_exists("a/theirs/envinit"));
}
END_TEST

START_TEST(path_safe_from_user)
{
    ck_assert_msg(geteuid() == 0, "chown needs root: run the unit tests as root");
    struct envfile_owner who = {.uid = 4242, .groups = {4242}, .ngroups = 1};
    char p[512], why[512];
    ck_assert_int_eq(chmod(tmpdir, 0755), 0);
    sub("etc");
    put("etc/banner", "hi\n");
    snprintf(p, sizeof p, "%s/etc/banner", tmpdir);
    ck_assert_msg(envfile_path_safe_from(p, &who, why, sizeof why), "%s", why);
    /* the user's own folder, and a link through it to root's file */
    sub("home");
    snprintf(p, sizeof p, "%s/home", tmpdir);
    ck_assert_int_eq(chown(p, 4242, 4242), 0);
    snprintf(p, sizeof p, "%s/home/link", tmpdir);
    ck_assert_int_eq(symlink("../etc/banner", p), 0);
    ck_assert(!envfile_path_safe_from(p, &who, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "environment user"));
    /* a folder the user's group may write */
    sub("shared");
    snprintf(p, sizeof p, "%s/shared", tmpdir);
    ck_assert_int_eq(chown(p, 0, 4242), 0);
    ck_assert_int_eq(chmod(p, 0775), 0);
    put("shared/banner", "hi\n");
    snprintf(p, sizeof p, "%s/shared/banner", tmpdir);
    ck_assert(!envfile_path_safe_from(p, &who, why, sizeof why));
    ck_assert(!envfile_path_safe_from("etc/banner", &who, why, sizeof why));
}
END_TEST

START_TEST(hostkeys_folder_layouts)
{
    ck_assert_msg(geteuid() == 0, "root reads the keys here: run the unit tests as root");
    static struct envfile_hostkeys k;
    char p[512];
    ck_assert_int_eq(chmod(tmpdir, 0755), 0);
    /* Kubernetes' Secret volume: timestamped folder, ..data, links to it */
    sub("secret");
    sub("secret/..2026_11_30_12_00_00.123");
    put_key("secret/..2026_11_30_12_00_00.123/ssh_host_ed25519_key", 0400);
    put_key("secret/..2026_11_30_12_00_00.123/ssh_host_rsa_key", 0400);
    put("secret/..2026_11_30_12_00_00.123/ssh_host_rsa_key.pub", "ssh-rsa AAAA\n");
    snprintf(p, sizeof p, "%s/secret/..data", tmpdir);
    ck_assert_int_eq(symlink("..2026_11_30_12_00_00.123", p), 0);
    const char *names[] = {"ssh_host_rsa_key", "ssh_host_ed25519_key", "ssh_host_rsa_key.pub"};
    for (size_t i = 0; i < 3; i++) {
        char target[128];
        snprintf(p, sizeof p, "%s/secret/%s", tmpdir, names[i]);
        snprintf(target, sizeof target, "..data/%s", names[i]);
        ck_assert_int_eq(symlink(target, p), 0);
    }
    snprintf(p, sizeof p, "%s/secret", tmpdir);
    ck_assert_int_eq(chmod(p, 01777), 0); /* the volume's root is a sticky tmpfs */
    ck_assert_uint_eq(list_keys("secret", 1000, &k), 2);
    ck_assert_ptr_nonnull(strstr(k.path[0], "/..2026_11_30_12_00_00.123/ssh_host_ed25519_key"));
    ck_assert_ptr_nonnull(strstr(k.path[1], "/ssh_host_rsa_key"));
    ck_assert_uint_eq(k.refused, 0);
    /* one file named directly */
    ck_assert_uint_eq(list_keys("secret/ssh_host_rsa_key", 1000, &k), 1);
    /* a key the user planted in the sticky folder is the user's: refused */
    put_key("secret/planted_key", 0600);
    snprintf(p, sizeof p, "%s/secret/planted_key", tmpdir);
    ck_assert_int_eq(chown(p, 1000, 1000), 0);
    ck_assert_uint_eq(list_keys("secret", 1000, &k), 2);
    ck_assert_uint_eq(k.refused, 1);
    /* a folder the user owns, or may write: every key in it refused */
    sub("mine");
    put_key("mine/ssh_host_ed25519_key", 0600);
    snprintf(p, sizeof p, "%s/mine", tmpdir);
    ck_assert_int_eq(chown(p, 1000, 1000), 0);
    ck_assert_uint_eq(list_keys("mine", 1000, &k), 0);
    ck_assert_uint_eq(k.refused, 1);
    ck_assert_uint_eq(list_keys("mine", 0, &k), 1); /* serving root itself: nothing to protect */
    /* readable by everyone: refused whoever serves */
    sub("open");
    put_key("open/ssh_host_ed25519_key", 0644);
    ck_assert_uint_eq(list_keys("open", 1000, &k), 0);
    ck_assert_uint_eq(k.refused, 1);
}
END_TEST

START_TEST(caps_described)
{
    char out[256];
    uint64_t all = ~UINT64_C(0), none = 0;
    ck_assert_int_eq(envfile_caps_describe(all, 22, 1024, 1, out, sizeof out), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(envfile_caps_describe(none, 22, 1024, 0, out, sizeof out), 3);
    ck_assert_str_eq(out, "CAP_SETUID, CAP_SETGID, CAP_NET_BIND_SERVICE");
    /* Docker lets any process bind low ports (ip_unprivileged_port_start 0) */
    ck_assert_int_eq(envfile_caps_describe(none, 22, 0, 0, out, sizeof out), 2);
    ck_assert_str_eq(out, "CAP_SETUID, CAP_SETGID");
    ck_assert_int_eq(envfile_caps_describe(none, 2222, 1024, 1, out, sizeof out), 5);
    ck_assert_str_eq(out, "CAP_SETUID, CAP_SETGID, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER");
    /* Docker's defaults: all of them */
    uint64_t docker = (1u << 0) | (1u << 1) | (1u << 3) | (1u << 6) | (1u << 7) | (1u << 10);
    ck_assert_int_eq(envfile_caps_describe(docker, 22, 1024, 1, out, sizeof out), 0);
    char advice[512];
    envfile_caps_advice("CAP_SETUID", 2222, advice, sizeof advice);
    ck_assert_ptr_nonnull(strstr(advice, "root without CAP_SETUID"));
    ck_assert_ptr_nonnull(strstr(advice, "--cap-add"));
    ck_assert_ptr_nonnull(strstr(advice, "--user"));
    ck_assert_ptr_nonnull(strstr(advice, "port 2222"));
}
END_TEST

/* ---------------- suites ---------------- */


static Suite *suite_render(void)
{
    Suite *s = suite_create("render");
    UNIT_ADD(s, render_shape);
    UNIT_ADD(s, render_empty);
    UNIT_ADD(s, render_product_page_marker_text);
    UNIT_ADD(s, collect_forces_user_identity);
    UNIT_ADD(s, collect_defaults);
    UNIT_ADD(s, collect_passed_in_wins);
    UNIT_ADD(s, collect_drops_envinit_vars);
    UNIT_ADD(s, collect_agent_sock_by_server);
    UNIT_ADD(s, collect_sorted_and_stable);
    UNIT_ADD(s, collect_filters_bad_vars);
    UNIT_ADD(s, filter_names);
    UNIT_ADD(s, filter_values);
    UNIT_ADD(s, filter_removes_and_counts);
    UNIT_ADD(s, vars_set_replaces_in_place);
    UNIT_ADD(s, envparse_like_sshd);
    UNIT_ADD(s, envparse_nul_cuts_line);
    UNIT_ADD(s, envparse_too_many_lines);
    UNIT_ADD(s, envparse_reads_rendered_block);
    UNIT_ADD(s, etc_conflicts);
    UNIT_ADD(s, log_default_format);
    UNIT_ADD(s, log_one_line_per_message);
    UNIT_ADD(s, read_fd_whole_and_bounded);
    return s;
}

static Suite *suite_merge(void)
{
    Suite *s = suite_create("merge");
    UNIT_ADD(s, merge_no_file);
    UNIT_ADD(s, merge_empty_file);
    UNIT_ADD(s, merge_no_block_appends);
    UNIT_ADD(s, merge_block_first);
    UNIT_ADD(s, merge_block_middle);
    UNIT_ADD(s, merge_block_last);
    UNIT_ADD(s, merge_two_blocks);
    UNIT_ADD(s, merge_unterminated_block);
    UNIT_ADD(s, merge_unterminated_then_block);
    UNIT_ADD(s, merge_stray_end);
    UNIT_ADD(s, merge_crlf);
    UNIT_ADD(s, merge_idempotent);
    UNIT_ADD(s, merge_one_mib_file);
    UNIT_ADD(s, merge_keeps_binary_bytes);
    UNIT_ADD(s, merge_keys_remove_and_unterminated);
    UNIT_ADD(s, lines_iterate);
    return s;
}

static Suite *suite_keys(void)
{
    Suite *s = suite_create("keys");
    UNIT_ADD_LOOP(s, key_each_type, (int)N_GOOD);
    UNIT_ADD(s, key_inner_type_mismatch);
    UNIT_ADD(s, key_bad_base64);
    UNIT_ADD(s, key_options_prefix);
    UNIT_ADD(s, key_bad_options);
    UNIT_ADD(s, key_comments_blank_and_shapes);
    UNIT_ADD(s, key_64k_line);
    UNIT_ADD(s, key_structure_checks);
    UNIT_ADD(s, base64_decode_cases);
    UNIT_ADD(s, opts_tokenizer);
    UNIT_ADD(s, keys_render_block);
    UNIT_ADD(s, keys_render_none_valid);
    return s;
}

static Suite *suite_files(void)
{
    Suite *s = suite_create("files");
    UNIT_ADD(s, cgroup_v2_cpu);
    UNIT_ADD(s, cgroup_v1_cpu);
    UNIT_ADD(s, cgroup_memory);
    UNIT_ADD_FIXTURE(s, cgroup_read_v2_files, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, cgroup_read_v1_and_missing, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, cgroup_limits_in_block, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, user_lookup, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, user_serve_root_and_listed, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, user_serve_unlisted_uid, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, user_passwd_line, tmp_setup, tmp_teardown);
    UNIT_ADD(s, hostkey_modes);
    UNIT_ADD(s, owner_can_replace);
    UNIT_ADD_FIXTURE(s, hostkeys_folder_layouts, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, path_safe_from_user, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, open_dirs_never_follows, tmp_setup, tmp_teardown);
    UNIT_ADD(s, caps_described);
    UNIT_ADD_FIXTURE(s, user_groups, tmp_setup, tmp_teardown);
    UNIT_ADD_FIXTURE(s, install_creates_and_keeps, home_setup, home_teardown);
    UNIT_ADD_FIXTURE(s, install_refuses_symlinks, home_setup, home_teardown);
    UNIT_ADD_FIXTURE(s, install_ssh_off_writes_nothing, home_setup, home_teardown);
    UNIT_ADD_FIXTURE(s, install_unknown_user, home_setup, home_teardown);
    return s;
}

int main(void)
{
    Suite *suites[] = {suite_render(), suite_merge(), suite_keys(), suite_files(), NULL};
    return unit_run("envfile", suites);
}
