package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Token is the content of token.json, field-compatible with the official
// RunComfy CLI so either tool reads the other's file:
//
//	{"access_token": "...", "refresh_token": null, "expires_at": null, "user_email": "..."}
//
// Fields this version does not know are kept on rewrite.
type Token struct {
	AccessToken  string
	RefreshToken *string
	// ExpiresAt is in unix seconds; nil means the token does not expire.
	ExpiresAt *int64
	UserEmail string

	// extra holds the fields of the file this version does not know.
	extra map[string]json.RawMessage
}

// Keys of the fields Token knows; everything else lands in extra.
const (
	keyAccessToken  = "access_token"
	keyRefreshToken = "refresh_token"
	keyExpiresAt    = "expires_at"
	keyUserEmail    = "user_email"
)

// ErrCorrupt marks a token file that is not what token.json must be.
// The error that wraps it names the file.
var ErrCorrupt = errors.New("not a valid token file")

// maxTokenFile bounds what is read of token.json; a real one is < 1 KiB.
const maxTokenFile = 1 << 20

// ParseToken decodes token.json. It never quotes the input in its errors:
// the input holds the token.
func ParseToken(data []byte) (Token, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return Token{}, fmt.Errorf("%w: expected one JSON object", ErrCorrupt)
	}
	if key, ok := repeatedField(data); ok {
		return Token{}, fmt.Errorf("%w: %q appears twice", ErrCorrupt, key)
	}
	var t Token
	if err := decodeField(fields, keyAccessToken, &t.AccessToken); err != nil {
		return Token{}, err
	}
	if err := decodeField(fields, keyRefreshToken, &t.RefreshToken); err != nil {
		return Token{}, err
	}
	if err := decodeField(fields, keyExpiresAt, &t.ExpiresAt); err != nil {
		return Token{}, err
	}
	if err := decodeField(fields, keyUserEmail, &t.UserEmail); err != nil {
		return Token{}, err
	}
	if t.AccessToken == "" {
		return Token{}, fmt.Errorf("%w: %q is missing or empty", ErrCorrupt, keyAccessToken)
	}
	if !printable(t.AccessToken) {
		return Token{}, fmt.Errorf("%w: %q holds control characters", ErrCorrupt, keyAccessToken)
	}
	if !wholeUTF8(t.AccessToken) {
		return Token{}, fmt.Errorf("%w: %q is not valid UTF-8", ErrCorrupt, keyAccessToken)
	}
	for _, k := range []string{keyAccessToken, keyRefreshToken, keyExpiresAt, keyUserEmail} {
		delete(fields, k)
	}
	if len(fields) > 0 {
		t.extra = fields
	}
	return t, nil
}

// repeatedField returns a field of Token that the object in data names
// twice. encoding/json lets the last one win; another reader of the file
// may take the first: a file that names two tokens is corrupt, not
// silently one of them. data must be a valid JSON object.
func repeatedField(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch key, _ := tok.(string); key {
		case keyAccessToken, keyRefreshToken, keyExpiresAt, keyUserEmail:
			if seen[key] {
				return key, true
			}
			seen[key] = true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}

// decodeField decodes fields[key] into dst when present; null leaves dst as
// its zero value. The error names the field, never its value.
func decodeField(fields map[string]json.RawMessage, key string, dst any) error {
	raw, ok := fields[key]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %q has the wrong type", ErrCorrupt, key)
	}
	return nil
}

// Marshal encodes the token as token.json, keeping unknown fields.
func (t Token) Marshal() ([]byte, error) {
	out := make(map[string]any, len(t.extra)+4)
	for k, v := range t.extra {
		out[k] = v
	}
	out[keyAccessToken] = t.AccessToken
	out[keyRefreshToken] = t.RefreshToken
	out[keyExpiresAt] = t.ExpiresAt
	out[keyUserEmail] = t.UserEmail
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Expired reports whether expires_at lies at or before now. A token
// without expires_at never expires.
func (t Token) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && *t.ExpiresAt <= now.Unix()
}

// Expiry is the token's expiry time, and false when it has none.
func (t Token) Expiry() (time.Time, bool) {
	if t.ExpiresAt == nil {
		return time.Time{}, false
	}
	return time.Unix(*t.ExpiresAt, 0).UTC(), true
}

// withExtra returns t carrying the unknown fields of old that t lacks, so a
// rewrite keeps what a newer tool stored beside the token.
func (t Token) withExtra(old Token) Token {
	if len(old.extra) == 0 {
		return t
	}
	merged := make(map[string]json.RawMessage, len(old.extra)+len(t.extra))
	for k, v := range old.extra {
		merged[k] = v
	}
	for k, v := range t.extra {
		merged[k] = v
	}
	t.extra = merged
	return t
}

// printable reports whether s holds no ASCII control characters: a token
// with a newline would break both wire protocols.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// ValidSecret reports whether s can be stored and handed out as a token:
// non-empty, valid UTF-8, no control characters, no surrounding
// whitespace.
func ValidSecret(s string) bool {
	return s != "" && wholeUTF8(s) && printable(s) && s[0] != ' ' && s[len(s)-1] != ' '
}

// wholeUTF8 reports whether s is valid UTF-8 without U+FFFD. encoding/json
// turns invalid UTF-8 and a lone surrogate (\ud800) into U+FFFD without an
// error: a token that went through that is not the one that was sent, and
// a later get would hand out another token.
func wholeUTF8(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError)
}
