package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/cnn"
	"galaxy/num"
)

// EpochConfig holds the settings of the epoch trainer (Config has them
// all, and checks them).
type EpochConfig struct {
	Epochs         int
	Batch          int
	Optimizer      string  // sgd (with momentum), adam or adamw
	LR             float64 // peak learning rate
	Momentum       float64 // sgd
	WeightDecay    float64 // L2 for sgd and adam, decoupled for adamw; conv and dense weights only
	WarmupEpochs   float64 // linear warm-up, then cosine decay to 0 by the last step
	ValFrac        float64 // fraction of the training part held out (stratified) as the validation part, which picks the best epoch
	KeepLast       bool    // keep the last epoch's weights even with a validation part (which then serves the logit adjustment and temperature only)
	Patience       int     // stop after this many epochs without a better validation accuracy (0: never)
	Seed           uint64  // shuffling, augmentation, validation carve-out
	Augment        bool    // random symmetry of the square and shift per image
	Shift          int     // largest shift in pixels (with Augment)
	Rotate         bool    // with Augment: rotation by any angle (and a flip), not only quarter turns
	Zoom           float64 // with Rotate: scale drawn log-uniformly from [1/Zoom, Zoom] (1: none)
	Balance        string  // none, weights (class-weighted loss, 1/count), sqrt (weights 1/sqrt(count)) or sample (class-balanced sampling)
	LabelSmoothing float64
	Loss           string // ce (softmax cross-entropy) or bce (summed binary cross-entropy)
	// LRScale, if not nil, gives the factor of LR of each parameter by name
	// (0: the parameter is not trained).
	LRScale func(param string) float64
}

// EpochStat is one epoch's record.
type EpochStat struct {
	Epoch        int
	Step         int
	LR           float64 // at the epoch's last step
	TrainLoss    float64
	ValAccuracy  float64 // NaN without a validation split
	ValBalanced  float64 // balanced accuracy (mean recall over classes) of the validation part; NaN without one
	TestAccuracy float64
	TestBalanced float64
	Seconds      float64 // training time of the epoch (evaluation excluded)
	ImagesPerSec float64
	Best         bool
}

// EpochResult is what Epochs did. Curve has one Point per epoch.
type EpochResult struct {
	Result
	Epochs      []EpochStat
	BestEpoch   int     // the epoch whose weights the network holds at the end
	ValAccuracy float64 // its validation accuracy
	NVal        int
	Val         *data.Split // the validation part (nil without one)
	TrainIndex  []int       // the images of the training split that were trained on (all but the validation part)
	Counts      []int       // images per class in the training part (without validation)
	Stopped     bool        // early stopping
}

// CarveValidation splits s into a training part and a stratified
// validation part of about frac of each class, chosen by a permutation
// seeded with seed.
func CarveValidation(s *data.Split, k int, frac float64, seed uint64) (tr, val *data.Split) {
	ti, vi := carve(s, k, frac, seed)
	return subset(s, ti, "train"), subset(s, vi, "validation")
}

// carve returns the images of s that CarveValidation puts in the training
// and in the validation part.
func carve(s *data.Split, k int, frac float64, seed uint64) (tr, val []int) {
	all := make([]int, s.Len())
	for i := range all {
		all[i] = i
	}
	return data.Stratify(all, s.Labels, k, frac, rand.New(rand.NewPCG(seed, 0x7a1)))
}

func subset(s *data.Split, idx []int, name string) *data.Split {
	o := &data.Split{Name: name, H: s.H, W: s.W, C: s.C, Pixels: make([]uint8, 0, len(idx)*s.Dim()),
		Labels: make([]int, 0, len(idx))}
	for _, i := range idx {
		o.Pixels = append(o.Pixels, s.Image(i)...)
		o.Labels = append(o.Labels, s.Labels[i])
		if i < len(s.Index) {
			o.Index = append(o.Index, s.Index[i])
		}
	}
	return o
}

// Epochs trains net on tr for cfg.Epochs epochs: each epoch visits the
// images in a new seeded order (or, with Balance "sample", draws as many
// images class-balanced), augments each one with a random symmetry of the
// square and shift, and takes one optimiser step per batch. After each
// epoch it measures the validation part (carved from tr) and test; it
// keeps the weights of the epoch with the best validation accuracy (the
// last epoch without a validation part, or with KeepLast) and restores
// them at the end. It stops early after Patience epochs without
// improvement, and when ctx is cancelled (Interrupted). onEpoch, if not nil, hears each epoch.
func Epochs(ctx context.Context, net Layered, tr, test *data.Split, cfg EpochConfig, onEpoch func(EpochStat, Point)) (*EpochResult, error) {
	return EpochsResumable(ctx, net, tr, test, cfg, EpochCheckpointing{}, onEpoch)
}

