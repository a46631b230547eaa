package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"galaxy/data/cutout"
	"galaxy/model"
	"galaxy/predict"
)

func newPredictCmd(env Env) *cobra.Command {
	var (
		mpath, out, format string
		cat                predict.CatalogOptions
		resume             bool
		workers, batch     int
		maxPixels          int
	)
	cmd := &cobra.Command{
		Use:   "predict --model M [--out F] [--format csv|jsonl] [--resume] INPUT...",
		Short: "Classify new galaxy images (files, folders, catalog CSVs) with a saved model",
		Long: `predict classifies JPEG, PNG and FITS cutouts with a saved model. Each INPUT is an
image file, a folder (its .jpg/.jpeg/.png/.fits/.fit/.fts files, by name) or a catalog
CSV (--file-column, default file, paths relative to the catalog; --id-column, default
id, objid or galaxy_id when present, else the file's name without extension).

Each image is prepared as the model's training data was: the Galaxy10 recipe (centre
crop 207/424 of the side, then resampling to 69x69), the model's channels and scale.
FITS flux (2-D or 3-D image HDUs) is first mapped to 0..255 with an arcsinh stretch
(see package data/fits).

Output (CSV on standard output or --out, or --format jsonl), one row per input in input
order: id, file, class (the class number), class_name, p_<class> per class (the class
name lower-cased, other characters as _), error (empty, or why the file could not be
read; the run goes on). With --resume (needs --out) an interrupted run continues: rows
already written are kept and their inputs skipped, a partial last line is dropped.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("no inputs: give image files, folders or a catalog CSV")
			}
			if resume && out == "" {
				return fmt.Errorf("--resume needs --out FILE (standard output cannot be resumed)")
			}
			if format != predict.FormatCSV && format != predict.FormatJSONL {
				return fmt.Errorf("--format %q: want csv or jsonl", format)
			}
			if batch < 1 {
				return fmt.Errorf("--batch %d: want at least 1", batch)
			}
			m, err := model.Load(mpath)
			if err != nil {
				return err
			}
			prep, err := predict.NewPreparer(m, cutout.Limits{MaxPixels: maxPixels})
			if err != nil {
				return fmt.Errorf("%s: %w", mpath, err)
			}
			for _, a := range args {
				if predict.IsCatalog(a) {
					if _, err := os.Stat(a); err != nil {
						return fmt.Errorf("%s: no such catalog", a)
					}
				}
			}
			var (
				w       io.Writer = env.Stdout
				skip    int
				last    string
				hasHead bool
			)
			if out != "" {
				flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
				if resume {
					if skip, last, hasHead, err = predict.Resume(out, format, m.Meta.Classes); err != nil {
						return err
					}
					flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
				}
				f, err := os.OpenFile(out, flags, 0o644)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			pw, err := predict.NewWriter(w, format, m.Meta.Classes, format == predict.FormatCSV && !hasHead)
			if err != nil {
				return err
			}
			total := predict.Count(args, cat)
			if skip > 0 {
				fmt.Fprintf(env.Stderr, "resuming: %d rows already in %s\n", skip, out)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			start := time.Now()
			bar := newPredictBar(env.Stderr, total-skip)
			var iterErr error
			st, err := predict.Run(ctx, predict.Config{Model: m, Prep: prep, Workers: workers, Batch: batch,
				Skip: skip, SkipLastFile: last, Progress: bar.update}, predict.Inputs(args, cat, &iterErr), &iterErr, pw)
			bar.finish()
			secs := time.Since(start).Seconds()
			fmt.Fprintf(env.Stderr, "%d images classified in %.1fs (%.0f images/s), %d could not be read\n", st.Rows, secs, float64(st.Rows)/secs, st.Errors)
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("interrupted after %d rows; run again with --resume to continue", skip+st.Rows)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&mpath, "model", "", "saved model (the model file in a training run's folder)")
	fl.StringVar(&out, "out", "", "output file (default: standard output)")
	fl.StringVar(&format, "format", "csv", "output format: csv or jsonl")
	fl.StringVar(&cat.FileColumn, "file-column", "file", "catalog column with the cutout's path (relative to the catalog)")
	fl.StringVar(&cat.IDColumn, "id-column", "", "catalog column with the id (default id, objid or galaxy_id when present, else the file's name)")
	fl.BoolVar(&resume, "resume", false, "continue an interrupted run: keep the rows already in --out, skip their inputs")
	fl.IntVar(&workers, "workers", 0, "goroutines decoding images (default: the number of cores)")
	fl.IntVar(&batch, "batch", 64, "images scored together")
	fl.IntVar(&maxPixels, "max-pixels", cutout.DefaultMaxPixels, "largest image (width*height) decoded; larger ones become error rows")
	cmd.MarkFlagRequired("model")
	return cmd
}

// predictBar draws images/s and ETA on a terminal, and a line every 10 s
// elsewhere.
type predictBar struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	done  int
	total int
	last  time.Time
	start time.Time
}

func newPredictBar(w io.Writer, total int) *predictBar {
	b := &predictBar{w: w, total: total, start: time.Now(), last: time.Now()}
	if isTerminal(w) {
		b.bar = progressbar.NewOptions(max(total, -1), progressbar.OptionSetWriter(w), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("images"), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(true))
	}
	return b
}

func (b *predictBar) update(done int) {
	if b.bar != nil {
		b.bar.Add(done - b.done)
	} else if time.Since(b.last) >= 10*time.Second {
		b.last = time.Now()
		rate := float64(done) / time.Since(b.start).Seconds()
		eta := ""
		if b.total > 0 && rate > 0 {
			eta = fmt.Sprintf(", ETA %s", (time.Duration(float64(b.total-done)/rate) * time.Second).Round(time.Second))
		}
		fmt.Fprintf(b.w, "%d/%d images, %.0f images/s%s\n", done, b.total, rate, eta)
	}
	b.done = done
}

func (b *predictBar) finish() {
	if b.bar != nil {
		b.bar.Finish()
		fmt.Fprintln(b.w)
	}
}
