package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/runcomfy/runcomfy/devserver"
)

// These tests pin the JSON field names the README documents: scripts read
// them, so a change here is a breaking change.

// jsonErrorLine is what an error is in JSON mode: one line on stderr.
func jsonErrorLine(msg string, code int) string {
	var line strings.Builder
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
	}{msg, code})
	return line.String()
}

// missingFile is a file section of status --json for an absent file.
func missingFile(path string) map[string]any {
	return map[string]any{
		"path": path, "exists": false, "mode": "", "dir_mode": "", "too_open": false, "symlink": false,
		"token_masked": "", "user_email": "", "expired": false, "error": "", "in_use": false,
	}
}

func TestStatusJSON(t *testing.T) {
	s := newSandbox(t)
	notSignedIn := "not signed in: run `runcomfy login`, or set RUNCOMFY_TOKEN"
	for _, flags := range [][]string{{"--json"}, {"--output", "json"}, {"--output=json"}} {
		r := s.run("", "runcomfy", append([]string{"status"}, flags...)...)
		want := map[string]any{
			"signed_in": false, "source": "", "user_email": "", "token_masked": "",
			"env":         map[string]any{"set": false, "token_masked": "", "in_use": false},
			"file":        missingFile(s.tokenPath()),
			"legacy_file": nil,
			"keyring":     map[string]any{"enabled": false, "reachable": false, "error": "", "has_token": false, "matches_file": false, "in_use": false},
		}
		if got := decodeJSON(t, r.stdout); !reflect.DeepEqual(got, want) || r.code != 77 || r.stderr != jsonErrorLine(notSignedIn, 77) {
			t.Fatalf("status %v signed out = %+v\ndecoded %v\nwant %v", flags, r, got, want)
		}
	}

	s.writeToken("rc_status_json_abcd", "ada@example.com")
	r := s.run("", "runcomfy", "status", "--json")
	file := map[string]any{
		"path": s.tokenPath(), "exists": true, "mode": "0600", "dir_mode": "0700", "too_open": false, "symlink": false,
		"token_masked": "rc_…abcd", "user_email": "ada@example.com", "expired": false, "error": "", "in_use": true,
	}
	want := map[string]any{
		"signed_in": true, "source": "file", "user_email": "ada@example.com", "token_masked": "rc_…abcd",
		"env":         map[string]any{"set": false, "token_masked": "", "in_use": false},
		"file":        file,
		"legacy_file": nil,
		"keyring":     map[string]any{"enabled": false, "reachable": false, "error": "", "has_token": false, "matches_file": false, "in_use": false},
	}
	if got := decodeJSON(t, r.stdout); !reflect.DeepEqual(got, want) || r.code != 0 || r.stderr != "" {
		t.Fatalf("status --json signed in = %+v\ndecoded %v\nwant %v", r, got, want)
	}
	if strings.Contains(r.stdout, "rc_status_json_abcd") {
		t.Fatal("status --json printed the whole token")
	}

	s.env["RUNCOMFY_TOKEN"] = "rc_status_env_wxyz"
	r = s.run("", "runcomfy", "status", "--json")
	file["in_use"] = false
	want["source"], want["user_email"], want["token_masked"] = "env", "", "rc_…wxyz"
	want["env"] = map[string]any{"set": true, "token_masked": "rc_…wxyz", "in_use": true}
	if got := decodeJSON(t, r.stdout); !reflect.DeepEqual(got, want) || r.code != 0 {
		t.Fatalf("status --json with RUNCOMFY_TOKEN = %+v\ndecoded %v\nwant %v", r, got, want)
	}
}

