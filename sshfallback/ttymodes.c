/* Terminal modes of a pty-req (RFC 4254, section 8): the client's tty
 * settings, applied to the pty before the user's program starts, so that
 * erase, interrupt and the rest behave as on the client's own terminal. */
#include "sshfallback.h"

#include <stdint.h>
#include <termios.h>
#include <unistd.h>

enum { TTY_OP_END = 0, TTY_OP_ISPEED = 128, TTY_OP_OSPEED = 129, TTY_OP_FIRST_UNKNOWN = 160 };
enum flag_set { CC, IFLAG, LFLAG, OFLAG, CFLAG };

struct mode {
    unsigned char opcode;
    unsigned char set;
    tcflag_t bit;        /* the flag, or the c_cc index for CC */
};

/* The opcodes of RFC 4254 (and OpenSSH's IUTF8) that Linux has. */
static const struct mode modes[] = {
    {1, CC, VINTR},      {2, CC, VQUIT},      {3, CC, VERASE},    {4, CC, VKILL},
    {5, CC, VEOF},       {6, CC, VEOL},       {7, CC, VEOL2},     {8, CC, VSTART},
    {9, CC, VSTOP},      {10, CC, VSUSP},     {12, CC, VREPRINT}, {13, CC, VWERASE},
    {14, CC, VLNEXT},    {18, CC, VDISCARD},
    {30, IFLAG, IGNPAR}, {31, IFLAG, PARMRK}, {32, IFLAG, INPCK}, {33, IFLAG, ISTRIP},
    {34, IFLAG, INLCR},  {35, IFLAG, IGNCR},  {36, IFLAG, ICRNL}, {37, IFLAG, IUCLC},
    {38, IFLAG, IXON},   {39, IFLAG, IXANY},  {40, IFLAG, IXOFF}, {41, IFLAG, IMAXBEL},
    {42, IFLAG, IUTF8},
    {50, LFLAG, ISIG},   {51, LFLAG, ICANON}, {52, LFLAG, XCASE}, {53, LFLAG, ECHO},
    {54, LFLAG, ECHOE},  {55, LFLAG, ECHOK},  {56, LFLAG, ECHONL}, {57, LFLAG, NOFLSH},
    {58, LFLAG, TOSTOP}, {59, LFLAG, IEXTEN}, {60, LFLAG, ECHOCTL}, {61, LFLAG, ECHOKE},
    {62, LFLAG, PENDIN},
    {70, OFLAG, OPOST},  {71, OFLAG, OLCUC},  {72, OFLAG, ONLCR}, {73, OFLAG, OCRNL},
    {74, OFLAG, ONOCR},  {75, OFLAG, ONLRET},
    {90, CFLAG, CS7},    {91, CFLAG, CS8},    {92, CFLAG, PARENB}, {93, CFLAG, PARODD},
};

static tcflag_t *flags_of(struct termios *t, enum flag_set set)
{
    switch (set) {
    case IFLAG: return &t->c_iflag;
    case LFLAG: return &t->c_lflag;
    case OFLAG: return &t->c_oflag;
    default: return &t->c_cflag;
    }
}

static speed_t speed_of(uint32_t baud)
{
    static const struct {
        uint32_t baud;
        speed_t speed;
    } speeds[] = {
        {9600, B9600},     {19200, B19200},   {38400, B38400},   {57600, B57600},
        {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600},
    };
    for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++)
        if (speeds[i].baud == baud)
            return speeds[i].speed;
    return B38400;
}

static void apply_one(struct termios *t, unsigned char op, uint32_t value)
{
    if (op == TTY_OP_ISPEED || op == TTY_OP_OSPEED) {
        (op == TTY_OP_ISPEED ? cfsetispeed : cfsetospeed)(t, speed_of(value));
        return;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (modes[i].opcode != op)
            continue;
        if (modes[i].set == CC) {
            /* 255 is the client's "disabled" (OpenSSH sends _POSIX_VDISABLE so) */
            t->c_cc[modes[i].bit] = value == 255 ? _POSIX_VDISABLE : (cc_t)value;
        } else if (modes[i].set == CFLAG && (modes[i].bit == CS7 || modes[i].bit == CS8)) {
            if (value) /* a character size, not a bit: CS7 and CS8 share CSIZE */
                t->c_cflag = (t->c_cflag & ~(tcflag_t)CSIZE) | modes[i].bit;
        } else {
            tcflag_t *f = flags_of(t, (enum flag_set)modes[i].set);
            *f = value ? *f | modes[i].bit : *f & ~modes[i].bit;
        }
        return;
    }
}

int sf_tty_modes_apply(const unsigned char *m, size_t len, struct termios *t)
{
    int applied = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char op = m[i++];
        /* opcodes from 160 up have undefined arguments: parsing stops there */
        if (op == TTY_OP_END || op >= TTY_OP_FIRST_UNKNOWN)
            return applied;
        if (len - i < 4)
            return -1;
        uint32_t value = (uint32_t)m[i] << 24 | (uint32_t)m[i + 1] << 16 |
                         (uint32_t)m[i + 2] << 8 | m[i + 3];
        i += 4;
        apply_one(t, op, value);
        applied++;
    }
    return applied;
}
