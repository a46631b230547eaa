package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"galaxy/eval"
	"galaxy/model/builtin"
	"galaxy/report"
)

func newErrorsCmd(env Env) *cobra.Command {
	var (
		df      dataFlags
		mpath   string
		split   string
		gallery string
		worst   int
		cols    int
		pairs   int
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "errors --model M --data FILE [--split test] [--gallery errors.png] [--json]",
		Short: "What the model gets wrong: mistakes, second choices, confused classes, a gallery",
		Long: `errors scores every image of a split with a saved model and reports its mistakes: how
many, in how many of them the second choice was the true class, the rank of the true
class in general (top-1, top-2, ... accuracy), which pairs of classes are confused most,
and the worst mistakes: the misclassified galaxies the model was most sure about. It
draws those in a gallery PNG, each titled with the true class and the predicted class
with its probability; galaxy inspect --index I shows one of them in detail.

The scheme, channels and split default to the model's.`,
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
			res, err := report.ReportMistakes(a, split, worst, cols, gallery)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			res.WriteText(env.Stdout, pairs)
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	modelFlag(fl, &mpath)
	fl.StringVar(&split, "split", "test", "train, test, or all")
	fl.StringVar(&gallery, "gallery", "errors.png", "PNG gallery of the worst mistakes to write (\"\" for none)")
	fl.IntVar(&worst, "worst", 24, "how many of the worst mistakes to show")
	fl.IntVar(&cols, "cols", 6, "tiles per row of the gallery")
	fl.IntVar(&pairs, "pairs", 8, "how many confused class pairs to list")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.MarkFlagRequired("model")
	return cmd
}
