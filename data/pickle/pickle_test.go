package pickle

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"galaxy/data/array"
)

// expected is testdata/expected.json, written by testdata/gen.py.
type expected struct {
	Values map[string]any `json:"values"`
	Files  map[string]struct {
		Value       string `json:"value"`
		Arrays      bool   `json:"arrays"`
		ArraysError string `json:"arrays_error"`
		Error       string `json:"error"`
	} `json:"files"`
}

func loadExpected(t testing.TB) *expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// readFixture returns a fixture's pickle bytes, decompressed if gzipped.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// match compares a Load result with a tagged value of expected.json.
func match(got, want any) error {
	if want == nil {
		if got != nil {
			return fmt.Errorf("got %T %v, want None", got, got)
		}
		return nil
	}
	w, ok := want.(map[string]any)
	if !ok || len(w) != 1 {
		return fmt.Errorf("bad expected value %v", want)
	}
	for tag, wv := range w {
		switch tag {
		case "bool":
			if g, ok := got.(bool); !ok || g != wv.(bool) {
				return fmt.Errorf("got %T %v, want bool %v", got, got, wv)
			}
		case "int":
			n, err := strconv.ParseInt(wv.(string), 10, 64)
			if err != nil {
				return err
			}
			if g, ok := got.(int64); !ok || g != n {
				return fmt.Errorf("got %T %v, want int %d", got, got, n)
			}
		case "float":
			f, err := strconv.ParseFloat(wv.(string), 64)
			if err != nil {
				return err
			}
			g, ok := got.(float64)
			if !ok || (math.Float64bits(g) != math.Float64bits(f) && !(math.IsNaN(g) && math.IsNaN(f))) {
				return fmt.Errorf("got %T %v, want float %v", got, got, f)
			}
		case "str":
			if g, ok := got.(string); !ok || g != wv.(string) {
				return fmt.Errorf("got %T %q, want str %q", got, got, wv)
			}
		case "bytes":
			if g, ok := got.([]byte); !ok || hex.EncodeToString(g) != wv.(string) {
				return fmt.Errorf("got %T %v, want bytes %s", got, got, wv)
			}
		case "dtype":
			if g, ok := got.(array.DType); !ok || g.String() != wv.(string) {
				return fmt.Errorf("got %T %v, want dtype %s", got, got, wv)
			}
		case "list":
			g, ok := got.([]any)
			wl := wv.([]any)
			if !ok || len(g) != len(wl) {
				return fmt.Errorf("got %T of length %d, want a list of %d", got, len(g), len(wl))
			}
			for i := range wl {
				if err := match(g[i], wl[i]); err != nil {
					return fmt.Errorf("[%d]: %w", i, err)
				}
			}
		case "dict":
			g, ok := got.(map[any]any)
			wl := wv.([]any)
			if !ok || len(g) != len(wl) {
				return fmt.Errorf("got %T of %d items, want a dict of %d", got, len(g), len(wl))
			}
			for _, kv := range wl {
				kv := kv.([]any)
				k, err := goKey(kv[0])
				if err != nil {
					return err
				}
				v, ok := g[k]
				if !ok {
					return fmt.Errorf("key %#v missing", k)
				}
				if err := match(v, kv[1]); err != nil {
					return fmt.Errorf("[%#v]: %w", k, err)
				}
			}
		case "array":
			a, ok := got.(*array.Array)
			if !ok {
				return fmt.Errorf("got %T, want an array", got)
			}
			return matchArray(a, wv.(map[string]any))
		default:
			return fmt.Errorf("bad tag %q", tag)
		}
	}
	return nil
}

func goKey(tagged any) (any, error) {
	if tagged == nil {
		return nil, nil
	}
	for tag, v := range tagged.(map[string]any) {
		switch tag {
		case "bool":
			return v.(bool), nil
		case "int":
			return strconv.ParseInt(v.(string), 10, 64)
		case "float":
			return strconv.ParseFloat(v.(string), 64)
		case "str":
			return v.(string), nil
		}
	}
	return nil, fmt.Errorf("bad key %v", tagged)
}