// EpochCheckpointing makes an epoch-based run resumable (EpochsResumable).
type EpochCheckpointing struct {
	From *EpochState             // continue after this state's epoch (nil: from the start)
	Save func(*EpochState) error // hears the state after every epoch; the network holds the current weights
}

// EpochsResumable is Epochs with a checkpoint after every epoch: ck.Save
// gets the state, and a run started from ck.From, with the network's
// weights restored from the same checkpoint, continues bit for bit as if
// it had never stopped. An interrupted epoch is not saved: a resumed run
// repeats it. A failed save stops the run with its error.
func EpochsResumable(ctx context.Context, net Layered, tr, test *data.Split, cfg EpochConfig, ck EpochCheckpointing, onEpoch func(EpochStat, Point)) (*EpochResult, error) {
	if cfg.Epochs < 1 || cfg.Batch < 2 {
		return nil, fmt.Errorf("%d epochs of batch %d: need at least 1 epoch and 2 images per batch (Config.Check says more)", cfg.Epochs, cfg.Batch)
	}
	sp := net.Layout()
	if tr.H != sp.H || tr.W != sp.W || tr.C != sp.InC {
		return nil, fmt.Errorf("images are %dx%dx%d, the network takes %dx%dx%d", tr.H, tr.W, tr.C, sp.H, sp.W, sp.InC)
	}
	k := sp.K
	if cfg.LRScale != nil { // a parameter that does not learn normalises as it was trained
		net.FreezeNorms(func(name string) bool { return cfg.LRScale(name) == 0 })
	}
	// The training part is a list of tr's images rather than a copy of
	// them (for a large data set, most of the memory); the validation
	// part, a tenth, is copied.
	pi, val := make([]int, tr.Len()), (*data.Split)(nil)
	for i := range pi {
		pi[i] = i
	}
	if cfg.ValFrac > 0 {
		var vi []int
		pi, vi = carve(tr, k, cfg.ValFrac, cfg.Seed)
		if val = subset(tr, vi, "validation"); val.Len() == 0 {
			val = nil
		}
	}
	if len(pi) < cfg.Batch {
		return nil, fmt.Errorf("the training part has %d images, fewer than one batch of %d", len(pi), cfg.Batch)
	}
	partLabels := make([]int, len(pi))
	for j, i := range pi {
		partLabels[j] = tr.Labels[i]
	}
	src := rand.NewPCG(cfg.Seed, 0xe90c)
	rng := rand.New(src)
	var weights []float64
	counts := make([]int, k)
	for _, y := range partLabels {
		counts[y]++
	}
	switch cfg.Balance {
	case "weights":
		weights = cnn.ClassWeights(counts)
	case "sqrt":
		weights = cnn.ClassWeightsPow(counts, 0.5)
	}
	byClass := make([][]int, k)
	for i, y := range partLabels {
		byClass[y] = append(byClass[y], i)
	}
	n := len(pi)
	perEpoch := n / cfg.Batch // the last partial batch is dropped
	total := perEpoch * cfg.Epochs
	warm := int(cfg.WarmupEpochs * float64(perEpoch))
	opt := newOptimizer(cfg, net.Params())
	res := &EpochResult{BestEpoch: 0, ValAccuracy: math.Inf(-1), Counts: counts, TrainIndex: pi}
	if val != nil {
		res.NVal, res.Val = val.Len(), val
	}
	var best [][]float32
	snapshot := func() {
		ps := net.Params()
		if best == nil {
			best = make([][]float32, len(ps))
		}
		for i, p := range ps {
			best[i] = append(best[i][:0], p.W...)
		}
	}
	h, w, c := sp.H, sp.W, sp.InC
	ih, iw := sp.In()
	x := &cnn.Tensor[float32]{Shape: cnn.Shape{C: c, N: cfg.Batch, H: ih, W: iw}, D: make([]float32, c*cfg.Batch*ih*iw)}
	dz := make([]float32, k*cfg.Batch)
	order := make([]int, n)
	syms, dys, dxs := make([]int, cfg.Batch), make([]int, cfg.Batch), make([]int, cfg.Batch)
	warps := make([]cnn.Warp, cfg.Batch)
	rotate := cfg.Augment && cfg.Rotate
	labels := make([]int, cfg.Batch)
	step := 0
	var trainTime time.Duration
	since := 0
	first := 1
	if from := ck.From; from != nil {
		if err := from.restore(net, opt, src); err != nil {
			return nil, err
		}
		step, trainTime, since, first = from.Step, from.TrainTime, from.Since, from.Epoch+1
		res.Epochs, res.Curve, res.BestEpoch, res.ValAccuracy, res.Steps = from.Stats, from.Curve, from.BestEpoch, from.BestScore, from.Step
		if from.Best != nil {
			best = from.Best
		}
	}
	for epoch := first; epoch <= cfg.Epochs; epoch++ {
		if cfg.Balance == "sample" {
			for i := range order {
				cls := rng.IntN(k)
				for len(byClass[cls]) == 0 {
					cls = rng.IntN(k)
				}
				order[i] = byClass[cls][rng.IntN(len(byClass[cls]))]
			}
		} else {
			for i := range order {
				order[i] = i
			}
			rng.Shuffle(n, func(a, b int) { order[a], order[b] = order[b], order[a] })
		}
		start := time.Now()
		var lossSum float64
		batches := 0
		lr := cfg.LR
		for bi := 0; bi < perEpoch; bi++ {
			if ctx.Err() != nil {
				res.Interrupted = true
				break
			}
			idx := order[bi*cfg.Batch : (bi+1)*cfg.Batch]
			for j, i := range idx {
				labels[j] = partLabels[i]
				syms[j], dys[j], dxs[j] = 0, 0, 0
				if rotate {
					warps[j] = randomWarp(rng, cfg.Shift, cfg.Zoom)
				} else if cfg.Augment {
					if ih == iw {
						syms[j] = rng.IntN(cnn.Symmetries)
					}
					if cfg.Shift > 0 {
						dys[j], dxs[j] = rng.IntN(2*cfg.Shift+1)-cfg.Shift, rng.IntN(2*cfg.Shift+1)-cfg.Shift
					}
				}
			}
			num.Parallel(len(idx), 8, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					if rotate {
						cnn.WarpToCNHW(tr.Image(pi[idx[j]]), h, w, c, ih, iw, float32(data.Scale), warps[j], x.D, j, cfg.Batch)
						continue
					}
					cnn.ToCNHW(tr.Image(pi[idx[j]]), h, w, c, ih, iw, float32(data.Scale), syms[j], dys[j], dxs[j], x.D, j, cfg.Batch)
				}
			})
			net.ZeroGrad()
			z := net.Forward(x, true)
			var loss float64
			if cfg.Loss == "bce" {
				loss = cnn.SummedBCE(z.D, k, cfg.Batch, labels, dz)
			} else {
				loss = cnn.SoftmaxCE(z.D, k, cfg.Batch, labels, cfg.LabelSmoothing, weights, dz)
			}
			net.BackwardParams(&cnn.Tensor[float32]{Shape: z.Shape, D: dz})
			lr = Schedule(cfg.LR, step, warm, total)
			opt.step(lr)
			step++
			batches++
			lossSum += loss
		}
		el := time.Since(start)
		trainTime += el
		if batches == 0 {
			break
		}
		st := EpochStat{Epoch: epoch, Step: step, LR: lr, TrainLoss: lossSum / float64(batches), ValAccuracy: math.NaN(),
			Seconds: el.Seconds(), ImagesPerSec: float64(batches*cfg.Batch) / el.Seconds()}
		p := Point{Step: step, TrainLoss: st.TrainLoss}
		sc := Score(net, test, k, CrossEntropy)
		p.TestLoss, p.TestAccuracy, st.TestBalanced = sc.Loss, sc.Accuracy, sc.Balanced
		st.TestAccuracy = p.TestAccuracy
		score := float64(epoch) // without validation: keep the last epoch
		st.ValBalanced = math.NaN()
		if val != nil {
			vs := Score(net, val, k, CrossEntropy)
			st.ValAccuracy, st.ValBalanced = vs.Accuracy, vs.Balanced
			score = st.ValAccuracy
		}
		if score > res.ValAccuracy || cfg.KeepLast {
			res.ValAccuracy, res.BestEpoch, st.Best, since = score, epoch, true, 0
			snapshot()
		} else {
			since++
		}
		res.Curve = append(res.Curve, p)
		res.Epochs = append(res.Epochs, st)
		res.Steps = step
		if onEpoch != nil {
			onEpoch(st, p)
		}
		if res.Interrupted {
			break
		}
		if ck.Save != nil {
			es, err := captureEpochState(net, opt, src, epoch, step, since, trainTime, res, best)
			if err == nil {
				err = ck.Save(es)
			}
			if err != nil {
				return nil, err
			}
		}
		if cfg.Patience > 0 && since >= cfg.Patience && epoch < cfg.Epochs {
			res.Stopped = true
			break
		}
	}
	if val == nil {
		res.ValAccuracy = math.NaN()
	}
	if best != nil {
		for i, p := range net.Params() {
			copy(p.W, best[i])
		}
	}
	res.StepTime = trainTime / time.Duration(max(step, 1))
	return res, nil
}

