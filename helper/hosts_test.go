package helper

import (
	"strings"
	"testing"
)

func TestAllowURL(t *testing.T) {
	tests := []struct {
		webBase string
		server  string
		want    bool
	}{
		{"", "https://www.runcomfy.com", true},
		{"", "https://runcomfy.com/", true},
		{"", "https://api.runcomfy.net/v2/", true},
		{"", "www.runcomfy.com", true},
		{"", "registry.runcomfy.com:5000", true},
		{"", "https://WWW.RunComfy.COM", true},
		{"", "HTTPS://www.runcomfy.com", true},
		{"", "https://www.runcomfy.com:443", true},
		{"", "http://www.runcomfy.com", false},
		{"", "ftp://www.runcomfy.com", false},
		{"", "https://runcomfy.com.evil.example", false},
		{"", "https://evilruncomfy.com", false},
		{"", "https://runcomfy.co", false},
		{"", "https://runcomfy.com.", false},
		{"", "https://www.runcomfy.com./", false},
		{"", "https://www..runcomfy.com", false},
		{"", "https://-x.runcomfy.com", false},
		{"", "https://www.runcomfy.com\x00.evil.example", false},
		{"", "https://evil.example\x00.runcomfy.com", false},
		{"", "https://www.runcomfy.com\n", false},
		{"", "https://www.runcomfy.com .evil.example", false},
		{"", " https://www.runcomfy.com", false},
		{"", "https://www.runcomfy.com@evil.example", false},
		{"", "https://user@www.runcomfy.com", false},
		{"", "https://evil.example#.runcomfy.com", false},
		{"", "https://evil.example?.runcomfy.com", false},
		{"", "https://evil.example/.runcomfy.com", false},
		{"", "https://evil.example\\.runcomfy.com", false},
		{"", "https://www.runcomfy.com:99999", false},
		{"", "https://www.runcomfy.com:", false},
		{"", "https://www.runcomfy.com:+443", false},
		{"", "https://www.runcomfy.com%2eevil.example", false},
		{"", "https://www.runcomfy%2ecom", false},
		{"", "https://www.runсomfy.com", false}, // Cyrillic es
		{"", "https://xn--www-runcomfy-xyz.com", false},
		{"", "https://[::1]", false},
		{"", "https://127.0.0.1", false},
		{"", "", false},
		{"", "https://", false},
		{"", "runcomfy.com:443/x", true},
		{"http://127.0.0.1:8787", "http://127.0.0.1:8787", true},
		{"http://127.0.0.1:8787", "http://127.0.0.1:8787/api", true},
		{"http://127.0.0.1:8787", "http://127.0.0.1:8788", false},
		{"http://127.0.0.1:8787", "https://127.0.0.1:8787", false},
		{"http://127.0.0.1:8787", "127.0.0.1:8787", false},
		{"http://localhost:8787", "http://LOCALHOST:8787", true},
		{"http://[::1]:8787", "http://[::1]:8787", true},
		{"http://dev.example:8787", "http://dev.example:8787", false},
		{"https://staging.example", "https://staging.example", true},
		{"https://staging.example", "staging.example", true},
		{"https://staging.example", "http://staging.example", false},
		{"https://user@staging.example", "https://staging.example", false},
		{"ftp://staging.example", "ftp://staging.example", false},
	}
	for _, tt := range tests {
		if got := NewHosts(tt.webBase).AllowURL(tt.server); got != tt.want {
			t.Errorf("NewHosts(%q).AllowURL(%q) = %v, want %v", tt.webBase, tt.server, got, tt.want)
		}
	}
}

func TestAllowGitParts(t *testing.T) {
	tests := []struct {
		protocol, host string
		want           bool
	}{
		{"https", "www.runcomfy.com", true},
		{"https", "git.runcomfy.net:8443", true},
		{"http", "www.runcomfy.com", false},
		{"ssh", "www.runcomfy.com", false},
		{"", "www.runcomfy.com", false},
		{"https", "", false},
		{"https", "github.com", false},
		{"https", "www.runcomfy.com.", false},
		{"https", "www.runcomfy.com\x00", false},
		{"https", "runcomfy.com\t", false},
		{"https", "[::1]:443", false},
		{"https", "[fe80::1%eth0]", false},
	}
	h := NewHosts("")
	for _, tt := range tests {
		if got := h.Allow(tt.protocol, tt.host); got != tt.want {
			t.Errorf("Allow(%q, %q) = %v, want %v", tt.protocol, tt.host, got, tt.want)
		}
	}
}

// FuzzAllowURL: the allowlist never says yes to a host that is not
// RunComfy's (no web base set).
func FuzzAllowURL(f *testing.F) {
	for _, s := range []string{"https://www.runcomfy.com", "runcomfy.com", "https://runcomfy.com.evil.example", "https://a.runcomfy.net:1/x", "https://x@runcomfy.com", "https://[::1]:443", "https://runcomfy.com\x00.x"} {
		f.Add(s)
	}
	h := NewHosts("")
	f.Fuzz(func(t *testing.T, server string) {
		if !h.AllowURL(server) {
			return
		}
		host := server
		if i := strings.Index(host, "://"); i >= 0 {
			if !strings.EqualFold(host[:i], "https") {
				t.Fatalf("allowed a non-https scheme: %q", server)
			}
			host = host[i+3:]
		}
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host = host[:i]
		}
		host = strings.ToLower(host)
		if host != "runcomfy.com" && host != "runcomfy.net" && !strings.HasSuffix(host, ".runcomfy.com") && !strings.HasSuffix(host, ".runcomfy.net") {
			t.Fatalf("allowed %q (host %q)", server, host)
		}
	})
}
