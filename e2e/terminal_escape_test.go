package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestStatusEscapesWhatTokenJSONHolds: whoever can write token.json (or
// set RUNCOMFY_TOKEN) chooses the email and the token's last characters
// that status prints. An escape sequence among them must reach the
// terminal as visible text, quoted, never as a control sequence that
// recolours, clears or rewrites the screen; plain values stay unquoted.
func TestStatusEscapesWhatTokenJSONHolds(t *testing.T) {
	const token = "rc_status_token_0123456789"
	tests := []struct {
		name string
		// file is token.json as JSON text; "" writes none.
		file     string
		envToken string
		// want are lines status must print, by their label.
		want []string
	}{
		{name: "plain email is printed as is",
			file: `{"access_token":"` + token + `","user_email":"ada@example.com"}`,
			want: []string{
				"token file:        <PATH> (mode 0600, rc_…6789, ada@example.com)  <- in use",
				"Signed in as ada@example.com with rc_…6789 from <PATH>.",
			}},
		{name: "ESC in the email",
			file: `{"access_token":"` + token + `","user_email":"\u001b[31mred"}`,
			want: []string{
				`token file:        <PATH> (mode 0600, rc_…6789, "\x1b[31mred")  <- in use`,
				`Signed in as "\x1b[31mred" with rc_…6789 from <PATH>.`,
			}},
		{name: "C1 CSI in the email",
			file: `{"access_token":"` + token + `","user_email":"\u009b2Jada"}`,
			want: []string{
				`token file:        <PATH> (mode 0600, rc_…6789, "\u009b2Jada")  <- in use`,
				`Signed in as "\u009b2Jada" with rc_…6789 from <PATH>.`,
			}},
		{name: "bidi override in the email",
			file: `{"access_token":"` + token + `","user_email":"ada\u202emoc.elpmaxe@"}`,
			want: []string{
				`token file:        <PATH> (mode 0600, rc_…6789, "ada\u202emoc.elpmaxe@")  <- in use`,
				`Signed in as "ada\u202emoc.elpmaxe@" with rc_…6789 from <PATH>.`,
			}},
		{name: "C1 CSI at the token's end",
			file: `{"access_token":"rc_status_token_01234\u009b2J","user_email":"ada@example.com"}`,
			want: []string{
				`token file:        <PATH> (mode 0600, "rc_…4\u009b2J", ada@example.com)  <- in use`,
				`Signed in as ada@example.com with "rc_…4\u009b2J" from <PATH>.`,
			}},
		{name: "ESC at RUNCOMFY_TOKEN's end",
			envToken: "rc_env_token_0123\x1b[2J",
			want: []string{
				`RUNCOMFY_TOKEN:    set, "rc_…\x1b[2J"  <- in use`,
				"token file:        <PATH> (not present)",
				`Signed in as an unnamed account with "rc_…\x1b[2J" from RUNCOMFY_TOKEN.`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			if tt.file != "" {
				if err := os.MkdirAll(s.configDir(), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(s.tokenPath(), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.envToken != "" {
				s.env["RUNCOMFY_TOKEN"] = tt.envToken
			}
			r := s.runBounded(input{}, "runcomfy", "status")
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("status = %+v, want exit 0 and no stderr", r)
			}
			// ESC, CSI (U+009B, as UTF-8) and the bidi override, raw.
			for _, raw := range []string{"\x1b", "\u009b", "\u202e"} {
				if strings.Contains(r.stdout, raw) {
					t.Errorf("status printed %q raw:\n%s", raw, r.stdout)
				}
			}
			lines := strings.Split(strings.ReplaceAll(r.stdout, s.tokenPath(), "<PATH>"), "\n")
			for _, want := range tt.want {
				label, _, _ := strings.Cut(want, " ")
				got := "<no such line>"
				for _, line := range lines {
					if strings.HasPrefix(line, label+" ") {
						got = line
						break
					}
				}
				if got != want {
					t.Errorf("status line %q\n got %q\nwant %q", label, got, want)
				}
			}
		})
	}
}
