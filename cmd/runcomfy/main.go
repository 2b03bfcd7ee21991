// Command runcomfy signs in to RunComfy and hands the API token to the
// programs that need it: docker and git through their credential-helper
// protocols, scripts through `runcomfy token`.
//
// main is wiring only: it builds the urfave/cli app over the packages that
// do the work, and turns the outcome into an exit code (exit.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/runcomfy/runcomfy/helper"
	"github.com/runcomfy/runcomfy/internal/version"
	"github.com/runcomfy/runcomfy/storage"
	"github.com/runcomfy/runcomfy/storage/keyring"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// env is one invocation's world: its streams and its token store.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	store          *storage.Store
	keyring        *storage.OptionalMirror // the store's mirror: keys, when on
	keys           *keyring.Keyring        // the OS keyring
	unknownCommand bool
	// verbosity counts -v flags: 1 traces HTTP, 2 adds headers and bodies.
	verbosity int
	// quiet (-q) silences the messages that only confirm success.
	quiet bool
	// jsonErrors makes exit print an error as one JSON line (--json).
	jsonErrors bool
}

// helper returns a protocol helper named name over this invocation.
func (e *env) helper(name string) *helper.Helper {
	h := helper.ForProcess(name, e.store)
	h.Stderr = e.stderr
	h.StdinIsTerminal = isTerminal(e.stdin)
	h.Login = e.loginOnMiss()
	return h
}

// run is the whole program, over injected streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer recoverPanic(stderr, &code)
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, store: storage.New()}
	e.store.Warn = stderr
	e.keys = keyring.ForEnv(e.store.Env.Getenv, runtime.GOOS)
	e.keyring = storage.NewOptionalMirror(e.store.Env, func() storage.Mirror { return e.keys })
	e.store.Mirror = e.keyring

	// Multi-call: installed (or linked) under a helper's name, act as it.
	switch name := strings.TrimSuffix(filepath.Base(args[0]), ".exe"); {
	case strings.HasPrefix(name, "docker-credential-"):
		action := ""
		if len(args) > 1 {
			action = args[1]
		}
		return helper.ExitCode(e.helper(name).Docker(ctx, action, stdin, stdout))
	case strings.HasPrefix(name, "git-credential-"):
		return helper.ExitCode(e.helper(name).Git(ctx, args[1:], stdin, stdout))
	}

	app := newApp(e)
	err := app.RunContext(ctx, args)
	return e.exit(err)
}

func newApp(e *env) *cli.App {
	return &cli.App{
		Name:    "runcomfy",
		Usage:   "sign in to RunComfy and hand the API token to git, docker and scripts",
		Version: version.Version,
		Description: "Sign in once with `runcomfy login`; then git and docker get the token through\n" +
			"their credential helpers, and scripts through `runcomfy token`. In CI, set\n" +
			"RUNCOMFY_TOKEN instead: nothing is written to disk.",
		Reader:                 e.stdin,
		Writer:                 e.stdout,
		ErrWriter:              e.stderr,
		UseShortOptionHandling: true,
		EnableBashCompletion:   true,
		Suggest:                true,
		HideHelpCommand:        false,
		ExitErrHandler:         func(*cli.Context, error) {}, // exit codes are decided once, in exit.go
		OnUsageError:           onUsageError,
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(e.stderr, "runcomfy: unknown command %q; see `runcomfy --help`\n", name)
			e.unknownCommand = true
		},
		Flags: []cli.Flag{
			&cli.BoolFlag{
				Name:    "verbose",
				Aliases: []string{"v"},
				Usage:   "trace HTTP requests on stderr (-vv: with headers and bodies; secrets redacted)",
				Count:   &e.verbosity,
			},
			&cli.BoolFlag{
				Name:        "quiet",
				Aliases:     []string{"q"},
				Usage:       "print only errors, and what you must see to sign in (the code and URL)",
				Destination: &e.quiet,
			},
		},
		Commands: commands(e),
	}
}

// extraCommands are added by files built only with some tags (man.go).
var extraCommands []func(*env) *cli.Command

func commands(e *env) []*cli.Command {
	cmds := []*cli.Command{
		loginCommand(e),
		whoamiCommand(e),
		completionCommand(e),
		keyringCommand(e),
		{
			Name:   "token",
			Usage:  "print the token alone on stdout, for $(runcomfy token)",
			Action: e.token,
		},
		{
			Name:   "status",
			Usage:  "show where the token comes from (offline)",
			Flags:  outputFlags(),
			Action: e.status,
		},
		{
			Name:   "logout",
			Usage:  "remove the stored token",
			Action: e.logout,
		},
		{
			Name:            "git-credential",
			Usage:           "git's credential helper: runcomfy git-credential get|store|erase",
			ArgsUsage:       "get|store|erase",
			Category:        "Credential helpers",
			SkipFlagParsing: true,
			Action: func(c *cli.Context) error {
				return reported{e.helper("runcomfy").Git(c.Context, c.Args().Slice(), e.stdin, e.stdout)}
			},
		},
		setupGitCommand(e),
		setupDockerCommand(e),
		execCommand(e),
	}
	dockerUsage := map[string]string{
		"store":   "docker: save the token from {ServerURL,Username,Secret} JSON on stdin",
		"get":     "docker: print credentials for the server URL on stdin",
		"erase":   "docker: remove the stored token",
		"list":    "docker: list the servers we hold a token for",
		"version": "docker: print the helper's version",
	}
	for _, action := range helper.DockerActions {
		cmd := &cli.Command{
			Name:     action,
			Usage:    dockerUsage[action],
			Category: "Credential helpers",
			Action: func(c *cli.Context) error {
				return reported{e.helper("runcomfy").Docker(c.Context, action, e.stdin, e.stdout)}
			},
		}
		if action == "list" {
			cmd.Flags, cmd.Action = outputFlags(), e.list
		}
		cmds = append(cmds, cmd)
	}
	for _, extra := range extraCommands {
		cmds = append(cmds, extra(e))
	}
	for _, c := range cmds {
		c.OnUsageError = onUsageError
	}
	return cmds
}

// onUsageError marks command-line mistakes so they exit with EX_USAGE.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return usageError{err}
}

// infof tells a person on w that something went as asked, unless -q.
func (e *env) infof(w io.Writer, format string, args ...any) {
	if !e.quiet {
		fmt.Fprintf(w, format, args...)
	}
}

// fancy reports whether w may get colour and emoji: a terminal, not dumb,
// and no NO_COLOR (no-color.org: set to anything, it means no colour).
func (e *env) fancy(w io.Writer) bool {
	getenv := e.store.Env.Getenv
	return isTerminal(w) && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// isTerminal reports whether r is a terminal.
func isTerminal(r any) bool {
	f, ok := r.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

func init() {
	// -v is --verbose here, as in most tools; --version has no short form.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
}
