package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runcomfy/runcomfy/devserver"
)

// onTerminal runs a command line under script(1), which gives it a pseudo
// terminal as stdin, stdout and stderr, and returns what the terminal showed.
func (s *sandbox) onTerminal(commandLine string) string {
	s.t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		s.t.Fatalf("script(1) is missing (Debian package bsdutils): %v", err)
	}
	p := s.start("", "script", "-qefc", commandLine, "/dev/null")
	r := p.wait(60 * time.Second)
	if r.code != 0 {
		s.t.Fatalf("%s on a terminal: %+v", commandLine, r)
	}
	return r.stdout
}

func TestLoginOnATerminal(t *testing.T) {
	tests := []struct {
		name     string
		noColor  bool
		wantBold bool
	}{
		{"colour", false, true},
		{"NO_COLOR", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
			s.env["TERM"] = "xterm"
			if tt.noColor {
				s.env["NO_COLOR"] = "1"
			}
			screen := s.onTerminal(bin("runcomfy") + " login --no-browser")
			codes := dev.UserCodes()
			if len(codes) != 1 {
				t.Fatalf("%d codes", len(codes))
			}
			spaced := strings.Join(strings.Split(codes[0], ""), " ")
			for _, want := range []string{"First copy your one-time code:", "┌", spaced, "Then enter it at: " + dev.URL + "/cli-auth", "Waiting for authorization… 10:00 left (Ctrl-C to cancel)", "Logged in as demo@runcomfy.dev."} {
				if !strings.Contains(screen, want) {
					t.Errorf("the terminal lacks %q:\n%s", want, screen)
				}
			}
			if bold := strings.Contains(screen, "\033[1m"); bold != tt.wantBold {
				t.Errorf("bold = %v, want %v:\n%q", bold, tt.wantBold, screen)
			}
			if check := strings.Contains(screen, "✓"); check != tt.wantBold {
				t.Errorf("check mark = %v, want %v", check, tt.wantBold)
			}
		})
	}
}

func TestQuietLoginShowsOnlyTheCode(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true})
	r := s.start("", "runcomfy", "-q", "login", "--no-browser").wait(30 * time.Second)
	want := "Your one-time code: " + dev.UserCodes()[0] + "\nEnter it at: " + dev.URL + "/cli-auth\n" +
		"Waiting for authorization (the code expires in 10:00)...\n"
	if r != (result{stderr: want}) {
		t.Fatalf("login -q = %+v\nwant stderr %q", r, want)
	}
	if r := s.run("", "runcomfy", "-q", "logout"); r != (result{}) {
		t.Fatalf("logout -q = %+v", r)
	}
}
