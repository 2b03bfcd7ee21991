package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/runcomfy/runcomfy/devicecode"
	"github.com/runcomfy/runcomfy/helper"
	"github.com/runcomfy/runcomfy/storage"
)

// Exit codes, sysexits as the official RunComfy CLI. This file is the one
// place that decides why runcomfy exits with what.
const (
	exitOK          = 0
	exitFailure     = 1   // helper miss, protocol error, anything else
	exitUsage       = 64  // EX_USAGE: bad command line
	exitData        = 65  // EX_DATAERR: bad input data (stdin, token file)
	exitUnavailable = 69  // EX_UNAVAILABLE: the server answered 5xx
	exitSoftware    = 70  // EX_SOFTWARE: a bug, a panic caught by recoverPanic
	exitTempFail    = 75  // EX_TEMPFAIL: timeout, 429, expired code, lock busy
	exitNoPerm      = 77  // EX_NOPERM: not signed in, token rejected, login denied
	exitInterrupted = 130 // 128+SIGINT
)

// usageError is a command-line mistake (EX_USAGE).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// reported wraps an error whose message the protocol already wrote; it
// carries only the exit code.
type reported struct{ err error }

func (r reported) Error() string {
	if r.err == nil {
		return ""
	}
	return r.err.Error()
}
func (r reported) Unwrap() error { return r.err }

// exitStatus is an exit code another program decided: that of the command
// `runcomfy exec` ran, passed through, or the shell's 126/127 when it could
// not start. err says why, when there is something to say.
type exitStatus struct {
	code int
	err  error
}

func (s exitStatus) Error() string {
	if s.err == nil {
		return fmt.Sprintf("exit status %d", s.code)
	}
	return s.err.Error()
}
func (s exitStatus) Unwrap() error { return s.err }

// notSignedIn says what to do when there is no token.
var errNotSignedIn = errors.New("not signed in: run `runcomfy login`, or set RUNCOMFY_TOKEN")

// exit turns the outcome of a command into its exit code, printing the
// error (once, on stderr) unless a protocol already reported it.
func (e *env) exit(err error) int {
	if e.unknownCommand {
		return exitUsage
	}
	var r reported
	if errors.As(err, &r) {
		return exitCode(r.err)
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if e.jsonErrors {
		writeJSONError(e.stderr, message(err), code)
	} else {
		fmt.Fprintf(e.stderr, "runcomfy: %s\n", message(err))
	}
	return code
}

// recoverPanic, deferred by run, turns a panic in any command into one
// line on stderr and EX_SOFTWARE in *code. A panic's value may quote a
// secret: the line says only its kind, and no stack follows.
func recoverPanic(stderr io.Writer, code *int) {
	if r := recover(); r != nil {
		fmt.Fprintln(stderr, internalError(r))
		*code = exitSoftware
	}
}

// internalError is the line a panic with value r ends runcomfy with.
func internalError(r any) string {
	return "runcomfy: internal error: " + helper.PanicKind(r)
}

// message is what a person reads for err: what happened and what to do.
func message(err error) string {
	var status *devicecode.StatusError
	var network *devicecode.NetworkError
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted; nothing was saved"
	case errors.Is(err, devicecode.ErrDenied):
		return "the sign-in was denied in the browser; run `runcomfy login` to try again"
	case errors.Is(err, devicecode.ErrExpired):
		return "the code expired before it was authorized; run `runcomfy login` to get a new one"
	case errors.Is(err, devicecode.ErrUnauthorized):
		return "RunComfy rejected the token; run `runcomfy login` to sign in again"
	case errors.As(err, &status) && status.StatusCode == http.StatusTooManyRequests:
		return err.Error() + "; wait a minute and try again"
	case errors.As(err, &status) && status.StatusCode >= 500:
		return err.Error() + "; RunComfy has a problem, try again later"
	case errors.As(err, &status), errors.Is(err, devicecode.ErrMalformed):
		return err.Error() + "; is --web-base (or RUNCOMFY_WEB_BASE) a RunComfy server?"
	case errors.As(err, &network):
		return err.Error() + "; check your network connection, or --web-base"
	case errors.Is(err, devicecode.ErrRedirectRefused):
		return err.Error() + "; check --web-base (or RUNCOMFY_WEB_BASE)"
	case errors.Is(err, storage.ErrLockTimeout):
		return err.Error() + "; try again when it is done"
	}
	return err.Error()
}

// exitCode maps an error to its exit code.
func exitCode(err error) int {
	var usage usageError
	var passed exitStatus
	var protocol *helper.Error
	var status *devicecode.StatusError
	var network *devicecode.NetworkError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &passed):
		return passed.code
	case errors.As(err, &protocol):
		return protocol.Code
	case errors.Is(err, errNotSignedIn), errors.Is(err, storage.ErrNotFound):
		return exitNoPerm
	case errors.Is(err, storage.ErrCorrupt):
		return exitData
	case errors.Is(err, storage.ErrLockTimeout):
		return exitTempFail
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		return exitTempFail
	case errors.Is(err, devicecode.ErrDenied), errors.Is(err, devicecode.ErrUnauthorized):
		return exitNoPerm
	case errors.Is(err, devicecode.ErrExpired):
		return exitTempFail
	case errors.Is(err, devicecode.ErrBaseURL):
		return exitUsage
	case errors.Is(err, devicecode.ErrInvalidToken):
		return exitData
	case errors.As(err, &status):
		if status.StatusCode == http.StatusTooManyRequests {
			return exitTempFail
		}
		return exitUnavailable
	case errors.As(err, &network):
		if network.Timeout() {
			return exitTempFail
		}
		return exitUnavailable
	case errors.Is(err, devicecode.ErrMalformed), errors.Is(err, devicecode.ErrRedirectRefused):
		return exitUnavailable
	default:
		return exitFailure
	}
}
