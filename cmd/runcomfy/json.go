package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/runcomfy/runcomfy/devicecode"
	"github.com/runcomfy/runcomfy/redact"
	"github.com/runcomfy/runcomfy/storage"
)

// JSON output (--output json, or --json) of whoami, status and list. The
// field names below are part of the interface, documented in the README:
// scripts read them. Adding a field is fine; renaming one is not.

// outputFlags are the flags of a command that can print JSON.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Usage: "output format: text or json", Value: "text"},
		&cli.BoolFlag{Name: "json", Usage: "same as --output json"},
	}
}

// jsonOutput reports whether c asked for JSON. When it did, errors are
// reported as one JSON line on stderr from then on (exit.go).
func (e *env) jsonOutput(c *cli.Context) (bool, error) {
	switch format := c.String("output"); format {
	case "json":
	case "text":
		if !c.Bool("json") {
			return false, nil
		}
	default:
		return false, usageError{fmt.Errorf("--output %q: want text or json", format)}
	}
	e.jsonErrors = true
	return true, nil
}

// writeJSON prints v indented, with <, > and & as they are.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonError is the one line an error becomes on stderr in JSON mode.
type jsonError struct {
	Error string `json:"error"`
	Code  int    `json:"code"`
}

func writeJSONError(w io.Writer, msg string, code int) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(jsonError{Error: msg, Code: code})
}

// sourceKey names a token source in JSON: the key of its section in
// `status --json`.
func sourceKey(s storage.Source) string {
	switch s {
	case storage.SourceEnv:
		return "env"
	case storage.SourceFile:
		return "file"
	case storage.SourceLegacy:
		return "legacy_file"
	case storage.SourceKeyring:
		return "keyring"
	default:
		return ""
	}
}

// whoamiJSON is `runcomfy whoami --json`.
type whoamiJSON struct {
	Email          string `json:"email"`
	UserID         string `json:"user_id"`
	TokenType      string `json:"token_type"`
	TokenCreatedAt string `json:"token_created_at"`
	// Source is env, file, legacy_file or keyring; Path is the file read,
	// "" for the others.
	Source string `json:"source"`
	Path   string `json:"path"`
}

func printWhoamiJSON(w io.Writer, found storage.Found, user *devicecode.User) error {
	return writeJSON(w, whoamiJSON{
		Email:          user.Email,
		UserID:         user.ID,
		TokenType:      user.TokenType,
		TokenCreatedAt: user.TokenCreatedAt,
		Source:         sourceKey(found.Source),
		Path:           found.Path,
	})
}

// statusJSON is `runcomfy status --json`. Tokens appear masked only.
type statusJSON struct {
	SignedIn bool `json:"signed_in"`
	// Source is the section whose token is in use: env, file, legacy_file
	// or keyring; "" when signed out.
	Source      string           `json:"source"`
	UserEmail   string           `json:"user_email"`
	TokenMasked string           `json:"token_masked"`
	Env         envStateJSON     `json:"env"`
	File        fileStateJSON    `json:"file"`
	LegacyFile  *fileStateJSON   `json:"legacy_file"` // null where no legacy path applies (not macOS)
	Keyring     keyringStateJSON `json:"keyring"`
}

type envStateJSON struct {
	Set         bool   `json:"set"`
	TokenMasked string `json:"token_masked"`
	InUse       bool   `json:"in_use"`
}

type fileStateJSON struct {
	Path        string `json:"path"`
	Exists      bool   `json:"exists"`
	Mode        string `json:"mode"`     // octal, "0600"; "" when absent
	DirMode     string `json:"dir_mode"` // octal; "" when absent
	TooOpen     bool   `json:"too_open"` // others may read it or enter its directory
	Symlink     bool   `json:"symlink"`
	TokenMasked string `json:"token_masked"`
	UserEmail   string `json:"user_email"`
	Expired     bool   `json:"expired"`
	Error       string `json:"error"` // why an existing file is unusable; "" otherwise
	InUse       bool   `json:"in_use"`
}

