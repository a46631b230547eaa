package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"galaxy/model/modelfile"
)

// EpochState is what an epoch-based run (EpochsResumable) needs, besides
// the network's current weights, to continue after its last completed
// epoch. In a checkpoint file (WriteCheckpoint) the float tensors Best, M
// and V are stored as tensors named "best/", "opt.m/" and "opt.v/"
// followed by the parameter's name; the rest is JSON in State.
type EpochState struct {
	Epoch     int // epochs completed
	Step      int
	Since     int // epochs since the best one (early stopping)
	TrainTime time.Duration
	Stats     []EpochStat
	Curve     []Point
	BestEpoch int
	BestScore float64
	RNG       []byte   // shuffling and augmentation source
	Dropout   [][]byte // each dropout layer's source, in layer order
	OptT      int      // optimiser steps (Adam's bias correction)

	Best [][]float32 // the best epoch's tensors, in net.Params() order (nil before one)
	M, V [][]float32 // optimiser moments of each trainable parameter

	hasBest bool // read from a checkpoint: its file holds Best's tensors
}

func captureEpochState(net Layered, opt *optimizer, src *rand.PCG, epoch, step, since int, trainTime time.Duration, res *EpochResult, best [][]float32) (*EpochState, error) {
	es := &EpochState{Epoch: epoch, Step: step, Since: since, TrainTime: trainTime,
		Stats: append([]EpochStat(nil), res.Epochs...), Curve: append([]Point(nil), res.Curve...),
		BestEpoch: res.BestEpoch, BestScore: res.ValAccuracy, OptT: opt.t, Best: best, M: opt.m, V: opt.v}
	var err error
	if es.RNG, err = src.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	for _, src := range net.RandomSources() {
		if src == nil {
			return nil, fmt.Errorf("checkpoint: a dropout layer has no recordable random source")
		}
		b, err := src.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		es.Dropout = append(es.Dropout, b)
	}
	return es, nil
}

// restore puts the state's random sources and optimiser moments into a
// run that was set up afresh.
func (es *EpochState) restore(net Layered, opt *optimizer, src *rand.PCG) error {
	if err := src.UnmarshalBinary(es.RNG); err != nil {
		return fmt.Errorf("checkpoint random state: %w", err)
	}
	i := 0
	for _, src := range net.RandomSources() {
		if i >= len(es.Dropout) || src == nil {
			return fmt.Errorf("checkpoint: %d dropout random states for more dropout layers", len(es.Dropout))
		}
		if err := src.UnmarshalBinary(es.Dropout[i]); err != nil {
			return fmt.Errorf("checkpoint dropout random state: %w", err)
		}
		i++
	}
	if i != len(es.Dropout) || len(es.M) != len(opt.m) || len(es.V) != len(opt.v) {
		return fmt.Errorf("checkpoint: its optimiser or dropout state does not fit the network")
	}
	for j := range opt.m {
		if len(es.M[j]) != len(opt.m[j]) || len(es.V[j]) != len(opt.v[j]) {
			return fmt.Errorf("checkpoint: optimiser moment %d has %d values, the network %d", j, len(es.M[j]), len(opt.m[j]))
		}
		copy(opt.m[j], es.M[j])
		copy(opt.v[j], es.V[j])
	}
	opt.t = es.OptT
	if es.Best != nil && len(es.Best) != len(net.Params()) {
		return fmt.Errorf("checkpoint: %d best tensors for %d", len(es.Best), len(net.Params()))
	}
	return nil
}

// epochStatJSON is an EpochStat with its floats (NaN without validation)
// as IEEE-754 bits.
type epochStatJSON struct {
	Epoch, Step                                     int
	Best                                            bool
	LR, Loss, Val, ValBal, Test, TestBal, Secs, IPS uint64
}

type epochStateJSON struct {
	Epoch     int             `json:"epoch"`
	Step      int             `json:"step"`
	Since     int             `json:"since"`
	TrainNs   int64           `json:"train_ns"`
	Stats     []epochStatJSON `json:"stats"`
	Curve     []statePoint    `json:"curve"`
	BestEpoch int             `json:"best_epoch"`
	BestScore uint64          `json:"best_score_bits"`
	RNG       []byte          `json:"rng"`
	Dropout   [][]byte        `json:"dropout_rng"`
	OptT      int             `json:"opt_t"`
	HasBest   bool            `json:"has_best"`
}

