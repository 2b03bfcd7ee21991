package helper

import (
	"os"

	"golang.org/x/term"

	"github.com/runcomfy/runcomfy/internal/version"
	"github.com/runcomfy/runcomfy/storage"
)

// ForProcess returns a Helper named name over this process's environment:
// the token store, RUNCOMFY_WEB_BASE, stderr for people, and whether stdin
// is a terminal.
func ForProcess(name string, store *storage.Store) *Helper {
	store.Warn = os.Stderr
	return &Helper{
		Store:           store,
		Hosts:           NewHosts(store.Env.Getenv(EnvWebBase)),
		Name:            name,
		Version:         version.Version,
		Stderr:          os.Stderr,
		StdinIsTerminal: term.IsTerminal(int(os.Stdin.Fd())),
	}
}
