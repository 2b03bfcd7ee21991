package helper

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/storage"
)

const storedToken = "rc_stored_token_0123456789"

// newTestHelper returns a Helper over a temp config dir holding tokenJSON
// (none when empty), with vars as the environment.
func newTestHelper(t *testing.T, tokenJSON string, vars map[string]string) (*Helper, string, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{storage.EnvConfigDir: dir}
	for k, v := range vars {
		all[k] = v
	}
	path := filepath.Join(dir, storage.TokenFile)
	if tokenJSON != "" {
		if err := os.WriteFile(path, []byte(tokenJSON), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stderr := &bytes.Buffer{}
	store := &storage.Store{
		Env: storage.Env{Getenv: func(k string) string { return all[k] }, GOOS: "linux"},
		Now: func() time.Time { return time.Unix(2_000_000_000, 0) },
	}
	return &Helper{
		Store:   store,
		Hosts:   NewHosts(all[EnvWebBase]),
		Name:    "docker-credential-runcomfy",
		Version: "v1.2.3",
		Stderr:  stderr,
	}, path, stderr
}

const storedFile = `{"access_token": "` + storedToken + `", "refresh_token": null, "expires_at": null, "user_email": "ada@example.com"}`

func readFileOrNone(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "<none>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDocker(t *testing.T) {
	notFound := "credentials not found in native keychain\n"
	tests := []struct {
		name     string
		file     string
		vars     map[string]string
		action   string
		stdin    string
		wantOut  string
		wantCode int
		wantFile string // "" means unchanged
	}{
		{name: "get", file: storedFile, action: "get", stdin: "https://www.runcomfy.com\n",
			wantOut: `{"ServerURL":"https://www.runcomfy.com","Username":"ada@example.com","Secret":"` + storedToken + `"}` + "\n"},
		{name: "get bare host", file: storedFile, action: "get", stdin: "registry.runcomfy.com",
			wantOut: `{"ServerURL":"registry.runcomfy.com","Username":"ada@example.com","Secret":"` + storedToken + `"}` + "\n"},
		{name: "get env wins", file: storedFile, vars: map[string]string{storage.EnvToken: "rc_env"}, action: "get", stdin: "https://www.runcomfy.com",
			wantOut: `{"ServerURL":"https://www.runcomfy.com","Username":"runcomfy","Secret":"rc_env"}` + "\n"},
		{name: "get miss", action: "get", stdin: "https://www.runcomfy.com", wantOut: notFound, wantCode: 1},
		{name: "get foreign host is not found", file: storedFile, action: "get", stdin: "https://runcomfy.com.evil.example", wantOut: notFound, wantCode: 1},
		{name: "get plain http is not found", file: storedFile, action: "get", stdin: "http://www.runcomfy.com", wantOut: notFound, wantCode: 1},
		{name: "get NUL smuggling is not found", file: storedFile, action: "get", stdin: "https://evil.example\x00.runcomfy.com", wantOut: notFound, wantCode: 1},
		{name: "get loopback web base", file: storedFile, vars: map[string]string{EnvWebBase: "http://127.0.0.1:8787"}, action: "get", stdin: "http://127.0.0.1:8787",
			wantOut: `{"ServerURL":"http://127.0.0.1:8787","Username":"ada@example.com","Secret":"` + storedToken + `"}` + "\n"},
		{name: "get corrupt file names it", file: "{", action: "get", stdin: "https://www.runcomfy.com",
			wantOut: "<TMP>/token.json: not a valid token file: expected one JSON object (fix it, or remove it and run `runcomfy login`)\n", wantCode: 1},
		{name: "store", action: "store", stdin: `{"ServerURL":"https://www.runcomfy.com","Username":"bob@example.com","Secret":"rc_new"}`,
			wantFile: "{\n  \"access_token\": \"rc_new\",\n  \"expires_at\": null,\n  \"refresh_token\": null,\n  \"user_email\": \"bob@example.com\"\n}\n"},
		{name: "store identity token user", action: "store", stdin: `{"ServerURL":"www.runcomfy.com","Username":"<token>","Secret":"rc_new"}`,
			wantFile: "{\n  \"access_token\": \"rc_new\",\n  \"expires_at\": null,\n  \"refresh_token\": null,\n  \"user_email\": \"\"\n}\n"},
		{name: "store foreign host refused", file: storedFile, action: "store", stdin: `{"ServerURL":"https://evil.example","Username":"u","Secret":"rc_x"}`,
			wantOut: "store: \"https://evil.example\" is not a RunComfy server; refusing to store its credentials\n", wantCode: 1},
		{name: "store empty secret refused", file: storedFile, action: "store", stdin: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":""}`,
			wantOut: "store: the Secret is empty\n", wantCode: 1},
		{name: "store empty username refused", file: storedFile, action: "store", stdin: `{"ServerURL":"https://www.runcomfy.com","Username":"","Secret":"rc_x"}`,
			wantOut: "store: the Username is empty\n", wantCode: 1},
		{name: "store control characters refused", file: storedFile, action: "store", stdin: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_x\n"}`,
			wantOut: "store: the Secret holds control characters or surrounding spaces\n", wantCode: 1},
		{name: "store two objects refused", file: storedFile, action: "store", stdin: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_x"}{}`,
			wantOut: "store: expected one JSON object {\"ServerURL\",\"Username\",\"Secret\"} on stdin\n", wantCode: 1},
		{name: "store broken JSON refused without quoting it", file: storedFile, action: "store", stdin: `{"ServerURL":"https://www.runcomfy.com","Secret":"rc_leak`,
			wantOut: "store: expected one JSON object {\"ServerURL\",\"Username\",\"Secret\"} on stdin\n", wantCode: 1},
		{name: "store array refused", file: storedFile, action: "store", stdin: `[]`,
			wantOut: "store: expected one JSON object {\"ServerURL\",\"Username\",\"Secret\"} on stdin\n", wantCode: 1},
		{name: "store over 1 MiB refused", file: storedFile, action: "store", stdin: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"` + strings.Repeat("a", MaxInput) + `"}`,
			wantOut: "input exceeds 1 MiB\n", wantCode: 1},
		{name: "store env token never persisted", vars: map[string]string{storage.EnvToken: "rc_ci"}, action: "store",
			stdin: `{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_ci"}`},
		{name: "erase", file: storedFile, action: "erase", stdin: "https://www.runcomfy.com", wantFile: "<none>"},
		{name: "erase nothing is fine", action: "erase", stdin: "https://www.runcomfy.com"},
		{name: "erase foreign host keeps our token", file: storedFile, action: "erase", stdin: "https://evil.example"},
		{name: "list", file: storedFile, action: "list", wantOut: `{"https://www.runcomfy.com":"ada@example.com"}` + "\n"},
		{name: "list empty", action: "list", wantOut: "{}\n"},
		{name: "version", action: "version", wantOut: "docker-credential-runcomfy (github.com/runcomfy/runcomfy) v1.2.3\n"},
		{name: "unknown action", file: storedFile, action: "frobnicate", wantOut: "usage: docker-credential-runcomfy <store|get|erase|list|version>\n", wantCode: 64},
		{name: "no action", file: storedFile, action: "", wantOut: "usage: docker-credential-runcomfy <store|get|erase|list|version>\n", wantCode: 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, path, _ := newTestHelper(t, tt.file, tt.vars)
			before := readFileOrNone(t, path)
			var out bytes.Buffer
			err := h.Docker(context.Background(), tt.action, strings.NewReader(tt.stdin), &out)
			got := strings.ReplaceAll(out.String(), filepath.Dir(path), "<TMP>")
			if got != tt.wantOut {
				t.Errorf("stdout = %q\nwant     %q", got, tt.wantOut)
			}
			if code := ExitCode(err); code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (err %v)", code, tt.wantCode, err)
			}
			want := tt.wantFile
			if want == "" {
				want = before
			}
			if after := readFileOrNone(t, path); after != want {
				t.Errorf("token.json = %q\nwant %q", after, want)
			}
		})
	}
}

func TestDockerTerminalStdinGetsAHint(t *testing.T) {
	h, _, stderr := newTestHelper(t, storedFile, nil)
	h.StdinIsTerminal = true
	var out bytes.Buffer
	_ = h.Docker(context.Background(), "get", strings.NewReader("https://www.runcomfy.com"), &out)
	want := "docker-credential-runcomfy: reading a server URL from stdin; this is docker's credential helper (end with Ctrl-D)\n"
	if stderr.String() != want {
		t.Fatalf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestGit(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		vars       map[string]string
		args       []string
		stdin      string
		wantOut    string
		wantStderr string
		wantCode   int
		wantFile   string
	}{
		{name: "get", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost=www.runcomfy.com\n\n",
			wantOut: "username=ada@example.com\npassword=" + storedToken + "\n"},
		{name: "get at EOF without blank line", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost=www.runcomfy.com",
			wantOut: "username=ada@example.com\npassword=" + storedToken + "\n"},
		{name: "get with CRLF", file: storedFile, args: []string{"get"}, stdin: "protocol=https\r\nhost=www.runcomfy.com\r\n\r\n",
			wantOut: "username=ada@example.com\npassword=" + storedToken + "\n"},
		{name: "get action is last argument", file: storedFile, args: []string{"--some-configured-flag", "get"}, stdin: "protocol=https\nhost=www.runcomfy.com\n",
			wantOut: "username=ada@example.com\npassword=" + storedToken + "\n"},
		{name: "get expiry", file: `{"access_token":"rc_exp","expires_at":4102444800}`, args: []string{"get"}, stdin: "protocol=https\nhost=www.runcomfy.com\n",
			wantOut: "username=runcomfy\npassword=rc_exp\npassword_expiry_utc=4102444800\n"},
		{name: "get ignores lines after the blank line", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost=www.runcomfy.com\n\nhost=evil.example\n",
			wantOut: "username=ada@example.com\npassword=" + storedToken + "\n"},
		{name: "get unknown keys ignored", file: storedFile, args: []string{"get"}, stdin: "capability[]=authtype\nprotocol=https\nwwwauth[]=Basic\nhost=www.runcomfy.com\n",
			wantOut: "username=ada@example.com\npassword=" + storedToken + "\n"},
		{name: "get foreign host prints nothing", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost=github.com\n"},
		{name: "get http prints nothing", file: storedFile, args: []string{"get"}, stdin: "protocol=http\nhost=www.runcomfy.com\n"},
		{name: "get later host wins", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost=www.runcomfy.com\nhost=evil.example\n"},
		{name: "get miss prints nothing", args: []string{"get"}, stdin: "protocol=https\nhost=www.runcomfy.com\n"},
		{name: "get NUL refused", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost=www.runcomfy.com\x00.evil\n",
			wantStderr: "git-credential-runcomfy: line 2 holds a NUL byte\n", wantCode: 65},
		{name: "get long line refused", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost=" + strings.Repeat("a", MaxLine) + "\n",
			wantStderr: "git-credential-runcomfy: line 2 is longer than 64 KiB\n", wantCode: 65},
		{name: "get huge input refused", file: storedFile, args: []string{"get"}, stdin: strings.Repeat("path="+strings.Repeat("a", 1000)+"\n", 1100),
			wantStderr: "git-credential-runcomfy: input exceeds 1 MiB\n", wantCode: 65},
		{name: "get line without = refused", file: storedFile, args: []string{"get"}, stdin: "protocol=https\nhost\n",
			wantStderr: "git-credential-runcomfy: line 2 is not key=value\n", wantCode: 65},
		{name: "store", args: []string{"store"}, stdin: "protocol=https\nhost=www.runcomfy.com\nusername=bob@example.com\npassword=rc_new\n",
			wantFile: "{\n  \"access_token\": \"rc_new\",\n  \"expires_at\": null,\n  \"refresh_token\": null,\n  \"user_email\": \"bob@example.com\"\n}\n"},
		{name: "store same token is a no-op", file: storedFile, args: []string{"store"}, stdin: "protocol=https\nhost=www.runcomfy.com\nusername=ada@example.com\npassword=" + storedToken + "\n"},
		{name: "store env token never persisted", vars: map[string]string{storage.EnvToken: "rc_ci"}, args: []string{"store"},
			stdin: "protocol=https\nhost=www.runcomfy.com\nusername=runcomfy\npassword=rc_ci\n"},
		{name: "store foreign host ignored", file: storedFile, args: []string{"store"}, stdin: "protocol=https\nhost=github.com\nusername=u\npassword=ghp_x\n"},
		{name: "store without password refused", file: storedFile, args: []string{"store"}, stdin: "protocol=https\nhost=www.runcomfy.com\nusername=u\n",
			wantStderr: "git-credential-runcomfy: store: the password is empty or holds control characters; nothing stored\n", wantCode: 65},
		{name: "erase matching", file: storedFile, args: []string{"erase"}, stdin: "protocol=https\nhost=www.runcomfy.com\npassword=" + storedToken + "\n", wantFile: "<none>"},
		{name: "erase without password", file: storedFile, args: []string{"erase"}, stdin: "protocol=https\nhost=www.runcomfy.com\n", wantFile: "<none>"},
		{name: "erase stale password keeps newer token", file: storedFile, args: []string{"erase"}, stdin: "protocol=https\nhost=www.runcomfy.com\npassword=rc_old\n"},
		{name: "erase foreign host keeps token", file: storedFile, args: []string{"erase"}, stdin: "protocol=https\nhost=github.com\n"},
		{name: "unknown action ignored", file: storedFile, args: []string{"capabilities"}, stdin: "protocol=https\nhost=www.runcomfy.com\n"},
		{name: "no action", file: storedFile, args: nil, wantStderr: "git-credential-runcomfy: usage: git-credential-runcomfy <get|store|erase>\n", wantCode: 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, path, stderr := newTestHelper(t, tt.file, tt.vars)
			h.Name = "git-credential-runcomfy"
			before := readFileOrNone(t, path)
			var out bytes.Buffer
			err := h.Git(context.Background(), tt.args, strings.NewReader(tt.stdin), &out)
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %q\nwant     %q", out.String(), tt.wantOut)
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q\nwant     %q", stderr.String(), tt.wantStderr)
			}
			if code := ExitCode(err); code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (err %v)", code, tt.wantCode, err)
			}
			want := tt.wantFile
			if want == "" {
				want = before
			}
			if after := readFileOrNone(t, path); after != want {
				t.Errorf("token.json = %q\nwant %q", after, want)
			}
		})
	}
}

func TestGetLogsInOnMissThenAnswers(t *testing.T) {
	h, path, _ := newTestHelper(t, "", nil)
	calls := 0
	h.Login = func(context.Context) error {
		calls++
		return os.WriteFile(path, []byte(storedFile), 0o600)
	}
	var out bytes.Buffer
	if err := h.Git(context.Background(), []string{"get"}, strings.NewReader("protocol=https\nhost=www.runcomfy.com\n"), &out); err != nil {
		t.Fatal(err)
	}
	if want := "username=ada@example.com\npassword=" + storedToken + "\n"; out.String() != want || calls != 1 {
		t.Fatalf("stdout = %q after %d logins", out.String(), calls)
	}
}

func TestGetFailedLoginIsAMissWithAReason(t *testing.T) {
	h, _, stderr := newTestHelper(t, "", nil)
	h.Login = func(context.Context) error { return errors.New("login denied in the browser") }
	var out bytes.Buffer
	err := h.Docker(context.Background(), "get", strings.NewReader("https://www.runcomfy.com"), &out)
	if out.String() != "credentials not found in native keychain\n" || ExitCode(err) != 1 {
		t.Fatalf("stdout = %q, code %d", out.String(), ExitCode(err))
	}
	if want := "docker-credential-runcomfy: login denied in the browser\n"; stderr.String() != want {
		t.Fatalf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestGetForeignHostNeverLogsIn(t *testing.T) {
	h, _, _ := newTestHelper(t, "", nil)
	h.Login = func(context.Context) error { t.Fatal("login for a foreign host"); return nil }
	var out bytes.Buffer
	_ = h.Docker(context.Background(), "get", strings.NewReader("https://evil.example"), &out)
	_ = h.Git(context.Background(), []string{"get"}, strings.NewReader("protocol=https\nhost=evil.example\n"), &out)
}

// TestParseGitLongLines: a line longer than the 4 KiB read buffer is read
// whole, up to MaxLine; a longer one is refused without quoting it.
func TestParseGitLongLines(t *testing.T) {
	path5k := strings.Repeat("p", 5000)
	pass5k := "rc_" + strings.Repeat("s", 4997)
	path65k := strings.Repeat("q", 65000)
	pass65k := "rc_" + strings.Repeat("t", 64997)
	atLimit := strings.Repeat("x", MaxLine-len("path="))
	tests := []struct {
		name     string
		stdin    string
		want     GitRequest
		wantErr  string
		wantCode int
	}{
		{name: "5000-byte path and password",
			stdin: "protocol=https\nhost=www.runcomfy.com\npath=" + path5k + "\npassword=" + pass5k + "\n\n",
			want:  GitRequest{Protocol: "https", Host: "www.runcomfy.com", Path: path5k, Password: pass5k, HasPassword: true}},
		{name: "65000-byte path and password",
			stdin: "protocol=https\npath=" + path65k + "\npassword=" + pass65k + "\nhost=www.runcomfy.com\n\n",
			want:  GitRequest{Protocol: "https", Host: "www.runcomfy.com", Path: path65k, Password: pass65k, HasPassword: true}},
		{name: "65000-byte password with CRLF at EOF",
			stdin: "host=www.runcomfy.com\r\npassword=" + pass65k + "\r\n",
			want:  GitRequest{Host: "www.runcomfy.com", Password: pass65k, HasPassword: true}},
		{name: "line of exactly 64 KiB",
			stdin: "path=" + atLimit + "\nhost=www.runcomfy.com\n",
			want:  GitRequest{Host: "www.runcomfy.com", Path: atLimit}},
		{name: "line one byte over 64 KiB refused",
			stdin:   "host=www.runcomfy.com\npath=" + atLimit + "x\n",
			want:    GitRequest{Host: "www.runcomfy.com"},
			wantErr: "line 2 is longer than 64 KiB", wantCode: ExitData},
		{name: "70000-byte password line refused",
			stdin:   "protocol=https\npassword=rc_" + strings.Repeat("u", 70000) + "\n",
			want:    GitRequest{Protocol: "https"},
			wantErr: "line 2 is longer than 64 KiB", wantCode: ExitData},
		{name: "70000-byte line at EOF refused",
			stdin:   "path=" + strings.Repeat("v", 70000),
			wantErr: "line 1 is longer than 64 KiB", wantCode: ExitData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGit(strings.NewReader(tt.stdin))
			if got != tt.want {
				t.Errorf("request = {Protocol:%q Host:%q Path:%d bytes Username:%q Password:%d bytes HasPassword:%v}, want path %d bytes, password %d bytes",
					got.Protocol, got.Host, len(got.Path), got.Username, len(got.Password), got.HasPassword, len(tt.want.Path), len(tt.want.Password))
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("err = %q, want %q", gotErr, tt.wantErr)
			}
			if code := ExitCode(err); code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
		})
	}
}
