package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	fmt.Fprintf(env.Stdout, "wrote %s (%.1f MB): %s\n", out, float64(size)/1e6, a.Summary(split))
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
// expects unless the flags say otherwise (train.RecordedSource: its scheme,
// channels and split, and without --data the file it was trained on).
func loadForModel(cmd *cobra.Command, env Env, df *dataFlags, m *model.Model) (*data.Dataset, error) {
	ds, err := loadDataFor(cmd, env, df, m)
	if err != nil {
		return nil, err
	}
	return ds, m.Check(ds)
}

// loadDataFor is loadForModel without checking that the data fit the
// model's classes.
func loadDataFor(cmd *cobra.Command, env Env, df *dataFlags, m *model.Model) (*data.Dataset, error) {
	src := train.RecordedSource(m)
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	registerData(fs, &src, src.Prepare.Channels, "")
	if err := overlay(cmd.Flags(), fs, nil); err != nil {
		return nil, err
	}
	if !cmd.Flags().Changed("data") {
		if src.Path == "" {
			return nil, fmt.Errorf("no data file: give --data FILE (the model does not record what it was trained on)")
		}
		if _, err := os.Stat(src.Path); err != nil {
			return nil, fmt.Errorf("no data file: give --data FILE (the model was trained on %s, which is not there)", src.Path)
		}
	}
	df.Source = src
	_, ds, err := df.load(env.Stderr)
	return ds, err
}
