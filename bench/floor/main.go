// Command floor is the yardstick of `make bench`: the least a Go program
// must do to answer docker's `get` from token.json. It finds the config
// dir by the same rules as the helpers (SPEC "Token sources"), reads
// token.json, and prints one docker JSON answer for the server URL on
// stdin. It checks no host, takes no lock and handles no error beyond
// exiting 1: nothing a real helper could leave out is left in.
package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := os.Getenv("RUNCOMFY_CONFIG_DIR")
	if dir == "" {
		if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
			dir = filepath.Join(x, "runcomfy")
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				os.Exit(1)
			}
			dir = filepath.Join(home, ".config", "runcomfy")
		}
	}
	server, err := io.ReadAll(os.Stdin)
	if err != nil {
		os.Exit(1)
	}
	data, err := os.ReadFile(filepath.Join(dir, "token.json"))
	if err != nil {
		os.Exit(1)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		UserEmail   string `json:"user_email"`
	}
	if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
		os.Exit(1)
	}
	err = json.NewEncoder(os.Stdout).Encode(struct {
		ServerURL, Username, Secret string
	}{strings.TrimSpace(string(server)), tok.UserEmail, tok.AccessToken})
	if err != nil {
		os.Exit(1)
	}
}
