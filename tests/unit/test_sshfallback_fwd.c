/* Unit tests of sshfallback's forwarding decisions (fwd.c): where a remote
 * forward binds, the x11-req cookie parser, the X11 cookie swap; and the
 * channel pump's descriptor slots (chan.c). */
#define SF_INTERNAL
#include "../../sshfallback/sshfallback.h"
#include "unit.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

START_TEST(bind_loopback_by_default)
{
    ck_assert_str_eq(sf_fwd_bind_address(0, ""), "127.0.0.1");
    ck_assert_str_eq(sf_fwd_bind_address(0, "*"), "127.0.0.1");
    ck_assert_str_eq(sf_fwd_bind_address(0, "0.0.0.0"), "127.0.0.1");
    ck_assert_str_eq(sf_fwd_bind_address(0, "192.0.2.1"), "127.0.0.1");
    ck_assert_str_eq(sf_fwd_bind_address(0, "localhost"), "127.0.0.1");
    ck_assert_str_eq(sf_fwd_bind_address(0, "::1"), "::1");
    ck_assert_str_eq(sf_fwd_bind_address(0, NULL), "127.0.0.1");
}
END_TEST

START_TEST(bind_gateway_ports)
{
    ck_assert_str_eq(sf_fwd_bind_address(1, ""), "0.0.0.0");
    ck_assert_str_eq(sf_fwd_bind_address(1, "*"), "0.0.0.0");
    ck_assert_str_eq(sf_fwd_bind_address(1, "localhost"), "127.0.0.1");
    ck_assert_str_eq(sf_fwd_bind_address(1, "::"), "::");
    ck_assert_str_eq(sf_fwd_bind_address(1, "127.0.0.2"), "127.0.0.2");
}
END_TEST

START_TEST(unhex_cookie)
{
    unsigned char b[4];
    ck_assert_int_eq(sf_unhex("00ff7A", b, sizeof b), 3);
    ck_assert_int_eq(b[0], 0x00);
    ck_assert_int_eq(b[1], 0xff);
    ck_assert_int_eq(b[2], 0x7a);
    ck_assert_int_eq(sf_unhex("", b, sizeof b), -1);
    ck_assert_int_eq(sf_unhex("abc", b, sizeof b), -1);
    ck_assert_int_eq(sf_unhex("zz", b, sizeof b), -1);
    ck_assert_int_eq(sf_unhex("0x", b, sizeof b), -1);
    ck_assert_int_eq(sf_unhex("+1", b, sizeof b), -1);
    ck_assert_int_eq(sf_unhex("0011223344", b, sizeof b), -1);
}
END_TEST

#define PROTO "MIT-MAGIC-COOKIE-1"
/* A setup packet: byte order, version 11.0, PROTO and a 16-byte cookie. */
static size_t setup(unsigned char *p, int big, const unsigned char *cookie, size_t clen)
{
    size_t nlen = strlen(PROTO);
    memset(p, 0, 12);
    p[0] = big ? 'B' : 'l';
    p[big ? 3 : 2] = 11;
    p[big ? 6 : 7] = (unsigned char)(nlen >> 8);
    p[big ? 7 : 6] = (unsigned char)nlen;
    p[big ? 8 : 9] = (unsigned char)(clen >> 8);
    p[big ? 9 : 8] = (unsigned char)clen;
    memcpy(p + 12, PROTO, nlen);
    memset(p + 12 + nlen, 0, 2);              /* pad 18 -> 20 */
    memcpy(p + 32, cookie, clen);
    return 32 + clen;
}

static const unsigned char FAKE[16] = "fakefakefakefak", REAL[16] = "realrealrealrea";

START_TEST(x11_swap_both_orders)
{
    for (int big = 0; big < 2; big++) {
        unsigned char p[64];
        size_t n = setup(p, big, FAKE, 16);
        ck_assert_int_eq(sf_x11_swap(p, n, PROTO, FAKE, REAL, 16), 48);
        ck_assert_mem_eq(p + 32, REAL, 16);
        ck_assert_mem_eq(p + 12, PROTO, strlen(PROTO));
    }
}
END_TEST

