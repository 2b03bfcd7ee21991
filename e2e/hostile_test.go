package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The hostile-input matrix: every input the two protocols can receive, fed
// to the built binaries — the lean helpers and runcomfy's own subcommands —
// gets a defined answer: refused with a clear message and the right exit
// code, or a miss. Never a panic, never a hang, never a change to the
// stored token, never the token for a host that is not RunComfy's.

const (
	hostileToken = "rc_hostile_stored_token_7f3a9c"
	hostileEmail = "ada@example.com"
	// answerLimit bounds every process of these tests: a helper that
	// waits longer has hung.
	answerLimit = 10 * time.Second
)

// frontend is one way to reach a protocol: a lean helper binary, or
// runcomfy's subcommand. name is what the messages on stderr start with.
type frontend struct {
	bin, name string
	args      func(action string) []string
}

var (
	dockerFrontends = []frontend{
		{"docker-credential-runcomfy", "docker-credential-runcomfy", func(a string) []string { return []string{a} }},
		{"runcomfy", "runcomfy", func(a string) []string { return []string{a} }},
	}
	gitFrontends = []frontend{
		{"git-credential-runcomfy", "git-credential-runcomfy", func(a string) []string { return []string{a} }},
		{"runcomfy", "runcomfy", func(a string) []string { return []string{"git-credential", a} }},
	}
)

// input is what a process reads on stdin.
type input struct {
	data string
	// endless repeats data forever: the answer must come without EOF.
	endless bool
	// keepOpen leaves stdin open after data: the answer must not wait
	// for an EOF that never comes.
	keepOpen bool
}

// runBounded runs a built binary in the sandbox with in on stdin, and
// fails the test if it does not exit within answerLimit or if it panicked.
func (s *sandbox) runBounded(in input, name string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), answerLimit)
	defer cancel()
	r, err := s.runCtx(ctx, in, name, args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// runCtx runs a built binary in the sandbox with in on stdin, without a
// controlling terminal, as under git or docker in CI. It is safe to call
// from any goroutine: a hang (ctx done first) or a panic is an error.
func (s *sandbox) runCtx(ctx context.Context, in input, name string, args ...string) (result, error) {
	cmd := exec.CommandContext(ctx, bin(name), args...)
	cmd.Env = s.environ()
	cmd.Dir = s.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var w *os.File
	switch {
	case in.endless:
		cmd.Stdin = &endlessReader{pattern: []byte(in.data)}
	case in.keepOpen:
		r, pw, err := os.Pipe()
		if err != nil {
			return result{}, err
		}
		defer r.Close()
		w = pw
		cmd.Stdin = r
	default:
		cmd.Stdin = strings.NewReader(in.data)
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	if w != nil {
		go func() { _, _ = io.WriteString(w, in.data) }()
		defer w.Close()
	}
	err := cmd.Wait()
	what := name + " " + strings.Join(args, " ")
	if ctx.Err() != nil {
		return result{}, fmt.Errorf("%s hung: no answer in time (%v); stderr:\n%s", what, ctx.Err(), stderr.String())
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		return result{}, fmt.Errorf("run %s: %w", what, err)
	}
	if strings.Contains(stderr.String(), "panic:") || strings.Contains(stderr.String(), "goroutine ") || code == 2 {
		return result{}, fmt.Errorf("%s panicked (exit %d):\n%s", what, code, stderr.String())
	}
	return result{stdout.String(), stderr.String(), code}, nil
}

// endlessReader repeats its pattern forever.
type endlessReader struct {
	pattern []byte
	off     int
}

func (e *endlessReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.pattern[e.off:])
		n += c
		e.off = (e.off + c) % len(e.pattern)
	}
	return n, nil
}

// fileState is token.json's bytes and mode, to prove a case changed
// nothing.
type fileState struct {
	data string
	mode os.FileMode
}

func (s *sandbox) tokenState() fileState {
	s.t.Helper()
	fi, err := os.Lstat(s.tokenPath())
	if errors.Is(err, os.ErrNotExist) {
		return fileState{data: "<none>"}
	}
	if err != nil {
		s.t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		return fileState{data: "<" + fi.Mode().Type().String() + ">", mode: fi.Mode().Perm()}
	}
	return fileState{data: s.readToken(), mode: fi.Mode().Perm()}
}

// protocolCase is one input to one action of a protocol and the exact
// answer. In stdout and stderr, NAME stands for the frontend's name and
// TOKEN for the stored token.
type protocolCase struct {
	name   string
	env    map[string]string
	action string
	in     input
	stdout string
	stderr string
	code   int
}

const (
	notFound = "credentials not found in native keychain\n"
	refused  = "store: expected one JSON object {\"ServerURL\",\"Username\",\"Secret\"} on stdin\n"
)

// dockerGot is docker get's answer for server with the stored token.
func dockerGot(server string) string {
	return `{"ServerURL":"` + server + `","Username":"` + hostileEmail + `","Secret":"TOKEN"}` + "\n"
}

// storeJSON is a docker store request.
func storeJSON(server, user, secret string) string {
	return `{"ServerURL":"` + server + `","Username":"` + user + `","Secret":"` + secret + `"}`
}

const gitGot = "username=" + hostileEmail + "\npassword=TOKEN\n"

