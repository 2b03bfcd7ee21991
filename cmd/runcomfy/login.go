package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/cli/browser"
	"github.com/urfave/cli/v2"

	"github.com/runcomfy/runcomfy/devicecode"
	"github.com/runcomfy/runcomfy/helper"
	"github.com/runcomfy/runcomfy/internal/version"
	"github.com/runcomfy/runcomfy/storage"
	"github.com/runcomfy/runcomfy/storage/keyring"
)

// defaultWebBase is RunComfy's web app, home of the auth API.
const defaultWebBase = "https://www.runcomfy.com"

func loginCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "login",
		Usage: "sign in with a one-time code in your browser",
		Description: "Shows a one-time code and opens " + defaultWebBase + "/cli-auth, where you type it.\n" +
			"With --with-token, reads a token from your RunComfy Profile page on stdin instead:\n" +
			"  runcomfy login --with-token < token.txt",
		Flags: []cli.Flag{
			webBaseFlag(),
			&cli.BoolFlag{Name: "no-browser", Usage: "print the URL; don't open a browser"},
			&cli.BoolFlag{Name: "with-token", Usage: "read a Profile-page API token from stdin"},
			&cli.BoolFlag{Name: "keyring", Usage: "also keep the token in the OS keyring (remembered in config.json)"},
			&cli.BoolFlag{Name: "no-keyring", Usage: "keep the token in token.json only, and remove it from the keyring"},
		},
		Action: e.login,
	}
}

func whoamiCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:   "whoami",
		Usage:  "show who the token belongs to (asks RunComfy)",
		Flags:  append([]cli.Flag{webBaseFlag()}, outputFlags()...),
		Action: e.whoami,
	}
}

func webBaseFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "web-base",
		Usage:   "RunComfy web base URL",
		EnvVars: []string{helper.EnvWebBase},
		Value:   defaultWebBase,
	}
}

// client returns the auth API client for the command's web base.
func (e *env) client(c *cli.Context) (*devicecode.Client, error) {
	base := defaultWebBase
	if c != nil && c.String("web-base") != "" {
		base = c.String("web-base")
	} else if v := e.store.Env.Getenv(helper.EnvWebBase); v != "" {
		base = v
	}
	return devicecode.New(base, devicecode.NewHTTPClient(devicecode.HTTPOptions{
		Version:    version.Version,
		Trace:      e.stderr,
		TraceLevel: e.verbosity,
	}))
}

func (e *env) login(c *cli.Context) error {
	if c.Args().Present() {
		return usageError{errors.New("login takes no arguments (a token is never passed on the command line: use --with-token and stdin)")}
	}
	client, err := e.client(c)
	if err != nil {
		return usageError{err}
	}
	switch on, off := c.Bool("keyring"), c.Bool("no-keyring"); {
	case on && off:
		return usageError{errors.New("--keyring and --no-keyring contradict each other")}
	case on || off:
		if err := e.setKeyring(on); err != nil {
			return err
		}
	}
	if c.Bool("with-token") {
		return e.loginWithToken(c.Context, client)
	}
	return e.deviceLogin(c.Context, client, e.stderr, !c.Bool("no-browser"))
}

// setKeyring turns the keyring mirror on or off in config.json, before
// the login saves the token. Off also removes the keyring's copy.
func (e *env) setKeyring(on bool) error {
	dir, err := e.store.Env.ConfigDir()
	if err != nil {
		return err
	}
	if err := storage.SaveSettings(dir, storage.Settings{Keyring: &on}); err != nil {
		return err
	}
	if v := e.store.Env.Getenv(storage.EnvKeyring); v != "" {
		fmt.Fprintf(e.stderr, "warning: %s=%s is set and wins over config.json\n", storage.EnvKeyring, v)
	}
	if !on {
		k := keyring.ForEnv(e.store.Env.Getenv, runtime.GOOS)
		if err := k.Delete(); err != nil {
			fmt.Fprintf(e.stderr, "warning: %v\n", err)
		}
	}
	return nil
}

