package helper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/runcomfy/runcomfy/storage"
)

// keyringExecTimeout bounds one `runcomfy keyring` run: its own keyring
// call gives up after about 3 s; this covers a stuck start as well.
const keyringExecTimeout = 10 * time.Second

// KeyringNotFoundExit is the exit code of `runcomfy keyring get` when
// the keyring holds no token.
const KeyringNotFoundExit = 3

// ExecMirror is the keyring mirror of the lean helper binaries. They link
// neither go-keyring nor its D-Bus client: linked in, its package init
// alone costs every `get` a few percent, though a file hit never calls it.
// So, when the mirror is on and needed — a miss, a store, an erase — they
// ask their sibling `runcomfy keyring get|set|delete`, the token passing
// through pipes, never argv.
type ExecMirror struct{}

var _ storage.Mirror = ExecMirror{}

// Get returns the keyring's token, or storage.ErrMirrorNotFound.
func (ExecMirror) Get() (string, error) {
	out, err := runKeyring("get", "")
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == KeyringNotFoundExit {
		return "", storage.ErrMirrorNotFound
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// Set stores the token in the keyring.
func (ExecMirror) Set(token string) error {
	_, err := runKeyring("set", token+"\n")
	return err
}

// Delete removes the keyring's token; absent is not an error.
func (ExecMirror) Delete() error {
	_, err := runKeyring("delete", "")
	return err
}

func runKeyring(action, stdin string) (string, error) {
	path, err := runcomfyPath()
	if err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), keyringExecTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "keyring", action)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == KeyringNotFoundExit {
		return "", err
	}
	// runcomfy prints the keyring's one-line reason, "keyring: ...".
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		msg, _, _ = strings.Cut(msg, "\n")
		return "", errors.New(msg)
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("keyring: runcomfy keyring %s gave no answer within %s", action, keyringExecTimeout)
	}
	return "", fmt.Errorf("keyring: runcomfy keyring %s: %w", action, err)
}
