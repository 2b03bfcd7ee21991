package devserver

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// sessionCookie names the cookie of a browser's page session.
const sessionCookie = "rc_dev_session"

// webSessionLifetime bounds how long a page session lives.
const webSessionLifetime = 12 * time.Hour

// A webSession is one browser on the page: anonymous until it signs in. Its
// CSRF token goes into every form and must come back with it, so a form
// posted from another site, which cannot read the page, is refused.
type webSession struct {
	email   string // "" until signed in
	csrf    string
	created time.Time
}

// Messages shown on the page. The result texts are what a person reads after
// the decision, and what browser tests look for.
const (
	msgAuthorized  = "Device authorized — you can return to your terminal"
	msgDenied      = "Request denied"
	msgStale       = "This form has expired or did not come from this page. Reload the page and try again."
	msgSignInFirst = "Sign in first."
	msgBadEmail    = "Enter an email address, like " + DefaultEmail + "."
	msgNoCode      = "Type the code your terminal shows."
	msgUnknownCode = "That code is not valid. Check it against the code in your terminal."
	msgExpiredCode = "That code has expired. Run runcomfy login again for a new one."
	msgUsedCode    = "That code has already been authorized or denied."
	msgBadAction   = "Choose Authorize or Deny."
)

// A view is what one rendering of the page shows.
type view struct {
	Page         string // "signin", "code", "result" or "stale"
	Email        string // the signed-in user
	DefaultEmail string
	CSRF         string
	Error        string
	Result       string
}

