/* Start-up work before the main command runs: the environment user's SSH
 * files (through envfile), and the accounts of that work that `check` and
 * `env` print without doing it. */
#include "envinit.h"
#include "../envfile/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYS_FILE_MAX ((size_t)256 * 1024)

/* The keys file is a mounted secret: read it whole, but bounded. */
static char *read_keys_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        log_error("cannot read authorized keys file %s: %s; its keys are not installed", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(KEYS_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (buf && len < KEYS_FILE_MAX && (n = read(fd, buf + len, KEYS_FILE_MAX - len)) > 0)
        len += (size_t)n;
    close(fd);
    if (!buf || n < 0) {
        log_error("cannot read authorized keys file %s: %s; its keys are not installed", path,
                  buf ? strerror(errno) : "out of memory");
        free(buf);
        return NULL;
    }
    if (len == KEYS_FILE_MAX)
        log_warn("authorized keys file %s is larger than %zu KiB; the rest is ignored", path, KEYS_FILE_MAX / 1024);
    buf[len] = '\0';
    return buf;
}

/* Key lines from the config and ENVINIT_AUTHORIZED_KEYS, then the file as
 * one entry, so a refused line is reported with its line in the file. */
static const char **collect_keys(const struct config *c, char **filebuf)
{
    *filebuf = c->authorized_keys_file[0] ? read_keys_file(c->authorized_keys_file) : NULL;
    const char **keys = calloc(c->n_authorized_keys + 2, sizeof *keys);
    if (!keys)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->n_authorized_keys; i++)
        keys[n++] = c->authorized_keys[i];
    if (*filebuf)
        keys[n++] = *filebuf;
    keys[n] = NULL;
    return keys;
}

static void make_request(const struct config *c, struct envfile_request *req, const char **keys,
                         bool agent_link)
{
    memset(req, 0, sizeof *req);
    req->agent_link = agent_link;
    req->user_name = c->user;
    req->environ = environ;
    req->keys = keys;
    req->write_env = c->ssh != SSH_OFF;
    req->write_keys = c->ssh != SSH_OFF;
    req->etc_environment = (enum envfile_etc_mode)c->etc_environment;
    req->assets_root = envfile_bundle_root();
}

int environment_setup(const struct config *c, bool agent_link)
{
    if (c->ssh == SSH_OFF)
        return 0;
    char *filebuf = NULL;
    const char **keys = collect_keys(c, &filebuf);
    struct envfile_request req;
    make_request(c, &req, keys, agent_link);
    int r = keys ? envfile_install(&req) : -1;
    free(keys);
    free(filebuf);
    if (r < 0 && c->on_write_error == ON_WRITE_ERROR_FAIL) {
        log_error("the SSH files could not be written and on_write_error = fail; exiting");
        return -1;
    }
    if (r < 0)
        log_warn("the SSH files could not all be written; starting the container anyway (on_write_error = continue)");
    return 0;
}

int environment_user(const struct config *c, struct envfile_user *u)
{
    struct envfile_request req;
    make_request(c, &req, NULL, false);
    return envfile_resolve_user(&req, u);
}

int environment_owner(const struct config *c, struct envfile_owner *who)
{
    struct envfile_user u;
    if (environment_user(c, &u) < 0)
        return -1;
    if (envfile_owner_of(&u, ENVFILE_GROUP, who) < 0) {
        log_error("groups of %s: cannot read %s: %s", u.name, ENVFILE_GROUP, strerror(errno));
        return -1;
    }
    return 0;
}

int environment_print_block(const struct config *c, bool agent_link, FILE *out)
{
    struct envfile_request req;
    make_request(c, &req, NULL, agent_link);
    req.write_env = 1;
    char *block = envfile_render_for(&req);
    if (!block)
        return 1;
    fputs(block, out);
    free(block);
    return 0;
}

void environment_describe(const struct config *c, FILE *out)
{
    struct envfile_request req;
    make_request(c, &req, NULL, false);
    struct envfile_user u;
    if (envfile_resolve_user(&req, &u) == 0)
        fprintf(out, "# environment user: %s (uid %u, gid %u, home %s, shell %s)\n", u.name, (unsigned)u.uid,
                (unsigned)u.gid, u.home, u.shell);
    else
        fprintf(out, "# environment user: cannot be resolved (see the error above)\n");
    if (c->ssh == SSH_OFF)
        fprintf(out, "# SSH disabled: no key or environment file is written, no server started\n");
    else
        fprintf(out, "# writes %s/.ssh/environment and %s/.ssh/authorized_keys (%zu key line(s) from settings%s)\n",
                u.home, u.home, c->n_authorized_keys, c->authorized_keys_file[0] ? " plus the keys file" : "");
}
