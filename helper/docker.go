package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/runcomfy/runcomfy/storage"
)

// DockerActions are the actions of docker's credential-helper protocol.
var DockerActions = []string{"store", "get", "erase", "list", "version"}

// dockerCreds is the JSON shape of docker's protocol; the field names are
// the protocol's.
type dockerCreds struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// identityTokenUser is the Username docker sends with an identity token
// rather than a user's name.
const identityTokenUser = "<token>"

// Docker runs one action of docker's credential-helper protocol, reading
// the request from in and writing the answer to out. On failure the error
// message is written to out too (docker reads only stdout), and the
// returned error says the exit code (ExitCode).
func (h *Helper) Docker(ctx context.Context, action string, in io.Reader, out io.Writer) error {
	err := h.docker(ctx, action, in, out)
	if err != nil {
		fmt.Fprintln(out, err.Error())
	}
	return err
}

func (h *Helper) docker(ctx context.Context, action string, in io.Reader, out io.Writer) error {
	switch action {
	case "version":
		_, err := fmt.Fprintf(out, "%s (github.com/runcomfy/runcomfy) %s\n", h.Name, h.Version)
		return err
	case "list":
		return h.dockerList(out)
	case "store", "get", "erase":
	default:
		return usageErr("usage: %s <%s>", h.Name, strings.Join(DockerActions, "|"))
	}
	if h.StdinIsTerminal {
		if action == "store" {
			h.hint("reading credentials as JSON from stdin; this is docker's credential helper (end with Ctrl-D)")
		} else {
			h.hint("reading a server URL from stdin; this is docker's credential helper (end with Ctrl-D)")
		}
	}
	data, err := readInput(in, ExitFailure)
	if err != nil {
		return err
	}
	switch action {
	case "store":
		return h.dockerStore(ctx, data)
	case "get":
		return h.dockerGet(ctx, strings.TrimSpace(string(data)), out)
	default:
		return h.dockerErase(ctx, strings.TrimSpace(string(data)))
	}
}

func (h *Helper) dockerStore(ctx context.Context, data []byte) error {
	var c dockerCreds
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil || dec.More() || !onlySpace(data[dec.InputOffset():]) {
		// The decoder's message would quote the input, which holds the secret.
		return &Error{Code: ExitFailure, Msg: "store: expected one JSON object {\"ServerURL\",\"Username\",\"Secret\"} on stdin"}
	}
	switch {
	case !h.Hosts.AllowURL(c.ServerURL):
		return &Error{Code: ExitFailure, Msg: fmt.Sprintf("store: %s is not a RunComfy server; refusing to store its credentials", printableOrPlaceholder(c.ServerURL))}
	case c.Secret == "":
		return &Error{Code: ExitFailure, Msg: "store: the Secret is empty"}
	case !storage.ValidSecret(c.Secret):
		return &Error{Code: ExitFailure, Msg: "store: the Secret holds control characters or surrounding spaces"}
	case c.Username == "":
		return &Error{Code: ExitFailure, Msg: "store: the Username is empty"}
	case !storage.ValidSecret(c.Username):
		return &Error{Code: ExitFailure, Msg: "store: the Username holds control characters"}
	}
	t := storage.Token{AccessToken: c.Secret}
	if c.Username != identityTokenUser {
		t.UserEmail = c.Username
	}
	_, err := h.Store.Save(ctx, t)
	return err
}

func (h *Helper) dockerGet(ctx context.Context, server string, out io.Writer) error {
	if !h.Hosts.AllowURL(server) {
		return ErrCredentialsNotFound
	}
	found, err := h.resolve(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrCredentialsNotFound
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(dockerCreds{
		ServerURL: server,
		Username:  username(found.Token),
		Secret:    found.Token.AccessToken,
	})
}

func (h *Helper) dockerErase(ctx context.Context, server string) error {
	if !h.Hosts.AllowURL(server) {
		return nil // nothing of ours was stored for it
	}
	_, err := h.Store.Erase(ctx, "")
	return err
}

func (h *Helper) dockerList(out io.Writer) error {
	list := map[string]string{}
	found, err := h.Store.Resolve()
	switch {
	case err == nil:
		list[DefaultServerURL] = username(found.Token)
	case !errors.Is(err, storage.ErrNotFound):
		return err
	}
	return json.NewEncoder(out).Encode(list)
}

func onlySpace(b []byte) bool {
	return len(bytes.TrimSpace(b)) == 0
}

// printableOrPlaceholder returns s for an error message when it is short,
// printable ASCII, and a placeholder otherwise: input echoed into a
// terminal or a log must not carry control sequences.
func printableOrPlaceholder(s string) string {
	if len(s) > 256 || !cleanASCII(s) {
		return "the ServerURL"
	}
	return fmt.Sprintf("%q", s)
}
