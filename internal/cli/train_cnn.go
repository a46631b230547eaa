package cli

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/cnn"
	"galaxy/model/modelfile"
	"galaxy/train"
)

// cnnFlags are train's flags for --model cnn and cnn-ref.
type cnnFlags struct {
	epochs         int
	widths         string
	convs          string
	crop           int
	width, depth   int
	dropout        float64
	optimizer      string
	momentum       float64
	weightDecay    float64
	warmup         float64
	valFrac        float64
	patience       int
	augment        bool
	shift          int
	rotate         bool
	zoom           float64
	balance        string
	labelSmoothing float64
	loss           string
	tta            bool
	logitAdjust    string
}

func registerCNNFlags(fl *pflag.FlagSet, f *cnnFlags) {
	fl.IntVar(&f.epochs, "epochs", 0, "cnn: training epochs (default 30 for cnn, 25 for cnn-ref)")
	fl.StringVar(&f.widths, "widths", "", "cnn: output channels of each conv block, e.g. 24,48,96,96 (sets the depth; default 32,64,128,128 for cnn and cnn-ref)")
	fl.StringVar(&f.convs, "convs", "", "cnn: convolutions in each block, e.g. 1,1,2,2 (one count per block; default one each)")
	fl.IntVar(&f.crop, "crop", 0, "cnn: the network sees only the central crop x crop pixels of each image (0: the whole image); the margin must be even")
	fl.IntVar(&f.width, "width", 0, "cnn: width of the first block; later blocks double it up to 4x (with --depth; instead of --widths)")
	fl.IntVar(&f.depth, "depth", 0, "cnn: number of conv blocks (with --width; default 4)")
	fl.Float64Var(&f.dropout, "dropout", 0.3, "cnn: dropout before the dense layer")
	fl.StringVar(&f.optimizer, "optimizer", "adam", "cnn: sgd (with --momentum), adam or adamw")
	fl.Float64Var(&f.momentum, "momentum", 0.9, "cnn: SGD momentum")
	fl.Float64Var(&f.weightDecay, "weight-decay", 0, "cnn: weight decay of conv and dense weights (decoupled for adamw; default 0, 0.01 for adamw)")
	fl.Float64Var(&f.warmup, "warmup", 1, "cnn: epochs of linear learning-rate warm-up before the cosine decay")
	fl.Float64Var(&f.valFrac, "val-frac", 0.1, "cnn: fraction of the training split held out to pick the best epoch (0: keep the last)")
	fl.IntVar(&f.patience, "patience", 0, "cnn: stop after this many epochs without a better validation accuracy (0: never)")
	fl.BoolVar(&f.augment, "augment", true, "cnn: random rotation by 90 degrees, flip and shift of each training image")
	fl.IntVar(&f.shift, "shift", 3, "cnn: largest augmentation shift in pixels")
	fl.BoolVar(&f.rotate, "rotate", false, "cnn: augment with rotations by any angle (bilinear, reflecting at the borders) instead of quarter turns only")
	fl.Float64Var(&f.zoom, "zoom", 1, "cnn: with --rotate, also scale each training image by a factor from 1/zoom to zoom (1: no scaling)")
	fl.StringVar(&f.balance, "balance", "none", "cnn: class imbalance in training: none (the default: --logit-adjust handles it after training), weights (loss weighted 1/count per class), sqrt (1/sqrt(count), milder) or sample (balanced sampling)")
	fl.Float64Var(&f.labelSmoothing, "label-smoothing", 0.1, "cnn: label smoothing of the cross-entropy (cnn-ref default 0)")
	fl.StringVar(&f.loss, "loss", "ce", "cnn: ce (softmax cross-entropy) or bce (the assignment's summed binary cross-entropy)")
	fl.StringVar(&f.logitAdjust, "logit-adjust", "auto", "cnn: shift the logits by -tau*log(class prior) after training, trading accuracy on common classes for recall on rare ones: auto (the tau from 0 to 1 with the best balanced accuracy on the validation part among those costing at most 1 point of its accuracy), none, or a tau; cnn-ref default none")
	fl.BoolVar(&f.tta, "tta", true, "cnn: classify by averaging the logits of the 8 rotations and flips (saved in the model)")
}

