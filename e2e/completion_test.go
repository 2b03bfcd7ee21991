package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionScriptsAreValid checks each shell's script with that
// shell's own parser. The shells come from Debian (.ci/run installs zsh
// and fish): a missing one fails, it does not skip.
func TestCompletionScriptsAreValid(t *testing.T) {
	s := newSandbox(t)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		path, err := exec.LookPath(shell)
		if err != nil {
			t.Fatalf("%s is not installed (apt-get install %s): %v", shell, shell, err)
		}
		r := s.run("", "runcomfy", "completion", shell)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "runcomfy") {
			t.Fatalf("completion %s = %+v", shell, r)
		}
		script := filepath.Join(s.home, "completion."+shell)
		if err := os.WriteFile(script, []byte(r.stdout), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s -n rejects the script: %v\n%s", shell, err, out)
		}
	}
	if r := s.run("", "runcomfy", "completion", "tcsh"); r.code != 64 {
		t.Fatalf("completion tcsh = %+v, want exit 64", r)
	}
}

// TestBashCompletionCompletesCommands loads the bash script the way a
// user's .bashrc would and asks it for candidates.
func TestBashCompletionCompletesCommands(t *testing.T) {
	s := newSandbox(t)
	script := "source <(runcomfy completion bash)\n" +
		"COMP_WORDS=(runcomfy setup-); COMP_CWORD=1; _runcomfy_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
	r := s.run(script, "bash")
	if r.code != 0 || r.stdout != "setup-git\nsetup-docker\n" {
		t.Fatalf("bash completion of 'runcomfy setup-' = %+v", r)
	}
}

// TestManPageRenders generates the man page as `make man` does and renders
// it with man(1).
func TestManPageRenders(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Fatalf("man is not installed (apt-get install man-db): %v", err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("make", "-C", "..", "man", "BIN="+dir).CombinedOutput(); err != nil {
		t.Fatalf("make man: %v\n%s", err, out)
	}
	cmd := exec.Command("man", "-l", filepath.Join(dir, "runcomfy.1"))
	cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=100")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("man -l: %v\n%s", err, out)
	}
	for _, want := range []string{"NAME", "runcomfy - sign in to RunComfy", "login", "setup-git", "--with-token"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the rendered page lacks %q:\n%s", want, out)
		}
	}
}
