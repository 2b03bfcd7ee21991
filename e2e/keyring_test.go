//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/devserver"
	"github.com/runcomfy/runcomfy/internal/testutil"
)

// warnings returns the lines of stderr that are warnings.
func warnings(stderr string) []string {
	var w []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "warning:") {
			w = append(w, line)
		}
	}
	return w
}

// secretServiceScript starts an unlocked gnome-keyring on the private
// session bus that dbus-run-session gives it, waits until it owns the
// Secret Service's name, reports the bus, and lives until its stdin
// closes; dbus-run-session then stops the bus, and the keyring with it.
const secretServiceScript = `set -e
eval "$(printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; do
	i=$((i+1))
	if [ "$i" -gt 100 ]; then echo "gnome-keyring-daemon never took org.freedesktop.secrets" >&2; exit 1; fi
	sleep 0.1
done
echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"
echo "GNOME_KEYRING_CONTROL=$GNOME_KEYRING_CONTROL"
echo ready
exec cat >/dev/null
`

// startSecretService runs a private D-Bus session bus with an unlocked
// gnome-keyring for s, and sets s's environment to reach it. The whole
// tree runs in its own process group, killed when the test ends; every
// process started carries a marker in its environment, and the test fails
// if one outlives it.
func startSecretService(t *testing.T, s *sandbox) {
	t.Helper()
	for _, tool := range []string{"dbus-run-session", "dbus-send", "gnome-keyring-daemon", "secret-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian packages gnome-keyring dbus-x11 libsecret-tools", tool)
		}
	}
	marker := make([]byte, 8)
	if _, err := rand.Read(marker); err != nil {
		t.Fatal(err)
	}
	markerVar := "RUNCOMFY_E2E_KEYRING=" + hex.EncodeToString(marker)

	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", secretServiceScript)
	cmd.Env = append(s.environ(), markerVar, "KEYRING_PASSWORD=e2e-password")
	cmd.Dir = s.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A daemon that escaped the group must not keep Wait on its pipes.
	cmd.WaitDelay = 2 * time.Second
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { stopSecretService(t, stdin, exited, pgid, markerVar) })

	env := map[string]string{}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" {
				ready <- nil
				return
			}
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		ready <- errors.New("the session bus script ended before it was ready")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("%v\nstderr: %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no Secret Service within 30 s\nstderr: %s", stderr.String())
	}
	if env["DBUS_SESSION_BUS_ADDRESS"] == "" {
		t.Fatalf("the session bus script printed no address\nstderr: %s", stderr.String())
	}
	s.env["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SESSION_BUS_ADDRESS"]
	s.env["GNOME_KEYRING_CONTROL"] = env["GNOME_KEYRING_CONTROL"]
}

