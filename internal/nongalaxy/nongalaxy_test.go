package nongalaxy

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata from the generator")

// The committed set: 34 images of each kind (204), seed 1, and one screenshot of
// a page at the size people take them.
const (
	PerKind = 34
	Seed    = 1
)

// TestCommittedSet checks that testdata holds exactly what the generator
// draws (go test -run CommittedSet -update ./internal/nongalaxy rewrites it).
func TestCommittedSet(t *testing.T) {
	imgs, kinds := Set(PerKind, Seed)
	shot := Draw("screenshot", 800, 600, rand.New(rand.NewPCG(Seed, 2)))
	files := map[string][]byte{}
	for i, img := range imgs {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprintf("%s-%02d.png", kinds[i], i%PerKind)] = b.Bytes()
	}
	var b bytes.Buffer
	if err := png.Encode(&b, shot); err != nil {
		t.Fatal(err)
	}
	files["page-screenshot-800x600.png"] = b.Bytes()
	dir := filepath.Join("testdata")
	if *update {
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o755)
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(files) {
		t.Fatalf("testdata holds %d files, the generator draws %d (rerun with -update)", len(ents), len(files))
	}
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("testdata/%s differs from the generator's (rerun with -update): %v", name, err)
		}
	}
}
