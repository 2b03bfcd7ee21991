package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Source says where a token was found.
type Source int

// The token sources, in the order they are tried: the first hit wins.
const (
	SourceNone    Source = iota // no token anywhere
	SourceEnv                   // $RUNCOMFY_TOKEN
	SourceFile                  // token.json in the config dir
	SourceLegacy                // the legacy macOS file, read-only
	SourceKeyring               // the keyring mirror
)

// String names the source as users see it.
func (s Source) String() string {
	switch s {
	case SourceEnv:
		return EnvToken
	case SourceFile:
		return "token file"
	case SourceLegacy:
		return "legacy token file"
	case SourceKeyring:
		return "keyring"
	default:
		return "none"
	}
}

// Found is a resolved token and where it came from.
type Found struct {
	Token  Token
	Source Source
	// Path is the file read, for SourceFile and SourceLegacy.
	Path string
}

// ErrNotFound means no source holds a usable token.
var ErrNotFound = errors.New("not signed in")

// ErrMirrorNotFound is what a Mirror returns when it holds no token.
var ErrMirrorNotFound = errors.New("no token in the keyring")

// Mirror is a second home for the token beside token.json, such as the OS
// keyring. It holds the access token alone. Its failures never fail a
// command: the Store turns them into warnings.
type Mirror interface {
	// Get returns the token, or ErrMirrorNotFound.
	Get() (string, error)
	// Set stores the token, replacing any other.
	Set(token string) error
	// Delete removes the token; absent is not an error.
	Delete() error
}

// Store resolves, saves and erases the token. The zero value is not ready:
// use New, or fill Env at least.
type Store struct {
	Env Env
	// Mirror, when non-nil, receives every write and erase, and answers
	// when the env var and the files miss.
	Mirror Mirror
	// Warn receives one-line warnings (mirror failures); nil discards them.
	Warn io.Writer
	// Now is the clock that decides expiry; nil means time.Now.
	Now func() time.Time
	// LockTimeout bounds the wait for another writer; 0 means 10 s.
	LockTimeout time.Duration
}

// New returns a Store over the process environment.
func New() *Store {
	return &Store{Env: OSEnv()}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) lockTimeout() time.Duration {
	if s.LockTimeout > 0 {
		return s.LockTimeout
	}
	return 10 * time.Second
}

func (s *Store) warn(format string, args ...any) {
	if s.Warn != nil {
		fmt.Fprintf(s.Warn, "warning: "+format+"\n", args...)
	}
}

// TokenPath is the path of token.json.
func (s *Store) TokenPath() (string, error) {
	dir, err := s.Env.ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, TokenFile), nil
}

// EnvToken is $RUNCOMFY_TOKEN, trimmed; empty when unset.
func (s *Store) EnvToken() string {
	return strings.TrimSpace(s.Env.get(EnvToken))
}

// Resolve finds the token, trying each source in order: $RUNCOMFY_TOKEN,
// token.json, the legacy macOS file, then the mirror. An expired token
// counts as missing. A corrupt file is an error that names it, not a miss:
// silently skipping it would hide the problem behind an older token.
func (s *Store) Resolve() (Found, error) {
	if tok := s.EnvToken(); tok != "" {
		return Found{Token: Token{AccessToken: tok}, Source: SourceEnv}, nil
	}
	path, err := s.TokenPath()
	if err != nil {
		return Found{}, err
	}
	var expired []string
	for _, f := range []struct {
		path   string
		source Source
	}{{path, SourceFile}, {s.Env.LegacyPath(), SourceLegacy}} {
		if f.path == "" {
			continue
		}
		t, err := ReadTokenFile(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Found{}, err
		}
		if !t.Expired(s.now()) {
			return Found{Token: t, Source: f.source, Path: f.path}, nil
		}
		expired = append(expired, t.AccessToken)
	}
	if s.Mirror != nil {
		tok, err := s.Mirror.Get()
		switch {
		case err == nil && ValidSecret(tok) && !slices.Contains(expired, tok):
			// The keyring keeps no expiry: a copy of an expired file's
			// token is as expired as the file.
			return Found{Token: Token{AccessToken: tok}, Source: SourceKeyring}, nil
		case err != nil && !errors.Is(err, ErrMirrorNotFound):
			s.warn("%v", err)
		}
	}
	return Found{}, ErrNotFound
}

