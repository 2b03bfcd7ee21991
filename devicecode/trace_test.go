package devicecode

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/runcomfy/runcomfy/internal/testutil"
)

// api is a fake transport that answers the three endpoints by path. Its
// me answer echoes the token in a field no rule knows, as a careless
// server might: only the tracer's learning hides that one.
type api struct {
	pollErr error // when set, the poll fails with it
}

func (a api) RoundTrip(req *http.Request) (*http.Response, error) {
	var body string
	switch req.URL.Path {
	case "/api/cli-auth/start":
		body = `{"device_code":"` + testDeviceCode + `","user_code":"ABCD-EFGH","verify_url":"https://www.runcomfy.com/cli-auth","expires_in":600,"poll_interval":2}`
	case "/api/cli-auth/poll":
		if a.pollErr != nil {
			return nil, a.pollErr
		}
		body = `{"status":"authorized","access_token":"` + testToken + `"}`
	case "/api/auth/me":
		body = `{"id":"usr_1","email":"ada@example.com","echo":"` + testToken + `"}`
	}
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}, nil
}

// tracedClient returns a Client whose trace goes to w, with a tracer clock
// that moves 12 ms per reading.
func tracedClient(t *testing.T, w io.Writer, level int, transport http.RoundTripper) *Client {
	t.Helper()
	hc := NewHTTPClient(HTTPOptions{Version: "1.2.3", Trace: w, TraceLevel: level, Transport: transport})
	tr := hc.Transport.(userAgent).next.(*tracer)
	now := epoch
	tr.now = func() time.Time { now = now.Add(12 * time.Millisecond); return now }
	c, err := New("https://www.runcomfy.com", hc)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	c.Now, c.Sleep = clock.Now, clock.Sleep
	return c
}

// signIn runs the whole flow: start, wait, me.
func signIn(t *testing.T, c *Client) {
	t.Helper()
	ctx := context.Background()
	s, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	token, err := c.Wait(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(ctx, token); err != nil {
		t.Fatal(err)
	}
}

func TestTrace(t *testing.T) {
	tests := []struct {
		level int
		want  string
	}{
		{1, `POST https://www.runcomfy.com/api/cli-auth/start 200 12ms
POST https://www.runcomfy.com/api/cli-auth/poll 200 12ms
GET https://www.runcomfy.com/api/auth/me 200 12ms
`},
		{2, `POST https://www.runcomfy.com/api/cli-auth/start 200 12ms
> Accept: application/json
> Content-Type: application/json
> User-Agent: runcomfy/1.2.3
> {}
< Content-Type: application/json
< {"device_code":"[REDACTED]","user_code":"ABCD-EFGH","verify_url":"https://www.runcomfy.com/cli-auth","expires_in":600,"poll_interval":2}
POST https://www.runcomfy.com/api/cli-auth/poll 200 12ms
> Accept: application/json
> Content-Type: application/json
> User-Agent: runcomfy/1.2.3
> {"device_code":"[REDACTED]"}
< Content-Type: application/json
< {"status":"authorized","access_token":"[REDACTED]"}
GET https://www.runcomfy.com/api/auth/me 200 12ms
> Accept: application/json
> Authorization: Bearer [REDACTED]
> User-Agent: runcomfy/1.2.3
< Content-Type: application/json
< {"id":"usr_1","email":"ada@example.com","echo":"[REDACTED]"}
`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		signIn(t, tracedClient(t, &buf, tt.level, api{}))
		if got := buf.String(); got != tt.want {
			t.Errorf("level %d trace:\n%s\nwant:\n%s", tt.level, got, tt.want)
		}
		assertNoSecret(t, "trace", buf.String())
	}
}

func TestTraceOfANetworkErrorHidesTheDeviceCode(t *testing.T) {
	var buf bytes.Buffer
	c := tracedClient(t, &buf, 1, api{pollErr: &echoError{}})
	s, err := c.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.ExpiresIn = 3 * time.Second
	if _, err := c.Wait(context.Background(), s); err == nil {
		t.Fatal("Wait succeeded")
	}
	want := `POST https://www.runcomfy.com/api/cli-auth/start 200 12ms
POST https://www.runcomfy.com/api/cli-auth/poll error 12ms: proxy refused body {device_code: [REDACTED]}
`
	if got := buf.String(); got != want {
		t.Errorf("trace:\n%s\nwant:\n%s", got, want)
	}
}

// echoError repeats the device code without any JSON around it.
type echoError struct{}

func (*echoError) Error() string { return "proxy refused body {device_code: " + testDeviceCode + "}" }

func TestTraceEscapesControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	tr := &tracer{level: 2, w: &buf, now: time.Now, next: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: 200,
			Header:     http.Header{"X-Evil": {"a\x1b[2Jb"}},
			Body:       io.NopCloser(strings.NewReader("{\"m\":\"\x1b]0;pwned\x07\"}\n\xff")),
		}, nil
	})}
	req, _ := http.NewRequest("GET", "https://www.runcomfy.com/x", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "{\"m\":\"\x1b]0;pwned\x07\"}\n\xff" {
		t.Errorf("the caller got body %q, not the server's", body)
	}
	got := buf.String()
	if strings.ContainsAny(got, "\x1b\x07") || !utf8.ValidString(got) {
		t.Errorf("trace holds control characters: %q", got)
	}
	for _, want := range []string{`< X-Evil: a\u001b[2Jb`, `< {"m":"\u001b]0;pwned\u0007"}\n\xff`} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("trace lacks %q:\n%s", want, got)
		}
	}
}