// cnnSpec returns the architecture the flags ask for.
func (f *cnnFlags) spec(arch string, fl *pflag.FlagSet, inC, h, w, k int) (cnn.Spec, error) {
	widths := cnn.DefaultWidths
	if arch == model.ArchCNNRef {
		widths = cnn.RefWidths
	}
	switch {
	case f.widths != "" && (fl.Changed("width") || fl.Changed("depth")):
		return cnn.Spec{}, fmt.Errorf("--widths and --width/--depth: give one or the other")
	case f.widths != "":
		var err error
		if widths, err = intList("widths", f.widths, "channel counts", 4096); err != nil {
			return cnn.Spec{}, err
		}
	case fl.Changed("width") || fl.Changed("depth"):
		base, depth := widths[0], len(widths)
		if fl.Changed("width") {
			base = f.width
		}
		if fl.Changed("depth") {
			depth = f.depth
		}
		if base < 1 || base > 1024 {
			return cnn.Spec{}, fmt.Errorf("--width %d: must be 1 to 1024", base)
		}
		if depth < 1 || depth > 8 {
			return cnn.Spec{}, fmt.Errorf("--depth %d: must be 1 to 8", depth)
		}
		widths = nil
		for i := range depth {
			widths = append(widths, base<<min(i, 2))
		}
	}
	var convs []int
	if f.convs != "" {
		var err error
		if convs, err = intList("convs", f.convs, "counts", 8); err != nil {
			return cnn.Spec{}, err
		}
		if len(convs) != len(widths) {
			return cnn.Spec{}, fmt.Errorf("--convs %q: %d counts for %d blocks (widths %v)", f.convs, len(convs), len(widths), widths)
		}
	}
	if !(f.dropout >= 0 && f.dropout < 1) {
		return cnn.Spec{}, fmt.Errorf("--dropout %v: must be in [0, 1)", f.dropout)
	}
	s := cnn.Spec{InC: inC, H: h, W: w, K: k, Widths: widths, Convs: convs, Crop: f.crop, Dropout: f.dropout, TTA: f.tta}
	if err := s.Check(); err != nil {
		return s, fmt.Errorf("--model %s: %w", arch, err)
	}
	return s, nil
}

// intList parses flag --name's value v, comma-separated integers from 1 to
// hi (what: what they count, for the error).
func intList(name, v, what string, hi int) ([]int, error) {
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > hi {
			return nil, fmt.Errorf("--%s %q: need comma-separated %s from 1 to %d", name, v, what, hi)
		}
		out = append(out, n)
	}
	return out, nil
}

