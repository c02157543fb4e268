/* Test helper: makes N orphans that exit at once, so they become zombies
 * of whoever reaps for this process's namespace (PID 1 or a subreaper). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            return 1;
        }
        if (p == 0) {
            if (fork() == 0)
                _exit(0); /* the orphan: its parent is already gone */
            _exit(0);
        }
        waitpid(p, NULL, 0);
    }
    return 0;
}
