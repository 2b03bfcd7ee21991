// Package e2e drives the built binaries from outside, with the real
// clients they serve: git's `git credential`, docker's client package.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// binDir holds the binaries built once for the whole test run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runcomfy-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "../cmd/...")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin is the path of a built binary.
func bin(name string) string {
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(binDir, name)
}

// sandbox is a private world for one test: a temp HOME with nothing in it,
// and a minimal environment that names it.
type sandbox struct {
	t    *testing.T
	home string
	env  map[string]string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	home := t.TempDir()
	return &sandbox{t: t, home: home, env: map[string]string{
		"HOME":                home,
		"PATH":                binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_CONFIG_GLOBAL":   filepath.Join(home, ".gitconfig"),
		"LANG":                "C",
		"CI":                  "1", // no login on miss unless a test asks for one
	}}
}

// configDir is where the sandbox's token.json lives by default.
func (s *sandbox) configDir() string { return filepath.Join(s.home, ".config", "runcomfy") }

func (s *sandbox) tokenPath() string { return filepath.Join(s.configDir(), "token.json") }

func (s *sandbox) environ() []string {
	var env []string
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return env
}

// result is what a process did.
type result struct {
	stdout, stderr string
	code           int
}

// command is name — a built binary, or else a program on PATH — with args,
// in the sandbox's environment and home.
func (s *sandbox) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := name
	if _, err := os.Stat(bin(name)); err == nil {
		path = bin(name)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = s.environ()
	cmd.Dir = s.home
	return cmd
}

// run runs name with stdin, for at most a minute: a command that hangs
// fails the test instead of hanging it.
func (s *sandbox) run(stdin string, name string, args ...string) result {
	s.t.Helper()
	return s.runWithin(time.Minute, stdin, name, args...)
}

// runWithin runs name with stdin, for at most timeout.
func (s *sandbox) runWithin(timeout time.Duration, stdin string, name string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := s.command(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		s.t.Fatalf("%s %s did not finish within %s\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), timeout, stdout.String(), stderr.String())
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		s.t.Fatalf("run %s: %v", name, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// writeToken stores a token file as the official CLI would.
func (s *sandbox) writeToken(token, email string) {
	s.t.Helper()
	if err := os.MkdirAll(s.configDir(), 0o700); err != nil {
		s.t.Fatal(err)
	}
	data := fmt.Sprintf(`{"access_token": %q, "refresh_token": null, "expires_at": null, "user_email": %q}`, token, email)
	if err := os.WriteFile(s.tokenPath(), []byte(data), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// readToken returns token.json's content, or "<none>".
func (s *sandbox) readToken() string {
	s.t.Helper()
	data, err := os.ReadFile(s.tokenPath())
	if errors.Is(err, os.ErrNotExist) {
		return "<none>"
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

func (s *sandbox) mode(path string) os.FileMode {
	s.t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		s.t.Fatal(err)
	}
	return fi.Mode().Perm()
}
