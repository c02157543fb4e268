// JSch (Debian's libjsch-java) as a test client for
// tests/integration/72-client-matrix.sh, started as a single-file source
// program: java -cp /usr/share/java/jsch.jar JschClient.java PORT USER KEY ...
//   exec COMMAND              exits with the remote status
//   sftp LOCAL REMOTE BACK    uploads LOCAL to REMOTE, downloads it to BACK
//   pty                       a pty of 80x24 changed to 132x50: stty size
//                             must report both
//   forward HOST PORT BYTES   a local forward (setPortForwardingL) to
//                             HOST:PORT, an echo server: BYTES sent through
//                             it must come back
// The key must be PEM (JSch 0.1.55 reads no OpenSSH-format private key).
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
        } else if (a[3].equals("pty")) {
            rc = pty(s);
        } else if (a[3].equals("forward")) {
            rc = forward(s, a[4], Integer.parseInt(a[5]), Integer.parseInt(a[6]));
        }
        s.disconnect();
        return rc;
    }

    // The lines of the form "ROWS COLS" stty size printed, read until the
    // first one (first) or to the end.
    static List<String> sizes(BufferedReader r, boolean first) throws Exception {
        List<String> got = new ArrayList<>();
        String l;
        while ((l = r.readLine()) != null) {
            l = l.replace("\r", "").trim();
            if (l.matches("[0-9]+ [0-9]+")) {
                got.add(l);
                if (first) break;
            }
        }
        return got;
    }

    static int pty(Session s) throws Exception {
        ChannelExec ch = (ChannelExec) s.openChannel("exec");
        ch.setPty(true);
        ch.setPtyType("xterm");
        ch.setPtySize(80, 24, 0, 0);
        ch.setCommand("stty size; read x; stty size");
        InputStream in = ch.getInputStream();
        OutputStream out = ch.getOutputStream();
        // With a timeout, JSch sends its channel requests with want reply
        // set, the window-change too, and waits in setPtySize for the
        // answer, which a server owes it (RFC 4254, 5.4).
        ch.connect(10000);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        List<String> got = sizes(r, true);
        // Connected: a window-change request.
        long t0 = System.nanoTime();
        ch.setPtySize(132, 50, 0, 0);
        long waited = (System.nanoTime() - t0) / 1000000;
        if (waited > 5000) {
            System.out.println("window-change unanswered: setPtySize waited " + waited + " ms");
            return 1;
        }
        Thread.sleep(200);
        out.write("go\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        got.addAll(sizes(r, false));
        while (!ch.isClosed()) Thread.sleep(20);
        ch.disconnect();
        if (!got.equals(List.of("24 80", "50 132"))) {
            System.out.println("sizes " + got + ", want [24 80, 50 132]");
            return 1;
        }
        System.out.println("ok");
        return 0;
    }

    static int forward(Session s, String host, int port, int n) throws Exception {
        int lport = s.setPortForwardingL("127.0.0.1", 0, host, port);
        byte[] data = new byte[n];
        new SecureRandom().nextBytes(data);
        byte[] got;
        try (Socket so = new Socket("127.0.0.1", lport)) {
            so.setSoTimeout(20000);
            Thread w = new Thread(() -> {
                try {
                    OutputStream o = so.getOutputStream();
                    o.write(data);
                    o.flush();
                } catch (Exception e) {
                    System.err.println("jsch: forward write: " + e);
                }
            });
            w.start();
            got = so.getInputStream().readNBytes(n);
            w.join();
        }
        s.delPortForwardingL("127.0.0.1", lport);
        if (!Arrays.equals(got, data)) {
            System.out.println("echoed " + got.length + " bytes of " + n + ", not the same");
            return 1;
        }
        System.out.println("ok");
        return 0;
    }
}
