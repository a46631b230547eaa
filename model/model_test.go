package model_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/model"
	_ "galaxy/model/archs"
	"galaxy/model/seed"
	"galaxy/num"
)

func TestSaveLoadProbabilities(t *testing.T) {
	raw := &data.Raw{Path: "x", N: 20, H: 3, W: 3, C: 3, Space: "gz1", Pixels: make([]uint8, 20*27), Codes: make([]int, 20)}
	for i := range raw.Codes {
		raw.Codes[i] = []int{0, 1, 3, 5}[i%4]
	}
	for i := range raw.Pixels {
		raw.Pixels[i] = uint8(i * 7)
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: "morph4", Channels: "g", TestFrac: 0.25, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	net, _ := seed.New(ds.Dim(), 4, 4, rand.New(rand.NewPCG(1, 1)))
	m := model.New(seed.Name, net, ds, "g", 3)
	p := filepath.Join(t.TempDir(), "model")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	m2, err := model.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Check(ds); err != nil {
		t.Fatal(err)
	}
	a, b := m.LogitSplit(ds.All()), m2.LogitSplit(ds.All())
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("logit %d: %v before saving, %v after loading", i, a[i], b[i])
		}
	}
	probs := make([]float32, 4)
	m2.Probabilities(a[:4], probs)
	var sum float64
	for c, pr := range probs {
		sum += float64(pr)
		want := float64(num.Sigmoid(a[c]))
		if want > 0 && math.Abs(float64(pr)/want-float64(probs[0])/float64(num.Sigmoid(a[0]))) > 1e-5 {
			t.Errorf("probabilities are not the sigmoid outputs rescaled: %v", probs)
		}
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("probabilities sum to %v", sum)
	}
	other, _ := data.Prepare(raw, data.Options{Scheme: "gz1", Channels: "g"})
	if err := m2.Check(other); err == nil {
		t.Error("data of another scheme accepted")
	}
}

func TestRegistry(t *testing.T) {
	for _, name := range []string{seed.Name, "cnn", "cnn-ref"} {
		a, err := model.Lookup(name)
		if err != nil || a.Name != name || a.New == nil || a.Load == nil || a.Summary == "" {
			t.Errorf("%s: %+v, %v", name, a, err)
		}
	}
	if _, err := model.Lookup("resnet"); err == nil || !strings.Contains(err.Error(), "seed-mlp") || !strings.Contains(err.Error(), "cnn-ref") {
		t.Errorf("unknown architecture: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second registration of seed-mlp did not panic")
		}
	}()
	a, _ := model.Lookup(seed.Name)
	model.Register(*a)
}
