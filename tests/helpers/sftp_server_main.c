/* envinit-sftp-server: sshfallback's SFTP subsystem as a standalone program,
 * so tests and bench/sftp.sh can run it under OpenSSH's sshd
 * (`Subsystem sftp /path/to/envinit-sftp-server`), exactly as sftp-server. */
#include "../../sshfallback/sshfallback.h"

int main(void)
{
    return sf_sftp_serve(0, 1);
}