func matchArray(a *array.Array, w map[string]any) error {
	if err := a.Check(); err != nil {
		return err
	}
	var shape []int
	for _, d := range w["shape"].([]any) {
		shape = append(shape, int(d.(float64)))
	}
	if len(a.Shape) != len(shape) || (len(shape) > 0 && !reflect.DeepEqual(a.Shape, shape)) {
		return fmt.Errorf("shape %v, want %v", a.Shape, shape)
	}
	if a.DType.String() != w["dtype"].(string) {
		return fmt.Errorf("dtype %v, want %s", a.DType, w["dtype"])
	}
	data, _ := hex.DecodeString(w["hex"].(string))
	if !bytes.Equal(a.Data, data) {
		size := a.DType.Size()
		for i := 0; i+size <= len(data) && i+size <= len(a.Data); i += size {
			if !bytes.Equal(a.Data[i:i+size], data[i:i+size]) {
				return fmt.Errorf("element %d is % x, want % x", i/size, a.Data[i:i+size], data[i:i+size])
			}
		}
		return fmt.Errorf("%d data bytes, want %d", len(a.Data), len(data))
	}
	return nil
}

func fixtureNames(e *expected) []string {
	var names []string
	for n := range e.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func checkErrorForm(t *testing.T, err error) {
	t.Helper()
	if s := err.Error(); strings.Contains(s, "\n") || !strings.Contains(s, "pickle: ") {
		t.Errorf("error %q is not one line with a pickle: prefix", s)
	}
}

func TestFixtures(t *testing.T) {
	e := loadExpected(t)
	for _, name := range fixtureNames(e) {
		f := e.Files[name]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			v, err := Load(bytes.NewReader(readFixture(t, name)))
			arrs, aerr := ReadArrays(path)
			if f.Error != "" {
				for _, err := range []error{err, aerr} {
					if err == nil || !strings.Contains(err.Error(), f.Error) {
						t.Fatalf("err = %v, want one containing %q", err, f.Error)
					}
					checkErrorForm(t, err)
				}
				if !strings.HasPrefix(aerr.Error(), path+": pickle: opcode 0x") {
					t.Errorf("ReadArrays error %q: want the path and the opcode", aerr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := e.Values[f.Value]
			if err := match(v, want); err != nil {
				t.Errorf("Load: %v", err)
			}
			if f.ArraysError != "" {
				if aerr == nil || !strings.Contains(aerr.Error(), f.ArraysError) || !strings.HasPrefix(aerr.Error(), path+": ") {
					t.Errorf("ReadArrays err = %v, want one containing %q", aerr, f.ArraysError)
				}
				return
			}
			if aerr != nil {
				t.Fatal(aerr)
			}
			items := make([]any, len(arrs))
			for i, a := range arrs {
				items[i] = a
			}
			if err := match(items, want); err != nil {
				t.Errorf("ReadArrays: %v", err)
			}
		})
	}
}

// TestCourseLayout checks the course tuple's shapes and types explicitly.
func TestCourseLayout(t *testing.T) {
	for _, name := range []string{"course_p2.pkl.gz", "course_p4.pkl", "course_p5.pkl.gz", "course_py2_p2.pkl", "course_py2_p0.pkl", "course_np2_p5.pkl"} {
		arrs, err := ReadArrays(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		want := [][]int{{6, 5, 5, 1}, {6, 5}, {2, 5, 5, 1}, {2, 5}}
		types := []array.DType{array.Uint8, array.Float64, array.Uint8, array.Float64}
		if len(arrs) != 4 {
			t.Fatalf("%s: %d arrays", name, len(arrs))
		}
		for i, a := range arrs {
			if !reflect.DeepEqual(a.Shape, want[i]) || a.DType != types[i] {
				t.Errorf("%s: array %d is %v %v, want %v %v", name, i, a.Shape, a.DType, want[i], types[i])
			}
		}
		// One-hot labels.
		for _, l := range []*array.Array{arrs[1], arrs[3]} {
			v := l.Float64s()
			for r := 0; r < l.Shape[0]; r++ {
				sum := 0.0
				for _, x := range v[r*5 : r*5+5] {
					sum += x
				}
				if sum != 1 {
					t.Errorf("%s: label row %d sums to %v", name, r, sum)
				}
			}
		}
	}
}

// pk writes pickles opcode by opcode.
type pk struct{ b []byte }

func (p *pk) op(s string) *pk { p.b = append(p.b, s...); return p }

func (p *pk) int(v int) *pk {
	p.b = append(p.b, 'J')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(int32(v)))
	return p
}

func (p *pk) str(s string) *pk {
	p.b = append(p.b, 0x8c, byte(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *pk) bytes8(data []byte) *pk {
	p.b = append(p.b, 0x8e)
	p.b = binary.LittleEndian.AppendUint64(p.b, uint64(len(data)))
	p.b = append(p.b, data...)
	return p
}

// array writes the numpy array reduction, up to the data, which the caller
// writes (bytes8 or a memo get), then arrayEnd.
func (p *pk) arrayStart(shape []int, code, order string, fortran bool) *pk {
	p.op("cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R")
	p.op("(K\x01(")
	for _, d := range shape {
		p.int(d)
	}
	p.op("tcnumpy\ndtype\n").str(code).op("\x89\x88\x87R(K\x03").str(order)
	p.op("NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
	if fortran {
		return p.op("\x88")
	}
	return p.op("\x89")
}

func (p *pk) arrayEnd() *pk { return p.op("tb") }

func (p *pk) array(shape []int, code, order string, fortran bool, data []byte) *pk {
	return p.arrayStart(shape, code, order, fortran).bytes8(data).arrayEnd()
}

func TestBadInput(t *testing.T) {
	huge := "\x8e" + string(binary.LittleEndian.AppendUint64(nil, 1<<60)) + "abc"
	arr := func(shape []int, code string, data []byte) string {
		return string(new(pk).op("\x80\x04").array(shape, code, "<", false, data).op(".").b)
	}
	var budget pk
	budget.op("\x80\x04(").bytes8(make([]byte, 1<<16)).op("\x94")
	for range 100 {
		budget.arrayStart([]int{1 << 13}, "f8", ">", false).op("h\x00").arrayEnd()
	}
	budget.op("l.")
	deep := strings.Repeat("]", 20000) + strings.Repeat("a", 19999) + "."
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "empty input"},
		{"no stop", "\x80\x02N", "no STOP"},
		{"stop on empty stack", ".", "stack underflow"},
		{"protocol 6", "\x80\x06N.", "unsupported protocol 6"},
		{"unknown opcode", "\xffN.", "opcode 0xff at offset 0: unknown opcode"},
		{"gzip", "\x1f\x8b\x08\x00", "gzip"},
		{"open mark", "(N.", "MARK still open"},
		{"extra values", "NN.", "1 more values"},
		{"append at mark", "](Na.", "stack underflow"},
		{"pop below mark", "N(K\x01\x86.", "stack underflow"},
		{"tuple without mark", "Nt.", "no MARK"},
		{"pop mark without mark", "1.", "no MARK"},
		{"memo miss", "h\x05.", "memo key 5 not found"},
		{"text memo miss", "g7\n.", "memo key 7 not found"},
		{"bad memo key", "gx\n.", "malformed memo key"},
		{"put on empty stack", "q\x00.", "stack underflow"},
		{"huge BINBYTES8", huge, "1152921504606846976 bytes announced, 3 left"},
		{"huge BYTEARRAY8", "\x96" + huge[1:], "1152921504606846976 bytes announced"},
		{"huge BINUNICODE8", "\x8d" + huge[1:], "1152921504606846976 bytes announced"},
		{"huge BINBYTES", "B\xff\xff\xff\xff.", "4294967295 bytes announced"},
		{"negative BINSTRING", "T\xff\xff\xff\xff.", "negative length"},
		{"huge LONG4", "\x8b\xff\xff\xff\x7f.", "2147483647 bytes announced"},
		{"big LONG1", "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.", "big integers"},
		{"big LONG", "L123456789012345678901234567890L\n.", "big integers"},
		{"big INT", "I99999999999999999999\n.", "big integers"},
		{"bad INT", "Ixyz\n.", "malformed integer"},
		{"INT without newline", "I12", "no newline"},
		{"bad FLOAT", "Fabc\n.", "malformed float"},
		{"unquoted STRING", "Sabc\n.", "not quoted"},
		{"bad escape", "S'\\x4'\n.", "escape"},
		{"append to int", "K\x01K\x02a.", "APPEND to int"},
		{"setitem underflow", "}K\x01s.", "stack underflow"},
		{"tuple key", "}K\x01K\x02\x86K\x04s.", "dict key of type tuple"},
		{"odd setitems", "}(K\x01u.", "odd number of items"},
		{"setitem on list", "]K\x01K\x02s.", "SETITEM on list"},
		{"os.system", "\x80\x02cos\nsystem\n.", "opcode 0x63 at offset 2: global os.system is not allowed"},
		{"stack global", "\x8c\x02os\x8c\x06system\x93.", "global os.system is not allowed"},
		{"stack global newline", "\x8c\x03o\ns\x8c\x06system\x93.", `global "o\ns.system" is not allowed`},
		{"stack global of ints", "K\x01K\x02\x93.", "STACK_GLOBAL of int and int"},
		{"inst", "(S'echo'\nios\nsystem\n.", "global os.system is not allowed"},
		{"obj of int", "(K\x01K\x02o.", "cannot call a int"},
		{"global as value", "cnumpy\ndtype\n.", "the global numpy.dtype is not a value"},
		{"call ndarray", "cnumpy\nndarray\n)R.", "numpy.ndarray cannot be called here"},
		{"call int", "K\x01)R.", "cannot call a int"},
		{"reduce non-tuple", "cnumpy\ndtype\nK\x01R.", "REDUCE with arguments of type int"},
		{"reconstruct dtype", "cnumpy.core.multiarray\n_reconstruct\ncnumpy\ndtype\nK\x00\x85C\x01b\x87R.", "want numpy.ndarray"},
		{"never built", "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R.", "never initialized"},
		{"build on dict", "}Nb.", "BUILD on dict is not supported"},
		{"bad dtype", "cnumpy\ndtype\nX\x02\x00\x00\x00O8\x85R.", "unsupported numpy dtype 'O8' (object arrays"},
		{"data length", arr([]int{2}, "f8", []byte("abc")), "array data has 3 bytes, shape [2] of float64 needs 16"},
		{"shape overflow", arr([]int{1 << 30, 1 << 30, 1 << 30}, "f8", nil), "too large"},
		{"negative dim", arr([]int{-1}, "u1", nil), "dimension -1"},
		{"copy budget", string(budget.b), "copies of array data exceed"},
		{"deep", deep, "nested over 10000 deep"},
		{"newobj", "\x80\x02cnumpy\ndtype\n)\x81.", "NEWOBJ of numpy.dtype is not supported"},
		{"persid", "P1\n.", "persistent ids"},
		{"ext", "\x82\x01.", "extension registry"},
		{"out of band", "\x97.", "out-of-band buffers"},
		{"set", "\x8f.", "sets are not supported"},
		{"frame", "\x95d\x00\x00\x00\x00\x00\x00\x00N.", "frame of 100 bytes, 2 left"},
		{"encoding", "c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00cp500\x86R.", `_codecs.encode to "cp500" is not supported`},
		{"not latin-1", "c_codecs\nencode\nX\x03\x00\x00\x00\xe2\x98\x83X\x06\x00\x00\x00latin1\x86R.", "U+2603 is not latin-1"},
		{"bytearray of int", "c__builtin__\nbytearray\nJ\x00\x00\x00\x40\x85R.", "bytes or bytearray of int is not supported"},
		{"garbage", "\x00\x01\x02\x03garbage", "unknown opcode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Load(strings.NewReader(c.in))
			if err == nil {
				t.Fatalf("no error; got %v", v)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %q, want one containing %q", err, c.want)
			}
			checkErrorForm(t, err)
		})
	}
}

func TestOddButValid(t *testing.T) {
	cases := []struct {
		name, in string
		want     any
	}{
		{"obj dtype", "(cnumpy\ndtype\nS'f8'\no.", array.Float64},
		{"inst dtype", "(S'u1'\ninumpy\ndtype\n.", array.Uint8},
		{"long1 negative", "\x8a\x02\x00\xff.", int64(-256)},
		{"long1 nine bytes", "\x8a\x09\xff\xff\xff\xff\xff\xff\xff\x7f\x00.", int64(math.MaxInt64)},
		{"long1 empty", "\x8a\x00.", int64(0)},
		{"long text", "L-42L\n.", int64(-42)},
		{"int bools", "(I01\nI00\nt.", []any{true, false}},
		{"string escapes", "S'a\\n\\x00\\'\\\\\\101'\n.", "a\n\x00'\\A"},
		{"double quoted", "S\"it's\"\n.", "it's"},
		{"unicode escape", "V\\u2603x\\U0001F600\n.", "☃x😀"},
		{"pop empty frame drops mark", "N(0.", nil},
		{"binfloat", "G?\xf8\x00\x00\x00\x00\x00\x00.", 1.5},
		{"trailing data ignored", "N.garbage", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Load(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, c.want) {
				t.Errorf("got %#v, want %#v", v, c.want)
			}
		})
	}
}

func TestCycles(t *testing.T) {
	// A list that contains itself, and a dict that contains itself.
	v, err := Load(strings.NewReader("]q\x00h\x00a."))
	if err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	if len(l) != 1 || &l[0].([]any)[0] != &l[0] {
		t.Errorf("list cycle not kept: %d items", len(l))
	}
	v, err = Load(strings.NewReader("}q\x00X\x04\x00\x00\x00selfh\x00s."))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(map[any]any)
	if reflect.ValueOf(d["self"]).UnsafePointer() != reflect.ValueOf(d).UnsafePointer() {
		t.Error("dict cycle not kept")
	}
}

// TestTruncated cuts each fixture at every length: each cut is an error.
func TestTruncated(t *testing.T) {
	e := loadExpected(t)
	for _, name := range fixtureNames(e) {
		if e.Files[name].Error != "" || strings.HasSuffix(name, ".gz") {
			continue
		}
		b := readFixture(t, name)
		for n := range len(b) {
			if v, err := Load(bytes.NewReader(b[:n])); err == nil {
				t.Fatalf("%s cut at %d: no error, got %v", name, n, v)
			}
		}
	}
}

func TestReadArraysFiles(t *testing.T) {
	dir := t.TempDir()
	gz, err := os.ReadFile(filepath.Join("testdata", "course_p4.pkl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := bytes.Clone(gz)
	corrupt[len(corrupt)/2] ^= 0xff
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-6] ^= 0xff
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "pickle: empty input"},
		{"gzip magic only", []byte{0x1f, 0x8b}, "gzip: unexpected EOF"},
		{"truncated gzip", gz[:len(gz)/2], "gzip: unexpected EOF"},
		{"corrupt gzip", corrupt, "gzip: "},
		{"bad crc", badCRC, "gzip: "},
		{"one byte", []byte{'N'}, "no STOP"},
		{"not a tuple", []byte("N."), "want a tuple of arrays, got None"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(c.name, " ", "_")+".pkl", c.in)
			_, err := ReadArrays(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), p+": ") {
				t.Errorf("err = %v, want one prefixed by the path containing %q", err, c.want)
			}
		})
	}
	_, err = ReadArrays(filepath.Join(dir, "missing.pkl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestReadAll(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	for _, hint := range []int{-1, 0, 10, 9999, 10000, 10001, 1 << 20} {
		got, err := readAll(struct{ io.Reader }{bytes.NewReader(data)}, hint)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("hint %d: %d bytes, %v", hint, len(got), err)
		}
		if hint == len(data) && cap(got) != len(data) {
			t.Errorf("exact hint: cap %d, want no regrowth", cap(got))
		}
	}
}

func TestLoadFile(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "course_p5.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if h := sizeHint(f); h <= 0 {
		t.Errorf("size hint %d for a regular file", h)
	}
	v, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := v.([]any); !ok || len(l) != 4 {
		t.Fatalf("got %T", v)
	}
}
