// Package keyring mirrors the RunComfy access token into the OS keyring —
// the macOS Keychain, the Windows Credential Manager, the Secret Service
// on Linux and the BSDs — through github.com/zalando/go-keyring. A
// *Keyring is a storage.Mirror.
//
// Every call to the keyring goes through one wrapper, Keyring.call, that
// races it against a timeout: a Secret Service bus that accepts a
// connection and never answers would otherwise block the command forever.
// Failures come back as one-line errors starting with "keyring: ", ready
// for the Store to print as a warning; none of them holds the token.
package keyring

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/runcomfy/runcomfy/storage"
)

// The keyring entry: go-keyring stores it under these two names (on the
// Secret Service, as the attributes "service" and "username").
const (
	Service = "runcomfy"
	User    = "token"
)

// DefaultTimeout bounds every keyring call.
const DefaultTimeout = 3 * time.Second

// Size limits of a secret, in bytes, checked before the keyring is called.
const (
	// windowsLimit is CRED_MAX_CREDENTIAL_BLOB_SIZE (5*512).
	windowsLimit = 2560
	// darwinLimit is go-keyring's bound for service, account and secret
	// together: they go base64-encoded into one `security -i` command
	// line of at most 4 KiB.
	darwinLimit = 3000
)

// The D-Bus session bus, as the Secret Service clients find it.
const (
	envBusAddress = "DBUS_SESSION_BUS_ADDRESS"
	envRuntimeDir = "XDG_RUNTIME_DIR"
)

// Reasons a keyring call failed; test them with errors.Is. Their own text
// is never shown: an *Error carries the message.
var (
	ErrTimeout     = errors.New("keyring: no answer")
	ErrNoBus       = errors.New("keyring: no D-Bus session bus")
	ErrTooBig      = errors.New("keyring: the token is too big")
	ErrUnsupported = errors.New("keyring: not supported on this system")
)

// Error is a keyring failure as one line that starts with "keyring: ".
// It unwraps to its Reason (one of the Err values above, or nil for any
// other failure of the platform) and to the platform's error, if any.
type Error struct {
	Reason error
	Err    error
	msg    string
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the reason and the platform's error.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Reason, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// backend is the OS keyring as go-keyring exposes it. Tests put a fake
// that blocks or counts calls behind it.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// osBackend is go-keyring's package-level provider: the real keyring, or
// the in-memory one after gokeyring.MockInit.
type osBackend struct{}

func (osBackend) Get(service, user string) (string, error) { return gokeyring.Get(service, user) }
func (osBackend) Set(service, user, secret string) error   { return gokeyring.Set(service, user, secret) }
func (osBackend) Delete(service, user string) error        { return gokeyring.Delete(service, user) }

// Keyring is the OS keyring entry of service "runcomfy", user "token",
// holding the access token alone. It implements storage.Mirror. Use
// ForEnv; it is safe for concurrent use.
type Keyring struct {
	getenv  func(string) string
	goos    string
	timeout time.Duration
	backend backend
	// setenv exports the session bus address found under
	// $XDG_RUNTIME_DIR to the process, where go-keyring's D-Bus client
	// reads it; nil leaves the environment alone (tests).
	setenv func(key, value string) error

	mu sync.Mutex
	// stuck is the error of a call that timed out. Later calls return it
	// at once: go-keyring shares one D-Bus connection per process, and
	// the stuck call holds its lock, so they would only wait out the
	// timeout again.
	stuck error
}

var _ storage.Mirror = (*Keyring)(nil)

// ForEnv returns the keyring of this machine, with calls bounded by
// DefaultTimeout. getenv is the process's environment (os.Getenv, or a
// view of it): go-keyring's D-Bus client reads the real one. goos is
// runtime.GOOS, injectable for tests. It does no I/O.
func ForEnv(getenv func(string) string, goos string) *Keyring {
	return &Keyring{getenv: getenv, goos: goos, timeout: DefaultTimeout, backend: osBackend{}, setenv: os.Setenv}
}

// Get returns the token, or storage.ErrMirrorNotFound.
func (k *Keyring) Get() (string, error) {
	tok, err := k.call(func(b backend) (string, error) { return b.Get(Service, User) })
	if errors.Is(err, gokeyring.ErrNotFound) {
		return "", storage.ErrMirrorNotFound
	}
	if err != nil {
		return "", k.mapError("read", err, "")
	}
	return tok, nil
}

// Set stores the token, replacing any other. A token over the platform's
// size limit is refused before the keyring is called.
func (k *Keyring) Set(token string) error {
	if limit := k.sizeLimit(); limit > 0 && len(token) > limit {
		return tooBig(len(token))
	}
	_, err := k.call(func(b backend) (string, error) { return "", b.Set(Service, User, token) })
	if err != nil {
		return k.mapError("store", err, token)
	}
	return nil
}

// Delete removes the token; absent is not an error.
func (k *Keyring) Delete() error {
	_, err := k.call(func(b backend) (string, error) { return "", b.Delete(Service, User) })
	if err != nil && !errors.Is(err, gokeyring.ErrNotFound) {
		return k.mapError("remove", err, "")
	}
	return nil
}

// Status is what `runcomfy status` shows of the keyring. It never holds
// the token.
type Status struct {
	// Err is why the keyring could not be read, one line starting with
	// "keyring: "; nil when it answered.
	Err error
	// HasToken reports whether the keyring holds a token for runcomfy.
	HasToken bool
	// Matches reports whether that token equals the one Status compared
	// it with.
	Matches bool

	compared bool
}

// Status reads the keyring once, under the same timeout as every call,
// and compares its token with want (token.json's, usually). An empty
// want compares with nothing.
func (k *Keyring) Status(want string) Status {
	tok, err := k.Get()
	switch {
	case errors.Is(err, storage.ErrMirrorNotFound):
		return Status{}
	case err != nil:
		return Status{Err: err}
	}
	return Status{HasToken: true, Matches: want != "" && tok == want, compared: want != ""}
}

// String describes the status in a few words, for `runcomfy status`:
// "reachable, holds the same token as token.json", "not reachable: no
// answer within 3s (…)".
func (s Status) String() string {
	switch {
	case s.Err != nil:
		return "not reachable: " + strings.TrimPrefix(s.Err.Error(), "keyring: ")
	case !s.HasToken:
		return "reachable, holds no token"
	case !s.compared:
		return "reachable, holds a token"
	case s.Matches:
		return "reachable, holds the same token as " + storage.TokenFile
	default:
		return "reachable, holds a different token than " + storage.TokenFile
	}
}

// result is what one backend call returned.
type result struct {
	secret string
	err    error
}

// call runs f on the backend, raced against the timeout. It is the only
// way to the backend. f runs on its own goroutine and reports on a
// buffered channel that only this call reads: a call that answers after
// the timeout leaves its result there, where nothing sees it, and writes
// nothing else.
func (k *Keyring) call(f func(backend) (string, error)) (string, error) {
	if err := k.unavailable(); err != nil {
		return "", err
	}
	b := k.backend
	done := make(chan result, 1)
	go func() {
		secret, err := f(b)
		done <- result{secret, err}
	}()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.secret, r.err
	case <-timer.C:
		err := k.timeoutError()
		k.mu.Lock()
		k.stuck = err
		k.mu.Unlock()
		return "", err
	}
}

