package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/runcomfy/runcomfy/devserver"
	"github.com/runcomfy/runcomfy/storage"
)

// tempFile matches the temp files natefinch/atomic leaves beside
// token.json when its writer dies before the rename.
var tempFile = regexp.MustCompile(`^token\.json[0-9]+$`)

// tokenSet is every token some process was asked to store: any answer a
// reader gets must be one of them.
type tokenSet struct {
	mu     sync.Mutex
	tokens map[string]bool
	// extra, when set, names more valid tokens (those a dev server minted).
	extra func() []string
}

func (ts *tokenSet) add(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tokens == nil {
		ts.tokens = map[string]bool{}
	}
	ts.tokens[tok] = true
}

func (ts *tokenSet) has(tok string) bool {
	ts.mu.Lock()
	ok := ts.tokens[tok]
	ts.mu.Unlock()
	if !ok && ts.extra != nil {
		for _, t := range ts.extra() {
			ok = ok || t == tok
		}
	}
	return ok
}

// failures collects what goroutines other than the test's found wrong.
type failures struct {
	mu   sync.Mutex
	msgs []string
}

func (f *failures) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.msgs) < 20 {
		f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
	}
}

func (f *failures) report(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs {
		t.Error(m)
	}
}

// checkTokenFile reads token.json as any reader would and checks that it
// is absent, or whole, 0600 and one of the tokens stored.
func checkTokenFile(path string, valid *tokenSet) (present bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		return true, fmt.Errorf("token.json is %v", fi.Mode())
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // erased between the two calls
	}
	if err != nil {
		return true, err
	}
	tok, err := storage.ParseToken(data)
	if err != nil {
		return true, fmt.Errorf("token.json is not whole: %v: %q", err, data)
	}
	if !valid.has(tok.AccessToken) {
		return true, fmt.Errorf("token.json holds %q, which nobody stored", tok.AccessToken)
	}
	return true, nil
}

// TestStoresKilledAtRandomLeaveTheFileWhole kills `docker-credential-runcomfy
// store` with SIGKILL at random moments while readers ask for the token the
// whole time: every answer is "not found" (only before the first token
// landed) or a token that some store was given, token.json is whole and
// 0600 after every kill, and the next store cleans up the temp files the
// killed ones left.
func TestStoresKilledAtRandomLeaveTheFileWhole(t *testing.T) {
	const maxKills = 200
	deadline := time.Now().Add(15 * time.Second)
	s := newSandbox(t)
	var valid tokenSet
	var fails failures

	// landed is set once a reader has seen a token: from then on, a get
	// that starts later must find one.
	var landed atomic.Int64 // unix nanos; 0 = not yet
	sawToken := func() { landed.CompareAndSwap(0, time.Now().UnixNano()) }
	missAllowed := func(started time.Time) bool {
		l := landed.Load()
		return l == 0 || started.UnixNano() < l
	}

	ctx, stop := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	var gets, fileReads atomic.Int64
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for ctx.Err() == nil {
				started := time.Now()
				rctx, cancel := context.WithTimeout(context.Background(), answerLimit)
				r, err := s.runCtx(rctx, input{data: "https://www.runcomfy.com"}, "docker-credential-runcomfy", "get")
				cancel()
				gets.Add(1)
				var creds struct{ Secret string }
				switch {
				case err != nil:
					fails.add("get: %v", err)
				case r.code == 0 && json.Unmarshal([]byte(r.stdout), &creds) == nil && valid.has(creds.Secret):
					sawToken()
				case r == result{stdout: notFound, code: 1} && missAllowed(started):
				default:
					fails.add("get answered %+v (a token had landed: %v)", r, !missAllowed(started))
				}
			}
		}()
	}
	var tempsSeen atomic.Int64 // the most temp files seen at once
	readers.Add(1)
	go func() {
		defer readers.Done()
		for ctx.Err() == nil {
			started := time.Now()
			present, err := checkTokenFile(s.tokenPath(), &valid)
			if fileReads.Add(1)%16 == 0 {
				if n := countTemps(s.configDir()); n > tempsSeen.Load() {
					tempsSeen.Store(n)
				}
			}
			switch {
			case err != nil:
				fails.add("read: %v", err)
			case present:
				sawToken()
			case !missAllowed(started):
				fails.add("token.json vanished after a token had landed")
			}
		}
	}()

	kills, completed := 0, 0
	for kills < maxKills && time.Now().Before(deadline) {
		tok := fmt.Sprintf("rc_crash_%03d_%08x", kills, rand.Uint32())
		valid.add(tok)
		cmd := exec.Command(bin("docker-credential-runcomfy"), "store")
		cmd.Env = s.environ()
		cmd.Dir = s.home
		cmd.Stdin = strings.NewReader(storeJSON("https://www.runcomfy.com", "crash@example.com", tok))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(5 * time.Millisecond))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			completed++
		}
		kills++
		if _, err := checkTokenFile(s.tokenPath(), &valid); err != nil {
			t.Fatalf("after kill %d: %v", kills, err)
		}
	}
	stop()
	readers.Wait()
	fails.report(t)

	t.Logf("%d stores killed (%d finished first), %d gets and %d file reads meanwhile; temp files: at most %d at once, %d left",
		kills, completed, gets.Load(), fileReads.Load(), tempsSeen.Load(), countTemps(s.configDir()))

	// One more store, allowed to finish: it holds the last word, and it
	// removes what the killed ones left behind — and a temp file planted
	// as a writer killed between its write and its rename leaves one.
	if err := os.MkdirAll(s.configDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.configDir(), "token.json4242424242"), []byte(`{"access_token": "rc_cra`), 0o600); err != nil {
		t.Fatal(err)
	}
	const last = "rc_crash_last_token"
	valid.add(last)
	if r := s.runBounded(input{data: storeJSON("https://www.runcomfy.com", "crash@example.com", last)}, "docker-credential-runcomfy", "store"); r != (result{}) {
		t.Fatalf("store after the kills = %+v", r)
	}
	if r := s.runBounded(input{}, "runcomfy", "token"); r != (result{stdout: last + "\n"}) {
		t.Fatalf("token after the last store = %+v", r)
	}
	assertCleanConfigDir(t, s)
}

