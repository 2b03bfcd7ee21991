package devicecode

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// connectTimeout bounds the TCP connect and the TLS handshake.
	connectTimeout = 10 * time.Second
	// requestTimeout bounds one request from dial to the last body byte.
	requestTimeout = 30 * time.Second
	// maxRedirects is net/http's own limit, kept.
	maxRedirects = 10
)

// HTTPOptions configures NewHTTPClient.
type HTTPOptions struct {
	// Version goes into the User-Agent, "runcomfy/<Version>" ("dev" when
	// empty).
	Version string
	// Trace, when not nil and TraceLevel > 0, receives an HTTP trace:
	// stderr for -v and -vv.
	Trace io.Writer
	// TraceLevel 1 writes "METHOD URL STATUS DURATION" per request; 2 adds
	// the request's and the response's headers and bodies. Secrets are
	// redacted at every level.
	TraceLevel int
	// Transport sends the requests; nil means one with a 10 s connect and
	// TLS handshake timeout that honours the proxy environment. Tests put
	// a fake here.
	Transport http.RoundTripper
}

// NewHTTPClient returns the *http.Client for Client: every request sends
// "User-Agent: runcomfy/<version>" and takes at most 30 s, and a request
// that carries an Authorization header or a body follows no redirect to
// another host or port, nor from https to http (ErrRedirectRefused).
func NewHTTPClient(o HTTPOptions) *http.Client {
	rt := o.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          10,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   connectTimeout,
			ExpectContinueTimeout: time.Second,
		}
	}
	if o.Trace != nil && o.TraceLevel > 0 {
		rt = &tracer{next: rt, w: o.Trace, level: o.TraceLevel, now: time.Now}
	}
	version := o.Version
	if version == "" {
		version = "dev"
	}
	// Outside the tracer, so that -vv shows the User-Agent sent.
	rt = userAgent{next: rt, value: "runcomfy/" + version}
	return &http.Client{Transport: rt, CheckRedirect: checkRedirect, Timeout: requestTimeout}
}

// userAgent sets the User-Agent of every request, redirects included.
type userAgent struct {
	next  http.RoundTripper
	value string
}

func (u userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the caller's request.
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", u.value)
	return u.next.RoundTrip(req)
}

// checkRedirect refuses every redirect of a request that carries an
// Authorization header or a body to another host or port, or from https to
// http. net/http's own rule is too loose for a bearer token: it keeps the
// header on a redirect to a subdomain and on an https→http downgrade of
// the same host (SPEC, "Output, logs, exit codes"). A body is the start
// and poll requests: a 307 would resend the device code with it — whoever
// holds that code receives the token once the person authorizes — and
// after a 302 the other host's answer would decide whose token is saved.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("devicecode: stopped after 10 redirects")
	}
	first := via[0]
	hasBody := first.Body != nil && first.Body != http.NoBody
	if first.Header.Get("Authorization") == "" && !hasBody {
		return nil
	}
	downgrade := first.URL.Scheme == "https" && req.URL.Scheme != "https"
	if downgrade || !sameHost(first.URL, req.URL) {
		return ErrRedirectRefused
	}
	return nil
}

// sameHost reports whether a and b name the same host and port, the port
// defaulting by scheme.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}
