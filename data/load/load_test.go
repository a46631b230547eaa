package load

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/data/array"
	"galaxy/internal/shared"
)

func TestLoadCoursePickle(t *testing.T) {
	raw, err := File("testdata/course_small.pkl.gz", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if raw.N != 16 || raw.NTrain != 12 || raw.H != 6 || raw.C != 1 || raw.Space != "course5" {
		t.Fatalf("raw %d images, %d train, %dx%dx%d, %s", raw.N, raw.NTrain, raw.H, raw.W, raw.C, raw.Space)
	}
	sum := 0
	for _, p := range raw.Pixels[:12*36] {
		sum += int(p)
	}
	if sum != 53254 { // numpy's figure, printed by testdata/gen.py
		t.Errorf("train pixel sum %d, want 53254", sum)
	}
	ds, err := data.Prepare(raw, data.Options{Channels: "g", TestFrac: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !ds.Preset || ds.Train.Len() != 12 || ds.Test.Len() != 4 || ds.Scheme.Name != "course5" {
		t.Errorf("the file's own split was not kept: %d/%d preset=%v scheme %s", ds.Train.Len(), ds.Test.Len(), ds.Preset, ds.Scheme.Name)
	}
	if got := ds.Test.Labels; got[0] != 1 || got[3] != 0 {
		t.Errorf("test labels %v", got)
	}
}

// Bad input: one error naming the file and the problem.
func TestLoadBadInput(t *testing.T) {
	dir := t.TempDir()
	chunked, err := os.ReadFile("../hdf5/testdata/chunked.h5")
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.h5")
	os.WriteFile(trunc, chunked[:len(chunked)*2/3], 0o644)
	garbage := filepath.Join(dir, "garbage.h5")
	os.WriteFile(garbage, bytes.Repeat([]byte("not hdf5 "), 100), 0o644)
	cases := []struct{ path, want string }{
		{filepath.Join(dir, "missing.h5"), "no such file"},
		{trunc, "trunc.h5"},
		{garbage, "garbage.h5"},
		{"testdata/no_images.h5", `no dataset "images" (datasets: ans, pictures)`},
		{"testdata/wrong_shape.pkl", "12 images but labels of shape [11 5]"},
		{"testdata/flat_images.pkl", "images have shape [12 36]"},
	}
	for _, c := range cases {
		_, err := File(c.path, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Base(c.path)) {
			t.Errorf("%s: %v; want an error naming the file and %q", c.path, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", c.path, err)
		}
	}
}

func writeCatalog(t *testing.T, dir string, rows []string, files map[string][]byte) string {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "catalog.csv")
	os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
	return p
}

func encodedImage(t *testing.T, side int, asJPEG bool) []byte {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 100, 255})
		}
	}
	var buf bytes.Buffer
	if asJPEG {
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	} else {
		png.Encode(&buf, img)
	}
	return buf.Bytes()
}

func TestLoadCatalog(t *testing.T) {
	dir := t.TempDir()
	good := encodedImage(t, 207, true)
	p := writeCatalog(t, dir, []string{"id,file,label", "7,a.jpg,1", "8,b.png,4"},
		map[string][]byte{"a.jpg": good, "b.png": encodedImage(t, 69, false)})
	raw, err := File(p, Options{Labels: "galaxy10"})
	if err != nil {
		t.Fatal(err)
	}
	if raw.N != 2 || raw.H != 69 || raw.C != 3 || raw.IDs[1] != 8 || raw.Codes[1] != 4 {
		t.Fatalf("catalog: %+v", raw)
	}
	// b.png is 69x69 already: it passes through unchanged.
	if px := raw.Image(1)[(10*69+20)*3:]; px[0] != 20 || px[1] != 10 || px[2] != 100 {
		t.Errorf("69x69 PNG pixel (20,10) = %v", px[:3])
	}

	bad := writeCatalog(t, t.TempDir(), []string{"file,label", "a.jpg,0", "broken.jpg,1"},
		map[string][]byte{"a.jpg": good, "broken.jpg": good[:len(good)/3]})
	_, err = File(bad, Options{})
	if err == nil || !strings.Contains(err.Error(), "broken.jpg") || !strings.Contains(err.Error(), "catalog.csv") {
		t.Errorf("corrupt JPEG in a catalog: %v", err)
	}
	nocol := writeCatalog(t, t.TempDir(), []string{"path,label", "a.jpg,0"}, map[string][]byte{"a.jpg": good})
	if _, err := File(nocol, Options{}); err == nil || !strings.Contains(err.Error(), `no column "file"`) {
		t.Errorf("missing file column: %v", err)
	}
	badlabel := writeCatalog(t, t.TempDir(), []string{"file,label", "a.jpg,spiral"}, map[string][]byte{"a.jpg": good})
	if _, err := File(badlabel, Options{}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("non-numeric label: %v", err)
	}
}