// unavailable says why the keyring must not be called now: an earlier
// call is stuck, or there is no session bus to reach the Secret Service.
func (k *Keyring) unavailable() error {
	k.mu.Lock()
	stuck := k.stuck
	k.mu.Unlock()
	if stuck != nil {
		return stuck
	}
	if !usesSecretService(k.goos) {
		return nil
	}
	if addr := k.env(envBusAddress); addr != "" && addr != "autolaunch:" {
		return nil
	}
	if dir := k.env(envRuntimeDir); dir != "" {
		bus := filepath.Join(dir, "bus")
		if fi, err := os.Stat(bus); err == nil && fi.Mode().Type() == os.ModeSocket {
			// godbus looks for /run/user/<uid>/bus, not $XDG_RUNTIME_DIR/bus,
			// and launches a bus of its own when that is missing. Name the
			// one found, as libdbus and sd-bus would use it; godbus itself
			// exports the address it finds in the same way.
			if k.setenv != nil {
				if err := k.setenv(envBusAddress, "unix:path="+escapeBusValue(bus)); err != nil {
					return &Error{Reason: ErrNoBus, Err: err, msg: "keyring: cannot name the D-Bus session bus: " + oneLine(err.Error())}
				}
			}
			return nil
		}
	}
	// go-keyring would run dbus-launch, leaving a D-Bus daemon and a
	// gnome-keyring behind that outlive the command.
	return &Error{Reason: ErrNoBus, msg: "keyring: no D-Bus session bus (" + envBusAddress + " unset, no $" + envRuntimeDir + "/bus); skipping the keyring"}
}

// env looks a variable up; a nil getenv means none is set.
func (k *Keyring) env(key string) string {
	if k.getenv == nil {
		return ""
	}
	return k.getenv(key)
}

func (k *Keyring) timeoutError() error {
	msg := fmt.Sprintf("keyring: no answer within %s", k.timeout)
	if usesSecretService(k.goos) {
		msg += " (is the Secret Service running?)"
	}
	return &Error{Reason: ErrTimeout, msg: msg}
}

// sizeLimit is the largest token the platform's keyring takes; 0 means
// no limit worth checking (the Secret Service takes megabytes).
func (k *Keyring) sizeLimit() int {
	switch k.goos {
	case "windows":
		return windowsLimit
	case "darwin":
		return darwinLimit - len(Service) - len(User)
	}
	return 0
}

func tooBig(n int) error {
	return &Error{Reason: ErrTooBig, msg: fmt.Sprintf("keyring: the token is too big for this keyring (%d bytes; Windows allows 2,560, macOS about 3 KB); not stored in the keyring", n)}
}

// mapError turns what call returned into one line. token is what Set
// stored, "" for the other operations.
func (k *Keyring) mapError(op string, err error, token string) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, gokeyring.ErrSetDataTooBig) && op == "store":
		return tooBig(len(token))
	case errors.Is(err, gokeyring.ErrUnsupportedPlatform):
		return &Error{Reason: ErrUnsupported, Err: err, msg: "keyring: not supported on " + k.goos + " in this build"}
	case strings.Contains(err.Error(), "org.freedesktop.secrets"):
		// The bus answered, but no Secret Service owns its name.
		return &Error{Err: err, msg: "keyring: no Secret Service on the D-Bus session bus (start gnome-keyring, KeePassXC or another)"}
	}
	msg := oneLine(err.Error())
	if token != "" {
		// Belt and braces: no platform message should quote the secret.
		msg = strings.ReplaceAll(msg, token, "[token]")
	}
	return &Error{Err: err, msg: fmt.Sprintf("keyring: cannot %s the token: %s", op, msg)}
}

// usesSecretService reports whether go-keyring talks to the Secret
// Service over D-Bus on goos.
func usesSecretService(goos string) bool {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return true
	}
	return false
}

// oneLine folds a platform message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// escapeBusValue escapes a D-Bus address value: bytes outside
// [-0-9A-Za-z_/.\*] become %xx (D-Bus specification, "Server Addresses").
func escapeBusValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(`-_/.\*`, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}
