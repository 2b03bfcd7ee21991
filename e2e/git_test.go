package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// gitSandbox configures real git to ask our helper for RunComfy hosts, as
// the README says, and gives it an askpass that turns a miss into a
// visible marker instead of a prompt.
func gitSandbox(t *testing.T, helper string) *sandbox {
	t.Helper()
	s := newSandbox(t)
	askpass := filepath.Join(s.home, "askpass.sh")
	if err := os.WriteFile(askpass, []byte("#!/bin/sh\necho ASKPASS-MARKER\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	s.env["GIT_ASKPASS"] = askpass
	s.env["GIT_TERMINAL_PROMPT"] = "0"
	gitconfig := "[credential \"https://www.runcomfy.com\"]\n\thelper =\n\thelper = " + helper + "\n"
	if err := os.WriteFile(s.env["GIT_CONFIG_GLOBAL"], []byte(gitconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGitCredentialFill(t *testing.T) {
	for _, helper := range []string{"runcomfy", "!runcomfy git-credential"} {
		t.Run(helper, func(t *testing.T) {
			s := gitSandbox(t, helper)
			s.writeToken("rc_git_token_1234", "ada@example.com")
			tests := []struct {
				name, stdin, want string
			}{
				{"runcomfy host gets the token", "protocol=https\nhost=www.runcomfy.com\n\n",
					"protocol=https\nhost=www.runcomfy.com\nusername=ada@example.com\npassword=rc_git_token_1234\n"},
				{"other host reaches askpass", "protocol=https\nhost=github.com\n\n",
					"protocol=https\nhost=github.com\nusername=ASKPASS-MARKER\npassword=ASKPASS-MARKER\n"},
			}
			for _, tt := range tests {
				r := s.run(tt.stdin, "git", "credential", "fill")
				if r.stdout != tt.want || r.code != 0 {
					t.Errorf("%s: git credential fill = %q (exit %d, stderr %q)\nwant %q", tt.name, r.stdout, r.code, r.stderr, tt.want)
				}
			}
		})
	}
}

func TestGitCredentialFillMissFallsToAskpass(t *testing.T) {
	s := gitSandbox(t, "runcomfy")
	r := s.run("protocol=https\nhost=www.runcomfy.com\n\n", "git", "credential", "fill")
	want := "protocol=https\nhost=www.runcomfy.com\nusername=ASKPASS-MARKER\npassword=ASKPASS-MARKER\n"
	if r.stdout != want || r.code != 0 {
		t.Fatalf("fill = %q (exit %d, stderr %q)", r.stdout, r.code, r.stderr)
	}
}

func TestGitCredentialApproveAndReject(t *testing.T) {
	s := gitSandbox(t, "runcomfy")
	r := s.run("protocol=https\nhost=www.runcomfy.com\nusername=bob@example.com\npassword=rc_approved_5678\n\n", "git", "credential", "approve")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("approve: %+v", r)
	}
	want := "{\n  \"access_token\": \"rc_approved_5678\",\n  \"expires_at\": null,\n  \"refresh_token\": null,\n  \"user_email\": \"bob@example.com\"\n}\n"
	if got := s.readToken(); got != want {
		t.Fatalf("token.json = %q", got)
	}
	if m := s.mode(s.tokenPath()); m != 0o600 {
		t.Fatalf("token.json mode %04o", m)
	}
	if m := s.mode(s.configDir()); m != 0o700 {
		t.Fatalf("config dir mode %04o", m)
	}

	// A stale rejection (another password) must not erase the newer token.
	s.run("protocol=https\nhost=www.runcomfy.com\nusername=bob@example.com\npassword=rc_stale\n\n", "git", "credential", "reject")
	if got := s.readToken(); got != want {
		t.Fatalf("stale reject changed token.json: %q", got)
	}
	// Approve for another host never lands in our file.
	s.run("protocol=https\nhost=github.com\nusername=u\npassword=ghp_other\n\n", "git", "credential", "approve")
	if got := s.readToken(); got != want {
		t.Fatalf("approve for github.com changed token.json: %q", got)
	}
	r = s.run("protocol=https\nhost=www.runcomfy.com\nusername=bob@example.com\npassword=rc_approved_5678\n\n", "git", "credential", "reject")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("reject: %+v", r)
	}
	if got := s.readToken(); got != "<none>" {
		t.Fatalf("reject left token.json: %q", got)
	}
}

func TestGitApproveNeverPersistsEnvToken(t *testing.T) {
	s := gitSandbox(t, "runcomfy")
	s.env["RUNCOMFY_TOKEN"] = "rc_ci_secret_9999"
	r := s.run("protocol=https\nhost=www.runcomfy.com\n\n", "git", "credential", "fill")
	if want := "protocol=https\nhost=www.runcomfy.com\nusername=runcomfy\npassword=rc_ci_secret_9999\n"; r.stdout != want {
		t.Fatalf("fill = %q", r.stdout)
	}
	s.run("protocol=https\nhost=www.runcomfy.com\nusername=runcomfy\npassword=rc_ci_secret_9999\n\n", "git", "credential", "approve")
	if got := s.readToken(); got != "<none>" {
		t.Fatalf("the env token landed on disk: %q", got)
	}
	if _, err := os.Stat(s.configDir()); !os.IsNotExist(err) {
		t.Fatalf("config dir was created: %v", err)
	}
}
