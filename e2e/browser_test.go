package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/runcomfy/runcomfy/devserver"
	"github.com/runcomfy/runcomfy/internal/testutil"
)

// browserLogin starts a real `runcomfy login` whose $BROWSER records the
// URL it is asked to open, and returns the process, that URL and the code.
func browserLogin(t *testing.T) (*sandbox, *devServer, *proc, string, string) {
	t.Helper()
	s, dev := loginSandbox(t, devserver.Options{})
	urlFile := filepath.Join(s.home, "opened-url")
	launcher := filepath.Join(s.home, "browser.sh")
	script := "#!/bin/sh\necho \"launcher output must not reach stdout\"\nprintf '%s' \"$1\" > " + urlFile + "\n"
	if err := os.WriteFile(launcher, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	s.env["BROWSER"] = launcher
	p := s.start("", "runcomfy", "login")
	code := userCode(t, p.waitStderr("Waiting for authorization", 15*time.Second))
	var opened []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if data, err := os.ReadFile(urlFile); err == nil && len(data) > 0 {
			opened = data
			break
		}
	}
	if want := dev.URL + "/cli-auth"; string(opened) != want {
		t.Fatalf("$BROWSER was asked to open %q, want %q", opened, want)
	}
	return s, dev, p, string(opened), code
}

func runSteps(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatal(err)
	}
}

// pressInBrowser signs in on the page at url, types code and presses
// the button with the given id.
func pressInBrowser(t *testing.T, url, code, button string) {
	t.Helper()
	runSteps(t, testutil.Chromium(t),
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID(button)),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	)
}

func TestBrowserLoginAuthorize(t *testing.T) {
	s, dev, p, url, code := browserLogin(t)
	pressInBrowser(t, url, code, "authorize")
	r := p.wait(30 * time.Second)
	if r.code != 0 || r.stdout != "" || !strings.HasSuffix(r.stderr, "Logged in as demo@runcomfy.dev. Token saved to "+s.tokenPath()+".\n") {
		t.Fatalf("login = %+v", r)
	}
	if !strings.Contains(r.stderr, "launcher output must not reach stdout") {
		t.Fatalf("the launcher's output went elsewhere: %+v", r)
	}
	if got := s.run("", "runcomfy", "token"); got.stdout != dev.Tokens()[0]+"\n" {
		t.Fatalf("token = %+v", got)
	}
}

func TestBrowserLoginDeny(t *testing.T) {
	s, _, p, url, code := browserLogin(t)
	pressInBrowser(t, url, code, "deny")
	r := p.wait(30 * time.Second)
	if r.code != 77 || !strings.HasSuffix(r.stderr, "runcomfy: the sign-in was denied in the browser; run `runcomfy login` to try again\n") {
		t.Fatalf("login = %+v", r)
	}
	if got := s.readToken(); got != "<none>" {
		t.Fatalf("denied login wrote %q", got)
	}
}
