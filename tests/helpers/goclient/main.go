// goclient: golang.org/x/crypto/ssh and github.com/pkg/sftp as a test
// client for tests/integration/72-client-matrix.sh. Built offline from
// Debian's packages in GOPATH mode. Usage:
//
//	goclient -p PORT -u USER -i KEY exec COMMAND      (exits with the remote status)
//	goclient ... pty                                  (prints "ok" when a window change reaches stty)
//	goclient ... sftp LOCAL REMOTE BACK               (uploads LOCAL to REMOTE, downloads it to BACK)
//	goclient ... forward HOST:PORT BYTES              (client.Dial: BYTES sent and echoed back)
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "goclient: "+format+"\n", a...)
	os.Exit(255)
}

func connect(port, user, keyPath string) *ssh.Client {
	pem, err := os.ReadFile(keyPath)
	if err != nil {
		die("%v", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		die("key: %v", err)
	}
	cfg := &ssh.ClientConfig{
		User: user,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		// The test starts the servers itself, on a private loopback.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
	c, err := ssh.Dial("tcp", "127.0.0.1:"+port, cfg)
	if err != nil {
		die("dial: %v", err)
	}
	return c
}

func runExec(c *ssh.Client, cmd string) int {
	s, err := c.NewSession()
	if err != nil {
		die("session: %v", err)
	}
	s.Stdout, s.Stderr = os.Stdout, os.Stderr
	err = s.Run(cmd)
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitStatus()
	default:
		die("exec: %v", err)
	}
	return 255
}

// readLine returns the next line holding two numbers (stty size's answer),
// skipping the echoed input.
func readSize(r *bufio.Reader) string {
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			die("pty read: %v (got %q)", err, l)
		}
		l = strings.TrimSpace(l)
		var a, b int
		if n, _ := fmt.Sscanf(l, "%d %d", &a, &b); n == 2 {
			return l
		}
	}
}

func runPty(c *ssh.Client) int {
	s, err := c.NewSession()
	if err != nil {
		die("session: %v", err)
	}
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
		die("pty-req: %v", err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Start("stty size; read x; stty size"); err != nil {
		die("start: %v", err)
	}
	r := bufio.NewReader(out)
	first := readSize(r)
	if err := s.WindowChange(50, 132); err != nil {
		die("window-change: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	fmt.Fprintln(in, "go")
	second := readSize(r)
	_ = s.Wait()
	if first != "24 80" || second != "50 132" {
		fmt.Printf("sizes %q then %q, want \"24 80\" then \"50 132\"\n", first, second)
		return 1
	}
	fmt.Println("ok")
	return 0
}

func runSftp(c *ssh.Client, local, remote, back string) int {
	sc, err := sftp.NewClient(c)
	if err != nil {
		die("sftp: %v", err)
	}
	defer sc.Close()
	src, err := os.Open(local)
	if err != nil {
		die("%v", err)
	}
	dst, err := sc.Create(remote)
	if err != nil {
		die("sftp create: %v", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		die("sftp write: %v", err)
	}
	if err := dst.Close(); err != nil {
		die("sftp close: %v", err)
	}
	src.Close()
	rf, err := sc.Open(remote)
	if err != nil {
		die("sftp open: %v", err)
	}
	lf, err := os.Create(back)
	if err != nil {
		die("%v", err)
	}
	if _, err := io.Copy(lf, rf); err != nil {
		die("sftp read: %v", err)
	}
	rf.Close()
	if err := lf.Close(); err != nil {
		die("%v", err)
	}
	return 0
}

func runForward(c *ssh.Client, target string, size int) int {
	conn, err := c.Dial("tcp", target)
	if err != nil {
		die("direct-tcpip: %v", err)
	}
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		die("%v", err)
	}
	go func() {
		if _, err := conn.Write(data); err != nil {
			die("forward write: %v", err)
		}
	}()
	got := make([]byte, size)
	if _, err := io.ReadFull(conn, got); err != nil {
		die("forward read: %v", err)
	}
	conn.Close()
	if !bytes.Equal(data, got) {
		fmt.Println("echoed bytes differ")
		return 1
	}
	fmt.Println("ok")
	return 0
}

func main() {
	port := flag.String("p", "22", "port on 127.0.0.1")
	user := flag.String("u", "", "user")
	key := flag.String("i", "", "private key")
	flag.Parse()
	a := flag.Args()
	if len(a) == 0 {
		die("usage: goclient -p PORT -u USER -i KEY exec|pty|sftp|forward ARGS...")
	}
	c := connect(*port, *user, *key)
	defer c.Close()
	rc := 2
	switch {
	case a[0] == "exec" && len(a) == 2:
		rc = runExec(c, a[1])
	case a[0] == "pty" && len(a) == 1:
		rc = runPty(c)
	case a[0] == "sftp" && len(a) == 4:
		rc = runSftp(c, a[1], a[2], a[3])
	case a[0] == "forward" && len(a) == 3:
		var n int
		if _, err := fmt.Sscanf(a[2], "%d", &n); err != nil {
			die("bytes: %v", err)
		}
		rc = runForward(c, a[1], n)
	default:
		die("unknown command %q", strings.Join(a, " "))
	}
	c.Close()
	os.Exit(rc)
}
