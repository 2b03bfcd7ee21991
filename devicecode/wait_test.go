package devicecode

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"
)

const (
	pending    = `{"status":"pending"}`
	slowDown   = `{"status":"slow_down"}`
	authorized = `{"status":"authorized","access_token":"` + testToken + `"}`
	denied     = `{"status":"denied"}`
	expired    = `{"status":"expired"}`
)

// secs turns whole seconds into the waits a test expects.
func secs(n ...int) []time.Duration {
	d := make([]time.Duration, len(n))
	for i, s := range n {
		d[i] = time.Duration(s) * time.Second
	}
	return d
}

// repeat returns n copies of d.
func repeat(d time.Duration, n int) []time.Duration {
	return slices.Repeat([]time.Duration{d}, n)
}

func unavailable(code int) reply {
	return reply{code: code, body: `{"error":"try later"}`}
}

func tooMany(retryAfter string) reply {
	return reply{code: http.StatusTooManyRequests, header: http.Header{"Retry-After": {retryAfter}}}
}

// errNet is a network error whose text repeats the device code, as a
// careless proxy's might: Wait must redact it.
var errNet = fmt.Errorf("read tcp 127.0.0.1:5555: %w (sent %s)", syscall.ECONNRESET, testDeviceCode)

func TestWait(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn time.Duration // 10 minutes when 0
		replies   []reply
		rest      *reply
		wantToken string
		wantErr   func(error) bool
		wantWaits []time.Duration
		// pastDeadline: the last wait ran into the deadline, so no poll
		// followed it.
		pastDeadline bool
	}{
		{
			name:      "authorized after pending",
			replies:   []reply{ok(pending), ok(pending), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 2, 2),
		},
		{
			name:      "slow_down adds 5 s to every later poll",
			replies:   []reply{ok(slowDown), ok(slowDown), ok(pending), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 7, 12, 12),
		},
		{
			name:      "denied stops",
			replies:   []reply{ok(pending), gone(denied)},
			wantErr:   is(ErrDenied),
			wantWaits: secs(2, 2),
		},
		{
			name:      "expired by the server stops",
			replies:   []reply{gone(expired)},
			wantErr:   is(ErrExpired),
			wantWaits: secs(2),
		},
		{
			name:      "denied with 200 stops too",
			replies:   []reply{ok(denied)},
			wantErr:   is(ErrDenied),
			wantWaits: secs(2),
		},
		{
			name:      "5xx burst is retried with backoff",
			replies:   []reply{unavailable(503), unavailable(500), unavailable(502), ok(pending), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 4, 8, 16, 2),
		},
		{
			name:      "backoff stops growing at 30 s",
			replies:   []reply{unavailable(503), unavailable(503), unavailable(503), unavailable(503), unavailable(503), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 4, 8, 16, 30, 30),
		},
		{
			name:      "backoff starts from the slowed-down interval",
			replies:   []reply{ok(slowDown), unavailable(503), ok(pending), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 7, 14, 7),
		},
		{
			name:      "429 waits for Retry-After",
			replies:   []reply{tooMany("20"), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 20),
		},
		{
			name:      "429 with a short Retry-After still backs off",
			replies:   []reply{tooMany("1"), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 4),
		},
		{
			name:      "429 with an HTTP-date Retry-After",
			replies:   []reply{tooMany(epoch.Add(2*time.Second + time.Minute).Format(http.TimeFormat)), ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 60),
		},
		{
			name:      "network errors are retried",
			replies:   []reply{{err: errNet}, {err: errNet}, ok(authorized)},
			wantToken: testToken,
			wantWaits: secs(2, 4, 8),
		},
		{
			name:      "malformed JSON stops",
			replies:   []reply{ok(`{"status":`)},
			wantErr:   is(ErrMalformed),
			wantWaits: secs(2),
		},
		{
			name:      "an answer that is not an object stops",
			replies:   []reply{ok(`<html>oops</html>`)},
			wantErr:   is(ErrMalformed),
			wantWaits: secs(2),
		},
		{
			name:      "unknown status stops",
			replies:   []reply{ok(`{"status":"thinking"}`)},
			wantErr:   is(ErrMalformed),
			wantWaits: secs(2),
		},
		{
			name:      "authorized without a token stops",
			replies:   []reply{ok(`{"status":"authorized"}`)},
			wantErr:   is(ErrMalformed),
			wantWaits: secs(2),
		},
		{
			name:      "authorized with a token that holds a newline stops",
			replies:   []reply{ok(`{"status":"authorized","access_token":"rc_a\npassword=x"}`)},
			wantErr:   is(ErrMalformed),
			wantWaits: secs(2),
		},
		{
			name:      "410 that is neither denied nor expired stops",
			replies:   []reply{gone(pending)},
			wantErr:   is(ErrMalformed),
			wantWaits: secs(2),
		},
		{
			name:      "404 stops with its status",
			replies:   []reply{{code: 404, body: `{"error":"unknown device_code ` + testDeviceCode + `"}`}},
			wantErr:   status(404),
			wantWaits: secs(2),
		},
		{
			name:         "a 10-minute code expires without polling past its end",
			rest:         &reply{code: 200, body: pending},
			wantErr:      is(ErrExpired),
			wantWaits:    repeat(2*time.Second, 300),
			pastDeadline: true,
		},
		{
			name:      "a code expires while the server keeps failing",
			expiresIn: time.Minute,
			rest:      &reply{code: 503},
			wantErr:   is(ErrExpired),
			// 2+4+8+16 = 30 s, then the 30 s cap would reach the end.
			wantWaits:    secs(2, 4, 8, 16, 30),
			pastDeadline: true,
		},
		{
			name:         "a code expires during network errors",
			expiresIn:    10 * time.Second,
			rest:         &reply{err: errNet},
			wantErr:      is(ErrExpired),
			wantWaits:    secs(2, 4, 4),
			pastDeadline: true,
		},
		{
			name:         "a Retry-After past the end expires the code",
			expiresIn:    time.Minute,
			replies:      []reply{tooMany("3600")},
			wantErr:      is(ErrExpired),
			wantWaits:    secs(2, 58),
			pastDeadline: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s := &script{replies: tt.replies, rest: tt.rest}
			c := newTestClient(t, s, clock)
			var progress []time.Duration
			c.Progress = func(left time.Duration) { progress = append(progress, left) }
			expiresIn := cmp(tt.expiresIn, 10*time.Minute)
			session := &Session{Interval: 2 * time.Second, ExpiresIn: expiresIn, deviceCode: testDeviceCode, issued: clock.Now()}

			token, err := c.Wait(context.Background(), session)

			if token != tt.wantToken {
				t.Errorf("token = %q, want %q", token, tt.wantToken)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.wantErr != nil && !tt.wantErr(err):
				t.Errorf("err = %v (%T), not the error wanted", err, err)
			}
			if err != nil {
				assertNoSecret(t, "error", err.Error())
			}
			if !slices.Equal(clock.waits, tt.wantWaits) {
				t.Errorf("waits = %v\n want %v", clock.waits, tt.wantWaits)
			}
			polls := len(tt.wantWaits)
			if tt.pastDeadline {
				polls--
			}
			assertPolls(t, s.seen, polls)
			// Progress is told the time left before each wait.
			left := expiresIn
			for i, w := range clock.waits {
				if i < len(progress) && progress[i] != left {
					t.Errorf("progress[%d] = %v, want %v", i, progress[i], left)
				}
				left -= w
			}
			if len(progress) != len(clock.waits) {
				t.Errorf("progress called %d times, want %d", len(progress), len(clock.waits))
			}
		})
	}
}