// countTemps counts the temp files in dir.
func countTemps(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if tempFile.MatchString(e.Name()) {
			n++
		}
	}
	return n
}

// assertCleanConfigDir checks that the config dir is 0700 and holds
// token.json (0600) and its lock, and no temp file.
func assertCleanConfigDir(t *testing.T, s *sandbox) {
	t.Helper()
	if m := s.mode(s.configDir()); m != 0o700 {
		t.Errorf("config dir mode %04o", m)
	}
	if m := s.mode(s.tokenPath()); m != 0o600 {
		t.Errorf("token.json mode %04o", m)
	}
	entries, err := os.ReadDir(s.configDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case name == "token.json", name == "token.json.lock", name == "login.lock":
		case tempFile.MatchString(name):
			t.Errorf("temp file %s survived the next store", name)
		default:
			t.Errorf("unexpected file %s in the config dir", name)
		}
	}
}

// TestParallelStoresErasesAndLoginsNeverInterleave runs stores, erases,
// logins and logouts through every binary at once, with readers among
// them: each process finishes well within its lock wait, succeeds, and
// each read finds a whole token that someone stored, or none.
func TestParallelStoresErasesAndLoginsNeverInterleave(t *testing.T) {
	s, dev := loginSandbox(t, devserver.Options{AutoApprove: true, AllowFastPolls: true})
	valid := &tokenSet{extra: dev.Tokens}
	var fails failures
	// The whole test has this long: a deadlock shows as processes killed
	// at the deadline, reported as hung.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Each op runs one process; ok says whether its answer is right.
	type op struct {
		name string
		run  func(i int) (result, error)
		ok   func(result) bool
	}
	silent := func(r result) bool { return r == result{} }
	exitsZero := func(r result) bool { return r.code == 0 && r.stdout == "" }
	ops := []op{
		{"docker store", func(i int) (result, error) {
			tok := fmt.Sprintf("rc_stress_docker_%04d", i)
			valid.add(tok)
			return s.runCtx(ctx, input{data: storeJSON("https://www.runcomfy.com", "d@example.com", tok)}, "docker-credential-runcomfy", "store")
		}, silent},
		{"git store", func(i int) (result, error) {
			tok := fmt.Sprintf("rc_stress_git_%04d", i)
			valid.add(tok)
			return s.runCtx(ctx, input{data: "protocol=https\nhost=www.runcomfy.com\nusername=g@example.com\npassword=" + tok + "\n"}, "git-credential-runcomfy", "store")
		}, silent},
		{"runcomfy store", func(i int) (result, error) {
			tok := fmt.Sprintf("rc_stress_cli_%04d", i)
			valid.add(tok)
			return s.runCtx(ctx, input{data: storeJSON("www.runcomfy.com", "c@example.com", tok)}, "runcomfy", "store")
		}, silent},
		{"docker erase", func(int) (result, error) {
			return s.runCtx(ctx, input{data: "https://www.runcomfy.com"}, "docker-credential-runcomfy", "erase")
		}, silent},
		{"git erase", func(i int) (result, error) {
			return s.runCtx(ctx, input{data: fmt.Sprintf("protocol=https\nhost=www.runcomfy.com\npassword=rc_stress_git_%04d\n", i-1)}, "git-credential-runcomfy", "erase")
		}, silent},
		{"logout", func(int) (result, error) {
			return s.runCtx(ctx, input{}, "runcomfy", "logout")
		}, exitsZero},
		{"login --with-token", func(int) (result, error) {
			tok := dev.MintToken("w@example.com")
			return s.runCtx(ctx, input{data: tok + "\n"}, "runcomfy", "login", "--with-token")
		}, exitsZero},
		{"docker get", func(int) (result, error) {
			return s.runCtx(ctx, input{data: "https://www.runcomfy.com"}, "docker-credential-runcomfy", "get")
		}, func(r result) bool {
			var creds struct{ Secret string }
			return r == result{stdout: notFound, code: 1} ||
				r.code == 0 && json.Unmarshal([]byte(r.stdout), &creds) == nil && valid.has(creds.Secret)
		}},
		{"git get", func(int) (result, error) {
			return s.runCtx(ctx, input{data: "protocol=https\nhost=www.runcomfy.com\n"}, "git-credential-runcomfy", "get")
		}, func(r result) bool {
			_, pw, _ := strings.Cut(r.stdout, "\npassword=")
			return r == result{} || r.code == 0 && r.stderr == "" && valid.has(strings.TrimSuffix(pw, "\n"))
		}},
		{"runcomfy token", func(int) (result, error) {
			return s.runCtx(ctx, input{}, "runcomfy", "token")
		}, func(r result) bool {
			return r.code == 77 || r.code == 0 && r.stderr == "" && valid.has(strings.TrimSuffix(r.stdout, "\n"))
		}},
	}

	const workers, rounds = 8, 12
	var wg sync.WaitGroup
	var ran atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				n := w*rounds + i
				o := ops[rand.IntN(len(ops))]
				r, err := o.run(n)
				ran.Add(1)
				switch {
				case err != nil:
					fails.add("%s: %v", o.name, err)
				case !o.ok(r):
					fails.add("%s answered %+v", o.name, r)
				}
				if _, err := checkTokenFile(s.tokenPath(), valid); err != nil {
					fails.add("after %s: %v", o.name, err)
				}
			}
		}()
	}
	// Two device-code logins among them, each sharing nothing but the
	// config dir with the rest.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.runCtx(ctx, input{}, "runcomfy", "login", "--no-browser")
			switch {
			case err != nil:
				fails.add("login: %v", err)
			case r.code != 0 || !strings.Contains(r.stderr, "Logged in as demo@runcomfy.dev."):
				fails.add("login answered %+v", r)
			}
		}()
	}
	wg.Wait()
	fails.report(t)
	t.Logf("%d operations and 2 device-code logins in parallel", ran.Load())
	if _, err := checkTokenFile(s.tokenPath(), valid); err != nil {
		t.Fatal(err)
	}
	if r := s.runBounded(input{data: storeJSON("https://www.runcomfy.com", "d@example.com", "rc_stress_final")}, "docker-credential-runcomfy", "store"); r != (result{}) {
		t.Fatalf("final store = %+v", r)
	}
	assertCleanConfigDir(t, s)
}

