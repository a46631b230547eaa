// Package train fits models to prepared data sets and writes what a run
// leaves behind. Run is the one entry point: from a Config (DefaultConfig
// gives an architecture's defaults) and a prepared data set to a model and
// a run folder (Folder: model, curve.csv, plots, metrics.json,
// checkpoint), with resumption (OpenCheckpoint), logit adjustment and
// test-time averaging decided here, once.
//
// Two trainers share its vocabulary (Config, Result, Point, Score,
// checkpoints): the step trainer (sgd.go), stochastic gradient descent as
// the course assignment defines it, for networks that take their own
// gradient steps (Stepper: model/seed); and the epoch trainer (epochs.go),
// mini-batches with augmentation, an optimiser (optim.go) and a schedule,
// for layered networks (Layered: model/cnn, whose losses are in
// model/cnn/loss.go). Every run stops cleanly when its context is
// cancelled.
package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"galaxy/data"
	"galaxy/model/seed"
	"galaxy/num"
)

// sgdConfig holds the settings of the step trainer (Config has them all).
type sgdConfig struct {
	Steps     int     // number of steps
	LR        float32 // learning rate
	EvalEvery int     // evaluate the test split every this many steps (and after the last)
	Batch     int     // images per step
	Mode      seed.Mode
}

// Point is one row of the learning curve.
type Point struct {
	Step         int     `json:"step"`
	TrainLoss    float64 `json:"train_loss"` // mean loss of the steps since the previous point
	TestLoss     float64 `json:"test_loss"`  // mean summed BCE over the test split
	TestAccuracy float64 `json:"test_accuracy"`
}

// Result is what a trainer did.
type Result struct {
	Curve       []Point
	Steps       int  // steps taken
	Interrupted bool // stopped by its context before the end
	StepTime    time.Duration
}

// NewRand returns the random source a run with this seed uses.
func NewRand(seed uint64) *rand.Rand { return rand.New(NewPCG(seed)) }

// sgd is the step trainer. It trains net on train by stochastic gradient
// descent: each step draws Batch images at random (with replacement) and
// moves the parameters by -LR times their mean gradient; at Batch 1 that is
// the assignment's one image per step. It evaluates on test every
// EvalEvery steps. rng, whose source is src, draws the images. The run
// starts from ck.From (nil: step 0), which with the matching weights in net
// and src restored continues the run bit for bit as if it had never
// stopped, and hands ck.Save (if set) its state every ck.Every steps, when
// interrupted, and after the last step; a failed save stops the run with
// its error. Saving flushes the network's deferred update, as an
// evaluation does; a run is reproducible for a given ck.Every. When ctx is
// cancelled it stops after the current step and returns what it has, with
// Interrupted set.
func sgd(ctx context.Context, net Stepper, train, test *data.Split, cfg sgdConfig, rng *rand.Rand, src *rand.PCG, ck Checkpointing, obs Observer) (*Result, error) {
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
		_, _, k := net.Sizes()
		sc := Score(net, test, k, SummedBCE)
		p.TestLoss, p.TestAccuracy = sc.Loss, sc.Accuracy
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
