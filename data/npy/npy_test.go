package npy

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"galaxy/data/array"
)

// want is one entry of testdata/expected.json, written by testdata/gen.py.
type want struct {
	Shape  []int           `json:"shape"`
	DType  string          `json:"dtype"`
	Hex    string          `json:"hex"`
	Error  string          `json:"error"`
	Names  []string        `json:"names"`
	Arrays map[string]want `json:"arrays"`
}

func loadExpected(t testing.TB) map[string]want {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]want
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sortedKeys(m map[string]want) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func checkArray(t *testing.T, what string, a *array.Array, w want) {
	t.Helper()
	if err := a.Check(); err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if !reflect.DeepEqual(a.Shape, w.Shape) && !(len(a.Shape) == 0 && len(w.Shape) == 0) {
		t.Errorf("%s: shape %v, want %v", what, a.Shape, w.Shape)
	}
	if a.DType.String() != w.DType {
		t.Errorf("%s: dtype %v, want %s", what, a.DType, w.DType)
	}
	data, err := hex.DecodeString(w.Hex)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Data, data) {
		size := max(a.DType.Size(), 1)
		for i := 0; i < len(data) && i < len(a.Data); i += size {
			if !bytes.Equal(a.Data[i:i+size], data[i:i+size]) {
				t.Errorf("%s: element %d is % x, want % x", what, i/size, a.Data[i:i+size], data[i:i+size])
				return
			}
		}
		t.Errorf("%s: %d data bytes, want %d", what, len(a.Data), len(data))
	}
}

func TestFixtures(t *testing.T) {
	exp := loadExpected(t)
	for _, name := range sortedKeys(exp) {
		w := exp[name]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			if strings.HasSuffix(name, ".npz") {
				names, arrays, err := ReadNPZ(path)
				if w.Error != "" {
					if err == nil || !strings.Contains(err.Error(), w.Error) {
						t.Fatalf("err = %v, want one containing %q", err, w.Error)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(names, w.Names) {
					t.Errorf("names %q, want %q", names, w.Names)
				}
				for _, n := range w.Names {
					checkArray(t, n, arrays[n], w.Arrays[n])
				}
				if len(arrays) != len(w.Names) {
					t.Errorf("%d arrays, want %d", len(arrays), len(w.Names))
				}
				return
			}
			a, err := ReadFile(path)
			if w.Error != "" {
				if err == nil || !strings.Contains(err.Error(), w.Error) {
					t.Fatalf("err = %v, want one containing %q", err, w.Error)
				}
				if !strings.HasPrefix(err.Error(), path+": npy: ") || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q: want one line prefixed by the path", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkArray(t, name, a, w)

			// The same through Read, from a reader of unknown length.
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a2, err := Read(struct{ io.Reader }{bytes.NewReader(b)})
			if err != nil {
				t.Fatal(err)
			}
			checkArray(t, name+" via Read", a2, w)
		})
	}
}

// TestReadStream checks that Read consumes one array and nothing more, so
// that arrays written one after another can be read in turn.
func TestReadStream(t *testing.T) {
	var buf []byte
	for _, n := range []string{"le_f8.npy", "be_u2.npy", "scalar_u1.npy"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, b...)
	}
	exp := loadExpected(t)
	r := struct{ io.Reader }{bytes.NewReader(buf)}
	for _, n := range []string{"le_f8.npy", "be_u2.npy", "scalar_u1.npy"} {
		a, err := Read(r)
		if err != nil {
			t.Fatal(err)
		}
		checkArray(t, n, a, exp[n])
	}
	if _, err := Read(r); err == nil {
		t.Fatal("read past the end without error")
	}
}

func TestFortranToC(t *testing.T) {
	// Fortran data of shape (2,3,4): element (i,j,k) at i + 2j + 6k.
	shape := []int{2, 3, 4}
	for _, size := range []int{1, 2, 8} {
		src := make([]byte, 24*size)
		for i := range 2 {
			for j := range 3 {
				for k := range 4 {
					f := i + 2*j + 6*k
					c := i*12 + j*4 + k
					for b := range size {
						src[f*size+b] = byte(c*size + b)
					}
				}
			}
		}
		got := make([]byte, len(src))
		array.FortranToC(got, src, shape, size)
		for i := range got {
			if got[i] != byte(i) {
				t.Fatalf("size %d: byte %d is %d", size, i, got[i])
			}
		}
	}
}

