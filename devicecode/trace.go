package devicecode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/runcomfy/runcomfy/redact"
)

const (
	// maxShown bounds a body in the trace; the rest is counted, not shown.
	maxShown = 4 << 10
	// maxLearned bounds the secrets a tracer remembers.
	maxLearned = 32
)

// hiddenHeaders carry credentials whatever their form; their values are
// never shown.
var hiddenHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// secretFields are the JSON fields whose values the tracer learns as
// secrets, so that the same value is redacted wherever else it shows up
// (an error message that repeats the device code, say).
var secretFields = []string{"access_token", "refresh_token", "device_code", "token"}

// tracer writes each round trip to w, every line through redact: at level 1
// "METHOD URL STATUS DURATION", at level 2 also the headers and bodies.
type tracer struct {
	next  http.RoundTripper
	w     io.Writer
	level int
	now   func() time.Time

	mu      sync.Mutex
	secrets []string // learned from headers and bodies
}

func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	// Bodies are read at every level: the secrets they carry are learned,
	// so that an error line that repeats one is redacted too.
	reqBody, reqShown := t.requestBody(req)
	t.learnHeader(req.Header)
	t.learnBody(reqBody)

	start := t.now()
	resp, err := t.next.RoundTrip(req)
	elapsed := t.now().Sub(start).Round(100 * time.Microsecond)

	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "%s %s error %s: %v\n", req.Method, req.URL.Redacted(), elapsed, err)
		t.write(b.String())
		return nil, err
	}
	respBody, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	// Hand the caller the whole body back: what was read, then the rest
	// (or the error that stopped the read).
	var rest io.Reader = resp.Body
	if readErr != nil {
		rest = errReader{readErr}
	}
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(respBody), rest), resp.Body}
	t.learnBody(respBody)

	fmt.Fprintf(&b, "%s %s %d %s\n", req.Method, req.URL.Redacted(), resp.StatusCode, elapsed)
	if t.level >= 2 {
		secrets := t.learned()
		writeHeaders(&b, "> ", req.Header)
		switch {
		case !reqShown:
			b.WriteString("> (body not shown)\n")
		case len(reqBody) > 0:
			writeBody(&b, "> ", reqBody, secrets)
		}
		writeHeaders(&b, "< ", resp.Header)
		if len(respBody) > 0 {
			writeBody(&b, "< ", respBody, secrets)
		}
		if readErr != nil {
			fmt.Fprintf(&b, "< (body cut short: %v)\n", readErr)
		}
	}
	t.write(b.String())
	return resp, nil
}

// requestBody reads a copy of the request body through GetBody, leaving the
// body itself to the transport. Without GetBody it is not shown.
func (t *tracer) requestBody(req *http.Request) ([]byte, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBody))
	return b, err == nil
}

// write redacts s with everything learned so far and writes it in one
// piece, so concurrent requests do not interleave their lines.
func (t *tracer) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, redact.String(s, t.secrets...))
}

// learnHeader remembers the credentials of an Authorization header.
func (t *tracer) learnHeader(h http.Header) {
	for _, v := range h.Values("Authorization") {
		_, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok {
			cred = v
		}
		t.learn(strings.TrimSpace(cred))
	}
}

// learnBody remembers the values of the secret fields of a JSON object.
func (t *tracer) learnBody(body []byte) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return
	}
	for k, raw := range fields {
		var v string
		if slices.ContainsFunc(secretFields, func(f string) bool { return strings.EqualFold(f, k) }) && json.Unmarshal(raw, &v) == nil {
			t.learn(v)
		}
	}
}

// learned returns the secrets learned so far.
func (t *tracer) learned() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.secrets)
}

func (t *tracer) learn(secret string) {
	// Shorter values would redact common words, and say little anyway.
	if len(secret) < 4 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if slices.Contains(t.secrets, secret) {
		return
	}
	if len(t.secrets) == maxLearned {
		t.secrets = slices.Delete(t.secrets, 0, 1)
	}
	t.secrets = append(t.secrets, secret)
}

// writeHeaders writes h sorted by name, credentials hidden outright.
func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			if slices.ContainsFunc(hiddenHeaders, func(s string) bool { return strings.EqualFold(s, name) }) {
				v = hideCredentials(v)
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, printableText(name), printableText(v))
		}
	}
}

// hideCredentials keeps the auth scheme of a header value ("Bearer") and
// hides the rest.
func hideCredentials(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok {
		return scheme + " " + redact.Placeholder
	}
	return redact.Placeholder
}

// writeBody writes body on one line, redacted before it is cut to maxShown
// so that no cut leaves part of a secret.
func writeBody(b *strings.Builder, prefix string, body []byte, secrets []string) {
	s := redact.String(string(body), secrets...)
	more := ""
	if len(s) > maxShown {
		more = fmt.Sprintf(" … (%d bytes)", len(body))
		s = strings.ToValidUTF8(s[:maxShown], "")
	}
	fmt.Fprintf(b, "%s%s%s\n", prefix, printableText(s), more)
}

// printableText escapes control characters and invalid UTF-8, so a hostile
// server cannot send escape sequences to the terminal through a trace.
func printableText(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
