package devserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/runcomfy/runcomfy/internal/testutil"
)

func browse(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, tab context.Context, a chromedp.Action[string]) string {
	t.Helper()
	v, err := chromedp.Run(tab, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// outcome is what the page shows after a code is sent: the result, or the
// error that refused the code. Waiting for either fails a test at once
// rather than at its deadline.
const outcome = chromedp.CSS("#result, #error")

// signInWithCodeLink follows a link that carries the code, as a phishing
// mail would, signs in, and checks at each step that the code was not
// filled in. It leaves the tab on the code form.
func signInWithCodeLink(t *testing.T, tab context.Context, base, userCode string) {
	t.Helper()
	link := base + "/cli-auth?code=" + url.QueryEscape(userCode)
	browse(t, tab, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("email")))
	if got := read(t, tab, chromedp.Value(chromedp.ID("email"))); got != DefaultEmail {
		t.Errorf("email box = %q, want %q", got, DefaultEmail)
	}
	if html := read(t, tab, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, userCode) {
		t.Errorf("the sign-in page shows the code from the link:\n%s", html)
	}

	browse(t, tab, chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("code")))
	browse(t, tab, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("code")))
	if got := read(t, tab, chromedp.Value(chromedp.ID("code"))); got != "" {
		t.Errorf("code box = %q, want it empty", got)
	}
	if html := read(t, tab, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, userCode) {
		t.Errorf("the code page shows the code from the link:\n%s", html)
	}
}

func TestBrowserAuthorizes(t *testing.T) {
	s := New(Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	start := startSession(t, srv.URL)
	tab := testutil.Chromium(t)

	signInWithCodeLink(t, tab, srv.URL, start.UserCode)
	browse(t, tab,
		chromedp.SendKeys(chromedp.ID("code"), start.UserCode),
		chromedp.Click(chromedp.ID("authorize")),
		chromedp.WaitVisible(outcome),
	)
	if got := read(t, tab, chromedp.Text(outcome)); got != msgAuthorized {
		t.Errorf("result = %q, want %q", got, msgAuthorized)
	}

	code, body := poll(t, srv.URL, start.DeviceCode)
	tokens := s.Tokens()
	if len(tokens) != 1 || code != http.StatusOK || body != `{"status":"authorized","access_token":"`+tokens[0]+`"}`+"\n" {
		t.Fatalf("poll = %d %s, want 200 authorized", code, body)
	}
	if _, me := do(t, http.MethodGet, srv.URL+"/api/auth/me", "Bearer "+tokens[0], ""); !strings.Contains(me, `"email":"`+DefaultEmail+`"`) {
		t.Errorf("me = %s, want the demo user", me)
	}
}

func TestBrowserDenies(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	start := startSession(t, srv.URL)
	tab := testutil.Chromium(t)

	signInWithCodeLink(t, tab, srv.URL, start.UserCode)
	// Typed the way a person might: lower case, no dash.
	typed := strings.ToLower(strings.ReplaceAll(start.UserCode, "-", ""))
	browse(t, tab,
		chromedp.SendKeys(chromedp.ID("code"), typed),
		chromedp.Click(chromedp.ID("deny")),
		chromedp.WaitVisible(outcome),
	)
	if got := read(t, tab, chromedp.Text(outcome)); got != msgDenied {
		t.Errorf("result = %q, want %q", got, msgDenied)
	}
	if code, body := poll(t, srv.URL, start.DeviceCode); code != http.StatusGone || body != denied+"\n" {
		t.Errorf("poll = %d %s, want 410 %s", code, body, denied)
	}
}
