package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture returns the content of testdata/token/name.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "token", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// testStore is a Store over a temp home, with vars as the environment.
func testStore(t *testing.T, goos string, vars map[string]string) (*Store, string) {
	t.Helper()
	home := t.TempDir()
	return &Store{
		Env:  Env{Getenv: func(k string) string { return vars[k] }, Home: home, GOOS: goos},
		Now:  func() time.Time { return time.Unix(2_000_000_000, 0) },
		Warn: &strings.Builder{},
	}, home
}

func writeFile(t *testing.T, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestConfigDirPrecedence(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		home string
		want string
		err  error
	}{
		{"RUNCOMFY_CONFIG_DIR wins", map[string]string{EnvConfigDir: "/rc", "XDG_CONFIG_HOME": "/xdg"}, "/home/u", "/rc", nil},
		{"XDG_CONFIG_HOME next", map[string]string{"XDG_CONFIG_HOME": "/xdg"}, "/home/u", "/xdg/runcomfy", nil},
		{"home last", nil, "/home/u", "/home/u/.config/runcomfy", nil},
		{"relative XDG_CONFIG_HOME ignored", map[string]string{"XDG_CONFIG_HOME": "rel2"}, "/home/u", "/home/u/.config/runcomfy", nil},
		{"no home", nil, "", "", ErrNoHome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{Getenv: func(k string) string { return tt.vars[k] }, Home: tt.home, GOOS: "linux"}
			got, err := env.ConfigDir()
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Fatalf("ConfigDir() = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestRelativeConfigDirIsAnError(t *testing.T) {
	env := Env{Getenv: func(k string) string { return map[string]string{EnvConfigDir: "relcfg"}[k] }, Home: "/home/u"}
	if dir, err := env.ConfigDir(); err == nil || err.Error() != `RUNCOMFY_CONFIG_DIR="relcfg" is not an absolute path` {
		t.Fatalf("ConfigDir() = %q, %v", dir, err)
	}
}

func TestConfigDirIsTheSameOnEveryOS(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		env := Env{Home: "/home/u", GOOS: goos}
		if got, _ := env.ConfigDir(); got != "/home/u/.config/runcomfy" {
			t.Errorf("%s: ConfigDir() = %q", goos, got)
		}
	}
}

func TestLegacyPathOnlyOnDarwin(t *testing.T) {
	if got := (Env{Home: "/Users/u", GOOS: "darwin"}).LegacyPath(); got != "/Users/u/Library/Application Support/runcomfy/token.json" {
		t.Errorf("darwin LegacyPath() = %q", got)
	}
	if got := (Env{Home: "/home/u", GOOS: "linux"}).LegacyPath(); got != "" {
		t.Errorf("linux LegacyPath() = %q, want empty", got)
	}
}

func TestParseTokenFixtures(t *testing.T) {
	tests := []struct {
		file      string
		wantToken string
		wantEmail string
		wantErr   bool
		expired   bool
	}{
		{"official.json", "rc_official_0123456789abcdef", "ada@example.com", false, false},
		{"unknown-fields.json", "rc_unknown_fields_token", "bob@example.com", false, false},
		{"expired.json", "rc_expired_token_abcdef", "old@example.com", false, true},
		{"legacy.json", "rc_legacy_mac_token", "mac@example.com", false, false},
		{"corrupt.json", "", "", true, false},
		{"wrong-type.json", "", "", true, false},
	}
	now := time.Unix(2_000_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := fixture(t, tt.file)
			tok, err := ParseToken(data)
			if tt.wantErr {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("ParseToken error = %v, want ErrCorrupt", err)
				}
				if strings.Contains(err.Error(), "rc_") || strings.Contains(err.Error(), "12345") {
					t.Fatalf("error quotes the input: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != tt.wantToken || tok.UserEmail != tt.wantEmail || tok.Expired(now) != tt.expired {
				t.Fatalf("got %q %q expired=%v", tok.AccessToken, tok.UserEmail, tok.Expired(now))
			}
		})
	}
}

func TestParseTokenRejects(t *testing.T) {
	for _, in := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"access_token":""}`, `{"access_token":"a\nb"}`, `{"access_token":"x","expires_at":"soon"}`} {
		if _, err := ParseToken([]byte(in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ParseToken(%q) error = %v, want ErrCorrupt", in, err)
		}
	}
}

func TestMarshalKeepsUnknownFieldsAndOfficialNames(t *testing.T) {
	tok, err := ParseToken(fixture(t, "unknown-fields.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok.AccessToken = "rc_rewritten"
	data, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "access_token": "rc_rewritten",
  "expires_at": 4102444800,
  "refresh_token": null,
  "scopes": [
    "read",
    "write"
  ],
  "user_email": "bob@example.com",
  "workspace": {
    "id": "ws_42",
    "name": "Lab"
  }
}
`
	if string(data) != want {
		t.Fatalf("Marshal() =\n%s\nwant\n%s", data, want)
	}
}

