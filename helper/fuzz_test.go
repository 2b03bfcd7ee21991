package helper

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzParseGit: any input parses or is refused with EX_DATAERR; never a
// panic, and a refusal never quotes the input.
func FuzzParseGit(f *testing.F) {
	for _, s := range []string{
		"protocol=https\nhost=www.runcomfy.com\n\n",
		"protocol=https\r\nhost=www.runcomfy.com\r\npassword=rc_x\r\n",
		"host=a\x00b\n",
		"noequals\n",
		"=\n\n",
		"password=\n",
		"url=https://www.runcomfy.com/x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseGit(bytes.NewReader(data))
		if err != nil {
			if ExitCode(err) != ExitData {
				t.Fatalf("refusal %v has exit code %d", err, ExitCode(err))
			}
			// A password of a character or two may be a line number.
			if len(req.Password) >= 4 && strings.Contains(err.Error(), req.Password) {
				t.Fatalf("error quotes the password")
			}
			return
		}
		for _, v := range []string{req.Protocol, req.Host, req.Username, req.Password} {
			if strings.ContainsAny(v, "\x00\n") {
				t.Fatalf("parsed value holds a NUL or newline: %q", v)
			}
		}
	})
}

// FuzzDockerStore: any stdin to store either saves a valid token for a
// RunComfy host or is refused with exit 1; never a panic.
func FuzzDockerStore(f *testing.F) {
	for _, s := range []string{
		`{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_x"}`,
		`{"ServerURL":"https://evil.example","Username":"u","Secret":"rc_x"}`,
		`{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"rc_x","Secret":"rc_y"}`,
		`{"ServerURL":"https://www.runcomfy.com","Username":"u","Secret":"\u0000"}`,
		`{`, ``, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, _, _ := newTestHelper(t, "", nil)
		var out bytes.Buffer
		err := h.Docker(context.Background(), "store", bytes.NewReader(data), &out)
		if err != nil && ExitCode(err) != ExitFailure {
			t.Fatalf("store refused with exit %d: %v", ExitCode(err), err)
		}
		if err == nil && out.Len() != 0 {
			t.Fatalf("a successful store printed %q", out.String())
		}
	})
}
