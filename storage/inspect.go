package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// FileState describes one token file, for `runcomfy status`. It reads
// without writing and without taking the lock.
type FileState struct {
	Path    string
	Exists  bool
	Mode    fs.FileMode // permission bits of the file
	DirMode fs.FileMode // permission bits of its directory
	// Symlink is set when the path is a symlink: it is read through, and
	// replaced (never written through) on the next save.
	Symlink bool
	Token   Token
	// Err is set when the file exists but cannot be used (unreadable,
	// corrupt); it names the file.
	Err     error
	Expired bool
}

// TooOpen reports whether other users may read the file or enter its
// directory. Windows uses ACLs, and is never reported.
func (f FileState) TooOpen() bool {
	return !isWindows() && f.Exists && (f.Mode&0o077 != 0 || f.DirMode&0o077 != 0)
}

// InspectFile describes the token file at path.
func (s *Store) InspectFile(path string) FileState {
	st := FileState{Path: path}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st
	}
	st.Exists = true
	if err != nil {
		st.Err = err
		return st
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		st.Symlink = true
		if fi, err = os.Stat(path); err != nil {
			st.Err = err
			return st
		}
	}
	st.Mode = fi.Mode().Perm()
	if di, err := os.Stat(filepath.Dir(path)); err == nil {
		st.DirMode = di.Mode().Perm()
	}
	st.Token, st.Err = ReadTokenFile(path)
	st.Expired = st.Err == nil && st.Token.Expired(s.now())
	return st
}
