package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/devserver"
	"github.com/runcomfy/runcomfy/internal/testutil"
)

// devServer is the offline RunComfy dev server on loopback, recording the
// device codes it hands out so tests can search output for them.
type devServer struct {
	*devserver.Server
	URL string

	mu          sync.Mutex
	deviceCodes []string
}

func startDevServer(t *testing.T, opts devserver.Options) *devServer {
	t.Helper()
	d := &devServer{Server: devserver.New(opts)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/cli-auth/poll" {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			d.mu.Lock()
			if i := bytes.Index(body, []byte(`"device_code":"`)); i >= 0 {
				code := body[i+len(`"device_code":"`):]
				if j := bytes.IndexByte(code, '"'); j > 0 {
					d.deviceCodes = append(d.deviceCodes, string(code[:j]))
				}
			}
			d.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		d.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
}

// secrets is every token minted and every device code seen.
func (d *devServer) secrets() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append(append([]string(nil), d.Tokens()...), d.deviceCodes...)
}

// proc is a process running in the background.
type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr *testutil.Buffer
	done           chan struct{}
	code           int
}

// start runs name in the background in its own session, so that it has
// no controlling terminal: /dev/tty does not open, as in CI.
func (s *sandbox) start(stdin string, name string, args ...string) *proc {
	s.t.Helper()
	cmd := s.command(context.Background(), name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p := &proc{t: s.t, cmd: cmd, stdout: &testutil.Buffer{}, stderr: &testutil.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to exit, at most limit, and returns what it did.
func (p *proc) wait(limit time.Duration) result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%s did not exit within %s; stderr:\n%s", p.cmd.Path, limit, p.stderr.String())
	}
	return result{p.stdout.String(), p.stderr.String(), p.code}
}

// waitStderr waits until stderr holds substr, at most limit.
func (p *proc) waitStderr(substr string, limit time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if out := p.stderr.String(); strings.Contains(out, substr) {
			return out
		}
		select {
		case <-p.done:
			p.t.Fatalf("%s exited before printing %q; stderr:\n%s", p.cmd.Path, substr, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatalf("%s did not print %q within %s; stderr:\n%s", p.cmd.Path, substr, limit, p.stderr.String())
	return ""
}

// userCode reads the one-time code from login's plain output.
func userCode(t *testing.T, stderr string) string {
	t.Helper()
	const prefix = "Your one-time code: "
	i := strings.Index(stderr, prefix)
	if i < 0 {
		t.Fatalf("no code in:\n%s", stderr)
	}
	code, _, _ := strings.Cut(stderr[i+len(prefix):], "\n")
	return code
}
