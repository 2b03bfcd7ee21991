// Package devicecode is the client of RunComfy's web auth API: the
// device-code sign-in (Start, then Wait while a person approves the code in
// a browser) and the token check (Me). The wire protocol is the SPEC's
// "Device-code login", which follows RFC 8628 where it can.
//
// Every side effect sits behind a field of Client — the HTTP doer, the
// clock, sleeping — so tests record the requests and the waits and never
// sleep: a ten-minute expiry runs in milliseconds.
//
// No error, trace line or formatted value of this package holds the device
// code or a token: they pass through package redact on the way out.
package devicecode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/runcomfy/runcomfy/redact"
)

const (
	// maxBody bounds every answer read: the largest legitimate one is a
	// few hundred bytes.
	maxBody = 1 << 20
	// slowDownStep is what RFC 8628 §3.5 adds to the interval for a
	// slow_down answer.
	slowDownStep = 5 * time.Second
	// maxBackoff caps the wait between polls after repeated failures, so a
	// server that comes back is noticed soon.
	maxBackoff = 30 * time.Second
)

// Doer sends one HTTP request. *http.Client is one; NewHTTPClient makes the
// one to use.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Client talks to one RunComfy web base. Its exported fields are the seams
// for tests; New fills them with the real thing.
type Client struct {
	// HTTP sends the requests.
	HTTP Doer
	// Now is the clock that measures the code's lifetime.
	Now func() time.Time
	// Sleep waits for d, or returns ctx.Err() as soon as ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, when set, is called before every wait in Wait with the
	// time left until the code expires, e.g. to show "waiting… 4:32 left".
	Progress func(left time.Duration)

	base string // scheme://host[/path], no trailing slash
}

// New returns a Client for webBase, e.g. "https://www.runcomfy.com". The
// base must be https, or plain http on a loopback host (localhost,
// 127.0.0.0/8, ::1) for the offline dev server: anything else would send
// the device code and the token in clear text. It carries no user info,
// query or fragment. A nil doer means NewHTTPClient(HTTPOptions{}).
func New(webBase string, doer Doer) (*Client, error) {
	u, err := url.Parse(webBase)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// The text is not echoed: it may hold a password.
		return nil, ErrBaseURL
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback(u.Hostname())) {
		return nil, fmt.Errorf("%w: %s", ErrBaseURL, u.Redacted())
	}
	if doer == nil {
		doer = NewHTTPClient(HTTPOptions{})
	}
	return &Client{
		HTTP:  doer,
		Now:   time.Now,
		Sleep: sleep,
		base:  strings.TrimRight(u.String(), "/"),
	}, nil
}

// loopback reports whether host names this machine: localhost, or a
// loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sleep is the real Client.Sleep.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Session is a started sign-in: the code a person types on VerifyURL, and
// what Wait needs to learn the outcome. Its device code is a secret: no
// format verb, nor encoding/json, shows it.
type Session struct {
	// UserCode is the code the person types on the verification page.
	UserCode string
	// VerifyURL is the page where the person types the code. The code is
	// never put into the URL: the page refuses ?code= on purpose, so that
	// a link sent by someone else cannot sign in the sender's terminal.
	VerifyURL string
	// ExpiresIn is how long the code lives, from Start.
	ExpiresIn time.Duration
	// Interval is the wait between polls the server asked for, at least
	// one second.
	Interval time.Duration

	deviceCode string
	issued     time.Time // by Client.Now, just before the start request
}

// Format prints the exported fields alone, for every verb: fmt would print
// the unexported device code otherwise, and it calls no String method on an
// unexported field.
func (s Session) Format(f fmt.State, verb rune) {
	type Session struct {
		UserCode  string
		VerifyURL string
		ExpiresIn time.Duration
		Interval  time.Duration
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), Session{s.UserCode, s.VerifyURL, s.ExpiresIn, s.Interval})
}

// Start asks for a new code: POST {base}/api/cli-auth/start with an empty
// JSON object.
func (c *Client) Start(ctx context.Context) (*Session, error) {
	issued := c.Now()
	a, err := c.call(ctx, "start", http.MethodPost, "/api/cli-auth/start", struct{}{}, "")
	if err != nil {
		return nil, err
	}
	if a.code != http.StatusOK && a.code != http.StatusCreated {
		return nil, c.statusError("start", a)
	}
	sa, err := decodeStart(a.body)
	if err != nil {
		return nil, err
	}
	return &Session{
		UserCode:   sa.userCode,
		VerifyURL:  sa.verifyURL,
		ExpiresIn:  sa.expiresIn,
		Interval:   sa.interval,
		deviceCode: sa.deviceCode,
		issued:     issued,
	}, nil
}

