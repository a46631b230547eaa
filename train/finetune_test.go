package train

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/seed"
)

// tinyData prepares tinySplit's images as a data set with scheme sch
// (read from gz1 codes 0, 1 and 3).
func tinyData(t *testing.T, sch string) Data {
	t.Helper()
	s := tinySplit(240, 4)
	raw := &data.Raw{Path: "tiny", N: s.Len(), H: 8, W: 8, C: 3, Space: "gz1", Pixels: s.Pixels}
	for _, y := range s.Labels {
		raw.Codes = append(raw.Codes, []int{0, 1, 3}[y])
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: sch, Channels: "all", TestFrac: 0.2, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return Data{Set: ds, Path: "tiny", SourceChannels: 3}
}

func tinyConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := DefaultConfig("cnn")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Spec.Widths, cfg.Spec.TTA, cfg.Epochs, cfg.Batch, cfg.CheckpointEvery = []int{4, 8}, false, 2, 16, 0
	cfg.LogitAdjust, cfg.Calibrate = "none", false
	return cfg
}

func tensor(t *testing.T, m *model.Model, name string) []float32 {
	t.Helper()
	for _, x := range m.Net.Tensors() {
		if x.Name == name {
			return x.Data
		}
	}
	t.Fatalf("no tensor %s", name)
	return nil
}

