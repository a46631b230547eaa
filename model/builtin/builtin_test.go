package builtin_test

import (
	"context"
	"io"
	"math"
	"os"
	"testing"

	"galaxy/data/load"
	"galaxy/internal/shared"
	"galaxy/model/builtin"
	"galaxy/train"
)

func TestModelDecodes(t *testing.T) {
	m, err := builtin.Model()
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Arch != "cnn" || m.Meta.Scheme != "morph4" || m.K() != 4 || m.Meta.Input.Height != 69 || len(m.Meta.Input.Channels) != 3 {
		t.Fatalf("built-in model: %s %s, %d classes, %dx%d with %d channels", m.Meta.Arch, m.Meta.Scheme, m.K(), m.Meta.Input.Height, m.Meta.Input.Width, len(m.Meta.Input.Channels))
	}
	if st, err := os.Stat(builtin.File); err != nil || st.Size() > 2<<20 {
		t.Errorf("the embedded model %s: %v; want at most 2 MiB", builtin.File, err)
	}
	a, err := builtin.Load(builtin.Name)
	if err != nil {
		t.Fatal(err)
	}
	if a == m {
		t.Error("builtin.Load(builtin.Name) returned the same instance twice; each call must get its own")
	}
}

// TestStatedAccuracy scores the built-in model on the test split it never
// saw, as galaxy eval --model builtin does, and checks the figures the
// package (and the README) state.
func TestStatedAccuracy(t *testing.T) {
	path := shared.File(t, "gz1_sdss_69.h5")
	m, err := builtin.Model()
	if err != nil {
		t.Fatal(err)
	}
	src := train.RecordedSource(m)
	src.Path = path
	_, ds, err := load.Open(context.Background(), src, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(ds); err != nil {
		t.Fatal(err)
	}
	sc := train.Score(m.Net, ds.Test, m.K(), train.CrossEntropy)
	if ds.Test.Len() != 563 || math.Abs(sc.Accuracy-builtin.TestAccuracy) > 5e-5 || math.Abs(sc.Balanced-builtin.TestBalanced) > 5e-5 {
		t.Errorf("on %d test galaxies: accuracy %.4f, balanced %.4f; the package states %.4f and %.4f", ds.Test.Len(), sc.Accuracy, sc.Balanced, builtin.TestAccuracy, builtin.TestBalanced)
	}
}