func TestResolveOrder(t *testing.T) {
	official := fixture(t, "official.json")
	expired := fixture(t, "expired.json")
	legacy := fixture(t, "legacy.json")
	tests := []struct {
		name       string
		goos       string
		env        string
		file       []byte
		legacy     []byte
		mirror     string
		wantToken  string
		wantSource Source
		wantErr    error
	}{
		{name: "env wins over file", goos: "linux", env: "  rc_env_token \n", file: official, wantToken: "rc_env_token", wantSource: SourceEnv},
		{name: "blank env is unset", goos: "linux", env: " \t", file: official, wantToken: "rc_official_0123456789abcdef", wantSource: SourceFile},
		{name: "file", goos: "linux", file: official, wantToken: "rc_official_0123456789abcdef", wantSource: SourceFile},
		{name: "file wins over legacy", goos: "darwin", file: official, legacy: legacy, wantToken: "rc_official_0123456789abcdef", wantSource: SourceFile},
		{name: "legacy on darwin", goos: "darwin", legacy: legacy, wantToken: "rc_legacy_mac_token", wantSource: SourceLegacy},
		{name: "expired file falls to legacy", goos: "darwin", file: expired, legacy: legacy, wantToken: "rc_legacy_mac_token", wantSource: SourceLegacy},
		{name: "legacy ignored off darwin", goos: "linux", legacy: legacy, wantErr: ErrNotFound},
		{name: "expired file is missing", goos: "linux", file: expired, wantErr: ErrNotFound},
		{name: "mirror last", goos: "darwin", file: expired, mirror: "rc_from_keyring", wantToken: "rc_from_keyring", wantSource: SourceKeyring},
		{name: "nothing", goos: "linux", wantErr: ErrNotFound},
		{name: "corrupt file is an error", goos: "linux", file: []byte("{"), legacy: legacy, mirror: "rc_from_keyring", wantErr: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, home := testStore(t, tt.goos, map[string]string{EnvToken: tt.env})
			if tt.file != nil {
				writeFile(t, filepath.Join(home, ".config", "runcomfy", TokenFile), tt.file, 0o600)
			}
			if tt.legacy != nil {
				writeFile(t, filepath.Join(home, "Library", "Application Support", "runcomfy", TokenFile), tt.legacy, 0o600)
			}
			m := &fakeMirror{token: tt.mirror}
			s.Mirror = m
			found, err := s.Resolve()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Resolve() error = %v, want %v", err, tt.wantErr)
			}
			if found.Token.AccessToken != tt.wantToken || found.Source != tt.wantSource {
				t.Fatalf("Resolve() = %q from %v, want %q from %v", found.Token.AccessToken, found.Source, tt.wantToken, tt.wantSource)
			}
			if tt.wantSource == SourceEnv || tt.wantSource == SourceFile || tt.wantSource == SourceLegacy {
				if m.gets != 0 {
					t.Fatalf("a hit from %v asked the mirror %d times", tt.wantSource, m.gets)
				}
			}
		})
	}
}

func TestCorruptFileErrorNamesFileAndFix(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	path := filepath.Join(home, ".config", "runcomfy", TokenFile)
	writeFile(t, path, []byte(`{"access_token": "rc_secret_value`), 0o600)
	_, err := s.Resolve()
	want := path + ": not a valid token file: expected one JSON object (fix it, or remove it and run `runcomfy login`)"
	if err == nil || err.Error() != want {
		t.Fatalf("Resolve() error = %v\nwant %s", err, want)
	}
}