// assertPolls checks that seen is exactly n polls for testDeviceCode.
func assertPolls(t *testing.T, seen []request, n int) {
	t.Helper()
	want := request{Method: "POST", Path: "/api/cli-auth/poll", Body: `{"device_code":"` + testDeviceCode + `"}`, ContentType: "application/json"}
	if len(seen) != n {
		t.Errorf("%d requests, want %d", len(seen), n)
	}
	for i, r := range seen {
		if r != want {
			t.Errorf("request %d = %+v, want %+v", i+1, r, want)
		}
	}
}

func cmp(d, fallback time.Duration) time.Duration {
	if d == 0 {
		return fallback
	}
	return d
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func status(code int) func(error) bool {
	return func(err error) bool {
		var se *StatusError
		return errors.As(err, &se) && se.StatusCode == code
	}
}

func TestWaitExpiredAfterFailuresSaysWhy(t *testing.T) {
	clock := newFakeClock()
	s := &script{rest: &reply{code: 503, body: `{"error":"maintenance"}`}}
	c := newTestClient(t, s, clock)
	_, err := c.Wait(context.Background(), &Session{Interval: 2 * time.Second, ExpiresIn: 5 * time.Second, deviceCode: testDeviceCode, issued: clock.Now()})
	want := "devicecode: the sign-in code expired; the last poll failed: devicecode: poll: the server answered 503 Service Unavailable: maintenance"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	var se *StatusError
	if errors.As(err, &se) {
		t.Error("an expired code also matches *StatusError: the CLI could not pick one exit code")
	}
}

func TestWaitCanceled(t *testing.T) {
	tests := []struct {
		name    string
		replies []reply
		// The context is canceled before the answer to request cancelAt,
		// or before wait cancelBeforeWait (both counted from 1).
		cancelAt, cancelBeforeWait int
		wantPolls                  int
		wantWaits                  []time.Duration
	}{
		{"during a wait", []reply{ok(pending)}, 0, 2, 1, secs(2)},
		{"during a request", []reply{ok(pending)}, 1, 0, 1, secs(2)},
		{"during a request that fails", []reply{{err: errNet}}, 1, 0, 1, secs(2)},
		{"during a retry", []reply{unavailable(503), unavailable(503)}, 2, 0, 2, secs(2, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := &script{replies: tt.replies, before: func(n int) {
				if n == tt.cancelAt {
					cancel()
				}
			}}
			c := newTestClient(t, s, clock)
			waits := 0
			c.Progress = func(time.Duration) {
				if waits++; waits == tt.cancelBeforeWait {
					cancel()
				}
			}
			_, err := c.Wait(ctx, &Session{Interval: 2 * time.Second, ExpiresIn: 10 * time.Minute, deviceCode: testDeviceCode, issued: clock.Now()})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			assertPolls(t, s.seen, tt.wantPolls)
			if !slices.Equal(clock.waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", clock.waits, tt.wantWaits)
			}
		})
	}
}

func TestWaitCanceledBeforeStartPollsNothing(t *testing.T) {
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &script{}
	c := newTestClient(t, s, clock)
	_, err := c.Wait(ctx, &Session{Interval: 2 * time.Second, ExpiresIn: time.Minute, deviceCode: testDeviceCode, issued: clock.Now()})
	if !errors.Is(err, context.Canceled) || len(s.seen) != 0 {
		t.Errorf("err = %v after %d requests, want context.Canceled after none", err, len(s.seen))
	}
}

func TestRealSleepReturnsAtOnceOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("sleep took %v after cancel", d)
	}
	if err := sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleep = %v", err)
	}
}
