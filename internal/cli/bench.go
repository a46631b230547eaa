package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"galaxy/bench"
)

func newBenchCmd(env Env) *cobra.Command {
	var (
		asJSON bool
		rounds int
	)
	cmd := &cobra.Command{
		Use:   "bench [--json] [--rounds R]",
		Short: "Measure the speed figures of the numerical core and the models (medians)",
		Long: `bench times the seed network at the assignment's sizes (n = 4761 inputs, d = 100
hidden units, k = 5 classes) on synthetic images: the median time of one SGD step at
batch 1 (R rounds of 500 steps), at batch 10 and 128 (vectorised), of one batched
forward pass over 2000 images, SGEMM GFLOP/s (1024^3), and cnn-ref's images/s training
(batch 64) and classifying (batch 256) 69 and 128 px images (bench/pytorch/cnnref.py).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if rounds < 1 {
				return fmt.Errorf("--rounds %d: need at least 1", rounds)
			}
			res := bench.All(rounds)
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			res.WriteText(env.Stdout, rounds)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&rounds, "rounds", 15, "timed rounds per figure")
	return cmd
}
