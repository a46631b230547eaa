package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"galaxy/data"
	"galaxy/eval"
	"galaxy/model"
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
accuracy (mean per-class recall), top-2 accuracy, per-class precision/recall/F1, the
confusion matrix and the majority-class accuracy for context. The scheme and channels
default to the model's own; the split is the one training used (same --test-frac and
--split-seed defaults), so --split test reproduces the accuracy training recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := model.Load(mpath)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("scheme") {
				df.Prepare.Scheme = m.Meta.Scheme
			}
			if !cmd.Flags().Changed("channels") {
				df.Prepare.Channels = data.ChannelSpec(m.Meta.Input.Channels, m.Meta.Input.SourceChannels)
			}
			_, ds, err := df.load(env.Stderr)
			if err != nil {
				return err
			}
			if err := m.Check(ds); err != nil {
				return err
			}
			s, err := ds.Split(split)
			if err != nil {
				return err
			}
			if s.Len() == 0 {
				return fmt.Errorf("the %s split of %s is empty", split, df.Path)
			}
			logits := m.LogitSplit(s)
			majority := ds.MajorityClass()
			met, err := eval.Compute(logits, s.Labels, m.Meta.Classes, majority)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(met)
			}
			printMetrics(env.Stdout, met, split)
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	fl.StringVar(&mpath, "model", "", "saved model (the model file in a training run's folder)")
	fl.StringVar(&split, "split", "test", "train, test, or all (every image of the file)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.MarkFlagRequired("model")
	return cmd
}

func printMetrics(w io.Writer, m *eval.Metrics, split string) {
	fmt.Fprintf(w, "%d images (%s split)\n", m.N, split)
	fmt.Fprintf(w, "accuracy          %.4f\n", m.Accuracy)
	fmt.Fprintf(w, "balanced accuracy %.4f\n", m.BalancedAccuracy)
	fmt.Fprintf(w, "top-2 accuracy    %.4f\n", m.Top2Accuracy)
	fmt.Fprintf(w, "majority class    %.4f\n\n", m.MajorityAccuracy)
	width := 10
	for _, c := range m.Classes {
		width = max(width, len(c))
	}
	fmt.Fprintf(w, "%-*s %9s %9s %9s %8s\n", width, "class", "precision", "recall", "f1", "support")
	for c, name := range m.Classes {
		fmt.Fprintf(w, "%-*s %9.4f %9.4f %9.4f %8d\n", width, name, m.Precision[c], m.Recall[c], m.F1[c], m.Support[c])
	}
	fmt.Fprintf(w, "\nconfusion (rows: true class, columns: predicted)\n%-*s", width, "")
	for c := range m.Classes {
		fmt.Fprintf(w, " %6d", c)
	}
	fmt.Fprintln(w)
	for c, row := range m.Confusion {
		fmt.Fprintf(w, "%-*s", width, fmt.Sprintf("%d %s", c, abbreviate(m.Classes[c], width-2)))
		for _, v := range row {
			fmt.Fprintf(w, " %6d", v)
		}
		fmt.Fprintln(w)
	}
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimSpace(s[:n])
}