// Loss names the loss Score reports.
type Loss int

const (
	CrossEntropy Loss = iota // softmax cross-entropy
	SummedBCE                // the assignment's summed binary cross-entropy of sigmoid outputs
)

// Scores are a classifier's figures on a split.
type Scores struct {
	Loss     float64 // mean per image
	Accuracy float64
	Balanced float64 // balanced accuracy: the mean over classes present of each class's recall
}

// Score measures c on s (k classes), scored in batches as galaxy eval
// scores it (model.BatchLogits), so the figures agree to the bit.
func Score(c model.Classifier, s *data.Split, k int, loss Loss) Scores {
	if s == nil || s.Len() == 0 {
		return Scores{}
	}
	z := model.BatchLogits(c, s, k)
	var sum float64
	p := make([]float64, k)
	for i, y := range s.Labels {
		row := z[i*k : (i+1)*k]
		if loss == SummedBCE {
			for c, v := range row {
				t := float32(0)
				if c == y {
					t = 1
				}
				sum += float64(num.BCE(v, t))
			}
			continue
		}
		mx, se := num.SoftmaxExp(row, k, 1, p)
		sum += math.Log(se) + mx - float64(row[y])
	}
	acc, bal := adjustedScores(z, s.Labels, k, nil)
	return Scores{Loss: sum / float64(s.Len()), Accuracy: acc, Balanced: bal}
}