// runTrainCNN trains --model cnn or cnn-ref (model/cnn) by epochs
// (train.Epochs) and writes the same outputs as the seed network.
func runTrainCNN(ctx context.Context, env Env, f *trainFlags, cmd *cobra.Command, fromModel *model.Model, from *train.State) error {
	fl := cmd.Flags()
	c := &f.cnn
	ref := f.arch == model.ArchCNNRef
	if !fl.Changed("channels") {
		f.df.channels = "all"
	}
	if c.epochs == 0 {
		c.epochs = 30
		if ref {
			c.epochs = 25
		}
	}
	if !fl.Changed("batch") {
		f.batch = 64
	}
	batch := f.batch
	if !fl.Changed("label-smoothing") && ref {
		c.labelSmoothing = 0
	}
	if !fl.Changed("logit-adjust") && ref {
		c.logitAdjust = "none"
	}
	var fixedTau float64
	switch c.logitAdjust {
	case "auto", "none":
	default:
		v, err := strconv.ParseFloat(c.logitAdjust, 64)
		if err != nil || !(v >= 0 && v <= 4) {
			return fmt.Errorf("--logit-adjust %q: give auto, none or a tau from 0 to 4", c.logitAdjust)
		}
		fixedTau = v
	}
	if !fl.Changed("weight-decay") && c.optimizer == "adamw" {
		c.weightDecay = 0.01
	}
	// The defaults above are written into the flags' variables, so a
	// checkpoint records (and --resume sets) the values the run used.
	recorded := recordedFlags(cmd)
	cfg := train.EpochConfig{Epochs: c.epochs, Batch: batch, Optimizer: c.optimizer, LR: f.lr, Momentum: c.momentum,
		WeightDecay: c.weightDecay, WarmupEpochs: c.warmup, ValFrac: c.valFrac, Patience: c.patience, Seed: f.seed,
		Augment: c.augment, Shift: c.shift, Rotate: c.rotate, Zoom: c.zoom, Balance: c.balance, LabelSmoothing: c.labelSmoothing, Loss: c.loss}
	if err := cfg.Check(); err != nil {
		return err
	}
	raw, ds, err := f.loadData(env)
	if err != nil {
		return err
	}
	spec, err := c.spec(f.arch, fl, ds.C, ds.H, ds.W, ds.Scheme.K())
	if err != nil {
		return err
	}
	net, err := cnn.New(spec, train.NewRand(f.seed))
	if err != nil {
		return err
	}
	sum := train.DataSum(ds.Train, ds.Test)
	var ck train.EpochCheckpointing
	if from != nil { // --resume: the checkpoint's weights, optimiser and random state
		if from.Data != sum {
			return fmt.Errorf("--resume %s: the data changed since the checkpoint (%s prepares to SHA-256 %.12s..., the checkpoint was trained on %.12s...); start a new run", f.resume, raw.Path, sum, from.Data)
		}
		saved, ok := fromModel.Net.(*cnn.Net)
		if !ok || from.Epochs == nil || !slices.Equal(saved.Spec.Widths, spec.Widths) || !slices.Equal(saved.Spec.Convs, spec.Convs) || saved.Spec.Crop != spec.Crop || saved.Spec.InC != spec.InC || saved.Spec.K != spec.K {
			return fmt.Errorf("--resume %s: the checkpoint's network does not fit --model %s with these flags", f.resume, f.arch)
		}
		net = saved
		net.Spec.TTA = spec.TTA
		ck.From = from.Epochs
		fmt.Fprintf(env.Stderr, "resuming %s from its checkpoint after epoch %d of %d\n", f.resume, from.Epochs.Epoch, c.epochs)
	}
	m := &model.Model{Net: net, Meta: modelfile.Meta{
		Arch: f.arch, Scheme: ds.Scheme.Name, Classes: append([]string(nil), ds.Scheme.Classes...),
		Input: modelfile.Input{Height: ds.H, Width: ds.W, Channels: ds.Channels, ChannelSpec: f.df.channels,
			SourceChannels: raw.C, Scale: data.Scale},
		Hyper: spec.Hyper(),
		Info: map[string]string{"data": raw.Path, "seed": strconv.FormatUint(f.seed, 10),
			"split_seed": strconv.FormatUint(f.df.splitSeed, 10), "test_frac": strconv.FormatFloat(f.df.testFrac, 'g', -1, 64)},
	}}
	shape := fmt.Sprintf("widths %v", spec.Widths)
	if spec.Convs != nil {
		shape += fmt.Sprintf(", convolutions %v", spec.Convs)
	}
	if spec.Crop > 0 {
		shape += fmt.Sprintf(", central %dx%d crop", spec.Crop, spec.Crop)
	}
	fmt.Fprintf(env.Stderr, "training %s (%s, %dx%dx%d in, k=%d) on %d images (%.0f%% held out for validation), testing on %d: %d epochs of batch %d, %s lr %g, cosine, seed %d\n",
		f.arch, shape, ds.H, ds.W, ds.C, spec.K, ds.Train.Len(), 100*c.valFrac, ds.Test.Len(), c.epochs, batch, c.optimizer, f.lr, f.seed)
	start := time.Now()
	// Per-epoch evaluations score without test-time averaging (8x cheaper);
	// the final figures use it when --tta is on.
	net.Spec.TTA = false
	if f.checkpointEvery > 0 {
		ckPath := filepath.Join(f.out, checkpointFile)
		ck.Save = func(es *train.EpochState) error {
			m.Meta.Info["steps"] = strconv.Itoa(es.Step)
			return train.WriteCheckpoint(ckPath, m, &train.State{Step: es.Step, RNG: es.RNG, Flags: recorded, Data: sum, Epochs: es})
		}
	}
	res, err := train.EpochsResumable(ctx, net, ds.Train, ds.Test, cfg, ck, func(st train.EpochStat, p train.Point) {
		best := ""
		if st.Best {
			best = " *"
		}
		fmt.Fprintf(env.Stderr, "epoch %d: train loss %.4f, val accuracy %.4f (balanced %.4f), test accuracy %.4f (balanced %.4f), lr %.2g, %.1fs (%.0f images/s)%s\n",
			st.Epoch, st.TrainLoss, st.ValAccuracy, st.ValBalanced, p.TestAccuracy, st.TestBalanced, st.LR, st.Seconds, st.ImagesPerSec, best)
	})
	if err != nil {
		return diskFull(err, f)
	}
	net.Spec.TTA = spec.TTA
	adj, err := adjustLogits(env, net, res, c.logitAdjust, fixedTau, spec.K)
	if err != nil {
		return err
	}
	testLoss, testAcc, testBal := train.Score(net, ds.Test, spec.K)
	wall := time.Since(start)
	if res.Interrupted {
		fmt.Fprintf(env.Stderr, "interrupted after %d steps: writing what was learned\n", res.Steps)
	}
	// The curve's last point is the kept model as it classifies (best epoch, TTA).
	res.Curve = append(res.Curve, train.Point{Step: res.Steps, TrainLoss: res.Curve[len(res.Curve)-1].TrainLoss, TestLoss: testLoss, TestAccuracy: testAcc})
	m.Meta.Info["steps"] = strconv.Itoa(res.Steps)
	m.Meta.Info["epochs"] = strconv.Itoa(len(res.Epochs))
	m.Meta.Info["best_epoch"] = strconv.Itoa(res.BestEpoch)
	m.Meta.Info["logit_adjust_tau"] = strconv.FormatFloat(adj, 'g', -1, 64)
	if err := m.Save(filepath.Join(f.out, "model")); err != nil {
		return err
	}
	if err := writeCurve(filepath.Join(f.out, "curve.csv"), res.Curve); err != nil {
		return err
	}
	if err := plotCurves(f.out, res.Curve, ds.MajorityAccuracy(ds.Test), f.arch, ds.Scheme.Name); err != nil {
		return err
	}
	imgs := 0.0
	for _, e := range res.Epochs {
		imgs += e.ImagesPerSec * e.Seconds
	}
	trainSec := float64(res.StepTime) * float64(res.Steps) / 1e9
	va := any(res.ValAccuracy)
	if math.IsNaN(res.ValAccuracy) {
		va = nil
	}
	metrics := map[string]any{
		"model": f.arch, "data": raw.Path, "scheme": ds.Scheme.Name, "channels": f.df.channels,
		"n_train": ds.Train.Len() - res.NVal, "n_val": res.NVal, "n_test": ds.Test.Len(), "dim": ds.Dim(),
		"widths": spec.Widths, "convs": spec.Convs, "crop": spec.Crop, "seed": f.seed, "split_seed": f.df.splitSeed, "test_frac": f.df.testFrac,
		"steps": res.Steps, "epochs": len(res.Epochs), "best_epoch": res.BestEpoch, "early_stopped": res.Stopped,
		"interrupted": res.Interrupted, "tta": spec.TTA,
		"flags":                  flagValues(cmd),
		"test_accuracy":          testAcc,
		"test_balanced_accuracy": testBal,
		"logit_adjust_tau":       adj,
		"test_loss":              testLoss,
		"val_accuracy":           va,
		"train_loss":             res.Curve[len(res.Curve)-1].TrainLoss,
		"best_test_accuracy":     bestAccuracy(res.Curve),
		"majority_accuracy":      ds.MajorityAccuracy(ds.Test),
		"wall_seconds":           wall.Seconds(),
		"step_ms":                float64(res.StepTime) / 1e6,
		"train_images_per_s":     imgs / math.Max(trainSec, 1e-9),
		"seconds_per_epoch":      trainSec / float64(max(len(res.Epochs), 1)),
	}
	if err := writeJSON(filepath.Join(f.out, "metrics.json"), metrics); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "test accuracy %.4f, balanced %.4f (majority class %.4f) with the model of epoch %d of %d, in %.1fs; wrote %s\n",
		testAcc, testBal, ds.MajorityAccuracy(ds.Test), res.BestEpoch, len(res.Epochs), wall.Seconds(), f.out)
	if f.report {
		return runReport(env, f.out, ds)
	}
	return nil
}