// TestFineTune trains a tiny cnn on 3 classes of morph4, then fine-tunes
// its trunk on the 6 gz1 classes with block 1 frozen: block 1 stays as it
// was, block 2 learns, the head is new and of the new size.
func TestFineTune(t *testing.T) {
	base := t.TempDir()
	if _, err := Run(context.Background(), tinyData(t, "morph4"), tinyConfig(t), base, nil, Observer{}); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(t)
	cfg.Init, cfg.Freeze, cfg.TrunkLR, cfg.Epochs = filepath.Join(base, ModelFile), 1, 0.5, 1
	var log bytes.Buffer
	tuned := t.TempDir()
	if _, err := Run(context.Background(), tinyData(t, "gz1"), cfg, tuned, nil, Observer{Log: &log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "starting from the trunk of") {
		t.Errorf("the log does not say where the run started:\n%s", log.String())
	}
	a, err := model.Load(filepath.Join(base, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Load(filepath.Join(tuned, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"block1.conv.weight", "block1.bn.weight", "block1.bn.bias", "block1.bn.running_mean", "block1.bn.running_var"} {
		if !slices.Equal(tensor(t, a, name), tensor(t, b, name)) {
			t.Errorf("frozen %s changed in fine-tuning", name)
		}
	}
	if slices.Equal(tensor(t, a, "block2.conv.weight"), tensor(t, b, "block2.conv.weight")) {
		t.Error("block 2 (not frozen) did not learn")
	}
	if b.Novelty == nil || b.Novelty.K != 6 || !(b.Novelty.Threshold > 0) {
		t.Errorf("the saved model's novelty statistics: %+v", b.Novelty)
	}
	if b.K() != 6 || len(tensor(t, b, "fc.bias")) != 6 {
		t.Errorf("the fine-tuned model has %d classes, want gz1's 6", b.K())
	}
}

// TestProbe fits only the head of a tiny cnn's trunk on 6 new classes: the
// trunk (weights and normalisation statistics) stays as it was, the head
// is new, and the probe classifies the training images better than the
// majority class.
func TestProbe(t *testing.T) {
	base := t.TempDir()
	if _, err := Run(context.Background(), tinyData(t, "morph4"), tinyConfig(t), base, nil, Observer{}); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(t)
	cfg.Init, cfg.Probe = filepath.Join(base, ModelFile), true
	var log bytes.Buffer
	dir := t.TempDir()
	d := tinyData(t, "gz1")
	met, err := Run(context.Background(), d, cfg, dir, nil, Observer{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := model.Load(filepath.Join(base, ModelFile))
	b, err := model.Load(filepath.Join(dir, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range a.Net.Tensors() {
		if strings.HasPrefix(x.Name, "block") && !slices.Equal(x.Data, tensor(t, b, x.Name)) {
			t.Errorf("the probe changed the trunk's %s", x.Name)
		}
	}
	if b.K() != 6 || b.Meta.Info["probe_lambda"] == "" || !strings.Contains(log.String(), "cross-validation") {
		t.Errorf("probe model: %d classes, info %v; log %s", b.K(), b.Meta.Info, log.String())
	}
	if sc := Score(b.Net, d.Set.Train, 6, CrossEntropy); !(sc.Accuracy > d.Set.MajorityAccuracy(d.Set.Train)) || met.TestAccuracy == 0 {
		t.Errorf("probe: training accuracy %v, majority %v", sc.Accuracy, d.Set.MajorityAccuracy(d.Set.Train))
	}
}

func TestFineTuneRefusals(t *testing.T) {
	dir := t.TempDir()
	base := t.TempDir()
	if _, err := Run(context.Background(), tinyData(t, "morph4"), tinyConfig(t), base, nil, Observer{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"freeze without init", func(c *Config) { c.Freeze = 1 }, "needs a network to start from"},
		{"other widths", func(c *Config) { c.Init, c.Spec.Widths = filepath.Join(base, ModelFile), []int{4, 16} }, "widths and convolutions must match"},
		{"too many frozen", func(c *Config) { c.Init, c.Freeze = filepath.Join(base, ModelFile), 3 }, "freezing 3 blocks of a trunk of 2"},
		{"missing file", func(c *Config) { c.Init = filepath.Join(dir, "none") }, "network to start from"},
		{"probe without init", func(c *Config) { c.Probe = true }, "needs a model to start from"},
	} {
		cfg := tinyConfig(t)
		tc.edit(&cfg)
		_, err := Run(context.Background(), tinyData(t, "morph4"), cfg, t.TempDir(), nil, Observer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	cfg, _ := DefaultConfig(seed.Name)
	cfg.Init, cfg.Freeze = filepath.Join(base, ModelFile), 1
	if _, err := Run(context.Background(), tinyData(t, "morph4"), cfg, t.TempDir(), nil, Observer{}); err == nil || !strings.Contains(err.Error(), "trained by epochs") {
		t.Errorf("seed-mlp with frozen blocks: err %v", err)
	}
}

// TestInitTrunkSeed starts a seed network from another's hidden layer: with
// the head copied too, the two networks give the same logits.
func TestInitTrunkSeed(t *testing.T) {
	d := tinyData(t, "morph4")
	arch, _ := model.Lookup(seed.Name)
	spec := model.Spec{InC: 3, H: 8, W: 8, K: 4, Hidden: 5}
	a, _ := arch.New(spec, NewRand(1))
	b, _ := arch.New(spec, NewRand(2))
	path := filepath.Join(t.TempDir(), "a")
	if err := model.New(seed.Name, a, d.Set, "all", 3).Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := initTrunk(b, arch, Config{Init: path, Arch: seed.Name}, d.Set); err != nil {
		t.Fatal(err)
	}
	ta, tb := a.Tensors(), b.Tensors()
	for i := range tb {
		if arch.Block(tb[i].Name) == 0 {
			if slices.Equal(ta[i].Data, tb[i].Data) {
				t.Errorf("head tensor %s was copied", tb[i].Name)
			}
			copy(tb[i].Data, ta[i].Data)
		}
	}
	x := make([]float32, 3*8*8*3)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	za, zb := make([]float32, 12), make([]float32, 12)
	a.Logits(x, 3, za)
	b.Logits(x, 3, zb)
	if !slices.Equal(za, zb) {
		t.Errorf("logits %v and %v differ: the hidden layer was not taken over", za, zb)
	}
}

func TestLimitTrain(t *testing.T) {
	s := tinySplit(300, 5)
	got := limitTrain(s, 3, 60, 7)
	if c := got.Counts(3); got.Len() != 60 || c[0] != 20 || c[1] != 20 || c[2] != 20 {
		t.Errorf("limited to %d images, counts %v; want 60, 20 each", got.Len(), c)
	}
	if other := limitTrain(s, 3, 60, 8); slices.Equal(other.Index, got.Index) {
		t.Error("another seed drew the same images")
	}
	if limitTrain(s, 3, 0, 7) != s || limitTrain(s, 3, 500, 7) != s {
		t.Error("no limit, or a limit above the size, should keep the split")
	}
}
