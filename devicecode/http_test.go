package devicecode

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// hosts is a fake transport: it answers by URL and records, per request,
// the URL and the Authorization and User-Agent headers that reached it.
type hosts struct {
	mu      sync.Mutex
	answers map[string]*http.Response // by URL; a 302 to Location when Header has one
	seen    []hop
}

type hop struct {
	URL, Authorization, UserAgent string
}

func (h *hosts) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, hop{req.URL.String(), req.Header.Get("Authorization"), req.Header.Get("User-Agent")})
	a, ok := h.answers[req.URL.String()]
	if !ok {
		return &http.Response{StatusCode: 404, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	}
	resp := *a
	resp.Request = req
	resp.Body = io.NopCloser(strings.NewReader(`{"id":"usr_1","email":"ada@example.com"}`))
	return &resp, nil
}

func redirectTo(location string) *http.Response {
	return &http.Response{StatusCode: http.StatusFound, Header: http.Header{"Location": {location}}}
}

var meOK = &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}}

func TestRedirectsNeverCarryTheTokenAway(t *testing.T) {
	const me = "https://www.runcomfy.com/api/auth/me"
	tests := []struct {
		name     string
		location string
		wantHops []string // URLs reached, in order
		wantErr  error
	}{
		{"to another host", "https://evil.example/api/auth/me", []string{me}, ErrRedirectRefused},
		{"to a look-alike host", "https://www.runcomfy.com.evil.example/api/auth/me", []string{me}, ErrRedirectRefused},
		{"to a subdomain", "https://api.www.runcomfy.com/api/auth/me", []string{me}, ErrRedirectRefused},
		{"to the parent domain", "https://runcomfy.com/api/auth/me", []string{me}, ErrRedirectRefused},
		{"to plain http on the same host", "http://www.runcomfy.com/api/auth/me", []string{me}, ErrRedirectRefused},
		{"to another port", "https://www.runcomfy.com:8443/api/auth/me", []string{me}, ErrRedirectRefused},
		{"to another path on the same host", "https://www.runcomfy.com/v2/me", []string{me, "https://www.runcomfy.com/v2/me"}, nil},
		{"to the same host spelled in capitals", "https://WWW.RUNCOMFY.COM:443/v2/me", []string{me, "https://WWW.RUNCOMFY.COM:443/v2/me"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &hosts{answers: map[string]*http.Response{me: redirectTo(tt.location), tt.location: meOK}}
			c, err := New("https://www.runcomfy.com", NewHTTPClient(HTTPOptions{Version: "1.2.3", Transport: fake}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Me(context.Background(), testToken)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				assertNoSecret(t, "error", err.Error())
			}
			var got []string
			for _, h := range fake.seen {
				got = append(got, h.URL)
				if !strings.HasPrefix(strings.ToLower(h.URL), "https://www.runcomfy.com/") && !strings.HasPrefix(strings.ToLower(h.URL), "https://www.runcomfy.com:443/") && h.Authorization != "" {
					t.Errorf("the token reached %s", h.URL)
				}
				if h.UserAgent != "runcomfy/1.2.3" {
					t.Errorf("User-Agent to %s = %q", h.URL, h.UserAgent)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.wantHops, " ") {
				t.Errorf("hops = %v, want %v", got, tt.wantHops)
			}
		})
	}
}

func TestRedirectWithoutTokenIsFollowed(t *testing.T) {
	const poll = "https://www.runcomfy.com/api/cli-auth/poll"
	fake := &hosts{answers: map[string]*http.Response{poll: redirectTo("https://auth.example/poll"), "https://auth.example/poll": meOK}}
	hc := NewHTTPClient(HTTPOptions{Transport: fake})
	resp, err := hc.Get(poll)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(fake.seen) != 2 || fake.seen[1].UserAgent != "runcomfy/dev" {
		t.Errorf("hops = %+v, want the redirect followed with User-Agent runcomfy/dev", fake.seen)
	}
}

func TestRedirectsStopAfterTen(t *testing.T) {
	fake := &hosts{answers: map[string]*http.Response{"https://www.runcomfy.com/loop": redirectTo("https://www.runcomfy.com/loop")}}
	hc := NewHTTPClient(HTTPOptions{Transport: fake})
	_, err := hc.Get("https://www.runcomfy.com/loop")
	if err == nil || len(fake.seen) != 10 {
		t.Errorf("err = %v after %d hops, want an error after 10", err, len(fake.seen))
	}
}

// TestRedirectToAnotherServerOverTheNetwork runs the rule through a real
// transport: two loopback servers, the second one never sees the token.
func TestRedirectToAnotherServerOverTheNetwork(t *testing.T) {
	var mu sync.Mutex
	var leaked, reached bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		reached = true
		leaked = r.Header.Get("Authorization") != ""
	}))
	defer other.Close()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer web.Close()

	c, err := New(web.URL, NewHTTPClient(HTTPOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Me(context.Background(), testToken)
	if !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("err = %v, want ErrRedirectRefused", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if reached || leaked {
		t.Errorf("the other server was reached (%v), with the token (%v)", reached, leaked)
	}
}

func TestUserAgentDoesNotChangeTheCallersRequest(t *testing.T) {
	fake := &hosts{answers: map[string]*http.Response{"https://www.runcomfy.com/x": meOK}}
	hc := NewHTTPClient(HTTPOptions{Version: "9", Transport: fake})
	req, _ := http.NewRequest("GET", "https://www.runcomfy.com/x", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("User-Agent") != "" || fake.seen[0].UserAgent != "runcomfy/9" {
		t.Errorf("caller's User-Agent %q, sent %q", req.Header.Get("User-Agent"), fake.seen[0].UserAgent)
	}
}
