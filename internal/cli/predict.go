package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/data/fetch"
	"galaxy/data/load"
	"galaxy/data/scheme"
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
		src                = load.DefaultSource()
	)
	cmd := &cobra.Command{
		Use:   "predict [--model M|builtin] [--out F] [--format csv|jsonl] [--resume] (INPUT... | --data FILE)",
		Short: "Classify new galaxy images (files, folders, catalog CSVs, data files) with a saved model",
		Long: `predict classifies JPEG, PNG and FITS cutouts with a saved model (without --model, the
built-in one: a cnn trained on Galaxy Zoo 1's morph4 classes). Each INPUT is an
image file, a folder (its .jpg/.jpeg/.png/.fits/.fit/.fts files, by name) or a catalog
CSV (--file-column, default file, paths relative to the catalog; --id-column, default
id, objid or galaxy_id when present, else the file's name without extension).

Each image is prepared as the model's training data was: the Galaxy10 recipe (centre
crop 207/424 of the side, then resampling to 69x69), or for a model trained on other
sizes (--resize) the area-averaged central square, the model's channels and scale.
FITS flux (2-D or 3-D image HDUs) is first mapped to 0..255 with an arcsinh stretch
(see package data/fits).

Output (CSV on standard output or --out, or --format jsonl), one row per input in input
order: id, file, then ra, dec and redshift where the catalogs have them, class (the class
number), class_name, p_<class> per class (the class name lower-cased, other characters
as _), for a model with novelty statistics (the built-in one, and cnn and seed-mlp runs)
novelty (how unlike its training galaxies the image is) and warning (empty, or why the
image looks like no galaxy the model knows), then error (empty, or why the file could
not be read; the run goes on). With --resume (needs --out) an interrupted run continues: rows
already written are kept and their inputs skipped, a partial last line is dropped.

With --data FILE instead of INPUTs, predict classifies every image of a data file
(Galaxy10-layout .h5 such as Galaxy10_DECals.h5, the course's pickle, .npz/.npy; or a
published data set by name, as --data names it elsewhere), in file order, labelled or
not, whatever the model's classes: each is prepared as the model's training images were
(its channels; area-averaged to its size). The rows then carry, after file, row (the
image's position in the file) and label (the file's own class name for it, empty when
the file has none); id is the file's object id, else the position.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fromData := cmd.Flags().Changed("data")
			switch {
			case fromData && len(args) > 0:
				return fmt.Errorf("give INPUT... (cutouts) or --data FILE (a data file), not both")
			case !fromData && len(args) == 0:
				return fmt.Errorf("no inputs: give image files, folders or a catalog CSV, or --data FILE")
			}
			if err := noDataFiles(args); err != nil {
				return err
			}
			if batch < 1 {
				return fmt.Errorf("--batch %d: want at least 1", batch)
			}
			m, err := loadModel(&mpath, env.Stderr)
			if err != nil {
				return err
			}
			prep, err := predict.NewPreparer(m, cutout.Limits{MaxPixels: maxPixels})
			if err != nil {
				return fmt.Errorf("%s: %w", mpath, err)
			}
			var (
				items    func(func(predict.Item) bool)
				total    int
				cols     []predict.Option
				features func(predict.Item, []float32) error // nil: the items are image files
			)
			var iterErr error
			if fromData {
				raw, err := readDataFor(cmd, m, src)
				if err != nil {
					return err
				}
				d, err := predict.DataInputs(m, raw)
				if err != nil {
					return err
				}
				items, total, features = d.Items(), d.Len(), d.Features
				cols = predict.DataOutputColumns(m)
			} else {
				if cols, err = predict.Columns(m, args, &cat); err != nil {
					return err
				}
				items, total = predict.Inputs(args, cat, &iterErr), predict.Count(args, cat)
			}
			pw, err := predict.OpenOutput(out, format, m.Meta.Classes, resume, env.Stdout, cols...)
			if err != nil {
				return err
			}
			defer pw.Close()
			skip := pw.Skip
			if skip > 0 {
				fmt.Fprintf(env.Stderr, "resuming: %d rows already in %s\n", skip, out)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			start := time.Now()
			bar := newMeter(env.Stderr, "predict", "images", int64(total), false)
			bar.set(int64(skip))
			st, err := predict.Run(ctx, predict.Config{Model: m, Prep: prep, Features: features, Workers: workers, Batch: batch,
				Skip: skip, SkipLastFile: pw.LastFile, Progress: func(done int) { bar.set(int64(skip + done)) }}, items, &iterErr, pw.Writer)
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
	modelFlag(fl, &mpath)
	fl.StringVar(&out, "out", "", "output file (default: standard output)")
	fl.StringVar(&format, "format", "csv", "output format: csv or jsonl")
	fl.StringVar(&cat.FileColumn, "file-column", "file", "catalog column with the cutout's path (relative to the catalog)")
	fl.StringVar(&cat.IDColumn, "id-column", "", "catalog column with the id (default id, objid or galaxy_id when present, else the file's name)")
	fl.BoolVar(&resume, "resume", false, "continue an interrupted run: keep the rows already in --out, skip their inputs")
	fl.IntVar(&workers, "workers", 0, "goroutines decoding images (default: the number of cores)")
	fl.IntVar(&batch, "batch", 64, "images scored together")
	fl.IntVar(&maxPixels, "max-pixels", cutout.DefaultMaxPixels, "largest image (width*height) decoded; larger ones become error rows")
	fl.StringVar(&src.Path, "data", "", "classify every image of this data file instead of INPUTs: .h5 (Galaxy10 layout), .pkl[.gz], .npz/.npy, or a name: "+strings.Join(fetch.Names(), ", ")+" (downloaded once into the cache)")
	fl.StringVar(&src.Read.Labels, "labels", "", "with --data: label space of the file's codes: "+strings.Join(scheme.Spaces(), ", ")+" (default: guessed)")
	return cmd
}

// noDataFiles refuses INPUTs that are data files of arrays, which predict
// and embed read with --data, not as images.
func noDataFiles(args []string) error {
	for _, a := range args {
		if load.IsDataFile(a) {
			return fmt.Errorf("%s is a data file, not an image: give it as --data %s", a, a)
		}
	}
	return nil
}

// readDataFor reads every image of the data set src names, as model m's
// training images were read (src's preparation is m's: a reader that can
// resize while reading does).
func readDataFor(cmd *cobra.Command, m *model.Model, src load.Source) (*data.Raw, error) {
	src.Prepare = m.Preparation()
	return src.Raw(cmd.Context(), nil)
}
