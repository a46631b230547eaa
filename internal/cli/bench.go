package cli

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"galaxy/bench"
	"galaxy/model/seed"
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
forward pass over 2000 images, and the GFLOP/s of the core's SGEMM for a 1024^3 product.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if rounds < 1 {
				return fmt.Errorf("--rounds %d: need at least 1", rounds)
			}
			res := map[string]float64{
				"seed_step_batch1_ms":   bench.SeedStepBatch1(rounds),
				"seed_step_batch10_ms":  bench.SeedStepBatch(10, seed.Vector, rounds),
				"seed_step_batch128_ms": bench.SeedStepBatch(128, seed.Vector, rounds),
				"seed_forward_2000_ms":  bench.SeedForward(2000, rounds),
				"sgemm_1024_gflops":     bench.SgemmGflops(1024, rounds),
			}
			res["cnn_ref_train_images_per_s"], res["cnn_ref_infer_images_per_s"] = bench.CNNRefThroughput(rounds)
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(env.Stdout, "galaxy bench: medians of %d rounds, GOMAXPROCS %d, %s/%s\n\n", rounds, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(env.Stdout, "%-46s %10s\n", "figure", "value")
			fmt.Fprintf(env.Stdout, "%-46s %7.4f ms\n", "seed network SGD step, batch 1", res["seed_step_batch1_ms"])
			fmt.Fprintf(env.Stdout, "%-46s %7.4f ms\n", "seed network SGD step, batch 10 (vector)", res["seed_step_batch10_ms"])
			fmt.Fprintf(env.Stdout, "%-46s %7.4f ms\n", "seed network SGD step, batch 128 (vector)", res["seed_step_batch128_ms"])
			fmt.Fprintf(env.Stdout, "%-46s %7.3f ms\n", "seed network forward, 2000 images", res["seed_forward_2000_ms"])
			fmt.Fprintf(env.Stdout, "%-46s %7.1f GFLOP/s\n", "SGEMM 1024x1024x1024", res["sgemm_1024_gflops"])
			fmt.Fprintf(env.Stdout, "%-46s %7.1f images/s\n", "cnn-ref training, batch 64 (69x69x3, k=4)", res["cnn_ref_train_images_per_s"])
			fmt.Fprintf(env.Stdout, "%-46s %7.1f images/s\n", "cnn-ref inference, batch 256", res["cnn_ref_infer_images_per_s"])
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&rounds, "rounds", 15, "timed rounds per figure")
	return cmd
}
