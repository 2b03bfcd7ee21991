package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/devserver"
)

// loginSandbox is a sandbox pointed at a fresh dev server.
func loginSandbox(t *testing.T, opts devserver.Options) (*sandbox, *devServer) {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = 1
	}
	dev := startDevServer(t, opts)
	s := newSandbox(t)
	s.env["RUNCOMFY_WEB_BASE"] = dev.URL
	return s, dev
}

func TestLoginWhoamiTokenLogout(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
	r := s.start("", "runcomfy", "login", "--no-browser").wait(30 * time.Second)
	code := userCode(t, r.stderr)
	want := "Your one-time code: " + code + "\n" +
		"Enter it at: " + dev.URL + "/cli-auth\n" +
		"Waiting for authorization (the code expires in 10:00)...\n" +
		"Logged in as demo@runcomfy.dev. Token saved to " + s.tokenPath() + ".\n"
	if r != (result{stderr: want}) {
		t.Fatalf("login = %+v\nwant stderr %q", r, want)
	}
	if strings.Contains(dev.URL+"/cli-auth", code) {
		t.Fatal("the code is in the URL")
	}
	if m := s.mode(s.tokenPath()); m != 0o600 {
		t.Fatalf("token.json mode %04o", m)
	}
	token := dev.Tokens()[0]
	var file map[string]any
	data, _ := os.ReadFile(s.tokenPath())
	if err := json.Unmarshal(data, &file); err != nil || file["access_token"] != token || file["user_email"] != "demo@runcomfy.dev" {
		t.Fatalf("token.json = %s", data)
	}

	r = s.run("", "runcomfy", "whoami")
	wantWho := fmt.Sprintf("Logged in as demo@runcomfy.dev\n  user id:    %s\n  token type: cli\n  token from: %s\n", meID(t, dev, token), s.tokenPath())
	if r != (result{stdout: wantWho}) {
		t.Fatalf("whoami = %+v\nwant %q", r, wantWho)
	}
	if r := s.run("", "runcomfy", "token"); r != (result{stdout: token + "\n"}) {
		t.Fatalf("token = %+v", r)
	}
	if r := s.run("", "runcomfy", "logout"); r.code != 0 {
		t.Fatalf("logout = %+v", r)
	}
	r = s.run("", "runcomfy", "whoami")
	if r != (result{stderr: "runcomfy: not signed in: run `runcomfy login`, or set RUNCOMFY_TOKEN\n", code: 77}) {
		t.Fatalf("whoami after logout = %+v", r)
	}
}

// meID asks the dev server for the id of token's user.
func meID(t *testing.T, dev *devServer, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", dev.URL+"/api/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		t.Fatal(err)
	}
	return me.ID
}

func TestWhoamiRevokedTokenExits77(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{})
	token := dev.MintToken("ada@example.com")
	s.writeToken(token, "ada@example.com")
	dev.Revoke(token)
	r := s.run("", "runcomfy", "whoami")
	if r != (result{stderr: "runcomfy: RunComfy rejected the token; run `runcomfy login` to sign in again\n", code: 77}) {
		t.Fatalf("whoami = %+v", r)
	}
}

func TestLoginWithToken(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{})
	token := dev.MintToken("ada@example.com")
	r := s.run(token+"\n", "runcomfy", "login", "--with-token")
	if r != (result{stderr: "Logged in as ada@example.com. Token saved to " + s.tokenPath() + ".\n"}) {
		t.Fatalf("login --with-token = %+v", r)
	}
	if r := s.run("", "runcomfy", "token"); r.stdout != token+"\n" {
		t.Fatalf("token = %+v", r)
	}

	// A rejected token is not saved, and the one stored stays.
	before := s.readToken()
	r = s.run("rc_not_a_real_token\n", "runcomfy", "login", "--with-token")
	if r != (result{stderr: "runcomfy: RunComfy rejected the token; run `runcomfy login` to sign in again\n", code: 77}) {
		t.Fatalf("login --with-token bad = %+v", r)
	}
	if got := s.readToken(); got != before {
		t.Fatalf("a rejected token changed token.json: %q", got)
	}
	for _, in := range []string{"", "   \n", "a\x00b\n"} {
		r = s.run(in, "runcomfy", "login", "--with-token")
		if r.code != 65 || s.readToken() != before {
			t.Fatalf("login --with-token %q = %+v", in, r)
		}
	}
}

func TestLoginDenied(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{})
	p := s.start("", "runcomfy", "login", "--no-browser")
	code := userCode(t, p.waitStderr("Waiting for authorization", 10*time.Second))
	if err := dev.Deny(code); err != nil {
		t.Fatal(err)
	}
	r := p.wait(30 * time.Second)
	if r.code != 77 || !strings.HasSuffix(r.stderr, "runcomfy: the sign-in was denied in the browser; run `runcomfy login` to try again\n") {
		t.Fatalf("denied login = %+v", r)
	}
	if got := s.readToken(); got != "<none>" {
		t.Fatalf("denied login wrote %q", got)
	}
}