type keyringStateJSON struct {
	Enabled bool `json:"enabled"`
	// The rest is only read when the mirror is on.
	Reachable   bool   `json:"reachable"`
	Error       string `json:"error"` // why it is not reachable; "" otherwise
	HasToken    bool   `json:"has_token"`
	MatchesFile bool   `json:"matches_file"` // holds the same token as token.json
	InUse       bool   `json:"in_use"`
}

// printStatusJSON prints status as JSON on w. It returns what the text
// status would exit with: nil when signed in, else the reason.
func (e *env) printStatusJSON(w io.Writer) error {
	found, resolveErr := e.store.Resolve()
	inUse := func(s storage.Source) bool { return resolveErr == nil && found.Source == s }
	out := statusJSON{
		Env: envStateJSON{
			Set:         e.store.EnvToken() != "",
			TokenMasked: redact.Mask(e.store.EnvToken()),
			InUse:       inUse(storage.SourceEnv),
		},
		Keyring: keyringStateJSON{InUse: inUse(storage.SourceKeyring)},
	}
	out.Keyring.Enabled, _ = e.keyring.Enabled() // unreadable config.json: off, as the mirror treats it
	var fileToken string
	if path, err := e.store.TokenPath(); err != nil {
		out.File.Error = err.Error()
	} else {
		st := e.store.InspectFile(path)
		fileToken = st.Token.AccessToken
		out.File = fileState(st, inUse(storage.SourceFile))
	}
	if out.Keyring.Enabled {
		ks := e.keys.Status(fileToken)
		out.Keyring.Reachable, out.Keyring.HasToken, out.Keyring.MatchesFile = ks.Err == nil, ks.HasToken, ks.Matches
		if ks.Err != nil {
			out.Keyring.Error = ks.Err.Error()
		}
	}
	if legacy := e.store.Env.LegacyPath(); legacy != "" {
		st := fileState(e.store.InspectFile(legacy), inUse(storage.SourceLegacy))
		out.LegacyFile = &st
	}
	if resolveErr == nil {
		out.SignedIn = true
		out.Source = sourceKey(found.Source)
		out.UserEmail = found.Token.UserEmail
		out.TokenMasked = redact.Mask(found.Token.AccessToken)
	}
	if err := writeJSON(w, out); err != nil {
		return err
	}
	if errors.Is(resolveErr, storage.ErrNotFound) {
		return errNotSignedIn
	}
	return resolveErr
}

func fileState(st storage.FileState, inUse bool) fileStateJSON {
	out := fileStateJSON{Path: st.Path, Exists: st.Exists, Symlink: st.Symlink, InUse: inUse}
	if !st.Exists {
		return out
	}
	if st.Err != nil {
		// The path is in Path already; the bare reason reads better.
		if reason := errors.Unwrap(st.Err); reason != nil {
			out.Error = reason.Error()
		} else {
			out.Error = st.Err.Error()
		}
		return out
	}
	out.Mode = fmt.Sprintf("%04o", st.Mode)
	out.DirMode = fmt.Sprintf("%04o", st.DirMode)
	out.TooOpen = st.TooOpen()
	out.TokenMasked = redact.Mask(st.Token.AccessToken)
	out.UserEmail = st.Token.UserEmail
	out.Expired = st.Expired
	return out
}

// list is `runcomfy list`: docker's list action, whose answer is JSON
// already. With --json, the answer is the same; only a failure differs:
// a JSON line on stderr instead of the protocol's message on stdout.
func (e *env) list(c *cli.Context) error {
	asJSON, err := e.jsonOutput(c)
	if err != nil {
		return err
	}
	h := e.helper("runcomfy")
	if !asJSON {
		return reported{h.Docker(c.Context, "list", e.stdin, e.stdout)}
	}
	var answer bytes.Buffer
	if err := h.Docker(c.Context, "list", e.stdin, &answer); err != nil {
		return err
	}
	_, err = e.stdout.Write(answer.Bytes())
	return err
}
