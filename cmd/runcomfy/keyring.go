package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/runcomfy/runcomfy/helper"
	"github.com/runcomfy/runcomfy/storage"
)

// keyringCommand is the OS keyring on behalf of the lean helper binaries,
// which do not link it (helper.ExecMirror): `runcomfy keyring get` prints
// the token, `set` reads it from stdin, `delete` removes it. A keyring
// failure is its one-line reason on stderr. Hidden: people use `login
// --keyring`, and the token never passes through argv.
func keyringCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:   "keyring",
		Usage:  "the OS keyring for the credential helpers: get|set|delete",
		Hidden: true,
		Subcommands: []*cli.Command{
			{Name: "get", Action: func(*cli.Context) error {
				tok, err := e.keys.Get()
				if errors.Is(err, storage.ErrMirrorNotFound) {
					return reported{&helper.Error{Code: helper.KeyringNotFoundExit, Msg: err.Error()}}
				}
				if err != nil {
					return e.keyringFailed(err)
				}
				_, err = fmt.Fprintln(e.stdout, tok)
				return err
			}},
			{Name: "set", Action: func(*cli.Context) error {
				data, err := io.ReadAll(io.LimitReader(e.stdin, helper.MaxInput+1))
				if err != nil {
					return err
				}
				tok := strings.TrimSpace(string(data))
				if len(data) > helper.MaxInput || !storage.ValidSecret(tok) {
					return &helper.Error{Code: exitData, Msg: "keyring set: stdin holds no token"}
				}
				return e.keyringFailed(e.keys.Set(tok))
			}},
			{Name: "delete", Action: func(*cli.Context) error {
				return e.keyringFailed(e.keys.Delete())
			}},
		},
	}
}

// keyringFailed prints the keyring's one-line reason as it is — the helper
// that asked turns it into its warning — and fails with EX_TEMPFAIL.
func (e *env) keyringFailed(err error) error {
	if err == nil {
		return nil
	}
	fmt.Fprintln(e.stderr, err)
	return reported{&helper.Error{Code: exitTempFail, Msg: err.Error()}}
}
