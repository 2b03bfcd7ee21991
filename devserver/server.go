// Package devserver is an offline stand-in for RunComfy's web auth API and
// its /cli-auth page, so that the device-code login runs on a laptop with no
// network, and so that tests run it end to end.
//
// A Server answers:
//
//	POST /api/cli-auth/start  begin a device session
//	POST /api/cli-auth/poll   ask whether a person authorized it
//	GET  /api/auth/me         who owns a bearer token
//	POST /api/dev/revoke      revoke a bearer token (dev server only)
//	GET  /cli-auth            the page where a person signs in and types the code
//
// Tests drive it with the methods on Server (Approve, Deny, Revoke, …) or
// through the page; the knobs in Options make it slow, flaky or expire.
package devserver

import (
	"errors"
	"io"
	"log"
	"net/http"
	"sync"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultPollInterval = 2   // seconds, as RunComfy hands out today
	DefaultExpiresIn    = 600 // seconds
	DefaultEmail        = "demo@runcomfy.dev"
)

// Errors of Approve and Deny, also shown on the page in plain words.
var (
	ErrUnknownCode = errors.New("devserver: unknown user code")
	ErrExpiredCode = errors.New("devserver: user code expired")
	ErrCodeUsed    = errors.New("devserver: user code already authorized or denied")
)

// Options are the knobs of a Server. The zero value is a well-behaved server.
type Options struct {
	// PollInterval is the poll_interval handed out, in seconds; 0 means
	// DefaultPollInterval.
	PollInterval int
	// ExpiresIn is the lifetime of a device code, in seconds; 0 means
	// DefaultExpiresIn.
	ExpiresIn int
	// SlowDown forces that many slow_down answers: the first SlowDown polls
	// of pending sessions are answered slow_down, counted server-wide.
	SlowDown int
	// Failures makes the first Failures polls answer 503, counted
	// server-wide, before any session is looked at.
	Failures int
	// AllowFastPolls turns off the slow_down answer to a poll that comes
	// sooner than PollInterval after the previous poll of the same session:
	// for clients under test that sleep on a fake clock the server does not
	// share.
	AllowFastPolls bool
	// AutoApprove approves every session as Email right after its first
	// answered poll, with nobody at the page. For tests and demos only.
	AutoApprove bool
	// Email is the demo user: prefilled on the sign-in form, and the user
	// AutoApprove approves as; "" means DefaultEmail.
	Email string
	// Now is the clock for expiry and poll spacing; nil means time.Now.
	Now func() time.Time
	// Log receives one line per request and per event; nil discards them.
	// Tokens and device codes are masked.
	Log io.Writer
}

// Server is the dev server. It is an http.Handler, safe for concurrent use.
type Server struct {
	opts     Options
	interval time.Duration
	expiry   time.Duration
	mux      *http.ServeMux
	log      *log.Logger

	mu            sync.Mutex
	byDevice      map[string]*deviceSession // key: device code
	byUser        map[string]*deviceSession // key: normalized user code
	userCodes     []string                  // every user code handed out, formatted, in order
	tokens        map[string]*tokenRecord
	tokenOrder    []string
	web           map[string]*webSession // key: session cookie value
	starts, polls int
	failuresLeft  int
	slowDownsLeft int
}

type deviceState int

const (
	statePending deviceState = iota
	stateApproved
	stateDenied
	stateDelivered // the token went out once; the code is spent
)

type deviceSession struct {
	deviceCode string
	userCode   string // normalized: upper case, no dash
	expires    time.Time
	lastPoll   time.Time // zero until the first poll
	state      deviceState
	email      string // who approved it
}

type tokenRecord struct {
	email   string
	kind    string // token_type: "cli" from a login, "api" from MintToken
	created time.Time
	revoked bool
}

// keepExpired is how long a session stays known after it expired, so that
// a late poll hears "expired" and not "unknown".
const keepExpired = time.Hour

