package train

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/cnn"
	"galaxy/model/modelfile"
)

// tinySplit makes n 8x8x3 images of 3 classes that a small CNN can tell
// apart: class 0 dark, class 1 a bright centre, class 2 a bright bar.
func tinySplit(n int, seed uint64) *data.Split {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &data.Split{Name: "t", H: 8, W: 8, C: 3}
	for i := range n {
		y := i % 3
		img := make([]uint8, 8*8*3)
		for p := range 64 {
			yy, xx := p/8, p%8
			v := 20 + rng.IntN(30)
			if y == 1 && yy >= 3 && yy <= 4 && xx >= 3 && xx <= 4 {
				v += 180
			}
			if y == 2 && yy == 4 {
				v += 180
			}
			for c := range 3 {
				img[p*3+c] = uint8(v)
			}
		}
		s.Pixels = append(s.Pixels, img...)
		s.Labels = append(s.Labels, y)
		s.Index = append(s.Index, i)
	}
	return s
}

func TestSchedule(t *testing.T) {
	if v := Schedule(1, 0, 10, 100); math.Abs(v-0.1) > 1e-12 {
		t.Errorf("warm-up start %v", v)
	}
	if v := Schedule(1, 10, 10, 100); v != 1 {
		t.Errorf("peak %v", v)
	}
	if v := Schedule(1, 55, 10, 100); math.Abs(v-0.5) > 1e-12 {
		t.Errorf("cosine midpoint %v", v)
	}
	if v := Schedule(1, 99, 10, 100); v > 0.001 {
		t.Errorf("end %v", v)
	}
}

// TestOptimizers checks one step of each optimiser against its formula.
func TestOptimizers(t *testing.T) {
	for _, o := range []string{"sgd", "adam", "adamw"} {
		p := &cnn.Param[float32]{Name: "w", Shape: []int{1}, W: []float32{2}, G: []float32{0.5}, Decay: true}
		opt := newOptimizer(EpochConfig{Optimizer: o, Momentum: 0.9, WeightDecay: 0.1}, []*cnn.Param[float32]{p})
		opt.step(0.1)
		var want float64
		switch o {
		case "sgd":
			want = 2 - 0.1*(0.5+0.1*2)
		case "adam": // first Adam step moves by lr·sign(g) (L2 folded into g)
			want = 2 - 0.1
		case "adamw":
			want = 2*(1-0.1*0.1) - 0.1
		}
		if math.Abs(float64(p.W[0])-want) > 1e-5 {
			t.Errorf("%s: %v, want %v", o, p.W[0], want)
		}
	}
}

func TestCarveValidation(t *testing.T) {
	s := tinySplit(90, 1)
	tr, val := CarveValidation(s, 3, 0.2, 5)
	if tr.Len()+val.Len() != 90 || val.Len() != 18 {
		t.Fatalf("carved %d + %d", tr.Len(), val.Len())
	}
	for c, n := range val.Counts(3) {
		if n != 6 {
			t.Errorf("class %d: %d validation images, want 6", c, n)
		}
	}
	_, val2 := CarveValidation(s, 3, 0.2, 5)
	for i := range val.Index {
		if val.Index[i] != val2.Index[i] {
			t.Fatal("carve-out not deterministic")
		}
	}
}

func trainTiny(t *testing.T, cfg EpochConfig) (*cnn.Net, *EpochResult) {
	t.Helper()
	net, err := cnn.New(cnn.Spec{InC: 3, H: 8, W: 8, K: 3, Widths: []int{4, 8}, Dropout: 0.1}, NewRand(3))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Epochs(context.Background(), net, tinySplit(120, 1), tinySplit(30, 2), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return net, res
}

// TestEpochsLearnsDeterministic trains a tiny CNN twice with the same seed:
// it learns the toy task and gives the same bits both times; the model
// survives a save/load round trip with identical logits.
func TestEpochsLearnsDeterministic(t *testing.T) {
	cfg := EpochConfig{Epochs: 6, Batch: 8, Optimizer: "adamw", LR: 0.01, WeightDecay: 0.01, WarmupEpochs: 1,
		ValFrac: 0.2, Seed: 7, Augment: true, Shift: 1, Balance: "weights", LabelSmoothing: 0.05, Loss: "ce"}
	a, ra := trainTiny(t, cfg)
	b, _ := trainTiny(t, cfg)
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		for j := range pa[i].W {
			if math.Float32bits(pa[i].W[j]) != math.Float32bits(pb[i].W[j]) {
				t.Fatalf("%s[%d] differs between runs", pa[i].Name, j)
			}
		}
	}
	if len(ra.Curve) != len(ra.Epochs) || ra.BestEpoch < 1 {
		t.Fatalf("curve %d points, %d epochs, best %d", len(ra.Curve), len(ra.Epochs), ra.BestEpoch)
	}
	test := tinySplit(30, 2)
	if acc := Score(a, test, 3, CrossEntropy).Accuracy; acc < 0.9 {
		t.Errorf("test accuracy %v after training on the toy task", acc)
	}
	a.Spec.TTA = true
	m := &model.Model{Net: a, Meta: modelfile.Meta{Arch: cnn.Name, Scheme: "toy", Classes: []string{"a", "b", "c"},
		Input: modelfile.Input{Height: 8, Width: 8, Channels: []int{0, 1, 2}, Scale: data.Scale}, Hyper: a.Spec.Hyper()}}
	path := filepath.Join(t.TempDir(), "model")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	z1, z2 := model.BatchLogits(a, test, 3), m2.LogitSplit(test)
	for i := range z1 {
		if z1[i] != z2[i] {
			t.Fatalf("logit %d: %v before saving, %v after loading", i, z1[i], z2[i])
		}
	}
}

