package devicecode

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// The decoders read what a server sends: whatever it sends, they return a
// checked value or ErrMalformed, and never panic. The seeds run in every
// go test; go test -fuzz explores from them.

func FuzzDecodeStart(f *testing.F) {
	f.Add([]byte(`{"device_code":"d","user_code":"ABCD-EFGH","verify_url":"https://www.runcomfy.com/cli-auth","expires_in":600,"poll_interval":2}`))
	f.Add([]byte(`{"device_code":"d","user_code":"U","verify_url":"http://[::1]:8080/cli-auth","expires_in":0.5,"poll_interval":0.001}`))
	f.Add([]byte(`{"device_code":1,"expires_in":"600"}`))
	f.Add([]byte(`{"device_code":"d","user_code":"\u0000","verify_url":"https://h","expires_in":1e308,"poll_interval":-1e308}`))
	f.Add([]byte(` {"verify_url":"https://u:p@h/"} `))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"a":`))
	f.Add([]byte{0xff, '{'})
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeStart(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		switch {
		case a.deviceCode == "", !printable(a.userCode), a.userCode == "", !validVerifyURL(a.verifyURL):
			t.Fatalf("accepted %+v", a)
		case a.expiresIn < 0, a.expiresIn > maxExpiresIn, a.interval < minInterval, a.interval > maxExpiresIn:
			t.Fatalf("accepted durations %v, %v", a.expiresIn, a.interval)
		}
	})
}

func FuzzDecodePoll(f *testing.F) {
	for _, body := range []string{pending, slowDown, authorized, denied, expired,
		`{"status":"authorized","access_token":""}`, `{"status":"authorized","access_token":7}`,
		`{"status":"authorized","access_token":"a b"}`, `{"status":null}`, `{"STATUS":"pending"}`,
		`{"status":"pending"} trailing`, `"pending"`, ``} {
		f.Add(http.StatusOK, []byte(body))
	}
	f.Add(http.StatusGone, []byte(denied))
	f.Add(http.StatusGone, []byte(authorized))
	f.Add(http.StatusTeapot, []byte(pending))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		a, err := decodePoll(code, body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		switch a.status {
		case statusAuthorized:
			if !validToken(a.token) || code != http.StatusOK {
				t.Fatalf("accepted authorized with token %q under %d", a.token, code)
			}
		case statusPending, statusSlowDown:
			if a.token != "" || code != http.StatusOK {
				t.Fatalf("accepted %+v under %d", a, code)
			}
		case statusDenied, statusExpired:
		default:
			t.Fatalf("accepted status %q", a.status)
		}
	})
}

func FuzzDecodeMe(f *testing.F) {
	f.Add([]byte(`{"id":"usr_1","email":"ada@example.com","token_type":"cli","token_created_at":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"id":-1.5e3,"email":null,"token_created_at":1767322800}`))
	f.Add([]byte(`{"id":true}`))
	f.Add([]byte(`{"id":[],"email":{}}`))
	f.Add([]byte(`{"email":"a\u0007"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decodeMe(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if u.ID == "" && u.Email == "" || !printable(u.ID+u.Email+u.TokenType+u.TokenCreatedAt) {
			t.Fatalf("accepted %+v", u)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, v := range []string{"", "0", "20", "-1", "99999999999", "Fri, 02 Jan 2026 03:05:05 GMT", "soon"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(http.Header{"Retry-After": {v}}, epoch)
		if d < 0 || d > maxExpiresIn {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"20", 20 * time.Second},
		{" 3 ", 3 * time.Second},
		{"-1", 0},
		{"1.5", 0},
		{"99999999999", 0},
		{"100000", maxExpiresIn},
		{epoch.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{epoch.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(http.Header{"Retry-After": {tt.v}}, epoch); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
