package load

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/data/array"
	"galaxy/data/cutout"
	"galaxy/data/hdf5"
)

// writeDECaLS writes a small file in Galaxy10_DECals.h5's layout: images
// uint8 (n,256,256,3), ans uint8 (n,), and float64 ra, dec, redshift and
// pxscale (n,), as astroNN publishes it. Class c appears counts[c] times.
func writeDECaLS(t *testing.T, dir string, counts []int) string {
	t.Helper()
	n := 0
	for _, c := range counts {
		n += c
	}
	pix := make([]byte, n*256*256*3)
	for i := range pix {
		pix[i] = byte(i * 7 % 251)
	}
	var ans []byte
	for c, k := range counts {
		for range k {
			ans = append(ans, byte(c))
		}
	}
	f64 := func(v func(i int) float64) *array.Array {
		b := make([]byte, 8*n)
		for i := range n {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v(i)))
		}
		return &array.Array{Shape: []int{n}, DType: array.Float64, Data: b}
	}
	path := filepath.Join(dir, "Galaxy10_DECals.h5")
	err := hdf5.WriteFile(path, []hdf5.NamedArray{
		{Name: "ans", Array: &array.Array{Shape: []int{n}, DType: array.Uint8, Data: ans}},
		{Name: "dec", Array: f64(func(i int) float64 { return -10 + float64(i) })},
		{Name: "images", Array: &array.Array{Shape: []int{n, 256, 256, 3}, DType: array.Uint8, Data: pix}},
		{Name: "pxscale", Array: f64(func(int) float64 { return 0.262 })},
		{Name: "ra", Array: f64(func(i int) float64 { return 150 + 0.1*float64(i) })},
		{Name: "redshift", Array: f64(func(i int) float64 { return 0.01 * float64(i) })},
	}, hdf5.WriteOptions{Deflate: 1})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDECaLS reads a file in the Galaxy10 DECaLS layout: its labels are
// DECaLS classes (not Galaxy10 SDSS's), its default scheme names them, and
// morph4 folds them into 4 classes (disturbed and merging as mergers).
func TestDECaLS(t *testing.T) {
	counts := []int{2, 1, 3, 1, 1, 2, 1, 1, 2, 1} // 15 galaxies, every class
	path := writeDECaLS(t, t.TempDir(), counts)
	raw, err := File(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Space != "galaxy10-decals" || raw.H != 256 || raw.N != 15 {
		t.Fatalf("read %d %dx%d images of %q labels", raw.N, raw.H, raw.W, raw.Space)
	}
	ds, err := data.Prepare(raw, data.Options{TestFrac: 0.2, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sum := ds.Summarize(raw)
	if sum.Scheme != "galaxy10-decals" || len(sum.Classes) != 10 || sum.Classes[0].Name != "Disturbed" || sum.Classes[9].Name != "Edge-on with Bulge" {
		t.Fatalf("DECaLS classes: %+v", sum)
	}
	for c, cl := range sum.Classes {
		if cl.Train+cl.Test != counts[c] {
			t.Errorf("class %d %s: %d images, want %d", c, cl.Name, cl.Train+cl.Test, counts[c])
		}
	}
	var b strings.Builder
	sum.WriteText(&b)
	if !strings.Contains(b.String(), "Unbarred Loose Spiral") {
		t.Errorf("info text lacks the DECaLS names:\n%s", b.String())
	}
	m4, err := data.Prepare(raw, data.Options{Scheme: "morph4", TestFrac: 0.2, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{3 + 1 + 1, 2 + 1 + 1, 2 + 1, 2 + 1} // smooth 2,3,4; spiral 5,6,7; edge-on 8,9; merger 0,1
	got := m4.Summarize(raw)
	if len(got.Classes) != 4 || got.Classes[3].Name != "merger" {
		t.Fatalf("morph4 classes %+v", got.Classes)
	}
	for c, cl := range got.Classes {
		if cl.Train+cl.Test != want[c] {
			t.Errorf("morph4 %s: %d images, want %d", cl.Name, cl.Train+cl.Test, want[c])
		}
	}
}

// TestResizeWhileReading checks that reading a file resized (a slab of
// images at a time, as load.Open does with data.Options.Resize) prepares
// the same data set as reading it whole and letting data.Prepare resize.
func TestResizeWhileReading(t *testing.T) {
	path := writeDECaLS(t, t.TempDir(), []int{2, 1, 3, 1, 1, 2, 1, 1, 2, 1})
	whole, err := File(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	opt := data.Options{TestFrac: 0.2, SplitSeed: 1, Resize: 100}
	want, err := data.Prepare(whole, opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := hdf5.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, slab := range []int{1, 4, 15, 100} {
		img, source, err := readImages(f, 100, slab)
		if err != nil {
			t.Fatal(err)
		}
		if source != 256 || !slices.Equal(img.Shape, []int{15, 100, 100, 3}) {
			t.Fatalf("slab %d: shape %v from side %d", slab, img.Shape, source)
		}
		one := make([]uint8, 100*100*3)
		cutout.Resize(one, whole.Image(14), 256, 256, 3, 100, 100)
		if !bytes.Equal(img.Data[14*len(one):], one) {
			t.Fatalf("slab %d: the last image differs from cutout.Resize of it", slab)
		}
	}
	raw, err := file(path, Options{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Space != "galaxy10-decals" || raw.H != 100 || raw.SourceSize != 256 {
		t.Fatalf("read resized: %dx%d from %d, labels %q", raw.H, raw.W, raw.SourceSize, raw.Space)
	}
	got, err := data.Prepare(raw, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.H != 100 || got.SourceSize != 256 || !bytes.Equal(got.Train.Pixels, want.Train.Pixels) || !bytes.Equal(got.Test.Pixels, want.Test.Pixels) {
		t.Fatalf("resized while reading: %dx%d (source %d), pixels equal to Prepare's resize: train %v, test %v",
			got.H, got.W, got.SourceSize, bytes.Equal(got.Train.Pixels, want.Train.Pixels), bytes.Equal(got.Test.Pixels, want.Test.Pixels))
	}
}
