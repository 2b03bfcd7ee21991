package e2e

import (
	"reflect"
	"testing"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
)

// dockerProgram runs a helper binary the way docker does, through docker's
// own client package, with the sandbox's config dir.
func dockerProgram(t *testing.T, s *sandbox, name string) client.ProgramFunc {
	// NewShellProgramFuncWithEnv keeps only one extra variable, so the
	// sandbox is passed through the test's own environment.
	t.Setenv("RUNCOMFY_CONFIG_DIR", s.configDir())
	t.Setenv("RUNCOMFY_TOKEN", "")
	t.Setenv("RUNCOMFY_WEB_BASE", "")
	t.Setenv("CI", "1")
	return client.NewShellProgramFunc(bin(name))
}

func TestDockerClientRoundTrip(t *testing.T) {
	for _, name := range []string{"docker-credential-runcomfy", "runcomfy"} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t)
			p := dockerProgram(t, s, name)

			_, err := client.Get(p, "https://www.runcomfy.com")
			if !credentials.IsErrCredentialsNotFound(err) {
				t.Fatalf("get before store: %v, want not found", err)
			}
			if list, err := client.List(p); err != nil || len(list) != 0 {
				t.Fatalf("list before store = %v, %v", list, err)
			}
			err = client.Store(p, &credentials.Credentials{ServerURL: "https://www.runcomfy.com", Username: "ada@example.com", Secret: "rc_docker_token_42"})
			if err != nil {
				t.Fatal(err)
			}
			if m := s.mode(s.tokenPath()); m != 0o600 {
				t.Fatalf("token.json mode %04o", m)
			}
			got, err := client.Get(p, "https://www.runcomfy.com")
			want := &credentials.Credentials{ServerURL: "https://www.runcomfy.com", Username: "ada@example.com", Secret: "rc_docker_token_42"}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("get = %+v, %v", got, err)
			}
			if _, err := client.Get(p, "https://runcomfy.com.evil.example"); !credentials.IsErrCredentialsNotFound(err) {
				t.Fatalf("get for a look-alike host: %v, want not found", err)
			}
			list, err := client.List(p)
			if err != nil || !reflect.DeepEqual(list, map[string]string{"https://www.runcomfy.com": "ada@example.com"}) {
				t.Fatalf("list = %v, %v", list, err)
			}
			err = client.Store(p, &credentials.Credentials{ServerURL: "https://evil.example", Username: "u", Secret: "x"})
			if err == nil || err.Error() != "error storing credentials - err: exit status 1, out: `store: \"https://evil.example\" is not a RunComfy server; refusing to store its credentials`" {
				t.Fatalf("store for a foreign host: %v", err)
			}
			if err := client.Erase(p, "https://www.runcomfy.com"); err != nil {
				t.Fatal(err)
			}
			if err := client.Erase(p, "https://www.runcomfy.com"); err != nil {
				t.Fatalf("second erase: %v", err)
			}
			if _, err := client.Get(p, "https://www.runcomfy.com"); !credentials.IsErrCredentialsNotFound(err) {
				t.Fatalf("get after erase: %v", err)
			}
		})
	}
}
