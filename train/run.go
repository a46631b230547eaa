package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/cnn"
	"galaxy/model/seed"
	"galaxy/num"
)

// Stepper is a network the step trainer fits: one that takes stochastic
// gradient steps on its own, hand-derived gradient (model/seed).
type Stepper interface {
	model.Network
	Step(v []float32, y int, lr float32) float32
	StepBatch(x []float32, ys []int, lr float32, mode seed.Mode) float32
	SetTeam(t *num.Team)
	Sizes() (n, d, k int)
}

// Layered is a network the epoch trainer fits: a sequence of layers
// trained by backpropagation over mini-batches (model/cnn).
type Layered interface {
	model.Network
	Layout() cnn.Spec
	Forward(x *cnn.Tensor[float32], train bool) *cnn.Tensor[float32]
	BackwardParams(dy *cnn.Tensor[float32])
	ZeroGrad()
	Params() []*cnn.Param[float32]
	RandomSources() []*rand.PCG
	SetTTA(on bool)
	AddLogitOffsets(off []float64) error
	ScaleLogits(s float64) error
	ReleaseTraining()
	FreezeNorms(frozen func(name string) bool)
	SetHead(w, b []float64) error
}

// Data is a prepared data set and where it came from.
type Data struct {
	Set            *data.Dataset
	Path           string // the file it was read from, recorded in the model
	SourceChannels int    // channels of the file's images
}

// Observer hears a run's progress; any field may be nil.
type Observer struct {
	Log   io.Writer                   // lines that say what the run does
	Step  func(step int)              // the step trainer, every 1000 steps
	Eval  func(p Point)               // the step trainer, at each test
	Epoch func(st EpochStat, p Point) // the epoch trainer, after each epoch
}

func (o Observer) logf(format string, a ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format, a...)
	}
}

// Run trains a model on d as cfg says and writes the run folder dir (see
// Folder): the model, its learning curve, the plots and the metrics, each
// file atomically, and checkpoints as cfg asks. With from (OpenCheckpoint
// of dir) it continues that run, which ends as the uninterrupted run would
// have. A cancelled ctx stops training cleanly; what was learned is written.
func Run(ctx context.Context, d Data, cfg Config, dir string, from *Checkpoint, obs Observer) (*Metrics, error) {
	cfg = cfg.resolved()
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.TrainN > 0 {
		limited := *d.Set
		limited.Train = limitTrain(d.Set.Train, d.Set.Scheme.K(), cfg.TrainN, cfg.Seed)
		d.Set = &limited
	}
	ds := d.Set
	if ds.Train.Len() == 0 || ds.Test.Len() == 0 {
		return nil, fmt.Errorf("%s: the split has %d training and %d test images; need both", d.Path, ds.Train.Len(), ds.Test.Len())
	}
	arch, err := model.Lookup(cfg.Arch)
	if err != nil {
		return nil, err
	}
	spec := cfg.Spec
	spec.InC, spec.H, spec.W, spec.K = ds.C, ds.H, ds.W, ds.Scheme.K()
	if err := cfg.checkFinetune(arch, len(spec.Widths)); err != nil {
		return nil, err
	}
	src := NewPCG(cfg.Seed)
	net, err := arch.New(spec, rand.New(src))
	if err != nil {
		return nil, err
	}
	if cfg.Init != "" && from == nil {
		n, err := initTrunk(net, arch, cfg, ds)
		if err != nil {
			return nil, err
		}
		obs.logf("starting from the trunk of %s (%d weights; the head for %d classes drawn afresh)\n", cfg.Init, n, spec.K)
	}
	sum := DataSum(ds.Train, ds.Test)
	if from != nil {
		if from.State.Data != sum {
			return nil, fmt.Errorf("resume %s: the data changed since the checkpoint (%s prepares to SHA-256 %.12s..., the checkpoint was trained on %.12s...); start a new run", dir, d.Path, sum, from.State.Data)
		}
		if err := compatible(net, from.Model.Net); err != nil {
			return nil, fmt.Errorf("resume %s: %w", dir, err)
		}
		net = from.Model.Net
	}
	m := model.New(cfg.Arch, net, ds, cfg.Data.Prepare.Channels, d.SourceChannels)
	m.Meta.Info[model.InfoData] = d.Path
	m.Meta.Info[model.InfoSeed] = strconv.FormatUint(cfg.Seed, 10)
	m.Meta.Info[model.InfoSplitSeed] = strconv.FormatUint(cfg.Data.Prepare.SplitSeed, 10)
	m.Meta.Info[model.InfoTestFrac] = strconv.FormatFloat(cfg.Data.Prepare.TestFrac, 'g', -1, 64)
	r := &run{cfg: cfg, d: d, dir: dir, m: m, sum: sum, from: from, obs: obs, start: time.Now()}
	switch net := net.(type) {
	case Stepper:
		err = r.steps(ctx, net, src)
	case Layered:
		if cfg.Probe {
			err = r.probe(net)
		} else {
			err = r.epochs(ctx, net)
		}
	default:
		err = fmt.Errorf("architecture %s has no trainer", cfg.Arch)
	}
	if err != nil {
		return nil, r.diskFull(err)
	}
	r.card(ds)
	if r.met.Interrupted {
		r.obs.logf("interrupted after %d steps: writing what was learned\n", r.met.Steps)
	}
	return r.met, r.diskFull(r.write())
}

