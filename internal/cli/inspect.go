package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"galaxy/model"
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
			m, err := model.Load(mpath)
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
			classes := m.Meta.Classes
			pred := one.Ranking[0]
			verdict := "right"
			if pred != one.True {
				verdict = "wrong"
			}
			title := fmt.Sprintf("%s galaxy %d: true %s, predicted %s (%s)", split, index, classes[one.True], classes[pred], verdict)
			img, err := report.InspectImage(classes, s, one, title)
			if err != nil {
				return err
			}
			if out == "" {
				out = fmt.Sprintf("inspect-%s-%d.png", split, index)
			}
			if err := render.WritePNG(out, img); err != nil {
				return err
			}
			rank := 0
			for pos, c := range one.Ranking {
				if c == one.True {
					rank = pos + 1
				}
			}
			if asJSON {
				type row struct {
					Rank        int     `json:"rank"`
					Class       int     `json:"class"`
					Name        string  `json:"name"`
					Probability float32 `json:"probability"`
					Logit       float32 `json:"logit"`
				}
				res := struct {
					Split     string `json:"split"`
					Index     int    `json:"index"`
					FileIndex int    `json:"file_index"`
					ID        *int64 `json:"id,omitempty"`
					True      int    `json:"true"`
					TrueName  string `json:"true_name"`
					Predicted int    `json:"predicted"`
					Correct   bool   `json:"correct"`
					TrueRank  int    `json:"true_rank"`
					Ranked    []row  `json:"ranked"`
					Picture   string `json:"picture"`
				}{Split: split, Index: index, FileIndex: s.Index[index], True: one.True, TrueName: classes[one.True],
					Predicted: pred, Correct: pred == one.True, TrueRank: rank, Picture: out}
				if s.IDs != nil {
					res.ID = &s.IDs[index]
				}
				for pos, c := range one.Ranking {
					res.Ranked = append(res.Ranked, row{pos + 1, c, classes[c], one.Probs[c], one.Logits[c]})
				}
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			w := env.Stdout
			fmt.Fprintf(w, "galaxy %d of the %s split (image %d of the file", index, split, s.Index[index])
			if s.IDs != nil {
				fmt.Fprintf(w, ", id %d", s.IDs[index])
			}
			fmt.Fprintf(w, "); true class: %s\n", classes[one.True])
			width := len("class")
			for _, c := range classes {
				width = max(width, len(c))
			}
			fmt.Fprintf(w, "%4s  %-*s  %11s  %9s\n", "rank", width, "class", "probability", "logit")
			for pos, c := range one.Ranking {
				mark := ""
				if c == one.True {
					mark = "  <- true class"
				}
				fmt.Fprintf(w, "%4d  %-*s  %11.4f  %9.4f%s\n", pos+1, width, classes[c], one.Probs[c], one.Logits[c], mark)
			}
			if pred == one.True {
				fmt.Fprintf(w, "right: predicted %s with probability %.4f\n", classes[pred], one.Probs[pred])
			} else {
				fmt.Fprintf(w, "wrong: predicted %s with probability %.4f; the true class is ranked %s\n", classes[pred], one.Probs[pred], ordinal(rank))
			}
			fmt.Fprintf(w, "wrote %s\n", out)
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	fl.StringVar(&mpath, "model", "", "saved model (the model file in a training run's folder)")
	fl.IntVar(&index, "index", 0, "index of the galaxy within the split")
	fl.StringVar(&split, "split", "test", "train, test, or all (every kept image in file order)")
	fl.StringVar(&out, "out", "", "PNG to write (default inspect-SPLIT-INDEX.png)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.MarkFlagRequired("model")
	return cmd
}

// ordinal writes 1st, 2nd, 3rd, 4th, ...
func ordinal(n int) string {
	suf := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suf = "st"
		case 2:
			suf = "nd"
		case 3:
			suf = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suf)
}
