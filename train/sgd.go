// Package train owns the training loops: stochastic gradient descent for the
// assignment's network, with test accuracy and loss recorded along the way
// (the curve the assignment plots), stopping cleanly when its context is
// cancelled.
package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"galaxy/data"
	"galaxy/eval"
	"galaxy/model"
	"galaxy/model/seed"
	"galaxy/num"
)

// Config holds the SGD settings.
type Config struct {
	Steps     int     // number of steps
	LR        float32 // learning rate
	EvalEvery int     // evaluate the test split every this many steps (and after the last)
	Seed      uint64  // seeds initialisation and the draw of images
	Batch     int     // images per step (0 is taken as 1)
	Mode      seed.Mode
}

// Check reports settings that cannot train.
func (c Config) Check() error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("--steps %d: need at least 1 step", c.Steps)
	case !(c.LR > 0) || math.IsInf(float64(c.LR), 0):
		return fmt.Errorf("--lr %v: the learning rate must be a positive number", c.LR)
	case c.EvalEvery < 1:
		return fmt.Errorf("--eval-every %d: must be at least 1", c.EvalEvery)
	case c.Batch < 0:
		return fmt.Errorf("--batch %d: need at least 1 image per step", c.Batch)
	}
	return nil
}

// Point is one row of the learning curve.
type Point struct {
	Step         int     `json:"step"`
	TrainLoss    float64 `json:"train_loss"` // mean loss of the steps since the previous point
	TestLoss     float64 `json:"test_loss"`  // mean summed BCE over the test split
	TestAccuracy float64 `json:"test_accuracy"`
}

// Result is what a run did.
type Result struct {
	Curve       []Point
	Steps       int  // steps taken
	Interrupted bool // stopped by its context before Steps
	StepTime    time.Duration
}

// Observer hears about progress; either field may be nil.
type Observer struct {
	Step func(step int) // called every 1000 steps
	Eval func(p Point)  // called at every evaluation
}

// NewRand returns the random source a run with this seed uses.
func NewRand(seed uint64) *rand.Rand { return rand.New(NewPCG(seed)) }

// SGD trains net on train by stochastic gradient descent: each step draws
// Batch images at random (with replacement) and moves the parameters by -LR
// times their mean gradient; at Batch 1 that is the assignment's one image per
// step. It evaluates on test every EvalEvery steps. rng draws the images. When ctx is cancelled it stops after the
// current step and returns what it has, with Interrupted set.
func SGD(ctx context.Context, net *seed.Net, train, test *data.Split, cfg Config, rng *rand.Rand, obs Observer) (*Result, error) {
	return sgd(ctx, net, train, test, cfg, rng, nil, Checkpointing{}, obs)
}

// sgd is SGD, optionally resumable: with ck.Save set, src must be rng's
// source; the run starts from ck.From (nil: step 0) and hands ck.Save its
// state every ck.Every steps, when interrupted, and after the last step.
func sgd(ctx context.Context, net *seed.Net, train, test *data.Split, cfg Config, rng *rand.Rand, src *rand.PCG, ck Checkpointing, obs Observer) (*Result, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if train.Len() == 0 {
		return nil, fmt.Errorf("the training split is empty")
	}
	n, _, _ := net.Sizes()
	if train.Dim() != n {
		return nil, fmt.Errorf("images have %d values, the network takes %d", train.Dim(), n)
	}
	x := train.Matrix()
	res := &Result{}
	var lossSum float64
	var lossN int
	first := 1
	if st := ck.From; st != nil {
		if st.Step < 0 || st.Step > cfg.Steps {
			return nil, fmt.Errorf("checkpoint at step %d does not fit a run of %d steps", st.Step, cfg.Steps)
		}
		res.Curve = append(res.Curve, st.Curve...)
		res.Steps = st.Step
		lossSum, lossN = st.LossSum, st.LossN
		first = st.Step + 1
	}
	save := func(step int) error {
		if ck.Save == nil {
			return nil
		}
		st := &State{Step: step, Curve: append([]Point(nil), res.Curve...), LossSum: lossSum, LossN: lossN, Done: step == cfg.Steps}
		b, err := src.MarshalBinary()
		if err != nil {
			return fmt.Errorf("checkpoint at step %d: random state: %w", step, err)
		}
		st.RNG = b
		if err := ck.Save(st); err != nil {
			return fmt.Errorf("checkpoint at step %d: %w", step, err)
		}
		return nil
	}
	evaluate := func(step int) {
		p := Point{Step: step, TrainLoss: lossSum / float64(max(lossN, 1))}
		p.TestLoss, p.TestAccuracy = Evaluate(net, test)
		res.Curve = append(res.Curve, p)
		lossSum, lossN = 0, 0
		if obs.Eval != nil {
			obs.Eval(p)
		}
	}
	batch := max(cfg.Batch, 1)
	xb, yb := make([]float32, batch*n), make([]int, batch)
	team := num.NewTeam(runtime.GOMAXPROCS(0))
	defer team.Close()
	net.SetTeam(team)
	defer net.SetTeam(nil)
	start := time.Now()
	for step := first; step <= cfg.Steps; step++ {
		if batch == 1 && cfg.Mode == seed.Vector {
			i := rng.IntN(train.Len())
			lossSum += float64(net.Step(x[i*n:(i+1)*n], train.Labels[i], cfg.LR))
		} else {
			for r := range yb {
				i := rng.IntN(train.Len())
				copy(xb[r*n:(r+1)*n], x[i*n:(i+1)*n])
				yb[r] = train.Labels[i]
			}
			lossSum += float64(net.StepBatch(xb, yb, cfg.LR, cfg.Mode))
		}
		lossN++
		res.Steps = step
		if step%cfg.EvalEvery == 0 || step == cfg.Steps {
			evaluate(step)
		}
		if step == cfg.Steps || (ck.Every > 0 && step%ck.Every == 0) {
			if err := save(step); err != nil {
				return nil, err
			}
		}
		if step%1000 == 0 {
			if obs.Step != nil {
				obs.Step(step)
			}
			if ctx.Err() != nil {
				res.Interrupted = step < cfg.Steps
				break
			}
		}
	}
	if res.Interrupted {
		// The state as it stands, before the closing evaluation below
		// changes the curve and the loss accumulator, so that a resumed
		// run continues as if never stopped.
		if ck.Every <= 0 || res.Steps%ck.Every != 0 {
			if err := save(res.Steps); err != nil {
				return nil, err
			}
		}
		if len(res.Curve) == 0 || res.Curve[len(res.Curve)-1].Step != res.Steps {
			evaluate(res.Steps)
		}
	}
	res.StepTime = time.Since(start) / time.Duration(max(res.Steps-first+1, 1))
	return res, nil
}

// Evaluate returns the mean summed binary cross-entropy and the accuracy of
// net on the split s, scored in batches as galaxy eval scores it.
func Evaluate(net *seed.Net, s *data.Split) (loss, acc float64) {
	if s.Len() == 0 {
		return 0, 0
	}
	_, _, k := net.Sizes()
	z := model.BatchLogits(net, s, k)
	correct := 0
	for i, y := range s.Labels {
		row := z[i*k : (i+1)*k]
		for c, v := range row {
			t := float32(0)
			if c == y {
				t = 1
			}
			loss += float64(seed.BCE(v, t))
		}
		if eval.Argmax(row) == y {
			correct++
		}
	}
	return loss / float64(s.Len()), float64(correct) / float64(s.Len())
}
