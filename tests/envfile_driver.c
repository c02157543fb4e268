/* Test driver standing in for envinit's startup step (envfile_install) in
 * the envfile integration tests, with envinit's variables and command line:
 *
 *   envfile_driver env            prints envfile_render_for()
 *   envfile_driver [--] CMD ARGS  installs the files, then execs CMD
 *
 * ENVINIT_USER, ENVINIT_AUTHORIZED_KEYS, ENVINIT_AUTHORIZED_KEYS_FILE,
 * ENVINIT_SSH (off: nothing written), ENVINIT_ETC_ENVIRONMENT
 * (keep|warn|remove), ENVINIT_ON_WRITE_ERROR (continue|fail: exit 1 before
 * running CMD). */
#include "envfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        envfile_logf(0, "reading authorized keys file %s failed; no keys from it", path);
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static enum envfile_etc_mode etc_mode(const char *s)
{
    if (s && strcmp(s, "keep") == 0)
        return ENVFILE_ETC_KEEP;
    if (s && strcmp(s, "remove") == 0)
        return ENVFILE_ETC_REMOVE;
    return ENVFILE_ETC_WARN;
}

int main(int argc, char **argv)
{
    const char *ssh = getenv("ENVINIT_SSH");
    const char *keys_file = getenv("ENVINIT_AUTHORIZED_KEYS_FILE");
    const char *on_error = getenv("ENVINIT_ON_WRITE_ERROR");
    char *file_keys = keys_file && *keys_file ? read_file(keys_file) : NULL;
    const char *keys[3] = {NULL, NULL, NULL};
    int nk = 0;
    if (getenv("ENVINIT_AUTHORIZED_KEYS"))
        keys[nk++] = getenv("ENVINIT_AUTHORIZED_KEYS");
    if (file_keys)
        keys[nk++] = file_keys;
    int on = !(ssh && strcmp(ssh, "off") == 0);
    struct envfile_request req = {
        .user_name = getenv("ENVINIT_USER"),
        .environ = environ,
        .keys = keys,
        .write_keys = on,
        .write_env = on,
        .etc_environment = etc_mode(getenv("ENVINIT_ETC_ENVIRONMENT")),
    };
    if (argc > 1 && strcmp(argv[1], "env") == 0) {
        char *block = envfile_render_for(&req);
        if (!block)
            return 1;
        fputs(block, stdout);
        free(block);
        return 0;
    }
    int rc = envfile_install(&req);
    free(file_keys);
    if (rc < 0 && on_error && strcmp(on_error, "fail") == 0) {
        envfile_logf(0, "on_write_error = fail: not starting the command");
        return 1;
    }
    int first = argc > 1 && strcmp(argv[1], "--") == 0 ? 2 : 1;
    if (first >= argc)
        return 0;
    execvp(argv[first], argv + first);
    perror(argv[first]);
    return 127;
}
