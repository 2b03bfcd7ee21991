package devserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds every request body: the largest legitimate one is a device
// code in JSON or a short form.
const maxBody = 64 << 10

type startResponse struct {
	DeviceCode   string `json:"device_code"`
	UserCode     string `json:"user_code"`
	VerifyURL    string `json:"verify_url"`
	ExpiresIn    int    `json:"expires_in"`
	PollInterval int    `json:"poll_interval"`
}

type pollRequest struct {
	DeviceCode string `json:"device_code"`
}

type pollResponse struct {
	Status      string `json:"status"`
	AccessToken string `json:"access_token,omitempty"`
}

type meResponse struct {
	ID             string `json:"id"`
	Email          string `json:"email"`
	TokenType      string `json:"token_type"`
	TokenCreatedAt string `json:"token_created_at"`
}

type errorResponse struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) {
	// The body, if any, says nothing the dev server needs.
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBody))
	now := s.now()
	s.mu.Lock()
	s.starts++
	s.pruneLocked(now)
	sess := &deviceSession{
		deviceCode: randomText(),
		userCode:   s.uniqueUserCodeLocked(),
		expires:    now.Add(s.expiry),
	}
	s.byDevice[sess.deviceCode] = sess
	s.byUser[sess.userCode] = sess
	s.userCodes = append(s.userCodes, formatUserCode(sess.userCode))
	s.mu.Unlock()

	s.log.Printf("start user_code=%s device_code=%s", formatUserCode(sess.userCode), redact(sess.deviceCode))
	writeJSON(w, http.StatusOK, startResponse{
		DeviceCode: sess.deviceCode,
		UserCode:   formatUserCode(sess.userCode),
		// No code in the URL: the person types it, so a link sent by
		// someone else cannot authorize the sender's terminal.
		VerifyURL:    baseURL(r) + "/cli-auth",
		ExpiresIn:    s.opts.ExpiresIn,
		PollInterval: s.opts.PollInterval,
	})
}

// uniqueUserCodeLocked draws user codes until one is not in use.
func (s *Server) uniqueUserCodeLocked() string {
	for {
		code := newUserCode()
		if s.byUser[code] == nil {
			return code
		}
	}
}

// pruneLocked forgets sessions that expired more than keepExpired ago, so a
// long-running dev server does not grow without end.
func (s *Server) pruneLocked(now time.Time) {
	for code, sess := range s.byDevice {
		if now.Sub(sess.expires) > keepExpired {
			delete(s.byDevice, code)
			delete(s.byUser, sess.userCode)
		}
	}
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) handlePoll(w http.ResponseWriter, r *http.Request) {
	var req pollRequest
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req)
	status, resp := s.poll(req.DeviceCode, err)
	writeJSON(w, status, resp)
}

// poll decides the answer to one poll; decodeErr is the error of reading its
// body, if any.
func (s *Server) poll(deviceCode string, decodeErr error) (int, any) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	switch {
	case decodeErr != nil:
		return http.StatusBadRequest, errorResponse{"body must be JSON: {\"device_code\": \"...\"}"}
	case deviceCode == "":
		return http.StatusBadRequest, errorResponse{"device_code is required"}
	}
	if s.failuresLeft > 0 {
		s.failuresLeft--
		s.log.Printf("poll device_code=%s: forced failure, %d left", redact(deviceCode), s.failuresLeft)
		return http.StatusServiceUnavailable, errorResponse{"temporarily unavailable (forced failure)"}
	}
	sess := s.byDevice[deviceCode]
	if sess == nil {
		return http.StatusNotFound, errorResponse{"unknown device_code"}
	}
	previous := sess.lastPoll
	sess.lastPoll = now

	var status string
	switch {
	case sess.state == stateDenied:
		return http.StatusGone, pollResponse{Status: "denied"}
	case sess.state == stateDelivered || !now.Before(sess.expires):
		// A delivered code is spent: a replayed poll must not get the
		// token again.
		return http.StatusGone, pollResponse{Status: "expired"}
	case sess.state == stateApproved:
		token := s.mintLocked(sess.email, "cli", now)
		sess.state = stateDelivered
		s.log.Printf("authorized user_code=%s email=%s token=%s", formatUserCode(sess.userCode), sess.email, redact(token))
		return http.StatusOK, pollResponse{Status: "authorized", AccessToken: token}
	case s.slowDownsLeft > 0:
		s.slowDownsLeft--
		status = "slow_down"
	case !s.opts.AllowFastPolls && !previous.IsZero() && now.Sub(previous) < s.interval:
		// RFC 8628 §3.5: a client that polls too fast is told slow_down.
		status = "slow_down"
	default:
		status = "pending"
	}
	if s.opts.AutoApprove {
		sess.state = stateApproved
		sess.email = s.opts.Email
		s.log.Printf("auto-approved user_code=%s email=%s", formatUserCode(sess.userCode), sess.email)
	}
	return http.StatusOK, pollResponse{Status: status}
}

// bearer returns the token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// unauthorized answers 401 the same way for a missing, unknown or revoked
// token, so the answer tells nothing about which.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="runcomfy"`)
	writeJSON(w, http.StatusUnauthorized, errorResponse{"missing, invalid or revoked token"})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	token := bearer(r)
	s.mu.Lock()
	rec := s.tokens[token]
	var me meResponse
	if rec != nil && !rec.revoked {
		me = meResponse{
			ID:             userID(rec.email),
			Email:          rec.email,
			TokenType:      rec.kind,
			TokenCreatedAt: rec.created.UTC().Format(time.RFC3339),
		}
	}
	s.mu.Unlock()
	if me.ID == "" {
		unauthorized(w)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.revokeLocked(bearer(r))
	s.mu.Unlock()
	if !ok {
		unauthorized(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// userID derives a stable id from an email, so a demo user keeps its id
// across restarts of the dev server.
func userID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "usr_" + hex.EncodeToString(sum[:8])
}