// adjustLogits applies --logit-adjust to the trained net (train.LogitOffsets
// through the last layer's bias, so the saved model, eval, predict, serve
// and ONNX export all see it) and returns the tau used.
func adjustLogits(env Env, net *cnn.Net, res *train.EpochResult, mode string, fixed float64, k int) (float64, error) {
	switch {
	case mode == "none":
		return 0, nil
	case mode == "auto" && res.Val == nil:
		fmt.Fprintf(env.Stderr, "logit adjustment: none (--logit-adjust auto needs a validation part; see --val-frac)\n")
		return 0, nil
	case mode == "auto":
		a := train.FitLogitAdjustment(net, res.Val, k, res.Counts, train.AdjustTaus)
		fmt.Fprintf(env.Stderr, "logit adjustment: tau %.1g chosen on the validation part (accuracy %.4f -> %.4f, balanced %.4f -> %.4f)\n",
			a.Tau, a.Accuracy0, a.Accuracy, a.Balanced0, a.Balanced)
		return a.Tau, net.AddLogitOffsets(a.Offsets)
	}
	return fixed, net.AddLogitOffsets(train.LogitOffsets(res.Counts, fixed))
}

// cnnRefThroughput returns the images/s of cnn-ref (69x69x3 images, 4
// classes) training at batch 64 and classifying at batch 256: medians of
// rounds rounds (at most 5; each round 2 training steps, 1 inference batch).
func cnnRefThroughput(rounds int) (trainRate, inferRate float64) {
	net, err := cnn.New(cnn.Spec{InC: 3, H: 69, W: 69, K: 4, Widths: cnn.RefWidths, Dropout: 0.3}, train.NewRand(1))
	if err != nil {
		return math.NaN(), math.NaN()
	}
	r := min(rounds, 5)
	return train.Throughput(net, 64, 1, r, 2, true), train.Throughput(net, 256, 1, r, 1, false)
}
