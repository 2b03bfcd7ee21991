package devicecode

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Secrets the tests hand out; no error, trace or formatted value may show
// them.
const (
	testDeviceCode = "dc-7Hq2pXw9Lm4Zr8Vb"
	testToken      = "rc_9fKx2LqPzT7mWnB4vYc1"
)

// epoch is the fake clock's start.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is Client.Now and Client.Sleep without sleeping: Sleep records
// the wait and moves the clock on.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: epoch} }

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

// reply is one scripted answer: a response, or a network error.
type reply struct {
	code   int
	body   string
	header http.Header
	err    error
}

func ok(body string) reply   { return reply{code: http.StatusOK, body: body} }
func gone(body string) reply { return reply{code: http.StatusGone, body: body} }

// request is what the fake server saw of one request.
type request struct {
	Method, Path, Body, ContentType, Authorization string
}

// script is a fake Doer that answers from a list and records every
// request. Once the list is used up it answers rest, if set.
type script struct {
	t       *testing.T
	replies []reply
	rest    *reply
	seen    []request
	// before, when set, runs before the n-th request (from 1) is answered.
	before func(n int)
}

func (s *script) Do(req *http.Request) (*http.Response, error) {
	s.t.Helper()
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	s.seen = append(s.seen, request{
		Method:        req.Method,
		Path:          req.URL.Path,
		Body:          string(body),
		ContentType:   req.Header.Get("Content-Type"),
		Authorization: req.Header.Get("Authorization"),
	})
	if s.before != nil {
		s.before(len(s.seen))
	}
	var r reply
	switch {
	case len(s.replies) > 0:
		r, s.replies = s.replies[0], s.replies[1:]
	case s.rest != nil:
		r = *s.rest
	default:
		s.t.Fatalf("unexpected request %d: %s %s", len(s.seen), req.Method, req.URL)
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	h := r.header
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		StatusCode: r.code,
		Status:     http.StatusText(r.code),
		Header:     h,
		Body:       io.NopCloser(strings.NewReader(r.body)),
		Request:    req,
	}, nil
}

// newTestClient returns a Client on the script and the fake clock.
func newTestClient(t *testing.T, s *script, clock *fakeClock) *Client {
	t.Helper()
	s.t = t
	c, err := New("https://www.runcomfy.com", s)
	if err != nil {
		t.Fatal(err)
	}
	c.Now = clock.Now
	c.Sleep = clock.Sleep
	return c
}

// assertNoSecret fails when s shows one of the test secrets.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testDeviceCode, testToken} {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows a secret: %q", what, s)
		}
	}
}
