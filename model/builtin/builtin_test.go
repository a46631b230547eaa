package builtin_test

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/data/cutout"
	"galaxy/data/load"
	"galaxy/internal/shared"
	"galaxy/model/builtin"
	"galaxy/predict"
	"galaxy/train"
)

// raceEnabled is set under -race and purego (race_test.go).
var raceEnabled bool

func skipUnderRace(t *testing.T) {
	if raceEnabled {
		t.Skip("figures of the whole test split: too slow under -race or purego, and single-goroutine")
	}
}

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
	skipUnderRace(t)
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

// TestNovelty scores the built-in model's novelty on the test galaxies it
// never saw and on the committed non-galaxy images (internal/nongalaxy):
// the AUROC between the two must be at least 0.95, at most 2% of the
// galaxies may get a warning, and the screenshot of a page must get one.
func TestNovelty(t *testing.T) {
	skipUnderRace(t)
	path := shared.File(t, "gz1_sdss_69.h5")
	m, err := builtin.Model()
	if err != nil {
		t.Fatal(err)
	}
	if m.Novelty == nil {
		t.Fatal("the built-in model has no novelty statistics")
	}
	src := train.RecordedSource(m)
	src.Path = path
	_, ds, err := load.Open(context.Background(), src, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, ds.Test.Len()*ds.Dim())
	for i := range ds.Test.Len() {
		ds.Test.Features(i, x[i*ds.Dim():(i+1)*ds.Dim()])
	}
	gal := make([]float64, ds.Test.Len())
	m.NoveltyScores(x, ds.Test.Len(), gal)
	flagged := 0
	for _, s := range gal {
		if m.Novelty.Warning(s) != "" {
			flagged++
		}
	}
	prep, err := predict.NewPreparer(m, cutout.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "internal", "nongalaxy", "testdata")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var non []float64
	byKind := map[string][2]int{}
	one := make([]float32, prep.Dim())
	s := make([]float64, 1)
	for _, e := range ents {
		if err := prep.FileFeatures(filepath.Join(dir, e.Name()), one); err != nil {
			t.Fatal(err)
		}
		m.NoveltyScores(one, 1, s)
		kind, _, _ := strings.Cut(e.Name(), "-")
		c := byKind[kind]
		c[1]++
		if m.Novelty.Warning(s[0]) != "" {
			c[0]++
		}
		byKind[kind] = c
		if kind == "page" {
			if m.Novelty.Warning(s[0]) == "" {
				t.Errorf("the screenshot of a page scored %.2f (threshold %.2f): no warning", s[0], m.Novelty.Threshold)
			}
			continue
		}
		non = append(non, s[0])
	}
	// AUROC: the chance that a non-galaxy scores above a galaxy.
	var above float64
	for _, a := range non {
		for _, g := range gal {
			switch {
			case a > g:
				above++
			case a == g:
				above += 0.5
			}
		}
	}
	auroc := above / float64(len(non)*len(gal))
	t.Logf("novelty: AUROC %.4f (%d non-galaxies, %d test galaxies); warnings: %d of %d galaxies; by kind (warned/all): %v; threshold %.2f",
		auroc, len(non), len(gal), flagged, len(gal), byKind, m.Novelty.Threshold)
	if len(non) < 200 || auroc < 0.95 {
		t.Errorf("AUROC %.4f over %d non-galaxy images; want at least 0.95 over at least 200", auroc, len(non))
	}
	if float64(flagged) > 0.02*float64(len(gal)) {
		t.Errorf("%d of %d test galaxies get a warning; at most 2%%", flagged, len(gal))
	}
}