// ReadTokenFile reads and parses one token file. A missing file wraps
// fs.ErrNotExist; a corrupt one wraps ErrCorrupt and names the path.
func ReadTokenFile(path string) (Token, error) {
	f, err := openRegular(path)
	if errors.Is(err, errNotRegular) {
		return Token{}, &FileError{Path: path, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	if err != nil {
		return Token{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return Token{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxTokenFile {
		return Token{}, &FileError{Path: path, Err: fmt.Errorf("%w: larger than 1 MiB", ErrCorrupt)}
	}
	t, err := ParseToken(data)
	if err != nil {
		return Token{}, &FileError{Path: path, Err: err}
	}
	return t, nil
}

// errNotRegular is what openRegular returns for anything but a regular file.
var errNotRegular = errors.New("not a regular file")

// openRegular opens path for reading if it is a regular file or a symlink
// to one. A FIFO or a device planted at the path would block the open or
// the read forever: a get must answer, not hang.
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return os.Open(path)
}

// FileError is a problem with one named file, with the fix in its message.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s: %v (fix it, or remove it and run `runcomfy login`)", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Save writes t to token.json (keeping the unknown fields of the file it
// replaces) and to the mirror. A token equal to $RUNCOMFY_TOKEN is never
// saved: CI secrets must not land on disk. Saving the token already stored
// with the same email is a no-op, so git's store after every use costs a
// read, not a write.
func (s *Store) Save(ctx context.Context, t Token) (saved bool, err error) {
	if !ValidSecret(t.AccessToken) {
		return false, errors.New("refusing to save an empty token or one with control characters")
	}
	if env := s.EnvToken(); env != "" && env == t.AccessToken {
		return false, nil
	}
	dir, err := s.Env.ConfigDir()
	if err != nil {
		return false, err
	}
	unlock, err := lockDir(ctx, dir, TokenFile, s.lockTimeout())
	if err != nil {
		return false, err
	}
	defer unlock()
	path := filepath.Join(dir, TokenFile)
	old, err := ReadTokenFile(path)
	switch {
	case err == nil:
		if sameToken(old, t) && fileIsPrivate(path) {
			// Nothing to write; the mirror may still lack it, as when the
			// keyring is turned on for the token already stored.
			s.setMirror(t.AccessToken, path)
			return false, nil
		}
		t = t.withExtra(old)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrCorrupt):
		// Nothing to keep: a corrupt file is replaced by a good one.
	default:
		return false, err
	}
	data, err := t.Marshal()
	if err != nil {
		return false, err
	}
	if err := writeFileAtomic(dir, TokenFile, data); err != nil {
		return false, fmt.Errorf("save token: %w", err)
	}
	s.setMirror(t.AccessToken, path)
	return true, nil
}

// setMirror copies the token to the mirror; a failure is a warning, the
// file copy stands.
func (s *Store) setMirror(token, path string) {
	if s.Mirror == nil {
		return
	}
	if err := s.Mirror.Set(token); err != nil {
		s.warn("%v (the token is saved in %s)", err, path)
	}
}

func sameToken(a, b Token) bool {
	return a.AccessToken == b.AccessToken && a.UserEmail == b.UserEmail &&
		equalPtr(a.ExpiresAt, b.ExpiresAt) && equalPtr(a.RefreshToken, b.RefreshToken)
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// fileIsPrivate reports whether path is a regular file with mode 0600, so
// a no-op save still tightens a loose file.
func fileIsPrivate(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular() && (fi.Mode().Perm() == fileMode || isWindows())
}

// Erase removes the stored token from token.json and the mirror. With a
// non-empty match, token.json is removed only when it holds that token: a
// stale rejection must not erase a newer login. Erasing nothing is not an
// error. $RUNCOMFY_TOKEN and the legacy file are never touched.
func (s *Store) Erase(ctx context.Context, match string) (erased bool, err error) {
	dir, err := s.Env.ConfigDir()
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		// No file was ever stored: don't create the dir just to lock it.
		return s.eraseMirror(match), nil
	}
	unlock, err := lockDir(ctx, dir, TokenFile, s.lockTimeout())
	if err != nil {
		return false, err
	}
	defer unlock()
	path := filepath.Join(dir, TokenFile)
	if match != "" {
		old, err := ReadTokenFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return s.eraseMirror(match), nil
		case err != nil:
			return false, err
		case old.AccessToken != match:
			return false, nil
		}
	}
	erased, err = removeFile(dir, TokenFile)
	if err != nil {
		return false, fmt.Errorf("erase token: %w", err)
	}
	removeStaleTemps(dir, TokenFile)
	if s.eraseMirror(match) {
		erased = true
	}
	return erased, nil
}

// eraseMirror deletes the mirror's token (when it equals match, if given).
func (s *Store) eraseMirror(match string) bool {
	if s.Mirror == nil {
		return false
	}
	tok, err := s.Mirror.Get()
	switch {
	case errors.Is(err, ErrMirrorNotFound):
		return false
	case err != nil:
		s.warn("%v", err)
		return false
	case match != "" && tok != match:
		return false
	}
	if err := s.Mirror.Delete(); err != nil {
		s.warn("%v", err)
		return false
	}
	return true
}
