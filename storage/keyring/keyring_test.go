package keyring

// go-keyring's MockInit and MockInitWithError swap one package-level
// provider: the tests that use them must not run in parallel, and none of
// the tests in this package calls t.Parallel. A swapped provider stays
// for the rest of the test binary, so the test that needs the real D-Bus
// client (TestHangingBusTimesOut) runs in a child process.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/runcomfy/runcomfy/storage"
)

// fakeBackend is a keyring in memory that counts calls, fails with err,
// and, when block is non-nil, waits for it to close before answering.
type fakeBackend struct {
	mu     sync.Mutex
	secret string
	has    bool
	err    error
	calls  int
	block  chan struct{}
}

func (f *fakeBackend) enter() error {
	f.mu.Lock()
	f.calls++
	block, err := f.block, f.err
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	return err
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	if err := f.enter(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.has {
		return "", gokeyring.ErrNotFound
	}
	return f.secret, nil
}

func (f *fakeBackend) Set(service, user, secret string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secret, f.has = secret, true
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.has {
		return gokeyring.ErrNotFound
	}
	f.secret, f.has = "", false
	return nil
}

func (f *fakeBackend) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// blockingBackend is a fakeBackend that never answers until the test ends.
func blockingBackend(t *testing.T) *fakeBackend {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	return &fakeBackend{block: block}
}

// sessionBus is an environment in which a session bus seems to exist.
var sessionBus = map[string]string{envBusAddress: "unix:path=/nonexistent/bus"}

// testKeyring is a Keyring over b in the environment vars, on goos. It
// never touches the process environment.
func testKeyring(goos string, vars map[string]string, b backend, timeout time.Duration) *Keyring {
	return &Keyring{getenv: func(k string) string { return vars[k] }, goos: goos, timeout: timeout, backend: b}
}

// mockKeyring is a Keyring over go-keyring's package-level provider,
// which the caller has swapped with MockInit or MockInitWithError.
func mockKeyring() *Keyring {
	return testKeyring("linux", sessionBus, osBackend{}, DefaultTimeout)
}

func TestMockRoundTrip(t *testing.T) {
	gokeyring.MockInit()
	k := mockKeyring()
	if _, err := k.Get(); !errors.Is(err, storage.ErrMirrorNotFound) {
		t.Fatalf("Get on an empty keyring: %v, want ErrMirrorNotFound", err)
	}
	for _, tok := range []string{"rc_first", "rc_second"} {
		if err := k.Set(tok); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Get(); got != tok || err != nil {
			t.Fatalf("Get = %q, %v; want %q", got, err, tok)
		}
	}
	if got, _ := gokeyring.Get(Service, User); got != "rc_second" {
		t.Fatalf("entry %s/%s = %q, want the token alone", Service, User, got)
	}
	if err := k.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(); !errors.Is(err, storage.ErrMirrorNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrMirrorNotFound", err)
	}
	if err := k.Delete(); err != nil {
		t.Fatalf("Delete of nothing: %v, want nil", err)
	}
}

func TestErrorMapping(t *testing.T) {
	const tok = "rc_secret_0123456789"
	tests := []struct {
		name                   string
		err                    error
		get, set, del          string // "" means no error
		getIs, setIs, deleteIs error
	}{
		{
			name:  "not found",
			err:   gokeyring.ErrNotFound,
			get:   storage.ErrMirrorNotFound.Error(),
			getIs: storage.ErrMirrorNotFound,
			set:   "keyring: cannot store the token: secret not found in keyring",
			setIs: gokeyring.ErrNotFound,
		},
		{
			name:  "too big",
			err:   gokeyring.ErrSetDataTooBig,
			get:   "keyring: cannot read the token: data passed to Set was too big",
			set:   "keyring: the token is too big for this keyring (20 bytes; Windows allows 2,560, macOS about 3 KB); not stored in the keyring",
			del:   "keyring: cannot remove the token: data passed to Set was too big",
			setIs: ErrTooBig,
		},
		{
			name:     "unsupported platform",
			err:      gokeyring.ErrUnsupportedPlatform,
			get:      "keyring: not supported on linux in this build",
			set:      "keyring: not supported on linux in this build",
			del:      "keyring: not supported on linux in this build",
			getIs:    ErrUnsupported,
			setIs:    gokeyring.ErrUnsupportedPlatform,
			deleteIs: ErrUnsupported,
		},
		{
			name: "no secret service on the bus",
			err:  errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
			get:  "keyring: no Secret Service on the D-Bus session bus (start gnome-keyring, KeePassXC or another)",
			set:  "keyring: no Secret Service on the D-Bus session bus (start gnome-keyring, KeePassXC or another)",
			del:  "keyring: no Secret Service on the D-Bus session bus (start gnome-keyring, KeePassXC or another)",
		},
		{
			name: "platform error folded onto one line",
			err:  errors.New("failed to unlock correct collection\n\t'/org/freedesktop/secrets/aliases/default'\n"),
			get:  "keyring: cannot read the token: failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'",
			set:  "keyring: cannot store the token: failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'",
			del:  "keyring: cannot remove the token: failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'",
		},
		{
			name: "platform error never quotes the token",
			err:  errors.New("rejected secret " + tok),
			get:  "keyring: cannot read the token: rejected secret " + tok,
			set:  "keyring: cannot store the token: rejected secret [token]",
			del:  "keyring: cannot remove the token: rejected secret " + tok,
		},
	}
	check := func(t *testing.T, op string, err error, want string, is error) {
		t.Helper()
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v, want nil", op, err)
		case want != "" && (err == nil || err.Error() != want):
			t.Errorf("%s: %v\nwant %s", op, err, want)
		case is != nil && !errors.Is(err, is):
			t.Errorf("%s: %v is not %v", op, err, is)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gokeyring.MockInitWithError(tt.err)
			k := mockKeyring()
			_, err := k.Get()
			check(t, "Get", err, tt.get, tt.getIs)
			check(t, "Set", k.Set(tok), tt.set, tt.setIs)
			check(t, "Delete", k.Delete(), tt.del, tt.deleteIs)
		})
	}
}

