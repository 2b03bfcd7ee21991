package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/runcomfy/runcomfy/storage"
)

// EnvLoginOnMiss chooses whether a get that finds no token signs the user
// in first: auto (the default), always or never.
const EnvLoginOnMiss = "RUNCOMFY_LOGIN_ON_MISS"

// loginWait bounds how long a get waits for another process's login: a
// device code lives 10 minutes; a little more covers the save.
const loginWait = 12 * time.Minute

// LoginFunc signs the user in, reading from in (nil: nothing to read) and
// writing everything a person must see — the code, the URL — to out.
type LoginFunc func(ctx context.Context, in io.Reader, out io.Writer) error

// LoginOnMiss returns a Helper.Login that follows RUNCOMFY_LOGIN_ON_MISS:
//   - never: a miss is a miss.
//   - auto: log in only when a person can see the code: /dev/tty opens,
//     CI is unset and GIT_TERMINAL_PROMPT is not 0. Otherwise answer "not
//     found" at once, without touching the network.
//   - always: log in, talking on /dev/tty when it opens, else on stderr.
//
// Never on stdout: stdout is the protocol channel. Gets that miss at once
// share one login through a lock in the config dir; those that waited
// find its token and answer with it.
func LoginOnMiss(store *storage.Store, stderr io.Writer, login LoginFunc) func(context.Context) error {
	return func(ctx context.Context) error {
		getenv := store.Env.Getenv
		var tty *os.File
		switch mode := getenv(EnvLoginOnMiss); mode {
		case "never":
			return storage.ErrNotFound
		case "", "auto":
			if getenv("CI") != "" || getenv("GIT_TERMINAL_PROMPT") == "0" {
				return storage.ErrNotFound
			}
			f, err := openTTY()
			if err != nil {
				return storage.ErrNotFound
			}
			tty = f
		case "always":
			tty, _ = openTTY()
		default:
			return fmt.Errorf("%s=%q is not auto, always or never; not logging in", EnvLoginOnMiss, mode)
		}
		var in io.Reader
		out := stderr
		if tty != nil {
			defer tty.Close()
			in, out = tty, tty
		}
		unlock, err := store.LockLogin(ctx, loginWait)
		if err != nil {
			return err
		}
		defer unlock()
		if _, err := store.Resolve(); err == nil {
			return nil // another get logged in while this one waited
		}
		return login(ctx, in, out)
	}
}

// openTTY opens the controlling terminal, where a person sees the code
// even when stdin and stdout belong to git or docker.
func openTTY() (*os.File, error) {
	return os.OpenFile("/dev/tty", os.O_RDWR, 0)
}

// ErrNoRuncomfy means the lean helper found no `runcomfy` to log in with.
var ErrNoRuncomfy = errors.New("cannot log in: no runcomfy binary beside this helper or on PATH")

// ExecLogin is the LoginFunc of the lean helper binaries: they link no
// HTTP client, so they run `runcomfy login` — their sibling binary, else
// the one on PATH — on the person's terminal.
func ExecLogin(ctx context.Context, in io.Reader, out io.Writer) error {
	path, err := runcomfyPath()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, "login")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("runcomfy login: %w", err)
	}
	return nil
}

func runcomfyPath() (string, error) {
	name := "runcomfy"
	if exe, err := os.Executable(); err == nil {
		if filepath.Ext(exe) == ".exe" {
			name += ".exe"
		}
		sibling := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(sibling); err == nil && fi.Mode().IsRegular() {
			return sibling, nil
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	return "", ErrNoRuncomfy
}
