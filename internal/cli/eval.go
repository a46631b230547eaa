package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"galaxy/eval"
	"galaxy/model/builtin"
	"galaxy/report"
)

func newEvalCmd(env Env) *cobra.Command {
	var (
		df     dataFlags
		mpath  string
		split  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "eval --model M --data FILE [--split test|train|all] [--json]",
		Short: "Measure a saved model on a data file: accuracy, balanced accuracy, top-2, confusion",
		Long: `eval scores every image of a split with a saved model and prints accuracy, balanced
accuracy (mean per-class recall), top-2 accuracy, per-class precision/recall/F1 and
average precision (the area under the class's precision-recall curve, images ranked
by their probability of the class), the expected calibration error of the
probabilities (and before the model's temperature scaling, when it has one), the
confusion matrix and the majority-class accuracy for context. The data file, scheme,
channels and split default to the model's own (the file it was trained on, the split
training used), so --split test reproduces the accuracy training recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := builtin.Load(mpath)
			if err != nil {
				return err
			}
			ds, err := loadForModel(cmd, env, &df, m)
			if err != nil {
				return err
			}
			a, err := report.Analyze(m, ds, split, eval.DefaultBins)
			if err != nil {
				return err
			}
			met := a.Metrics
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(met)
			}
			met.WriteText(env.Stdout, split)
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	modelFlag(fl, &mpath)
	fl.StringVar(&split, "split", "test", "train, test, or all (every image of the file)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.MarkFlagRequired("model")
	return cmd
}