func TestSizeLimitIsCheckedBeforeTheKeyring(t *testing.T) {
	tests := []struct {
		goos    string
		size    int
		tooBig  bool
		message string
	}{
		{"windows", 2560, false, ""},
		{"windows", 2561, true, "keyring: the token is too big for this keyring (2561 bytes; Windows allows 2,560, macOS about 3 KB); not stored in the keyring"},
		{"darwin", 2987, false, ""},
		{"darwin", 2988, true, "keyring: the token is too big for this keyring (2988 bytes; Windows allows 2,560, macOS about 3 KB); not stored in the keyring"},
		{"linux", 100_000, false, ""},
	}
	for _, tt := range tests {
		b := &fakeBackend{}
		k := testKeyring(tt.goos, sessionBus, b, DefaultTimeout)
		err := k.Set(strings.Repeat("x", tt.size))
		if !tt.tooBig {
			if err != nil || b.count() != 1 {
				t.Errorf("%s, %d bytes: %v after %d calls; want stored", tt.goos, tt.size, err, b.count())
			}
			continue
		}
		if err == nil || err.Error() != tt.message || !errors.Is(err, ErrTooBig) {
			t.Errorf("%s, %d bytes: %v\nwant %s", tt.goos, tt.size, err, tt.message)
		}
		if b.count() != 0 {
			t.Errorf("%s, %d bytes: the keyring was called", tt.goos, tt.size)
		}
	}
}

func TestNoSessionBusSkipsTheKeyring(t *testing.T) {
	runtimeDir := t.TempDir()
	listenSilently(t, filepath.Join(runtimeDir, "bus"))
	fileDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(fileDir, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const noBus = "keyring: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus); skipping the keyring"
	tests := []struct {
		name       string
		goos       string
		vars       map[string]string
		skipped    bool
		exportsBus bool
	}{
		{"linux without a bus", "linux", nil, true, false},
		{"autolaunch is no address", "linux", map[string]string{envBusAddress: "autolaunch:"}, true, false},
		{"XDG_RUNTIME_DIR without bus", "linux", map[string]string{envRuntimeDir: t.TempDir()}, true, false},
		{"a file named bus is no bus", "linux", map[string]string{envRuntimeDir: fileDir}, true, false},
		{"BSDs too", "openbsd", nil, true, false},
		{"DBUS_SESSION_BUS_ADDRESS", "linux", sessionBus, false, false},
		{"XDG_RUNTIME_DIR/bus", "linux", map[string]string{envRuntimeDir: runtimeDir}, false, true},
		{"macOS needs no bus", "darwin", nil, false, false},
		{"Windows needs no bus", "windows", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &fakeBackend{}
			k := testKeyring(tt.goos, tt.vars, b, DefaultTimeout)
			exported := map[string]string{}
			k.setenv = func(key, value string) error { exported[key] = value; return nil }
			err := k.Set("rc_token")
			if !tt.skipped {
				if err != nil || b.count() != 1 {
					t.Fatalf("Set: %v after %d calls; want stored", err, b.count())
				}
			} else {
				if err == nil || err.Error() != noBus || !errors.Is(err, ErrNoBus) {
					t.Fatalf("Set: %v\nwant %s", err, noBus)
				}
				if _, err := k.Get(); !errors.Is(err, ErrNoBus) {
					t.Fatalf("Get: %v, want ErrNoBus", err)
				}
				if err := k.Delete(); !errors.Is(err, ErrNoBus) {
					t.Fatalf("Delete: %v, want ErrNoBus", err)
				}
				if b.count() != 0 {
					t.Fatal("the keyring was called without a bus: go-keyring would launch one")
				}
			}
			want := map[string]string{}
			if tt.exportsBus {
				want[envBusAddress] = "unix:path=" + escapeBusValue(filepath.Join(runtimeDir, "bus"))
			}
			if len(exported) != len(want) || exported[envBusAddress] != want[envBusAddress] {
				t.Fatalf("exported %v, want %v", exported, want)
			}
		})
	}
}

