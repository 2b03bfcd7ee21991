package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
)

// userGitconfig is a global git config as a user has it: a general helper
// that answers for every host, which setup-git must keep away from
// RunComfy hosts.
const userGitconfig = "[user]\n\tname = Ada\n" +
	"[credential]\n\thelper = \"!f() { echo username=OTHER; echo password=OTHER-HELPER; }; f\"\n"

// setupGitSandbox is a sandbox whose global git config is userGitconfig,
// with git's trace on so tests see which helpers git runs.
func setupGitSandbox(t *testing.T) *sandbox {
	t.Helper()
	s := newSandbox(t)
	s.env["GIT_TERMINAL_PROMPT"] = "0"
	s.env["GIT_TRACE"] = "1"
	if err := os.WriteFile(s.env["GIT_CONFIG_GLOBAL"], []byte(userGitconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *sandbox) gitconfig() string {
	s.t.Helper()
	data, err := os.ReadFile(s.env["GIT_CONFIG_GLOBAL"])
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

// fill runs `git credential fill` for host and says whether git ran our
// helper, from git's trace.
func (s *sandbox) fill(protocol, host string) (stdout string, ranOurs bool) {
	s.t.Helper()
	r := s.run("protocol="+protocol+"\nhost="+host+"\n\n", "git", "credential", "fill")
	return r.stdout, strings.Contains(r.stderr, "git-credential-runcomfy")
}

func TestSetupGitSendsRunComfyHostsToOurHelperOnly(t *testing.T) {
	s := setupGitSandbox(t)
	r := s.run("", "runcomfy", "setup-git")
	want := "git now asks " + bin("git-credential-runcomfy") + " for https://runcomfy.com, https://*.runcomfy.com, https://runcomfy.net, https://*.runcomfy.net, and no other helper.\n"
	if r != (result{stderr: want}) {
		t.Fatalf("setup-git = %+v\nwant stderr %q", r, want)
	}
	s.writeToken("rc_setup_git_4242", "ada@example.com")
	ours := []string{"www.runcomfy.com", "runcomfy.com", "api.runcomfy.com", "runcomfy.net", "www.runcomfy.net"}
	for _, host := range ours {
		got, ran := s.fill("https", host)
		want := "protocol=https\nhost=" + host + "\nusername=ada@example.com\npassword=rc_setup_git_4242\n"
		if got != want || !ran {
			t.Errorf("fill %s = %q (ran our helper: %v), want %q", host, got, ran, want)
		}
	}
	others := []struct{ protocol, host string }{
		{"https", "github.com"},
		{"https", "runcomfy.com.evil.example"},
		{"https", "evilruncomfy.com"},
		{"http", "www.runcomfy.com"},
	}
	for _, o := range others {
		got, ran := s.fill(o.protocol, o.host)
		want := "protocol=" + o.protocol + "\nhost=" + o.host + "\nusername=OTHER\npassword=OTHER-HELPER\n"
		if got != want || ran {
			t.Errorf("fill %s://%s = %q (ran our helper: %v), want the other helper's answer", o.protocol, o.host, got, ran)
		}
	}

	// Signed out, a RunComfy host must not fall through to the other
	// helper: the empty entry took it off the list.
	if err := os.Remove(s.tokenPath()); err != nil {
		t.Fatal(err)
	}
	r = s.run("protocol=https\nhost=www.runcomfy.com\n\n", "git", "credential", "fill")
	if r.code == 0 || strings.Contains(r.stdout, "OTHER") {
		t.Fatalf("fill signed out = %+v, want no answer from the other helper", r)
	}
}

func TestSetupGitIsIdempotentAndUnsetRestoresTheConfig(t *testing.T) {
	s := setupGitSandbox(t)
	if r := s.run("", "runcomfy", "setup-git"); r.code != 0 {
		t.Fatalf("setup-git = %+v", r)
	}
	helperPath := bin("git-credential-runcomfy")
	want := userGitconfig
	for _, url := range []string{"https://runcomfy.com", "https://*.runcomfy.com", "https://runcomfy.net", "https://*.runcomfy.net"} {
		want += "[credential \"" + url + "\"]\n\thelper = \n\thelper = " + helperPath + "\n"
	}
	if got := s.gitconfig(); got != want {
		t.Fatalf("gitconfig after setup-git:\n%s\nwant:\n%s", got, want)
	}

	r := s.run("", "runcomfy", "setup-git")
	wantAgain := "git is already set up: it asks " + helperPath + " for https://runcomfy.com, https://*.runcomfy.com, https://runcomfy.net, https://*.runcomfy.net.\n"
	if r != (result{stderr: wantAgain}) {
		t.Fatalf("second setup-git = %+v", r)
	}
	if got := s.gitconfig(); got != want {
		t.Fatalf("second setup-git changed the config:\n%s", got)
	}

	r = s.run("", "runcomfy", "setup-git", "--unset")
	if r != (result{stderr: "Removed the credential helper for https://runcomfy.com, https://*.runcomfy.com, https://runcomfy.net, https://*.runcomfy.net from the global git config.\n"}) {
		t.Fatalf("setup-git --unset = %+v", r)
	}
	if got := s.gitconfig(); got != userGitconfig {
		t.Fatalf("gitconfig after --unset:\n%q\nwant byte for byte:\n%q", got, userGitconfig)
	}
	r = s.run("", "runcomfy", "setup-git", "--unset")
	if r != (result{stderr: "Nothing to remove: git has no RunComfy credential helper in the global config.\n"}) || s.gitconfig() != userGitconfig {
		t.Fatalf("second --unset = %+v", r)
	}
}

func TestSetupGitDryRunPrintsCommandsAndChangesNothing(t *testing.T) {
	s := setupGitSandbox(t)
	helperPath := bin("git-credential-runcomfy")
	r := s.run("", "runcomfy", "setup-git", "--dry-run")
	var want string
	for _, url := range []string{"https://runcomfy.com", "https://*.runcomfy.com", "https://runcomfy.net", "https://*.runcomfy.net"} {
		want += "git config --global --replace-all 'credential." + url + ".helper' ''\n" +
			"git config --global --add 'credential." + url + ".helper' " + helperPath + "\n"
	}
	if r != (result{stdout: want}) {
		t.Fatalf("setup-git --dry-run = %+v\nwant stdout %q", r, want)
	}
	if got := s.gitconfig(); got != userGitconfig {
		t.Fatalf("--dry-run changed the config:\n%s", got)
	}

	if r := s.run("", "runcomfy", "setup-git"); r.code != 0 {
		t.Fatalf("setup-git = %+v", r)
	}
	if r := s.run("", "runcomfy", "setup-git", "--dry-run"); r != (result{stderr: "Nothing to do: git is already set up that way.\n"}) {
		t.Fatalf("--dry-run when set up = %+v", r)
	}
	r = s.run("", "runcomfy", "setup-git", "--unset", "--dry-run")
	want = "git config --global --unset-all 'credential.https://runcomfy.com.helper'\n" +
		"git config --global --unset-all 'credential.https://*.runcomfy.com.helper'\n" +
		"git config --global --unset-all 'credential.https://runcomfy.net.helper'\n" +
		"git config --global --unset-all 'credential.https://*.runcomfy.net.helper'\n"
	if r != (result{stdout: want}) {
		t.Fatalf("setup-git --unset --dry-run = %+v", r)
	}
}

// copyBinary copies a built binary into dir.
func copyBinary(t *testing.T, name, dir string) string {
	t.Helper()
	data, err := os.ReadFile(bin(name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(bin(name)))
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSetupGitHelperValue(t *testing.T) {
	t.Run("quoted sibling", func(t *testing.T) {
		s := setupGitSandbox(t)
		dir := filepath.Join(s.home, "Program Files", "it's here")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		runcomfy := copyBinary(t, "runcomfy", dir)
		helperPath := copyBinary(t, "git-credential-runcomfy", dir)
		if r := s.run("", runcomfy, "setup-git"); r.code != 0 {
			t.Fatalf("setup-git = %+v", r)
		}
		r := s.run("", "git", "config", "--global", "--get-all", "credential.https://*.runcomfy.com.helper")
		if want := "\n!'" + strings.ReplaceAll(helperPath, "'", `'\''`) + "'\n"; r.stdout != want {
			t.Fatalf("helper values = %q, want %q", r.stdout, want)
		}
		s.writeToken("rc_quoted_path_5151", "")
		got, ran := s.fill("https", "www.runcomfy.com")
		if got != "protocol=https\nhost=www.runcomfy.com\nusername=runcomfy\npassword=rc_quoted_path_5151\n" || !ran {
			t.Fatalf("fill = %q (ran our helper: %v)", got, ran)
		}
	})
	t.Run("from PATH", func(t *testing.T) {
		s := setupGitSandbox(t)
		runcomfy := copyBinary(t, "runcomfy", t.TempDir())
		r := s.run("", runcomfy, "setup-git", "--dry-run")
		if !strings.Contains(r.stdout, "git config --global --add 'credential.https://*.runcomfy.com.helper' runcomfy\n") {
			t.Fatalf("setup-git --dry-run = %+v", r)
		}
		if r := s.run("", runcomfy, "setup-git"); r.code != 0 || r.stderr != "git now asks runcomfy for https://runcomfy.com, https://*.runcomfy.com, https://runcomfy.net, https://*.runcomfy.net, and no other helper.\n" {
			t.Fatalf("setup-git = %+v", r)
		}
		s.writeToken("rc_from_path_6161", "")
		got, ran := s.fill("https", "www.runcomfy.com")
		if got != "protocol=https\nhost=www.runcomfy.com\nusername=runcomfy\npassword=rc_from_path_6161\n" || !ran {
			t.Fatalf("fill = %q (ran our helper: %v)", got, ran)
		}

		s.env["PATH"] = "/usr/bin:/bin"
		r = s.run("", runcomfy, "setup-git")
		if r.code != 0 || !strings.HasSuffix(r.stderr, "warning: git-credential-runcomfy is not on PATH; git cannot run it until it is (`make install` puts it in ~/.local/bin)\n") {
			t.Fatalf("setup-git without the helper on PATH = %+v", r)
		}
	})
}

// dockerConfigWithEverything has what setup-docker must keep: unknown
// keys, auths, a credsStore, another credHelpers entry, a number no
// float64 holds, and characters an HTML-safe encoder would escape.
const dockerConfigWithEverything = `{
	"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNz"}},
	"credsStore": "desktop",
	"credHelpers": {"gcr.io": "gcloud", "www.runcomfy.com": "desktop"},
	"psFormat": "table {{.ID}}\t<{{.Names}}> & co",
	"x-unknown": {"nested": [1, 2.50, 12345678901234567890, null, true]}
}`

func decodeJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, string(data))
}

func decodeJSON(t *testing.T, data string) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("more than one JSON value:\n%s", data)
	}
	return v
}

func TestSetupDockerKeepsEverythingElse(t *testing.T) {
	s := newSandbox(t)
	dir := filepath.Join(s.home, "docker-config")
	s.env["DOCKER_CONFIG"] = dir
	path := filepath.Join(dir, "config.json")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(dockerConfigWithEverything), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	original := decodeJSON(t, dockerConfigWithEverything)

	r := s.run("", "runcomfy", "setup-docker")
	want := "Replacing credHelpers[\"www.runcomfy.com\"] = \"desktop\".\n" +
		"docker now asks docker-credential-runcomfy for www.runcomfy.com, runcomfy.com (" + path + ").\n"
	if r != (result{stderr: want}) {
		t.Fatalf("setup-docker = %+v\nwant stderr %q", r, want)
	}
	got := decodeJSONFile(t, path)
	wantConfig := decodeJSON(t, dockerConfigWithEverything)
	wantConfig["credHelpers"] = map[string]any{"gcr.io": "gcloud", "www.runcomfy.com": "runcomfy", "runcomfy.com": "runcomfy"}
	if !reflect.DeepEqual(got, wantConfig) {
		t.Fatalf("config.json = %v\nwant %v", got, wantConfig)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "12345678901234567890") || !strings.Contains(string(data), "2.50") || !strings.Contains(string(data), `<{{.Names}}> & co`) {
		t.Fatalf("values not kept as written:\n%s", data)
	}
	if m := s.mode(path); m != 0o640 {
		t.Fatalf("config.json mode %04o, want 0640 kept", m)
	}

	r = s.run("", "runcomfy", "setup-docker")
	if r != (result{stderr: "docker is already set up: " + path + " sends www.runcomfy.com, runcomfy.com to docker-credential-runcomfy.\n"}) {
		t.Fatalf("second setup-docker = %+v", r)
	}
	if again, _ := os.ReadFile(path); string(again) != string(data) {
		t.Fatalf("second setup-docker changed the file:\n%s", again)
	}

	r = s.run("", "runcomfy", "setup-docker", "--unset")
	if r != (result{stderr: "Removed the runcomfy credHelpers for www.runcomfy.com, runcomfy.com from " + path + ".\n"}) {
		t.Fatalf("setup-docker --unset = %+v", r)
	}
	delete(original["credHelpers"].(map[string]any), "www.runcomfy.com") // it was replaced, so it is gone
	if got := decodeJSONFile(t, path); !reflect.DeepEqual(got, original) {
		t.Fatalf("config.json after --unset = %v\nwant %v", got, original)
	}
	if m := s.mode(path); m != 0o640 {
		t.Fatalf("config.json mode after --unset %04o", m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind in %s: %v", dir, entries)
	}
}

func TestSetupDockerCreatesAPrivateFile(t *testing.T) {
	s := newSandbox(t)
	r := s.run("", "runcomfy", "setup-docker", "--dry-run")
	want := "{\n\t\"credHelpers\": {\n\t\t\"runcomfy.com\": \"runcomfy\",\n\t\t\"www.runcomfy.com\": \"runcomfy\"\n\t}\n}\n"
	if r != (result{stdout: want}) {
		t.Fatalf("setup-docker --dry-run = %+v", r)
	}
	dir := filepath.Join(s.home, ".docker")
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("--dry-run created %s", dir)
	}
	if r := s.run("", "runcomfy", "setup-docker"); r.code != 0 {
		t.Fatalf("setup-docker = %+v", r)
	}
	path := filepath.Join(dir, "config.json")
	if data, _ := os.ReadFile(path); string(data) != want {
		t.Fatalf("config.json = %q", data)
	}
	if m := s.mode(dir); m != 0o700 {
		t.Fatalf("~/.docker mode %04o", m)
	}
	if m := s.mode(path); m != 0o600 {
		t.Fatalf("config.json mode %04o", m)
	}
	if r := s.run("", "runcomfy", "setup-docker", "--unset"); r.code != 0 {
		t.Fatalf("--unset = %+v", r)
	}
	if data, _ := os.ReadFile(path); string(data) != "{}\n" {
		t.Fatalf("config.json after --unset = %q", data)
	}
}

func TestSetupDockerRefusesBrokenJSONWithoutTouchingIt(t *testing.T) {
	tests := []struct{ name, content, why string }{
		{"truncated", `{"auths": {"r.example": {"auth": "c2VjcmV0"}}`, "not valid JSON (it ends too early)"},
		{"syntax", `{"auths": secret}`, "not valid JSON (at byte 11)"},
		{"array", `["auths"]`, "not a JSON object"},
		{"two objects", `{} {}`, "not valid JSON (more after the object)"},
		{"credHelpers not strings", `{"credHelpers": {"x": 1}}`, "credHelpers is not an object of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			dir := filepath.Join(s.home, ".docker")
			path := filepath.Join(dir, "config.json")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Stat(path)
			r := s.run("", "runcomfy", "setup-docker")
			want := result{stderr: "runcomfy: " + path + ": " + tt.why + "; fix it or move it away, then run setup-docker again (nothing was changed)\n", code: 65}
			if r != want {
				t.Fatalf("setup-docker = %+v\nwant %+v", r, want)
			}
			after, _ := os.Stat(path)
			if data, _ := os.ReadFile(path); string(data) != tt.content || !after.ModTime().Equal(before.ModTime()) || !os.SameFile(before, after) {
				t.Fatalf("config.json was touched: %q", data)
			}
			if strings.Contains(r.stderr, "c2VjcmV0") || strings.Contains(r.stderr, "secret") {
				t.Fatalf("the error quotes the file: %q", r.stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Fatalf("left behind in %s: %v", dir, entries)
			}
		})
	}
}

func TestSetupDockerKeepsASymlinkedConfig(t *testing.T) {
	s := newSandbox(t)
	dotfiles := filepath.Join(s.home, "dotfiles")
	if err := os.MkdirAll(dotfiles, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dotfiles, "docker.json")
	if err := os.WriteFile(target, []byte(`{"auths": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(s.home, ".docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if r := s.run("", "runcomfy", "setup-docker"); r.code != 0 {
		t.Fatalf("setup-docker = %+v", r)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("config.json is no longer a symlink: %v", err)
	}
	got := decodeJSONFile(t, target)
	want := map[string]any{"auths": map[string]any{}, "credHelpers": map[string]any{"www.runcomfy.com": "runcomfy", "runcomfy.com": "runcomfy"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("symlink target = %v", got)
	}
}

// TestSetupDockerEntriesReachOurHelper does what docker does with the
// credHelpers entries: run docker-credential-<value> from PATH through
// docker's own client package, with the registry's host name.
func TestSetupDockerEntriesReachOurHelper(t *testing.T) {
	s := newSandbox(t)
	if r := s.run("", "runcomfy", "setup-docker"); r != (result{stderr: "docker now asks docker-credential-runcomfy for www.runcomfy.com, runcomfy.com (" + filepath.Join(s.home, ".docker", "config.json") + ").\n"}) {
		t.Fatalf("setup-docker = %+v", r)
	}
	s.writeToken("rc_docker_setup_7373", "ada@example.com")
	config := decodeJSONFile(t, filepath.Join(s.home, ".docker", "config.json"))
	helpers, _ := config["credHelpers"].(map[string]any)
	if len(helpers) != 2 {
		t.Fatalf("credHelpers = %v", config["credHelpers"])
	}
	t.Setenv("PATH", s.env["PATH"])
	t.Setenv("RUNCOMFY_CONFIG_DIR", s.configDir())
	t.Setenv("RUNCOMFY_TOKEN", "")
	t.Setenv("RUNCOMFY_WEB_BASE", "")
	t.Setenv("CI", "1")
	for host, suffix := range helpers {
		p := client.NewShellProgramFunc("docker-credential-" + suffix.(string))
		got, err := client.Get(p, host)
		want := &credentials.Credentials{ServerURL: host, Username: "ada@example.com", Secret: "rc_docker_setup_7373"}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("docker get for %s = %+v, %v", host, got, err)
		}
	}
}

func TestSetupDockerWarnsWhenTheHelperIsNotOnPATH(t *testing.T) {
	s := newSandbox(t)
	s.env["PATH"] = "/usr/bin:/bin"
	r := s.run("", "runcomfy", "setup-docker")
	if r.code != 0 || !strings.HasSuffix(r.stderr, "\nwarning: docker-credential-runcomfy is not on PATH; docker cannot run it until it is (`make install` puts it in ~/.local/bin)\n") {
		t.Fatalf("setup-docker = %+v", r)
	}
}