func npyWith(dict string) []byte {
	h := []byte(dict)
	h = append(h, '\n')
	b := []byte(magic + "\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	return append(b, h...)
}

func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "le_f8.npy"))
	if err != nil {
		t.Fatal(err)
	}
	v2 := []byte(magic + "\x02\x00\xff\xff\xff\x7f")
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated magic"},
		{"short magic", []byte("\x93NUM"), "truncated magic"},
		{"wrong magic", []byte("PK\x03\x04 not numpy at all"), "not a .npy file"},
		{"version 4", []byte(magic + "\x04\x00\x10\x00"), "unsupported format version 4.0"},
		{"version 1.1", []byte(magic + "\x01\x01\x10\x00"), "unsupported format version 1.1"},
		{"no header length", []byte(magic + "\x01\x00\x10"), "truncated header length"},
		{"huge header", v2, "header length"},
		{"truncated header", good[:40], "truncated header"},
		{"truncated data", good[:len(good)-3], "truncated data"},
		{"only header", good[:128], "truncated data"},
		{"not a dict", npyWith("['descr', '<f8']"), "not a dict"},
		{"missing shape", npyWith("{'descr': '<f8', 'fortran_order': False}"), `missing key "shape"`},
		{"extra key", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (), 'x': 1}"), `unexpected key "x"`},
		{"code", npyWith("{'descr': __import__('os').system('x'), 'fortran_order': False, 'shape': ()}"), "only literals"},
		{"call", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (1,) + (2,)}"), "want ','"},
		{"bad shape", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}"), "invalid dimension"},
		{"shape not tuple", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': 3}"), "not a tuple"},
		{"shape list", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': [3]}"), "not a tuple"},
		{"float dim", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (2.5,)}"), "unsupported number"},
		{"huge dim", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}"), "out of range"},
		{"overflow", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"), "too large"},
		{"claims a lot", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}"), "truncated data"},
		{"fortran not bool", npyWith("{'descr': '<f8', 'fortran_order': 0, 'shape': ()}"), "not a bool"},
		{"unterminated", npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (3,"), "header"},
		{"unterminated string", npyWith("{'descr': '<f8"), "newline in string"},
		{"deep", npyWith(strings.Repeat("(", 1000)), "nesting too deep"},
		{"multibyte pipe", npyWith("{'descr': '|f8', 'fortran_order': False, 'shape': ()}"), "'|f8'"},
		{"garbage", []byte("\x00\x01\x02\x03garbage garbage"), "not a .npy file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []io.Reader{bytes.NewReader(c.in), struct{ io.Reader }{bytes.NewReader(c.in)}} {
				a, err := Read(r)
				if err == nil {
					t.Fatalf("no error, got %v %v", a.Shape, a.DType)
				}
				if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "npy: ") {
					t.Errorf("err = %q, want one containing %q", err, c.want)
				}
			}
		})
	}
}

// TestTruncated cuts every fixture at every length: each cut is an error.
func TestTruncated(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.np[yz]"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			if strings.HasSuffix(f, ".npz") {
				if _, _, err := ReaderNPZ(bytes.NewReader(b[:n]), int64(n)); err == nil {
					t.Errorf("%s cut at %d: no error", f, n)
				}
				continue
			}
			if _, err := Read(bytes.NewReader(b[:n])); err == nil {
				t.Errorf("%s cut at %d: no error", f, n)
			}
		}
	}
}

// TestNPZCorrupt flips bytes of the compressed archive: an error or the right
// arrays, never a panic or wrong data (the CRC is checked).
func TestNPZCorrupt(t *testing.T) {
	exp := loadExpected(t)["compressed.npz"]
	b, err := os.ReadFile(filepath.Join("testdata", "compressed.npz"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x55
		names, arrays, err := ReaderNPZ(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			continue
		}
		for _, n := range names {
			w, ok := exp.Arrays[n]
			if !ok {
				continue // a flipped byte in a name
			}
			got := arrays[n]
			if hex.EncodeToString(got.Data) != w.Hex || !reflect.DeepEqual(got.Shape, w.Shape) || got.DType.String() != w.DType {
				t.Errorf("flip at %d: member %s silently wrong", i, n)
			}
		}
	}
}

func TestErrorsAreWrapped(t *testing.T) {
	_, err := ReadFile(filepath.Join("testdata", "no-such-file.npy"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
	_, _, err = ReadNPZ(filepath.Join("testdata", "le_f8.npy"))
	if err == nil || !strings.Contains(err.Error(), "le_f8.npy: npz:") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkReadFile reads a .npy file of 1000 uint8 cutouts of 69x69x3
// (14.3 MB), the figure the package comment compares with npyio.
func BenchmarkReadFile(b *testing.B) {
	const n = 1000 * 69 * 69 * 3
	h := "{'descr': '|u1', 'fortran_order': False, 'shape': (1000, 69, 69, 3), }"
	h += strings.Repeat(" ", 63-(10+len(h))%64) + "\n"
	in := binary.LittleEndian.AppendUint16([]byte(magic+"\x01\x00"), uint16(len(h)))
	in = append(append(in, h...), make([]byte, n)...)
	path := filepath.Join(b.TempDir(), "images.npy")
	if err := os.WriteFile(path, in, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		a, err := ReadFile(path)
		if err != nil || len(a.Data) != n {
			b.Fatal(err)
		}
	}
}
