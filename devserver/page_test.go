package devserver

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// visitor is a person's browser without the browser: a client with its own
// cookie jar.
type visitor struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newVisitor(t *testing.T, base string) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (v *visitor) read(resp *http.Response, err error) (int, string) {
	v.t.Helper()
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (v *visitor) get(path string) (int, string) {
	v.t.Helper()
	return v.read(v.c.Get(v.base + path))
}

func (v *visitor) post(path string, form url.Values) (int, string) {
	v.t.Helper()
	return v.read(v.c.PostForm(v.base+path, form))
}

var csrfField = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]+)">`)

// csrf returns the CSRF token of the form on the page, after loading it.
func (v *visitor) csrf() string {
	v.t.Helper()
	_, body := v.get("/cli-auth")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		v.t.Fatalf("no CSRF field in:\n%s", body)
	}
	return m[1]
}

func (v *visitor) signIn(email string) {
	v.t.Helper()
	code, body := v.post("/cli-auth/signin", url.Values{"csrf": {v.csrf()}, "email": {email}})
	if code != http.StatusOK || !strings.Contains(body, `Signed in as <strong id="user">`+email+`</strong>`) {
		v.t.Fatalf("sign-in = %d:\n%s", code, body)
	}
}

func errorLine(msg string) string { return `<p class="error" id="error" role="alert">` + msg + `</p>` }

func TestPageNeverFillsInACodeFromTheURL(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	start := startSession(t, srv.URL)
	v := newVisitor(t, srv.URL)
	link := "/cli-auth?code=" + url.QueryEscape(start.UserCode)
	codeInPage := regexp.MustCompile("(?i)" + start.UserCode[:4] + "-?" + start.UserCode[5:])

	code, body := v.get(link)
	if code != http.StatusOK || !strings.Contains(body, `<input id="email" name="email" type="email" value="demo@runcomfy.dev"`) {
		t.Fatalf("signed out: %d, want 200 and the sign-in form:\n%s", code, body)
	}
	if codeInPage.MatchString(body) {
		t.Errorf("signed out: the page shows the code from the URL:\n%s", body)
	}

	v.signIn("ada@example.com")
	code, body = v.get(link)
	if code != http.StatusOK || !strings.Contains(body, `<input id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="ABCD-EFGH" autofocus>`) {
		t.Fatalf("signed in: %d, want 200 and an empty code box:\n%s", code, body)
	}
	if codeInPage.MatchString(body) {
		t.Errorf("signed in: the page shows the code from the URL:\n%s", body)
	}
}

func TestPageLoadsNothingFromElsewhere(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	v := newVisitor(t, srv.URL)
	resp, err := v.c.Get(srv.URL + "/cli-auth")
	_, body := v.read(resp, err)
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}
	for k, w := range want {
		if got := resp.Header.Get(k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	for _, bad := range []string{"<script", "<link", "src=", "url(", "://"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
}

func TestFormsRequireTheSessionsCSRFToken(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	other := newVisitor(t, srv.URL).csrf()

	tests := []struct {
		name   string
		cookie bool // whether the visitor has a (signed-in) session
		csrf   string
	}{
		{"no cookie", false, other},
		{"no token", true, ""},
		{"wrong token", true, "forged"},
		{"another session's token", true, other},
	}
	for _, tt := range tests {
		for _, path := range []string{"/cli-auth/signin", "/cli-auth"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				v := newVisitor(t, srv.URL)
				if tt.cookie {
					v.signIn("ada@example.com")
				}
				start := startSession(t, srv.URL)
				code, body := v.post(path, url.Values{"csrf": {tt.csrf}, "email": {"eve@example.com"}, "code": {start.UserCode}, "action": {"authorize"}})
				if code != http.StatusForbidden || !strings.Contains(body, errorLine(msgStale)) {
					t.Errorf("post = %d, want 403 and %q:\n%s", code, msgStale, body)
				}
				if code, body := poll(t, srv.URL, start.DeviceCode); body != pending+"\n" {
					t.Errorf("poll after a refused form = %d %s, want pending", code, body)
				}
			})
		}
	}
}

