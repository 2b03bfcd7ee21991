package helper

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/runcomfy/runcomfy/storage"
)

// GitRequest is one request of git's credential protocol, gitcredentials(7).
type GitRequest struct {
	Protocol string
	Host     string
	Path     string
	Username string
	Password string
	// HasPassword tells an empty password from none.
	HasPassword bool
}

// ParseGit reads key=value lines until a blank line or EOF (git 2.39 closes
// stdin without a blank line). Unknown keys are ignored; a NUL, a line over
// MaxLine, a line without '=', or more than MaxInput bytes are refused. The
// errors never quote the input: it may hold a password.
func ParseGit(in io.Reader) (GitRequest, error) {
	var req GitRequest
	r := bufio.NewReaderSize(io.LimitReader(in, MaxInput+1), 4096)
	total := 0
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: keep reading it, bounded by MaxLine. The next
			// ReadSlice overwrites the bytes of this one: copy them first.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(long) > MaxLine {
					return req, gitInputErr("line %d is longer than 64 KiB", n)
				}
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		total += len(line)
		if total > MaxInput {
			return req, gitInputErr("input exceeds 1 MiB")
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return req, gitInputErr("read stdin: %v", err)
		}
		atEOF := err != nil
		text := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(text) > MaxLine {
			return req, gitInputErr("line %d is longer than 64 KiB", n)
		}
		if bytes.IndexByte(text, 0) >= 0 {
			return req, gitInputErr("line %d holds a NUL byte", n)
		}
		if len(text) == 0 {
			return req, nil // blank line or EOF: end of request
		}
		key, value, ok := strings.Cut(string(text), "=")
		if !ok {
			return req, gitInputErr("line %d is not key=value", n)
		}
		switch key {
		case "protocol":
			req.Protocol = value
		case "host":
			req.Host = value
		case "path":
			req.Path = value
		case "username":
			req.Username = value
		case "password":
			req.Password, req.HasPassword = value, true
		}
		if atEOF {
			return req, nil
		}
	}
}

func gitInputErr(format string, args ...any) error {
	return &Error{Code: ExitData, Msg: fmt.Sprintf(format, args...)}
}

// GitActions are the actions of git's credential-helper protocol.
var GitActions = []string{"get", "store", "erase"}

// Git runs git's credential-helper protocol. The action is the last
// argument: git appends it after any arguments configured with the helper.
// stdout carries only answers to `get`; everything that went wrong goes to
// Stderr, because git ignores helpers' exit codes.
func (h *Helper) Git(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	err := h.safely(func() error { return h.git(ctx, args, in, out) })
	if err != nil {
		h.hint("%v", err)
	}
	return err
}

func (h *Helper) git(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return usageErr("usage: %s <%s>", h.Name, strings.Join(GitActions, "|"))
	}
	action := args[len(args)-1]
	switch action {
	case "get", "store", "erase":
	default:
		// gitcredentials(7): ignore operations you don't know.
		return nil
	}
	if h.StdinIsTerminal {
		h.hint("reading key=value lines from stdin; this is git's credential helper (end with a blank line)")
	}
	req, err := ParseGit(in)
	if err != nil {
		return err
	}
	if !h.Hosts.Allow(req.Protocol, req.Host) {
		return nil // not ours: git moves on to its next helper
	}
	switch action {
	case "get":
		return h.gitGet(ctx, out)
	case "store":
		return h.gitStore(ctx, req)
	default:
		return h.gitErase(ctx, req)
	}
}

func (h *Helper) gitGet(ctx context.Context, out io.Writer) error {
	found, err := h.resolve(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if strings.ContainsAny(found.Token.AccessToken, "\r\n\x00") {
		// Only RUNCOMFY_TOKEN can get here (the file and the keyring are
		// checked when read): a newline in it would add a line of its own
		// choosing to git's answer.
		return gitInputErr("get: the token from %s holds control characters; not answering", found.Source)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "username=%s\npassword=%s\n", username(found.Token), found.Token.AccessToken)
	if exp, ok := found.Token.Expiry(); ok {
		fmt.Fprintf(&b, "password_expiry_utc=%d\n", exp.Unix())
	}
	_, err = io.WriteString(out, b.String())
	return err
}

func (h *Helper) gitStore(ctx context.Context, req GitRequest) error {
	if !storage.ValidSecret(req.Password) {
		return gitInputErr("store: the password is empty or holds control characters; nothing stored")
	}
	t := storage.Token{AccessToken: req.Password}
	if req.Username != "runcomfy" && storage.ValidSecret(req.Username) {
		t.UserEmail = req.Username
	}
	if found, err := h.Store.Resolve(); err == nil && found.Token.AccessToken == req.Password && found.Source != storage.SourceKeyring {
		// git stores after every use of the token we gave it: nothing new.
		return nil
	}
	_, err := h.Store.Save(ctx, t)
	return err
}

func (h *Helper) gitErase(ctx context.Context, req GitRequest) error {
	if req.HasPassword && req.Password == "" {
		return nil
	}
	_, err := h.Store.Erase(ctx, req.Password)
	return err
}
