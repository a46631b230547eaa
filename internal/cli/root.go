// Package cli implements the galaxy command line: one file per subcommand,
// each a thin layer that parses flags, calls the packages that do the work,
// and reports in one clear line when something is wrong.
package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"galaxy/data"
	"galaxy/data/scheme"
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
	root.AddCommand(newInfoCmd(env), newShowCmd(env), newTrainCmd(env), newEvalCmd(env), newBenchCmd(env), newInspectCmd(env), newErrorsCmd(env), newReportCmd(env), newSynthCmd(env), newFetchCmd(env), newPredictCmd(env), newServeCmd(env), newExportCmd(env))
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

// dataFlags are the flags every command that reads a data file shares.
type dataFlags struct {
	path        string
	scheme      string
	channels    string
	testFrac    float64
	splitSeed   uint64
	labels      string
	fileColumn  string
	labelColumn string
}

func (f *dataFlags) register(cmd *cobra.Command, channelsDefault string) {
	fl := cmd.Flags()
	fl.StringVar(&f.path, "data", "", "data file: .h5 (Galaxy10 layout), .pkl[.gz] (course tuple), .npz/.npy, or a .csv catalog of cutouts; or a name: "+dataNames()+" (synth: built-in synthetic galaxies; the others are downloaded once into the cache)")
	fl.StringVar(&f.scheme, "scheme", "", "class scheme: "+schemeList()+" (default: the file's own; morph4 for Galaxy Zoo 1 files)")
	fl.StringVar(&f.channels, "channels", channelsDefault, "channels: all, g, r, i (bands of an SDSS i,r,g composite), or indices like 0,2")
	fl.Float64Var(&f.testFrac, "test-frac", data.DefaultTestFrac, "fraction of each class held out for testing (files with their own split keep it)")
	fl.Uint64Var(&f.splitSeed, "split-seed", data.DefaultSplitSeed, "seed of the stratified train/test split")
	fl.StringVar(&f.labels, "labels", "", "label space of the file's codes: galaxy10, gz1, spiral or course5 (default: guessed)")
	fl.StringVar(&f.fileColumn, "file-column", "file", "catalog column with the cutout's path (relative to the catalog)")
	fl.StringVar(&f.labelColumn, "label-column", "", "catalog column with the label code (default label, else gz1_class, galaxy10_class, class or ans)")
}

func schemeList() string {
	s := ""
	for i, n := range scheme.Names() {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// load reads and prepares the data file the flags name, logging what was
// read and dropped to log.
func (f *dataFlags) load(log io.Writer) (*data.Raw, *data.Dataset, error) {
	if f.path == "" {
		return nil, nil, fmt.Errorf("no data file: give --data FILE (or --data synth, --data galaxy10)")
	}
	raw, err := f.read(log) // fetch.go: files, synth, galaxy10, ...
	if err != nil {
		return nil, nil, err
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: f.schemeFor(raw), Channels: f.channels, TestFrac: f.testFrac, SplitSeed: f.splitSeed})
	if err != nil {
		return nil, nil, err
	}
	logDataset(log, raw, ds)
	return raw, ds, nil
}

func logDataset(w io.Writer, raw *data.Raw, ds *data.Dataset) {
	fmt.Fprintf(w, "%s: %d images read (%dx%dx%d, %s labels), %d dropped by scheme %s", raw.Path, raw.N, raw.H, raw.W, raw.C, raw.Space, ds.DroppedCount(), ds.Scheme.Name)
	if d := ds.DroppedCount(); d > 0 {
		src, _ := scheme.Get(raw.Space)
		sep := " ("
		for code := 0; code < 1<<16 && d > 0; code++ {
			if c := ds.Dropped[code]; c > 0 {
				name := fmt.Sprintf("code %d", code)
				if src != nil && code < len(src.Classes) {
					name = fmt.Sprintf("code %d %q", code, src.Classes[code])
				}
				fmt.Fprintf(w, "%s%s: %d", sep, name, c)
				sep = ", "
				d -= c
			}
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
}

// isTerminal reports whether w is a terminal (progress bars) rather than a
// file or pipe (plain log lines).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
