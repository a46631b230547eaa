package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"galaxy/data"
	"galaxy/data/synth"
	"galaxy/internal/atomicfile"
	"galaxy/model"
	"galaxy/model/seed"
	"galaxy/report"
	"galaxy/train"
)

type trainFlags struct {
	df        dataFlags
	arch      string
	hidden    int
	steps     int
	lr        float64
	evalEvery int
	batch     int
	batchMode string
	seed      uint64
	out       string
	report    bool // --report: also write out/report.html (report.go)

	checkpointEvery int    // --checkpoint-every: steps between checkpoints (0: off)
	resume          string // --resume DIR: continue DIR's run from its checkpoint

	cnn cnnFlags // --model cnn, cnn-ref (train_cnn.go)
}

func newTrainCmd(env Env) *cobra.Command {
	var f trainFlags
	cmd := &cobra.Command{
		Use:   "train [--data FILE] [--scheme S] [--channels g] [--steps 100000] [--out DIR]",
		Short: "Train a classifier and write the model, its learning curve and plots",
		Long: `train fits a model to the training split and records, every --eval-every steps, the
test accuracy and loss. The default model is the course assignment's network,
sigmoid(W2 tanh(W1 v + b1) + b2), trained by stochastic gradient descent on one
random training image per step. Without --data it trains on the built-in synthetic
galaxies (6000 of the course's five classes; see galaxy synth).

It writes into --out (each file atomically): model (for eval, predict, serve),
curve.csv (step, train loss, test loss, test accuracy), accuracy.png/.svg (test
accuracy against step), loss.png/.svg, and metrics.json (final figures, seed, flags,
wall time). Ctrl-C stops cleanly and still writes what was learned.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runTrain(ctx, env, &f, cmd)
		},
	}
	f.df.register(cmd, "g")
	fl := cmd.Flags()
	fl.StringVar(&f.arch, "model", model.ArchSeed, "model: seed-mlp (the assignment's network), cnn (convolutional network: 4 blocks conv3x3-batch norm-ReLU of widths 32,64,128,128, 2x2 max-pool after the first three, global average pool, dropout 0.3, dense; all channels; 30 epochs of Adam 1e-3 with cosine decay, batch 64, D4 and shift augmentation, label smoothing 0.1, logit adjustment for the rare classes, TTA; see --epochs, --widths) or cnn-ref (the reference architecture for speed comparisons: the same network, 25 epochs, no label smoothing or logit adjustment)")
	fl.IntVar(&f.hidden, "hidden", 100, "hidden units d of the seed network")
	fl.IntVar(&f.steps, "steps", 100000, "SGD steps")
	fl.Float64Var(&f.lr, "lr", 0.001, "learning rate")
	fl.IntVar(&f.evalEvery, "eval-every", 2000, "evaluate the test split every this many steps")
	fl.IntVar(&f.batch, "batch", 1, "images per step: the mean gradient over this many random images")
	fl.StringVar(&f.batchMode, "batch-mode", "vector", "vector (the whole batch as matrix products) or loop (one image at a time, the reference)")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed (initialisation and the draw of images)")
	fl.StringVar(&f.out, "out", "run", "output folder")
	registerCNNFlags(fl, &f.cnn)
	fl.BoolVar(&f.report, "report", false, "at the end, also write report.html: the run's HTML report (see galaxy report)")
	// Crash-safe training of the seed network (checkpointFile, resumeFlags).
	fl.IntVar(&f.checkpointEvery, "checkpoint-every", 10000, "write out/checkpoint every this many steps (and on Ctrl-C and at the end) for seed-mlp, after every epoch for cnn (any value > 0); 0: no checkpoints")
	fl.StringVar(&f.resume, "resume", "", "continue the run in DIR from its checkpoint with the flags it recorded (same final weights as a run never stopped; a cnn repeats the epoch it was in)")
	return cmd
}

// loadData makes the output folder and loads the training data: --data, or
// with none the built-in synthetic galaxies (said on the first line). Both
// splits must be non-empty.
func (f *trainFlags) loadData(env Env) (*data.Raw, *data.Dataset, error) {
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return nil, nil, fmt.Errorf("output folder: %w", err)
	}
	if f.df.path == "" { // no --data: the built-in synthetic galaxies (synth.go)
		f.df.path = synth.BuiltinName
		fmt.Fprintf(env.Stderr, "no --data: training on %d built-in synthetic galaxies (classes of course5, seed %d); for real galaxies give --data galaxy10 (downloads 210 MB once) or --data FILE\n", synth.DefaultN, synth.DefaultSeed)
	}
	raw, ds, err := f.df.load(env.Stderr)
	if err != nil {
		return nil, nil, err
	}
	if ds.Train.Len() == 0 || ds.Test.Len() == 0 {
		return nil, nil, fmt.Errorf("%s: the split has %d training and %d test images; need both", raw.Path, ds.Train.Len(), ds.Test.Len())
	}
	return raw, ds, nil
}

func runTrain(ctx context.Context, env Env, f *trainFlags, cmd *cobra.Command) error {
	var from *train.State // --resume: the checkpoint's state
	var fromModel *model.Model
	if f.resume != "" { // sets the flags (--model included) the checkpoint recorded
		var err error
		if fromModel, from, err = resumeFlags(f, cmd); err != nil {
			return err
		}
	}
	if f.checkpointEvery < 0 {
		return fmt.Errorf("--checkpoint-every %d: must be 0 (off) or more", f.checkpointEvery)
	}
	if f.arch != model.ArchSeed {
		if f.arch == model.ArchCNN || f.arch == model.ArchCNNRef {
			return runTrainCNN(ctx, env, f, cmd, fromModel, from)
		}
		return fmt.Errorf("--model %q: unknown model (known: %s, %s, %s)", f.arch, model.ArchSeed, model.ArchCNN, model.ArchCNNRef)
	}
	if f.hidden < 1 {
		return fmt.Errorf("--hidden %d: need at least 1 hidden unit", f.hidden)
	}
	recorded := recordedFlags(cmd) // before the defaults below change any
	if f.batch < 1 {
		return fmt.Errorf("--batch %d: need at least 1 image per step", f.batch)
	}
	mode, err := seed.ParseMode(f.batchMode)
	if err != nil {
		return fmt.Errorf("--batch-mode: %w", err)
	}
	cfg := train.Config{Steps: f.steps, LR: float32(f.lr), EvalEvery: f.evalEvery, Seed: f.seed, Batch: f.batch, Mode: mode}
	if err := cfg.Check(); err != nil {
		return err
	}
	if f.lr > 1e6 {
		return fmt.Errorf("--lr %v: the learning rate is absurdly large", f.lr)
	}
	raw, ds, err := f.loadData(env)
	if err != nil {
		return err
	}
	sum := train.DataSum(ds.Train, ds.Test)
	src := train.NewPCG(f.seed)
	var net *seed.Net
	if from != nil { // --resume: the checkpoint's weights and random state
		if from.Data != sum {
			return fmt.Errorf("--resume %s: the data changed since the checkpoint (%s prepares to SHA-256 %.12s..., the checkpoint was trained on %.12s...); start a new run", f.resume, raw.Path, sum, from.Data)
		}
		var ok bool
		if net, ok = fromModel.Net.(*seed.Net); !ok {
			return fmt.Errorf("--resume %s: the checkpoint holds no seed network", f.resume)
		}
		if n, d, k := net.Sizes(); n != ds.Dim() || d != f.hidden || k != ds.Scheme.K() {
			return fmt.Errorf("--resume %s: the checkpoint's network (n=%d, d=%d, k=%d) does not fit the data (n=%d, k=%d)", f.resume, n, d, k, ds.Dim(), ds.Scheme.K())
		}
		if src, err = from.RestorePCG(); err != nil {
			return fmt.Errorf("--resume %s: %w", f.resume, err)
		}
		fmt.Fprintf(env.Stderr, "resuming %s from its checkpoint at step %d of %d\n", f.resume, from.Step, f.steps)
	} else if net, err = seed.New(ds.Dim(), f.hidden, ds.Scheme.K(), rand.New(src)); err != nil {
		return err
	}
	m := model.NewSeed(net, ds, f.df.channels, raw.C)
	m.Meta.Info["data"] = raw.Path
	m.Meta.Info["seed"] = strconv.FormatUint(f.seed, 10)
	m.Meta.Info["split_seed"] = strconv.FormatUint(f.df.splitSeed, 10)
	m.Meta.Info["test_frac"] = strconv.FormatFloat(f.df.testFrac, 'g', -1, 64)
	fmt.Fprintf(env.Stderr, "training %s (n=%d, d=%d, k=%d) on %d images, testing on %d: %d steps of batch %d (%s), lr %g, seed %d\n",
		f.arch, ds.Dim(), f.hidden, ds.Scheme.K(), ds.Train.Len(), ds.Test.Len(), f.steps, f.batch, mode, f.lr, f.seed)

	obs, finish := progress(env.Stderr, f.steps)
	start := time.Now()
	ckPath := filepath.Join(f.out, checkpointFile)
	ck := train.Checkpointing{From: from, Every: f.checkpointEvery}
	if f.checkpointEvery > 0 {
		ck.Save = func(st *train.State) error {
			st.Flags, st.Data = recorded, sum
			m.Meta.Info["steps"] = strconv.Itoa(st.Step)
			return train.WriteCheckpoint(ckPath, m, st)
		}
	}
	res, err := train.SGDResumable(ctx, net, ds.Train, ds.Test, cfg, src, ck, obs)
	finish()
	if err != nil {
		return diskFull(err, f)
	}
	wall := time.Since(start)
	last := res.Curve[len(res.Curve)-1]
	if res.Interrupted {
		fmt.Fprintf(env.Stderr, "interrupted after %d steps: writing what was learned\n", res.Steps)
	}
	m.Meta.Info["steps"] = strconv.Itoa(res.Steps)
	if err := m.Save(filepath.Join(f.out, "model")); err != nil {
		return diskFull(err, f)
	}
	if err := writeCurve(filepath.Join(f.out, "curve.csv"), res.Curve); err != nil {
		return diskFull(err, f)
	}
	if err := plotCurves(f.out, res.Curve, ds.MajorityAccuracy(ds.Test), f.arch, ds.Scheme.Name); err != nil {
		return diskFull(err, f)
	}
	metrics := map[string]any{
		"model": f.arch, "data": raw.Path, "scheme": ds.Scheme.Name, "channels": f.df.channels,
		"n_train": ds.Train.Len(), "n_test": ds.Test.Len(), "dim": ds.Dim(),
		"seed": f.seed, "split_seed": f.df.splitSeed, "test_frac": f.df.testFrac,
		"steps": res.Steps, "interrupted": res.Interrupted,
		"flags":              flagValues(cmd),
		"test_accuracy":      last.TestAccuracy,
		"test_loss":          last.TestLoss,
		"train_loss":         last.TrainLoss,
		"best_test_accuracy": bestAccuracy(res.Curve),
		"majority_accuracy":  ds.MajorityAccuracy(ds.Test),
		"wall_seconds":       wall.Seconds(),
		"step_ms":            float64(res.StepTime) / 1e6,
	}
	if err := writeJSON(filepath.Join(f.out, "metrics.json"), metrics); err != nil {
		return diskFull(err, f)
	}
	fmt.Fprintf(env.Stdout, "test accuracy %.4f (majority class %.4f) after %d steps in %.1fs; wrote %s\n",
		last.TestAccuracy, ds.MajorityAccuracy(ds.Test), res.Steps, wall.Seconds(), f.out)
	if f.report { // --report (report.go)
		return runReport(env, f.out, ds)
	}
	return nil
}

// diskFull adds to a write error from a full disk what was kept and how to
// go on: files are written atomically (package atomicfile), so the previous
// checkpoint and model are whole.
func diskFull(err error, f *trainFlags) error {
	if !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	if f.checkpointEvery > 0 {
		if _, _, cerr := train.ReadCheckpoint(filepath.Join(f.out, checkpointFile)); cerr == nil {
			return fmt.Errorf("%w (the last checkpoint in %s is intact: free some space and continue with galaxy train --resume %s)", err, f.out, f.out)
		}
	}
	return fmt.Errorf("%w (files already in %s are intact; free some space and run again)", err, f.out)
}

// checkpointFile is the name of a run's checkpoint in its output folder (a
// model file with the training state in its header; see train.WriteCheckpoint).
const checkpointFile = "checkpoint"

// notRecorded are the train flags a checkpoint does not record: they do not
// change what is learned, so --resume takes them afresh.
var notRecorded = map[string]bool{"resume": true, "out": true, "report": true, "help": true}

// recordedFlags returns the flags a checkpoint records.
func recordedFlags(cmd *cobra.Command) map[string]string {
	out := map[string]string{}
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if !notRecorded[fl.Name] {
			out[fl.Name] = fl.Value.String()
		}
	})
	return out
}

// resumeFlags reads --resume DIR's checkpoint and sets the command's flags to
// those it recorded, refusing any flag given on the command line with another
// value. The run continues in DIR.
func resumeFlags(f *trainFlags, cmd *cobra.Command) (*model.Model, *train.State, error) {
	dir := f.resume
	if cmd.Flags().Changed("out") && filepath.Clean(f.out) != filepath.Clean(dir) {
		return nil, nil, fmt.Errorf("--resume %s continues in %s; --out %s conflicts (leave --out out)", dir, dir, f.out)
	}
	m, st, err := train.ReadCheckpoint(filepath.Join(dir, checkpointFile))
	if errors.Is(err, train.ErrNoCheckpoint) {
		return nil, nil, fmt.Errorf("--resume %s: the run is incomplete and has no checkpoint to resume from (it stopped before its first one); start it again", dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--resume %s: %w", dir, err)
	}
	fl := cmd.Flags()
	for name, v := range st.Flags {
		if notRecorded[name] {
			continue
		}
		cur := fl.Lookup(name)
		if cur == nil {
			return nil, nil, fmt.Errorf("--resume %s: the checkpoint records flag --%s, which this galaxy does not know", dir, name)
		}
		if fl.Changed(name) && cur.Value.String() != v {
			return nil, nil, fmt.Errorf("--resume %s: --%s %s conflicts with the checkpoint's --%s %s (a resumed run keeps its flags)", dir, name, cur.Value.String(), name, v)
		}
		if cur.Value.String() == v {
			continue // as it is: a default stays a default (the cnn's depend on other flags)
		}
		if err := fl.Set(name, v); err != nil {
			return nil, nil, fmt.Errorf("--resume %s: flag --%s %q: %w", dir, name, v, err)
		}
	}
	f.out = dir
	return m, st, nil
}

// progress returns an observer that draws a progress bar on a terminal and
// prints plain lines at each evaluation otherwise.
func progress(w io.Writer, steps int) (train.Observer, func()) {
	if !isTerminal(w) {
		return train.Observer{Eval: func(p train.Point) {
			fmt.Fprintf(w, "step %d: train loss %.4f, test loss %.4f, test accuracy %.4f\n", p.Step, p.TrainLoss, p.TestLoss, p.TestAccuracy)
		}}, func() {}
	}
	bar := progressbar.NewOptions(steps, progressbar.OptionSetWriter(w), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("steps"), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(true))
	done := 0
	return train.Observer{
			Step: func(step int) { bar.Add(step - done); done = step },
			Eval: func(p train.Point) { bar.Describe(fmt.Sprintf("test acc %.4f", p.TestAccuracy)) },
		}, func() {
			bar.Finish()
			fmt.Fprintln(w)
		}
}

func bestAccuracy(c []train.Point) float64 {
	b := 0.0
	for _, p := range c {
		b = max(b, p.TestAccuracy)
	}
	return b
}

func flagValues(cmd *cobra.Command) map[string]string {
	out := map[string]string{}
	cmd.Flags().VisitAll(func(f *pflag.Flag) { out[f.Name] = f.Value.String() })
	return out
}

func writeCurve(path string, curve []train.Point) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"step", "train_loss", "test_loss", "test_accuracy"})
		for _, p := range curve {
			cw.Write([]string{strconv.Itoa(p.Step), ff(p.TrainLoss), ff(p.TestLoss), ff(p.TestAccuracy)})
		}
		cw.Flush()
		return cw.Error()
	})
}

func ff(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

func plotCurves(dir string, curve []train.Point, majority float64, arch, sch string) error {
	acc, loss := report.CurveCharts(curve, majority, arch, sch)
	if err := acc.Save(filepath.Join(dir, "accuracy")); err != nil {
		return err
	}
	return loss.Save(filepath.Join(dir, "loss"))
}
