package main

import (
	"bytes"
	"errors"
	"testing"
)

// TestPanicIsOneLineWithoutItsValue: a panic in a command ends runcomfy
// with EX_SOFTWARE and one line that names the panic's kind, never its
// value (it may hold the token), and no stack.
func TestPanicIsOneLineWithoutItsValue(t *testing.T) {
	const secret = "rc_panic_secret_0123456789"
	index := 3
	tests := []struct {
		name  string
		panic func()
		want  string
	}{
		{"string", func() { panic("bad token " + secret) }, "runcomfy: internal error: a panic with a string\n"},
		{"error", func() { panic(errors.New(secret)) }, "runcomfy: internal error: a panic with a *errors.errorString\n"},
		{"runtime error", func() { _ = []string{secret}[index] }, "runcomfy: internal error: runtime error: index out of range [3] with length 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := func() (code int) {
				defer recoverPanic(&stderr, &code)
				tt.panic()
				return exitOK
			}()
			if code != exitSoftware {
				t.Errorf("exit code = %d, want %d", code, exitSoftware)
			}
			if stderr.String() != tt.want {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestNoPanicKeepsTheExitCode(t *testing.T) {
	var stderr bytes.Buffer
	code := func() (code int) {
		defer recoverPanic(&stderr, &code)
		return exitNoPerm
	}()
	if code != exitNoPerm || stderr.Len() != 0 {
		t.Fatalf("exit code = %d, stderr %q; want %d and nothing", code, stderr.String(), exitNoPerm)
	}
}
