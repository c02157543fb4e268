/* libFuzzer target: the SSH greeting check root runs on the first bytes of
 * whatever listens on the SSH port. The bytes arrive in pieces, as recv()
 * gives them to ssh_probe, each prefix in a buffer of its exact size.
 * Checks, beyond memory safety:
 * - a verdict, once given, stands: every longer prefix gets the same one
 *   (ssh_probe stops reading at the first verdict);
 * - "SSH" means an identification line starts the text or follows only
 *   lines that are neither SSH versions nor binary;
 * - "undecided" means fewer bytes than the probe reads at most, no NUL,
 *   and no identification;
 * - text that starts with an identification is SSH.
 * Input: one byte for the piece size, then the server's bytes. */
#include "envinit.h"

#include <stdlib.h>
#include <string.h>

/* ssh_probe.c's GREETING_MAX and GREETING_LINES_MAX: the probe's buffer
 * and the pre-lines it reads. */
#define PROBE_BUF 8192
#define PRE_LINES 32
#define MAX_CHECKS 64

static bool starts_with(const char *p, size_t n, const char *word)
{
    size_t wl = strlen(word);
    return n >= wl && memcmp(p, word, wl) == 0;
}

static bool is_identification(const char *p, size_t n)
{
    return starts_with(p, n, "SSH-2.0-") || starts_with(p, n, "SSH-1.99-");
}

/* An identification at the start of one of the first lines, after lines
 * that may come before it. */
static bool identified(const char *buf, size_t len)
{
    size_t pos = 0;
    for (int i = 0; i < PRE_LINES && pos < len; i++) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        if (is_identification(buf + pos, ll))
            return true;
        if (!nl || starts_with(buf + pos, ll, "SSH-") || memchr(buf + pos, '\0', ll))
            return false;
        pos += ll + 1;
    }
    return false;
}

static bool any_identification(const char *buf, size_t len)
{
    for (size_t pos = 0; pos < len; pos++)
        if ((pos == 0 || buf[pos - 1] == '\n') && is_identification(buf + pos, len - pos))
            return true;
    return false;
}

static int check_prefix(const unsigned char *data, size_t len)
{
    char *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, data, len);
    int r = ssh_greeting_check(buf, len);
    if (r < -1 || r > 1 || (r == 1 && !identified(buf, len)) || (identified(buf, len) && r != 1))
        abort();
    if (r == -1 && (len >= PROBE_BUF || memchr(buf, '\0', len) || any_identification(buf, len)))
        abort();
    if (is_identification(buf, len) && r != 1)
        abort();
    free(buf);
    return r;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] + 1, len = size - 1;
    if (len > PROBE_BUF)
        len = PROBE_BUF;
    if (step < len / MAX_CHECKS)
        step = len / MAX_CHECKS;
    data++;
    int verdict = -1;
    for (size_t k = 0;; k += step) {
        if (k > len)
            k = len;
        int r = check_prefix(data, k);
        if (verdict >= 0 && r != verdict)
            abort();
        verdict = r;
        if (k == len)
            break;
    }
    return 0;
}
