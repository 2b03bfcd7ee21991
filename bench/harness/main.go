// Command harness times whole-process credential `get`s for `make bench`.
//
// It runs each program as git and docker do — a new process per request,
// the request on stdin — against the same token in a throwaway home, and
// prints one Markdown table that BENCHMARKS.md quotes as it is:
//
//	harness -bin DIR [-rounds 400] [-warmup 20] [-rss-rounds 20]
//
// DIR holds floor, docker-credential-runcomfy, git-credential-runcomfy and
// runcomfy (scripts/bench.sh builds them). `git credential-store get` and
// `gh auth token` join the table when git and gh are on PATH.
//
// How it keeps a noisy two-core machine honest:
//   - Interleaved rounds: every round runs every program once, in a fresh
//     random order, so a noisy neighbour, a frequency change or the
//     program that ran just before hits them all alike. Medians, not means.
//   - Every program runs from a fresh copy in one directory, written the
//     same way. How a file reached the page cache matters: a binary that
//     `go build` wrote (through mmap) starts measurably slower than a
//     plain copy of it, which is what an install leaves.
//   - A second copy of the floor is timed as a control row: its ratio to
//     the floor is the noise of the run.
//   - Wall and CPU time come from runs started directly. Peak RSS comes
//     from separate runs under GNU time (/usr/bin/time -f %M): the kernel's
//     maxrss of a child started by a Go program (vfork) also counts the
//     parent's own memory, so it cannot be read here.
//   - Before timing, each program must print the token: a fast "not found"
//     must not look like a fast answer.
package main

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The token every program hands out.
const (
	token = "rc_bench0123456789abcdefghijklmnopqrstuvwxyzABCD"
	email = "bench@example.com"
)

// Limits of issue #6 that the verdict lines check.
const (
	maxRatio = 1.10
	maxRSS   = 8 << 10 // KiB
)

// gnuTime measures peak RSS (GNU time; Debian package "time").
const gnuTime = "/usr/bin/time"

// program is one row of the table.
type program struct {
	name  string
	path  string // the staged copy
	args  []string
	stdin string
	in    *os.File // stdin, rewound before each run
	// kind says which verdicts apply.
	kind kind

	wall, cpu []time.Duration
	rss       []int64 // KiB
}

type kind int

const (
	floorRow kind = iota
	controlRow
	leanRow // the helper binaries, held to maxRatio and maxRSS
	cliRow  // runcomfy itself
	peerRow // other programs' credential helpers
)

