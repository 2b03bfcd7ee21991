package devicecode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The decoders turn a body into checked values and nothing else: no I/O, so
// FuzzDecode* drive them directly. Their errors never quote the body.

const (
	// defaultInterval is RFC 8628 §3.2's poll interval when the server
	// names none.
	defaultInterval = 5 * time.Second
	// minInterval: SPEC, "at least 1" second between polls, whatever the
	// server says.
	minInterval = time.Second
	// maxExpiresIn bounds expires_in; a code that lives longer than a day
	// is a broken server, and the bound keeps durations far from overflow.
	maxExpiresIn = 24 * time.Hour
	// maxField bounds the length of the strings a person sees or a header
	// carries.
	maxField = 4096
)

// startAnswer is a checked answer to POST /api/cli-auth/start.
type startAnswer struct {
	deviceCode string
	userCode   string
	verifyURL  string
	expiresIn  time.Duration
	interval   time.Duration
}

func decodeStart(body []byte) (startAnswer, error) {
	var raw struct {
		DeviceCode   string   `json:"device_code"`
		UserCode     string   `json:"user_code"`
		VerifyURL    string   `json:"verify_url"`
		ExpiresIn    float64  `json:"expires_in"`
		PollInterval *float64 `json:"poll_interval"`
	}
	if err := unmarshal(body, &raw); err != nil {
		return startAnswer{}, malformed("start", "%s", err)
	}
	a := startAnswer{deviceCode: raw.DeviceCode, userCode: raw.UserCode, verifyURL: raw.VerifyURL}
	switch {
	case raw.DeviceCode == "":
		return startAnswer{}, malformed("start", "device_code is missing")
	case len(raw.DeviceCode) > maxField:
		return startAnswer{}, malformed("start", "device_code is longer than %d bytes", maxField)
	case raw.UserCode == "":
		return startAnswer{}, malformed("start", "user_code is missing")
	case !printable(raw.UserCode) || len(raw.UserCode) > 64:
		// The user code is printed on the terminal: no escape sequences.
		return startAnswer{}, malformed("start", "user_code is not a short printable text")
	case !validVerifyURL(raw.VerifyURL):
		// The URL is opened in a browser: a file: or javascript: URL
		// from a hostile server must not be.
		return startAnswer{}, malformed("start", "verify_url is not an https URL (or http on loopback)")
	case raw.ExpiresIn <= 0 || raw.ExpiresIn > maxExpiresIn.Seconds():
		return startAnswer{}, malformed("start", "expires_in is not between 0 and %d seconds", int(maxExpiresIn.Seconds()))
	}
	a.expiresIn = seconds(raw.ExpiresIn)
	switch {
	case raw.PollInterval == nil || *raw.PollInterval == 0:
		a.interval = defaultInterval
	case *raw.PollInterval < 0 || *raw.PollInterval > maxExpiresIn.Seconds():
		return startAnswer{}, malformed("start", "poll_interval is out of range")
	default:
		a.interval = max(seconds(*raw.PollInterval), minInterval)
	}
	return a, nil
}

// Poll statuses, as the web API spells them.
const (
	statusPending    = "pending"
	statusSlowDown   = "slow_down"
	statusAuthorized = "authorized"
	statusDenied     = "denied"
	statusExpired    = "expired"
)

// pollAnswer is a checked answer to POST /api/cli-auth/poll: one of the
// statuses above, and the token when authorized.
type pollAnswer struct {
	status string
	token  string
}

// decodePoll reads a 200 or 410 answer to a poll; the caller handles every
// other status code.
func decodePoll(code int, body []byte) (pollAnswer, error) {
	var raw struct {
		Status      string `json:"status"`
		AccessToken string `json:"access_token"`
	}
	if err := unmarshal(body, &raw); err != nil {
		return pollAnswer{}, malformed("poll", "%s", err)
	}
	a := pollAnswer{status: raw.Status}
	switch {
	case raw.Status == statusDenied, raw.Status == statusExpired:
		// SPEC: 410 carries these; a 200 saying the same is taken at its
		// word, as the outcome is final either way.
		return a, nil
	case code != http.StatusOK:
		return pollAnswer{}, malformed("poll", "status %d with an answer that is not denied or expired", code)
	case raw.Status == statusPending, raw.Status == statusSlowDown:
		return a, nil
	case raw.Status == statusAuthorized:
		if !validToken(raw.AccessToken) {
			return pollAnswer{}, malformed("poll", "authorized without a usable access_token")
		}
		a.token = raw.AccessToken
		return a, nil
	case raw.Status == "":
		return pollAnswer{}, malformed("poll", "status is missing")
	default:
		return pollAnswer{}, malformed("poll", "unknown status")
	}
}