func TestEscapeBusValue(t *testing.T) {
	if got, want := escapeBusValue("/run/user/1000/bus"), "/run/user/1000/bus"; got != want {
		t.Errorf("escapeBusValue = %q, want %q", got, want)
	}
	if got, want := escapeBusValue("/tmp/a b,c=d;%"), "/tmp/a%20b%2cc%3dd%3b%25"; got != want {
		t.Errorf("escapeBusValue = %q, want %q", got, want)
	}
}

func TestTimeoutThenFailFast(t *testing.T) {
	for _, tt := range []struct {
		goos, want string
	}{
		{"linux", "keyring: no answer within 50ms (is the Secret Service running?)"},
		{"windows", "keyring: no answer within 50ms"},
	} {
		b := blockingBackend(t)
		k := testKeyring(tt.goos, sessionBus, b, 50*time.Millisecond)
		err := k.Set("rc_token")
		if err == nil || err.Error() != tt.want || !errors.Is(err, ErrTimeout) {
			t.Fatalf("%s: Set: %v\nwant %s", tt.goos, err, tt.want)
		}
		// The stuck call holds go-keyring's D-Bus connection: later calls
		// fail at once with the same error instead of waiting again.
		if _, err := k.Get(); err == nil || err.Error() != tt.want {
			t.Fatalf("%s: Get after a timeout: %v", tt.goos, err)
		}
		if err := k.Delete(); err == nil || err.Error() != tt.want {
			t.Fatalf("%s: Delete after a timeout: %v", tt.goos, err)
		}
		if n := b.count(); n != 1 {
			t.Fatalf("%s: %d calls reached the keyring, want 1", tt.goos, n)
		}
	}
}

func TestDefaultTimeoutMessage(t *testing.T) {
	k := ForEnv(func(string) string { return "" }, "linux")
	if got, want := k.timeoutError().Error(), "keyring: no answer within 3s (is the Secret Service running?)"; got != want {
		t.Fatalf("timeout error = %q, want %q", got, want)
	}
}

func TestLateAnswerIsDropped(t *testing.T) {
	block := make(chan struct{})
	b := &fakeBackend{block: block, secret: "rc_late", has: true}
	k := testKeyring("linux", sessionBus, b, 20*time.Millisecond)
	tok, err := k.Get()
	close(block) // the backend answers now, after the caller gave up
	if tok != "" || !errors.Is(err, ErrTimeout) {
		t.Fatalf("Get = %q, %v; want \"\", ErrTimeout", tok, err)
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name   string
		stored string
		want   string
		err    error
		status string
	}{
		{"same token", "rc_a", "rc_a", nil, "reachable, holds the same token as token.json"},
		{"different token", "rc_a", "rc_b", nil, "reachable, holds a different token than token.json"},
		{"nothing to compare", "rc_a", "", nil, "reachable, holds a token"},
		{"empty keyring", "", "rc_a", nil, "reachable, holds no token"},
		{"unreachable", "", "rc_a", errors.New("connection refused"), "not reachable: cannot read the token: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &fakeBackend{secret: tt.stored, has: tt.stored != "", err: tt.err}
			st := testKeyring("linux", sessionBus, b, DefaultTimeout).Status(tt.want)
			if got := st.String(); got != tt.status {
				t.Fatalf("Status = %q, want %q", got, tt.status)
			}
			if st.HasToken != (tt.stored != "" && tt.err == nil) || st.Matches != (tt.stored != "" && tt.stored == tt.want) {
				t.Fatalf("Status = %+v", st)
			}
			if strings.Contains(st.String(), "rc_") {
				t.Fatalf("Status quotes the token: %q", st)
			}
		})
	}
}

func TestStatusWithoutBus(t *testing.T) {
	st := testKeyring("linux", nil, &fakeBackend{}, DefaultTimeout).Status("rc_a")
	want := "not reachable: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus); skipping the keyring"
	if st.String() != want || !errors.Is(st.Err, ErrNoBus) {
		t.Fatalf("Status = %q, want %q", st, want)
	}
}