// page is the whole /cli-auth page: plain HTML, a little inline CSS, no
// script and nothing loaded from elsewhere. The code box never has a value:
// the code is typed by the person, never filled in from a URL.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RunComfy CLI sign-in (dev server)</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}
label{display:block;margin:1rem 0 .3rem}
input{font:inherit;width:100%;box-sizing:border-box;padding:.5rem}
#code{font-family:ui-monospace,monospace;letter-spacing:.15em;text-transform:uppercase}
button{font:inherit;padding:.5rem 1.2rem;margin:1rem .5rem 0 0}
.dev{background:#fff3cd;padding:.3rem .6rem;font-size:.85rem}
.error{color:#b00020}
.note{color:#555;font-size:.9rem}
</style>
</head>
<body>
<p class="dev">Offline RunComfy dev server — not the real site.</p>
{{- if eq .Page "result"}}
<h1>RunComfy CLI</h1>
<p id="result">{{.Result}}</p>
{{- else if eq .Page "stale"}}
<h1>RunComfy CLI</h1>
<p class="error" id="error" role="alert">{{.Error}}</p>
<p><a href="/cli-auth">Reload</a></p>
{{- else if eq .Page "code"}}
<h1>Authorize a device</h1>
<p>Signed in as <strong id="user">{{.Email}}</strong>.</p>
<p class="note">Type the code your terminal shows. Only enter a code you got from your own terminal just now.</p>
{{- with .Error}}
<p class="error" id="error" role="alert">{{.}}</p>
{{- end}}
<form method="post" action="/cli-auth">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="code">Code</label>
<input id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="ABCD-EFGH" autofocus>
<button id="authorize" type="submit" name="action" value="authorize">Authorize</button>
<button id="deny" type="submit" name="action" value="deny">Deny</button>
</form>
{{- else}}
<h1>Sign in to RunComfy</h1>
{{- with .Error}}
<p class="error" id="error" role="alert">{{.}}</p>
{{- end}}
<form method="post" action="/cli-auth/signin">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="email">Email</label>
<input id="email" name="email" type="email" value="{{.DefaultEmail}}" autocomplete="username">
<button id="signin" type="submit">Sign in</button>
</form>
{{- end}}
</body>
</html>
`))

func (s *Server) render(w http.ResponseWriter, status int, v view) {
	v.DefaultEmail = s.opts.Email
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page needs nothing from anywhere: no script, no frame around it
	// (clickjacking the Authorize button), forms posted only back here.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = page.Execute(w, v)
}

// handlePage shows the sign-in form, or the code form once signed in. The
// query string is ignored on purpose: a ?code= link must not fill the code
// in, or a phisher could send a victim a link to authorize the phisher's
// terminal with one click.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	ws := s.webSessionFor(w, r)
	if ws.email == "" {
		s.render(w, http.StatusOK, view{Page: "signin", CSRF: ws.csrf})
		return
	}
	s.render(w, http.StatusOK, view{Page: "code", Email: ws.email, CSRF: ws.csrf})
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	ws, ok := s.checkForm(r)
	if !ok {
		s.render(w, http.StatusForbidden, view{Page: "stale", Error: msgStale})
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	if !plausibleEmail(email) {
		s.render(w, http.StatusBadRequest, view{Page: "signin", CSRF: ws.csrf, Error: msgBadEmail})
		return
	}
	s.signIn(w, r, email)
	http.Redirect(w, r, "/cli-auth", http.StatusSeeOther)
}

func (s *Server) handleCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	ws, ok := s.checkForm(r)
	switch {
	case !ok:
		s.render(w, http.StatusForbidden, view{Page: "stale", Error: msgStale})
		return
	case ws.email == "":
		s.render(w, http.StatusForbidden, view{Page: "signin", CSRF: ws.csrf, Error: msgSignInFirst})
		return
	}
	retry := func(msg string) {
		s.render(w, http.StatusBadRequest, view{Page: "code", Email: ws.email, CSRF: ws.csrf, Error: msg})
	}
	code := r.PostFormValue("code")
	if normalizeUserCode(code) == "" {
		retry(msgNoCode)
		return
	}
	var err error
	result := msgAuthorized
	switch r.PostFormValue("action") {
	case "authorize":
		err = s.Approve(code, ws.email)
	case "deny":
		err = s.Deny(code)
		result = msgDenied
	default:
		retry(msgBadAction)
		return
	}
	switch {
	case errors.Is(err, ErrUnknownCode):
		retry(msgUnknownCode)
	case errors.Is(err, ErrExpiredCode):
		retry(msgExpiredCode)
	case errors.Is(err, ErrCodeUsed):
		retry(msgUsedCode)
	default:
		s.render(w, http.StatusOK, view{Page: "result", Result: result})
	}
}

// plausibleEmail accepts what a demo sign-in needs: one @ with something on
// both sides, no spaces, a sane length.
func plausibleEmail(email string) bool {
	local, domain, ok := strings.Cut(email, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(email, " \t\r\n") &&
		!strings.Contains(domain, "@") && len(email) <= 254
}

// webSessionFor returns a copy of the browser's page session, starting an
// anonymous one (and setting its cookie) when the browser has none.
func (s *Server) webSessionFor(w http.ResponseWriter, r *http.Request) webSession {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(sessionCookie); err == nil {
		if ws := s.web[c.Value]; ws != nil && now.Sub(ws.created) < webSessionLifetime {
			return *ws
		}
	}
	return s.newWebSessionLocked(w, r, "", now)
}

// signIn starts a signed-in session in place of the anonymous one: a new id,
// so an id planted before sign-in (session fixation) is worth nothing after.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, email string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(sessionCookie); err == nil {
		delete(s.web, c.Value)
	}
	s.newWebSessionLocked(w, r, email, now)
	s.log.Printf("signed in email=%s", email)
}

func (s *Server) newWebSessionLocked(w http.ResponseWriter, r *http.Request, email string, now time.Time) webSession {
	for id, ws := range s.web {
		if now.Sub(ws.created) >= webSessionLifetime {
			delete(s.web, id)
		}
	}
	id := randomText()
	ws := &webSession{email: email, csrf: randomText(), created: now}
	s.web[id] = ws
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	return *ws
}

// checkForm returns the session of a posted form, and whether the form's
// CSRF token is the one bound to that session.
func (s *Server) checkForm(r *http.Request) (webSession, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return webSession{}, false
	}
	sent := r.PostFormValue("csrf")
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.web[c.Value]
	if ws == nil || now.Sub(ws.created) >= webSessionLifetime || sent == "" {
		return webSession{}, false
	}
	return *ws, subtle.ConstantTimeCompare([]byte(sent), []byte(ws.csrf)) == 1
}
