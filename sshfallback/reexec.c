/* Starting a fresh copy of envinit-sshd's own program image, for each
 * connection and for the SFTP subsystem: a new process image gets new
 * address-space randomisation and a new stack canary, so what one
 * connection leaks says nothing about the next, and none of them inherits
 * the listener's memory. Started through the bundle's dynamic loader
 * (/proc/self/exe is then ld-linux), the copy is started the same way. */
#include "sshfallback.h"

#include <errno.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define REEXEC_ARGS_MAX 96

static struct {
    char exe[PATH_MAX];         /* envinit-sshd */
    char loader[PATH_MAX];      /* the bundle's ld-linux, "" when run directly */
    char libdir[PATH_MAX];      /* the loader's folder: the bundle's lib/ */
} self;

/* Without /proc (a bare chroot): the kernel ran the loader itself when
 * there was no interpreter (AT_BASE 0); the loader then sits next to the
 * libc it loaded from --library-path. */
static int find_libc(struct dl_phdr_info *info, size_t size, void *dir)
{
    (void)size;
    const char *name = info->dlpi_name, *slash = name ? strrchr(name, '/') : NULL;
    if (!slash || strncmp(slash + 1, "libc.so", 7) != 0)
        return 0;
    snprintf(dir, PATH_MAX, "%.*s", (int)(slash - name), name);
    return 1;
}

static int running_without_proc(char *running, size_t len)
{
    char dir[PATH_MAX] = "";
    if (getauxval(AT_BASE) != 0) {
        const char *execfn = (const char *)getauxval(AT_EXECFN);
        return execfn && realpath(execfn, running) ? 0 : -1;
    }
    if (!dl_iterate_phdr(find_libc, dir) || snprintf(running, len, "%s/%s", dir, SF_BUNDLE_LOADER) >= (int)len)
        return -1;
    return access(running, X_OK);
}

int sf_reexec_init(const char *argv0)
{
    char running[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", running, sizeof running - 1);
    if (n > 0)
        running[n] = '\0';
    else if (running_without_proc(running, sizeof running) < 0)
        return -1;
    const char *base = strrchr(running, '/');
    base = base ? base + 1 : running;
    if (strncmp(base, "ld-linux", 8) != 0) {
        snprintf(self.exe, sizeof self.exe, "%s", running);
        return 0;
    }
    /* Through the loader: argv[0] names the program it loaded. */
    if (!argv0 || !realpath(argv0, self.exe))
        return -1;
    snprintf(self.loader, sizeof self.loader, "%s", running);
    snprintf(self.libdir, sizeof self.libdir, "%s", running);
    *strrchr(self.libdir, '/') = '\0';
    return 0;
}

void sf_reexec(char *const *args)
{
    char *argv[REEXEC_ARGS_MAX];
    size_t n = 0;
    if (self.loader[0]) {
        argv[n++] = self.loader;
        argv[n++] = "--library-path";
        argv[n++] = self.libdir;
    }
    argv[n++] = self.exe;
    for (size_t i = 0; args[i]; i++) {
        if (n == REEXEC_ARGS_MAX - 1) {
            log_error("more than %d switches to start %s again with", REEXEC_ARGS_MAX - 5, self.exe);
            _exit(127);
        }
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    execv(argv[0], argv);
    log_error("cannot start %s again: %s", self.exe, strerror(errno));
    _exit(127);
}