// New returns a Server with the given knobs; zero fields take the defaults.
func New(opts Options) *Server {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.ExpiresIn <= 0 {
		opts.ExpiresIn = DefaultExpiresIn
	}
	if opts.Email == "" {
		opts.Email = DefaultEmail
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	s := &Server{
		opts:          opts,
		interval:      time.Duration(opts.PollInterval) * time.Second,
		expiry:        time.Duration(opts.ExpiresIn) * time.Second,
		mux:           http.NewServeMux(),
		log:           log.New(logOut, "devserver: ", log.LstdFlags),
		byDevice:      make(map[string]*deviceSession),
		byUser:        make(map[string]*deviceSession),
		tokens:        make(map[string]*tokenRecord),
		web:           make(map[string]*webSession),
		failuresLeft:  opts.Failures,
		slowDownsLeft: opts.SlowDown,
	}
	s.mux.HandleFunc("POST /api/cli-auth/start", s.handleStart)
	s.mux.HandleFunc("POST /api/cli-auth/poll", s.handlePoll)
	s.mux.HandleFunc("GET /api/auth/me", s.handleMe)
	s.mux.HandleFunc("POST /api/dev/revoke", s.handleRevoke)
	s.mux.HandleFunc("GET /cli-auth", s.handlePage)
	s.mux.HandleFunc("POST /cli-auth", s.handleCode)
	s.mux.HandleFunc("POST /cli-auth/signin", s.handleSignIn)
	return s
}

// ServeHTTP serves the API and the page, and logs one line per request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	// Every answer is about one moment of one session: nothing may cache it
	// (RFC 6749 §5.1 asks this of token responses in particular).
	rec.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(rec, r)
	// The path only: a query string is the client's to fill and may carry
	// anything.
	s.log.Printf("%s %s %d %s", r.Method, r.URL.Path, rec.status, time.Since(began).Round(time.Microsecond))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) now() time.Time { return s.opts.Now() }

// Approve authorizes the device session of userCode for the user email, as a
// person on the page does. The code is matched case-insensitively, dash
// optional. The next poll of the session gets a fresh token.
func (s *Server) Approve(userCode, email string) error {
	return s.decide(userCode, email, stateApproved)
}

// Deny refuses the device session of userCode, as a person on the page does.
func (s *Server) Deny(userCode string) error {
	return s.decide(userCode, "", stateDenied)
}

func (s *Server) decide(userCode, email string, to deviceState) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byUser[normalizeUserCode(userCode)]
	switch {
	case sess == nil:
		return ErrUnknownCode
	case !now.Before(sess.expires):
		return ErrExpiredCode
	case sess.state != statePending:
		return ErrCodeUsed
	}
	sess.state = to
	sess.email = email
	if to == stateApproved {
		s.log.Printf("approved user_code=%s email=%s", formatUserCode(sess.userCode), email)
	} else {
		s.log.Printf("denied user_code=%s", formatUserCode(sess.userCode))
	}
	return nil
}

// Revoke makes token invalid: /api/auth/me answers 401 for it from now on.
// An unknown token is ignored.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(token)
}

func (s *Server) revokeLocked(token string) bool {
	rec := s.tokens[token]
	if rec == nil || rec.revoked {
		return false
	}
	rec.revoked = true
	s.log.Printf("revoked token=%s", redact(token))
	return true
}

// MintToken makes a token for email with token_type "api", standing in for
// one a user creates on the Profile page (for `login --with-token` tests).
func (s *Server) MintToken(email string) string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintLocked(email, "api", now)
}

func (s *Server) mintLocked(email, kind string, now time.Time) string {
	token := newToken()
	s.tokens[token] = &tokenRecord{email: email, kind: kind, created: now}
	s.tokenOrder = append(s.tokenOrder, token)
	return token
}

// Starts reports how many device sessions have been started.
func (s *Server) Starts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

// Polls reports how many poll requests have come in, answered or not.
func (s *Server) Polls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// Tokens returns every token minted so far, revoked ones included, oldest
// first.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokenOrder...)
}

// UserCodes returns every user code handed out so far, as ABCD-EFGH, oldest
// first: a test that cannot read the terminal approves the last one.
func (s *Server) UserCodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.userCodes...)
}