// card records in the model what its Card shows: how it did on the test
// split, what it was trained on, when.
func (r *run) card(ds *data.Dataset) {
	info := r.m.Meta.Info
	info[model.InfoTestAccuracy] = strconv.FormatFloat(r.met.TestAccuracy, 'f', 4, 64)
	info[model.InfoTestBalanced] = strconv.FormatFloat(r.met.TestBalancedAccuracy, 'f', 4, 64)
	info[model.InfoTestN] = strconv.Itoa(ds.Test.Len())
	info[model.InfoTrainN] = strconv.Itoa(ds.Train.Len())
	if r.cfg.Init != "" {
		info[model.InfoInit] = r.cfg.Init
	}
	if r.cfg.Date != "" {
		info[model.InfoTrained] = r.cfg.Date
	}
}

// compatible reports whether a checkpoint's network has the shape of the
// network the configuration builds.
func compatible(fresh, saved model.Network) error {
	if !sameHyper(fresh.Hyper(), saved.Hyper()) {
		return fmt.Errorf("the checkpoint's network (%v) does not fit the one these settings build (%v)", saved.Hyper(), fresh.Hyper())
	}
	a, b := fresh.Tensors(), saved.Tensors()
	if len(a) != len(b) {
		return fmt.Errorf("the checkpoint's network has %d tensors, these settings build %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Shape, b[i].Shape) {
			return fmt.Errorf("the checkpoint's tensor %s %v does not fit %s %v", b[i].Name, b[i].Shape, a[i].Name, a[i].Shape)
		}
	}
	return nil
}

// sameHyper reports whether two networks' hyper sizes are equal, but for
// "tta", which only says how a network classifies.
func sameHyper(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			if k != "tta" {
				return false
			}
		}
	}
	return true
}

// run is one training run in progress.
type run struct {
	cfg   Config
	d     Data
	dir   string
	m     *model.Model
	sum   string
	from  *Checkpoint
	obs   Observer
	start time.Time

	curve []Point
	met   *Metrics
}

