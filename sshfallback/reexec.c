/* Starting a fresh copy of envinit-sshd's own program image, for each
 * connection and for the SFTP subsystem: a new process image gets new
 * address-space randomisation and a new stack canary, so what one
 * connection leaks says nothing about the next, and none of them inherits
 * the listener's memory. */
#include "sshfallback.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define REEXEC_ARGS_MAX 96

static char self_exe[PATH_MAX];

/* Without /proc (a bare chroot) the path the kernel was given stands in;
 * it is made absolute now, before anything changes the folder. */
static int running_without_proc(char *running)
{
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    return execfn && realpath(execfn, running) ? 0 : -1;
}

int sf_reexec_init(void)
{
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n > 0) {
        self_exe[n] = '\0';
        return 0;
    }
    return running_without_proc(self_exe);
}

void sf_reexec(char *const *args)
{
    char *argv[REEXEC_ARGS_MAX];
    size_t n = 0;
    argv[n++] = self_exe;
    for (size_t i = 0; args[i]; i++) {
        if (n == REEXEC_ARGS_MAX - 1) {
            log_error("more than %d switches to start %s again with", REEXEC_ARGS_MAX - 2, self_exe);
            _exit(127);
        }
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    execv(argv[0], argv);
    log_error("cannot start %s again: %s", self_exe, strerror(errno));
    _exit(127);
}
