package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeanHelpersLinkNoHTTPClientOrCLIFramework guards SPEC "Binaries": the
// processes that hand out the token cannot send it anywhere, and start
// without the init cost of net/http, urfave/cli, go-keyring's D-Bus client
// or compiled regular expressions (the keyring is reached through
// `runcomfy keyring`, helper.ExecMirror).
func TestLeanHelpersLinkNoHTTPClientOrCLIFramework(t *testing.T) {
	forbidden := []string{
		"net/http", "crypto/tls", "net", "regexp",
		"github.com/urfave/cli/v2",
		"github.com/zalando/go-keyring",
		"github.com/runcomfy/runcomfy/devicecode",
		"github.com/runcomfy/runcomfy/redact",
	}
	for _, pkg := range []string{"../cmd/docker-credential-runcomfy", "../cmd/git-credential-runcomfy"} {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		if !deps["github.com/runcomfy/runcomfy/helper"] {
			t.Fatalf("%s: go list -deps printed no helper package; the guard is broken:\n%s", pkg, out)
		}
		for _, f := range forbidden {
			if deps[f] {
				t.Errorf("%s links %s", pkg, f)
			}
		}
	}
}