// loginWithToken reads a Profile-page token from stdin, checks it with
// RunComfy, and saves it.
func (e *env) loginWithToken(ctx context.Context, client *devicecode.Client) error {
	if isTerminal(e.stdin) {
		return usageError{errors.New("--with-token reads the token from stdin; pipe it in: runcomfy login --with-token < token.txt")}
	}
	data, err := io.ReadAll(io.LimitReader(e.stdin, helper.MaxInput+1))
	if err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if len(data) > helper.MaxInput || !storage.ValidSecret(token) {
		return &helper.Error{Code: exitData, Msg: "--with-token: stdin holds no token (one line, no control characters, at most 1 MiB)"}
	}
	user, err := client.Me(ctx, token)
	if err != nil {
		return err
	}
	return e.save(ctx, token, user)
}

// deviceLogin runs the device-code sign-in, talking to a person on out.
func (e *env) deviceLogin(ctx context.Context, client *devicecode.Client, out io.Writer, openBrowser bool) error {
	session, err := client.Start(ctx)
	if err != nil {
		return err
	}
	tty := isTerminal(out)
	printCode(out, session, tty, e.fancy(out))
	if openBrowser {
		if err := e.openBrowser(session.VerifyURL); err != nil {
			fmt.Fprintf(out, "Open the URL above in a browser (%v).\n", err)
		} else {
			e.infof(out, "Opened it in your browser.\n")
		}
	}
	if tty {
		client.Progress = func(left time.Duration) {
			fmt.Fprintf(out, "\r\033[KWaiting for authorization… %s left (Ctrl-C to cancel)", clock(left))
		}
		defer fmt.Fprint(out, "\r\033[K")
	} else {
		fmt.Fprintf(out, "Waiting for authorization (the code expires in %s)...\n", clock(session.ExpiresIn))
	}
	token, err := client.Wait(ctx, session)
	if err != nil {
		return err
	}
	if tty {
		fmt.Fprint(out, "\r\033[K")
	}
	user, err := client.Me(ctx, token)
	if errors.Is(err, devicecode.ErrUnauthorized) {
		// The server rejects the token it just handed out: saved, it would
		// fail every later use, and a helper would hand it out regardless.
		return err
	}
	if err != nil {
		// The person did authorize and the server could not say who they
		// are (5xx, network): keep the token, say what is missing.
		fmt.Fprintf(out, "warning: signed in, but could not ask who you are: %v\n", message(err))
		user = &devicecode.User{}
	}
	return e.saveTo(ctx, out, token, user)
}

func (e *env) save(ctx context.Context, token string, user *devicecode.User) error {
	return e.saveTo(ctx, e.stderr, token, user)
}

func (e *env) saveTo(ctx context.Context, out io.Writer, token string, user *devicecode.User) error {
	// The save must not be cut by a Ctrl-C that lands after the approval:
	// the lock wait is bounded on its own.
	if _, err := e.store.Save(context.WithoutCancel(ctx), storage.Token{AccessToken: token, UserEmail: user.Email}); err != nil {
		return err
	}
	who := user.Email
	if who == "" {
		who = user.ID
	}
	if who == "" {
		who = "your RunComfy account"
	}
	path, _ := e.store.TokenPath()
	check := ""
	if e.fancy(out) {
		check = "\033[32m✓\033[0m "
	}
	e.infof(out, "%sLogged in as %s. Token saved to %s.\n", check, who, path)
	if e.store.EnvToken() != "" {
		fmt.Fprintln(out, "Note: RUNCOMFY_TOKEN is set in this environment and wins over the saved token.")
	}
	return nil
}

