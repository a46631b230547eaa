package npy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"galaxy/data/array"
)

func TestWriteRoundTrip(t *testing.T) {
	arrays := map[string]*array.Array{
		"emb":   {Shape: []int{3, 2}, DType: array.Float32, Data: []byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64, 0, 0, 192, 64}},
		"label": {Shape: []int{3}, DType: array.Int64, Data: make([]byte, 24)},
		"bytes": {Shape: []int{5}, DType: array.Uint8, Data: []byte("a\nbc\n")},
	}
	arrays["label"].Data[8] = 7
	names := []string{"emb", "label", "bytes"}
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, names, arrays); err != nil {
		t.Fatal(err)
	}
	got, m, err := ReaderNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, names) {
		t.Errorf("members %v, want %v", got, names)
	}
	for _, n := range names {
		a, b := arrays[n], m[n]
		if b == nil || b.DType != a.DType || !slices.Equal(a.Shape, b.Shape) || !bytes.Equal(a.Data, b.Data) {
			t.Errorf("%s: read back %+v, wrote %+v", n, b, a)
		}
	}
	// NumPy itself reads it, where it is installed.
	py := "/usr/bin/python3" // Debian's, with python3-numpy; else the first on PATH
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("no python3 to read the file with NumPy")
		}
	}
	path := filepath.Join(t.TempDir(), "x.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import sys, numpy as np; z = np.load(sys.argv[1]); print(z['emb'].tolist(), z['label'].tolist(), z['bytes'].tobytes())", path).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No module named") {
			t.Skipf("no numpy: %s", out)
		}
		t.Fatalf("numpy: %v: %s", err, out)
	}
	if want := "[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]] [0, 7, 0] b'a\\nbc\\n'\n"; string(out) != want {
		t.Errorf("numpy read %q, want %q", out, want)
	}
}
