// Package helper speaks the two credential-helper protocols through which
// other programs get the RunComfy token: docker's JSON protocol and git's
// key=value protocol. Each is one I/O-injected function; a main only wires
// stdin, stdout and the store to it.
//
// stdout is the protocol channel and nothing else: human words go to the
// Stderr writer. The token is only ever written for a host that Hosts
// allows.
package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/runcomfy/runcomfy/storage"
)

// Store is what the protocols need of the token store.
type Store interface {
	Resolve() (storage.Found, error)
	Save(ctx context.Context, t storage.Token) (saved bool, err error)
	Erase(ctx context.Context, match string) (erased bool, err error)
}

// Helper answers credential-helper requests.
type Helper struct {
	Store Store
	Hosts Hosts
	// Name is the program name used in messages and `version`.
	Name string
	// Version is printed by `version`.
	Version string
	// Stderr receives hints and warnings for people; nil discards them.
	Stderr io.Writer
	// StdinIsTerminal makes a helper say what it waits for instead of
	// hanging silently.
	StdinIsTerminal bool
	// Login, when non-nil, is called when a get finds no token: it may sign
	// the user in (and returns nil when it did), after which get resolves
	// again. It decides itself whether a login applies.
	Login func(ctx context.Context) error
}

// Exit codes (sysexits, as the official RunComfy CLI).
const (
	ExitOK      = 0
	ExitFailure = 1  // helper miss or protocol error
	ExitUsage   = 64 // EX_USAGE
	ExitData    = 65 // EX_DATAERR
	// ExitSoftware is EX_SOFTWARE: a bug, a panic caught by safely.
	ExitSoftware = 70
)

// Limits on what is read from stdin: no request is near them, and a
// helper must never be made to allocate without bound.
const (
	MaxInput = 1 << 20  // whole request
	MaxLine  = 64 << 10 // one git key=value line
)

// ErrCredentialsNotFound is docker's not-found error. The string is part
// of the protocol: docker's client package matches it exactly.
var ErrCredentialsNotFound = errors.New("credentials not found in native keychain")

// Error is a refused request, with the exit code it ends the process with.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func usageErr(format string, args ...any) error {
	return &Error{Code: ExitUsage, Msg: fmt.Sprintf(format, args...)}
}

// ExitCode maps an error returned by Docker or Git to the process exit code.
func ExitCode(err error) int {
	var e *Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &e):
		return e.Code
	default:
		return ExitFailure
	}
}

// safely runs f, and turns a panic into an error (ExitSoftware), with the
// stack on Stderr and the panic said by PanicKind. The stack shows
// functions and addresses, never the values of strings.
func (h *Helper) safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			h.hint("panic: %s", debug.Stack())
			err = &Error{Code: ExitSoftware, Msg: "internal error (a bug: please report it): " + PanicKind(r)}
		}
	}()
	return f()
}

// PanicKind says what a recovered panic value r was, without its content.
// A panic's value may quote what it choked on, and what a credential
// helper handles holds the secret: PanicKind gives the text of a runtime
// error (it holds types and indexes, never values) and of any other value
// only its type. Not redact: the lean helpers must not link it (regexp),
// and a pattern can miss a secret that a type cannot hold.
func PanicKind(r any) string {
	if re, ok := r.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("a panic with a %T", r)
}

func (h *Helper) hint(format string, args ...any) {
	if h.Stderr != nil {
		fmt.Fprintf(h.Stderr, h.Name+": "+format+"\n", args...)
	}
}

// readInput reads all of in, refusing more than MaxInput bytes.
func readInput(in io.Reader, code int) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(in, MaxInput+1))
	if err != nil {
		return nil, &Error{Code: code, Msg: "read stdin: " + err.Error()}
	}
	if len(data) > MaxInput {
		return nil, &Error{Code: code, Msg: "input exceeds 1 MiB"}
	}
	return data, nil
}

// resolve finds the token, asking Login once when there is none. A login
// that fails is reported on Stderr and answered as a miss: the caller's
// protocol has no other word for it.
func (h *Helper) resolve(ctx context.Context) (storage.Found, error) {
	found, err := h.Store.Resolve()
	if !errors.Is(err, storage.ErrNotFound) || h.Login == nil {
		return found, err
	}
	if err := h.Login(ctx); err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			h.hint("%v", err)
		}
		return storage.Found{}, storage.ErrNotFound
	}
	return h.Store.Resolve()
}

// username is the name to present with the token: the stored email when it
// is safe to put on a protocol line, else "runcomfy".
func username(t storage.Token) string {
	if t.UserEmail != "" && storage.ValidSecret(t.UserEmail) {
		return t.UserEmail
	}
	return "runcomfy"
}