func main() {
	bin := flag.String("bin", "", "directory holding the binaries built for the bench")
	rounds := flag.Int("rounds", 400, "timed rounds; each runs every program once")
	warmup := flag.Int("warmup", 20, "untimed rounds first")
	rssRounds := flag.Int("rss-rounds", 20, "rounds under GNU time for peak RSS")
	flag.Parse()
	if *bin == "" || *rounds < 1 || *warmup < 0 || *rssRounds < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: harness -bin DIR [-rounds N] [-warmup N] [-rss-rounds N]")
		os.Exit(64)
	}
	if err := run(*bin, *rounds, *warmup, *rssRounds, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func run(bin string, rounds, warmup, rssRounds int, out io.Writer) error {
	work, err := os.MkdirTemp("", "runcomfy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	home := filepath.Join(work, "home")
	if err := writeHome(home); err != nil {
		return err
	}
	progs, err := programs(bin, filepath.Join(work, "bin"))
	if err != nil {
		return err
	}
	env := childEnv(home)
	for _, p := range progs {
		if err := check(p, env); err != nil {
			return err
		}
		if p.in, err = stdinFile(work, p.stdin); err != nil {
			return err
		}
		defer p.in.Close()
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer null.Close()

	fmt.Fprintf(os.Stderr, "harness: %d programs; %d warm-up, %d timed", len(progs), warmup, rounds)
	haveTime := fileExists(gnuTime)
	if haveTime {
		fmt.Fprintf(os.Stderr, " and %d peak-RSS rounds\n", rssRounds)
	} else {
		fmt.Fprintf(os.Stderr, " rounds; no %s, so no peak RSS (apt-get install time)\n", gnuTime)
	}
	for r := range warmup + rounds {
		for _, i := range rand.Perm(len(progs)) {
			p := progs[i]
			wall, cpu, err := timed(p, env, null)
			if err != nil {
				return err
			}
			if r >= warmup {
				p.wall = append(p.wall, wall)
				p.cpu = append(p.cpu, cpu)
			}
		}
	}
	if haveTime {
		for range rssRounds {
			for _, i := range rand.Perm(len(progs)) {
				p := progs[i]
				rss, err := peakRSS(p, env, work, null)
				if err != nil {
					return err
				}
				p.rss = append(p.rss, rss)
			}
		}
	}
	report(out, progs, rounds, rssRounds)
	return nil
}

// writeHome lays out a user's home as the programs read it: token.json in
// the default config dir (~/.config/runcomfy), git's ~/.git-credentials
// and gh's hosts.yml, each holding the same token in a 0600 file.
func writeHome(home string) error {
	files := map[string]string{
		".config/runcomfy/token.json": fmt.Sprintf(
			`{"access_token": %q, "refresh_token": null, "expires_at": null, "user_email": %q}`+"\n", token, email),
		".git-credentials":     "https://runcomfy:" + token + "@www.runcomfy.com\n",
		".config/gh/hosts.yml": "github.com:\n    oauth_token: " + token + "\n    user: bench\n    git_protocol: https\n",
	}
	for name, content := range files {
		path := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// childEnv is the whole environment of every run: a home and a PATH, so
// no RUNCOMFY_TOKEN, XDG_CONFIG_HOME or D-Bus address of the caller
// changes what is measured.
func childEnv(home string) []string {
	return []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"GH_NO_UPDATE_NOTIFIER=1",
	}
}

// programs stages a copy of every program in dir and lists the rows: the
// floor and its control copy, the helpers, the full CLI, and the peers
// found on PATH.
func programs(bin, dir string) ([]*program, error) {
	const dockerReq = "https://www.runcomfy.com\n"
	const gitReq = "protocol=https\nhost=www.runcomfy.com\n\n"
	type row struct {
		name, src, copy string
		args            []string
		stdin           string
		kind            kind
	}
	rows := []row{
		{"floor (bench/floor)", filepath.Join(bin, "floor"), "floor", nil, dockerReq, floorRow},
		{"floor, second copy (control)", filepath.Join(bin, "floor"), "floor-control", nil, dockerReq, controlRow},
		{"docker-credential-runcomfy get", filepath.Join(bin, "docker-credential-runcomfy"), "docker-credential-runcomfy", []string{"get"}, dockerReq, leanRow},
		{"git-credential-runcomfy get", filepath.Join(bin, "git-credential-runcomfy"), "git-credential-runcomfy", []string{"get"}, gitReq, leanRow},
		{"runcomfy get", filepath.Join(bin, "runcomfy"), "runcomfy", []string{"get"}, dockerReq, cliRow},
		{"runcomfy token", filepath.Join(bin, "runcomfy"), "runcomfy", []string{"token"}, "", cliRow},
	}
	if git, err := exec.LookPath("git"); err == nil {
		rows = append(rows, row{"git credential-store get (C)", git, "git", []string{"credential-store", "get"}, gitReq, peerRow})
	}
	if gh, err := exec.LookPath("gh"); err == nil {
		rows = append(rows, row{"gh auth token", gh, "gh", []string{"auth", "token"}, "", peerRow})
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var progs []*program
	for _, r := range rows {
		path := filepath.Join(dir, r.copy)
		if !fileExists(path) {
			if err := stage(r.src, path); err != nil {
				return nil, err
			}
		}
		progs = append(progs, &program{name: r.name, path: path, args: r.args, stdin: r.stdin, kind: r.kind})
	}
	return progs, nil
}

// stage copies the executable src to dst with one plain write, as an
// install does.
func stage(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o755)
}

// check runs p once and fails unless it exits 0 with the token on stdout.
func check(p *program, env []string) error {
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(p.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v\nstdout: %s\nstderr: %s", p.name, err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), token) {
		return fmt.Errorf("%s: the token is not on stdout:\n%s", p.name, stdout.String())
	}
	return nil
}

// timed runs p once and returns its wall and CPU (user+sys) time. stdin
// is a file and stdout /dev/null, so the harness copies nothing while the
// clock runs.
func timed(p *program, env []string, null *os.File) (wall, cpu time.Duration, err error) {
	if _, err := p.in.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.in, null, null
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", p.name, err)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// peakRSS runs p once under GNU time and returns its maxrss in KiB.
func peakRSS(p *program, env []string, dir string, null *os.File) (int64, error) {
	if _, err := p.in.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	report := filepath.Join(dir, "rss")
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", report, p.path}, p.args...)...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.in, null, null
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s under %s: %w", p.name, gnuTime, err)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return 0, err
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: unexpected output of %s: %q", p.name, gnuTime, data)
	}
	return kib, nil
}

// stdinFile returns a file in dir that holds s.
func stdinFile(dir, s string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "stdin-")
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func report(out io.Writer, progs []*program, rounds, rssRounds int) {
	floor := median(progs[0].wall)
	fmt.Fprintf(out, "%s, %d CPUs, %s, %s; %s\n\n", cpuModel(), runtime.NumCPU(), kernel(), runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(out, "%d interleaved rounds in random order; wall and CPU (user+sys) are medians.\n", rounds)
	if len(progs[0].rss) > 0 {
		fmt.Fprintf(out, "Peak RSS: median (max) of %d runs under GNU time.\n\n", rssRounds)
	} else {
		fmt.Fprintf(out, "Peak RSS: not measured (no %s).\n\n", gnuTime)
	}
	fmt.Fprintln(out, "| program | wall median | wall min–max | × floor | CPU median | peak RSS |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|")
	for _, p := range progs {
		fmt.Fprintf(out, "| %s | %s | %s–%s | %.2f× | %s | %s |\n",
			p.name, ms(median(p.wall)), ms(slices.Min(p.wall)), ms(slices.Max(p.wall)),
			ratio(median(p.wall), floor), ms(median(p.cpu)), rssCell(p.rss))
	}
	fmt.Fprintln(out)
	for _, p := range progs {
		if p.kind != leanRow {
			continue
		}
		r := ratio(median(p.wall), floor)
		fmt.Fprintf(out, "%s %s: %.2f× the floor (limit %.2f×)\n", verdict(r <= maxRatio), p.name, r, maxRatio)
		if len(p.rss) > 0 {
			rss := slices.Max(p.rss)
			fmt.Fprintf(out, "%s %s: peak RSS %s (limit %s)\n", verdict(rss <= maxRSS), p.name, mib(rss), mib(maxRSS))
		}
		for _, q := range progs {
			if q.kind == peerRow && !strings.HasPrefix(q.name, "git ") {
				fmt.Fprintf(out, "%s %s: faster than %s\n", verdict(median(p.wall) < median(q.wall)), p.name, q.name)
			}
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return "ok  "
	}
	return "FAIL"
}

func rssCell(rss []int64) string {
	if len(rss) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s (%s)", mib(median(rss)), mib(slices.Max(rss)))
}

func median[T cmp.Ordered](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(d, floor time.Duration) float64 {
	return float64(d) / float64(floor)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func mib(kib int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return runtime.GOOS + " " + strings.TrimSpace(string(release))
}
