// Command runcomfy-devserver runs an offline RunComfy-compatible web auth
// server, so that `runcomfy login` and everything after it runs on a laptop
// with no network:
//
//	runcomfy-devserver &
//	RUNCOMFY_WEB_BASE=http://127.0.0.1:8787 runcomfy login
//
// It speaks the device-code API and serves the /cli-auth page where a demo
// user signs in and types the code. See package devserver for the knobs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/runcomfy/runcomfy/devserver"
)

// Exit codes, sysexits as in the rest of the project.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 64
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("runcomfy-devserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8787", "listen `address` (host:port; port 0 picks a free one)")
	addrFile := fs.String("addr-file", "", "write the actual listen address to this `file` once listening; removed on shutdown")
	interval := fs.Int("interval", devserver.DefaultPollInterval, "poll_interval handed to clients, in `seconds`")
	expires := fs.Int("expires", devserver.DefaultExpiresIn, "lifetime of a device code, in `seconds`")
	slowDown := fs.Int("slow-down", 0, "answer slow_down to the first `n` polls of pending codes")
	failures := fs.Int("failures", 0, "answer 503 to the first `n` polls")
	autoApprove := fs.Bool("auto-approve", false, "approve every code without a person, after its first poll (tests and demos only)")
	email := fs.String("email", devserver.DefaultEmail, "the demo user's `email`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "runcomfy-devserver: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	case *interval < 1:
		fmt.Fprintln(stderr, "runcomfy-devserver: -interval must be at least 1 second")
		return exitUsage
	case *expires < 1:
		fmt.Fprintln(stderr, "runcomfy-devserver: -expires must be at least 1 second")
		return exitUsage
	case *slowDown < 0 || *failures < 0:
		fmt.Fprintln(stderr, "runcomfy-devserver: -slow-down and -failures cannot be negative")
		return exitUsage
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "runcomfy-devserver: %v\n", err)
		return exitError
	}
	listening := ln.Addr().String()
	base := "http://" + listening

	fmt.Fprintf(stderr, "runcomfy-devserver: listening on %s\n", base)
	fmt.Fprintf(stderr, "  sign-in page: %s/cli-auth (demo user %s)\n", base, *email)
	fmt.Fprintf(stderr, "  use it with:  RUNCOMFY_WEB_BASE=%s runcomfy login\n", base)
	fmt.Fprintf(stderr, "  poll interval %ds, codes expire after %ds\n", *interval, *expires)
	if !isLoopback(listening) {
		fmt.Fprintln(stderr, "WARNING: not a loopback address: the runcomfy CLI sends tokens over plain http to loopback hosts only, and anyone who can reach this port can sign in.")
	}
	if *autoApprove {
		const bar = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		fmt.Fprintf(stderr, "%s\n!! AUTO-APPROVE MODE: every code is approved without a person — for tests and demos only\n%s\n", bar, bar)
	}

	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, listening+"\n"); err != nil {
			fmt.Fprintf(stderr, "runcomfy-devserver: %v\n", err)
			_ = ln.Close()
			return exitError
		}
		defer os.Remove(*addrFile)
	}

	srv := &http.Server{
		Handler: devserver.New(devserver.Options{
			PollInterval: *interval,
			ExpiresIn:    *expires,
			SlowDown:     *slowDown,
			Failures:     *failures,
			AutoApprove:  *autoApprove,
			Email:        *email,
			Log:          stderr,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "runcomfy-devserver: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C kills at once
	fmt.Fprintln(stderr, "runcomfy-devserver: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "runcomfy-devserver: shutdown: %v\n", err)
		return exitError
	}
	return exitOK
}

func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeFileAtomic writes through a temporary file and a rename, so a script
// waiting for the file never reads half an address.
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addr-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}