// stopSecretService ends the session: stdin closes (the script exits,
// dbus-run-session stops the bus), then the process group is killed, and
// no process carrying marker may remain.
func stopSecretService(t *testing.T, stdin interface{ Close() error }, exited <-chan struct{}, pgid int, marker string) {
	_ = stdin.Close()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("dbus-run-session did not end within 10 s of its script")
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill process group %d: %v", pgid, err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("dbus-run-session survived SIGKILL for 10 s")
	}
	var left []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left = liveProcessesWith(marker)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, pid := range left {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		t.Errorf("a daemon outlived the test: pid %d: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// liveProcessesWith lists the processes, zombies aside, whose environment
// holds the variable assignment marker.
func liveProcessesWith(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append(append([]byte{0}, environ...), 0), []byte("\x00"+marker+"\x00")) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// lookupKeyring asks the Secret Service for runcomfy's entry the way any
// other client would, by the attributes go-keyring stores.
func lookupKeyring(s *sandbox) result {
	s.t.Helper()
	return s.runWithin(20*time.Second, "", "secret-tool", "lookup", "service", "runcomfy", "username", "token")
}

func TestKeyringRealSecretService(t *testing.T) {
	s := newSandbox(t)
	startSecretService(t, s)
	s.env["RUNCOMFY_KEYRING"] = "1"
	const token = "rc_keyring_e2e_0123456789"
	deadline := 20 * time.Second

	r := s.runWithin(deadline, `{"ServerURL":"https://www.runcomfy.com","Username":"ada@example.com","Secret":"`+token+`"}`, "docker-credential-runcomfy", "store")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("store = %+v; want exit 0, silent", r)
	}
	if !strings.Contains(s.readToken(), token) {
		t.Fatalf("token.json after store: %s", s.readToken())
	}
	if r := lookupKeyring(s); r.code != 0 || strings.TrimSpace(r.stdout) != token {
		t.Fatalf("secret-tool lookup after store = %+v; want the token (is the keyring wired to RUNCOMFY_KEYRING?)", r)
	}

	if err := os.Remove(s.tokenPath()); err != nil {
		t.Fatal(err)
	}
	r = s.runWithin(deadline, "https://www.runcomfy.com\n", "docker-credential-runcomfy", "get")
	want := `{"ServerURL":"https://www.runcomfy.com","Username":"runcomfy","Secret":"` + token + `"}`
	if r.code != 0 || strings.TrimSpace(r.stdout) != want || r.stderr != "" {
		t.Fatalf("get with token.json gone = %+v; want %s from the keyring", r, want)
	}

	if r := s.runWithin(deadline, "", "runcomfy", "logout"); r.code != 0 || len(warnings(r.stderr)) != 0 {
		t.Fatalf("logout = %+v", r)
	}
	if r := lookupKeyring(s); r.code == 0 || r.stdout != "" {
		t.Fatalf("secret-tool lookup after logout = %+v; want nothing", r)
	}
	r = s.runWithin(deadline, "https://www.runcomfy.com\n", "docker-credential-runcomfy", "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != "credentials not found in native keychain" {
		t.Fatalf("get after logout = %+v; want not found", r)
	}
}

// TestKeyringLoginFlag turns the mirror on with `login --keyring`, which
// config.json remembers, sees it in status, and off with --no-keyring.
func TestKeyringLoginFlag(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{})
	startSecretService(t, s)
	token := dev.MintToken("ada@example.com")
	deadline := 20 * time.Second

	r := s.runWithin(deadline, token+"\n", "runcomfy", "login", "--with-token", "--keyring")
	if r.code != 0 || len(warnings(r.stderr)) != 0 {
		t.Fatalf("login --keyring = %+v", r)
	}
	if r := lookupKeyring(s); strings.TrimSpace(r.stdout) != token {
		t.Fatalf("keyring after login --keyring = %+v", r)
	}
	if m := s.mode(filepath.Join(s.configDir(), "config.json")); m != 0o600 {
		t.Fatalf("config.json mode %04o", m)
	}
	r = s.runWithin(deadline, "", "runcomfy", "status")
	if !strings.Contains(r.stdout, "keyring:           on, reachable, holds the same token as token.json\n") {
		t.Fatalf("status = %+v", r)
	}
	r = s.runWithin(deadline, "", "runcomfy", "status", "--json")
	if !strings.Contains(r.stdout, `"keyring": {
    "enabled": true,
    "reachable": true,
    "error": "",
    "has_token": true,
    "matches_file": true,
    "in_use": false
  }`) {
		t.Fatalf("status --json = %+v", r)
	}
	// Remembered: a later store goes to the keyring without the env var.
	const next = "rc_keyring_second_98765"
	s.runWithin(deadline, `{"ServerURL":"https://www.runcomfy.com","Username":"ada@example.com","Secret":"`+next+`"}`, "docker-credential-runcomfy", "store")
	if r := lookupKeyring(s); strings.TrimSpace(r.stdout) != next {
		t.Fatalf("keyring after a later store = %+v", r)
	}

	r = s.runWithin(deadline, token+"\n", "runcomfy", "login", "--with-token", "--no-keyring")
	if r.code != 0 || len(warnings(r.stderr)) != 0 {
		t.Fatalf("login --no-keyring = %+v", r)
	}
	if r := lookupKeyring(s); r.code == 0 || r.stdout != "" {
		t.Fatalf("keyring after --no-keyring = %+v; want nothing", r)
	}
	r = s.runWithin(deadline, "", "runcomfy", "status")
	if !strings.Contains(r.stdout, "keyring:           off (turn it on with `runcomfy login --keyring` or RUNCOMFY_KEYRING=1)\n") {
		t.Fatalf("status = %+v", r)
	}
}

func TestKeyringHangingBusNeverHangsACommand(t *testing.T) {
	s := newSandbox(t)
	sock := filepath.Join(t.TempDir(), "bus")
	testutil.ListenSilently(t, sock)
	s.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + sock
	s.env["RUNCOMFY_KEYRING"] = "1"
	const token = "rc_keyring_hang_0123456789"
	deadline := 20 * time.Second
	oneWarning := func(step string, r result) {
		t.Helper()
		w := warnings(r.stderr)
		if len(w) != 1 || !strings.HasPrefix(w[0], "warning: keyring: no answer within 3s") {
			t.Fatalf("%s: stderr %q; want exactly one keyring timeout warning (is the keyring wired to RUNCOMFY_KEYRING?)", step, r.stderr)
		}
	}

	r := s.runWithin(deadline, `{"ServerURL":"https://www.runcomfy.com","Username":"<token>","Secret":"`+token+`"}`, "docker-credential-runcomfy", "store")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("store = %+v; want exit 0", r)
	}
	if !strings.Contains(s.readToken(), token) {
		t.Fatalf("token.json after store: %s", s.readToken())
	}
	oneWarning("store", r)

	// The file answers: the keyring is never asked.
	r = s.runWithin(deadline, "https://www.runcomfy.com\n", "docker-credential-runcomfy", "get")
	if r.code != 0 || !strings.Contains(r.stdout, token) || r.stderr != "" {
		t.Fatalf("get = %+v; want the token from token.json, no warning", r)
	}

	r = s.runWithin(deadline, "", "runcomfy", "logout")
	if r.code != 0 {
		t.Fatalf("logout = %+v; want exit 0", r)
	}
	oneWarning("logout", r)
	if s.readToken() != "<none>" {
		t.Fatalf("token.json after logout: %s", s.readToken())
	}
}
