package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

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
	err := h.safely(func() error { return h.docker(ctx, action, in, out) })
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
	c, err := decodeCreds(data)
	if err != nil {
		return err
	}
	switch {
	case !h.Hosts.AllowURL(c.ServerURL):
		return &Error{Code: ExitFailure, Msg: fmt.Sprintf("store: %s is not a RunComfy server; refusing to store its credentials", printableOrPlaceholder(c.ServerURL, c.Secret))}
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
	_, err = h.Store.Save(ctx, t)
	return err
}

// errNotOneObject refuses a store's stdin. It never quotes the input, as
// encoding/json's messages do: the input holds the secret.
var errNotOneObject = &Error{Code: ExitFailure, Msg: "store: expected one JSON object {\"ServerURL\",\"Username\",\"Secret\"} on stdin"}

// decodeCreds reads exactly one JSON object. Its three fields are matched
// by their exact names, each at most once, and hold strings (or null);
// other fields are ignored. encoding/json alone would let the last of two
// "ServerURL"s win, and take "serverurl" or "ſecret" for the fields: two
// readers of the same input must never disagree on the server or the
// secret it names. Invalid UTF-8 is refused: encoding/json would turn it
// into U+FFFD and store another secret than the one sent.
func decodeCreds(data []byte) (dockerCreds, error) {
	var c dockerCreds
	if !utf8.Valid(data) {
		return c, errNotOneObject
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return c, errNotOneObject
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return c, errNotOneObject
		}
		key, _ := tok.(string)
		var dst any = new(json.RawMessage)
		switch key {
		case "ServerURL":
			dst = &c.ServerURL
		case "Username":
			dst = &c.Username
		case "Secret":
			dst = &c.Secret
		}
		if _, ours := dst.(*string); ours {
			if seen[key] {
				return c, &Error{Code: ExitFailure, Msg: "store: the JSON object names " + key + " twice"}
			}
			seen[key] = true
		}
		if err := dec.Decode(dst); err != nil {
			return c, errNotOneObject
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') || !onlySpace(data[dec.InputOffset():]) {
		return c, errNotOneObject
	}
	return c, nil
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
// printable ASCII, and carries nothing that may be a credential (user
// info, a query or fragment, the secret itself); a placeholder otherwise:
// input echoed into a terminal or a CI log must carry neither control
// sequences nor secrets. A secret of a few characters would match any
// host ("x" in "example"), and says little anyway.
func printableOrPlaceholder(s, secret string) string {
	if len(s) > 256 || !cleanASCII(s) || strings.ContainsAny(s, "@?#") || len(secret) >= 4 && strings.Contains(s, secret) {
		return "the ServerURL"
	}
	return fmt.Sprintf("%q", s)
}