// TestEpochsOptions trains with the less common options and checks that
// each is in effect: SGD with class-balanced sampling and the summed BCE
// learns the toy problem and differs from Adam on cross-entropy, early
// stopping stops, and bad settings are refused.
func TestEpochsOptions(t *testing.T) {
	_, a := trainTiny(t, EpochConfig{Epochs: 2, Batch: 8, Optimizer: "sgd", LR: 0.05, Momentum: 0.9, Seed: 1, Balance: "sample", Loss: "bce", Patience: 1, ValFrac: 0.2})
	_, b := trainTiny(t, EpochConfig{Epochs: 2, Batch: 8, Optimizer: "adam", LR: 0.01, Seed: 1, Balance: "none", Loss: "ce"})
	if len(a.Epochs) == 0 || len(b.Epochs) != 2 || a.Epochs[0].TrainLoss == b.Epochs[0].TrainLoss {
		t.Errorf("sgd/sample/bce and adam/ce ran the same: %+v %+v", a.Epochs, b.Epochs)
	}
	// The summed BCE of 3 classes starts near 3·log 2; the cross-entropy near log 3.
	if l := a.Epochs[0].TrainLoss; !(l > 1.2 && l < 3) {
		t.Errorf("bce loss %v: not the summed binary cross-entropy", l)
	}
	if l := b.Epochs[0].TrainLoss; !(l > 0.3 && l < 1.5) {
		t.Errorf("ce loss %v: not the cross-entropy", l)
	}
	good, err := DefaultConfig("cnn")
	if err != nil || good.Check() != nil {
		t.Fatalf("cnn defaults: %v %v", err, good.Check())
	}
	for _, c := range []struct {
		bad  func(*Config)
		want string
	}{
		{func(c *Config) { c.Optimizer = "rmsprop" }, "optimizer"},
		{func(c *Config) { c.Batch = 1 }, "batch of 1"},
		{func(c *Config) { c.Epochs = 0 }, "0 epochs"},
		{func(c *Config) { c.Zoom = 1.2 }, "needs rotation"},
		{func(c *Config) { c.LogitAdjust = "lots" }, "logit adjustment"},
		{func(c *Config) { c.KeepLast, c.Patience = true, 2 }, "last epoch kept"},
	} {
		cfg := good
		c.bad(&cfg)
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
}

// TestEpochsKeepLast checks that KeepLast keeps the last epoch's weights
// while the validation part is still carved and scored, and that it
// changes nothing else: the epochs train as without it.
func TestEpochsKeepLast(t *testing.T) {
	cfg := EpochConfig{Epochs: 6, Batch: 8, Optimizer: "adam", LR: 0.03, WarmupEpochs: 1, ValFrac: 0.2, Seed: 2, Augment: true, Shift: 1,
		Balance: "none", Loss: "ce"}
	best, rb := trainTiny(t, cfg)
	cfg.KeepLast = true
	net, err := cnn.New(cnn.Spec{InC: 3, H: 8, W: 8, K: 3, Widths: []int{4, 8}, Dropout: 0.1}, NewRand(3))
	if err != nil {
		t.Fatal(err)
	}
	var last [][]float32
	rl, err := Epochs(context.Background(), net, tinySplit(120, 1), tinySplit(30, 2), cfg, func(EpochStat, Point) {
		last = last[:0]
		for _, p := range net.Params() {
			last = append(last, append([]float32(nil), p.W...))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if rb.BestEpoch == cfg.Epochs {
		t.Fatalf("the best validation epoch is the last (%d): the test cannot tell keeping the last from keeping the best", rb.BestEpoch)
	}
	if rl.BestEpoch != cfg.Epochs || rl.NVal != rb.NVal || rl.NVal == 0 || rl.ValAccuracy != rl.Epochs[cfg.Epochs-1].ValAccuracy {
		t.Fatalf("kept epoch %d (val accuracy %v, %d validation images), want %d (%v, %d)", rl.BestEpoch, rl.ValAccuracy, rl.NVal,
			cfg.Epochs, rl.Epochs[cfg.Epochs-1].ValAccuracy, rb.NVal)
	}
	for i, e := range rb.Epochs {
		if g := rl.Epochs[i]; g.TrainLoss != e.TrainLoss || g.ValAccuracy != e.ValAccuracy {
			t.Fatalf("epoch %d trained differently with the last epoch kept: %+v, %+v", i+1, g, e)
		}
	}
	differs := false
	for i, p := range net.Params() {
		if !slices.Equal(p.W, last[i]) {
			t.Fatalf("%s: not the last epoch's weights", p.Name)
		}
		differs = differs || !slices.Equal(p.W, best.Params()[i].W)
	}
	if !differs {
		t.Fatal("the last epoch's weights equal the best epoch's")
	}
}
