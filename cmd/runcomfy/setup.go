package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/natefinch/atomic"
	"github.com/urfave/cli/v2"

	"github.com/runcomfy/runcomfy/helper"
)

// The RunComfy hosts git and docker are pointed at: runcomfy.com,
// runcomfy.net and their subdomains (SPEC "RunComfy hosts"). The helpers
// check every host again; these lists only decide which requests reach them.
var (
	// gitCredentialURLs are credential.<url> contexts. Since git 2.26 they
	// match as http.<url> does: "*" stands for one label of the host, so
	// *.runcomfy.com covers www.runcomfy.com and every direct subdomain
	// (not a.b.runcomfy.com).
	gitCredentialURLs = []string{
		"https://runcomfy.com",
		"https://*.runcomfy.com",
		"https://runcomfy.net",
		"https://*.runcomfy.net",
	}
	// dockerHosts are credHelpers keys: docker looks a registry's host name
	// up there exactly, without wildcards. RunComfy's web host and apex;
	// RunComfy runs no registry under another name that we know of.
	dockerHosts = []string{"www.runcomfy.com", "runcomfy.com"}
)

// webBaseURL is RUNCOMFY_WEB_BASE as scheme://host[:port] when the helpers
// would answer for it (https, or http on loopback, as helper.NewHosts
// decides), so that setup also covers a staging server or the dev server.
func (e *env) webBaseURL() (*url.URL, bool) {
	base := e.store.Env.Getenv(helper.EnvWebBase)
	u, err := url.Parse(base)
	if base == "" || err != nil || !helper.NewHosts(base).AllowURL(base) {
		return nil, false
	}
	return &url.URL{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Host)}, true
}

// gitURLs are the credential contexts setup-git configures.
func (e *env) gitURLs() []string {
	if u, ok := e.webBaseURL(); ok && !helper.NewHosts("").AllowURL(u.String()) {
		return append(slices.Clone(gitCredentialURLs), u.String())
	}
	return gitCredentialURLs
}

// dockerHostList is the credHelpers keys setup-docker writes.
func (e *env) dockerHostList() []string {
	if u, ok := e.webBaseURL(); ok && !slices.Contains(dockerHosts, u.Host) {
		return append(slices.Clone(dockerHosts), u.Host)
	}
	return dockerHosts
}

// dockerHelperSuffix is the credHelpers value: docker runs
// docker-credential-<suffix> from PATH.
const dockerHelperSuffix = "runcomfy"

func setupGitCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:     "setup-git",
		Usage:    "make git ask git-credential-runcomfy for RunComfy hosts (and only for them)",
		Category: "Setup",
		Description: "Runs `git config --global` to add, for each of\n  " + strings.Join(gitCredentialURLs, "\n  ") + "\n" +
			"(and the RUNCOMFY_WEB_BASE host when it is set)\n" +
			"an empty credential helper (so that no other helper answers for these hosts)\n" +
			"followed by git-credential-runcomfy. Running it again changes nothing.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "unset", Usage: "remove what setup-git added"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the git commands instead of running them"},
		},
		Action: e.setupGit,
	}
}

func setupDockerCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:     "setup-docker",
		Usage:    "make docker ask docker-credential-runcomfy for RunComfy hosts",
		Category: "Setup",
		Description: "Adds credHelpers entries for " + strings.Join(dockerHosts, ", ") + " (and the\n" +
			"RUNCOMFY_WEB_BASE host when it is set) to\n" +
			"$DOCKER_CONFIG/config.json, else ~/.docker/config.json. Every other key and value\n" +
			"is kept (top-level keys come out sorted); the file keeps its mode. Running it\n" +
			"again changes nothing.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "unset", Usage: "remove the entries setup-docker added"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the new config.json instead of writing it"},
		},
		Action: e.setupDocker,
	}
}