func TestLoginExpired(t *testing.T) {
	s, _ := loginSandbox(t, devserver.Options{ExpiresIn: 2})
	r := s.start("", "runcomfy", "login", "--no-browser").wait(30 * time.Second)
	if r.code != 75 || !strings.HasSuffix(r.stderr, "runcomfy: the code expired before it was authorized; run `runcomfy login` to get a new one\n") {
		t.Fatalf("expired login = %+v", r)
	}
	if got := s.readToken(); got != "<none>" {
		t.Fatalf("expired login wrote %q", got)
	}
}

// TestLoginMeAfterApprovalRejectedSavesNothing: when /api/auth/me answers
// 401 to the token the poll just handed out, the token is no good and is
// not saved (exit 77); when it fails otherwise (5xx), the person did
// authorize, and the token is saved without an email, with a warning.
func TestLoginMeAfterApprovalRejectedSavesNothing(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		wantTail string // stderr after the "Waiting for authorization" line
		wantCode int
		wantFile bool
	}{
		{name: "401", status: http.StatusUnauthorized,
			wantTail: "runcomfy: RunComfy rejected the token; run `runcomfy login` to sign in again\n", wantCode: 77},
		{name: "500", status: http.StatusInternalServerError,
			wantTail: "warning: signed in, but could not ask who you are: devicecode: me: the server answered 500 Internal Server Error: rejected; RunComfy has a problem, try again later\n" +
				"Logged in as your RunComfy account. Token saved to <TOKEN>.\n", wantFile: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startHostileServer(t, devserver.Options{AutoApprove: true})
			srv.set(on("/api/auth/me", echo(tt.status, "application/json", `{"error":"rejected"}`)))
			s := newSandbox(t)
			s.env["RUNCOMFY_WEB_BASE"] = srv.URL
			r := s.start("", "runcomfy", "login", "--no-browser").wait(30 * time.Second)
			want := "Your one-time code: " + userCode(t, r.stderr) + "\n" +
				"Enter it at: " + srv.URL + "/cli-auth\n" +
				"Waiting for authorization (the code expires in 10:00)...\n" +
				strings.ReplaceAll(tt.wantTail, "<TOKEN>", s.tokenPath())
			if r != (result{stderr: want, code: tt.wantCode}) {
				t.Fatalf("login = %+v\nwant stderr %q, exit %d", r, want, tt.wantCode)
			}
			tokens := srv.dev.Tokens()
			if len(tokens) != 1 {
				t.Fatalf("%d tokens minted, want 1", len(tokens))
			}
			got := s.readToken()
			if !tt.wantFile {
				if got != "<none>" {
					t.Fatalf("a rejected token was saved: %q", got)
				}
				return
			}
			wantFile := "{\n  \"access_token\": \"" + tokens[0] + "\",\n  \"expires_at\": null,\n  \"refresh_token\": null,\n  \"user_email\": \"\"\n}\n"
			if got != wantFile {
				t.Fatalf("token.json = %q\nwant %q", got, wantFile)
			}
		})
	}
}