START_TEST(x11_swap_incomplete)
{
    unsigned char p[64];
    size_t n = setup(p, 0, FAKE, 16);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(sf_x11_swap(p, i, PROTO, FAKE, REAL, 16), 0);
    ck_assert_mem_eq(p + 32, FAKE, 16);
}
END_TEST

START_TEST(x11_swap_refusals)
{
    unsigned char p[64];
    size_t n = setup(p, 1, REAL, 16);  /* the real cookie is not the session's */
    ck_assert_int_eq(sf_x11_swap(p, n, PROTO, FAKE, REAL, 16), -1);
    (void)setup(p, 1, FAKE, 15);       /* other length */
    ck_assert_int_eq(sf_x11_swap(p, 48, PROTO, FAKE, REAL, 16), -1);
    n = setup(p, 1, FAKE, 16);
    p[12] = 'X';                       /* other protocol */
    ck_assert_int_eq(sf_x11_swap(p, n, PROTO, FAKE, REAL, 16), -1);
    n = setup(p, 1, FAKE, 16);
    p[0] = 'Q';                        /* no byte order */
    ck_assert_int_eq(sf_x11_swap(p, n, PROTO, FAKE, REAL, 16), -1);
    /* lengths claiming 64 KiB: incomplete, never an overread */
    n = setup(p, 1, FAKE, 16);
    p[6] = p[7] = p[8] = p[9] = 0xff;
    ck_assert_int_eq(sf_x11_swap(p, n, PROTO, FAKE, REAL, 16), 0);
}
END_TEST

static int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* A bridge's socket is the pump's input and its output at once: dropping
 * one side (EOF one way) must leave it open for the other. */
START_TEST(pump_shared_socket_closed_with_last_slot)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct sf_pump p = {0};
    sf_pump_init(&p, NULL, NULL);
    sf_pump_start(&p, sv[0], sv[0], -1);
    sf_pump_drop(&p, &p.fd_in);
    ck_assert_int_eq(p.fd_in, -1);
    ck_assert(fd_open(sv[0]));
    sf_pump_drop(&p, &p.fd_out[0]);
    ck_assert_int_eq(p.fd_out[0], -1);
    ck_assert(!fd_open(sv[0]));
    close(sv[1]);
}
END_TEST

/* A session's three pipes: each its own descriptor, all closed by a stop. */
START_TEST(pump_stop_closes_every_slot)
{
    int a[2], b[2], e[2];
    ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(e, O_CLOEXEC), 0);
    struct sf_pump p = {0};
    sf_pump_init(&p, NULL, NULL);
    sf_pump_start(&p, a[1], b[0], e[0]);
    sf_pump_drop(&p, &p.fd_out[1]);
    ck_assert(!fd_open(e[0]));
    ck_assert(fd_open(a[1]) && fd_open(b[0]));
    sf_pump_stop(&p);
    ck_assert(!fd_open(a[1]) && !fd_open(b[0]));
    ck_assert_int_eq(p.fd_in, -1);
    ck_assert_int_eq(p.fd_out[0], -1);
    sf_pump_free(&p); /* no channel: nothing else to do, nothing closed twice */
    close(a[0]);
    close(b[1]);
    close(e[1]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sshfallback-fwd");
    UNIT_ADD(s, bind_loopback_by_default);
    UNIT_ADD(s, bind_gateway_ports);
    UNIT_ADD(s, unhex_cookie);
    UNIT_ADD(s, x11_swap_both_orders);
    UNIT_ADD(s, x11_swap_incomplete);
    UNIT_ADD(s, x11_swap_refusals);
    UNIT_ADD(s, pump_shared_socket_closed_with_last_slot);
    UNIT_ADD(s, pump_stop_closes_every_slot);
    return s;
}

int main(void)
{
    Suite *suites[] = {suite(), NULL};
    return unit_run("sshfallback-fwd", suites);
}
