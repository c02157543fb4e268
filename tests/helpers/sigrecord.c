/* Test helper: appends the name of every signal it receives to FILE, one
 * per line; exits 0 on SIGINT/SIGTERM after recording it. It writes
 * "ready" first so a test knows its handlers are in place. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sigrecord FILE\n");
        return 2;
    }
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    int sfd = signalfd(-1, &all, 0);
    int out = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (sfd < 0 || out < 0)
        return 2;
    dprintf(out, "ready %d\n", (int)getpid());
    for (;;) {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si)
            return 2;
        if (si.ssi_signo == SIGCHLD)
            continue;
        dprintf(out, "%d\n", (int)si.ssi_signo);
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            return 0;
    }
}
