package predict

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"galaxy/data/cutout"
)

// pngClaiming is a PNG whose header claims w x h and nothing more.
func pngClaiming(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// jpegClaiming patches the frame header of a small JPEG to claim w x h.
func jpegClaiming(t testing.TB, w, h uint16) []byte {
	b := encode(t, galaxyImage(16, 1), "jpeg")
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 in encoded JPEG")
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// TestCatalogBombs lists 10,000 x 10,000 PNG and JPEG headers in a catalog
// and checks each is refused in well under 100 ms and 50 MB.
func TestCatalogBombs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bomb.png"), pngClaiming(10000, 10000))
	writeFile(t, filepath.Join(dir, "bomb.jpg"), jpegClaiming(t, 10000, 10000))
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
