package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"galaxy/data/synth"
	"galaxy/model"
	"galaxy/model/builtin"
	"galaxy/model/cnn"
	"galaxy/model/seed"
	"galaxy/train"
)

// The groups of train's flags, in the order help shows them.
var trainGroups = []struct{ name, title string }{
	{"data", "Data"},
	{"run", "Run"},
	{"steps", "Architecture seed-mlp (trained by steps of SGD)"},
	{"epochs", "Architectures cnn and cnn-ref (trained by epochs)"},
}

// trainOnly are train's flags that are not settings of the run: a
// checkpoint does not record them and a resumed run takes them afresh.
var trainOnly = map[string]bool{"resume": true, "out": true, "report": true, "help": true, "width": true, "depth": true}

func newTrainCmd(env Env) *cobra.Command {
	// The flags parse into scratch configurations holding the defaults that
	// help shows: seed-mlp's, and cnn's for the epoch trainer's flags. The
	// defaults that differ by architecture are left zero there and listed.
	seedDef, _ := train.DefaultConfig(seed.Name)
	cnnDef, _ := train.DefaultConfig(cnn.Name)
	seedDef.Batch, seedDef.Data.Prepare.Channels = 0, ""
	cnnDef.Epochs, cnnDef.LabelSmoothing, cnnDef.LogitAdjust, cnnDef.Calibrate = 0, 0, "", false
	cnnDef.Shift, cnnDef.Warmup, cnnDef.KeepLast = 0, 0, false
	var (
		out, resume  string
		report       bool
		width, depth int
		groupOf      = map[string]string{}
	)
	cmd := &cobra.Command{
		Use:   "train [--data FILE] [--arch seed-mlp|cnn|cnn-ref] [--out DIR] [flags]",
		Short: "Train a classifier and write the model, its learning curve and plots",
		Long: `train fits a model to the training split and records the test accuracy and loss as
it learns. The default architecture is the course assignment's network,
sigmoid(W2 tanh(W1 v + b1) + b2), trained by stochastic gradient descent on one
random training image per step; --arch cnn trains a convolutional network. Without
--data it trains on the built-in synthetic galaxies (6000 of the course's five
classes; see galaxy synth).

It writes into --out (each file atomically): model (for eval, predict, serve),
curve.csv (step, train loss, test loss, test accuracy), accuracy.png/.svg,
loss.png/.svg, metrics.json (the settings and final figures) and checkpoint.
Ctrl-C stops cleanly and still writes what was learned; --resume continues.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg, from, err := trainConfig(cmd, groupOf, &out, resume, width, depth)
			if err == nil && from == nil {
				cfg.Date, err = today()
			}
			if err == nil {
				err = cfg.Check()
			}
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("output folder: %w", err)
			}
			if cfg.Data.Path == "" {
				cfg.Data.Path = synth.BuiltinName
				fmt.Fprintf(env.Stderr, "no --data: training on %d built-in synthetic galaxies (classes of course5, seed %d); for real galaxies give --data galaxy10 (downloads 210 MB once) or --data FILE\n", synth.DefaultN, synth.DefaultSeed)
			}
			df := dataFlags{cfg.Data}
			raw, ds, err := df.load(env.Stderr)
			if err != nil {
				return err
			}
			obs, meter := observe(env.Stderr, cfg.Steps)
			met, err := train.Run(ctx, train.Data{Set: ds, Path: raw.Path, SourceChannels: raw.C}, cfg, out, from, obs)
			meter.finish()
			if errors.Is(err, train.ErrResumable) {
				return fmt.Errorf("%w; galaxy train --resume %s continues it", err, out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, met.Summary(out))
			if report {
				return runReport(env, out, ds)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	add := func(group string, reg func(fs *pflag.FlagSet)) {
		fs := pflag.NewFlagSet(group, pflag.ContinueOnError)
		reg(fs)
		fs.VisitAll(func(f *pflag.Flag) { groupOf[f.Name] = group })
		fl.AddFlagSet(fs)
	}
	add("data", func(fs *pflag.FlagSet) {
		registerData(fs, &seedDef.Data, "", archDefaults(func(d model.Defaults) any { return d.Channels }))
	})
	add("run", func(fs *pflag.FlagSet) {
		fs.StringVar(&seedDef.Arch, "arch", seed.Name, "architecture: "+archList())
		fs.StringVar(&out, "out", "run", "output folder")
		fs.StringVar(&resume, "resume", "", "continue the run in DIR from its checkpoint, with the settings it recorded (same final weights as a run never stopped; a cnn repeats the epoch it was in)")
		fs.BoolVar(&report, "report", false, "at the end, also write report.html: the run's HTML report (see galaxy report)")
		bindRun(fs, &seedDef)
		byArch(fs, "batch", func(d model.Defaults) any { return d.Batch })
	})
	add("steps", func(fs *pflag.FlagSet) { bindSteps(fs, &seedDef) })
	add("epochs", func(fs *pflag.FlagSet) {
		bindEpochs(fs, &cnnDef)
		fs.IntVar(&width, "width", 0, "width of the first block; later blocks double it up to 4x (with --depth; instead of --widths)")
		fs.IntVar(&depth, "depth", 0, "number of conv blocks (with --width; default 4)")
		byArch(fs, "epochs", func(d model.Defaults) any { return d.Epochs })
		byArch(fs, "label-smoothing", func(d model.Defaults) any { return d.LabelSmoothing })
		byArch(fs, "shift", func(d model.Defaults) any { return d.Shift })
		byArch(fs, "warmup", func(d model.Defaults) any { return d.Warmup })
		byArch(fs, "keep-last", func(d model.Defaults) any { return d.KeepLast })
		byArch(fs, "logit-adjust", func(d model.Defaults) any { return d.LogitAdjust })
		byArch(fs, "calibrate", func(d model.Defaults) any { return d.Calibrate })
	})
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
		w := c.OutOrStdout()
		fmt.Fprintf(w, "%s\n\nUsage:\n  galaxy %s\n", c.Long, c.Use)
		for _, g := range trainGroups {
			fs := pflag.NewFlagSet(g.name, pflag.ContinueOnError)
			fl.VisitAll(func(f *pflag.Flag) {
				if groupOf[f.Name] == g.name {
					fs.AddFlag(f)
				}
			})
			fmt.Fprintf(w, "\n%s:\n%s", g.title, fs.FlagUsagesWrapped(100))
		}
		fmt.Fprintf(w, "\n  -h, --help   help for train\n")
	})
	return cmd
}

// bindRun, bindSteps and bindEpochs bind train's settings flags to c: the
// command line's flags, and a fresh set over a Config to carry them over
// (trainConfig). The defaults are c's values.
func bindRun(fs *pflag.FlagSet, c *train.Config) {
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (initialisation, the draw of images, augmentation)")
	fs.Float64Var(&c.LR, "lr", c.LR, "learning rate (for epochs: the peak of the schedule)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "images per step")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "write out/checkpoint every this many steps (and on Ctrl-C and at the end) for seed-mlp, after every epoch for cnn (any value > 0); 0: no checkpoints")
	fs.StringVar(&c.Init, "init", c.Init, "fine-tune: start from the trunk (all but the output layer) of this model file, or "+builtin.Name+"; the output layer is new, for the data's classes")
	fs.BoolVar(&c.Novelty, "novelty", c.Novelty, "at the end, fit the novelty statistics (how unlike the training galaxies an input is) that predict and serve report")
	fs.IntVar(&c.TrainN, "train-n", c.TrainN, "train on about N images of the training split, stratified, drawn with --seed (0: all), e.g. to measure how many labels a task needs")
}

func bindSteps(fs *pflag.FlagSet, c *train.Config) {
	fs.IntVar(&c.Spec.Hidden, "hidden", c.Spec.Hidden, "hidden units d")
	fs.IntVar(&c.Steps, "steps", c.Steps, "SGD steps")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "evaluate the test split every this many steps")
	fs.StringVar(&c.BatchMode, "batch-mode", c.BatchMode, "vector (the whole batch as matrix products) or loop (one image at a time, the reference)")
}

func bindEpochs(fs *pflag.FlagSet, c *train.Config) {
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
	fs.IntSliceVar(&c.Spec.Widths, "widths", c.Spec.Widths, "output channels of each conv block, e.g. 24,48,96,96 (sets the depth)")
	fs.IntSliceVar(&c.Spec.Convs, "convs", c.Spec.Convs, "convolutions in each block, e.g. 1,1,2,2 (one count per block; default one each)")
	fs.IntVar(&c.Spec.Crop, "crop", c.Spec.Crop, "the network sees only the central crop x crop pixels of each image (0: the whole image); the margin must be even")
	fs.Float64Var(&c.Spec.Dropout, "dropout", c.Spec.Dropout, "dropout before the dense layer")
	fs.BoolVar(&c.Spec.TTA, "tta", c.Spec.TTA, "classify by averaging the logits of the 8 rotations and flips (saved in the model)")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd (with --momentum), adam or adamw")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "weight decay of conv and dense weights (decoupled for adamw; default 0, 0.01 for adamw)")
	fs.Float64Var(&c.Warmup, "warmup", c.Warmup, "epochs of linear learning-rate warm-up before the cosine decay")
	fs.Float64Var(&c.ValFrac, "val-frac", c.ValFrac, "fraction of the training split held out as the validation part, which chooses the logit adjustment, the temperature and (without --keep-last) the epoch kept (0: none, the last epoch is kept)")
	fs.BoolVar(&c.KeepLast, "keep-last", c.KeepLast, "keep the last epoch's weights rather than the best validation epoch's (the validation part still chooses the logit adjustment and the temperature)")
	fs.IntVar(&c.Patience, "patience", c.Patience, "stop after this many epochs without a better validation accuracy (0: never)")
	fs.BoolVar(&c.Augment, "augment", c.Augment, "random rotation by 90 degrees, flip and shift of each training image")
	fs.IntVar(&c.Shift, "shift", c.Shift, "largest augmentation shift in pixels")
	fs.BoolVar(&c.Rotate, "rotate", c.Rotate, "augment with rotations by any angle (bilinear, reflecting at the borders) instead of quarter turns only")
	fs.Float64Var(&c.Zoom, "zoom", c.Zoom, "with --rotate, also scale each training image by a factor from 1/zoom to zoom (1: no scaling)")
	fs.StringVar(&c.Balance, "balance", c.Balance, "class imbalance in training: none (--logit-adjust handles it after training), weights (loss weighted 1/count per class), sqrt (1/sqrt(count), milder) or sample (balanced sampling)")
	fs.Float64Var(&c.LabelSmoothing, "label-smoothing", c.LabelSmoothing, "label smoothing of the cross-entropy")
	fs.StringVar(&c.Loss, "loss", c.Loss, "ce (softmax cross-entropy) or bce (the assignment's summed binary cross-entropy)")
	fs.BoolVar(&c.Calibrate, "calibrate", c.Calibrate, "after training and logit adjustment, fit a temperature to the validation part so that the probabilities are calibrated (it divides the saved model's logits; rankings do not change)")
	fs.IntVar(&c.Freeze, "freeze", c.Freeze, "with --init: keep the first N conv blocks as they are")
	fs.BoolVar(&c.Probe, "probe", c.Probe, "with --init: train only the output layer, exactly: a logistic regression on the trunk's representations of the training images, its L2 penalty chosen by 5-fold cross-validation (for a few hundred labels; no epochs)")
	fs.Float64Var(&c.TrunkLR, "trunk-lr", c.TrunkLR, "with --init: the trunk's learning rate as a fraction of --lr (the new output layer learns at --lr)")
	fs.StringVar(&c.LogitAdjust, "logit-adjust", c.LogitAdjust, "shift the logits by -tau*log(class prior) after training, trading accuracy on common classes for recall on rare ones: auto (the tau from 0 to 1 with the best balanced accuracy on the validation part among those costing at most 1 point of its accuracy), none, or a tau")
}

// trainConfig returns the run's settings: the architecture's defaults with
// the flags given on the command line, or with --resume the checkpoint's
// settings (a flag given with another value is an error) and the checkpoint.
func trainConfig(cmd *cobra.Command, groupOf map[string]string, out *string, resume string, width, depth int) (train.Config, *train.Checkpoint, error) {
	fl := cmd.Flags()
	var cfg train.Config
	var from *train.Checkpoint
	if resume != "" {
		if fl.Changed("out") && filepath.Clean(*out) != filepath.Clean(resume) {
			return cfg, nil, fmt.Errorf("--resume %s continues in %s; --out %s conflicts (leave --out out)", resume, resume, *out)
		}
		var err error
		if from, err = train.OpenCheckpoint(resume); err != nil {
			return cfg, nil, err
		}
		cfg, *out = *from.State.Config, resume
	} else {
		var err error
		if cfg, err = train.DefaultConfig(fl.Lookup("arch").Value.String()); err != nil {
			return cfg, nil, fmt.Errorf("--arch: %w", err)
		}
	}
	fresh := pflag.NewFlagSet("", pflag.ContinueOnError)
	fresh.StringVar(&cfg.Arch, "arch", cfg.Arch, "")
	registerData(fresh, &cfg.Data, cfg.Data.Prepare.Channels, "")
	bindRun(fresh, &cfg)
	bindSteps(fresh, &cfg)
	bindEpochs(fresh, &cfg)
	trainer := "steps"
	if train.ByEpochs(cfg.Arch) {
		trainer = "epochs"
	}
	err := overlay(fl, fresh, func(f *pflag.Flag, had string) error {
		if g := groupOf[f.Name]; g != "data" && g != "run" && g != trainer {
			return fmt.Errorf("--%s is a setting of %s, not of --arch %s", f.Name, strings.ToLower(strings.SplitN(groupTitle(g), " (", 2)[0]), cfg.Arch)
		}
		if from != nil && had != f.Value.String() {
			return fmt.Errorf("--resume %s: --%s %s conflicts with the checkpoint's --%s %s (a resumed run keeps its settings)", resume, f.Name, f.Value, f.Name, had)
		}
		return nil
	})
	if err == nil && (fl.Changed("width") || fl.Changed("depth")) {
		err = doublingWidths(&cfg, fl, width, depth)
	}
	return cfg, from, err
}

// doublingWidths sets the widths from --width and --depth (the default's
// first width and depth where one is not given): base, then doubling up to
// 4x base, depth blocks.
func doublingWidths(cfg *train.Config, fl *pflag.FlagSet, base, depth int) error {
	if fl.Changed("widths") {
		return fmt.Errorf("--widths and --width/--depth: give one or the other")
	}
	if !fl.Changed("width") {
		base = cfg.Spec.Widths[0]
	}
	if !fl.Changed("depth") {
		depth = len(cfg.Spec.Widths)
	}
	if base < 1 || base > 1024 || depth < 1 || depth > 8 {
		return fmt.Errorf("--width %d --depth %d: need a width of 1 to 1024 and 1 to 8 blocks", base, depth)
	}
	cfg.Spec.Widths = nil
	for i := range depth {
		cfg.Spec.Widths = append(cfg.Spec.Widths, base<<min(i, 2))
	}
	return nil
}

func groupTitle(name string) string {
	for _, g := range trainGroups {
		if g.name == name {
			return g.title
		}
	}
	return name
}

// archList lists the registered architectures with their summaries.
func archList() string {
	var s []string
	for _, a := range model.Archs() {
		s = append(s, a.Name+" ("+a.Summary+")")
	}
	return strings.Join(s, "; ")
}

// archDefaults says in a flag's usage what one of its defaults is for
// every architecture: " (default by architecture: seed-mlp g, cnn all, ...)".
func archDefaults(of func(model.Defaults) any) string {
	var s []string
	for _, a := range model.Archs() {
		s = append(s, a.Name+" "+fmt.Sprint(of(a.Defaults)))
	}
	return " (default by architecture: " + strings.Join(s, ", ") + ")"
}

// byArch appends archDefaults to the usage of fs's flag name.
func byArch(fs *pflag.FlagSet, name string, of func(model.Defaults) any) {
	fs.Lookup(name).Usage += archDefaults(of)
}

// observe returns an observer that logs to w, prints each epoch and, with
// a meter, the progress of the steps (a plain line at each test elsewhere).
func observe(w io.Writer, steps int) (train.Observer, *meter) {
	m := newMeter(w, "train", "steps", int64(steps), true)
	return train.Observer{Log: w, Step: func(step int) { m.set(int64(step)) },
		Eval: func(p train.Point) {
			if m.bar == nil {
				fmt.Fprintf(w, "step %d: train loss %.4f, test loss %.4f, test accuracy %.4f\n", p.Step, p.TrainLoss, p.TestLoss, p.TestAccuracy)
			}
		},
		Epoch: func(st train.EpochStat, p train.Point) {
			best := ""
			if st.Best {
				best = " *"
			}
			fmt.Fprintf(w, "epoch %d: train loss %.4f, val accuracy %.4f (balanced %.4f), test accuracy %.4f (balanced %.4f), lr %.2g, %.1fs (%.0f images/s)%s\n",
				st.Epoch, st.TrainLoss, st.ValAccuracy, st.ValBalanced, p.TestAccuracy, st.TestBalanced, st.LR, st.Seconds, st.ImagesPerSec, best)
		}}, m
}

// today is the training date a new run records: the UTC day of
// SOURCE_DATE_EPOCH (seconds since 1970, the reproducible-builds
// convention, which scripts/builtin.sh sets) when it is set, else of now.
func today() (string, error) {
	t := time.Now()
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", v)
		}
		t = time.Unix(sec, 0)
	}
	return t.UTC().Format(time.DateOnly), nil
}
