package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"galaxy/data"
	"galaxy/model"
	"galaxy/report"
	"galaxy/train"
)

func newReportCmd(env Env) *cobra.Command {
	var (
		df       dataFlags
		dir      string
		out      string
		split    string
		worst    int
		perClass int
		bins     int
	)
	cmd := &cobra.Command{
		Use:   "report --run DIR [--data FILE] [--out report.html] [--split test]",
		Short: "Write one self-contained HTML report of a training run",
		Long: `report scores a split with the model of a training run (the folder galaxy train --out
wrote) and writes one HTML file that needs nothing else to be viewed, not even a network:
the run's settings, the accuracy and loss curves, the confusion matrix as a heat map,
precision/recall/F1 per class, top-k accuracy, the reliability diagram with the expected
calibration error, the most confident correct examples of each class and the worst
mistakes. Pictures are embedded as PNG.

The data file defaults to the one the model was trained on; the scheme, channels,
--test-frac and --split-seed default to the model's, so --split test is the split
training tested on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return fmt.Errorf("no run folder: give --run DIR (the folder galaxy train --out wrote)")
			}
			run, err := train.Folder(dir).Read()
			if err != nil {
				return err
			}
			ds, err := loadForModel(cmd, env, &df, run.Model)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(dir, "report.html")
			}
			return writeReport(env, run, ds, split, out, report.Options{Worst: worst, PerClass: perClass}, bins)
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	fl.StringVar(&dir, "run", "", "run folder (written by galaxy train --out)")
	fl.StringVar(&out, "out", "", "HTML file to write (default RUN/report.html)")
	fl.StringVar(&split, "split", "test", "train, test, or all")
	fl.IntVar(&worst, "worst", 24, "mistakes in the gallery of worst mistakes")
	fl.IntVar(&perClass, "per-class", 8, "correct examples shown per class")
	fl.IntVar(&bins, "bins", 10, "confidence bins of the calibration")
	return cmd
}

// writeReport measures the split and writes the report to out.
func writeReport(env Env, run *train.Record, ds *data.Dataset, split, out string, opt report.Options, bins int) error {
	if bins < 1 || bins > 1000 {
		return fmt.Errorf("--bins %d: want 1..1000", bins)
	}
	if opt.Worst < 0 || opt.PerClass < 0 {
		return fmt.Errorf("--worst and --per-class must not be negative")
	}
	a, err := report.Analyze(run.Model, ds, split, bins)
	if err != nil {
		return err
	}
	if err := report.Write(out, run, a, opt); err != nil {
		return err
	}
	size := int64(0)
	if fi, err := os.Stat(out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%.1f MB): accuracy %.4f on %d %s images, %d mistakes, second choice right in %d (%.1f%%), ECE %.4f\n",
		out, float64(size)/1e6, a.Metrics.Accuracy, a.Metrics.N, split, a.Mistakes.Wrong, a.Mistakes.SecondRight, 100*a.Mistakes.SecondFrac, a.Calib.ECE)
	return nil
}

// runReport writes RUN/report.html at the end of galaxy train --report,
// from the data already in memory.
func runReport(env Env, dir string, ds *data.Dataset) error {
	run, err := train.Folder(dir).Read()
	if err != nil {
		return err
	}
	return writeReport(env, run, ds, "test", filepath.Join(dir, "report.html"), report.Options{}, 10)
}

// loadForModel reads the data file the flags name, prepared the way model m
// expects unless the flags say otherwise: the model's scheme and channels,
// the split it was trained with (its recorded --test-frac and
// --split-seed), and, without --data, the data file it was trained on.
func loadForModel(cmd *cobra.Command, env Env, df *dataFlags, m *model.Model) (*data.Dataset, error) {
	fl := cmd.Flags()
	if !fl.Changed("scheme") {
		df.Prepare.Scheme = m.Meta.Scheme
	}
	if !fl.Changed("channels") {
		df.Prepare.Channels = data.ChannelSpec(m.Meta.Input.Channels, m.Meta.Input.SourceChannels)
	}
	info := m.Meta.Info
	if v, err := strconv.ParseFloat(info["test_frac"], 64); err == nil && !fl.Changed("test-frac") {
		df.Prepare.TestFrac = v
	}
	if v, err := strconv.ParseUint(info["split_seed"], 10, 64); err == nil && !fl.Changed("split-seed") {
		df.Prepare.SplitSeed = v
	}
	if df.Path == "" {
		if info["data"] == "" {
			return nil, fmt.Errorf("no data file: give --data FILE (the model does not record what it was trained on)")
		}
		if _, err := os.Stat(info["data"]); err != nil {
			return nil, fmt.Errorf("no data file: give --data FILE (the model was trained on %s, which is not there)", info["data"])
		}
		df.Path = info["data"]
	}
	_, ds, err := df.load(env.Stderr)
	if err != nil {
		return nil, err
	}
	if err := m.Check(ds); err != nil {
		return nil, err
	}
	return ds, nil
}
