package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"galaxy/model/builtin"
	"galaxy/render"
	"galaxy/report"
)

func newInspectCmd(env Env) *cobra.Command {
	var (
		df     dataFlags
		mpath  string
		index  int
		split  string
		out    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "inspect --model M --data FILE --index I [--split test] [--out g.png] [--json]",
		Short: "One galaxy and the model's probability for every class, ranked, beside the true label",
		Long: `inspect scores galaxy I of a split with a saved model and prints every class with its
probability, best first, marking the true class; it writes a PNG of the galaxy beside a
chart of those probabilities. Classes are ranked by the model's scores (logits), which do
not tie where saturated probabilities would. The probabilities are the model's own
(for the assignment's network: its sigmoid outputs divided by their sum).

The split and index are those galaxy errors prints; the scheme, channels and split
default to the model's.`,
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
			s, err := ds.Split(split)
			if err != nil {
				return err
			}
			if index < 0 || index >= s.Len() {
				return fmt.Errorf("--index %d out of range: the %s split of %s has %d images (0..%d)", index, split, df.Path, s.Len(), s.Len()-1)
			}
			one, err := report.Inspect(m, s, index)
			if err != nil {
				return err
			}
			if out == "" {
				out = fmt.Sprintf("inspect-%s-%d.png", split, index)
			}
			in := report.NewInspection(one, s, m.Meta.Classes, split, out)
			img, err := report.InspectImage(m.Meta.Classes, s, one, in.Title())
			if err != nil {
				return err
			}
			if err := render.WritePNG(out, img); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			in.WriteText(env.Stdout)
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	modelFlag(fl, &mpath)
	fl.IntVar(&index, "index", 0, "index of the galaxy within the split")
	fl.StringVar(&split, "split", "test", "train, test, or all (every kept image in file order)")
	fl.StringVar(&out, "out", "", "PNG to write (default inspect-SPLIT-INDEX.png)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.MarkFlagRequired("model")
	return cmd
}