// TestRealGZ1 reads the shared Galaxy Zoo 1 file and checks the figures of
// ../shared/data/README.md and h5py's pixel sums.
func TestRealGZ1(t *testing.T) {
	p := shared.File(t, "gz1_sdss_69.h5")
	raw, err := File(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if raw.N != 5665 || raw.H != 69 || raw.W != 69 || raw.C != 3 || raw.Space != "gz1" || len(raw.IDs) != 5665 {
		t.Fatalf("gz1: %d images %dx%dx%d space %s", raw.N, raw.H, raw.W, raw.C, raw.Space)
	}
	var all, g int64
	for i, v := range raw.Pixels {
		all += int64(v)
		if i%3 == 2 {
			g += int64(v)
		}
	}
	if all != 1433655625 || g != 365288051 {
		t.Errorf("pixel sums %d, channel 2 %d; h5py: 1433655625, 365288051", all, g)
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: "morph4", Channels: "g", TestFrac: data.DefaultTestFrac, SplitSeed: data.DefaultSplitSeed})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{3970, 705, 845, 98}
	got := ds.All().Counts(4)
	for c := range want {
		if got[c] != want[c] {
			t.Errorf("morph4 class %d: %d images, want %d", c, got[c], want[c])
		}
	}
	if ds.DroppedCount() != 47 || ds.All().Len() != 5618 || ds.Test.Len() != 563 {
		t.Errorf("dropped %d, kept %d, test %d", ds.DroppedCount(), ds.All().Len(), ds.Test.Len())
	}
}

// TestRealCatalogMatchesHDF5: the shared catalog's 423x423 JPEGs, prepared
// with the Galaxy10 recipe, reproduce the 69x69 images of the HDF5 file up
// to the JPEG decoders' differences (Go's inverse DCT against libjpeg's:
// at most 2 levels, on about 1.6% of values).
func TestRealCatalogMatchesHDF5(t *testing.T) {
	cat := shared.File(t, "gz1_cutouts/catalog.csv")
	h5 := shared.File(t, "gz1_sdss_69.h5")
	c, err := File(cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := File(h5, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := map[int64]int{}
	for i, id := range h.IDs {
		at[id] = i
	}
	if c.Space != "gz1" || c.N != 240 {
		t.Fatalf("catalog: %d rows, %s labels", c.N, c.Space)
	}
	maxd, diff, n := 0, 0, 0
	for i, id := range c.IDs {
		j, ok := at[id]
		if !ok {
			t.Fatalf("catalog id %d not in the HDF5 file", id)
		}
		if c.Codes[i] != h.Codes[j] {
			t.Errorf("id %d: catalog label %d, HDF5 %d", id, c.Codes[i], h.Codes[j])
		}
		a, b := c.Image(i), h.Image(j)
		for k := range a {
			d := int(a[k]) - int(b[k])
			if d < 0 {
				d = -d
			}
			maxd = max(maxd, d)
			if d != 0 {
				diff++
			}
			n++
		}
	}
	if maxd > 2 || float64(diff)/float64(n) > 0.03 {
		t.Errorf("prepared cutouts differ from the HDF5 images by up to %d levels on %.2f%% of values", maxd, 100*float64(diff)/float64(n))
	}
	t.Logf("max difference %d, %.2f%% of values differ", maxd, 100*float64(diff)/float64(n))
}

func TestFromArrays(t *testing.T) {
	img := &array.Array{Shape: []int{2, 2, 2, 1}, DType: array.Uint8, Data: make([]byte, 8)}
	onehot := &array.Array{Shape: []int{2, 5}, DType: array.Float64, Data: f64bytes(0, 0, 1, 0, 0, 1, 0, 0, 0, 0)}
	r, err := fromArrays("x.pkl", img, onehot)
	if err != nil || r.Codes[0] != 2 || r.Codes[1] != 0 || r.Space != "course5" {
		t.Fatalf("one-hot: %+v %v", r, err)
	}
	bad := []struct {
		name     string
		img, lab *array.Array
		want     string
	}{
		{"length mismatch", img, &array.Array{Shape: []int{3}, DType: array.Uint8, Data: []byte{0, 1, 2}}, "2 images but labels of shape [3]"},
		{"wrong image shape", &array.Array{Shape: []int{8}, DType: array.Uint8, Data: make([]byte, 8)}, nil, "shape [8]"},
		{"not one-hot", img, &array.Array{Shape: []int{2, 2}, DType: array.Float64, Data: f64bytes(1, 1, 0, 1)}, "not one-hot"},
		{"short data", &array.Array{Shape: []int{2, 2, 2}, DType: array.Uint8, Data: make([]byte, 7)}, nil, "needs 8 bytes"},
		{"float pixel out of range", &array.Array{Shape: []int{1, 1, 1}, DType: array.Float64, Data: f64bytes(300)}, nil, "0..255"},
	}
	for _, c := range bad {
		_, err := fromArrays("x.npz", c.img, c.lab)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x.npz") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func f64bytes(v ...float64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func TestIsDataFile(t *testing.T) {
	for path, want := range map[string]bool{
		"Galaxy10_DECals.h5": true, "x.HDF5": true, "dataG.pkl.gz": true, "a.pickle": true, "e.npz": true, "i.npy": true,
		"cat.csv": false, "c.jpeg": false, "c.fits": false, "h5": false, "notes.txt": false,
	} {
		if got := IsDataFile(path); got != want {
			t.Errorf("IsDataFile(%q) = %v, want %v", path, got, want)
		}
	}
}
