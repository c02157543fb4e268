/* envinit is static and reads /etc/passwd and /etc/group itself (envfile).
 * libcap-ng references getpwuid() and initgroups() in a code path envinit
 * never takes (capng_change_id with CAPNG_INIT_SUPP_GRP); defining them here
 * keeps glibc's NSS machinery, and its run-time dlopen of shared NSS
 * modules, out of the static binary. */
#include <errno.h>
#include <stddef.h>
#include <pwd.h>
#include <grp.h>
#include <sys/types.h>

struct passwd *getpwuid(uid_t uid)
{
    (void)uid;
    errno = ENOSYS;
    return NULL;
}

int initgroups(const char *user, gid_t group)
{
    (void)user;
    (void)group;
    errno = ENOSYS;
    return -1;
}
