package devicecode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNewChecksTheWebBase(t *testing.T) {
	tests := []struct {
		base     string
		wantBase string // "" when New must refuse
	}{
		{"https://www.runcomfy.com", "https://www.runcomfy.com"},
		{"https://www.runcomfy.com/", "https://www.runcomfy.com"},
		{"https://example.com:8443/prefix/", "https://example.com:8443/prefix"},
		{"HTTPS://www.runcomfy.com", "https://www.runcomfy.com"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.1.2.3", "http://127.1.2.3"},
		{"http://localhost:3000", "http://localhost:3000"},
		{"http://LOCALHOST", "http://LOCALHOST"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		{"http://www.runcomfy.com", ""},
		{"http://localhost.evil.example", ""},
		{"http://10.0.0.1", ""},
		{"ftp://www.runcomfy.com", ""},
		{"www.runcomfy.com", ""},
		{"", ""},
		{"https://", ""},
		{"https://user:hunter22@www.runcomfy.com", ""},
		{"https://www.runcomfy.com/?x=1", ""},
		{"https://www.runcomfy.com/#x", ""},
		{"https://www.runcomfy.com\x00.evil.example", ""},
		{"mailto:a@b.c", ""},
	}
	for _, tt := range tests {
		c, err := New(tt.base, &script{})
		switch {
		case tt.wantBase == "" && !errors.Is(err, ErrBaseURL):
			t.Errorf("New(%q) = %v, want ErrBaseURL", tt.base, err)
		case tt.wantBase != "" && err != nil:
			t.Errorf("New(%q) = %v", tt.base, err)
		case tt.wantBase != "" && c.base != tt.wantBase:
			t.Errorf("New(%q).base = %q, want %q", tt.base, c.base, tt.wantBase)
		}
		if err != nil && strings.Contains(err.Error(), "hunter22") {
			t.Errorf("New(%q) error shows the password: %v", tt.base, err)
		}
	}
}

func TestNewWithoutDoerUsesNewHTTPClient(t *testing.T) {
	c, err := New("https://www.runcomfy.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	hc, ok := c.HTTP.(*http.Client)
	if !ok || hc.Timeout != requestTimeout || hc.CheckRedirect == nil {
		t.Errorf("HTTP = %#v, want NewHTTPClient's", c.HTTP)
	}
}

func TestStart(t *testing.T) {
	const good = `{"device_code":"` + testDeviceCode + `","user_code":"ABCD-EFGH","verify_url":"https://www.runcomfy.com/cli-auth","expires_in":600,"poll_interval":2}`
	tests := []struct {
		name    string
		reply   reply
		want    *Session // exported fields only
		wantErr func(error) bool
	}{
		{
			name:  "a code",
			reply: ok(good),
			want:  &Session{UserCode: "ABCD-EFGH", VerifyURL: "https://www.runcomfy.com/cli-auth", ExpiresIn: 10 * time.Minute, Interval: 2 * time.Second},
		},
		{
			name:  "201 and unknown fields",
			reply: reply{code: 201, body: `{"device_code":"d","user_code":"U","verify_url":"http://127.0.0.1:9/cli-auth","expires_in":60,"poll_interval":2,"extra":[1]}`},
			want:  &Session{UserCode: "U", VerifyURL: "http://127.0.0.1:9/cli-auth", ExpiresIn: time.Minute, Interval: 2 * time.Second},
		},
		{
			name:  "no poll_interval is RFC 8628's 5 s",
			reply: ok(`{"device_code":"d","user_code":"U","verify_url":"https://x.example/a","expires_in":60}`),
			want:  &Session{UserCode: "U", VerifyURL: "https://x.example/a", ExpiresIn: time.Minute, Interval: 5 * time.Second},
		},
		{
			name:  "a poll_interval under 1 s is 1 s",
			reply: ok(`{"device_code":"d","user_code":"U","verify_url":"https://x.example/a","expires_in":60,"poll_interval":0.2}`),
			want:  &Session{UserCode: "U", VerifyURL: "https://x.example/a", ExpiresIn: time.Minute, Interval: time.Second},
		},
		{"no device_code", ok(`{"user_code":"U","verify_url":"https://x.example/a","expires_in":60}`), nil, is(ErrMalformed)},
		{"no user_code", ok(`{"device_code":"d","verify_url":"https://x.example/a","expires_in":60}`), nil, is(ErrMalformed)},
		{"user_code with an escape sequence", ok(`{"device_code":"d","user_code":"\u001b[2J","verify_url":"https://x.example/a","expires_in":60}`), nil, is(ErrMalformed)},
		{"javascript verify_url", ok(`{"device_code":"d","user_code":"U","verify_url":"javascript:alert(1)","expires_in":60}`), nil, is(ErrMalformed)},
		{"file verify_url", ok(`{"device_code":"d","user_code":"U","verify_url":"file:///etc/passwd","expires_in":60}`), nil, is(ErrMalformed)},
		{"plain http verify_url", ok(`{"device_code":"d","user_code":"U","verify_url":"http://www.runcomfy.com/cli-auth","expires_in":60}`), nil, is(ErrMalformed)},
		{"no expires_in", ok(`{"device_code":"d","user_code":"U","verify_url":"https://x.example/a"}`), nil, is(ErrMalformed)},
		{"expires_in over a day", ok(`{"device_code":"d","user_code":"U","verify_url":"https://x.example/a","expires_in":1e300}`), nil, is(ErrMalformed)},
		{"negative poll_interval", ok(`{"device_code":"d","user_code":"U","verify_url":"https://x.example/a","expires_in":60,"poll_interval":-1}`), nil, is(ErrMalformed)},
		{"device_code of the wrong type", ok(`{"device_code":12345678901234567890,"user_code":"U","verify_url":"https://x.example/a","expires_in":60}`), nil, is(ErrMalformed)},
		{"not JSON", ok(`<html>`), nil, is(ErrMalformed)},
		{"a body over 1 MiB", ok(`{"x":"` + strings.Repeat("a", maxBody) + `"}`), nil, is(ErrMalformed)},
		{"503", unavailable(503), nil, status(503)},
		{"404 for a wrong web base", reply{code: 404, body: "not found"}, nil, status(404)},
		{"network error", reply{err: syscall.ECONNREFUSED}, nil, func(err error) bool {
			var ne *NetworkError
			return errors.As(err, &ne) && errors.Is(err, syscall.ECONNREFUSED) && !ne.Timeout()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s := &script{replies: []reply{tt.reply}}
			c := newTestClient(t, s, clock)
			got, err := c.Start(context.Background())
			if want := []request{{Method: "POST", Path: "/api/cli-auth/start", Body: "{}", ContentType: "application/json"}}; len(s.seen) != 1 || s.seen[0] != want[0] {
				t.Errorf("requests = %+v, want %+v", s.seen, want)
			}
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Errorf("err = %v (%T), not the error wanted", err, err)
				}
				if err != nil {
					assertNoSecret(t, "error", err.Error())
					if strings.Contains(err.Error(), "12345678901234567890") {
						t.Errorf("error quotes the answer: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.UserCode != tt.want.UserCode || got.VerifyURL != tt.want.VerifyURL || got.ExpiresIn != tt.want.ExpiresIn || got.Interval != tt.want.Interval {
				t.Errorf("Start = %+v, want %+v", got, tt.want)
			}
			if !got.issued.Equal(epoch) || got.deviceCode == "" {
				t.Errorf("issued = %v, device code set = %v", got.issued, got.deviceCode != "")
			}
		})
	}
}

func TestStartThenWaitMeasuresExpiryFromStart(t *testing.T) {
	clock := newFakeClock()
	s := &script{
		replies: []reply{ok(`{"device_code":"` + testDeviceCode + `","user_code":"U","verify_url":"https://x.example/a","expires_in":10,"poll_interval":2}`)},
		rest:    &reply{code: 200, body: pending},
	}
	c := newTestClient(t, s, clock)
	session, err := c.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(5 * time.Second) // the person reads the code
	_, err = c.Wait(context.Background(), session)
	if !errors.Is(err, ErrExpired) {
		t.Errorf("err = %v, want ErrExpired", err)
	}
	if want := secs(2, 2, 1); fmt.Sprint(clock.waits) != fmt.Sprint(want) {
		t.Errorf("waits = %v, want %v", clock.waits, want)
	}
}

func TestSessionNeverShowsTheDeviceCode(t *testing.T) {
	s := &Session{UserCode: "ABCD-EFGH", VerifyURL: "https://www.runcomfy.com/cli-auth", ExpiresIn: time.Minute, Interval: 2 * time.Second, deviceCode: testDeviceCode}
	want := map[string]string{
		"%v":  "{ABCD-EFGH https://www.runcomfy.com/cli-auth 1m0s 2s}",
		"%+v": "{UserCode:ABCD-EFGH VerifyURL:https://www.runcomfy.com/cli-auth ExpiresIn:1m0s Interval:2s}",
		"%#v": `devicecode.Session{UserCode:"ABCD-EFGH", VerifyURL:"https://www.runcomfy.com/cli-auth", ExpiresIn:60000000000, Interval:2000000000}`,
		"%s":  "{ABCD-EFGH https://www.runcomfy.com/cli-auth 1m0s 2s}",
	}
	for verb, w := range want {
		for _, v := range []any{s, *s} {
			got := fmt.Sprintf(verb, v)
			got = strings.TrimPrefix(got, "&")
			if got != w {
				t.Errorf("Sprintf(%q, %T) = %s, want %s", verb, v, got, w)
			}
		}
	}
	nested := fmt.Sprintf("%+v", struct{ S Session }{*s})
	assertNoSecret(t, "nested %+v", nested)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "JSON", string(b))
}

func TestMe(t *testing.T) {
	tests := []struct {
		name    string
		reply   reply
		want    User
		wantErr func(error) bool
	}{
		{
			name:  "the user",
			reply: ok(`{"id":"usr_1","email":"ada@example.com","token_type":"cli","token_created_at":"2026-01-02T03:04:05Z"}`),
			want:  User{ID: "usr_1", Email: "ada@example.com", TokenType: "cli", TokenCreatedAt: "2026-01-02T03:04:05Z"},
		},
		{
			name:  "numbers and nulls",
			reply: ok(`{"id":42,"email":"ada@example.com","token_type":null,"token_created_at":1767322800}`),
			want:  User{ID: "42", Email: "ada@example.com", TokenCreatedAt: "1767322800"},
		},
		{"401 rejects the token", reply{code: 401, body: `{"error":"missing, invalid or revoked token"}`}, User{}, is(ErrUnauthorized)},
		{"500", unavailable(500), User{}, status(500)},
		{"403", reply{code: 403}, User{}, status(403)},
		{"neither id nor email", ok(`{"token_type":"cli"}`), User{}, is(ErrMalformed)},
		{"an email with an escape sequence", ok(`{"id":"1","email":"a\u001b]0;x\u0007@b"}`), User{}, is(ErrMalformed)},
		{"an id that is an object", ok(`{"id":{},"email":"a@b"}`), User{}, is(ErrMalformed)},
		{"not JSON", ok(`{`), User{}, is(ErrMalformed)},
		{"a network error that quotes the token", reply{err: fmt.Errorf("proxy said: bad header Bearer x%s", testToken)}, User{}, func(err error) bool {
			var ne *NetworkError
			return errors.As(err, &ne)
		}},
		{"a 500 whose message quotes the token", reply{code: 500, body: `{"error":"bad token ` + testToken + `"}`}, User{}, status(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{replies: []reply{tt.reply}}
			c := newTestClient(t, s, newFakeClock())
			got, err := c.Me(context.Background(), testToken)
			if want := (request{Method: "GET", Path: "/api/auth/me", Authorization: "Bearer " + testToken}); len(s.seen) != 1 || s.seen[0] != want {
				t.Errorf("requests = %+v, want %+v", s.seen, want)
			}
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Errorf("err = %v (%T), not the error wanted", err, err)
				}
				if err != nil {
					assertNoSecret(t, "error", err.Error())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("Me = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestMeRefusesATokenNoServerIssues(t *testing.T) {
	for _, token := range []string{"", "rc_a b", "rc_a\n", "rc_\x00", "rc_ü", strings.Repeat("a", maxField+1)} {
		s := &script{}
		c := newTestClient(t, s, newFakeClock())
		if _, err := c.Me(context.Background(), token); !errors.Is(err, ErrInvalidToken) || len(s.seen) != 0 {
			t.Errorf("Me(%q) = %v after %d requests, want ErrInvalidToken before any", token, err, len(s.seen))
		}
	}
}

func TestStatusErrorMessage(t *testing.T) {
	tests := []struct {
		err  *StatusError
		want string
	}{
		{&StatusError{Op: "start", StatusCode: 503}, "devicecode: start: the server answered 503 Service Unavailable"},
		{&StatusError{Op: "poll", StatusCode: 404, Message: "unknown device_code"}, "devicecode: poll: the server answered 404 Not Found: unknown device_code"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestStatusErrorMessageIsOneRedactedLine(t *testing.T) {
	body := `{"error":"line one\nline two ` + testDeviceCode + ` ` + strings.Repeat("x", 300) + `"}`
	s := &script{replies: []reply{{code: 400, body: body}}}
	c := newTestClient(t, s, newFakeClock())
	_, err := c.Wait(context.Background(), &Session{Interval: time.Second, ExpiresIn: time.Minute, deviceCode: testDeviceCode, issued: epoch})
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *StatusError", err)
	}
	want := "line one line two [REDACTED] " + strings.Repeat("x", 200-len("line one line two [REDACTED] ")) + "…"
	if se.Message != want {
		t.Errorf("Message = %q\nwant %q", se.Message, want)
	}
}
