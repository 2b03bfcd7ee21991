package helper

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recovered runs f and returns the value it panicked with.
func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// TestPanicKindNeverQuotesTheValue: a panic's value may hold the secret
// it choked on; PanicKind says a runtime error's text and of anything
// else only the type.
func TestPanicKindNeverQuotesTheValue(t *testing.T) {
	const secret = "rc_panic_secret_0123456789"
	index := 5
	var m map[string]string
	var p *Helper
	tests := []struct {
		name  string
		panic func()
		want  string
	}{
		{"string", func() { panic(secret) }, "a panic with a string"},
		{"error", func() { panic(errors.New("token " + secret)) }, "a panic with a *errors.errorString"},
		{"wrapped error", func() { panic(fmt.Errorf("save %s: %w", secret, errors.ErrUnsupported)) }, "a panic with a *fmt.wrapError"},
		{"struct", func() { panic(Error{Code: 1, Msg: secret}) }, "a panic with a helper.Error"},
		{"index out of range", func() { _ = []string{secret}[index] }, "runtime error: index out of range [5] with length 1"},
		{"nil map", func() { m[secret] = secret }, "assignment to entry in nil map"},
		{"type assertion", func() { var v any = secret; _ = v.(int) }, "interface conversion: interface {} is string, not int"},
		{"nil pointer", func() { _ = p.Name }, "runtime error: invalid memory address or nil pointer dereference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PanicKind(recovered(tt.panic))
			if got != tt.want {
				t.Errorf("PanicKind = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, secret) {
				t.Errorf("PanicKind quotes the panic's value: %q", got)
			}
		})
	}
}
