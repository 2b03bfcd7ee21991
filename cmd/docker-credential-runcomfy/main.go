// Command docker-credential-runcomfy is docker's credential helper for
// RunComfy: `docker-credential-runcomfy store|get|erase|list|version`.
// It links no HTTP client and no CLI framework: it cannot send the token
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
	h := helper.ForProcess("docker-credential-runcomfy", store)
	h.Login = helper.LoginOnMiss(store, os.Stderr, helper.ExecLogin)
	action := ""
	if len(os.Args) > 1 {
		action = os.Args[1]
	}
	if action == "--version" || action == "-v" {
		action = "version"
	}
	os.Exit(helper.ExitCode(h.Docker(context.Background(), action, os.Stdin, os.Stdout)))
}
