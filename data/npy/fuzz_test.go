package npy

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func addFixtures(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures %s: %v", pattern, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzRead(f *testing.F) {
	addFixtures(f, "*.npy")
	f.Add(npyWith("{'descr': '>u8', 'fortran_order': True, 'shape': (2, 1, 3)}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Known length (sized buffers) and unknown length (growing buffers).
		for _, r := range []io.Reader{bytes.NewReader(b), struct{ io.Reader }{bytes.NewReader(b)}} {
			a, err := Read(r)
			if err != nil {
				if a != nil {
					t.Fatal("array and error")
				}
				continue
			}
			if err := a.Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzReadNPZ(f *testing.F) {
	addFixtures(f, "*.npz")
	f.Fuzz(func(t *testing.T, b []byte) {
		names, arrays, err := ReaderNPZ(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if len(names) != len(arrays) {
			t.Fatalf("%d names, %d arrays", len(names), len(arrays))
		}
		for _, n := range names {
			if err := arrays[n].Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
