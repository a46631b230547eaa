package predict

import (
	"bytes"
	"errors"
	"galaxy/internal/testimg"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"galaxy/data/cutout"
)

// TestCatalogBombs lists 10,000 x 10,000 PNG and JPEG headers in a catalog
// and checks each is refused in well under 100 ms and 50 MB.
func TestCatalogBombs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bomb.png"), testimg.PNGClaiming(10000, 10000))
	writeFile(t, filepath.Join(dir, "bomb.jpg"), testimg.JPEGClaiming(t, 10000, 10000))
	writeFile(t, filepath.Join(dir, "cat.csv"), []byte("id,file\n1,bomb.png\n2,bomb.jpg\n"))
	prep, err := NewPreparer(testModel(t), cutout.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var iterErr error
	n := 0
	dst := make([]float32, prep.Dim())
	for it := range Inputs([]string{filepath.Join(dir, "cat.csv")}, CatalogOptions{}, &iterErr) {
		n++
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := prep.FileFeatures(it.Path, dst)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %v in %v, %d KB allocated", it.File, err, took, alloc>>10)
		if !errors.Is(err, cutout.ErrTooLarge) || !strings.Contains(err.Error(), "10000x10000") {
			t.Errorf("%s: %v, want a too-large error", it.File, err)
		}
		if took > 50*time.Millisecond || alloc > 20<<20 {
			t.Errorf("%s: refused in %v with %d bytes; want < 100 ms and < 50 MB", it.File, took, alloc)
		}
	}
	if iterErr != nil || n != 2 {
		t.Fatalf("%d items, %v", n, iterErr)
	}
}

// FuzzCatalog reads arbitrary catalog CSVs: the reader must return items or
// an error, never panic.
func FuzzCatalog(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "cat.csv")
	for _, s := range []string{
		"id,file\n1,a.jpg\n2,b.png\n",
		"\ufeff file , objid \n a.jpg , 17\n",
		"file\n\"quoted, name.png\"\n\n",
		"x,y\n1,2\n",
		"id,file\n1\n2,b.png,extra\n",
		"file,galaxy_id\n\"unterminated\n",
	} {
		f.Add([]byte(s), "", "")
	}
	f.Add([]byte("name,key\nk,n.png\n"), "name", "key")
	f.Fuzz(func(t *testing.T, csv []byte, fileCol, idCol string) {
		if err := os.WriteFile(path, csv, 0o644); err != nil {
			t.Fatal(err)
		}
		var iterErr error
		n := 0
		for it := range Inputs([]string{path}, CatalogOptions{FileColumn: fileCol, IDColumn: idCol}, &iterErr) {
			if it.File != strings.TrimSpace(it.File) {
				t.Fatalf("untrimmed file %q", it.File)
			}
			n++
		}
		if n > bytes.Count(csv, []byte("\n"))+bytes.Count(csv, []byte("\r"))+1 {
			t.Fatalf("%d items from %d lines", n, bytes.Count(csv, []byte("\n")))
		}
	})
}
