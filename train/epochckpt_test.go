package train

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"galaxy/model"
	"galaxy/model/cnn"
	"galaxy/model/modelfile"
)

// TestEpochsResume interrupts a cnn run after each possible epoch, resumes
// it from the checkpoint file, and checks that the final weights, buffers
// and per-epoch records equal the uninterrupted run's bit for bit.
func TestEpochsResume(t *testing.T) {
	tr, test := tinySplit(150, 1), tinySplit(30, 2)
	spec := cnn.Spec{InC: 3, H: 8, W: 8, K: 3, Widths: []int{4, 6}, Dropout: 0.3}
	cfg := EpochConfig{Epochs: 4, Batch: 16, Optimizer: "adam", LR: 3e-3, WarmupEpochs: 1, ValFrac: 0.2, Seed: 5,
		Augment: true, Shift: 1, Balance: "none", Loss: "ce", LabelSmoothing: 0.05}
	newNet := func() *cnn.Net {
		n, err := cnn.New(spec, NewRand(9))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	ref := newNet()
	want, err := Epochs(context.Background(), ref, tr, test, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	meta := modelfile.Meta{Arch: "cnn", Scheme: "t", Classes: []string{"a", "b", "c"},
		Input: modelfile.Input{Height: 8, Width: 8, Channels: []int{0, 1, 2}, SourceChannels: 3, Scale: 1.0 / 256}, Hyper: spec.Hyper()}
	for stop := 1; stop < cfg.Epochs; stop++ {
		path := filepath.Join(t.TempDir(), "checkpoint")
		net := newNet()
		ctx, cancel := context.WithCancel(context.Background())
		save := func(es *EpochState) error {
			return WriteCheckpoint(path, &model.Model{Net: net, Meta: meta}, &State{Step: es.Step, RNG: es.RNG, Epochs: es})
		}
		res, err := EpochsResumable(ctx, net, tr, test, cfg, EpochCheckpointing{Save: save}, func(st EpochStat, _ Point) {
			if st.Epoch == stop {
				cancel() // the next epoch stops at its first batch, unsaved
			}
		})
		cancel()
		if err != nil || !res.Interrupted {
			t.Fatalf("stop %d: interrupted %v, err %v", stop, res != nil && res.Interrupted, err)
		}
		m, st, err := ReadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Epochs.Epoch != stop {
			t.Fatalf("stop %d: checkpoint at epoch %d", stop, st.Epochs.Epoch)
		}
		resumed := m.Net.(*cnn.Net)
		got, err := EpochsResumable(context.Background(), resumed, tr, test, cfg, EpochCheckpointing{From: st.Epochs}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wp, gp := ref.Params(), resumed.Params()
		for i := range wp {
			if !slices.Equal(wp[i].W, gp[i].W) {
				t.Fatalf("stop %d: %s differs after resuming", stop, wp[i].Name)
			}
		}
		if len(got.Epochs) != len(want.Epochs) || got.BestEpoch != want.BestEpoch || got.Steps != want.Steps {
			t.Fatalf("stop %d: %d epochs, best %d, %d steps; want %d, %d, %d", stop, len(got.Epochs), got.BestEpoch, got.Steps, len(want.Epochs), want.BestEpoch, want.Steps)
		}
		for i, e := range want.Epochs {
			g := got.Epochs[i]
			if g.TrainLoss != e.TrainLoss || g.ValAccuracy != e.ValAccuracy || g.TestAccuracy != e.TestAccuracy || (math.IsNaN(e.TestBalanced) != math.IsNaN(g.TestBalanced)) {
				t.Fatalf("stop %d: epoch %d: %+v, want %+v", stop, i+1, g, e)
			}
		}
	}
}
