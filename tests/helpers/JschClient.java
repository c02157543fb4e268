// JSch (Debian's libjsch-java) as a test client for
// tests/integration/72-client-matrix.sh, started as a single-file source
// program: java -cp /usr/share/java/jsch.jar JschClient.java PORT USER KEY ...
//   exec COMMAND              exits with the remote status
//   sftp LOCAL REMOTE BACK    uploads LOCAL to REMOTE, downloads it to BACK
// The key must be PEM (JSch 0.1.55 reads no OpenSSH-format private key).
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import java.io.InputStream;

public class JschClient {
    public static void main(String[] a) {
        try {
            System.exit(run(a));
        } catch (Exception e) {
            System.err.println("jsch: " + e);
            System.exit(255);
        }
    }

    static int run(String[] a) throws Exception {
        JSch jsch = new JSch();
        jsch.addIdentity(a[2]);
        Session s = jsch.getSession(a[1], "127.0.0.1", Integer.parseInt(a[0]));
        // The test starts the servers itself, on a private loopback.
        s.setConfig("StrictHostKeyChecking", "no");
        s.setConfig("PreferredAuthentications", "publickey");
        s.connect(10000);
        int rc = 2;
        if (a[3].equals("exec")) {
            ChannelExec ch = (ChannelExec) s.openChannel("exec");
            ch.setCommand(a[4]);
            ch.setErrStream(System.err);
            InputStream in = ch.getInputStream();
            ch.connect(10000);
            in.transferTo(System.out);
            System.out.flush();
            while (!ch.isClosed()) Thread.sleep(20);
            rc = ch.getExitStatus();
            ch.disconnect();
        } else if (a[3].equals("sftp")) {
            ChannelSftp ch = (ChannelSftp) s.openChannel("sftp");
            ch.connect(10000);
            ch.put(a[4], a[5]);
            ch.get(a[5], a[6]);
            ch.disconnect();
            rc = 0;
        }
        s.disconnect();
        return rc;
    }
}