func TestCodeFormNeedsSignIn(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	start := startSession(t, srv.URL)
	v := newVisitor(t, srv.URL)
	code, body := v.post("/cli-auth", url.Values{"csrf": {v.csrf()}, "code": {start.UserCode}, "action": {"authorize"}})
	if code != http.StatusForbidden || !strings.Contains(body, errorLine(msgSignInFirst)) || !strings.Contains(body, `id="signin"`) {
		t.Errorf("post = %d, want 403, %q and the sign-in form:\n%s", code, msgSignInFirst, body)
	}
}

func TestSignInRefusesANonEmail(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	for _, email := range []string{"", "ada", "@example.com", "ada@", "a b@example.com", "a@b@c"} {
		v := newVisitor(t, srv.URL)
		code, body := v.post("/cli-auth/signin", url.Values{"csrf": {v.csrf()}, "email": {email}})
		if code != http.StatusBadRequest || !strings.Contains(body, errorLine(msgBadEmail)) {
			t.Errorf("sign in as %q = %d, want 400 and %q:\n%s", email, code, msgBadEmail, body)
		}
	}
}

func TestSignInStartsANewSession(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	v := newVisitor(t, srv.URL)
	before := v.csrf()
	v.signIn("ada@example.com")
	if after := v.csrf(); after == before {
		t.Errorf("the CSRF token survived sign-in: %q", after)
	}
}

func TestCodeFormAuthorizesOrDenies(t *testing.T) {
	same := func(c string) string { return c }
	tests := []struct {
		name     string
		typed    func(userCode string) string
		action   string
		before   func(s *Server, clock *fakeClock, userCode string)
		wantCode int
		wantPage string // the #result or #error line
		wantPoll string // "TOKEN" stands for the token minted
	}{
		{"authorize", same, "authorize", nil,
			200, `<p id="result">` + msgAuthorized + `</p>`, authorized},
		{"lower case without dash", func(c string) string { return strings.ToLower(c[:4] + c[5:]) }, "authorize", nil,
			200, `<p id="result">` + msgAuthorized + `</p>`, authorized},
		{"spaces around", func(c string) string { return "  " + c + " " }, "authorize", nil,
			200, `<p id="result">` + msgAuthorized + `</p>`, authorized},
		{"deny", same, "deny", nil,
			200, `<p id="result">` + msgDenied + `</p>`, denied},
		{"wrong code", func(string) string { return "BCDF-GHJK" }, "authorize", nil,
			400, errorLine(msgUnknownCode), pending},
		{"empty code", func(string) string { return " - " }, "authorize", nil,
			400, errorLine(msgNoCode), pending},
		{"no action", same, "", nil,
			400, errorLine(msgBadAction), pending},
		{"expired code", same, "authorize", func(_ *Server, clock *fakeClock, _ string) { clock.Advance(10 * time.Minute) },
			400, errorLine(msgExpiredCode), expired},
		{"code used already", same, "authorize", func(s *Server, _ *fakeClock, c string) { _ = s.Deny(c) },
			400, errorLine(msgUsedCode), denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s := New(Options{Now: clock.Now})
			srv := httptest.NewServer(s)
			defer srv.Close()
			start := startSession(t, srv.URL)
			v := newVisitor(t, srv.URL)
			v.signIn("ada@example.com")
			if tt.before != nil {
				tt.before(s, clock, start.UserCode)
			}

			code, body := v.post("/cli-auth", url.Values{"csrf": {v.csrf()}, "code": {tt.typed(start.UserCode)}, "action": {tt.action}})
			if code != tt.wantCode || !strings.Contains(body, tt.wantPage) {
				t.Errorf("post = %d, want %d and %s:\n%s", code, tt.wantCode, tt.wantPage, body)
			}
			if tt.wantCode != http.StatusOK && !strings.Contains(body, `<input id="code" name="code" autocomplete="off"`) {
				t.Errorf("a refused code does not show the code box again:\n%s", body)
			}

			_, got := poll(t, srv.URL, start.DeviceCode)
			want := tt.wantPoll
			if tokens := s.Tokens(); want == authorized && len(tokens) == 1 {
				want = strings.Replace(want, "TOKEN", tokens[0], 1)
				if _, me := do(t, http.MethodGet, srv.URL+"/api/auth/me", "Bearer "+tokens[0], ""); !strings.Contains(me, `"email":"ada@example.com"`) {
					t.Errorf("me = %s, want the signed-in user", me)
				}
			}
			if got != want+"\n" {
				t.Errorf("poll = %s, want %s", got, want)
			}
		})
	}
}
