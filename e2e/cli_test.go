package e2e

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestTokenPrintsTokenAlone(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("rc_cli_token_7777", "ada@example.com")
	r := s.run("", "runcomfy", "token")
	if r != (result{stdout: "rc_cli_token_7777\n"}) {
		t.Fatalf("token = %+v", r)
	}
	s.env["RUNCOMFY_TOKEN"] = "  rc_env_token_8888\n"
	if r := s.run("", "runcomfy", "token"); r != (result{stdout: "rc_env_token_8888\n"}) {
		t.Fatalf("token with env = %+v", r)
	}
}

func TestTokenSignedOutExits77(t *testing.T) {
	s := newSandbox(t)
	r := s.run("", "runcomfy", "token")
	want := result{stderr: "runcomfy: not signed in: run `runcomfy login`, or set RUNCOMFY_TOKEN\n", code: 77}
	if r != want {
		t.Fatalf("token = %+v, want %+v", r, want)
	}
}

func TestTokenCorruptFileExits65NamingIt(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("x", "y")
	if err := os.WriteFile(s.tokenPath(), []byte(`{"access_token": "rc_half`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.run("", "runcomfy", "token")
	want := result{stderr: "runcomfy: " + s.tokenPath() + ": not a valid token file: expected one JSON object (fix it, or remove it and run `runcomfy login`)\n", code: 65}
	if r != want {
		t.Fatalf("token = %+v, want %+v", r, want)
	}
}

func TestStatus(t *testing.T) {
	s := newSandbox(t)
	r := s.run("", "runcomfy", "status")
	want := "RUNCOMFY_TOKEN:    not set\n" +
		"token file:        " + s.tokenPath() + " (not present)\n" +
		"keyring:           off (turn it on with `runcomfy login --keyring` or RUNCOMFY_KEYRING=1)\n\n" +
		"Not signed in. Run `runcomfy login`, or set RUNCOMFY_TOKEN.\n"
	if r != (result{stdout: want, code: 77}) {
		t.Fatalf("status signed out = %+v\nwant stdout %q", r, want)
	}

	s.writeToken("rc_status_token_abcd", "ada@example.com")
	r = s.run("", "runcomfy", "status")
	want = "RUNCOMFY_TOKEN:    not set\n" +
		"token file:        " + s.tokenPath() + " (mode 0600, rc_…abcd, ada@example.com)  <- in use\n" +
		"keyring:           off (turn it on with `runcomfy login --keyring` or RUNCOMFY_KEYRING=1)\n\n" +
		"Signed in as ada@example.com with rc_…abcd from " + s.tokenPath() + ".\n"
	if r != (result{stdout: want}) {
		t.Fatalf("status signed in = %+v\nwant stdout %q", r, want)
	}
	if strings.Contains(r.stdout, "rc_status_token_abcd") {
		t.Fatal("status printed the whole token")
	}
}

func TestStatusReportsLooseFile(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("rc_loose_token_wxyz", "")
	if err := os.Chmod(s.tokenPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := s.run("", "runcomfy", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "(mode 0644, rc_…wxyz)  <- in use\n") ||
		!strings.Contains(r.stdout, "warning: "+s.tokenPath()+" or its directory can be read by other users (dir mode 0700); run `chmod 700 "+s.configDir()+" && chmod 600 "+s.tokenPath()+"`") {
		t.Fatalf("status = %+v", r)
	}
}

func TestStatusReportsCorruptFile(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("x", "y")
	if err := os.WriteFile(s.tokenPath(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.run("", "runcomfy", "status")
	want := "RUNCOMFY_TOKEN:    not set\n" +
		"token file:        " + s.tokenPath() + ": unusable: not a valid token file: expected one JSON object\n" +
		"keyring:           off (turn it on with `runcomfy login --keyring` or RUNCOMFY_KEYRING=1)\n\n" +
		"No usable token: " + s.tokenPath() + ": not a valid token file: expected one JSON object (fix it, or remove it and run `runcomfy login`)\n"
	if r != (result{stdout: want, code: 65}) {
		t.Fatalf("status = %+v\nwant stdout %q", r, want)
	}
}

func TestLogout(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("rc_logout_token_1111", "ada@example.com")
	r := s.run("", "runcomfy", "logout")
	want := result{stderr: "Logged out: removed " + s.tokenPath() + ".\nThe token stays valid on RunComfy until you revoke it on your Profile page.\n"}
	if r != want {
		t.Fatalf("logout = %+v", r)
	}
	if got := s.readToken(); got != "<none>" {
		t.Fatalf("token.json after logout: %q", got)
	}
	if r := s.run("", "runcomfy", "logout"); r != (result{stderr: "Not logged in: no stored token to remove.\n"}) {
		t.Fatalf("second logout = %+v", r)
	}
	if r := s.run("", "runcomfy", "token"); r.code != 77 {
		t.Fatalf("token after logout = %+v", r)
	}
}

func TestUsageErrorsExit64(t *testing.T) {
	s := newSandbox(t)
	for _, args := range [][]string{{"no-such-command"}, {"token", "--no-such-flag"}, {"--no-such-flag"}, {"token", "rc_secret_as_arg"}} {
		r := s.run("", "runcomfy", args...)
		if r.code != 64 || r.stdout != "" && !strings.Contains(r.stdout, "USAGE") {
			t.Errorf("runcomfy %v = %+v, want exit 64", args, r)
		}
		if strings.Contains(r.stdout+r.stderr, "rc_secret_as_arg") {
			t.Errorf("runcomfy %v echoed its argument", args)
		}
	}
}

func TestVersion(t *testing.T) {
	s := newSandbox(t)
	if r := s.run("", "runcomfy", "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "runcomfy version ") {
		t.Fatalf("--version = %+v", r)
	}
	if r := s.run("", "docker-credential-runcomfy", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "docker-credential-runcomfy (github.com/runcomfy/runcomfy) ") {
		t.Fatalf("version = %+v", r)
	}
}

func TestMultiCallByName(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("rc_multicall_2222", "")
	link := filepath.Join(s.home, "git-credential-runcomfy")
	if err := os.Symlink(bin("runcomfy"), link); err != nil {
		t.Fatal(err)
	}
	r := s.run("protocol=https\nhost=www.runcomfy.com\n", link, "get")
	if r != (result{stdout: "username=runcomfy\npassword=rc_multicall_2222\n"}) {
		t.Fatalf("runcomfy as git-credential-runcomfy = %+v", r)
	}
}

// TestMakeBuildIsStatic builds with the Makefile and checks every binary
// has no ELF interpreter: no dynamic loader at start (SPEC "Binaries").
func TestMakeBuildIsStatic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ELF check")
	}
	dir := t.TempDir()
	cmd := exec.Command("make", "-C", "..", "build", "BIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	for _, name := range []string{"runcomfy", "docker-credential-runcomfy", "git-credential-runcomfy", "runcomfy-devserver"} {
		f, err := elf.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s has a dynamic loader", name)
			}
		}
		f.Close()
	}
}

// TestMakeDemo runs the README's "try it now" as a new user would.
func TestMakeDemo(t *testing.T) {
	cmd := exec.Command("make", "-C", "..", "demo", "BIN="+t.TempDir())
	cmd.Env = append(os.Environ(), "RUNCOMFY_TOKEN=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Logged in as demo@runcomfy.dev. Token saved to ",
		"  token type: cli\n",
		`"Username":"demo@runcomfy.dev","Secret":"rc_`,
		"username=demo@runcomfy.dev\npassword=rc_",
		"Logged out: removed ",
		"(exit 77: signed out)",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make demo output lacks %q:\n%s", want, out)
		}
	}
}
