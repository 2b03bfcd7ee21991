package keyring

// These tests drive a storage.Store with a Keyring as its mirror. Some
// swap go-keyring's global provider with MockInit: no t.Parallel here.

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/runcomfy/runcomfy/storage"
)

// countingBackend counts the calls that reach go-keyring's provider.
type countingBackend struct {
	osBackend
	mu    sync.Mutex
	calls []string
}

func (c *countingBackend) record(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, op)
}

func (c *countingBackend) Get(service, user string) (string, error) {
	c.record("get")
	return c.osBackend.Get(service, user)
}

func (c *countingBackend) Set(service, user, secret string) error {
	c.record("set")
	return c.osBackend.Set(service, user, secret)
}

func (c *countingBackend) Delete(service, user string) error {
	c.record("delete")
	return c.osBackend.Delete(service, user)
}

func (c *countingBackend) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := strings.Join(c.calls, ",")
	c.calls = nil
	return s
}

// mirroredStore is a Store over a temp home, in the environment vars,
// with mirror (nil for none) and a buffer for its warnings.
func mirroredStore(t *testing.T, vars map[string]string, mirror storage.Mirror) (*storage.Store, *strings.Builder) {
	t.Helper()
	warn := &strings.Builder{}
	s := &storage.Store{
		Env:  storage.Env{Getenv: func(k string) string { return vars[k] }, Home: t.TempDir(), GOOS: "linux"},
		Warn: warn,
		Now:  func() time.Time { return time.Unix(2_000_000_000, 0) },
	}
	if mirror != nil {
		s.Mirror = mirror
	}
	return s, warn
}

func tokenPath(t *testing.T, s *storage.Store) string {
	t.Helper()
	path, err := s.TokenPath()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStoreWritesBothAndFallsBackToKeyringLast(t *testing.T) {
	gokeyring.MockInit()
	vars := map[string]string{envBusAddress: "unix:path=/nonexistent/bus"}
	b := &countingBackend{}
	s, warn := mirroredStore(t, vars, testKeyring("linux", vars, b, DefaultTimeout))
	ctx := context.Background()

	if _, err := s.Save(ctx, storage.Token{AccessToken: "rc_both", UserEmail: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got := b.take(); got != "set" {
		t.Fatalf("Save called the keyring with %q, want set", got)
	}
	if got, _ := gokeyring.Get(Service, User); got != "rc_both" {
		t.Fatalf("keyring holds %q, want the access token alone", got)
	}

	// The file answers: the keyring is never asked.
	found, err := s.Resolve()
	if err != nil || found.Source != storage.SourceFile || b.take() != "" {
		t.Fatalf("Resolve = %v, %v; want the file, without the keyring", found.Source, err)
	}
	// The env var answers: the keyring is never asked.
	vars[storage.EnvToken] = "rc_env"
	found, err = s.Resolve()
	if err != nil || found.Source != storage.SourceEnv || b.take() != "" {
		t.Fatalf("Resolve = %v, %v; want the env var, without the keyring", found.Source, err)
	}
	delete(vars, storage.EnvToken)

	// Env and file miss: the keyring answers.
	if err := os.Remove(tokenPath(t, s)); err != nil {
		t.Fatal(err)
	}
	found, err = s.Resolve()
	if err != nil || found.Source != storage.SourceKeyring || found.Token.AccessToken != "rc_both" {
		t.Fatalf("Resolve = %+v, %v; want rc_both from the keyring", found, err)
	}
	if got := b.take(); got != "get" {
		t.Fatalf("Resolve called the keyring with %q, want get", got)
	}

	// Erase removes both.
	if _, err := s.Save(ctx, storage.Token{AccessToken: "rc_both"}); err != nil {
		t.Fatal(err)
	}
	erased, err := s.Erase(ctx, "")
	if err != nil || !erased {
		t.Fatalf("Erase = %v, %v", erased, err)
	}
	if _, err := gokeyring.Get(Service, User); !errors.Is(err, gokeyring.ErrNotFound) {
		t.Fatalf("keyring after Erase: %v, want not found", err)
	}
	if _, err := os.Stat(tokenPath(t, s)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("token.json after Erase: %v", err)
	}
	if _, err := s.Resolve(); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Resolve after Erase: %v, want ErrNotFound", err)
	}
	if warn.Len() != 0 {
		t.Fatalf("warnings: %q", warn)
	}
}

func TestStoreWithoutMirrorLeavesKeyringAlone(t *testing.T) {
	gokeyring.MockInit()
	if err := gokeyring.Set(Service, User, "rc_old"); err != nil {
		t.Fatal(err)
	}
	s, _ := mirroredStore(t, nil, nil)
	if _, err := s.Save(context.Background(), storage.Token{AccessToken: "rc_new"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Erase(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Resolve with the mirror off: %v, want ErrNotFound", err)
	}
	if got, _ := gokeyring.Get(Service, User); got != "rc_old" {
		t.Fatalf("keyring = %q, want it untouched", got)
	}
}

func TestStoreWithHangingKeyringKeepsTheFileAndWarnsOnce(t *testing.T) {
	b := blockingBackend(t)
	s, warn := mirroredStore(t, sessionBus, testKeyring("linux", sessionBus, b, 100*time.Millisecond))
	path := tokenPath(t, s)
	ctx := context.Background()

	saved, err := s.Save(ctx, storage.Token{AccessToken: "rc_kept"})
	if err != nil || !saved {
		t.Fatalf("Save = %v, %v; want saved despite the keyring", saved, err)
	}
	tok, err := storage.ReadTokenFile(path)
	if err != nil || tok.AccessToken != "rc_kept" {
		t.Fatalf("token.json = %q, %v", tok.AccessToken, err)
	}
	want := "warning: keyring: no answer within 100ms (is the Secret Service running?) (the token is saved in " + path + ")\n"
	if warn.String() != want {
		t.Fatalf("warnings:\n%q\nwant\n%q", warn, want)
	}

	warn.Reset()
	if found, err := s.Resolve(); err != nil || found.Source != storage.SourceFile || warn.Len() != 0 {
		t.Fatalf("Resolve = %v, %v, warnings %q; want the file, silently", found.Source, err, warn)
	}
	erased, err := s.Erase(ctx, "")
	if err != nil || !erased {
		t.Fatalf("Erase = %v, %v", erased, err)
	}
	if want := "warning: keyring: no answer within 100ms (is the Secret Service running?)\n"; warn.String() != want {
		t.Fatalf("warnings:\n%q\nwant\n%q", warn, want)
	}
	if n := b.count(); n != 1 {
		t.Fatalf("%d calls reached the hanging keyring, want 1", n)
	}
}

func TestStoreWithoutBusKeepsTheFileAndWarnsOnce(t *testing.T) {
	b := &fakeBackend{}
	s, warn := mirroredStore(t, nil, testKeyring("linux", nil, b, DefaultTimeout))
	path := tokenPath(t, s)
	if _, err := s.Save(context.Background(), storage.Token{AccessToken: "rc_kept"}); err != nil {
		t.Fatal(err)
	}
	want := "warning: keyring: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus); skipping the keyring (the token is saved in " + path + ")\n"
	if warn.String() != want {
		t.Fatalf("warnings:\n%q\nwant\n%q", warn, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), storage.TokenFile)); err != nil {
		t.Fatal(err)
	}
	if b.count() != 0 {
		t.Fatal("the keyring was called without a bus")
	}
}
