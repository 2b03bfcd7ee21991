// Package storage knows where a RunComfy token lives and how to keep it:
// the RUNCOMFY_TOKEN variable, token.json in the config dir, the legacy
// macOS file, and an optional mirror such as the OS keyring. It writes
// token.json atomically, 0600, under a lock.
//
// storage is the bottom of the tree: it imports no other package of this
// module, so the helpers that hand out tokens link nothing they don't need.
package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Environment variables read by this package.
const (
	EnvToken     = "RUNCOMFY_TOKEN"
	EnvConfigDir = "RUNCOMFY_CONFIG_DIR"
)

// TokenFile is the name of the token file inside the config dir.
const TokenFile = "token.json"

// Env is what storage reads of the process environment. Tests inject it to
// stand on any OS with any home directory.
type Env struct {
	// Getenv looks a variable up; nil means no variable is set.
	Getenv func(string) string
	// Home is the user's home directory; empty means unknown.
	Home string
	// GOOS decides whether the legacy macOS path applies.
	GOOS string
}

// OSEnv is the environment of the running process.
func OSEnv() Env {
	home, _ := os.UserHomeDir()
	return Env{Getenv: os.Getenv, Home: home, GOOS: runtime.GOOS}
}

func (e Env) get(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// ErrNoHome is returned when no config dir can be derived: neither
// RUNCOMFY_CONFIG_DIR nor XDG_CONFIG_HOME is set and the home is unknown.
var ErrNoHome = errors.New("cannot find the config dir: set RUNCOMFY_CONFIG_DIR or HOME")

// ConfigDir is where token.json and config.json live. Precedence, first hit
// wins, the same on every OS (Windows and macOS included, as the official
// RunComfy CLI does, so both tools share one file):
//
//  1. $RUNCOMFY_CONFIG_DIR
//  2. $XDG_CONFIG_HOME/runcomfy
//  3. ~/.config/runcomfy
//
// A relative XDG_CONFIG_HOME is ignored, as the XDG base directory spec
// requires; a relative RUNCOMFY_CONFIG_DIR is an error.
func (e Env) ConfigDir() (string, error) {
	if d := e.get(EnvConfigDir); d != "" {
		if !filepath.IsAbs(d) {
			// Falling back would act on the real token of someone who
			// meant to isolate a run: refuse instead.
			return "", fmt.Errorf("%s=%q is not an absolute path", EnvConfigDir, d)
		}
		return filepath.Clean(d), nil
	}
	if d := e.get("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "runcomfy"), nil
	}
	if e.Home == "" {
		return "", ErrNoHome
	}
	return filepath.Join(e.Home, ".config", "runcomfy"), nil
}

// LegacyPath is where older RunComfy CLIs kept the token on macOS. It is
// read as a fallback and never written. Empty on other systems.
func (e Env) LegacyPath() string {
	if e.GOOS != "darwin" || e.Home == "" {
		return ""
	}
	return filepath.Join(e.Home, "Library", "Application Support", "runcomfy", TokenFile)
}