func TestTraceCutsALongBodyAfterRedacting(t *testing.T) {
	var buf bytes.Buffer
	long := strings.Repeat("x", maxShown-10) + testDeviceCode + strings.Repeat("y", 100)
	tr := &tracer{level: 2, w: &buf, now: time.Now, next: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(long))}, nil
	})}
	body, _ := json.Marshal(map[string]string{"device_code": testDeviceCode})
	req, _ := http.NewRequest("POST", "https://www.runcomfy.com/api/cli-auth/poll", bytes.NewReader(body))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := buf.String()
	// No prefix of the device code either: "dc-7Hq2pX" would be a start.
	if strings.Contains(got, testDeviceCode[:6]) {
		t.Errorf("trace shows part of the device code: %q", got[len(got)-200:])
	}
	if !strings.Contains(got, "… (") {
		t.Errorf("trace does not say the body was cut")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestTraceAgainstAServer runs the flow over a real loopback connection at
// level 2: the trace names every request and never a secret.
func TestTraceAgainstAServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session="+testToken)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/cli-auth/start":
			io.WriteString(w, `{"device_code":"`+testDeviceCode+`","user_code":"ABCD-EFGH","verify_url":"http://`+r.Host+`/cli-auth","expires_in":600,"poll_interval":1}`)
		case "/api/cli-auth/poll":
			io.WriteString(w, `{"status":"authorized","access_token":"`+testToken+`"}`)
		case "/api/auth/me":
			io.WriteString(w, `{"id":"usr_1","email":"ada@example.com"}`)
		}
	}))
	defer srv.Close()
	var buf testutil.Buffer
	c, err := New(srv.URL, NewHTTPClient(HTTPOptions{Version: "1.2.3", Trace: &buf, TraceLevel: 2}))
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	c.Now, c.Sleep = clock.Now, clock.Sleep
	signIn(t, c)
	got := buf.String()
	assertNoSecret(t, "trace", got)
	for _, want := range []string{"POST " + srv.URL + "/api/cli-auth/start 200 ", "POST " + srv.URL + "/api/cli-auth/poll 200 ", "GET " + srv.URL + "/api/auth/me 200 ", "< Set-Cookie: [REDACTED]\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks %q:\n%s", want, got)
		}
	}
}
