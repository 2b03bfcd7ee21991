package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/natefinch/atomic"
)

// Modes of the config dir and the files in it: the token is a password.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// lockSuffix names the lock file beside the file it guards.
const lockSuffix = ".lock"

// ErrLockTimeout is returned when another process holds the config dir's
// lock for longer than the store waits.
var ErrLockTimeout = errors.New("timed out waiting for another runcomfy process")

// ensureDir creates dir 0700, and tightens it when it exists looser: other
// users must not list or replace the files in it.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return err
	}
	if isWindows() {
		return nil // Windows has ACLs, not mode bits.
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, dirMode)
	}
	return nil
}

// lockDir takes the exclusive lock guarding name in dir, waiting at most
// timeout. Writers hold it across read-modify-write, so concurrent stores
// never interleave and unknown fields are never lost between a read and a
// write. Readers never take it: an atomic rename is all they need.
func lockDir(ctx context.Context, dir, name string, timeout time.Duration) (unlock func(), err error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	l := flock.New(filepath.Join(dir, name+lockSuffix), flock.SetPermissions(fileMode))
	ok, err := l.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock %s: %w", l.Path(), err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s is locked (waited %s)", ErrLockTimeout, l.Path(), timeout)
	}
	return func() { _ = l.Unlock() }, nil
}

// writeFileAtomic replaces dir/name with data, 0600, so that a crash at any
// moment leaves the old file or the new one, whole. The caller holds the
// lock. natefinch/atomic does the temp-file-fsync-rename; around it:
//   - a symlink (or anything but a regular file) at the path is removed
//     first, so it is replaced, never written through;
//   - an existing file is tightened to 0600 first, because atomic copies
//     the old file's mode onto the new one, and the result is checked;
//   - temp files left by writers killed mid-write are removed;
//   - the directory is fsynced, so the rename itself survives a crash.
func writeFileAtomic(dir, name string, data []byte) error {
	if err := ensureDir(dir); err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case !fi.Mode().IsRegular():
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("replace %s: %w", path, err)
			}
		case fi.Mode().Perm() != fileMode && !isWindows():
			if err := os.Chmod(path, fileMode); err != nil {
				return fmt.Errorf("tighten %s: %w", path, err)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	removeStaleTemps(dir, name)
	if err := atomic.WriteFile(path, bytes.NewReader(data)); err != nil {
		return err
	}
	if !isWindows() {
		// A symlink planted between our check and atomic's Stat would have
		// lent its target's mode to the new file: check, and fix.
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != fileMode {
			if err := os.Chmod(path, fileMode); err != nil {
				return fmt.Errorf("tighten %s: %w", path, err)
			}
		}
	}
	return syncDir(dir)
}

// removeStaleTemps deletes the temp files that natefinch/atomic names
// name+digits, left behind by writers killed before their rename. The
// caller holds the lock, so no live writer owns one.
func removeStaleTemps(dir, name string) {
	matches, _ := filepath.Glob(filepath.Join(dir, name+"*"))
	for _, m := range matches {
		suffix := strings.TrimPrefix(filepath.Base(m), name)
		if suffix != "" && strings.Trim(suffix, "0123456789") == "" {
			_ = os.Remove(m)
		}
	}
}

// removeFile deletes dir/name; a file that is not there is not an error.
func removeFile(dir, name string) (removed bool, err error) {
	err = os.Remove(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, syncDir(dir)
}

// syncDir makes a rename or remove in dir durable. Windows cannot open a
// directory for sync; its MoveFileEx with write-through does the job.
func syncDir(dir string) error {
	if isWindows() {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func isWindows() bool { return runtime.GOOS == "windows" }

// LockLogin takes the config dir's login lock, waiting at most timeout.
// Helpers that miss at once share one device-code login through it: the
// first runs the login, the others wait, then find its token.
func (s *Store) LockLogin(ctx context.Context, timeout time.Duration) (unlock func(), err error) {
	dir, err := s.Env.ConfigDir()
	if err != nil {
		return nil, err
	}
	return lockDir(ctx, dir, "login", timeout)
}