func TestSaveWritesPrivateFileInPrivateDir(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	ctx := context.Background()
	if _, err := s.Save(ctx, Token{AccessToken: "rc_one", UserEmail: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".config", "runcomfy")
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, TokenFile), 0o600)
	found, err := s.Resolve()
	if err != nil || found.Token.AccessToken != "rc_one" || found.Token.UserEmail != "a@example.com" {
		t.Fatalf("Resolve() = %+v, %v", found, err)
	}
}

func TestSaveTightensLooseFileAndDir(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	dir := filepath.Join(home, ".config", "runcomfy")
	path := filepath.Join(dir, TokenFile)
	writeFile(t, path, fixture(t, "official.json"), 0o644)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(context.Background(), Token{AccessToken: "rc_two"}); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700)
}

func TestSaveSameTokenStillTightensLooseFile(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	path := filepath.Join(home, ".config", "runcomfy", TokenFile)
	writeFile(t, path, fixture(t, "official.json"), 0o644)
	tok, _ := ParseToken(fixture(t, "official.json"))
	if _, err := s.Save(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
}

func TestSaveReplacesSymlinkNeverWritesThrough(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	dir := filepath.Join(home, ".config", "runcomfy")
	target := filepath.Join(home, "victim")
	writeFile(t, target, []byte("precious\n"), 0o644)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, TokenFile)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(context.Background(), Token{AccessToken: "rc_three"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "precious\n" {
		t.Fatalf("symlink target was written: %q", got)
	}
	assertMode(t, target, 0o644)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token.json = %v, %v; want a regular 0600 file", fi.Mode(), err)
	}
}

func TestSaveKeepsUnknownFieldsOfReplacedFile(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	path := filepath.Join(home, ".config", "runcomfy", TokenFile)
	writeFile(t, path, fixture(t, "unknown-fields.json"), 0o600)
	if _, err := s.Save(context.Background(), Token{AccessToken: "rc_new", UserEmail: "new@example.com"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{`"workspace": {`, `"ws_42"`, `"scopes": [`, `"access_token": "rc_new"`, `"user_email": "new@example.com"`, `"expires_at": null`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("token.json lacks %s:\n%s", want, data)
		}
	}
}

func TestSaveNeverPersistsEnvToken(t *testing.T) {
	s, home := testStore(t, "linux", map[string]string{EnvToken: "rc_ci_secret"})
	saved, err := s.Save(context.Background(), Token{AccessToken: "rc_ci_secret"})
	if err != nil || saved {
		t.Fatalf("Save() = %v, %v; want false, nil", saved, err)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "runcomfy")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("config dir was created: %v", err)
	}
}

func TestSaveRefusesBadTokens(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	for _, tok := range []string{"", "a\nb", " lead", "nul\x00"} {
		if _, err := s.Save(context.Background(), Token{AccessToken: tok}); err == nil {
			t.Errorf("Save(%q) succeeded", tok)
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".config")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused save created files: %v", err)
	}
}

func TestSaveRemovesStaleTempFiles(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	dir := filepath.Join(home, ".config", "runcomfy")
	stale := filepath.Join(dir, TokenFile+"123456789")
	writeFile(t, stale, []byte(`{"access_token":"rc_half`), 0o600)
	other := filepath.Join(dir, TokenFile+".bak")
	writeFile(t, other, []byte("keep"), 0o600)
	if _, err := s.Save(context.Background(), Token{AccessToken: "rc_four"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp file survived: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("unrelated file was removed: %v", err)
	}
}

func TestParallelSavesNeverInterleave(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	path := filepath.Join(home, ".config", "runcomfy", TokenFile)
	const writers, rounds = 8, 20
	stored := map[string]bool{}
	for w := 0; w < writers; w++ {
		for r := 0; r < rounds; r++ {
			stored[fmt.Sprintf("rc_w%d_r%d", w, r)] = true
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	readErr := make(chan error, 1)
	readers.Add(1)
	go func() {
		defer readers.Done()
		for ctx.Err() == nil {
			tok, err := ReadTokenFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil || !stored[tok.AccessToken] {
				select {
				case readErr <- fmt.Errorf("reader saw %q, %v", tok.AccessToken, err):
				default:
				}
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each writer is its own Store, as separate processes would be.
			ws := &Store{Env: s.Env, Now: s.Now}
			for r := 0; r < rounds; r++ {
				if _, err := ws.Save(context.Background(), Token{AccessToken: fmt.Sprintf("rc_w%d_r%d", w, r)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	readers.Wait()
	select {
	case err := <-readErr:
		t.Fatal(err)
	default:
	}
	assertMode(t, path, 0o600)
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if e.Name() != TokenFile && e.Name() != TokenFile+lockSuffix {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestLockTimeoutIsAClearError(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	dir := filepath.Join(home, ".config", "runcomfy")
	unlock, err := lockDir(context.Background(), dir, TokenFile, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s.LockTimeout = 50 * time.Millisecond
	_, err = s.Save(context.Background(), Token{AccessToken: "rc_five"})
	if !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), filepath.Join(dir, "token.json.lock")) {
		t.Fatalf("Save() error = %v, want ErrLockTimeout naming the lock", err)
	}
}

func TestEraseOnlyMatchingToken(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		match      string
		wantErased bool
	}{
		{"no match given erases", "", true},
		{"matching erases", "rc_official_0123456789abcdef", true},
		{"stale token keeps the newer one", "rc_older", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, home := testStore(t, "linux", nil)
			path := filepath.Join(home, ".config", "runcomfy", TokenFile)
			writeFile(t, path, fixture(t, "official.json"), 0o600)
			erased, err := s.Erase(ctx, tt.match)
			if err != nil || erased != tt.wantErased {
				t.Fatalf("Erase(%q) = %v, %v; want %v", tt.match, erased, err, tt.wantErased)
			}
			_, statErr := os.Stat(path)
			if gone := errors.Is(statErr, fs.ErrNotExist); gone != tt.wantErased {
				t.Fatalf("file gone = %v, want %v", gone, tt.wantErased)
			}
		})
	}
}

func TestEraseNothingIsNotAnError(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	erased, err := s.Erase(context.Background(), "")
	if err != nil || erased {
		t.Fatalf("Erase() = %v, %v", erased, err)
	}
	if _, err := os.Stat(filepath.Join(home, ".config")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("erasing nothing created the config dir")
	}
}

func TestMirrorReceivesWritesAndErases(t *testing.T) {
	s, _ := testStore(t, "linux", nil)
	m := &fakeMirror{}
	s.Mirror = m
	ctx := context.Background()
	if _, err := s.Save(ctx, Token{AccessToken: "rc_mirrored"}); err != nil {
		t.Fatal(err)
	}
	if m.token != "rc_mirrored" {
		t.Fatalf("mirror holds %q", m.token)
	}
	if _, err := s.Erase(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if m.token != "" {
		t.Fatalf("mirror still holds %q", m.token)
	}
}

func TestMirrorFailureIsAWarningNotAFailure(t *testing.T) {
	s, home := testStore(t, "linux", nil)
	s.Mirror = &fakeMirror{err: errors.New("keyring: timed out after 3s")}
	if _, err := s.Save(context.Background(), Token{AccessToken: "rc_six"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, ".config", "runcomfy", TokenFile)
	want := "warning: keyring: timed out after 3s (the token is saved in " + path + ")\n"
	if got := s.Warn.(*strings.Builder).String(); got != want {
		t.Fatalf("warning = %q, want %q", got, want)
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s mode = %04o, want %04o", path, got, want)
	}
}

// fakeMirror is a Mirror in memory.
type fakeMirror struct {
	token string
	err   error
	gets  int
}

func (m *fakeMirror) Get() (string, error) {
	m.gets++
	if m.err != nil {
		return "", m.err
	}
	if m.token == "" {
		return "", ErrMirrorNotFound
	}
	return m.token, nil
}

func (m *fakeMirror) Set(tok string) error {
	if m.err != nil {
		return m.err
	}
	m.token = tok
	return nil
}

func (m *fakeMirror) Delete() error {
	if m.err != nil {
		return m.err
	}
	m.token = ""
	return nil
}