// steps trains a Stepper by SGD (sgd).
func (r *run) steps(ctx context.Context, net Stepper, src *rand.PCG) error {
	cfg, ds := r.cfg, r.d.Set
	mode := seed.Vector
	if cfg.BatchMode == "loop" {
		mode = seed.Loop
	}
	ck := Checkpointing{Every: cfg.CheckpointEvery}
	if r.from != nil {
		ck.From = r.from.State
		var err error
		if src, err = r.from.State.RestorePCG(); err != nil {
			return fmt.Errorf("resume %s: %w", r.dir, err)
		}
		r.obs.logf("resuming %s from its checkpoint at step %d of %d\n", r.dir, r.from.State.Step, cfg.Steps)
	}
	n, d, k := net.Sizes()
	r.obs.logf("training %s (n=%d, d=%d, k=%d) on %d images, testing on %d: %d steps of batch %d (%s), lr %g, seed %d\n",
		cfg.Arch, n, d, k, ds.Train.Len(), ds.Test.Len(), cfg.Steps, cfg.Batch, mode, cfg.LR, cfg.Seed)
	if cfg.CheckpointEvery > 0 {
		ck.Save = func(st *State) error {
			st.Config, st.Data = &r.cfg, r.sum
			r.m.Meta.Info[model.InfoSteps] = strconv.Itoa(st.Step)
			return WriteCheckpoint(filepath.Join(r.dir, CheckpointFile), r.m, st)
		}
	}
	sc := sgdConfig{Steps: cfg.Steps, LR: float32(cfg.LR), EvalEvery: cfg.EvalEvery, Batch: cfg.Batch, Mode: mode}
	res, err := sgd(ctx, net, ds.Train, ds.Test, sc, rand.New(src), src, ck, r.obs)
	if err != nil {
		return err
	}
	r.m.Meta.Info[model.InfoSteps] = strconv.Itoa(res.Steps)
	r.curve = res.Curve
	last := res.Curve[len(res.Curve)-1]
	r.met = r.metrics(res.Steps, res.Interrupted, res.StepTime)
	r.met.TestAccuracy, r.met.TestLoss, r.met.TrainLoss = last.TestAccuracy, last.TestLoss, last.TrainLoss
	r.met.TestBalancedAccuracy = Score(net, ds.Test, k, SummedBCE).Balanced
	return r.fitNovelty(net, ds.Train, nil, nil)
}

