package load

import (
	"bytes"
	"errors"
	"galaxy/internal/testimg"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"galaxy/data/cutout"
)

func smallPNG(side int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 3), 100, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// TestCatalogBombRejected: a training catalog listing a 10,000 x 10,000 PNG
// header is refused in well under 100 ms and 50 MB.
func TestCatalogBombRejected(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bomb.png"), testimg.PNGClaiming(10000, 10000), 0o644)
	p := filepath.Join(dir, "cat.csv")
	os.WriteFile(p, []byte("file,label\nbomb.png,1\n"), 0o644)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := File(p, Options{})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%v in %v, %d KB allocated", err, took, alloc>>10)
	if !errors.Is(err, cutout.ErrTooLarge) || !strings.Contains(err.Error(), "10000x10000") {
		t.Errorf("bomb in a catalog: %v", err)
	}
	if took > 50*time.Millisecond || alloc > 20<<20 {
		t.Errorf("refused in %v with %d bytes; want < 100 ms and < 50 MB", took, alloc)
	}
}

// FuzzLoadCatalog reads arbitrary training catalogs (CSV) that may name two
// real cutouts beside them: Load must return a data set or an error.
func FuzzLoadCatalog(f *testing.F) {
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "a.png"), smallPNG(20), 0o644)
	os.WriteFile(filepath.Join(dir, "bomb.png"), testimg.PNGClaiming(10000, 10000), 0o644)
	path := filepath.Join(dir, "cat.csv")
	for _, s := range []string{
		"file,label\na.png,0\na.png,3\n",
		"\ufeffid,file,gz1_class\n1,a.png,0\n2, a.png ,5\n",
		"file,galaxy10_class\na.png,9\nbomb.png,1\n",
		"file,class\na.png,-1\n",
		"file,ans\n\"a.png\",2\nmissing.png,2\n",
		"file,label,id\na.png,1,x\n",
		"label\n1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, csv []byte) {
		for _, bad := range []string{"/dev", "/proc", "/sys"} { // special files could block
			if bytes.Contains(csv, []byte(bad)) {
				t.Skip()
			}
		}
		if err := os.WriteFile(path, csv, 0o644); err != nil {
			t.Fatal(err)
		}
		raw, err := File(path, Options{})
		if err != nil {
			return
		}
		if raw.N != len(raw.Files) || len(raw.Pixels) != raw.N*raw.H*raw.W*raw.C || len(raw.Codes) != raw.N {
			t.Fatalf("inconsistent catalog data: %d files, %d codes, %d pixels", len(raw.Files), len(raw.Codes), len(raw.Pixels))
		}
	})
}
