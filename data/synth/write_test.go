package synth_test

import (
	"bytes"
	"galaxy/data/hdf5"
	"galaxy/data/load"
	"galaxy/data/synth"
	"galaxy/render"
	"path/filepath"
	"slices"
	"testing"
)

// An external test: it reads the written file back through data/load,
// which imports synth.

func TestWriteFileAndMontage(t *testing.T) {
	opt := synth.Options{Scheme: "course5", N: 30, Seed: 5}
	raw, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.h5")
	if err := synth.WriteFile(path, raw, opt); err != nil {
		t.Fatal(err)
	}
	back, err := load.File(path, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Space != "galaxy10" || !bytes.Equal(back.Pixels, raw.Pixels) || !slices.Equal(back.Codes, raw.Codes) {
		t.Fatalf("read back %d images in %s space", back.N, back.Space)
	}
	f, err := hdf5.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	names, err := f.AttrStrings("class_names")
	src, _ := f.AttrStrings("source")
	if !slices.Equal(f.Names(), []string{"ans", "images"}) {
		t.Errorf("datasets %v", f.Names())
	}
	f.Close()
	if err != nil || len(names) != 10 || names[7] != "Disk, face-on, tight spiral" {
		t.Errorf("class_names %q, %v", names, err)
	}
	if !slices.Equal(src, []string{"galaxy synth --scheme course5 --n 30 --seed 5"}) {
		t.Errorf("source %q", src)
	}
	img, err := render.Montage(raw, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 4*synth.DefaultSize*2 || b.Dy() < 5*synth.DefaultSize*2 {
		t.Errorf("montage %v", b)
	}
	if _, err := render.Montage(raw, 0, 2); err == nil {
		t.Error("0 per class accepted")
	}
}

// TestDECaLSFile writes a 256-px galaxy10-decals set in the Galaxy10_DECals.h5
// layout, which data/load reads back as Galaxy10 DECaLS.
func TestDECaLSFile(t *testing.T) {
	opt := synth.Options{Scheme: "galaxy10-decals", N: 20, Seed: 6, Size: 256}
	raw, err := synth.Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "d.h5")
	if err := synth.WriteFile(path, raw, opt); err != nil {
		t.Fatal(err)
	}
	back, err := load.File(path, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Space != "galaxy10-decals" || back.H != 256 || back.W != 256 || back.C != 3 || !bytes.Equal(back.Pixels, raw.Pixels) || !slices.Equal(back.Codes, raw.Codes) {
		t.Fatalf("read back %d images %dx%dx%d in %s space", back.N, back.H, back.W, back.C, back.Space)
	}
	count := make([]int, 10)
	for _, c := range back.Codes {
		count[c]++
	}
	if !slices.Equal(count, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}) {
		t.Errorf("codes per DECaLS class %v", count)
	}
	f, err := hdf5.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !slices.Equal(f.Names(), []string{"ans", "dec", "images", "pxscale", "ra", "redshift"}) {
		t.Errorf("datasets %v", f.Names())
	}
	for _, c := range []struct {
		name   string
		lo, hi float64
	}{{"ra", 0, 360}, {"dec", -30, 70}, {"redshift", 0.01, 0.15}, {"pxscale", 0.262, 0.262}} {
		a, err := f.Read(c.name)
		if err != nil {
			t.Fatal(err)
		}
		v := a.Float64s()
		if !slices.Equal(a.Shape, []int{20}) || len(v) != 20 {
			t.Fatalf("%s: shape %v", c.name, a.Shape)
		}
		if slices.Min(v) < c.lo || slices.Max(v) > c.hi || (c.lo < c.hi && slices.Min(v) == slices.Max(v)) {
			t.Errorf("%s from %v to %v, want within [%v, %v]", c.name, slices.Min(v), slices.Max(v), c.lo, c.hi)
		}
	}
	names, _ := f.AttrStrings("class_names")
	src, _ := f.AttrStrings("source")
	if len(names) != 10 || names[1] != "Merging" || !slices.Equal(src, []string{"galaxy synth --scheme galaxy10-decals --n 20 --seed 6 --size 256"}) {
		t.Errorf("class_names %q, source %q", names, src)
	}
	img, err := render.Montage(raw, 2, 1)
	if err != nil || img.Bounds().Dx() < 2*256 || img.Bounds().Dy() < 10*256 {
		t.Errorf("montage of 256 px cutouts: %v", err)
	}
	// A smaller DECaLS set would read back as Galaxy10 SDSS: refused.
	small, _ := synth.Generate(synth.Options{Scheme: "galaxy10-decals", N: 10, Size: 64})
	if err := synth.WriteFile(filepath.Join(t.TempDir(), "s.h5"), small, synth.Options{Scheme: "galaxy10-decals", N: 10, Size: 64}); err == nil {
		t.Error("64 px galaxy10-decals file written")
	}
}