// User is the account a token belongs to, as GET /api/auth/me says.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// TokenType is the kind of token, e.g. "cli" or "api".
	TokenType string `json:"token_type"`
	// TokenCreatedAt is the server's timestamp, as it sent it.
	TokenCreatedAt string `json:"token_created_at"`
}

func decodeMe(body []byte) (*User, error) {
	var raw struct {
		ID             flexString `json:"id"`
		Email          flexString `json:"email"`
		TokenType      flexString `json:"token_type"`
		TokenCreatedAt flexString `json:"token_created_at"`
	}
	if err := unmarshal(body, &raw); err != nil {
		return nil, malformed("me", "%s", err)
	}
	u := &User{ID: string(raw.ID), Email: string(raw.Email), TokenType: string(raw.TokenType), TokenCreatedAt: string(raw.TokenCreatedAt)}
	for _, f := range []struct{ name, value string }{
		{"id", u.ID}, {"email", u.Email}, {"token_type", u.TokenType}, {"token_created_at", u.TokenCreatedAt},
	} {
		// whoami prints these on the terminal.
		if !printable(f.value) || len(f.value) > maxField {
			return nil, malformed("me", "%s is not a printable text", f.name)
		}
	}
	if u.ID == "" && u.Email == "" {
		return nil, malformed("me", "neither id nor email is given")
	}
	return u, nil
}

// flexString takes a JSON string or number (an id may be either) as text,
// and null as "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*s = flexString(b)
	default:
		return errNotText
	}
	return nil
}

var errNotText = errors.New("want a string or a number")

// unmarshal decodes one JSON object into v. Its error describes the problem
// without quoting the input: encoding/json puts numbers it could not store
// into its messages ("cannot unmarshal number 123…"), and a device code
// could be one.
func unmarshal(body []byte, v any) error {
	b := strings.TrimSpace(string(body))
	if !strings.HasPrefix(b, "{") {
		return errors.New("the answer is not a JSON object")
	}
	err := json.Unmarshal([]byte(b), v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("a field has the wrong type (want %s)", typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON is cut short")
	case errors.Is(err, errNotText):
		return errors.New("a field is neither a string nor a number")
	default:
		return errors.New("invalid JSON")
	}
}

// seconds converts a checked, bounded count of seconds to a Duration.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// printable reports whether s is valid UTF-8 without control characters, so
// printing it cannot move the cursor or change the terminal's colours.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// validToken reports whether t can be a bearer token: visible ASCII only
// (RFC 6750 §2.1's b64token is narrower still). No space, no newline: the
// token ends up in a header and on a gitcredentials(7) "password=" line,
// where a newline would start a line of its own.
func validToken(t string) bool {
	if t == "" || len(t) > maxField {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validVerifyURL reports whether u may be opened in a browser: https, or
// http on a loopback host (the offline dev server).
func validVerifyURL(u string) bool {
	if len(u) > maxField {
		return false
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" || parsed.User != nil {
		return false
	}
	return parsed.Scheme == "https" || parsed.Scheme == "http" && loopback(parsed.Hostname())
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3): delay-seconds or
// an HTTP-date, measured from now. It returns 0 when there is none or it
// cannot be read.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return min(time.Duration(n)*time.Second, maxExpiresIn)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxExpiresIn)
	}
	return 0
}

// errorMessage digs a human message out of an error answer ({"error": …} or
// {"message": …}), for StatusError. The caller redacts it and cuts it short.
func errorMessage(body []byte) string {
	var raw struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return ""
	}
	for _, m := range []json.RawMessage{raw.Error, raw.Message} {
		var s string
		if json.Unmarshal(m, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// oneLine cuts s to at most n runes and replaces control characters, so it
// fits on one line of a terminal.
func oneLine(s string, n int) string {
	var b strings.Builder
	for i, r := range []rune(strings.ToValidUTF8(s, "\uFFFD")) {
		if i == n {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}
