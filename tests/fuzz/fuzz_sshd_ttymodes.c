/* libFuzzer target: the terminal modes of a pty-req (sf_tty_modes_apply),
 * which a client sends before its session starts. The input is the encoded
 * modes. Beyond memory safety it checks, from two different starting
 * settings:
 *  - the result is the number of 5-byte modes before TTY_OP_END or an
 *    opcode from 160 up, or -1 when the last one is cut short;
 *  - the bytes after where parsing stopped change nothing, and a cut-short
 *    mode leaves what came before it applied;
 *  - applying the same modes twice gives the same settings;
 *  - only the flags and control characters RFC 4254 names, and the
 *    speeds, ever change. */
#include "sshfallback.h"

#include <stdlib.h>
#include <string.h>
#include <termios.h>

static const int cc_named[] = {VINTR, VQUIT, VERASE, VKILL, VEOF, VEOL, VEOL2,
                               VSTART, VSTOP, VSUSP, VREPRINT, VWERASE, VLNEXT, VDISCARD};
/* and bit 31: glibc's cfsetispeed clears its "input speed 0" mark (IBAUD0) there */
static const tcflag_t iflags = IGNPAR | PARMRK | INPCK | ISTRIP | INLCR | IGNCR | ICRNL |
                               IUCLC | IXON | IXANY | IXOFF | IMAXBEL | IUTF8 | 020000000000u;
static const tcflag_t lflags = ISIG | ICANON | XCASE | ECHO | ECHOE | ECHOK | ECHONL | NOFLSH |
                               TOSTOP | IEXTEN | ECHOCTL | ECHOKE | PENDIN;
static const tcflag_t oflags = OPOST | OLCUC | ONLCR | OCRNL | ONOCR | ONLRET;
static const tcflag_t cflags = CSIZE | PARENB | PARODD | CBAUD | CBAUDEX | CIBAUD;

/* What sf_tty_modes_apply must return, and where parsing stops. */
static int expected(const unsigned char *m, size_t len, size_t *stop)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char op = m[i];
        if (op == 0 || op >= 160) {
            *stop = i;
            return n;
        }
        if (len - i - 1 < 4) {
            *stop = i;
            return -1;
        }
        i += 5;
        n++;
    }
    *stop = len;
    return n;
}

static int cc_is_named(size_t i)
{
    for (size_t k = 0; k < sizeof cc_named / sizeof cc_named[0]; k++)
        if ((size_t)cc_named[k] == i)
            return 1;
    return 0;
}

static void check_untouched(const struct termios *before, const struct termios *after)
{
    if ((before->c_iflag ^ after->c_iflag) & ~iflags || (before->c_lflag ^ after->c_lflag) & ~lflags ||
        (before->c_oflag ^ after->c_oflag) & ~oflags || (before->c_cflag ^ after->c_cflag) & ~cflags ||
        before->c_line != after->c_line)
        abort();
    for (size_t i = 0; i < NCCS; i++)
        if (!cc_is_named(i) && before->c_cc[i] != after->c_cc[i])
            abort();
}

static void check_from(const struct termios *base, const unsigned char *m, size_t len)
{
    size_t stop;
    int want = expected(m, len, &stop);
    struct termios t = *base, again, prefix = *base;
    int rc = sf_tty_modes_apply(m, len, &t);
    if (rc != want)
        abort();
    check_untouched(base, &t);
    if (sf_tty_modes_apply(m, stop, &prefix) != (want < 0 ? (int)(stop / 5) : want) ||
        memcmp(&prefix, &t, sizeof t) != 0)
        abort();
    again = t;
    sf_tty_modes_apply(m, len, &again);
    if (memcmp(&again, &t, sizeof t) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct termios base;
    memset(&base, 0, sizeof base);
    check_from(&base, data, size);
    memset(&base, 0xff, sizeof base);
    check_from(&base, data, size);
    return 0;
}
