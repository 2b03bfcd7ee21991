package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// SettingsFile is the name of the settings file beside token.json.
const SettingsFile = "config.json"

// EnvKeyring turns the keyring mirror on or off for one process,
// overriding config.json.
const EnvKeyring = "RUNCOMFY_KEYRING"

// keyKeyring is config.json's field for the keyring mirror.
const keyKeyring = "keyring"

// ErrBadSettings marks a config.json that is not what it must be. The
// error that wraps it names the file.
var ErrBadSettings = errors.New("not a valid settings file")

// maxSettingsFile bounds what is read of config.json; a real one is tiny.
const maxSettingsFile = 1 << 20

// settingsLockTimeout bounds the wait for another writer of config.json.
const settingsLockTimeout = 10 * time.Second

// Settings is the content of config.json in the config dir:
//
//	{"keyring": true}
//
// Fields this version does not know are kept on rewrite.
type Settings struct {
	// Keyring is `runcomfy login --keyring` (true) or `--no-keyring`
	// (false); nil means never chosen.
	Keyring *bool

	// extra holds the fields of the file this version does not know.
	extra map[string]json.RawMessage
}

// LoadSettings reads config.json in dir. A missing file is the zero
// Settings; a corrupt one, or anything but a regular file (a FIFO would
// block the read forever), is an error that names the file.
func LoadSettings(dir string) (Settings, error) {
	path := filepath.Join(dir, SettingsFile)
	f, err := openRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, nil
	}
	if errors.Is(err, errNotRegular) {
		return Settings{}, settingsError(path, fmt.Errorf("%w: %v", ErrBadSettings, err))
	}
	if err != nil {
		return Settings{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSettingsFile+1))
	if err != nil {
		return Settings{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxSettingsFile {
		return Settings{}, settingsError(path, fmt.Errorf("%w: larger than 1 MiB", ErrBadSettings))
	}
	s, err := parseSettings(data)
	if err != nil {
		return Settings{}, settingsError(path, err)
	}
	return s, nil
}

// settingsError names the file and the fix. Unlike a bad token file,
// removing config.json loses nothing but the keyring choice.
func settingsError(path string, err error) error {
	return fmt.Errorf("%s: %w (fix it, or remove it)", path, err)
}

func parseSettings(data []byte) (Settings, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return Settings{}, fmt.Errorf("%w: expected one JSON object", ErrBadSettings)
	}
	var s Settings
	if raw, ok := fields[keyKeyring]; ok && !bytes.Equal(raw, []byte("null")) {
		var on bool
		if err := json.Unmarshal(raw, &on); err != nil {
			return Settings{}, fmt.Errorf("%w: %q must be true or false", ErrBadSettings, keyKeyring)
		}
		s.Keyring = &on
	}
	delete(fields, keyKeyring)
	if len(fields) > 0 {
		s.extra = fields
	}
	return s, nil
}

// marshal encodes the settings as config.json, keeping unknown fields.
// A nil Keyring is left out: the choice was never made.
func (s Settings) marshal() ([]byte, error) {
	out := make(map[string]any, len(s.extra)+1)
	for k, v := range s.extra {
		out[k] = v
	}
	if s.Keyring != nil {
		out[keyKeyring] = *s.Keyring
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// SaveSettings writes s to config.json in dir: atomically, 0600, under
// the file's lock. Unknown fields of the file it replaces are kept, also
// when s was not read from it; a corrupt file is replaced.
func SaveSettings(dir string, s Settings) error {
	unlock, err := lockDir(context.Background(), dir, SettingsFile, settingsLockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	if old, err := LoadSettings(dir); err == nil && len(old.extra) > 0 {
		merged := make(map[string]json.RawMessage, len(old.extra)+len(s.extra))
		for k, v := range old.extra {
			merged[k] = v
		}
		for k, v := range s.extra {
			merged[k] = v
		}
		s.extra = merged
	}
	data, err := s.marshal()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(dir, SettingsFile, data); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// KeyringEnabled reports whether the keyring mirror is on. Precedence,
// first hit wins:
//
//  1. $RUNCOMFY_KEYRING: 1, true, yes or on turns it on; 0, false, no or
//     off turns it off (any case, surrounding spaces ignored). Any other
//     value is ignored, as if unset.
//  2. config.json's "keyring", set by `runcomfy login --keyring` or
//     `--no-keyring`.
//  3. Off.
func KeyringEnabled(env Env, s Settings) bool {
	switch strings.ToLower(strings.TrimSpace(env.get(EnvKeyring))) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	if s.Keyring != nil {
		return *s.Keyring
	}
	return false
}
