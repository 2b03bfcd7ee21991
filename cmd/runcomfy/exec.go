package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/runcomfy/runcomfy/storage"
)

// forwardedSignals reach the command `runcomfy exec` runs: whoever stops
// runcomfy means to stop the command.
var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func execCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command with RUNCOMFY_TOKEN set in its environment",
		ArgsUsage: "-- COMMAND [ARG...]",
		Description: "For tools that read RUNCOMFY_TOKEN but cannot run a credential helper:\n" +
			"  runcomfy exec -- python train.py\n" +
			"The token goes into the command's environment only, never onto a command line.\n" +
			"Signs in first when there is no token and a person can see the code\n" +
			"(RUNCOMFY_LOGIN_ON_MISS). Exits with the command's exit code (128+N when\n" +
			"signal N killed it); SIGINT, SIGTERM and SIGHUP are passed on to it.",
		Action: e.exec,
	}
}

func (e *env) exec(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usageError{errors.New("exec needs a command: runcomfy exec -- COMMAND [ARG...]")}
	}
	found, err := e.store.Resolve()
	if errors.Is(err, storage.ErrNotFound) {
		if err := e.loginOnMiss()(c.Context); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		found, err = e.store.Resolve()
	}
	if errors.Is(err, storage.ErrNotFound) {
		return errNotSignedIn
	}
	if err != nil {
		return err
	}

	cmd := exec.Command(args[0], args[1:]...)
	// os/exec keeps the last of duplicate keys: this one.
	cmd.Env = append(os.Environ(), storage.EnvToken+"="+found.Token.AccessToken)
	// Files pass as they are: a terminal stays the command's terminal.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr

	// Catch the signals before the command starts, so none is lost to
	// runcomfy's default of dying while the command lives on.
	signals := make(chan os.Signal, len(forwardedSignals))
	signal.Notify(signals, forwardedSignals...)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return startFailure(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			_ = cmd.Process.Signal(sig) // it may have exited already
		case err := <-waited:
			return childOutcome(err)
		}
	}
}

// childOutcome passes the command's exit status on: its exit code, or, as
// a shell reports it, 128+N when signal N killed it.
func childOutcome(err error) error {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return err // nil, or an I/O error copying a stream
	}
	code := exit.ExitCode()
	if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		code = 128 + int(status.Signal())
	}
	return reported{exitStatus{code: code}}
}

// startFailure is a command that could not start, with the shell's codes:
// 127 when it is not found, 126 when it cannot be run.
func startFailure(err error) error {
	code := 126
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		code = 127
	}
	return exitStatus{code: code, err: err}
}