func (es *EpochState) toJSON() epochStateJSON {
	b := math.Float64bits
	j := epochStateJSON{Epoch: es.Epoch, Step: es.Step, Since: es.Since, TrainNs: int64(es.TrainTime), BestEpoch: es.BestEpoch,
		BestScore: b(es.BestScore), RNG: es.RNG, Dropout: es.Dropout, OptT: es.OptT, HasBest: es.Best != nil}
	for _, s := range es.Stats {
		j.Stats = append(j.Stats, epochStatJSON{s.Epoch, s.Step, s.Best, b(s.LR), b(s.TrainLoss), b(s.ValAccuracy), b(s.ValBalanced),
			b(s.TestAccuracy), b(s.TestBalanced), b(s.Seconds), b(s.ImagesPerSec)})
	}
	for _, p := range es.Curve {
		j.Curve = append(j.Curve, statePoint{p.Step, b(p.TrainLoss), b(p.TestLoss), b(p.TestAccuracy)})
	}
	return j
}

func (j epochStateJSON) state() *EpochState {
	f := math.Float64frombits
	es := &EpochState{Epoch: j.Epoch, Step: j.Step, Since: j.Since, TrainTime: time.Duration(j.TrainNs), BestEpoch: j.BestEpoch,
		BestScore: f(j.BestScore), RNG: j.RNG, Dropout: j.Dropout, OptT: j.OptT, hasBest: j.HasBest}
	for _, s := range j.Stats {
		es.Stats = append(es.Stats, EpochStat{Epoch: s.Epoch, Step: s.Step, Best: s.Best, LR: f(s.LR), TrainLoss: f(s.Loss),
			ValAccuracy: f(s.Val), ValBalanced: f(s.ValBal), TestAccuracy: f(s.Test), TestBalanced: f(s.TestBal), Seconds: f(s.Secs), ImagesPerSec: f(s.IPS)})
	}
	for _, p := range j.Curve {
		es.Curve = append(es.Curve, Point{p.Step, f(p.TrainLoss), f(p.TestLoss), f(p.TestAcc)})
	}
	return es
}

// Checkpoint tensor name prefixes of an EpochState.
const (
	bestPrefix = "best/"
	mPrefix    = "opt.m/"
	vPrefix    = "opt.v/"
)

// epochTensors returns the state's float tensors for a checkpoint file.
func (es *EpochState) epochTensors(net Layered) ([]modelfile.Tensor, error) {
	ps := net.Params()
	var ts []modelfile.Tensor
	if es.Best != nil {
		for i, p := range ps {
			ts = append(ts, modelfile.Tensor{Name: bestPrefix + p.Name, Shape: p.Shape, Data: es.Best[i]})
		}
	}
	j := 0
	for _, p := range ps {
		if p.G == nil {
			continue
		}
		if j >= len(es.M) {
			return nil, fmt.Errorf("checkpoint: fewer optimiser moments than parameters")
		}
		ts = append(ts, modelfile.Tensor{Name: mPrefix + p.Name, Shape: p.Shape, Data: es.M[j]},
			modelfile.Tensor{Name: vPrefix + p.Name, Shape: p.Shape, Data: es.V[j]})
		j++
	}
	return ts, nil
}

// loadEpochTensors fills the state's float tensors from a checkpoint's.
func (es *EpochState) loadEpochTensors(net Layered, ts []modelfile.Tensor) error {
	hasBest := es.hasBest
	es.Best, es.M, es.V = nil, nil, nil
	for _, p := range net.Params() {
		if hasBest {
			d, err := modelfile.Find(ts, bestPrefix+p.Name, p.Shape...)
			if err != nil {
				return err
			}
			es.Best = append(es.Best, d)
		}
		if p.G == nil {
			continue
		}
		m, err := modelfile.Find(ts, mPrefix+p.Name, p.Shape...)
		if err != nil {
			return err
		}
		v, err := modelfile.Find(ts, vPrefix+p.Name, p.Shape...)
		if err != nil {
			return err
		}
		es.M, es.V = append(es.M, m), append(es.V, v)
	}
	return nil
}