// printCode shows the one-time code: large and boxed on a terminal, plain
// otherwise. The URL never carries the code: the page refuses ?code= so
// that a link sent by someone else cannot sign in their terminal.
func printCode(out io.Writer, s *devicecode.Session, tty, fancy bool) {
	if !tty {
		fmt.Fprintf(out, "Your one-time code: %s\nEnter it at: %s\n", s.UserCode, s.VerifyURL)
		return
	}
	bold, plain := "", ""
	if fancy {
		bold, plain = "\033[1m", "\033[0m"
	}
	spaced := strings.Join(strings.Split(s.UserCode, ""), " ")
	width := len(spaced) + 8
	bar := strings.Repeat("─", width)
	fmt.Fprintf(out, "\nFirst copy your one-time code:\n\n")
	fmt.Fprintf(out, "    ┌%s┐\n", bar)
	fmt.Fprintf(out, "    │%s│\n", strings.Repeat(" ", width))
	fmt.Fprintf(out, "    │    %s%s%s    │\n", bold, spaced, plain)
	fmt.Fprintf(out, "    │%s│\n", strings.Repeat(" ", width))
	fmt.Fprintf(out, "    └%s┘\n\n", bar)
	fmt.Fprintf(out, "Then enter it at: %s\n", s.VerifyURL)
}

// clock formats d as m:ss.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// errNoBrowser says why no browser was opened.
var errNoBrowser = errors.New("no display")

// openBrowser opens url in $BROWSER or the system browser, never over SSH
// or without a display. Launchers print to stdout by default; stdout may
// belong to git or docker, so theirs goes to stderr.
func (e *env) openBrowser(url string) error {
	getenv := e.store.Env.Getenv
	if b := getenv("BROWSER"); b != "" {
		return startBrowser(b, url, e.stderr)
	}
	if getenv("SSH_CONNECTION") != "" || getenv("SSH_CLIENT") != "" || getenv("SSH_TTY") != "" {
		return errors.New("over SSH")
	}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" && getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return errNoBrowser
	}
	browser.Stdout, browser.Stderr = e.stderr, e.stderr
	return browser.OpenURL(url)
}

// startBrowser runs the first command of $BROWSER (a list separated like
// PATH; "%s" stands for the URL, else the URL is appended) and does not
// wait for it: a browser may run for hours.
func startBrowser(list, url string, stderr io.Writer) error {
	var lastErr error
	for _, entry := range strings.Split(list, string(os.PathListSeparator)) {
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			continue
		}
		replaced := false
		for i, f := range fields {
			if strings.Contains(f, "%s") {
				fields[i], replaced = strings.ReplaceAll(f, "%s", url), true
			}
		}
		if !replaced {
			fields = append(fields, url)
		}
		cmd := exec.Command(fields[0], fields[1:]...)
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if lastErr = cmd.Start(); lastErr == nil {
			go func() { _ = cmd.Wait() }()
			return nil
		}
	}
	if lastErr == nil {
		lastErr = errors.New("$BROWSER is empty")
	}
	return fmt.Errorf("$BROWSER: %w", lastErr)
}

// whoami asks RunComfy who the token belongs to.
func (e *env) whoami(c *cli.Context) error {
	asJSON, err := e.jsonOutput(c)
	if err != nil {
		return err
	}
	found, err := e.store.Resolve()
	if errors.Is(err, storage.ErrNotFound) {
		return errNotSignedIn
	}
	if err != nil {
		return err
	}
	client, err := e.client(c)
	if err != nil {
		return usageError{err}
	}
	user, err := client.Me(c.Context, found.Token.AccessToken)
	if err != nil {
		return err
	}
	if asJSON {
		return printWhoamiJSON(e.stdout, found, user)
	}
	w := e.stdout
	fmt.Fprintf(w, "Logged in as %s\n", orDash(user.Email))
	fmt.Fprintf(w, "  user id:    %s\n", orDash(user.ID))
	fmt.Fprintf(w, "  token type: %s\n", orDash(user.TokenType))
	fmt.Fprintf(w, "  token from: %s\n", sourceName(found))
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// loginOnMiss is the Helper.Login of `runcomfy get` and `runcomfy
// git-credential get`: the same policy as the lean helpers, with the
// login run in this process.
func (e *env) loginOnMiss() func(context.Context) error {
	return helper.LoginOnMiss(e.store, e.stderr, func(ctx context.Context, _ io.Reader, out io.Writer) error {
		client, err := e.client(nil)
		if err != nil {
			return err
		}
		return e.deviceLogin(ctx, client, out, true)
	})
}
