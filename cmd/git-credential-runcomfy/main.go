// Command git-credential-runcomfy is git's credential helper for RunComfy:
// `git-credential-runcomfy get|store|erase`, as gitcredentials(7). It
// links no HTTP client and no CLI framework: it cannot send the token
// anywhere, and it starts as fast as a Go program can.
package main

import (
	"context"
	"os"

	"github.com/runcomfy/runcomfy/helper"
	"github.com/runcomfy/runcomfy/storage"
)

func main() {
	store := storage.New()
	h := helper.ForProcess("git-credential-runcomfy", store)
	h.Login = helper.LoginOnMiss(store, os.Stderr, helper.ExecLogin)
	os.Exit(helper.ExitCode(h.Git(context.Background(), os.Args[1:], os.Stdin, os.Stdout)))
}
