package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/devserver"
)

func TestExecChildSeesTheTokenInItsEnvironmentOnly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads argv from /proc")
	}
	s := newSandbox(t)
	s.writeToken("rc_exec_token_9191", "ada@example.com")
	// The child prints the token it sees, then its own argv and that of
	// its parent, runcomfy exec: the token must be in neither.
	script := `printf '%s\n' "$RUNCOMFY_TOKEN"; tr '\0' ' ' < /proc/$$/cmdline; echo; tr '\0' ' ' < /proc/$PPID/cmdline; echo`
	r := s.run("", "runcomfy", "exec", "--", "sh", "-c", script, "child", "arg one")
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || r.stderr != "" || len(lines) != 4 || lines[0] != "rc_exec_token_9191" {
		t.Fatalf("exec = %+v", r)
	}
	if !strings.HasPrefix(lines[1], "sh -c ") || !strings.HasSuffix(lines[1], " child arg one ") {
		t.Fatalf("child argv = %q", lines[1])
	}
	if !strings.Contains(lines[2], "runcomfy exec -- sh -c") {
		t.Fatalf("parent argv = %q", lines[2])
	}
	for _, argv := range lines[1:3] {
		if strings.Contains(argv, "rc_exec_token_9191") {
			t.Fatalf("the token is on a command line: %q", argv)
		}
	}

	// RUNCOMFY_TOKEN wins, trimmed, and reaches the child once.
	s.env["RUNCOMFY_TOKEN"] = "  rc_env_token_9292\n"
	r = s.run("", "runcomfy", "exec", "sh", "-c", `env | grep -c '^RUNCOMFY_TOKEN='; printf '[%s]\n' "$RUNCOMFY_TOKEN"`)
	if r != (result{stdout: "1\n[rc_env_token_9292]\n"}) {
		t.Fatalf("exec with RUNCOMFY_TOKEN set = %+v", r)
	}
}

func TestExecPassesTheExitCodeThrough(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("rc_exec_token_1212", "")
	for _, code := range []int{0, 1, 42, 255} {
		r := s.run("in\n", "runcomfy", "exec", "--", "sh", "-c", "cat; echo out; echo err >&2; exit "+strconv.Itoa(code))
		if r != (result{stdout: "in\nout\n", stderr: "err\n", code: code}) {
			t.Errorf("exit %d: exec = %+v", code, r)
		}
	}
}

func TestExecForwardsSignals(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("rc_exec_token_3434", "")
	for _, tt := range []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGTERM, "TERM"}, {syscall.SIGINT, "INT"}, {syscall.SIGHUP, "HUP"}} {
		t.Run(tt.name, func(t *testing.T) {
			// The child traps the signal: it is forwarded, and the child's
			// own exit code comes back.
			script := `trap 'echo caught ` + tt.name + ` >&2; exit 7' ` + tt.name + `; echo ready >&2; while :; do sleep 0.05; done`
			p := s.start("", "runcomfy", "exec", "--", "sh", "-c", script)
			p.waitStderr("ready\n", 10*time.Second)
			if err := p.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			if r := p.wait(10 * time.Second); r != (result{stderr: "ready\ncaught " + tt.name + "\n", code: 7}) {
				t.Fatalf("exec after SIG%s = %+v", tt.name, r)
			}

			// The child dies of the signal: runcomfy exits 128+N, as a
			// shell reports it.
			p = s.start("", "runcomfy", "exec", "--", "sh", "-c", "echo ready >&2; exec sleep 30")
			p.waitStderr("ready\n", 10*time.Second)
			if err := p.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			if r := p.wait(10 * time.Second); r != (result{stderr: "ready\n", code: 128 + int(tt.sig)}) {
				t.Fatalf("exec after SIG%s killed the child = %+v", tt.name, r)
			}
		})
	}
}

func TestExecSignedOutRunsNothingAndExits77(t *testing.T) {
	s := newSandbox(t)
	marker := filepath.Join(s.home, "ran")
	r := s.run("", "runcomfy", "exec", "--", "touch", marker)
	if r != (result{stderr: "runcomfy: not signed in: run `runcomfy login`, or set RUNCOMFY_TOKEN\n", code: 77}) {
		t.Fatalf("exec signed out = %+v", r)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the command ran without a token")
	}
}

func TestExecUsageAndStartFailures(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("rc_exec_token_5656", "")
	notExecutable := filepath.Join(s.home, "script.sh")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want result
	}{
		{[]string{"exec"}, result{stderr: "runcomfy: exec needs a command: runcomfy exec -- COMMAND [ARG...]\n", code: 64}},
		{[]string{"exec", "--"}, result{stderr: "runcomfy: exec needs a command: runcomfy exec -- COMMAND [ARG...]\n", code: 64}},
		{[]string{"exec", "no-such-command-here"}, result{stderr: "runcomfy: exec: \"no-such-command-here\": executable file not found in $PATH\n", code: 127}},
		{[]string{"exec", notExecutable}, result{stderr: "runcomfy: fork/exec " + notExecutable + ": permission denied\n", code: 126}},
	}
	for _, tt := range tests {
		if r := s.run("", "runcomfy", tt.args...); r != tt.want {
			t.Errorf("runcomfy %v = %+v, want %+v", tt.args, r, tt.want)
		}
	}
}

func TestExecLogsInFirstWhenTheTokenIsMissing(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
	s.env["RUNCOMFY_LOGIN_ON_MISS"] = "always"
	r := s.start("", "runcomfy", "exec", "--", "sh", "-c", `printf '%s' "$RUNCOMFY_TOKEN"`).wait(30 * time.Second)
	tokens := dev.Tokens()
	if len(tokens) != 1 || r.code != 0 || r.stdout != tokens[0] {
		t.Fatalf("exec = %+v; tokens minted: %d", r, len(tokens))
	}
	if code := userCode(t, r.stderr); strings.Contains(r.stdout, code) {
		t.Fatal("the login talked on stdout, which belongs to the command")
	}
}