func TestHostileDockerInput(t *testing.T) {
	loopback := map[string]string{"RUNCOMFY_WEB_BASE": "http://127.0.0.1:8787"}
	huge := strings.Repeat("a", 1<<20)
	cases := []protocolCase{
		// Hosts that are RunComfy's: the token, exactly as stored.
		{name: "get https", action: "get", in: input{data: "https://www.runcomfy.com\n"}, stdout: dockerGot("https://www.runcomfy.com")},
		{name: "get bare host", action: "get", in: input{data: "www.runcomfy.com"}, stdout: dockerGot("www.runcomfy.com")},
		{name: "get surrounding spaces trimmed", action: "get", in: input{data: " \t https://runcomfy.net/v2/ \r\n"}, stdout: dockerGot("https://runcomfy.net/v2/")},
		{name: "get uppercase", action: "get", in: input{data: "HTTPS://WWW.RUNCOMFY.COM"}, stdout: dockerGot("HTTPS://WWW.RUNCOMFY.COM")},
		{name: "get explicit port", action: "get", in: input{data: "https://www.runcomfy.com:443"}, stdout: dockerGot("https://www.runcomfy.com:443")},
		{name: "get subdomain with path", action: "get", in: input{data: "registry.runcomfy.com/v2/x"}, stdout: dockerGot("registry.runcomfy.com/v2/x")},
		{name: "get loopback web base", env: loopback, action: "get", in: input{data: "http://127.0.0.1:8787"}, stdout: dockerGot("http://127.0.0.1:8787")},

		// Everything else is a miss: not found, exit 1, no token.
		{name: "get empty", action: "get", in: input{data: ""}, stdout: notFound, code: 1},
		{name: "get blank", action: "get", in: input{data: " \n\n"}, stdout: notFound, code: 1},
		{name: "get plain http", action: "get", in: input{data: "http://www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get other scheme", action: "get", in: input{data: "ftp://www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get file URL", action: "get", in: input{data: "file:///etc/passwd"}, stdout: notFound, code: 1},
		{name: "get opaque URL", action: "get", in: input{data: "https:www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get scheme-relative", action: "get", in: input{data: "//www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get suffix look-alike", action: "get", in: input{data: "https://runcomfy.com.evil.example"}, stdout: notFound, code: 1},
		{name: "get prefix look-alike", action: "get", in: input{data: "https://evilruncomfy.com"}, stdout: notFound, code: 1},
		{name: "get other TLD", action: "get", in: input{data: "https://www.runcomfy.co"}, stdout: notFound, code: 1},
		{name: "get trailing dot", action: "get", in: input{data: "https://www.runcomfy.com."}, stdout: notFound, code: 1},
		{name: "get two trailing dots", action: "get", in: input{data: "https://www.runcomfy.com.."}, stdout: notFound, code: 1},
		{name: "get empty label", action: "get", in: input{data: "https://.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get underscore label", action: "get", in: input{data: "https://a_b.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get hyphen label", action: "get", in: input{data: "https://-a.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get label over 63", action: "get", in: input{data: "https://" + strings.Repeat("a", 64) + ".runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get name over 253", action: "get", in: input{data: "https://" + strings.Repeat("a.", 130) + "runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get userinfo", action: "get", in: input{data: "https://user@www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get user and password", action: "get", in: input{data: "https://u:p@www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get userinfo look-alike", action: "get", in: input{data: "https://www.runcomfy.com@evil.example"}, stdout: notFound, code: 1},
		{name: "get backslash", action: "get", in: input{data: `https://evil.example\.runcomfy.com`}, stdout: notFound, code: 1},
		{name: "get backslash userinfo", action: "get", in: input{data: `https://evil.example\@www.runcomfy.com`}, stdout: notFound, code: 1},
		{name: "get fragment", action: "get", in: input{data: "https://evil.example#.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get query", action: "get", in: input{data: "https://evil.example?.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get path", action: "get", in: input{data: "https://evil.example/.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get percent-encoded dot", action: "get", in: input{data: "https://evil.example%2erunc.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get percent-encoded host", action: "get", in: input{data: "https://www%2Eruncomfy%2Ecom"}, stdout: notFound, code: 1},
		{name: "get punycode look-alike", action: "get", in: input{data: "https://www.xn--rncomfy-5ya.com"}, stdout: notFound, code: 1},
		{name: "get IDN look-alike", action: "get", in: input{data: "https://www.runc\u043emfy.com"}, stdout: notFound, code: 1},
		{name: "get fullwidth dot", action: "get", in: input{data: "https://www.runcomfy\uff0ecom"}, stdout: notFound, code: 1},
		{name: "get zero-width space", action: "get", in: input{data: "https://www.runcomfy.com\u200b"}, stdout: notFound, code: 1},
		{name: "get IPv4", action: "get", in: input{data: "https://127.0.0.1"}, stdout: notFound, code: 1},
		{name: "get IPv6", action: "get", in: input{data: "https://[::1]"}, stdout: notFound, code: 1},
		{name: "get IPv6 with zone", action: "get", in: input{data: "https://[fe80::1%25eth0]"}, stdout: notFound, code: 1},
		{name: "get IPv6 mapped", action: "get", in: input{data: "https://[::ffff:127.0.0.1]:443"}, stdout: notFound, code: 1},
		{name: "get port zero", action: "get", in: input{data: "https://www.runcomfy.com:0"}, stdout: notFound, code: 1},
		{name: "get port too large", action: "get", in: input{data: "https://www.runcomfy.com:65536"}, stdout: notFound, code: 1},
		{name: "get port with sign", action: "get", in: input{data: "https://www.runcomfy.com:+443"}, stdout: notFound, code: 1},
		{name: "get two ports", action: "get", in: input{data: "https://www.runcomfy.com:443:443"}, stdout: notFound, code: 1},
		{name: "get empty port", action: "get", in: input{data: "https://www.runcomfy.com:"}, stdout: notFound, code: 1},
		{name: "get NUL inside host", action: "get", in: input{data: "https://evil.example\x00.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get NUL after host", action: "get", in: input{data: "https://www.runcomfy.com\x00"}, stdout: notFound, code: 1},
		{name: "get CRLF header injection", action: "get", in: input{data: "https://www.runcomfy.com\r\nHost: evil.example"}, stdout: notFound, code: 1},
		{name: "get space inside", action: "get", in: input{data: "https://www.runcomfy.com evil.example"}, stdout: notFound, code: 1},
		{name: "get escape sequence", action: "get", in: input{data: "\x1b[31mhttps://www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get UTF-8 BOM", action: "get", in: input{data: "\xef\xbb\xbfhttps://www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get UTF-16", action: "get", in: input{data: utf16le("https://www.runcomfy.com")}, stdout: notFound, code: 1},
		{name: "get invalid UTF-8", action: "get", in: input{data: "https://www.runcomfy.com\xff"}, stdout: notFound, code: 1},
		{name: "get JSON instead of a URL", action: "get", in: input{data: `{"ServerURL":"https://www.runcomfy.com"}`}, stdout: notFound, code: 1},
		{name: "get two lines", action: "get", in: input{data: "https://evil.example\nhttps://www.runcomfy.com"}, stdout: notFound, code: 1},
		{name: "get other port of the web base", env: loopback, action: "get", in: input{data: "http://127.0.0.1:8788"}, stdout: notFound, code: 1},
		{name: "get web base without its port", env: loopback, action: "get", in: input{data: "http://127.0.0.1"}, stdout: notFound, code: 1},
		{name: "get web base spelled localhost", env: loopback, action: "get", in: input{data: "http://localhost:8787"}, stdout: notFound, code: 1},
		{name: "get web base over https", env: loopback, action: "get", in: input{data: "https://127.0.0.1:8787"}, stdout: notFound, code: 1},
		{name: "get plain http web base off loopback", env: map[string]string{"RUNCOMFY_WEB_BASE": "http://evil.example"}, action: "get", in: input{data: "http://evil.example"}, stdout: notFound, code: 1},
		{name: "get web base with userinfo", env: map[string]string{"RUNCOMFY_WEB_BASE": "https://u:p@evil.example"}, action: "get", in: input{data: "https://evil.example"}, stdout: notFound, code: 1},
		{name: "get over 1 MiB", action: "get", in: input{data: "https://www.runcomfy.com/" + huge}, stdout: "input exceeds 1 MiB\n", code: 1},
		{name: "get endless", action: "get", in: input{data: "https://www.runcomfy.com/", endless: true}, stdout: "input exceeds 1 MiB\n", code: 1},

		// store: refused with a reason on stdout, exit 1, nothing written.
		{name: "store empty", action: "store", in: input{data: ""}, stdout: refused, code: 1},
		{name: "store blank", action: "store", in: input{data: "  \n"}, stdout: refused, code: 1},
		{name: "store broken JSON", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_leak_broken`}, stdout: refused, code: 1},
		{name: "store null", action: "store", in: input{data: "null"}, stdout: refused, code: 1},
		{name: "store array", action: "store", in: input{data: "[" + storeJSON("https://www.runcomfy.com", "u", "rc_new_token_1") + "]"}, stdout: refused, code: 1},
		{name: "store string", action: "store", in: input{data: `"rc_new_token_1"`}, stdout: refused, code: 1},
		{name: "store two objects", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", "rc_new_token_1") + "{}"}, stdout: refused, code: 1},
		{name: "store trailing garbage", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", "rc_new_token_1") + " x"}, stdout: refused, code: 1},
		{name: "store trailing comma", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_new_token_1",}`}, stdout: refused, code: 1},
		{name: "store number secret", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":12345678}`}, stdout: refused, code: 1},
		{name: "store object secret", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":{"a":"rc_x"}}`}, stdout: refused, code: 1},
		{name: "store UTF-8 BOM", action: "store", in: input{data: "\xef\xbb\xbf" + storeJSON("https://www.runcomfy.com", "u", "rc_new_token_1")}, stdout: refused, code: 1},
		{name: "store UTF-16", action: "store", in: input{data: utf16le(storeJSON("https://www.runcomfy.com", "u", "rc_new_token_1"))}, stdout: refused, code: 1},
		{name: "store raw NUL", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", "rc_new\x00token")}, stdout: refused, code: 1},
		{name: "store invalid UTF-8 in the secret", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", "rc_new_token_\xff")}, stdout: refused, code: 1},
		{name: "store deep nesting", action: "store", in: input{data: `{"x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`}, stdout: refused, code: 1},
		{name: "store duplicate ServerURL", action: "store", in: input{data: `{"ServerURL":"https://evil.example","ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_new_token_1"}`},
			stdout: "store: the JSON object names ServerURL twice\n", code: 1},
		{name: "store duplicate Secret", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_a_token_1","Secret":"rc_b_token_2"}`},
			stdout: "store: the JSON object names Secret twice\n", code: 1},
		{name: "store case-folded names are not the fields", action: "store", in: input{data: `{"serverurl":"https://www.runcomfy.com","Username":"u","Secret":"rc_new_token_1"}`},
			stdout: "store: the ServerURL is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store long-s look-alike name", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","\u017fecret":"rc_new_token_1"}`},
			stdout: "store: the Secret is empty\n", code: 1},
		{name: "store foreign host", action: "store", in: input{data: storeJSON("https://evil.example", "u", "rc_new_token_1")},
			stdout: "store: \"https://evil.example\" is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store look-alike host", action: "store", in: input{data: storeJSON("https://www.runcomfy.com.evil.example", "u", "rc_new_token_1")},
			stdout: "store: \"https://www.runcomfy.com.evil.example\" is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store plain http", action: "store", in: input{data: storeJSON("http://www.runcomfy.com", "u", "rc_new_token_1")},
			stdout: "store: \"http://www.runcomfy.com\" is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store userinfo is not echoed", action: "store", in: input{data: storeJSON("https://user:hunter2pass@evil.example", "u", "rc_new_token_1")},
			stdout: "store: the ServerURL is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store query is not echoed", action: "store", in: input{data: storeJSON("https://evil.example/?access_token=rc_other_1", "u", "rc_new_token_1")},
			stdout: "store: the ServerURL is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store secret in the URL is not echoed", action: "store", in: input{data: storeJSON("https://evil.example/rc_new_token_1", "u", "rc_new_token_1")},
			stdout: "store: the ServerURL is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store escape sequence in the URL is not echoed", action: "store", in: input{data: storeJSON(`https://evil.example/\u001b[2J`, "u", "rc_new_token_1")},
			stdout: "store: the ServerURL is not a RunComfy server; refusing to store its credentials\n", code: 1},
		{name: "store empty secret", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", "")}, stdout: "store: the Secret is empty\n", code: 1},
		{name: "store null secret", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":null}`}, stdout: "store: the Secret is empty\n", code: 1},
		{name: "store secret with newline", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", `rc_new\nhost=evil.example`)},
			stdout: "store: the Secret holds control characters or surrounding spaces\n", code: 1},
		{name: "store secret with escaped NUL", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", `rc_new\u0000x`)},
			stdout: "store: the Secret holds control characters or surrounding spaces\n", code: 1},
		{name: "store secret with DEL", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", `rc_new\u007fx`)},
			stdout: "store: the Secret holds control characters or surrounding spaces\n", code: 1},
		{name: "store secret with escaped lone surrogate", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", `rc_new\ud800x`)},
			stdout: "store: the Secret holds control characters or surrounding spaces\n", code: 1},
		{name: "store secret with surrounding spaces", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", " rc_new_token_1 ")},
			stdout: "store: the Secret holds control characters or surrounding spaces\n", code: 1},
		{name: "store empty username", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "", "rc_new_token_1")}, stdout: "store: the Username is empty\n", code: 1},
		{name: "store username with escape", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", `\u001b[31mada`, "rc_new_token_1")},
			stdout: "store: the Username holds control characters\n", code: 1},
		{name: "store over 1 MiB", action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", huge)}, stdout: "input exceeds 1 MiB\n", code: 1},
		{name: "store endless", action: "store", in: input{data: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_`, endless: true}, stdout: "input exceeds 1 MiB\n", code: 1},
		{name: "store the env token is ignored", env: map[string]string{"RUNCOMFY_TOKEN": "rc_ci_secret_1"}, action: "store", in: input{data: storeJSON("https://www.runcomfy.com", "u", "rc_ci_secret_1")}},

		// erase: a foreign or broken server erases nothing.
		{name: "erase foreign host", action: "erase", in: input{data: "https://evil.example"}},
		{name: "erase look-alike host", action: "erase", in: input{data: "https://www.runcomfy.com.evil.example"}},
		{name: "erase plain http", action: "erase", in: input{data: "http://www.runcomfy.com"}},
		{name: "erase NUL", action: "erase", in: input{data: "https://evil.example\x00.runcomfy.com"}},
		{name: "erase empty", action: "erase", in: input{data: ""}},
		{name: "erase over 1 MiB", action: "erase", in: input{data: "https://www.runcomfy.com/" + huge}, stdout: "input exceeds 1 MiB\n", code: 1},

		// list and version read nothing; unknown actions are usage errors.
		{name: "list ignores stdin", action: "list", in: input{data: "https://evil.example\n\x00"}, stdout: `{"https://www.runcomfy.com":"` + hostileEmail + `"}` + "\n"},
		{name: "unknown action", action: "frobnicate", in: input{data: "https://www.runcomfy.com"}, code: 64},
	}
	for _, f := range dockerFrontends {
		for _, tc := range cases {
			if tc.action == "frobnicate" && f.bin == "runcomfy" {
				// runcomfy's own unknown-command message is tested in cli_test.go.
				continue
			}
			if tc.action == "frobnicate" {
				tc.stdout = "usage: docker-credential-runcomfy <store|get|erase|list|version>\n"
			}
			t.Run(f.bin+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				runProtocolCase(t, f, tc)
			})
		}
	}
}

func TestHostileGitInput(t *testing.T) {
	get := func(lines ...string) input { return input{data: strings.Join(lines, "\n") + "\n"} }
	huge := strings.Repeat("a", 1<<20)
	cases := []protocolCase{
		// RunComfy's hosts over https: the token.
		{name: "get", action: "get", in: get("protocol=https", "host=www.runcomfy.com", ""), stdout: gitGot},
		{name: "get at EOF", action: "get", in: input{data: "protocol=https\nhost=www.runcomfy.com"}, stdout: gitGot},
		{name: "get CRLF", action: "get", in: input{data: "protocol=https\r\nhost=www.runcomfy.com\r\n\r\n"}, stdout: gitGot},
		{name: "get uppercase", action: "get", in: get("protocol=HTTPS", "host=WWW.RUNCOMFY.COM"), stdout: gitGot},
		{name: "get explicit port", action: "get", in: get("protocol=https", "host=www.runcomfy.com:443"), stdout: gitGot},
		{name: "get apex of the other domain", action: "get", in: get("protocol=https", "host=runcomfy.net"), stdout: gitGot},
		{name: "get answers at the blank line with stdin left open", action: "get", in: input{data: "protocol=https\nhost=www.runcomfy.com\n\n", keepOpen: true}, stdout: gitGot},
		{name: "get unknown keys and capabilities", action: "get", in: get("capability[]=authtype", "capability[]=state", "protocol=https", "wwwauth[]=Bearer realm=\"x\"", "host=www.runcomfy.com", "path=a/b"), stdout: gitGot},
		{name: "get last of two hosts wins, as in git", action: "get", in: get("protocol=https", "host=evil.example", "host=www.runcomfy.com"), stdout: gitGot},
		{name: "get lines after the blank line are not read", action: "get", in: get("protocol=https", "host=www.runcomfy.com", "", "host=evil.example"), stdout: gitGot},
		{name: "get env token with a newline is refused", env: map[string]string{"RUNCOMFY_TOKEN": "rc_env_1\nhost=evil.example"}, action: "get", in: get("protocol=https", "host=www.runcomfy.com"),
			stderr: "NAME: get: the token from RUNCOMFY_TOKEN holds control characters; not answering\n", code: 65},

		// Anything else: nothing on stdout, exit 0, git asks its next helper.
		{name: "get empty", action: "get", in: input{data: ""}},
		{name: "get blank line only", action: "get", in: input{data: "\n"}},
		{name: "get no protocol", action: "get", in: get("host=www.runcomfy.com")},
		{name: "get no host", action: "get", in: get("protocol=https")},
		{name: "get url key alone", action: "get", in: get("url=https://www.runcomfy.com/")},
		{name: "get plain http", action: "get", in: get("protocol=http", "host=www.runcomfy.com")},
		{name: "get ssh", action: "get", in: get("protocol=ssh", "host=www.runcomfy.com")},
		{name: "get foreign host", action: "get", in: get("protocol=https", "host=github.com")},
		{name: "get suffix look-alike", action: "get", in: get("protocol=https", "host=www.runcomfy.com.evil.example")},
		{name: "get prefix look-alike", action: "get", in: get("protocol=https", "host=evilruncomfy.com")},
		{name: "get later foreign host wins", action: "get", in: get("protocol=https", "host=www.runcomfy.com", "host=evil.example")},
		{name: "get trailing dot", action: "get", in: get("protocol=https", "host=www.runcomfy.com.")},
		{name: "get userinfo in host", action: "get", in: get("protocol=https", "host=user@www.runcomfy.com")},
		{name: "get path in host", action: "get", in: get("protocol=https", "host=evil.example/.runcomfy.com")},
		{name: "get punycode look-alike", action: "get", in: get("protocol=https", "host=www.xn--rncomfy-5ya.com")},
		{name: "get IDN look-alike", action: "get", in: get("protocol=https", "host=www.runc\u043emfy.com")},
		{name: "get IPv6", action: "get", in: get("protocol=https", "host=[::1]:443")},
		{name: "get port zero", action: "get", in: get("protocol=https", "host=www.runcomfy.com:0")},
		{name: "get two ports", action: "get", in: get("protocol=https", "host=www.runcomfy.com:1:2")},
		{name: "get stray CR in host", action: "get", in: input{data: "protocol=https\nhost=www.runcomfy.com\r\r\n"}},
		{name: "get space in host", action: "get", in: get("protocol=https", "host=www.runcomfy.com ")},
		{name: "get tab in protocol", action: "get", in: get("protocol=https\t", "host=www.runcomfy.com")},
		{name: "get UTF-8 BOM", action: "get", in: input{data: "\xef\xbb\xbfprotocol=https\nhost=www.runcomfy.com\n"}},
		{name: "get invalid UTF-8 in host", action: "get", in: get("protocol=https", "host=www.runcomfy.com\xff")},
		{name: "get key case matters", action: "get", in: get("PROTOCOL=https", "HOST=www.runcomfy.com")},
		{name: "get spaces around =", action: "get", in: get("protocol = https", "host = www.runcomfy.com")},

		// Refused: a reason on stderr, exit 65, nothing on stdout.
		{name: "get NUL", action: "get", in: get("protocol=https", "host=www.runcomfy.com\x00.evil.example"), stderr: "NAME: line 2 holds a NUL byte\n", code: 65},
		{name: "get UTF-16", action: "get", in: input{data: utf16le("protocol=https\nhost=www.runcomfy.com\n")}, stderr: "NAME: line 1 holds a NUL byte\n", code: 65},
		{name: "get line without =", action: "get", in: get("protocol=https", "www.runcomfy.com"), stderr: "NAME: line 2 is not key=value\n", code: 65},
		{name: "get line over 64 KiB", action: "get", in: get("protocol=https", "host=www.runcomfy.com", "path="+strings.Repeat("a", 64<<10)), stderr: "NAME: line 3 is longer than 64 KiB\n", code: 65},
		{name: "get endless line", action: "get", in: input{data: "a", endless: true}, stderr: "NAME: line 1 is longer than 64 KiB\n", code: 65},
		{name: "get over 1 MiB", action: "get", in: input{data: strings.Repeat("path="+strings.Repeat("a", 1000)+"\n", 1100)}, stderr: "NAME: input exceeds 1 MiB\n", code: 65},
		{name: "get endless lines", action: "get", in: input{data: "path=" + strings.Repeat("a", 100) + "\n", endless: true}, stderr: "NAME: input exceeds 1 MiB\n", code: 65},
		{name: "get NUL bytes only", action: "get", in: input{data: "\x00\x00\x00\n"}, stderr: "NAME: line 1 holds a NUL byte\n", code: 65},

		// store: only a clean password for a RunComfy host; never the env token.
		{name: "store foreign host", action: "store", in: get("protocol=https", "host=github.com", "username=u", "password=ghp_other_secret")},
		{name: "store plain http", action: "store", in: get("protocol=http", "host=www.runcomfy.com", "username=u", "password=rc_new_token_1")},
		{name: "store look-alike", action: "store", in: get("protocol=https", "host=runcomfy.com.evil.example", "username=u", "password=rc_new_token_1")},
		{name: "store the env token is ignored", env: map[string]string{"RUNCOMFY_TOKEN": "rc_ci_secret_1"}, action: "store", in: get("protocol=https", "host=www.runcomfy.com", "username=u", "password=rc_ci_secret_1")},
		{name: "store the token already stored", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "username="+hostileEmail, "password="+hostileToken)},
		{name: "store no password", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "username=u"),
			stderr: "NAME: store: the password is empty or holds control characters; nothing stored\n", code: 65},
		{name: "store empty password", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "username=u", "password="),
			stderr: "NAME: store: the password is empty or holds control characters; nothing stored\n", code: 65},
		{name: "store password with CR", action: "store", in: input{data: "protocol=https\nhost=www.runcomfy.com\npassword=rc_new\r\r\n"},
			stderr: "NAME: store: the password is empty or holds control characters; nothing stored\n", code: 65},
		{name: "store password with escape", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "password=rc_new\x1b[2J"),
			stderr: "NAME: store: the password is empty or holds control characters; nothing stored\n", code: 65},
		{name: "store password with invalid UTF-8", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "password=rc_new_\xff\xfe"),
			stderr: "NAME: store: the password is empty or holds control characters; nothing stored\n", code: 65},
		{name: "store password with surrounding spaces", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "password= rc_new "),
			stderr: "NAME: store: the password is empty or holds control characters; nothing stored\n", code: 65},
		{name: "store password with NUL", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "password=rc_\x00new"), stderr: "NAME: line 3 holds a NUL byte\n", code: 65},
		{name: "store over 1 MiB", action: "store", in: get("protocol=https", "host=www.runcomfy.com", "password=rc_"+huge), stderr: "NAME: line 3 is longer than 64 KiB\n", code: 65},

		// erase: only the matching token, only for a RunComfy host.
		{name: "erase stale password", action: "erase", in: get("protocol=https", "host=www.runcomfy.com", "password=rc_older_token")},
		{name: "erase empty password", action: "erase", in: get("protocol=https", "host=www.runcomfy.com", "password=")},
		{name: "erase foreign host", action: "erase", in: get("protocol=https", "host=github.com")},
		{name: "erase plain http", action: "erase", in: get("protocol=http", "host=www.runcomfy.com")},
		{name: "erase look-alike", action: "erase", in: get("protocol=https", "host=www.runcomfy.com.evil.example", "password="+hostileToken)},
		{name: "erase NUL", action: "erase", in: get("protocol=https", "host=www.runcomfy.com", "password=\x00"), stderr: "NAME: line 3 holds a NUL byte\n", code: 65},

		// Actions git may add later are ignored, as gitcredentials(7) asks.
		{name: "unknown action", action: "capabilities", in: get("protocol=https", "host=www.runcomfy.com")},
	}
	for _, f := range gitFrontends {
		for _, tc := range cases {
			t.Run(f.bin+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				runProtocolCase(t, f, tc)
			})
		}
	}
}

// runProtocolCase runs one case over a stored token and checks the answer
// exactly, that the token file did not change, and that the token shows
// only where the answer carries it.
func runProtocolCase(t *testing.T, f frontend, tc protocolCase) {
	s := newSandbox(t)
	s.writeToken(hostileToken, hostileEmail)
	for k, v := range tc.env {
		s.env[k] = v
	}
	before := s.tokenState()
	r := s.runBounded(tc.in, f.bin, f.args(tc.action)...)
	want := result{
		stdout: strings.ReplaceAll(tc.stdout, "TOKEN", hostileToken),
		stderr: strings.ReplaceAll(tc.stderr, "NAME", f.name),
		code:   tc.code,
	}
	if r != want {
		t.Errorf("%s %v with %.80q\n got %+v\nwant %+v", f.bin, f.args(tc.action), tc.in.data, r, want)
	}
	if after := s.tokenState(); after != before {
		t.Errorf("token.json changed: %+v, was %+v", after, before)
	}
	if !strings.Contains(tc.stdout, "TOKEN") && strings.Contains(r.stdout+r.stderr, hostileToken) {
		t.Errorf("the token was printed: %+v", r)
	}
	if strings.Contains(r.stderr, hostileToken) {
		t.Errorf("the token is on stderr: %q", r.stderr)
	}
}

// utf16le encodes ASCII s as UTF-16LE with a byte-order mark, as a
// Windows tool might write it.
func utf16le(s string) string {
	b := []byte{0xff, 0xfe}
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return string(b)
}

// TestHostileTokenFile plants broken, hostile and strange token files and
// asks every reader — docker get, git get, runcomfy token and status —
// for the token: each answers at once with a message that names the file
// and quotes none of it, or with a miss; none changes the file.
func TestHostileTokenFile(t *testing.T) {
	const secret = "rc_secret_in_a_broken_file_1"
	type plant func(t *testing.T, path string)
	write := func(content string) plant {
		return func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	const (
		notObject = "not a valid token file: expected one JSON object"
		tooLarge  = "not a valid token file: larger than 1 MiB"
		notFile   = "not a valid token file: not a regular file"
	)
	tests := []struct {
		name  string
		plant plant
		// problem is the reason given after the path; "" means a miss.
		problem string
		// token is what a get hands out, when the file is usable.
		token string
	}{
		{"empty", write(""), notObject, ""},
		{"truncated", write(`{"access_token": "` + secret), notObject, ""},
		{"null", write("null"), notObject, ""},
		{"array", write(`["` + secret + `"]`), notObject, ""},
		{"string", write(`"` + secret + `"`), notObject, ""},
		{"UTF-8 BOM", write("\xef\xbb\xbf{\"access_token\":\"" + secret + "\"}"), notObject, ""},
		{"UTF-16", write(utf16le(`{"access_token":"` + secret + `"}`)), notObject, ""},
		{"raw NUL", write("{\"access_token\":\"" + secret + "\x00\"}"), notObject, ""},
		{"two objects", write(`{"access_token":"` + secret + `"}{}`), notObject, ""},
		{"invalid UTF-8", write("{\"access_token\":\"" + secret + "\xff\"}"), `not a valid token file: "access_token" is not valid UTF-8`, ""},
		{"lone surrogate", write(`{"access_token":"` + secret + `\ud800"}`), `not a valid token file: "access_token" is not valid UTF-8`, ""},
		{"duplicate access_token", write(`{"access_token":"rc_first_token_1","access_token":"` + secret + `"}`), `not a valid token file: "access_token" appears twice`, ""},
		{"empty object", write(`{}`), `not a valid token file: "access_token" is missing or empty`, ""},
		{"number token", write(`{"access_token": 123456789012}`), `not a valid token file: "access_token" has the wrong type`, ""},
		{"token with NUL", write(`{"access_token":"` + secret + `\u0000"}`), `not a valid token file: "access_token" holds control characters`, ""},
		{"token with newline", write(`{"access_token":"` + secret + `\nhost=evil.example"}`), `not a valid token file: "access_token" holds control characters`, ""},
		{"expires_at a string", write(`{"access_token":"` + secret + `","expires_at":"` + secret + `"}`), `not a valid token file: "expires_at" has the wrong type`, ""},
		{"expires_at overflows", write(`{"access_token":"` + secret + `","expires_at":1e400}`), `not a valid token file: "expires_at" has the wrong type`, ""},
		{"expires_at a fraction", write(`{"access_token":"` + secret + `","expires_at":1.5}`), `not a valid token file: "expires_at" has the wrong type`, ""},
		{"user_email a number", write(`{"access_token":"` + secret + `","user_email":7}`), `not a valid token file: "user_email" has the wrong type`, ""},
		{"over 1 MiB", write(`{"access_token":"` + secret + `","pad":"` + strings.Repeat(" ", 1<<20) + `"}`), tooLarge, ""},
		{"deep nesting", write(`{"access_token":"` + secret + `","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), notObject, ""},
		{"expired", write(`{"access_token":"` + secret + `","expires_at":1}`), "", ""},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, notFile, ""},
		{"a FIFO", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, notFile, ""},
		{"a symlink to a device", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, notFile, ""},
		{"a dangling symlink", func(t *testing.T, path string) {
			if err := os.Symlink(filepath.Join(filepath.Dir(path), "nowhere"), path); err != nil {
				t.Fatal(err)
			}
		}, "", ""},
		{"an escape sequence as the email", write(`{"access_token":"` + secret + `","user_email":"\u001b[2Jevil"}`), "", secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			if err := os.MkdirAll(s.configDir(), 0o700); err != nil {
				t.Fatal(err)
			}
			tt.plant(t, s.tokenPath())
			before := s.tokenState()
			docker := s.runBounded(input{data: "https://www.runcomfy.com"}, "docker-credential-runcomfy", "get")
			git := s.runBounded(input{data: "protocol=https\nhost=www.runcomfy.com\n"}, "git-credential-runcomfy", "get")
			token := s.runBounded(input{}, "runcomfy", "token")
			status := s.runBounded(input{}, "runcomfy", "status")

			var want [3]result
			switch {
			case tt.problem != "":
				msg := s.tokenPath() + ": " + tt.problem + " (fix it, or remove it and run `runcomfy login`)"
				want = [3]result{
					{stdout: msg + "\n", code: 1},
					{stderr: "git-credential-runcomfy: " + msg + "\n", code: 1},
					{stderr: "runcomfy: " + msg + "\n", code: 65},
				}
			case tt.token != "":
				want = [3]result{
					{stdout: `{"ServerURL":"https://www.runcomfy.com","Username":"runcomfy","Secret":"` + tt.token + `"}` + "\n"},
					{stdout: "username=runcomfy\npassword=" + tt.token + "\n"},
					{stdout: tt.token + "\n"},
				}
			default:
				want = [3]result{
					{stdout: notFound, code: 1},
					{},
					{stderr: "runcomfy: not signed in: run `runcomfy login`, or set RUNCOMFY_TOKEN\n", code: 77},
				}
			}
			for i, got := range []result{docker, git, token} {
				if got != want[i] {
					t.Errorf("reader %d:\n got %+v\nwant %+v", i, got, want[i])
				}
			}
			if tt.token == "" {
				for _, r := range []result{docker, git, token, status} {
					if strings.Contains(r.stdout+r.stderr, secret) {
						t.Errorf("the file's content was printed: %+v", r)
					}
				}
			}
			if after := s.tokenState(); after != before {
				t.Errorf("a read changed token.json: %+v, was %+v", after, before)
			}

			// The next store replaces whatever is there with a good file.
			r := s.runBounded(input{data: storeJSON("https://www.runcomfy.com", hostileEmail, hostileToken)}, "docker-credential-runcomfy", "store")
			if r != (result{}) {
				t.Fatalf("store over it = %+v", r)
			}
			if st := s.tokenState(); st.mode != 0o600 || !strings.Contains(st.data, `"access_token": "`+hostileToken+`"`) {
				t.Errorf("after store: %+v", st)
			}
		})
	}
}

// TestLooseModesAreReportedAndTightenedOnWrite: a config dir or token file
// that other users can read is reported by status and tightened by the
// next write of every writer, the same token rewritten included; a
// symlink planted at token.json is replaced, and its target left alone.
func TestLooseModesAreReportedAndTightenedOnWrite(t *testing.T) {
	writers := []struct {
		name, stdin string
		args        []string
	}{
		{"docker-credential-runcomfy", storeJSON("https://www.runcomfy.com", hostileEmail, hostileToken), []string{"store"}},
		{"git-credential-runcomfy", "protocol=https\nhost=www.runcomfy.com\nusername=" + hostileEmail + "\npassword=rc_other_token_2\n", []string{"store"}},
		{"runcomfy", storeJSON("www.runcomfy.com", hostileEmail, "rc_other_token_3"), []string{"store"}},
	}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			s := newSandbox(t)
			s.writeToken(hostileToken, hostileEmail)
			for path, mode := range map[string]os.FileMode{s.configDir(): 0o755, s.tokenPath(): 0o644} {
				if err := os.Chmod(path, mode); err != nil {
					t.Fatal(err)
				}
			}
			if r := s.runBounded(input{}, "runcomfy", "status"); r.code != 0 || !strings.Contains(r.stdout, "can be read by other users (dir mode 0755)") {
				t.Fatalf("status with loose modes = %+v", r)
			}
			if r := s.runBounded(input{data: w.stdin}, w.name, w.args...); r != (result{}) {
				t.Fatalf("%s %v = %+v", w.name, w.args, r)
			}
			if d, f := s.mode(s.configDir()), s.mode(s.tokenPath()); d != 0o700 || f != 0o600 {
				t.Fatalf("after the write: dir %04o, file %04o", d, f)
			}
			if r := s.runBounded(input{}, "runcomfy", "status"); r.code != 0 || strings.Contains(r.stdout, "other users") {
				t.Fatalf("status after the write = %+v", r)
			}
		})
	}
	t.Run("symlink", func(t *testing.T) {
		s := newSandbox(t)
		if err := os.MkdirAll(s.configDir(), 0o700); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(s.home, "elsewhere.json")
		if err := os.WriteFile(target, []byte(`{"access_token":"rc_target_token_1"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, s.tokenPath()); err != nil {
			t.Fatal(err)
		}
		if r := s.runBounded(input{data: storeJSON("https://www.runcomfy.com", hostileEmail, hostileToken)}, "docker-credential-runcomfy", "store"); r != (result{}) {
			t.Fatalf("store over a symlink = %+v", r)
		}
		fi, err := os.Lstat(s.tokenPath())
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Fatalf("token.json after the store: %v, %v", fi.Mode(), err)
		}
		if data, _ := os.ReadFile(target); string(data) != `{"access_token":"rc_target_token_1"}` || s.mode(target) != 0o644 {
			t.Fatalf("the symlink's target was written through: %q, %04o", data, s.mode(target))
		}
	})
}