// epochs trains a Layered network by epochs (EpochsResumable), then adjusts
// its logits for the rare classes and scores it as it will classify (the
// kept epoch, with test-time averaging).
func (r *run) epochs(ctx context.Context, net Layered) error {
	cfg, ds := r.cfg, r.d.Set
	var ck EpochCheckpointing
	if r.from != nil {
		ck.From = r.from.State.Epochs
		if ck.From == nil {
			return fmt.Errorf("resume %s: the checkpoint holds no epoch state", r.dir)
		}
		r.obs.logf("resuming %s from its checkpoint after epoch %d of %d\n", r.dir, ck.From.Epoch, cfg.Epochs)
	}
	spec := net.Layout()
	shape := fmt.Sprintf("widths %v", spec.Widths)
	if spec.Convs != nil {
		shape += fmt.Sprintf(", convolutions %v", spec.Convs)
	}
	if spec.Crop > 0 {
		shape += fmt.Sprintf(", central %dx%d crop", spec.Crop, spec.Crop)
	}
	r.obs.logf("training %s (%s, %dx%dx%d in, k=%d) on %d images (%.0f%% held out for validation), testing on %d: %d epochs of batch %d, %s lr %g, cosine, seed %d\n",
		cfg.Arch, shape, ds.H, ds.W, ds.C, spec.K, ds.Train.Len(), 100*cfg.ValFrac, ds.Test.Len(), cfg.Epochs, cfg.Batch, cfg.Optimizer, cfg.LR, cfg.Seed)
	// Epochs are scored without test-time averaging (8x cheaper); the final
	// figures use it when the spec asks for it.
	net.SetTTA(false)
	if cfg.CheckpointEvery > 0 {
		ck.Save = func(es *EpochState) error {
			r.m.Meta.Info[model.InfoSteps] = strconv.Itoa(es.Step)
			return WriteCheckpoint(filepath.Join(r.dir, CheckpointFile), r.m, &State{Step: es.Step, RNG: es.RNG, Config: &r.cfg, Data: r.sum, Epochs: es})
		}
	}
	res, err := EpochsResumable(ctx, net, ds.Train, ds.Test, cfg.epochConfig(), ck, r.obs.Epoch)
	if err != nil {
		return err
	}
	// What follows only classifies: free backpropagation's buffers now
	// rather than at twice the live heap (a 128-pixel run's peak RSS was
	// its training RSS plus 1 GB of them and of scoring's garbage).
	net.ReleaseTraining()
	runtime.GC()
	net.SetTTA(spec.TTA)
	tau, err := r.adjustLogits(net, res)
	if err != nil {
		return err
	}
	temp, err := r.calibrate(net, res)
	if err != nil {
		return err
	}
	if err := r.fitNovelty(net, ds.Train, res.TrainIndex, res.Val); err != nil {
		return err
	}
	sc := Score(net, ds.Test, spec.K, CrossEntropy)
	// The curve's last point is the kept model as it classifies (best epoch, TTA).
	r.curve = append(res.Curve, Point{Step: res.Steps, TrainLoss: res.Curve[len(res.Curve)-1].TrainLoss, TestLoss: sc.Loss, TestAccuracy: sc.Accuracy})
	info := r.m.Meta.Info
	info[model.InfoSteps] = strconv.Itoa(res.Steps)
	info[model.InfoEpochs] = strconv.Itoa(len(res.Epochs))
	info["best_epoch"] = strconv.Itoa(res.BestEpoch)
	info[model.InfoLogitAdjustTau] = strconv.FormatFloat(tau, 'g', -1, 64)
	if temp != 1 {
		info[model.InfoTemperature] = strconv.FormatFloat(temp, 'g', -1, 64)
	}
	imgs := 0.0
	for _, e := range res.Epochs {
		imgs += e.ImagesPerSec * e.Seconds
	}
	trainSec := float64(res.StepTime) * float64(res.Steps) / 1e9
	met := r.metrics(res.Steps, res.Interrupted, res.StepTime)
	met.NTrain, met.NVal = ds.Train.Len()-res.NVal, res.NVal
	met.Widths, met.Convs, met.Crop, met.TTA = spec.Widths, spec.Convs, spec.Crop, spec.TTA
	met.Epochs, met.BestEpoch, met.EarlyStopped = len(res.Epochs), res.BestEpoch, res.Stopped
	met.TestAccuracy, met.TestBalancedAccuracy, met.TestLoss = sc.Accuracy, sc.Balanced, sc.Loss
	met.LogitAdjustTau, met.Temperature = tau, temp
	met.TrainLoss = r.curve[len(r.curve)-1].TrainLoss
	if !math.IsNaN(res.ValAccuracy) {
		met.ValAccuracy = &res.ValAccuracy
	}
	met.TrainImagesPerS = imgs / math.Max(trainSec, 1e-9)
	met.SecondsPerEpoch = trainSec / float64(max(len(res.Epochs), 1))
	r.met = met
	return nil
}

// adjustLogits applies the configured logit adjustment to the trained net
// (LogitOffsets through the last layer's bias, so the saved model, eval,
// predict, serve and the ONNX export all see it) and returns the tau used.
func (r *run) adjustLogits(net Layered, res *EpochResult) (float64, error) {
	tau, err := r.cfg.logitTau()
	switch {
	case err != nil:
		return 0, err
	case tau == 0:
		return 0, nil
	case tau > 0:
		return tau, net.AddLogitOffsets(LogitOffsets(res.Counts, tau))
	case res.Val == nil:
		r.obs.logf("logit adjustment: none (choosing it needs a validation part)\n")
		return 0, nil
	}
	a := FitLogitAdjustment(net, res.Val, net.Layout().K, res.Counts, AdjustTaus)
	r.obs.logf("logit adjustment: tau %.1g chosen on the validation part (accuracy %.4f -> %.4f, balanced %.4f -> %.4f)\n",
		a.Tau, a.Accuracy0, a.Accuracy, a.Balanced0, a.Balanced)
	return a.Tau, net.AddLogitOffsets(a.Offsets)
}

// calibrate fits a temperature to the validation part, as the network
// classifies (after logit adjustment, with TTA), and folds it into the last
// layer, so that every use of the model (eval, predict, serve, the ONNX
// export) gives calibrated probabilities. It returns the temperature (1:
// none).
func (r *run) calibrate(net Layered, res *EpochResult) (float64, error) {
	switch {
	case !r.cfg.Calibrate:
		return 1, nil
	case res.Val == nil:
		r.obs.logf("calibration: none (fitting a temperature needs a validation part)\n")
		return 1, nil
	}
	t, before, after := FitTemperature(net, res.Val, net.Layout().K)
	r.obs.logf("calibration: temperature %.3f fitted on the validation part (cross-entropy %.4f -> %.4f)\n", t, before, after)
	return t, net.ScaleLogits(1 / t)
}

