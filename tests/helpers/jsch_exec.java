// One command over SSH with JSch (the Java library, Debian's libjsch-java),
// as Java tools of its generation (Jenkins agents, Ant's sshexec, older
// IDE plugins) connect: the library's own default algorithms, host key
// not checked. Prints the command's output, then "exit N"; a failure to
// connect prints "error: ..." and exits 1.
// Usage: java -cp /usr/share/java/jsch.jar jsch_exec.java HOST PORT USER KEY COMMAND
import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;

public class jsch_exec {
    public static void main(String[] a) throws Exception {
        try {
            JSch jsch = new JSch();
            jsch.addIdentity(a[3]);
            Session s = jsch.getSession(a[2], a[0], Integer.parseInt(a[1]));
            s.setConfig("StrictHostKeyChecking", "no");
            s.connect(10000);
            ChannelExec ch = (ChannelExec) s.openChannel("exec");
            ch.setCommand(a[4]);
            InputStream in = ch.getInputStream();
            ch.connect(10000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) > 0)
                out.write(buf, 0, n);
            while (!ch.isClosed())
                Thread.sleep(20);
            System.out.print(out.toString("UTF-8"));
            System.out.println("exit " + ch.getExitStatus() + " " + s.getServerVersion()
                               + " hostkey=" + s.getHostKey().getType());
            ch.disconnect();
            s.disconnect();
        } catch (Exception e) {
            System.out.println("error: " + e.getMessage());
            System.exit(1);
        }
    }
}
