package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

func newInfoCmd(env Env) *cobra.Command {
	var df dataFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info --data FILE [--scheme S] [--json]",
		Short: "Print a data file's shapes, class counts per split and the majority-class accuracy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log := env.Stderr
			if !asJSON {
				log = env.Stdout
			}
			raw, ds, err := df.load(log)
			if err != nil {
				return err
			}
			sum := ds.Summarize(raw)
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(sum)
			}
			sum.WriteText(env.Stdout)
			return nil
		},
	}
	df.register(cmd, "all")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