// logitTau returns the configured logit adjustment: -1 for auto, 0 for
// none, else the fixed tau.
func (c Config) logitTau() (float64, error) {
	switch c.LogitAdjust {
	case "auto":
		return -1, nil
	case "none":
		return 0, nil
	}
	v, err := strconv.ParseFloat(c.LogitAdjust, 64)
	if err != nil || !(v >= 0 && v <= 4) {
		return 0, fmt.Errorf("logit adjustment %q: give auto, none or a tau from 0 to 4", c.LogitAdjust)
	}
	return v, nil
}

// resolved returns c with the defaults that depend on other settings
// filled in: adamw without a weight decay decays by 0.01.
func (c Config) resolved() Config {
	if c.Optimizer == "adamw" && c.WeightDecay == 0 {
		c.WeightDecay = 0.01
	}
	if c.TrunkLR == 0 && c.Freeze == 0 && c.Init == "" {
		c.TrunkLR = 1 // a configuration recorded before fine-tuning existed
	}
	return c
}

func (c Config) epochConfig() EpochConfig {
	arch, _ := model.Lookup(c.Arch)
	return EpochConfig{LRScale: c.lrScale(arch), Epochs: c.Epochs, Batch: c.Batch, Optimizer: c.Optimizer, LR: c.LR, Momentum: c.Momentum,
		WeightDecay: c.WeightDecay, WarmupEpochs: c.Warmup, ValFrac: c.ValFrac, KeepLast: c.KeepLast, Patience: c.Patience, Seed: c.Seed,
		Augment: c.Augment, Shift: c.Shift, Rotate: c.Rotate, Zoom: c.Zoom, Balance: c.Balance, LabelSmoothing: c.LabelSmoothing, Loss: c.Loss}
}

// metrics returns the metrics every run records.
func (r *run) metrics(steps int, interrupted bool, stepTime time.Duration) *Metrics {
	ds, cfg := r.d.Set, r.cfg
	return &Metrics{Arch: cfg.Arch, Data: r.d.Path, Scheme: ds.Scheme.Name, Channels: cfg.Data.Prepare.Channels,
		NTrain: ds.Train.Len(), NTest: ds.Test.Len(), Dim: ds.Dim(), Seed: cfg.Seed,
		SplitSeed: cfg.Data.Prepare.SplitSeed, TestFrac: cfg.Data.Prepare.TestFrac, Steps: steps, Interrupted: interrupted,
		Config: cfg, MajorityAccuracy: ds.MajorityAccuracy(ds.Test), StepMs: float64(stepTime) / 1e6}
}

// write writes the run folder's files.
func (r *run) write() error {
	r.met.BestTestAccuracy = 0
	for _, p := range r.curve {
		r.met.BestTestAccuracy = max(r.met.BestTestAccuracy, p.TestAccuracy)
	}
	r.met.WallSeconds = time.Since(r.start).Seconds()
	return Folder(r.dir).Write(r.m, r.curve, r.met)
}

// ErrResumable marks an error after which the run can be resumed from its
// intact checkpoint (OpenCheckpoint).
var ErrResumable = errors.New("resume the run")

// diskFull adds to a write error from a full disk what was kept and how to
// go on: files are written atomically, so the previous checkpoint and model
// are whole.
func (r *run) diskFull(err error) error {
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	if r.cfg.CheckpointEvery > 0 {
		if _, _, cerr := ReadCheckpoint(filepath.Join(r.dir, CheckpointFile)); cerr == nil {
			return fmt.Errorf("%w (the last checkpoint in %s is intact: free some space and %w)", err, r.dir, ErrResumable)
		}
	}
	return fmt.Errorf("%w (files already in %s are intact; free some space and run again)", err, r.dir)
}
