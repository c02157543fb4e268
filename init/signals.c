/* Signal names, the forwarded set, rewriting and exit statuses: the pure
 * part of PID 1's signal handling, plus the saved start-up state that every
 * child gets back before exec. */
#include "envinit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const struct {
    int sig;
    const char *name;
} names[] = {
    {SIGHUP, "HUP"},     {SIGINT, "INT"},       {SIGQUIT, "QUIT"},   {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"},   {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},     {SIGFPE, "FPE"},
    {SIGKILL, "KILL"},   {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"},   {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"},   {SIGALRM, "ALRM"},     {SIGTERM, "TERM"},   {SIGSTKFLT, "STKFLT"},
    {SIGCHLD, "CHLD"},   {SIGCONT, "CONT"},     {SIGSTOP, "STOP"},   {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"},   {SIGTTOU, "TTOU"},     {SIGURG, "URG"},     {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"},   {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"},   {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},       {SIGPWR, "PWR"},       {SIGSYS, "SYS"},
};

const char *signal_name(int sig)
{
    static char buf[16];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    snprintf(buf, sizeof buf, "%d", sig);
    return buf;
}

/* Accepts 15, TERM, SIGTERM, term, RTMIN+2 and SIGRTMAX-1. */
int signal_parse(const char *s)
{
    char *end;
    if (ascii_isdigit((unsigned char)s[0])) {
        long n = strtol(s, &end, 10);
        return (*end == '\0' && n >= 1 && n <= SIGRTMAX) ? (int)n : -1;
    }
    if (ascii_strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ascii_strcasecmp(s, names[i].name) == 0)
            return names[i].sig;
    int base = 0;
    if (ascii_strncasecmp(s, "RTMIN", 5) == 0)
        base = SIGRTMIN;
    else if (ascii_strncasecmp(s, "RTMAX", 5) == 0)
        base = SIGRTMAX;
    else
        return -1;
    s += 5;
    if (*s == '\0')
        return base;
    if ((*s != '+' && *s != '-') || !ascii_isdigit((unsigned char)s[1]))
        return -1;
    long off = strtol(s, &end, 10);
    if (*end != '\0' || base + off < SIGRTMIN || base + off > SIGRTMAX)
        return -1;
    return base + (int)off;
}

int signal_parse_rewrite(const char *s, int *from, int *to)
{
    char buf[64];
    const char *colon = strchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = '\0';
    int f = signal_parse(buf);
    int t = strcmp(colon + 1, "0") == 0 ? 0 : signal_parse(colon + 1);
    if (f < 1 || f > CONFIG_MAX_REWRITE || t < 0)
        return -1;
    *from = f;
    *to = t;
    return 0;
}

/* The signals tini forwards: all but the synchronous ones, those the kernel
 * will not let us catch, SIGCHLD (ours) and the terminal stops. */
bool signal_is_forwarded(int sig)
{
    switch (sig) {
    case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGABRT:
    case SIGTRAP: case SIGSYS: case SIGCHLD: case SIGKILL: case SIGSTOP:
    case SIGTTIN: case SIGTTOU:
        return false;
    default:
        /* glibc keeps 32 and 33 for itself; they cannot be blocked. */
        return sig >= 1 && sig <= SIGRTMAX && (sig < 32 || sig >= SIGRTMIN);
    }
}

int signal_rewrite(const struct config *c, int sig)
{
    if (sig >= 1 && sig <= CONFIG_MAX_REWRITE && c->rewrite_set[sig])
        return c->rewrite[sig];
    return sig;
}

int exit_code_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return 1;
}

int exit_code_remap(const struct config *c, int code)
{
    if (code >= 0 && code < 256 && (c->expect_exit[code / 8] & (1u << (code % 8))))
        return 0;
    return code;
}

void describe_status(int wstatus, char *buf, size_t len)
{
    if (WIFEXITED(wstatus))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus))
        snprintf(buf, len, "killed by SIG%s%s", signal_name(WTERMSIG(wstatus)),
                 WCOREDUMP(wstatus) ? " (core dumped)" : "");
    else
        snprintf(buf, len, "changed state (0x%x)", (unsigned)wstatus);
}

/* What envinit was started with, restored in every child before exec. */
static sigset_t start_mask;
static struct sigaction start_ttin, start_ttou;

int signals_take_over(sigset_t *forwarded)
{
    sigemptyset(forwarded);
    for (int s = 1; s <= SIGRTMAX; s++)
        if (signal_is_forwarded(s))
            sigaddset(forwarded, s);
    sigset_t blocked = *forwarded;
    sigaddset(&blocked, SIGCHLD);
    /* Ignored so that envinit may hand the terminal to the main command
     * from the background without being stopped. */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    if (sigaction(SIGTTIN, &ign, &start_ttin) < 0 || sigaction(SIGTTOU, &ign, &start_ttou) < 0)
        return -1;
    /* The mask envinit was started with comes back from the same call. */
    return sigprocmask(SIG_SETMASK, &blocked, &start_mask);
}

void signals_restore_for_child(void)
{
    sigaction(SIGTTIN, &start_ttin, NULL);
    sigaction(SIGTTOU, &start_ttou, NULL);
    sigprocmask(SIG_SETMASK, &start_mask, NULL);
}
