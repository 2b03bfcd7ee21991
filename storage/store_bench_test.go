package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/runcomfy/runcomfy/storage"
)

// These benchmarks cost the steps of a credential `get` inside the
// process; BENCHMARKS.md and `make bench` put them beside whole-process
// times. They assert nothing about speed.

const benchToken = "rc_bench0123456789abcdefghijklmnopqrstuvwxyzABCD"

// tokenJSON is token.json as the official RunComfy CLI writes it.
var tokenJSON = []byte(`{"access_token": "` + benchToken + `", "refresh_token": null, "expires_at": null, "user_email": "bench@example.com"}` + "\n")

// tokenJSONExtra also carries fields this version does not know, which a
// rewrite keeps.
var tokenJSONExtra = []byte(`{"access_token": "` + benchToken + `", "refresh_token": "rt_0123456789", "expires_at": 4102444800, "user_email": "bench@example.com", "org": {"id": "org_1", "name": "Bench"}, "scopes": ["read", "write"]}` + "\n")

func BenchmarkParseToken(b *testing.B) {
	for _, bc := range []struct {
		name string
		data []byte
	}{{"official", tokenJSON}, {"unknown-fields", tokenJSONExtra}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				if _, err := storage.ParseToken(bc.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadTokenFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), storage.TokenFile)
	if err := os.WriteFile(path, tokenJSON, 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := storage.ReadTokenFile(path); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStore is a Store over a fresh home: a config dir under it, GOOS
// as given, and RUNCOMFY_TOKEN set when token is not empty.
func benchStore(b *testing.B, goos, envToken string) *storage.Store {
	b.Helper()
	home := b.TempDir()
	getenv := func(key string) string {
		if key == storage.EnvToken {
			return envToken
		}
		return ""
	}
	return &storage.Store{Env: storage.Env{Getenv: getenv, Home: home, GOOS: goos}}
}

func writeToken(b *testing.B, path string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, tokenJSON, 0o600); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkResolve resolves the token from each source in turn, and
// misses: the env var wins without touching the disk, token.json costs
// one open and read, the legacy macOS file a failed open first.
func BenchmarkResolve(b *testing.B) {
	b.Run("env", func(b *testing.B) {
		s := benchStore(b, "linux", benchToken)
		benchResolve(b, s, storage.SourceEnv)
	})
	b.Run("file", func(b *testing.B) {
		s := benchStore(b, "linux", "")
		path, err := s.TokenPath()
		if err != nil {
			b.Fatal(err)
		}
		writeToken(b, path)
		benchResolve(b, s, storage.SourceFile)
	})
	b.Run("legacy", func(b *testing.B) {
		s := benchStore(b, "darwin", "")
		writeToken(b, s.Env.LegacyPath())
		benchResolve(b, s, storage.SourceLegacy)
	})
	b.Run("miss", func(b *testing.B) {
		s := benchStore(b, "linux", "")
		benchResolve(b, s, storage.SourceNone)
	})
}

func benchResolve(b *testing.B, s *storage.Store, want storage.Source) {
	b.Helper()
	for b.Loop() {
		found, err := s.Resolve()
		if want == storage.SourceNone {
			if err != storage.ErrNotFound {
				b.Fatalf("Resolve: %v, want ErrNotFound", err)
			}
			continue
		}
		if err != nil || found.Source != want {
			b.Fatalf("Resolve: source %v, %v; want %v", found.Source, err, want)
		}
	}
}

// BenchmarkSaveUnchanged is git's `store` after every use of the token it
// got: the lock, one read, and no write.
func BenchmarkSaveUnchanged(b *testing.B) {
	s := benchStore(b, "linux", "")
	t := storage.Token{AccessToken: benchToken, UserEmail: "bench@example.com"}
	if _, err := s.Save(context.Background(), t); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		saved, err := s.Save(context.Background(), t)
		if err != nil || saved {
			b.Fatalf("Save: saved %v, %v; want a no-op", saved, err)
		}
	}
}
