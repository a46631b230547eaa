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
	raw, err := synth.Generate(synth.Options{Scheme: "course5", N: 30, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.h5")
	if err := synth.WriteFile(path, raw, "test"); err != nil {
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
	f.Close()
	if err != nil || len(names) != 10 || names[7] != "Disk, face-on, tight spiral" {
		t.Errorf("class_names %q, %v", names, err)
	}
	img, err := render.Montage(raw, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 4*synth.Size*2 || b.Dy() < 5*synth.Size*2 {
		t.Errorf("montage %v", b)
	}
	if _, err := render.Montage(raw, 0, 2); err == nil {
		t.Error("0 per class accepted")
	}
}
