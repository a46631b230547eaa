package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteBytes(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old content and no temporary file.
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return errors.New("disk on fire")
	})
	if err == nil {
		t.Fatal("error swallowed")
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("content after a failed write: %q", b)
	}
	if err := WriteBytes(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want 1", len(entries))
	}
	if err := WriteBytes(filepath.Join(dir, "no", "such", "dir", "f"), nil); err == nil {
		t.Error("write into a missing folder succeeded")
	}
}

// TestWriteFullDisk fails the writes after some bytes (a full disk), past
// the buffer so that the failure surfaces in the flush or in fill: the error
// is reported and the old content kept.
func TestWriteFullDisk(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteBytes(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	full := errInjectedFull
	for _, after := range []int{0, 10, 1 << 16, 1<<16 + 5, 3 << 16} {
		err := Write(p, func(w io.Writer) error {
			fw := &failingWriter{w: w, left: after}
			for range 5 {
				if _, err := fw.Write(make([]byte, 1<<16)); err != nil {
					return err
				}
			}
			return nil
		})
		if !errors.Is(err, full) && after < 5<<16 {
			t.Errorf("after %d bytes: error %v", after, err)
		}
		if b, _ := os.ReadFile(p); string(b) != "old" {
			t.Errorf("after %d bytes: content %q", after, b)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("after %d bytes: %d entries", after, len(entries))
		}
	}
}

var errInjectedFull = errors.New("no space left on device (injected)")

type failingWriter struct {
	w    io.Writer
	left int
}

func (f *failingWriter) Write(b []byte) (int, error) {
	if len(b) > f.left {
		n, _ := f.w.Write(b[:f.left])
		f.left = 0
		return n, errInjectedFull
	}
	f.left -= len(b)
	return f.w.Write(b)
}
