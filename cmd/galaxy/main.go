// Command galaxy teaches a computer to sort galaxies by shape from survey
// cutouts: see "galaxy --help" and the README.
package main

import (
	"os"

	"galaxy/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}))
}
