package keyring

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/internal/testutil"
)

// listenSilently is a session bus that hangs, at path; it returns the
// bus's D-Bus address.
func listenSilently(t *testing.T, path string) string {
	t.Helper()
	testutil.ListenSilently(t, path)
	return "unix:path=" + escapeBusValue(path)
}

// hangChildEnv marks the child process of TestHangingBusTimesOut.
const hangChildEnv = "RUNCOMFY_KEYRING_HANG_CHILD"

// TestHangingBusTimesOut points go-keyring's real D-Bus client at a bus
// that accepts and never answers: Set, Get and Delete must each give up
// with the timeout error. It runs in a child process because the other
// tests swap go-keyring's provider for its mock, for good.
func TestHangingBusTimesOut(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service is the keyring on Linux")
	}
	if os.Getenv(hangChildEnv) == "1" {
		hangingBusChild(t)
		return
	}
	addr := listenSilently(t, filepath.Join(t.TempDir(), "bus"))
	// A generous deadline: the test fails if the child hangs, never
	// because a slow machine took 2 s instead of 1.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHangingBusTimesOut$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), hangChildEnv+"=1", envBusAddress+"="+addr)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("keyring calls hung on a silent bus:\n%s", out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHangingBusTimesOut") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func hangingBusChild(t *testing.T) {
	if os.Getenv(envBusAddress) == "" {
		t.Fatal(envBusAddress + " is not set in the child")
	}
	ops := []struct {
		name string
		call func(*Keyring) error
	}{
		{"Set", func(k *Keyring) error { return k.Set("rc_hang_token") }},
		{"Get", func(k *Keyring) error { _, err := k.Get(); return err }},
		{"Delete", func(k *Keyring) error { return k.Delete() }},
	}
	for _, op := range ops {
		// A fresh Keyring each time, so each call reaches go-keyring
		// rather than failing fast on the first one's timeout.
		k := &Keyring{getenv: os.Getenv, goos: "linux", timeout: 300 * time.Millisecond, backend: osBackend{}}
		err := op.call(k)
		if !errors.Is(err, ErrTimeout) || err.Error() != "keyring: no answer within 300ms (is the Secret Service running?)" {
			t.Errorf("%s on a silent bus: %v, want the timeout error", op.name, err)
		}
	}
}
