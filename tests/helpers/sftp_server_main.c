/* envinit-sftp-server: sshfallback's SFTP subsystem as a standalone program,
 * so tests and bench/sftp.sh can run it under OpenSSH's sshd
 * (`Subsystem sftp /path/to/envinit-sftp-server [-R] [-p LIST] ...`),
 * exactly as sftp-server, with sftp-server's options. */
#include "../../sshfallback/sshfallback.h"

int main(int argc, char **argv)
{
    return sf_sftp_main("envinit-sftp-server", argc - 1, argv + 1);
}
