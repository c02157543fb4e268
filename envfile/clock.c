/* The one monotonic clock of the three programs, in milliseconds: for
 * deadlines and uptimes, never for dates. */
#include "envfile.h"

#include <time.h>

long long envfile_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
