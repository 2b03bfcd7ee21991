package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/runcomfy/runcomfy/redact"
	"github.com/runcomfy/runcomfy/storage"
)

// token prints the token alone, for $(runcomfy token).
func (e *env) token(c *cli.Context) error {
	if c.Args().Present() {
		return usageError{errors.New("token takes no arguments (a token is never passed on the command line)")}
	}
	found, err := e.store.Resolve()
	if errors.Is(err, storage.ErrNotFound) {
		return errNotSignedIn
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, found.Token.AccessToken)
	return err
}

// logout removes the stored token.
func (e *env) logout(c *cli.Context) error {
	path, err := e.store.TokenPath()
	if err != nil {
		return err
	}
	erased, err := e.store.Erase(c.Context, "")
	if err != nil {
		return err
	}
	if erased {
		e.infof(e.stderr, "Logged out: removed %s.\n", path)
		e.infof(e.stderr, "The token stays valid on RunComfy until you revoke it on your Profile page.\n")
	} else {
		e.infof(e.stderr, "Not logged in: no stored token to remove.\n")
	}
	if e.store.EnvToken() != "" {
		fmt.Fprintln(e.stderr, "RUNCOMFY_TOKEN is still set in this environment and is still used; unset it to sign out fully.")
	}
	return nil
}

// status shows every token source and which one wins. It works offline.
func (e *env) status(c *cli.Context) error {
	asJSON, err := e.jsonOutput(c)
	if err != nil {
		return err
	}
	if asJSON {
		return e.printStatusJSON(e.stdout)
	}
	found, resolveErr := e.store.Resolve()
	w := e.stdout
	winner := func(s storage.Source) string {
		if resolveErr == nil && found.Source == s {
			return "  <- in use"
		}
		return ""
	}

	if tok := e.store.EnvToken(); tok != "" {
		fmt.Fprintf(w, "%-18s set, %s%s\n", storage.EnvToken+":", terminalSafe(redact.Mask(tok)), winner(storage.SourceEnv))
	} else {
		fmt.Fprintf(w, "%-18s not set\n", storage.EnvToken+":")
	}

	var fileToken string
	path, err := e.store.TokenPath()
	if err != nil {
		fmt.Fprintf(w, "%-18s %v\n", "token file:", err)
	} else {
		st := e.store.InspectFile(path)
		fileToken = st.Token.AccessToken
		printFileState(w, "token file:", st, winner(storage.SourceFile))
	}
	if legacy := e.store.Env.LegacyPath(); legacy != "" {
		printFileState(w, "legacy file:", e.store.InspectFile(legacy), winner(storage.SourceLegacy))
	}
	fmt.Fprintf(w, "%-18s %s%s\n", "keyring:", e.keyringState(fileToken), winner(storage.SourceKeyring))

	switch {
	case resolveErr == nil:
		who := found.Token.UserEmail
		if who == "" {
			who = "an unnamed account"
		}
		fmt.Fprintf(w, "\nSigned in as %s with %s from %s.\n", terminalSafe(who), terminalSafe(redact.Mask(found.Token.AccessToken)), sourceName(found))
		return nil
	case errors.Is(resolveErr, storage.ErrNotFound):
		fmt.Fprintln(w, "\nNot signed in. Run `runcomfy login`, or set RUNCOMFY_TOKEN.")
		return reported{errNotSignedIn}
	default:
		fmt.Fprintf(w, "\nNo usable token: %v\n", resolveErr)
		return reported{resolveErr}
	}
}

func printFileState(w io.Writer, label string, st storage.FileState, winner string) {
	switch {
	case !st.Exists:
		fmt.Fprintf(w, "%-18s %s (not present)\n", label, st.Path)
		return
	case st.Err != nil:
		fmt.Fprintf(w, "%-18s %s: unusable: %v\n", label, st.Path, errors.Unwrap(st.Err))
		return
	}
	var notes []string
	notes = append(notes, fmt.Sprintf("mode %04o", st.Mode))
	notes = append(notes, terminalSafe(redact.Mask(st.Token.AccessToken)))
	if st.Token.UserEmail != "" {
		notes = append(notes, terminalSafe(st.Token.UserEmail))
	}
	if st.Symlink {
		notes = append(notes, "a symlink (replaced by a file on the next login)")
	}
	if st.Expired {
		notes = append(notes, "expired")
	}
	fmt.Fprintf(w, "%-18s %s (%s)%s\n", label, st.Path, strings.Join(notes, ", "), winner)
	if st.TooOpen() {
		fmt.Fprintf(w, "%-18s warning: %s or its directory can be read by other users (dir mode %04o); run `chmod 700 %s && chmod 600 %s`, or `runcomfy login` again\n",
			"", st.Path, st.DirMode, shellQuote(filepath.Dir(st.Path)), shellQuote(st.Path))
	}
}

// terminalSafe returns s unchanged when all of it is printable, else
// quoted with Go's escapes. What status prints of token.json (and of
// RUNCOMFY_TOKEN, or the keyring) was written by anyone who could write
// the file: "\x1b[2J" in user_email must not clear the screen.
func terminalSafe(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// sourceName says where a token came from, as whoami and status print it.
func sourceName(f storage.Found) string {
	if f.Path != "" {
		return f.Path
	}
	return f.Source.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// keyringState describes the keyring mirror for status: on or off, and
// when on, whether it answers, holds a token, and the same as token.json.
func (e *env) keyringState(fileToken string) string {
	on, err := e.keyring.Enabled()
	switch {
	case err != nil:
		return fmt.Sprintf("off (%v)", err)
	case !on:
		return "off (turn it on with `runcomfy login --keyring` or RUNCOMFY_KEYRING=1)"
	}
	return "on, " + e.keys.Status(fileToken).String()
}