func TestStatusJSONCorruptFile(t *testing.T) {
	s := newSandbox(t)
	s.writeToken("x", "y")
	if err := os.WriteFile(s.tokenPath(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.run("", "runcomfy", "status", "--json")
	got := decodeJSON(t, r.stdout)
	file := missingFile(s.tokenPath())
	file["exists"], file["error"] = true, "not a valid token file: expected one JSON object"
	if !reflect.DeepEqual(got["file"], file) || got["signed_in"] != false || r.code != 65 ||
		r.stderr != jsonErrorLine(s.tokenPath()+": not a valid token file: expected one JSON object (fix it, or remove it and run `runcomfy login`)", 65) {
		t.Fatalf("status --json = %+v\nfile %v\nwant %v", r, got["file"], file)
	}
}

// me is the dev server's answer about token.
func me(t *testing.T, dev *devServer, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", dev.URL+"/api/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWhoamiJSON(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{})
	r := s.run("", "runcomfy", "whoami", "--json")
	if r != (result{stderr: jsonErrorLine("not signed in: run `runcomfy login`, or set RUNCOMFY_TOKEN", 77), code: 77}) {
		t.Fatalf("whoami --json signed out = %+v", r)
	}

	token := dev.MintToken("ada@example.com")
	s.writeToken(token, "ada@example.com")
	server := me(t, dev, token)
	r = s.run("", "runcomfy", "whoami", "--output", "json")
	want := map[string]any{
		"email":            "ada@example.com",
		"user_id":          server["id"],
		"token_type":       "api",
		"token_created_at": server["token_created_at"],
		"source":           "file",
		"path":             s.tokenPath(),
	}
	if got := decodeJSON(t, r.stdout); !reflect.DeepEqual(got, want) || r.code != 0 || r.stderr != "" {
		t.Fatalf("whoami --json = %+v\ndecoded %v\nwant %v", r, got, want)
	}
	if server["token_created_at"] == "" || server["id"] == "" {
		t.Fatalf("the dev server's me = %v", server)
	}

	s.env["RUNCOMFY_TOKEN"] = token
	r = s.run("", "runcomfy", "whoami", "--json")
	want["source"], want["path"] = "env", ""
	if got := decodeJSON(t, r.stdout); !reflect.DeepEqual(got, want) || r.code != 0 {
		t.Fatalf("whoami --json with RUNCOMFY_TOKEN = %+v", r)
	}

	dev.Revoke(token)
	r = s.run("", "runcomfy", "whoami", "--json")
	if r != (result{stderr: jsonErrorLine("RunComfy rejected the token; run `runcomfy login` to sign in again", 77), code: 77}) {
		t.Fatalf("whoami --json revoked = %+v", r)
	}
}

func TestListJSON(t *testing.T) {
	s := newSandbox(t)
	for _, args := range [][]string{{"list"}, {"list", "--json"}, {"list", "--output", "json"}} {
		if r := s.run("", "runcomfy", args...); r != (result{stdout: "{}\n"}) {
			t.Fatalf("runcomfy %v signed out = %+v", args, r)
		}
	}
	s.writeToken("rc_list_json_1357", "ada@example.com")
	for _, args := range [][]string{{"list"}, {"list", "--json"}} {
		r := s.run("", "runcomfy", args...)
		want := map[string]any{"https://www.runcomfy.com": "ada@example.com"}
		if got := decodeJSON(t, r.stdout); !reflect.DeepEqual(got, want) || r.code != 0 || r.stderr != "" {
			t.Fatalf("runcomfy %v = %+v", args, r)
		}
	}

	// A failure: the protocol's message on stdout without --json, one JSON
	// line on stderr with it.
	if err := os.WriteFile(s.tokenPath(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := s.tokenPath() + ": not a valid token file: expected one JSON object (fix it, or remove it and run `runcomfy login`)"
	if r := s.run("", "runcomfy", "list"); r != (result{stdout: msg + "\n", code: 65}) {
		t.Fatalf("list with a corrupt file = %+v", r)
	}
	if r := s.run("", "runcomfy", "list", "--json"); r != (result{stderr: jsonErrorLine(msg, 65), code: 65}) {
		t.Fatalf("list --json with a corrupt file = %+v", r)
	}
}

func TestOutputFormatIsChecked(t *testing.T) {
	s := newSandbox(t)
	for _, cmd := range []string{"status", "whoami", "list"} {
		r := s.run("", "runcomfy", cmd, "--output", "yaml")
		if r != (result{stderr: "runcomfy: --output \"yaml\": want text or json\n", code: 64}) {
			t.Errorf("%s --output yaml = %+v", cmd, r)
		}
	}
}
