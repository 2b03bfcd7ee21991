// Package redact hides secrets in text that leaves the process: traces,
// error messages, log lines. Every output path that could carry a token or a
// device code passes through String (or Error), so there is one place to get
// right.
//
// The package depends on the standard library's text packages only. The
// lean credential helpers do not link it (their start would pay for
// regexp): they never format a secret at all.
package redact

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Placeholder stands where a secret was.
const Placeholder = "[REDACTED]"

// rule is one pattern of text that carries a secret: the pattern's first
// group is kept, the rest of the match becomes Placeholder plus suffix.
type rule struct {
	re     *regexp.Regexp
	suffix string
}

// secretKeys are the field names whose values are secrets, in JSON bodies
// (RunComfy's API, docker's {"Secret": ...}) and in key=value text.
const secretKeys = `access_token|refresh_token|id_token|device_code|client_secret|token|secret|password`

// authorization matches an Authorization header or field however it is
// printed: "Authorization: Bearer x", "authorization=x",
// `"Authorization":"Bearer x"`, Go's map[Authorization:[Bearer x]]. Group 2
// is the auth scheme, if any; group 3 the credentials, or the scheme itself
// when nothing follows it.
//
// The patterns compile on first use, not at start: every runcomfy command
// links this package, most never redact anything, and compiling them all
// costs a start about 0.2 ms.
var authorization = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(\b(?:proxy-)?authorization["']?\s*[:=]\s*["'\[]?)((?:bearer|basic|digest|token)\s+)?([^\s"'\\,;\[\]]+)`)
})

// schemes are the HTTP auth schemes that stay readable before a placeholder.
var schemes = []string{"bearer", "basic", "digest", "token"}

// rules mask secrets the caller did not name: a value is hidden by where it
// stands, not by what it is. Each rule leaves the Placeholder it wrote alone
// on a second pass, so redacting twice changes nothing.
var rules = sync.OnceValue(func() []rule {
	return []rule{
		// gitcredentials(7): "password=<anything up to the end of the line>",
		// spaces included, so it goes before the key=value rule below.
		{regexp.MustCompile(`(?im)^(\s*password\s*=)[^\r\n]*`), ""},
		// RFC 6750 §2.1: a bearer credential anywhere ("Bearer x").
		{regexp.MustCompile(`(?i)(\bbearer\s+)[^\s"'\\,;\[\]<>]+`), ""},
		// JSON string fields. The value may be cut off (a body truncated in a
		// trace): then everything to the end goes.
		{regexp.MustCompile(`(?i)("(?:` + secretKeys + `)"\s*:\s*")(?:[^"\\]|\\.)*"?`), `"`},
		// The same JSON quoted once more, as %q or a JSON string holding JSON
		// prints it: \"access_token\":\"x\".
		{regexp.MustCompile(`(?i)(\\"(?:` + secretKeys + `)\\"\s*:\s*\\")(?:[^"\\]|\\[^"])*(?:\\")?`), `\"`},
		// Form bodies and query strings: access_token=x&...
		{regexp.MustCompile(`(?i)(\b(?:` + secretKeys + `)=)[^&\s"']+`), ""},
	}
})

// maskAuthorization hides the credentials of every Authorization header or
// field in s and keeps its scheme.
func maskAuthorization(s string) string {
	re := authorization()
	return re.ReplaceAllStringFunc(s, func(match string) string {
		m := re.FindStringSubmatch(match)
		prefix, scheme, value := m[1], m[2], m[3]
		switch {
		case scheme == "" && slices.ContainsFunc(schemes, func(s string) bool { return strings.EqualFold(s, value) }):
			// A scheme with no credentials after it, or with a Placeholder
			// there already: nothing to hide.
			return match
		case strings.HasSuffix(prefix, "[") && "["+value+"]" == Placeholder:
			// Redacted before.
			return match
		}
		return prefix + scheme + Placeholder
	})
}

// String returns s with every occurrence of each non-empty secret replaced by
// Placeholder, and with the values of well-known secret fields masked (see
// rules): the Authorization header, bearer credentials, JSON fields such as
// "access_token", "device_code", "refresh_token", "token" and "Secret", and
// password= lines.
//
// The result never contains any of the secrets, even one that shares
// characters with Placeholder (say "[RED"): should a placeholder and its
// neighbours spell a secret, the secrets are cut out without a placeholder.
func String(s string, secrets ...string) string {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(secret string) bool { return secret == "" })
	out := mask(replace(s, secrets, Placeholder))
	if !containsAny(out, secrets) {
		return out
	}
	out = mask(replace(s, secrets, ""))
	// Each pass removes at least one byte, so this ends.
	for containsAny(out, secrets) {
		out = replace(out, secrets, "")
	}
	return out
}

// mask applies every rule to s.
func mask(s string) string {
	s = maskAuthorization(s)
	for _, r := range rules() {
		s = r.re.ReplaceAllString(s, "${1}"+Placeholder+r.suffix)
	}
	return s
}

// replace puts with in place of every occurrence of the secrets in s.
// Occurrences that overlap or touch ("abcd" and "cdef" in "abcdef") merge
// into one, so no fragment of either survives between two placeholders.
func replace(s string, secrets []string, with string) string {
	type span struct{ start, end int }
	var spans []span
	for _, secret := range secrets {
		for from := 0; from < len(s); {
			i := strings.Index(s[from:], secret)
			if i < 0 {
				break
			}
			spans = append(spans, span{from + i, from + i + len(secret)})
			from += i + 1
		}
	}
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	kept := 0 // s[:kept] is written
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(s[kept:start])
		b.WriteString(with)
		kept = end
	}
	b.WriteString(s[kept:])
	return b.String()
}

func containsAny(s string, secrets []string) bool {
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
}

// Mask shows which token is meant without revealing it, for status lines:
// "rc_…" and the last 4 characters ("rc_…wxyz"). The "rc_" prefix is shown
// only when the token has it. A token shorter than 8 characters would give
// away too much of itself that way, so it shows as "…" alone; an empty
// token as "".
func Mask(token string) string {
	if token == "" {
		return ""
	}
	n := utf8.RuneCountInString(token)
	if n < 8 {
		return "…"
	}
	prefix := ""
	if strings.HasPrefix(token, "rc_") {
		prefix = "rc_"
	}
	tail := token
	for range n - 4 {
		_, size := utf8.DecodeRuneInString(tail)
		tail = tail[size:]
	}
	return prefix + "…" + tail
}

// Error returns an error whose message is err's, passed through String with
// the secrets; errors.Is and errors.As still see err and its chain. It
// returns nil for a nil err.
//
// Only the message is redacted: a caller that digs a wrapped error out with
// errors.As and prints that has to redact it again.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err, msg: String(err.Error(), secrets...)}
}

// redactedError carries the redacted message, computed once so that later
// changes to the secrets slice cannot matter.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap keeps errors.Is and errors.As working through the redaction.
func (e *redactedError) Unwrap() error { return e.err }
