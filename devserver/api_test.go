package devserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/internal/testutil"
)

// fakeClock is the Options.Now of the tests: time moves only when a test
// says so.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// do sends one request and returns the status and the whole body.
func do(t *testing.T, method, url, authorization, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func startSession(t *testing.T, base string) startResponse {
	t.Helper()
	code, body := do(t, http.MethodPost, base+"/api/cli-auth/start", "", "")
	if code != http.StatusOK {
		t.Fatalf("start: status %d, body %s", code, body)
	}
	var start startResponse
	if err := json.Unmarshal([]byte(body), &start); err != nil {
		t.Fatalf("start: %v in %s", err, body)
	}
	return start
}

func poll(t *testing.T, base, deviceCode string) (int, string) {
	t.Helper()
	body, err := json.Marshal(pollRequest{DeviceCode: deviceCode})
	if err != nil {
		t.Fatal(err)
	}
	return do(t, http.MethodPost, base+"/api/cli-auth/poll", "", string(body))
}

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKMNPQRSTVWXYZ]{4}-[BCDFGHJKMNPQRSTVWXYZ]{4}$`)

func TestStartAnswersCodesAndVerifyURL(t *testing.T) {
	tests := []struct {
		name                      string
		opts                      Options
		wantExpires, wantInterval int
	}{
		{"defaults", Options{}, 600, 2},
		{"knobs", Options{PollInterval: 5, ExpiresIn: 30}, 30, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(New(tt.opts))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/api/cli-auth/start", "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			var fields map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&fields); err != nil {
				t.Fatal(err)
			}
			if len(fields) != 5 {
				t.Errorf("fields = %v, want exactly device_code, user_code, verify_url, expires_in, poll_interval", fields)
			}
			deviceCode, _ := fields["device_code"].(string)
			if len(deviceCode) != 43 {
				t.Errorf("device_code = %q, want 43 random characters", deviceCode)
			}
			if userCode, _ := fields["user_code"].(string); !userCodeShape.MatchString(userCode) {
				t.Errorf("user_code = %q, want ABCD-EFGH in unambiguous letters", userCode)
			}
			if got, want := fields["verify_url"], srv.URL+"/cli-auth"; got != want {
				t.Errorf("verify_url = %v, want %s", got, want)
			}
			if got := fields["expires_in"]; got != float64(tt.wantExpires) {
				t.Errorf("expires_in = %v, want %d", got, tt.wantExpires)
			}
			if got := fields["poll_interval"]; got != float64(tt.wantInterval) {
				t.Errorf("poll_interval = %v, want %d", got, tt.wantInterval)
			}
		})
	}
}

// step is one poll of a session, after an optional action and clock move.
type step struct {
	action   func(s *Server, userCode string) error
	advance  time.Duration
	wantCode int
	wantBody string // "TOKEN" stands for the token minted last
}

func approve(s *Server, userCode string) error { return s.Approve(userCode, "ada@example.com") }
func deny(s *Server, userCode string) error    { return s.Deny(userCode) }

const (
	pending    = `{"status":"pending"}`
	slowDown   = `{"status":"slow_down"}`
	authorized = `{"status":"authorized","access_token":"TOKEN"}`
	denied     = `{"status":"denied"}`
	expired    = `{"status":"expired"}`
	forced     = `{"error":"temporarily unavailable (forced failure)"}`
)

func TestPollAnswersFollowTheSession(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		steps []step
	}{
		{"approved is authorized once, then expired", Options{}, []step{
			{nil, 0, 200, pending},
			{approve, 2 * time.Second, 200, authorized},
			{nil, 2 * time.Second, 410, expired},
			{nil, 2 * time.Second, 410, expired},
		}},
		{"denied stays denied", Options{}, []step{
			{nil, 0, 200, pending},
			{deny, 2 * time.Second, 410, denied},
			{nil, 2 * time.Second, 410, denied},
		}},
		{"expires after expires_in", Options{ExpiresIn: 60}, []step{
			{nil, 59 * time.Second, 200, pending},
			{nil, time.Second, 410, expired},
		}},
		{"approved too late is expired", Options{ExpiresIn: 60}, []step{
			{approve, 60 * time.Second, 410, expired},
		}},
		{"polling faster than the interval is slow_down", Options{PollInterval: 5}, []step{
			{nil, 0, 200, pending},
			{nil, 0, 200, slowDown},
			{nil, 4 * time.Second, 200, slowDown},
			{nil, 5 * time.Second, 200, pending},
		}},
		{"fast polls allowed", Options{AllowFastPolls: true}, []step{
			{nil, 0, 200, pending},
			{nil, 0, 200, pending},
		}},
		{"an approved session answers fast polls at once", Options{}, []step{
			{nil, 0, 200, pending},
			{approve, 0, 200, authorized},
		}},
		{"forced slow_down", Options{SlowDown: 2}, []step{
			{nil, 0, 200, slowDown},
			{nil, 2 * time.Second, 200, slowDown},
			{nil, 2 * time.Second, 200, pending},
		}},
		{"forced failures, then normal answers", Options{Failures: 2}, []step{
			{nil, 0, 503, forced},
			{nil, 0, 503, forced},
			{nil, 0, 200, pending},
		}},
		{"auto-approve after the first poll", Options{AutoApprove: true}, []step{
			{nil, 0, 200, pending},
			{nil, 2 * time.Second, 200, authorized},
			{nil, 2 * time.Second, 410, expired},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			tt.opts.Now = clock.Now
			s := New(tt.opts)
			srv := httptest.NewServer(s)
			defer srv.Close()
			start := startSession(t, srv.URL)
			for i, st := range tt.steps {
				if st.action != nil {
					if err := st.action(s, start.UserCode); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
				clock.Advance(st.advance)
				code, body := poll(t, srv.URL, start.DeviceCode)
				want := st.wantBody
				if strings.Contains(want, "TOKEN") {
					tokens := s.Tokens()
					if len(tokens) != 1 {
						t.Fatalf("step %d: minted %d tokens, want 1", i, len(tokens))
					}
					want = strings.Replace(want, "TOKEN", tokens[0], 1)
				}
				if code != st.wantCode || body != want+"\n" {
					t.Errorf("step %d: poll = %d %s, want %d %s", i, code, body, st.wantCode, want)
				}
			}
			if got := s.Polls(); got != len(tt.steps) {
				t.Errorf("Polls() = %d, want %d", got, len(tt.steps))
			}
		})
	}
}

func TestTokenIsRandomWithPrefix(t *testing.T) {
	s := New(Options{AllowFastPolls: true})
	srv := httptest.NewServer(s)
	defer srv.Close()
	seen := map[string]bool{}
	for range 3 {
		start := startSession(t, srv.URL)
		if err := s.Approve(start.UserCode, DefaultEmail); err != nil {
			t.Fatal(err)
		}
		code, body := poll(t, srv.URL, start.DeviceCode)
		var resp pollResponse
		if err := json.Unmarshal([]byte(body), &resp); err != nil || code != http.StatusOK {
			t.Fatalf("poll = %d %s (%v)", code, body, err)
		}
		if !regexp.MustCompile(`^rc_[A-Za-z0-9_-]{43}$`).MatchString(resp.AccessToken) || seen[resp.AccessToken] {
			t.Errorf("access_token = %q, want rc_ and 43 fresh random characters", resp.AccessToken)
		}
		seen[resp.AccessToken] = true
	}
}

func TestPollRefusesBadRequests(t *testing.T) {
	tests := []struct {
		name, body string
		wantCode   int
		wantBody   string
	}{
		{"unknown device code", `{"device_code":"nope"}`, 404, `{"error":"unknown device_code"}`},
		{"no device code", `{}`, 400, `{"error":"device_code is required"}`},
		{"not JSON", `device_code=x`, 400, `{"error":"body must be JSON: {\"device_code\": \"...\"}"}`},
	}
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, http.MethodPost, srv.URL+"/api/cli-auth/poll", "", tt.body)
			if code != tt.wantCode || body != tt.wantBody+"\n" {
				t.Errorf("poll = %d %s, want %d %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestMeAnswersForLiveTokensOnly(t *testing.T) {
	clock := newFakeClock()
	s := New(Options{Now: clock.Now})
	srv := httptest.NewServer(s)
	defer srv.Close()

	start := startSession(t, srv.URL)
	if err := s.Approve(start.UserCode, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if code, body := poll(t, srv.URL, start.DeviceCode); code != http.StatusOK {
		t.Fatalf("poll = %d %s", code, body)
	}
	cli := s.Tokens()[0]
	clock.Advance(time.Hour)
	api := s.MintToken("bob@example.com")
	revoked := s.MintToken("eve@example.com")
	s.Revoke(revoked)
	revokedOverHTTP := s.MintToken("mallory@example.com")
	if code, body := do(t, http.MethodPost, srv.URL+"/api/dev/revoke", "Bearer "+revokedOverHTTP, ""); code != http.StatusNoContent || body != "" {
		t.Fatalf("revoke = %d %q, want 204 and no body", code, body)
	}

	const denied = `{"error":"missing, invalid or revoked token"}`
	tests := []struct {
		name, authorization string
		wantCode            int
		wantBody            string
	}{
		{"login token", "Bearer " + cli, 200,
			`{"id":"` + userID("ada@example.com") + `","email":"ada@example.com","token_type":"cli","token_created_at":"2026-03-04T05:06:07Z"}`},
		{"minted token, scheme in lower case", "bearer " + api, 200,
			`{"id":"` + userID("bob@example.com") + `","email":"bob@example.com","token_type":"api","token_created_at":"2026-03-04T06:06:07Z"}`},
		{"no header", "", 401, denied},
		{"not bearer", "Basic " + cli, 401, denied},
		{"unknown token", "Bearer rc_unknown", 401, denied},
		{"revoked with Revoke", "Bearer " + revoked, 401, denied},
		{"revoked over HTTP", "Bearer " + revokedOverHTTP, 401, denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, http.MethodGet, srv.URL+"/api/auth/me", tt.authorization, "")
			if code != tt.wantCode || body != tt.wantBody+"\n" {
				t.Errorf("me = %d %s, want %d %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestRevokeUnknownTokenIsUnauthorized(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	if code, _ := do(t, http.MethodPost, srv.URL+"/api/dev/revoke", "Bearer rc_unknown", ""); code != http.StatusUnauthorized {
		t.Errorf("revoke = %d, want 401", code)
	}
}

func TestConcurrentStartsAreCounted(t *testing.T) {
	s := New(Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	const n = 5
	starts := make(chan startResponse, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { starts <- startSession(t, srv.URL) })
	}
	wg.Wait()
	close(starts)
	devices, users := map[string]bool{}, map[string]bool{}
	for st := range starts {
		devices[st.DeviceCode], users[st.UserCode] = true, true
	}
	if got := s.Starts(); got != n {
		t.Errorf("Starts() = %d, want %d", got, n)
	}
	if len(devices) != n || len(users) != n {
		t.Errorf("%d device codes and %d user codes, want %d distinct of each", len(devices), len(users), n)
	}
	if got := len(s.UserCodes()); got != n {
		t.Errorf("len(UserCodes()) = %d, want %d", got, n)
	}
}

func TestDecideMatchesCodesLooselyOnce(t *testing.T) {
	clock := newFakeClock()
	s := New(Options{Now: clock.Now, ExpiresIn: 60})
	srv := httptest.NewServer(s)
	defer srv.Close()
	code := func() string { return startSession(t, srv.URL).UserCode }
	lowerNoDash := func(c string) string { return strings.ToLower(strings.ReplaceAll(c, "-", "")) }

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"exact", func() error { return s.Approve(code(), "a@b.c") }, nil},
		{"lower case, no dash", func() error { return s.Approve(lowerNoDash(code()), "a@b.c") }, nil},
		{"spaces", func() error { c := code(); return s.Deny(" " + c[:4] + " " + c[5:] + " ") }, nil},
		{"unknown", func() error { return s.Approve("BCDF-GHJK", "a@b.c") }, ErrUnknownCode},
		{"twice", func() error { c := code(); _ = s.Deny(c); return s.Approve(c, "a@b.c") }, ErrCodeUsed},
		{"expired", func() error { c := code(); clock.Advance(time.Minute); return s.Deny(c) }, ErrExpiredCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLogMasksTokensAndDeviceCodes(t *testing.T) {
	var logs testutil.Buffer
	s := New(Options{Log: &logs, AutoApprove: true, AllowFastPolls: true})
	srv := httptest.NewServer(s)
	start := startSession(t, srv.URL)
	poll(t, srv.URL, start.DeviceCode)
	poll(t, srv.URL, start.DeviceCode)
	token := s.Tokens()[0]
	do(t, http.MethodGet, srv.URL+"/api/auth/me", "Bearer "+token, "")
	do(t, http.MethodPost, srv.URL+"/api/dev/revoke", "Bearer "+token, "")
	srv.Close() // waits for the handlers, and so for their log lines

	got := logs.String()
	for _, secret := range []string{start.DeviceCode, token, token[:12], start.DeviceCode[:12]} {
		if strings.Contains(got, secret) {
			t.Errorf("log holds %q:\n%s", secret, got)
		}
	}
	for _, want := range []string{
		"start user_code=" + start.UserCode + " device_code=…" + start.DeviceCode[39:] + "\n",
		"authorized user_code=" + start.UserCode + " email=demo@runcomfy.dev token=rc_…" + token[len(token)-4:] + "\n",
		"revoked token=rc_…" + token[len(token)-4:] + "\n",
		"GET /api/auth/me 200 ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
}

func TestNormalizeUserCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BCDF-GHJK", "BCDFGHJK"},
		{"bcdfghjk", "BCDFGHJK"},
		{" bcdf - ghjk\n", "BCDFGHJK"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normalizeUserCode(tt.in); got != tt.want {
			t.Errorf("normalizeUserCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalizeUserCode(f *testing.F) {
	f.Add("BCDF-GHJK")
	f.Add(" bcdf ghjk ")
	f.Fuzz(func(t *testing.T, typed string) {
		got := normalizeUserCode(typed)
		if strings.ContainsAny(got, "- \t\n") {
			t.Errorf("normalizeUserCode(%q) = %q keeps a separator", typed, got)
		}
		if again := normalizeUserCode(got); again != got {
			t.Errorf("normalizeUserCode is not idempotent: %q → %q → %q", typed, got, again)
		}
	})
}

func TestNewUserCodeUsesTheAlphabetOnly(t *testing.T) {
	for range 1000 {
		if code := formatUserCode(newUserCode()); !userCodeShape.MatchString(code) {
			t.Fatalf("user code %q is not ABCD-EFGH in %s", code, userCodeAlphabet)
		}
	}
}
