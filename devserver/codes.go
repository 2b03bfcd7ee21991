package devserver

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"unicode"
)

// userCodeAlphabet has consonants only, without the ones read or heard for
// others: RFC 8628 §6.1 suggests base-20 so that no code spells a word and
// none is mistyped (no vowels, no 0/O, 1/I/L).
const userCodeAlphabet = "BCDFGHJKMNPQRSTVWXYZ"

const (
	userCodeLen = 8 // shown as two groups of four
	tokenPrefix = "rc_"
)

// randomBytes returns n bytes from crypto/rand. Since Go 1.24 rand.Read
// never returns an error: it crashes the program instead.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// randomText returns 256 random bits, URL-safe: for device codes, tokens,
// session ids and CSRF tokens.
func randomText() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func newToken() string { return tokenPrefix + randomText() }

// newUserCode returns userCodeLen letters of userCodeAlphabet, normalized
// (no dash). It draws bytes and throws away those at or above the largest
// multiple of the alphabet's size, so every letter is equally likely.
func newUserCode() string {
	const n = len(userCodeAlphabet)
	const limit = 256 / n * n
	code := make([]byte, 0, userCodeLen)
	for len(code) < userCodeLen {
		for _, b := range randomBytes(userCodeLen) {
			if int(b) < limit && len(code) < userCodeLen {
				code = append(code, userCodeAlphabet[int(b)%n])
			}
		}
	}
	return string(code)
}

// normalizeUserCode makes a typed code comparable: upper case, with dashes
// and white space dropped, so "abcd efgh" and "ABCD-EFGH" match.
func normalizeUserCode(typed string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, typed)
}

// formatUserCode shows a normalized code as a person reads it: ABCD-EFGH.
func formatUserCode(code string) string {
	if len(code) != userCodeLen {
		return code
	}
	return code[:userCodeLen/2] + "-" + code[userCodeLen/2:]
}

// redact is the one way a secret (token, device code, session id) reaches
// the log: enough to tell two apart, never enough to use one — "rc_…" for a
// token, then "…" and the last 4 characters.
func redact(secret string) string {
	prefix := ""
	if strings.HasPrefix(secret, tokenPrefix) {
		prefix = tokenPrefix
	}
	if len(secret)-len(prefix) < 16 {
		return prefix + "…"
	}
	return prefix + "…" + secret[len(secret)-4:]
}
