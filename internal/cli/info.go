package cli

import (
	"encoding/json"
	"galaxy/model/cnn"
	"galaxy/train"

	"github.com/spf13/cobra"
)

func newInfoCmd(env Env) *cobra.Command {
	var df dataFlags
	var asJSON bool
	var splitOut string
	var valFrac float64
	var seed uint64
	cmd := &cobra.Command{
		Use:   "info --data FILE [--scheme S] [--json] [--split-out split.csv]",
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
			if splitOut != "" {
				if err := train.WriteSplit(splitOut, raw, ds, valFrac, seed); err != nil {
					return err
				}
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
	def, _ := train.DefaultConfig(cnn.Name)
	cmd.Flags().StringVar(&splitOut, "split-out", "", "also write which image each part of a training run uses, as CSV: index (in the file), id, label, part (train, val or test)")
	cmd.Flags().Float64Var(&valFrac, "val-frac", def.ValFrac, "with --split-out: the validation fraction of the run (train --val-frac)")
	cmd.Flags().Uint64Var(&seed, "seed", def.Seed, "with --split-out: the seed of the run (train --seed), which carves the validation part")
	return cmd
}
