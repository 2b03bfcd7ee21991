package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"no secrets leaves text alone", "GET /api/auth/me 200", nil, "GET /api/auth/me 200"},
		{"empty secret is ignored", "abc", []string{""}, "abc"},
		{"known secret", "token rc_abcdef in text", []string{"rc_abcdef"}, "token [REDACTED] in text"},
		{"every occurrence", "x1x x1x", []string{"x1x"}, "[REDACTED] [REDACTED]"},
		{"overlapping secrets merge", "-abcdef-", []string{"abcd", "cdef"}, "-[REDACTED]-"},
		{"overlapping occurrences of one secret merge", "-aaaaa-", []string{"aaaa"}, "-[REDACTED]-"},
		{"longer secret wins over its prefix", "-abcdefgh-", []string{"abcd", "abcdefgh"}, "-[REDACTED]-"},
		{"authorization header keeps scheme", "Authorization: Bearer abc.def", nil, "Authorization: Bearer [REDACTED]"},
		{"authorization header without scheme", "authorization: abc", nil, "authorization: [REDACTED]"},
		{"authorization basic", "Authorization: Basic dXNlcjpwdw==", nil, "Authorization: Basic [REDACTED]"},
		{"authorization in go header map", "map[Authorization:[Bearer abc] Accept:[*/*]]", nil, "map[Authorization:[Bearer [REDACTED]] Accept:[*/*]]"},
		{"authorization in json", `{"Authorization":"Bearer abc"}`, nil, `{"Authorization":"Bearer [REDACTED]"}`},
		{"proxy authorization", "Proxy-Authorization: Basic abc", nil, "Proxy-Authorization: Basic [REDACTED]"},
		{"bearer anywhere", "sent bearer abc!def to host", nil, "sent bearer [REDACTED] to host"},
		{"authorization with known secret", "Authorization: Bearer tok123", []string{"tok123"}, "Authorization: Bearer [REDACTED]"},
		{"access_token json", `{"status":"authorized","access_token":"rc_x\"y"}`, nil, `{"status":"authorized","access_token":"[REDACTED]"}`},
		{"device_code json with spaces", `{"device_code" : "dc-1", "user_code":"ABCD-EFGH"}`, nil, `{"device_code" : "[REDACTED]", "user_code":"ABCD-EFGH"}`},
		{"refresh_token json", `{"refresh_token":"r1"}`, nil, `{"refresh_token":"[REDACTED]"}`},
		{"token json", `{"token":"t1","token_type":"api"}`, nil, `{"token":"[REDACTED]","token_type":"api"}`},
		{"docker Secret json", `{"ServerURL":"https://www.runcomfy.com","Username":"a","Secret":"s3"}`, nil, `{"ServerURL":"https://www.runcomfy.com","Username":"a","Secret":"[REDACTED]"}`},
		{"truncated json value", `{"access_token":"rc_abc`, nil, `{"access_token":"[REDACTED]"`},
		{"json null is no secret", `{"refresh_token":null}`, nil, `{"refresh_token":null}`},
		{"quoted json", `body "{\"device_code\":\"dc-1\"}"`, nil, `body "{\"device_code\":\"[REDACTED]\"}"`},
		{"password line", "protocol=https\npassword=a b c\nusername=x\n", nil, "protocol=https\npassword=[REDACTED]\nusername=x\n"},
		{"password line crlf", "password=abc\r\n", nil, "password=[REDACTED]\r\n"},
		{"query parameter", "https://h/cb?access_token=abc&x=1", nil, "https://h/cb?access_token=[REDACTED]&x=1"},
		{"user code stays readable", `{"user_code":"ABCD-EFGH","verify_url":"https://www.runcomfy.com/cli-auth"}`, nil, `{"user_code":"ABCD-EFGH","verify_url":"https://www.runcomfy.com/cli-auth"}`},
		{"secret spelled by placeholder and neighbours is cut", "xx[RE", []string{"x[RE"}, "x"},
		{"secret inside placeholder is cut", "Bearer abc EDAC", []string{"EDAC"}, "Bearer [RTED] "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in, tt.secrets...)
			if got != tt.want {
				t.Errorf("String(%q, %q)\n got %q\nwant %q", tt.in, tt.secrets, got, tt.want)
			}
			if again := String(got, tt.secrets...); again != got {
				t.Errorf("String is not idempotent:\nonce  %q\ntwice %q", got, again)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"rc_a", "…"},
		{"1234567", "…"},
		{"rc_abcdwxyz", "rc_…wxyz"},
		{"abcdefgh", "…efgh"},
		{"rc_ünïcödé", "rc_…cödé"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorRedactsMessageAndKeepsChain(t *testing.T) {
	base := fmt.Errorf("open token %s: %w", "rc_secret", fs.ErrPermission)
	err := Error(base, "rc_secret")
	if got, want := err.Error(), "open token [REDACTED]: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Error("errors.Is lost the wrapped error")
	}
	if Error(nil, "x") != nil {
		t.Error("Error(nil) is not nil")
	}
}

func FuzzString(f *testing.F) {
	f.Add("Authorization: Bearer abcd", "abcd")
	f.Add(`{"access_token":"rc_1234"}`, "rc_1234")
	f.Add("xx[RE", "x[RE")
	f.Add("[REDACTED]", "DACT")
	f.Add("aaaaaaaa", "aaaa")
	f.Add("password=a b\n", "a b\n")
	f.Fuzz(func(t *testing.T, s, secret string) {
		out := String(s, secret)
		if len(secret) >= 4 && strings.Contains(out, secret) {
			t.Fatalf("String(%q, %q) = %q still holds the secret", s, secret, out)
		}
	})
}