// Wait polls until the person authorizes or denies the code, the code
// expires, or ctx is done, and returns the access token.
//
// It waits before every poll, never less than the session's interval:
// RFC 8628 §3.5, a slow_down answer adds 5 s to the interval for all later
// polls. A 5xx, a 429 or a network error is retried, the wait doubling
// per failure in a row up to 30 s, and never shorter than the server's
// Retry-After. The deadline is the start time plus expires_in by
// Client.Now; once the next poll would come after it, Wait returns
// ErrExpired without polling again.
//
// It returns ErrDenied, ErrExpired, a wrapped ErrMalformed, a *StatusError
// for a status that is not retried, or an error wrapping ctx.Err().
func (c *Client) Wait(ctx context.Context, s *Session) (string, error) {
	deadline := s.issued.Add(s.ExpiresIn)
	interval := max(s.Interval, minInterval)
	delay := interval
	failures := 0
	var lastErr error
	for {
		left := deadline.Sub(c.Now())
		if delay >= left {
			if left > 0 {
				c.progress(left)
				if err := c.Sleep(ctx, left); err != nil {
					return "", fmt.Errorf("devicecode: poll: %w", err)
				}
			}
			if lastErr != nil {
				return "", fmt.Errorf("%w; the last poll failed: %v", ErrExpired, lastErr)
			}
			return "", ErrExpired
		}
		c.progress(left)
		if err := c.Sleep(ctx, delay); err != nil {
			return "", fmt.Errorf("devicecode: poll: %w", err)
		}
		a, err := c.poll(ctx, s)
		if err != nil {
			if !transient(err) {
				return "", err
			}
			failures++
			lastErr = err
			delay = backoff(interval, failures)
			var se *StatusError
			if errors.As(err, &se) {
				delay = max(delay, se.RetryAfter)
			}
			continue
		}
		failures, lastErr = 0, nil
		switch a.status {
		case statusAuthorized:
			return a.token, nil
		case statusDenied:
			return "", ErrDenied
		case statusExpired:
			return "", ErrExpired
		case statusSlowDown:
			// RFC 8628 §3.5: slow_down adds 5 s to every later poll.
			interval += slowDownStep
		}
		delay = interval
	}
}

func (c *Client) progress(left time.Duration) {
	if c.Progress != nil {
		c.Progress(left)
	}
}

// poll asks once: POST {base}/api/cli-auth/poll {"device_code": "..."}.
func (c *Client) poll(ctx context.Context, s *Session) (pollAnswer, error) {
	body := struct {
		DeviceCode string `json:"device_code"`
	}{s.deviceCode}
	a, err := c.call(ctx, "poll", http.MethodPost, "/api/cli-auth/poll", body, "", s.deviceCode)
	if err != nil {
		return pollAnswer{}, err
	}
	if a.code != http.StatusOK && a.code != http.StatusGone {
		return pollAnswer{}, c.statusError("poll", a, s.deviceCode)
	}
	return decodePoll(a.code, a.body)
}

// transient reports whether Wait should poll again after err.
func transient(err error) bool {
	var ne *NetworkError
	var se *StatusError
	return errors.As(err, &ne) || errors.As(err, &se) && se.Temporary()
}

// backoff is the wait after failures transient failures in a row: the
// interval doubled per failure, at most maxBackoff, never below the
// interval itself.
func backoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for range failures {
		if d >= maxBackoff {
			break
		}
		d *= 2
	}
	return max(min(d, maxBackoff), interval)
}

// Me asks who token belongs to: GET {base}/api/auth/me with
// "Authorization: Bearer <token>". A 401 is ErrUnauthorized.
func (c *Client) Me(ctx context.Context, token string) (*User, error) {
	if !validToken(token) {
		return nil, ErrInvalidToken
	}
	a, err := c.call(ctx, "me", http.MethodGet, "/api/auth/me", nil, token, token)
	if err != nil {
		return nil, err
	}
	switch a.code {
	case http.StatusOK:
		return decodeMe(a.body)
	case http.StatusUnauthorized:
		return nil, ErrUnauthorized
	default:
		return nil, c.statusError("me", a, token)
	}
}

// answer is a response read whole.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

// call sends one request and reads the answer, at most maxBody bytes. A
// non-nil body is sent as JSON; a non-empty token as a bearer credential.
// The secrets are redacted from every error.
func (c *Client) call(ctx context.Context, op, method, path string, body any, token string, secrets ...string) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, fmt.Errorf("devicecode: %s: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, fmt.Errorf("devicecode: %s: %w", op, redact.Error(err, secrets...))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return answer{}, requestError(ctx, op, err, secrets)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return answer{}, requestError(ctx, op, err, secrets)
	}
	if len(b) > maxBody {
		return answer{}, malformed(op, "the answer is larger than %d bytes", maxBody)
	}
	return answer{code: resp.StatusCode, header: resp.Header, body: b}, nil
}

// requestError classifies a request that got no answer: canceled, a refused
// redirect, or a network error.
func requestError(ctx context.Context, op string, err error, secrets []string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("devicecode: %s: %w", op, ctx.Err())
	}
	err = redact.Error(err, secrets...)
	if errors.Is(err, ErrRedirectRefused) {
		return fmt.Errorf("devicecode: %s: %w", op, err)
	}
	return &NetworkError{Op: op, Err: err}
}

func (c *Client) statusError(op string, a answer, secrets ...string) error {
	return &StatusError{
		Op:         op,
		StatusCode: a.code,
		RetryAfter: retryAfter(a.header, c.Now()),
		// Redacted before it is cut, so no cut leaves part of a secret.
		Message: oneLine(redact.String(errorMessage(a.body), secrets...), 200),
	}
}
