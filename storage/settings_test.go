package storage

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func boolPtr(b bool) *bool { return &b }

func TestLoadSettingsMissingFileIsZero(t *testing.T) {
	s, err := LoadSettings(filepath.Join(t.TempDir(), "absent"))
	if err != nil || s.Keyring != nil || s.extra != nil {
		t.Fatalf("LoadSettings = %+v, %v; want zero, nil", s, err)
	}
}

func TestLoadSettings(t *testing.T) {
	tests := []struct {
		name string
		data string
		want *bool
	}{
		{"on", `{"keyring": true}`, boolPtr(true)},
		{"off", `{"keyring": false}`, boolPtr(false)},
		{"null", `{"keyring": null}`, nil},
		{"absent", `{"other": 1}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, SettingsFile), []byte(tt.data), 0o600)
			s, err := LoadSettings(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Keyring, tt.want) {
				t.Fatalf("Keyring = %v, want %v", s.Keyring, tt.want)
			}
		})
	}
}

func TestLoadSettingsCorruptNamesFile(t *testing.T) {
	for _, data := range []string{``, `null`, `[]`, `{"keyring": "yes"}`, `{"keyring": 1}`, `{`} {
		dir := t.TempDir()
		path := filepath.Join(dir, SettingsFile)
		writeFile(t, path, []byte(data), 0o600)
		_, err := LoadSettings(dir)
		if !errors.Is(err, ErrBadSettings) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("LoadSettings(%q) error = %v; want ErrBadSettings naming %s", data, err, path)
		}
	}
}

// TestLoadSettingsNonRegularFileIsErrorNotHang: a FIFO planted at
// config.json would block the open or the read forever; every command reads
// the settings, so each must answer instead, naming the file.
func TestLoadSettingsNonRegularFileIsErrorNotHang(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, path string)
	}{
		{"a FIFO", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"a symlink to a device", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SettingsFile)
			tt.plant(t, path)
			done := make(chan error, 1)
			go func() {
				_, err := LoadSettings(dir)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("LoadSettings did not return within 5s")
			}
			want := path + ": not a valid settings file: not a regular file (fix it, or remove it)"
			if err == nil || err.Error() != want || !errors.Is(err, ErrBadSettings) {
				t.Fatalf("LoadSettings error = %v\nwant %s (ErrBadSettings)", err, want)
			}
		})
	}
}

func TestSaveSettingsPrivateAndKeepsUnknownFields(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runcomfy")
	writeFile(t, filepath.Join(dir, SettingsFile), []byte(`{"keyring": false, "theme": "dark", "n": [1, 2]}`), 0o644)

	s, err := LoadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Keyring = boolPtr(true)
	if err := SaveSettings(dir, s); err != nil {
		t.Fatal(err)
	}
	// A Settings that was not read from the file keeps its fields too.
	if err := SaveSettings(dir, Settings{Keyring: boolPtr(true)}); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(dir, SettingsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"keyring": true, "theme": "dark", "n": []any{1.0, 2.0}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("config.json = %s; want %v", data, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("config dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

func TestSaveSettingsNilKeyringLeavesFieldOut(t *testing.T) {
	dir := t.TempDir()
	if err := SaveSettings(dir, Settings{Keyring: boolPtr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := SaveSettings(dir, Settings{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "{}\n" {
		t.Fatalf("config.json = %q, want {}", data)
	}
}

func TestSaveSettingsReplacesCorruptFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, SettingsFile), []byte(`{oops`), 0o600)
	if err := SaveSettings(dir, Settings{Keyring: boolPtr(false)}); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(dir)
	if err != nil || s.Keyring == nil || *s.Keyring {
		t.Fatalf("LoadSettings = %+v, %v; want keyring false", s, err)
	}
}

func TestKeyringEnabledPrecedence(t *testing.T) {
	tests := []struct {
		env     string
		setting *bool
		want    bool
	}{
		{"", nil, false},
		{"", boolPtr(true), true},
		{"", boolPtr(false), false},
		{"1", nil, true},
		{"true", boolPtr(false), true},
		{" YES ", boolPtr(false), true},
		{"on", nil, true},
		{"0", boolPtr(true), false},
		{"false", boolPtr(true), false},
		{"No", boolPtr(true), false},
		{"off", nil, false},
		{"maybe", boolPtr(true), true},
		{"maybe", nil, false},
	}
	for _, tt := range tests {
		env := Env{Getenv: func(k string) string {
			if k == EnvKeyring {
				return tt.env
			}
			return ""
		}}
		if got := KeyringEnabled(env, Settings{Keyring: tt.setting}); got != tt.want {
			t.Errorf("KeyringEnabled(RUNCOMFY_KEYRING=%q, config=%v) = %v, want %v", tt.env, tt.setting, got, tt.want)
		}
	}
	if KeyringEnabled(Env{}, Settings{}) {
		t.Error("KeyringEnabled with no Getenv = true, want false")
	}
}
