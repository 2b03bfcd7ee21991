//go:build !urfave_cli_no_docs

package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The man page is generated from the app itself (`make man`). Release
// builds use the urfave_cli_no_docs tag, which leaves this command and the
// markdown-to-man code it links out of the binary.
func init() {
	extraCommands = append(extraCommands, func(e *env) *cli.Command {
		return &cli.Command{
			Name:   "generate-man",
			Usage:  "print the man page (roff)",
			Hidden: true,
			Action: func(c *cli.Context) error {
				page, err := c.App.ToManWithSection(1)
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(e.stdout, page)
				return err
			},
		}
	})
}