// gitHelperValue is the credential.helper value that runs our git helper:
// the absolute path of git-credential-runcomfy beside this binary, as gh
// does, so that git finds the very build that set it up; else "runcomfy",
// which git runs as git-credential-runcomfy from PATH. gitcredentials(7):
// an absolute path runs as is (through the shell: git appends the action);
// a path that needs quoting must become a "!" shell snippet.
func gitHelperValue() (value string, onPath bool) {
	name := "git-credential-runcomfy"
	if exe, err := os.Executable(); err == nil {
		if filepath.Ext(exe) == ".exe" {
			name += ".exe"
		}
		sibling := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(sibling); err == nil && fi.Mode().IsRegular() {
			if q := shellQuote(sibling); q != sibling {
				return "!" + q, true
			}
			return sibling, true
		}
	}
	_, err := exec.LookPath(name)
	return "runcomfy", err == nil
}

func (e *env) setupGit(c *cli.Context) error {
	if c.Args().Present() {
		return usageError{errors.New("setup-git takes no arguments")}
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return fmt.Errorf("setup-git needs git: %w", err)
	}
	value, onPath := gitHelperValue()
	unset := c.Bool("unset")
	var plan [][]string
	for _, url := range e.gitURLs() {
		key := "credential." + url + ".helper"
		current, err := gitConfigGetAll(c.Context, gitPath, key)
		if err != nil {
			return err
		}
		switch {
		case unset && len(current) > 0:
			// git ≥ 2.18 drops the section header once its last key goes,
			// so the file is as it was before setup-git.
			plan = append(plan, []string{"config", "--global", "--unset-all", key})
		case !unset && !slices.Equal(current, []string{"", value}):
			// The empty value resets the helper list: helpers configured
			// before (credential.helper, a keychain) are not asked for this
			// host, and the RunComfy token never lands in their store.
			plan = append(plan,
				[]string{"config", "--global", "--replace-all", key, ""},
				[]string{"config", "--global", "--add", key, value})
		}
	}

	if c.Bool("dry-run") {
		for _, args := range plan {
			fmt.Fprintln(e.stdout, shellCommand("git", args))
		}
		if len(plan) == 0 {
			fmt.Fprintln(e.stderr, "Nothing to do: git is already set up that way.")
		}
		return nil
	}
	for _, args := range plan {
		cmd := exec.CommandContext(c.Context, gitPath, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", shellCommand("git", args), err, strings.TrimSpace(string(out)))
		}
	}

	hosts := strings.Join(e.gitURLs(), ", ")
	switch {
	case unset && len(plan) == 0:
		fmt.Fprintln(e.stderr, "Nothing to remove: git has no RunComfy credential helper in the global config.")
	case unset:
		fmt.Fprintf(e.stderr, "Removed the credential helper for %s from the global git config.\n", hosts)
	case len(plan) == 0:
		fmt.Fprintf(e.stderr, "git is already set up: it asks %s for %s.\n", value, hosts)
	default:
		fmt.Fprintf(e.stderr, "git now asks %s for %s, and no other helper.\n", value, hosts)
	}
	if !unset && !onPath {
		fmt.Fprintln(e.stderr, "warning: git-credential-runcomfy is not on PATH; git cannot run it until it is (`make install` puts it in ~/.local/bin)")
	}
	return nil
}

// gitConfigGetAll returns every value of key in the global git config.
func gitConfigGetAll(ctx context.Context, gitPath, key string) ([]string, error) {
	cmd := exec.CommandContext(ctx, gitPath, "config", "--global", "-z", "--get-all", key)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return nil, nil // git-config(1): exit 1 means the key is not set
	}
	if err != nil {
		return nil, fmt.Errorf("git config --get-all %s: %w: %s", key, err, strings.TrimSpace(stderr.String()))
	}
	// -z ends every value with a NUL.
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"), nil
}

// shellCommand is name and args as a person would type them.
func shellCommand(name string, args []string) string {
	quoted := []string{name}
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	return strings.Join(quoted, " ")
}

// dockerConfigPath is docker's config file: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json, as the docker CLI reads it.
func (e *env) dockerConfigPath() (string, error) {
	if dir := e.store.Env.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), nil
	}
	if e.store.Env.Home == "" {
		return "", errors.New("cannot find docker's config: set DOCKER_CONFIG or HOME")
	}
	return filepath.Join(e.store.Env.Home, ".docker", "config.json"), nil
}

