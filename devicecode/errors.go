package devicecode

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The errors below are the outcomes the CLI tells apart; it maps each to a
// message and an exit code exactly once (sysexits, as the SPEC's "Output,
// logs, exit codes"). Suggested codes are in each comment. A canceled
// context comes back as an error wrapping context.Canceled (130) or
// context.DeadlineExceeded (75).
var (
	// ErrBaseURL: the web base is neither an https URL nor an http URL of
	// a loopback host (exit 64, usage).
	ErrBaseURL = errors.New("devicecode: the web base must be an https URL (plain http only on a loopback host)")

	// ErrDenied: the person pressed Deny on the verification page (exit 77).
	ErrDenied = errors.New("devicecode: sign-in was denied")

	// ErrExpired: the device code ran out before anyone authorized it,
	// by the server's word or by our own clock (exit 75).
	ErrExpired = errors.New("devicecode: the sign-in code expired")

	// ErrUnauthorized: /api/auth/me answered 401, the token is not (or no
	// longer) valid (exit 77).
	ErrUnauthorized = errors.New("devicecode: the token was rejected")

	// ErrInvalidToken: the token holds characters no token has (a space, a
	// control character), so it was not sent (exit 65, bad input data).
	ErrInvalidToken = errors.New("devicecode: the token holds characters a token cannot have")

	// ErrMalformed: the server's answer is not what the protocol says: bad
	// JSON, a missing field, an unknown status, "authorized" without a
	// token, a body over 1 MiB. The server is broken rather than the input,
	// so this is exit 69 (unavailable), not 65.
	ErrMalformed = errors.New("devicecode: malformed answer from the server")

	// ErrRedirectRefused: a redirect would have carried the Authorization
	// header or the device code to another host or over plain http; see
	// NewHTTPClient (exit 69).
	ErrRedirectRefused = errors.New("devicecode: refused a redirect that would send the token or the device code to another host or over plain http")
)

// StatusError is an HTTP status the protocol has no meaning for at that
// step: a 5xx (exit 69), a 429 (exit 75), or an unexpected 4xx such as 404
// for a wrong web base (exit 69). Wait retries 5xx and 429 itself until the
// code expires; Start and Me return them at once.
type StatusError struct {
	// Op is the step: "start", "poll" or "me".
	Op string
	// StatusCode is the HTTP status code.
	StatusCode int
	// RetryAfter is the server's Retry-After, or 0 when it sent none.
	RetryAfter time.Duration
	// Message is the "error" or "message" field of the body, if any,
	// redacted and cut to one printable line.
	Message string
}

// Error names the step and the status, and the server's own words if any.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("devicecode: %s: the server answered %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Temporary reports whether a later try may succeed: 429 and 5xx.
func (e *StatusError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// NetworkError is a request that got no HTTP answer: DNS, connect, TLS, a
// timeout, a connection cut mid-body. Exit 75 when Timeout reports true, 69
// otherwise. Its message went through redact.
type NetworkError struct {
	// Op is the step: "start", "poll" or "me".
	Op string
	// Err is the cause, redacted.
	Err error
}

// Error names the step and the cause.
func (e *NetworkError) Error() string { return "devicecode: " + e.Op + ": " + e.Err.Error() }

// Unwrap gives errors.Is and errors.As the cause (a *url.Error, usually).
func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the request ran out of time.
func (e *NetworkError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

// malformed wraps ErrMalformed with what was wrong in op's answer. The
// detail never quotes the answer: it may hold the device code or a token.
func malformed(op, format string, args ...any) error {
	return fmt.Errorf("%w (%s): %s", ErrMalformed, op, fmt.Sprintf(format, args...))
}