func TestLoginInterruptedExits130WritingNothing(t *testing.T) {
	s, _ := loginSandbox(t, devserver.Options{})
	p := s.start("", "runcomfy", "login", "--no-browser")
	p.waitStderr("Waiting for authorization", 10*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := p.wait(5 * time.Second)
	if r.code != 130 || !strings.HasSuffix(r.stderr, "runcomfy: interrupted; nothing was saved\n") {
		t.Fatalf("interrupted login = %+v", r)
	}
	if _, err := os.Stat(s.configDir()); !os.IsNotExist(err) {
		t.Fatalf("interrupted login touched the config dir: %v", err)
	}
}

func TestLoginOnMissAutoWithoutTerminalAnswersAtOnce(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
	delete(s.env, "CI")
	r := s.start("https://www.runcomfy.com\n", "docker-credential-runcomfy", "get").wait(10 * time.Second)
	if r != (result{stdout: "credentials not found in native keychain\n", code: 1}) {
		t.Fatalf("get = %+v", r)
	}
	r = s.start("protocol=https\nhost=www.runcomfy.com\n", "git-credential-runcomfy", "get").wait(10 * time.Second)
	if r != (result{}) {
		t.Fatalf("git get = %+v", r)
	}
	if n := dev.Starts(); n != 0 {
		t.Fatalf("a miss with nobody to see the code started %d logins", n)
	}
}

func TestLoginOnMissNeverAndCI(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
	for _, env := range []map[string]string{{"RUNCOMFY_LOGIN_ON_MISS": "never"}, {"CI": "true"}, {"GIT_TERMINAL_PROMPT": "0"}} {
		for k, v := range env {
			s.env[k] = v
		}
		r := s.start("https://www.runcomfy.com\n", "docker-credential-runcomfy", "get").wait(10 * time.Second)
		if r.stdout != "credentials not found in native keychain\n" || r.code != 1 {
			t.Fatalf("%v: get = %+v", env, r)
		}
	}
	if n := dev.Starts(); n != 0 {
		t.Fatalf("%d logins started", n)
	}
}

func TestLoginOnMissAlwaysLogsInThenAnswers(t *testing.T) {
	for _, name := range []string{"docker-credential-runcomfy", "runcomfy"} {
		t.Run(name, func(t *testing.T) {
			s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
			s.env["RUNCOMFY_LOGIN_ON_MISS"] = "always"
			r := s.start("https://www.runcomfy.com\n", name, "get").wait(30 * time.Second)
			token := dev.Tokens()
			if len(token) != 1 {
				t.Fatalf("%d tokens minted", len(token))
			}
			want := `{"ServerURL":"https://www.runcomfy.com","Username":"demo@runcomfy.dev","Secret":"` + token[0] + `"}` + "\n"
			if r.stdout != want || r.code != 0 {
				t.Fatalf("get = %+v\nwant stdout %q", r, want)
			}
			code := userCode(t, r.stderr)
			if !strings.Contains(r.stderr, "Enter it at: "+dev.URL+"/cli-auth\n") || strings.Contains(r.stdout, code) {
				t.Fatalf("the code and URL must go to stderr only: %+v", r)
			}
		})
	}
}

func TestFiveConcurrentMissesShareOneLogin(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
	s.env["RUNCOMFY_LOGIN_ON_MISS"] = "always"
	var procs []*proc
	for i := 0; i < 5; i++ {
		if i%2 == 0 {
			procs = append(procs, s.start("protocol=https\nhost=www.runcomfy.com\n", "git-credential-runcomfy", "get"))
		} else {
			procs = append(procs, s.start("https://www.runcomfy.com\n", "docker-credential-runcomfy", "get"))
		}
	}
	var wg sync.WaitGroup
	results := make([]result, len(procs))
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = p.wait(60 * time.Second)
		}()
	}
	wg.Wait()
	if n := dev.Starts(); n != 1 {
		t.Fatalf("five concurrent misses started %d logins", n)
	}
	token := dev.Tokens()[0]
	for i, r := range results {
		if r.code != 0 || !strings.Contains(r.stdout, token) {
			t.Errorf("get %d = %+v", i, r)
		}
	}
}

func TestRedirectToAnotherOriginNeverCarriesTheToken(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, `{"id":"evil","email":"evil@example.com"}`)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	s := newSandbox(t)
	s.env["RUNCOMFY_WEB_BASE"] = redirector.URL
	s.writeToken("rc_redirect_secret_1234", "ada@example.com")
	r := s.run("", "runcomfy", "whoami")
	if r.code != 69 || strings.Contains(r.stdout+r.stderr, "rc_redirect_secret_1234") {
		t.Fatalf("whoami through a cross-origin redirect = %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range leaked {
		if h != "" {
			t.Fatalf("the other origin received Authorization %q", h)
		}
	}
}

// TestVerboseOutputNeverShowsSecrets runs every command at -vv against the
// dev server, in success and failure paths, and searches all output, and
// every file but token.json, for each token and device code.
func TestVerboseOutputNeverShowsSecrets(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
	var outputs []string
	record := func(r result, tokenOnStdout bool) {
		if !tokenOnStdout {
			outputs = append(outputs, r.stdout)
		}
		outputs = append(outputs, r.stderr)
	}
	record(s.start("", "runcomfy", "-vv", "login", "--no-browser").wait(30*time.Second), false)
	record(s.run("", "runcomfy", "-vv", "whoami"), false)
	record(s.run("", "runcomfy", "-vv", "status"), false)
	record(s.run("", "runcomfy", "-vv", "token"), true)
	record(s.run("", "runcomfy", "-vv", "list"), false)
	record(s.run("https://www.runcomfy.com", "runcomfy", "-vv", "get"), true)
	record(s.run("protocol=https\nhost=www.runcomfy.com\n", "runcomfy", "-vv", "git-credential", "get"), true)
	record(s.run("https://evil.example", "runcomfy", "-vv", "get"), false)
	dev.Revoke(dev.Tokens()[0])
	record(s.run("", "runcomfy", "-vv", "whoami"), false)
	record(s.run(dev.Tokens()[0], "runcomfy", "-vv", "login", "--with-token"), false)
	record(s.run("", "runcomfy", "-vv", "logout"), false)
	record(s.start("", "runcomfy", "-vv", "login", "--no-browser").wait(30*time.Second), false)

	secrets := dev.secrets()
	if len(secrets) < 4 {
		t.Fatalf("only %d secrets recorded: the test would prove nothing", len(secrets))
	}
	if !strings.Contains(strings.Join(outputs, ""), "POST "+dev.URL+"/api/cli-auth/poll 200") {
		t.Fatalf("-vv printed no trace:\n%s", strings.Join(outputs, ""))
	}
	for _, out := range outputs {
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Fatalf("output holds a secret %s…:\n%s", secret[:4], out)
			}
		}
	}
	_ = filepath.Walk(s.home, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || path == s.tokenPath() {
			return nil
		}
		data, _ := os.ReadFile(path)
		for _, secret := range secrets {
			if strings.Contains(string(data), secret) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})
}
