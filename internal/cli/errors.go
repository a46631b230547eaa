package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"galaxy/eval"
	"galaxy/model"
	"galaxy/render"
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
			if worst < 0 || cols < 0 || pairs < 0 {
				return fmt.Errorf("--worst, --cols and --pairs must not be negative")
			}
			m, err := model.Load(mpath)
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
			var shown []eval.Prediction
			if gallery != "" && worst > 0 {
				img, w, err := report.MistakeGallery(a, worst, cols)
				if err != nil {
					return err
				}
				if img != nil {
					if err := render.WritePNG(gallery, img); err != nil {
						return err
					}
				}
				shown = w
			} else {
				shown = eval.Worst(a.Preds, worst)
			}
			if asJSON {
				res := struct {
					Split    string            `json:"split"`
					Accuracy float64           `json:"accuracy"`
					Mistakes *eval.Mistakes    `json:"mistakes"`
					Worst    []eval.Prediction `json:"worst"`
					Gallery  string            `json:"gallery,omitempty"`
				}{Split: split, Accuracy: a.Metrics.Accuracy, Mistakes: a.Mistakes, Worst: shown}
				if gallery != "" && len(shown) > 0 {
					res.Gallery = gallery
				}
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printMistakes(env, a, shown, pairs, split)
			if gallery != "" && len(shown) > 0 {
				fmt.Fprintf(env.Stdout, "wrote %s (%d worst mistakes)\n", gallery, len(shown))
			}
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	fl.StringVar(&mpath, "model", "", "saved model (the model file in a training run's folder)")
	fl.StringVar(&split, "split", "test", "train, test, or all")
	fl.StringVar(&gallery, "gallery", "errors.png", "PNG gallery of the worst mistakes to write (\"\" for none)")
	fl.IntVar(&worst, "worst", 24, "how many of the worst mistakes to show")
	fl.IntVar(&cols, "cols", 6, "tiles per row of the gallery")
	fl.IntVar(&pairs, "pairs", 8, "how many confused class pairs to list")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.MarkFlagRequired("model")
	return cmd
}

func printMistakes(env Env, a *report.Analysis, worst []eval.Prediction, pairs int, split string) {
	w := env.Stdout
	mk, classes := a.Mistakes, a.Model.Meta.Classes
	fmt.Fprintf(w, "%d %s images: %d misclassified (%.1f%%), accuracy %.4f\n", mk.N, split, mk.Wrong, 100*float64(mk.Wrong)/float64(mk.N), a.Metrics.Accuracy)
	if mk.Wrong == 0 {
		fmt.Fprintln(w, "no mistakes")
		return
	}
	fmt.Fprintf(w, "second choice right in %d of %d mistakes (%.1f%%)\n\n", mk.SecondRight, mk.Wrong, 100*mk.SecondFrac)
	fmt.Fprintf(w, "rank of the true class\n%6s %8s %9s\n", "rank", "images", "top-k acc")
	for r, n := range mk.RankCounts {
		fmt.Fprintf(w, "%6d %8d %9.4f\n", r+1, n, mk.TopK[r])
	}
	width := len("true class")
	for _, c := range classes {
		width = max(width, len(c))
	}
	if pairs > 0 && len(mk.Pairs) > 0 {
		fmt.Fprintf(w, "\nmost confused (true -> predicted)\n")
		for i, p := range mk.Pairs {
			if i == pairs {
				break
			}
			fmt.Fprintf(w, "  %-*s -> %-*s %5d  (%.1f%% of %s, %.1f%% of mistakes)\n", width, classes[p.True], width, classes[p.Pred], p.Count,
				100*p.OfTrue, classes[p.True], 100*p.OfErrors)
		}
	}
	if len(worst) > 0 {
		fmt.Fprintf(w, "\nworst mistakes (most confident wrong; --index for galaxy inspect --split %s)\n", split)
		fmt.Fprintf(w, "%6s  %-*s  %-*s  %6s  %s\n", "index", width, "true class", width, "predicted", "p", "second choice")
		for _, p := range worst {
			second := classes[p.Second]
			if p.SecondHit {
				second += " (right)"
			}
			fmt.Fprintf(w, "%6d  %-*s  %-*s  %6.3f  %s\n", p.Index, width, classes[p.True], width, classes[p.Pred], p.Conf, second)
		}
	}
}
