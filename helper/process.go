package helper

import (
	"os"

	"golang.org/x/term"

	"github.com/runcomfy/runcomfy/internal/version"
	"github.com/runcomfy/runcomfy/storage"
)

// ForProcess returns a Helper named name over this process's environment:
// the token store with the keyring mirror as configured (through `runcomfy
// keyring`, and only when the env var and token.json miss, or on writes),
// RUNCOMFY_WEB_BASE, stderr for people, and whether stdin is a terminal.
func ForProcess(name string, store *storage.Store) *Helper {
	store.Warn = os.Stderr
	if store.Mirror == nil {
		store.Mirror = storage.NewOptionalMirror(store.Env, func() storage.Mirror { return ExecMirror{} })
	}
	return &Helper{
		Store:           store,
		Hosts:           NewHosts(store.Env.Getenv(EnvWebBase)),
		Name:            name,
		Version:         version.Version,
		Stderr:          os.Stderr,
		StdinIsTerminal: term.IsTerminal(int(os.Stdin.Fd())),
	}
}
