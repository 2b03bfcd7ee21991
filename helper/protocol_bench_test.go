package helper_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runcomfy/runcomfy/helper"
	"github.com/runcomfy/runcomfy/storage"
)

// These benchmarks cost the steps of a credential `get` inside the
// process: parsing the request, checking the host, and the whole get on
// byte buffers over a token file. BENCHMARKS.md and `make bench` put them
// beside whole-process times. They assert nothing about speed.

const benchToken = "rc_bench0123456789abcdefghijklmnopqrstuvwxyzABCD"

// gitRequest is what git sends a helper on a fetch over https.
const gitRequest = "protocol=https\nhost=www.runcomfy.com\npath=org/repo.git\nwwwauth[]=Basic realm=\"RunComfy\"\n\n"

func BenchmarkParseGit(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"get", gitRequest},
		{"store", "protocol=https\nhost=www.runcomfy.com\nusername=bench@example.com\npassword=" + benchToken + "\n\n"},
		{"long-line", "protocol=https\nhost=www.runcomfy.com\npath=" + strings.Repeat("a", 60<<10) + "\n\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			r := strings.NewReader(bc.in)
			for b.Loop() {
				r.Reset(bc.in)
				if _, err := helper.ParseGit(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHostsAllowURL checks the server URLs docker sends, allowed and
// refused, with and without a dev-server web base.
func BenchmarkHostsAllowURL(b *testing.B) {
	for _, bc := range []struct {
		name, webBase, server string
		want                  bool
	}{
		{"runcomfy-url", "", "https://www.runcomfy.com", true},
		{"runcomfy-bare-host", "", "registry.runcomfy.net", true},
		{"lookalike", "", "https://runcomfy.com.evil.example", false},
		{"plain-http", "", "http://www.runcomfy.com", false},
		{"web-base-loopback", "http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"ipv6-loopback", "http://[::1]:8080", "http://[::1]:8080/v2/", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := helper.NewHosts(bc.webBase)
			for b.Loop() {
				if h.AllowURL(bc.server) != bc.want {
					b.Fatalf("AllowURL(%q) != %v", bc.server, bc.want)
				}
			}
		})
	}
}

func BenchmarkHostsAllow(b *testing.B) {
	h := helper.NewHosts("")
	for b.Loop() {
		if !h.Allow("https", "www.runcomfy.com") {
			b.Fatal("www.runcomfy.com refused")
		}
	}
}

func BenchmarkNewHosts(b *testing.B) {
	for b.Loop() {
		helper.NewHosts("http://localhost:8080")
	}
}

// benchHelper returns a Helper over a token file in a fresh config dir:
// the state of a signed-in user.
func benchHelper(b *testing.B, name string) *helper.Helper {
	b.Helper()
	dir := b.TempDir()
	data := `{"access_token": "` + benchToken + `", "refresh_token": null, "expires_at": null, "user_email": "bench@example.com"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, storage.TokenFile), []byte(data), 0o600); err != nil {
		b.Fatal(err)
	}
	getenv := func(key string) string {
		if key == storage.EnvConfigDir {
			return dir
		}
		return ""
	}
	return &helper.Helper{
		Store: &storage.Store{Env: storage.Env{Getenv: getenv, GOOS: "linux"}},
		Name:  name,
	}
}

// BenchmarkDockerGet is a whole docker `get` in the process: read the
// server URL, check it, resolve the token from token.json, print JSON.
func BenchmarkDockerGet(b *testing.B) {
	h := benchHelper(b, "docker-credential-runcomfy")
	const in = "https://www.runcomfy.com\n"
	r := strings.NewReader(in)
	var out bytes.Buffer
	for b.Loop() {
		r.Reset(in)
		out.Reset()
		if err := h.Docker(context.Background(), "get", r, &out); err != nil {
			b.Fatal(err)
		}
	}
	if !strings.Contains(out.String(), benchToken) {
		b.Fatalf("no token in the answer: %s", out.String())
	}
}

// BenchmarkGitGet is a whole git `get` in the process: parse the request,
// check the host, resolve the token from token.json, print key=value.
func BenchmarkGitGet(b *testing.B) {
	h := benchHelper(b, "git-credential-runcomfy")
	r := strings.NewReader(gitRequest)
	var out bytes.Buffer
	for b.Loop() {
		r.Reset(gitRequest)
		out.Reset()
		if err := h.Git(context.Background(), []string{"get"}, r, &out); err != nil {
			b.Fatal(err)
		}
	}
	if !strings.Contains(out.String(), "password="+benchToken) {
		b.Fatalf("no token in the answer: %s", out.String())
	}
}

// BenchmarkDockerGetForeignHost is the answer for a server that is not
// RunComfy's: the host check alone, no file read.
func BenchmarkDockerGetForeignHost(b *testing.B) {
	h := benchHelper(b, "docker-credential-runcomfy")
	const in = "https://index.docker.io/v1/\n"
	r := strings.NewReader(in)
	for b.Loop() {
		r.Reset(in)
		if err := h.Docker(context.Background(), "get", r, io.Discard); err != helper.ErrCredentialsNotFound {
			b.Fatalf("get: %v, want not found", err)
		}
	}
}
