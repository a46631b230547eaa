// Package cli implements the galaxy command line: one file per subcommand,
// each a thin layer that parses flags, calls the packages that do the work,
// and reports in one clear line when something is wrong.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"galaxy/data"
	"galaxy/data/load"
	"galaxy/data/scheme"
	"galaxy/model"
	_ "galaxy/model/archs" // every architecture, for model.Load and train --arch
	"galaxy/model/builtin"
)

// Env is what a command may touch outside its flags.
type Env struct {
	Stdout, Stderr io.Writer
}

// NewRoot builds the galaxy command tree.
func NewRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "galaxy",
		Short: "Teach a computer to sort galaxies by shape, from survey cutouts",
		Long: `galaxy reads SDSS galaxy cutouts with Galaxy Zoo labels (Galaxy10 HDF5 files, the
course's pickle, NumPy files, catalogs of JPEG/PNG cutouts), trains classifiers on
them (the course assignment's network, and better ones), and evaluates and applies
the saved models.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newInfoCmd(env), newShowCmd(env), newTrainCmd(env), newEvalCmd(env), newBenchCmd(env), newInspectCmd(env), newErrorsCmd(env), newReportCmd(env), newSynthCmd(env), newFetchCmd(env), newPredictCmd(env), newServeCmd(env), newExportCmd(env), newEmbedCmd(env), newSimilarCmd(env))
	return root
}

// Main runs the command line and returns the process exit code; errors are
// printed as one line on stderr.
func Main(args []string, env Env) int {
	root := NewRoot(env)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(env.Stderr, "galaxy: %v\n", err)
		return 1
	}
	return 0
}

// dataFlags are the flags every command that reads a data file shares:
// the data file, and how it is read and prepared.
type dataFlags struct{ load.Source }

func (f *dataFlags) register(cmd *cobra.Command, channelsDefault string) {
	f.Source = load.DefaultSource()
	registerData(cmd.Flags(), &f.Source, channelsDefault, "")
}

// registerData binds the data flags to s, whose values are the defaults
// (the channels' is channelsDefault); chHelp is added to the channels
// flag's help.
func registerData(fl *pflag.FlagSet, s *load.Source, channelsDefault, chHelp string) {
	fl.StringVar(&s.Path, "data", s.Path, "data file: .h5 (Galaxy10 layout), .pkl[.gz] (course tuple), .npz/.npy, or a .csv catalog of cutouts; or a name: "+dataNames()+" (synth: built-in synthetic galaxies; the others are downloaded once into the cache)")
	fl.StringVar(&s.Prepare.Scheme, "scheme", s.Prepare.Scheme, "class scheme: "+strings.Join(scheme.Names(), ", ")+" (default: the file's own; morph4 for Galaxy Zoo 1 files)")
	fl.StringVar(&s.Prepare.Channels, "channels", channelsDefault, "channels: all, g, r, i (bands of an SDSS i,r,g composite), or indices like 0,2"+chHelp)
	fl.Float64Var(&s.Prepare.TestFrac, "test-frac", s.Prepare.TestFrac, "fraction of each class held out for testing (files with their own split keep it)")
	fl.Uint64Var(&s.Prepare.SplitSeed, "split-seed", s.Prepare.SplitSeed, "seed of the stratified train/test split")
	fl.IntVar(&s.Prepare.Resize, "resize", s.Prepare.Resize, "area-average the (square) images to N x N pixels, e.g. 128 for Galaxy10 DECaLS's 256 (0: as stored)")
	fl.StringVar(&s.Read.Labels, "labels", s.Read.Labels, "label space of the file's codes: "+strings.Join(scheme.Spaces(), ", ")+" (default: guessed)")
	fl.StringVar(&s.Read.FileColumn, "file-column", s.Read.FileColumn, "catalog column with the cutout's path (relative to the catalog)")
	fl.StringVar(&s.Read.LabelColumn, "label-column", s.Read.LabelColumn, "catalog column with the label code (default label, else gz1_class, galaxy10_class, class or ans)")
}

// modelFlag registers --model.
func modelFlag(fl *pflag.FlagSet, mpath *string) {
	fl.StringVar(mpath, "model", "", "saved model (the model file of a training run), or "+builtin.Name+" for the model galaxy ships with")
}

// loadModel loads the model file at *mpath, or the built-in model when it
// is builtin.Name or empty (then set to builtin.Name and said on log).
func loadModel(mpath *string, log io.Writer) (*model.Model, error) {
	if *mpath == "" {
		fmt.Fprintf(log, "using %s (--model names another)\n", builtin.Describe())
		*mpath = builtin.Name
	}
	return builtin.Load(*mpath)
}

// load reads and prepares the data set the flags name (load.Open), a
// published one downloaded first when missing, logging to log.
func (f *dataFlags) load(log io.Writer) (*data.Raw, *data.Dataset, error) {
	if f.Path == "" {
		return nil, nil, fmt.Errorf("no data file: give --data FILE (or --data synth, --data galaxy10)")
	}
	// Ctrl-C stops a download (resumable); the command's own handler may be
	// installed already.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fe, err := newFetcher("", "", log)
	if err != nil {
		fe = nil // no cache folder: files still read; load.Open says why where a data set needs it
	}
	return load.Open(ctx, f.Source, fe, log)
}

// overlay sets on fs each flag given on the command line (a changed flag of
// fl) that fs has, so that fs's variables hold the defaults they were bound
// with except where the user chose; vet, if not nil, may refuse a flag
// (had: fs's value before).
func overlay(fl, fs *pflag.FlagSet, vet func(f *pflag.Flag, had string) error) error {
	var err error
	fl.Visit(func(f *pflag.Flag) {
		to := fs.Lookup(f.Name)
		if err != nil || to == nil {
			return
		}
		if vet != nil {
			if err = vet(f, to.Value.String()); err != nil {
				return
			}
		}
		var serr error
		if sv, ok := f.Value.(pflag.SliceValue); ok { // String() writes [a,b]
			serr = to.Value.(pflag.SliceValue).Replace(sv.GetSlice())
		} else {
			serr = fs.Set(f.Name, f.Value.String())
		}
		if serr != nil {
			err = fmt.Errorf("--%s: %w", f.Name, serr)
		}
	})
	return err
}
