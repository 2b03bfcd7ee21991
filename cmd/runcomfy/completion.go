package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

// completionCommand prints a shell's completion script. bash and zsh ask
// the binary itself for candidates (urfave/cli's --generate-bash-completion),
// so the scripts never go stale; fish gets its static script from the app.
func completionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "Load it in your shell's startup file:\n" +
			"  bash: source <(runcomfy completion bash)      (in ~/.bashrc)\n" +
			"  zsh:  source <(runcomfy completion zsh)       (in ~/.zshrc, after compinit)\n" +
			"  fish: runcomfy completion fish > ~/.config/fish/completions/runcomfy.fish",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError{errors.New("completion takes one shell: bash, zsh or fish")}
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				_, err := fmt.Fprint(e.stdout, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(e.stdout, zshCompletion)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(e.stdout, script)
				return err
			default:
				return usageError{fmt.Errorf("completion: unknown shell %q: want bash, zsh or fish", shell)}
			}
		},
	}
}

// bashCompletion completes `runcomfy` by asking it: the words typed so far
// plus --generate-bash-completion print the candidates.
const bashCompletion = `# bash completion for runcomfy
_runcomfy_complete() {
	local cur words
	cur="${COMP_WORDS[COMP_CWORD]}"
	words=("${COMP_WORDS[@]:0:COMP_CWORD}")
	if [[ "$cur" == -* ]]; then
		words+=("$cur")
	fi
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "$("${words[@]}" --generate-bash-completion 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F _runcomfy_complete runcomfy
`

// zshCompletion does the same for zsh.
const zshCompletion = `#compdef runcomfy
# zsh completion for runcomfy
_runcomfy() {
	local -a candidates
	local cur=${words[CURRENT]}
	local -a typed=(${words[1,CURRENT-1]})
	if [[ $cur == -* ]]; then
		typed+=($cur)
	fi
	candidates=(${(f)"$(${typed[@]} --generate-bash-completion 2>/dev/null)"})
	_describe 'runcomfy' candidates
}
if (( $+functions[compdef] )); then
	compdef _runcomfy runcomfy
fi
`
