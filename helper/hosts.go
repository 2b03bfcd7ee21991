package helper

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// EnvWebBase names the variable that points runcomfy at another RunComfy
// web base, such as the offline dev server. Its host may receive the token.
const EnvWebBase = "RUNCOMFY_WEB_BASE"

// DefaultServerURL is the server a token is listed under.
const DefaultServerURL = "https://www.runcomfy.com"

// runcomfyDomains and their subdomains are RunComfy's hosts.
var runcomfyDomains = []string{"runcomfy.com", "runcomfy.net"}

// Hosts decides who may receive the token: RunComfy's domains and their
// subdomains over https, and the host of the configured web base (over
// plain http only when it is loopback). Everything else is a miss.
type Hosts struct {
	// webScheme and webHost are the web base's, lowercased; empty when
	// no usable web base is set.
	webScheme, webHost string
}

// NewHosts returns the allowlist for a web base (RUNCOMFY_WEB_BASE; may be
// empty). A web base that is not https, or http on loopback, adds nothing.
func NewHosts(webBase string) Hosts {
	if webBase == "" {
		return Hosts{}
	}
	u, err := url.Parse(webBase)
	if err != nil || u.User != nil || u.Host == "" {
		return Hosts{}
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if !validHostPort(host) {
		return Hosts{}
	}
	switch {
	case scheme == "https":
	case scheme == "http" && isLoopback(hostname(host)):
	default:
		return Hosts{}
	}
	return Hosts{webScheme: scheme, webHost: host}
}

// AllowURL reports whether the token may go to a server named the way
// docker names it: a URL, or a bare host[:port] that means https.
func (h Hosts) AllowURL(server string) bool {
	if !cleanASCII(server) {
		return false
	}
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.User != nil || u.Opaque != "" {
		return false
	}
	return h.Allow(u.Scheme, u.Host)
}

// Allow reports whether the token may go to host (host[:port]) over
// scheme, the way git names them.
func (h Hosts) Allow(scheme, host string) bool {
	if !cleanASCII(scheme) || !cleanASCII(host) || !validHostPort(host) {
		return false
	}
	scheme = strings.ToLower(scheme)
	host = strings.ToLower(host)
	if h.webHost != "" && scheme == h.webScheme && host == h.webHost {
		return true
	}
	if scheme != "https" {
		return false
	}
	name := hostname(host)
	for _, d := range runcomfyDomains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// cleanASCII reports whether s is printable ASCII without spaces: no NUL,
// no newline, no look-alike Unicode. A name that needs any of them is not
// one of ours.
func cleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return s != ""
}

// validHostPort accepts a DNS name of letter-digit-hyphen labels, or an IP
// literal, with an optional numeric port. A trailing dot, an empty label
// or a percent-encoded byte makes it invalid: no exotic spelling of a host
// gets the token.
func validHostPort(host string) bool {
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		end := strings.Index(host, "]")
		if end < 0 {
			return false
		}
		name, port = host[1:end], strings.TrimPrefix(host[end+1:], ":")
		if host[end+1:] != "" && !strings.HasPrefix(host[end+1:], ":") {
			return false
		}
		if ip, err := netip.ParseAddr(name); err != nil || !ip.Is6() || ip.Zone() != "" {
			return false
		}
		return validPort(port, host[end+1:] != "")
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i+1:]
		if !validPort(port, true) {
			return false
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return !strings.Contains(name, "%") // no zones
	}
	if len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func validPort(port string, present bool) bool {
	if !present {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536 && strconv.Itoa(n) == port
}

// hostname strips the port (and IPv6 brackets) from a valid host[:port].
func hostname(host string) string {
	if strings.HasPrefix(host, "[") {
		return host[1:strings.Index(host, "]")]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		return host[:i]
	}
	return host
}

func isLoopback(name string) bool {
	if name == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(name)
	return err == nil && ip.IsLoopback()
}
