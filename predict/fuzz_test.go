package predict

import (
	"bytes"
	"errors"
	"galaxy/internal/testimg"
	"math"
	"path/filepath"
	"reflect"
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
// an error, never panic. It parses from memory (readCatalog, which Inputs
// runs on the opened file) rather than writing each input to a file: a file
// write per execution made each one cost 0.3 ms (2.5 ms on a busy machine)
// instead of 10 µs, and Go's minimiser, which tries O(n²) candidates for an
// n-byte input and reports no executions until it is done, then stalled
// fuzzing for seconds to a minute after each new input ("0 execs/sec").
func FuzzCatalog(f *testing.F) {
	for _, s := range []string{
		"id,file\n1,a.jpg\n2,b.png\n",
		"\ufeff file , objid \n a.jpg , 17\n",
		"file\n\"quoted, name.png\"\n\n",
		"x,y\n1,2\n",
		"id,file\n1\n2,b.png,extra\n",
		"file,galaxy_id\n\"unterminated\n",
		"file\n/abs/a.png\n",
	} {
		f.Add([]byte(s), "", "")
	}
	f.Add([]byte("name,key\nk,n.png\n"), "name", "key")
	f.Fuzz(checkCatalog)
}

// checkCatalog is FuzzCatalog's check of one input.
func checkCatalog(t *testing.T, csv []byte, fileCol, idCol string) {
	const dir = "/cat"
	resolve := func(file string) string { // as catalog resolves a catalog file's rows
		if file != "" && !filepath.IsAbs(file) {
			return filepath.Join(dir, file)
		}
		return file
	}
	n := 0
	err := readCatalog(bytes.NewReader(csv), dir+"/cat.csv", CatalogOptions{FileColumn: fileCol, IDColumn: idCol}, resolve, func(it Item) bool {
		if it.File != strings.TrimSpace(it.File) {
			t.Fatalf("untrimmed file %q", it.File)
		}
		if (it.File == "") != (it.Path == "") || filepath.IsAbs(it.File) && it.Path != it.File {
			t.Fatalf("file %q resolved to %q", it.File, it.Path)
		}
		n++
		return true
	})
	if err != nil && err.Error() == "" {
		t.Fatal("empty error")
	}
	if n > bytes.Count(csv, []byte("\n"))+bytes.Count(csv, []byte("\r"))+1 {
		t.Fatalf("%d items from %d lines", n, bytes.Count(csv, []byte("\n")))
	}
}

// TestCatalogFuzzCost checks that one FuzzCatalog execution is cheap: the
// ~20,000 executions Go's minimiser spends on a 200-byte input take well
// under a second (6 to 50 s when each wrote a file), and that the
// in-memory check reads the same items as Inputs does from a file.
func TestCatalogFuzzCost(t *testing.T) {
	csv := []byte("id,file,label\n" + strings.Repeat("12345,some/galaxy_cutout.png,3\n", 6))
	const runs = 20000
	start := time.Now()
	for range runs {
		checkCatalog(t, csv, "", "")
	}
	took := time.Since(start)
	t.Logf("%d executions in %v (%v each)", runs, took, took/runs)
	limit := 2 * time.Second
	if raceEnabled {
		limit *= 10
	}
	if took > limit {
		t.Errorf("%d executions took %v, want < %v", runs, took, limit)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "cat.csv")
	writeFile(t, path, []byte("id,file\n1, a.png \n2,/abs/b.png\n3,\n"))
	var iterErr error
	var got []Item
	for it := range Inputs([]string{path}, CatalogOptions{}, &iterErr) {
		got = append(got, it)
	}
	want := []Item{{ID: "1", File: "a.png", Path: filepath.Join(dir, "a.png")}, {ID: "2", File: "/abs/b.png", Path: "/abs/b.png"}, {ID: "3"}}
	if iterErr != nil || len(got) != len(want) {
		t.Fatalf("%v %v", got, iterErr)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// raceEnabled is set in tests built with -race (race_test.go), which run
// several times slower.
var raceEnabled bool

// FuzzReadPredictions reads arbitrary files as predict's output (what
// galaxy serve --catalog browses): the reader returns rows whose columns
// agree, or an error, never a panic.
func FuzzReadPredictions(f *testing.F) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, FormatCSV, []string{"smooth", "merger"}, true, WithNovelty(), WithCarried([]string{"ra"}))
	w.Write(Row{ID: "1", File: "a.jpg", Carry: []string{"10.5"}, Class: 1, ClassName: "merger", Probs: []float32{0.25, 0.75}, Novelty: 3})
	w.Write(Row{ID: "2", File: "b.jpg", Carry: []string{""}, Class: -1, Err: "corrupt", Novelty: math.NaN()})
	w.Flush()
	f.Add(b.String())
	f.Add("id,file,class,class_name,p_a,error\nx,y,0,a,1,\n")
	f.Add("id,file,class,class_name,p_a,p_b,novelty,warning,error\nx,y,,,,,,,boom\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ReadPredictions(strings.NewReader(s))
		if err != nil {
			return
		}
		n, k := p.Len(), len(p.Classes)
		if len(p.File) != n || len(p.Class) != n || len(p.Probs) != n*k || len(p.Novelty) != n || len(p.Warning) != n || len(p.Err) != n ||
			(len(p.Carried) > 0 && len(p.Carry) != n) {
			t.Fatalf("columns disagree: %d rows, %d classes, %d probabilities", n, k, len(p.Probs))
		}
		for r, c := range p.Class {
			if c < -1 || c >= k {
				t.Fatalf("row %d: class %d of %d", r, c, k)
			}
		}
	})
}