// TestLockHeldTooLongIsAClearError holds token.json's lock from outside:
// every writer gives up after its bounded wait with a message that says
// why, and the exit code for a temporary failure where the protocol has
// one; nothing is written.
func TestLockHeldTooLongIsAClearError(t *testing.T) {
	t.Parallel() // it mostly waits: let the others run meanwhile
	s := newSandbox(t)
	s.writeToken(hostileToken, hostileEmail)
	lock := flock.New(filepath.Join(s.configDir(), "token.json.lock"))
	if err := lock.Lock(); err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	before := s.tokenState()

	msg := "timed out waiting for another runcomfy process: " + filepath.Join(s.configDir(), "token.json.lock") + " is locked (waited 10s)"
	tests := []struct {
		name string
		in   string
		args []string
		want result
	}{
		{"docker-credential-runcomfy", storeJSON("https://www.runcomfy.com", "u", "rc_new_token_1"), []string{"store"}, result{stdout: msg + "\n", code: 1}},
		{"git-credential-runcomfy", "protocol=https\nhost=www.runcomfy.com\npassword=rc_new_token_1\n", []string{"store"}, result{stderr: "git-credential-runcomfy: " + msg + "\n", code: 1}},
		// runcomfy's own exit codes say "temporary failure" (75) where
		// the lean helper has only docker's 1.
		{"runcomfy", "https://www.runcomfy.com", []string{"erase"}, result{stdout: msg + "\n", code: 75}},
		{"runcomfy", "", []string{"logout"}, result{stderr: "runcomfy: " + msg + "; try again when it is done\n", code: 75}},
	}
	results := make([]result, len(tests))
	errs := make([]error, len(tests))
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			results[i], errs[i] = s.runCtx(ctx, input{data: tt.in}, tt.name, tt.args...)
		}()
	}
	wg.Wait()
	for i, tt := range tests {
		if errs[i] != nil {
			t.Errorf("%s %v: %v", tt.name, tt.args, errs[i])
		} else if results[i] != tt.want {
			t.Errorf("%s %v =\n %+v\nwant %+v", tt.name, tt.args, results[i], tt.want)
		}
	}
	if after := s.tokenState(); after != before {
		t.Errorf("token.json changed under a lock held by another: %+v", after)
	}
	// Readers never take the lock: a get answers at once meanwhile.
	if r := s.runBounded(input{data: "https://www.runcomfy.com"}, "docker-credential-runcomfy", "get"); r.code != 0 {
		t.Errorf("get while the lock is held = %+v", r)
	}
}