// randomWarp draws an augmentation: a flip with probability 1/2, an angle
// uniform in [0, 2π), a scale log-uniform in [1/zoom, zoom] and a shift
// uniform in [-shift, shift] pixels on each axis.
func randomWarp(rng *rand.Rand, shift int, zoom float64) cnn.Warp {
	wp := cnn.Warp{Flip: rng.IntN(2) == 1, Angle: 2 * math.Pi * rng.Float64(), Scale: 1}
	if zoom > 1 {
		wp.Scale = math.Exp((2*rng.Float64() - 1) * math.Log(zoom))
	}
	if shift > 0 {
		s := float64(shift)
		wp.DY, wp.DX = (2*rng.Float64()-1)*s, (2*rng.Float64()-1)*s
	}
	return wp
}

// Throughput returns images per second of net on random images: training
// steps (forward, softmax cross-entropy, backward, Adam update) at batch b
// when train is set, else inference (Logits). It runs warm steps first,
// then the median of rounds timed rounds of steps each.
func Throughput(net Layered, b, warm, rounds, steps int, train bool) float64 {
	sp := net.Layout()
	rng := rand.New(rand.NewPCG(1, 2))
	// Inference reads whole images (feats); training feeds the network's
	// input, the crop when there is one, directly (x).
	feats := make([]float32, b*sp.H*sp.W*sp.InC)
	for i := range feats {
		feats[i] = rng.Float32()
	}
	ih, iw := sp.In()
	x := &cnn.Tensor[float32]{Shape: cnn.Shape{C: sp.InC, N: b, H: ih, W: iw}, D: feats[:b*ih*iw*sp.InC]}
	labels := make([]int, b)
	for i := range labels {
		labels[i] = rng.IntN(sp.K)
	}
	dz := make([]float32, sp.K*b)
	out := make([]float32, b*sp.K)
	opt := newOptimizer(EpochConfig{Optimizer: "adam"}, net.Params())
	one := func() {
		if !train {
			net.Logits(feats, b, out)
			return
		}
		net.ZeroGrad()
		z := net.Forward(x, true)
		cnn.SoftmaxCE(z.D, sp.K, b, labels, 0, nil, dz)
		net.BackwardParams(&cnn.Tensor[float32]{Shape: z.Shape, D: dz})
		opt.step(1e-3)
	}
	for range warm {
		one()
	}
	var rates []float64
	for range rounds {
		t := time.Now()
		for range steps {
			one()
		}
		rates = append(rates, float64(steps*b)/time.Since(t).Seconds())
	}
	slices.Sort(rates)
	return rates[len(rates)/2]
}