func (e *env) setupDocker(c *cli.Context) error {
	if c.Args().Present() {
		return usageError{errors.New("setup-docker takes no arguments")}
	}
	path, err := e.dockerConfigPath()
	if err != nil {
		return err
	}
	// A config.json that is a symlink (dotfiles) stays one: write its target.
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	data, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	config, helpers, err := parseDockerConfig(path, data)
	if err != nil {
		return err
	}

	unset := c.Bool("unset")
	changed := false
	for _, host := range e.dockerHostList() {
		switch {
		case unset && helpers[host] == dockerHelperSuffix:
			delete(helpers, host)
			changed = true
		case !unset && helpers[host] != dockerHelperSuffix:
			if old, ok := helpers[host]; ok {
				fmt.Fprintf(e.stderr, "Replacing credHelpers[%q] = %q.\n", host, old)
			}
			helpers[host] = dockerHelperSuffix
			changed = true
		}
	}
	hosts := strings.Join(e.dockerHostList(), ", ")
	if !changed {
		if unset {
			fmt.Fprintf(e.stderr, "Nothing to remove: %s has no runcomfy credHelpers.\n", path)
		} else {
			fmt.Fprintf(e.stderr, "docker is already set up: %s sends %s to docker-credential-%s.\n", path, hosts, dockerHelperSuffix)
			e.warnDockerHelperPath()
		}
		return nil
	}
	if len(helpers) == 0 {
		delete(config, "credHelpers")
	} else if config["credHelpers"], err = json.Marshal(helpers); err != nil {
		return err
	}
	// docker writes its config with tabs; so do we. The values of keys we
	// don't touch keep their content (reindented), not their order: the
	// top-level keys come out sorted.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "\t")
	if err := enc.Encode(config); err != nil {
		return err
	}
	if c.Bool("dry-run") {
		_, err := e.stdout.Write(out.Bytes())
		return err
	}
	if !exists {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
	}
	// atomic.WriteFile keeps the mode of the file it replaces; a new file
	// is created 0600 (config.json may hold registry passwords).
	if err := atomic.WriteFile(path, &out); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if unset {
		fmt.Fprintf(e.stderr, "Removed the runcomfy credHelpers for %s from %s.\n", hosts, path)
	} else {
		fmt.Fprintf(e.stderr, "docker now asks docker-credential-%s for %s (%s).\n", dockerHelperSuffix, hosts, path)
		e.warnDockerHelperPath()
	}
	return nil
}

// warnDockerHelperPath says when docker will not find our helper: docker
// runs docker-credential-<suffix> from PATH, never from a path.
func (e *env) warnDockerHelperPath() {
	if _, err := exec.LookPath("docker-credential-" + dockerHelperSuffix); err != nil {
		fmt.Fprintf(e.stderr, "warning: docker-credential-%s is not on PATH; docker cannot run it until it is (`make install` puts it in ~/.local/bin)\n", dockerHelperSuffix)
	}
}

// parseDockerConfig splits docker's config.json into its top-level keys,
// each value kept as it was, and the credHelpers map. An empty or missing
// file is an empty config. Anything else that is not a JSON object, or a
// credHelpers that is not an object of strings, is refused: rewriting a
// file we cannot read would lose what is in it.
func parseDockerConfig(path string, data []byte) (map[string]json.RawMessage, map[string]string, error) {
	config := map[string]json.RawMessage{}
	helpers := map[string]string{}
	if len(bytes.TrimSpace(data)) == 0 {
		return config, helpers, nil
	}
	refuse := func(what string) error {
		return &helper.Error{Code: exitData, Msg: fmt.Sprintf("%s: %s; fix it or move it away, then run setup-docker again (nothing was changed)", path, what)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// The decoder's messages may quote the file, which may hold registry
	// passwords: say where, not what.
	var syntax *json.SyntaxError
	var notObject *json.UnmarshalTypeError
	switch err := dec.Decode(&config); {
	case errors.As(err, &syntax):
		return nil, nil, refuse(fmt.Sprintf("not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &notObject), err == nil && config == nil:
		return nil, nil, refuse("not a JSON object")
	case err != nil:
		return nil, nil, refuse("not valid JSON (it ends too early)")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, refuse("not valid JSON (more after the object)")
	}
	if raw, ok := config["credHelpers"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &helpers); err != nil {
			return nil, nil, refuse("credHelpers is not an object of strings")
		}
		if helpers == nil {
			helpers = map[string]string{}
		}
	}
	return config, helpers, nil
}
