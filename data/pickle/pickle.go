// Package pickle is a safe, minimal unpickler for the NumPy arrays of the
// course's data files (dataG.pkl.gz, data.pkl): a pickle, gzipped or not,
// of the tuple (train_images, train_labels, test_images, test_labels).
//
// A pickle is a program for a stack machine that may call any Python
// callable it names. This package treats it as data: it runs the opcodes of
// protocols 0 to 5 but accepts only a whitelist of globals, the ones NumPy
// and Python use to rebuild arrays, dtypes, numpy scalars and bytes:
//
//	numpy.core.multiarray._reconstruct, numpy.core.multiarray.scalar,
//	numpy.core.numeric._frombuffer (and their numpy._core twins of NumPy 2),
//	numpy.ndarray, numpy.dtype, builtins.bytes and builtins.bytearray
//	(__builtin__ in Python 2 pickles) and _codecs.encode (latin-1 and
//	UTF-8 only).
//
// Any other GLOBAL, STACK_GLOBAL, INST or OBJ is refused with an error naming
// it, as are NEWOBJ, persistent ids, extension codes and out-of-band
// buffers. Malformed input yields an error, never a panic, and memory use is
// bounded by a small multiple of the input's size: lengths are checked
// against the input before anything is allocated.
//
// # Why hand-written
//
// The maintained pure-Go unpickler, github.com/nlpodyssey/gopickle
// (v0.3.0), was measured on 2026-12-05 behind an adapter with this
// package's API, its FindClass hook as the whitelist and the numpy classes
// of codeberg.org/sbinet/npyio (v0.14.0), and is not used:
//
//   - Speed and memory: the course tuple (17457+1000 images of 69x69x1
//     uint8 and their float64 labels, 88.6 MB at protocol 4, see
//     bench_test.go) loads from memory in 10.3 ms here and 26.6 ms with
//     gopickle (2.6x; 1.6x to 3.5x over four runs of 7 alternating rounds
//     on a busy two-core machine), and from its file through ReadArrays in
//     16.4 ms and 65 ms (4.0x; up to 8.4x); gopickle allocates 180.7 MB in
//     329 allocations to 88.6 MB in 147 here. course_small.pkl.gz: 46 us
//     and 83 us. This package's side: go test -bench . ./data/pickle/.
//   - Safety: gopickle allocates whatever a length field claims before
//     reading: a 6-byte pickle (BINBYTES of 4 GiB) makes it allocate 4.3 GB
//     (25 s), LONG4 2.1 GB, an 11-byte FRAME 1.1 GB; here each is an error
//     after allocating under 2 KB. Opcode 0xff, an odd SETITEMS, LONG1 of length 0 (a
//     valid 0) and a BINBYTES8 of 2^60 bytes panic inside it. Its
//     whitelist hook is asked only after its own classes, so
//     copy_reg._reconstructor, __builtin__.object, collections.OrderedDict,
//     builtins.list, builtins.dict and array._array_reconstructor cannot be
//     refused.
//   - Correctness: it returns None for a memo key never stored, accepts a
//     STOP with a MARK open or more values on the stack, and leaves
//     protocol 0's STRING escapes and UNICODE raw-unicode-escapes
//     undecoded; with npyio's numpy classes, 18 of the 32 valid fixtures of
//     testdata fail to load (Python 2 arrays, whose data is a str, come out
//     empty; _frombuffer of protocol 5, numpy scalars and bytearray are not
//     supported).
package pickle

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"galaxy/data/array"
)

// Load reads one pickle from r and returns its value as Go values:
//
//	None → nil, bool → bool, int → int64 (larger integers are an error),
//	float → float64, str → string (a Python 2 str: a string of its raw
//	bytes), bytes and bytearray → []byte, tuple and list → []any,
//	dict → map[any]any (keys None, bool, int, float or str only),
//	numpy.ndarray → *array.Array, numpy scalar → bool, int64 or float64,
//	numpy.dtype → array.DType.
//
// Arrays and []byte values may share memory with each other when the pickle
// shares them. Load reads r to its end (data after the STOP opcode is
// ignored); the input is held in memory while the pickle runs, and arrays
// point into it rather than copying.
func Load(r io.Reader) (any, error) {
	in, err := readAll(r, sizeHint(r))
	if err != nil {
		return nil, fmt.Errorf("pickle: reading input: %w", err)
	}
	v, err := run(in)
	if err != nil {
		return nil, err
	}
	return finish(v)
}

// sizeHint returns how many bytes r still holds, when it can tell, or -1.
func sizeHint(r io.Reader) int {
	switch v := r.(type) {
	case interface{ Len() int }: // bytes.Reader, bytes.Buffer, strings.Reader
		return v.Len()
	case *os.File:
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil || off > st.Size() || st.Size()-off > 1<<40 {
			return -1
		}
		return int(st.Size() - off)
	}
	return -1
}

// ReadArrays reads the pickle file at path, gzipped or not (told by the
// gzip magic bytes 0x1f 0x8b), whose value must be a tuple or list of
// arrays, as the course's data files are.
func ReadArrays(path string) ([]*array.Array, error) {
	arrs, err := readArrays(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return arrs, nil
}

func readArrays(path string) ([]*array.Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var head [2]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var in []byte
	if n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		in, err = readGzip(f, size)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
	} else {
		if in, err = readAll(f, int(min(size, 1<<40))); err != nil {
			return nil, err
		}
	}
	v, err := run(in)
	if err != nil {
		return nil, err
	}
	var items []any
	switch t := v.(type) {
	case *tuple:
		items = t.items
	case *list:
		items = t.items
	default:
		return nil, fmt.Errorf("pickle: want a tuple of arrays, got %s", typeName(v))
	}
	arrs := make([]*array.Array, len(items))
	for i, it := range items {
		a, ok := it.(*ndarray)
		if !ok {
			return nil, fmt.Errorf("pickle: want a tuple of arrays, element %d is %s", i, typeName(it))
		}
		if a.arr == nil {
			return nil, fmt.Errorf("pickle: element %d: ndarray never initialized (no BUILD)", i)
		}
		arrs[i] = a.arr
	}
	return arrs, nil
}

// maxDeflateRatio is about the most a deflate stream expands per byte.
const maxDeflateRatio = 1032

// readGzip decompresses the gzip file f of size bytes. The buffer is sized
// from the size the gzip trailer records (modulo 2^32), capped by what the
// compressed bytes could expand to, so that the data is copied once.
func readGzip(f *os.File, size int64) ([]byte, error) {
	hint := -1
	if size >= 18 {
		var tail [4]byte
		if _, err := f.ReadAt(tail[:], size-4); err == nil {
			isize := int64(binary.LittleEndian.Uint32(tail[:]))
			hint = int(min(isize, size*maxDeflateRatio, 1<<40))
		}
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, int(min(size, 1<<18))))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return readAll(zr, hint)
}

// readAll reads r to its end into one buffer of capacity hint (when the
// hint is right, nothing is copied twice), growing it if r holds more.
func readAll(r io.Reader, hint int) ([]byte, error) {
	if hint < 512 {
		hint = 512
	}
	b := make([]byte, 0, hint)
	for {
		if len(b) == cap(b) {
			// Probe for more before growing, so an exact hint costs no copy.
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			if n == 0 {
				if err == io.EOF {
					return b, nil
				}
				return nil, err
			}
			b = append(b, one[0])
			continue
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// finish turns the machine's values into the ones Load returns.
func finish(v any) (any, error) {
	out, err := convert(v, 0)
	if err != nil {
		return nil, fmt.Errorf("pickle: result: %w", err)
	}
	return out, nil
}

// maxDepth bounds the nesting of returned containers (Python's own pickler
// fails far earlier) so that converting them cannot exhaust the Go stack.
const maxDepth = 10000

func convert(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("containers nested over %d deep", maxDepth)
	}
	switch t := v.(type) {
	case *tuple:
		if !t.done {
			t.done = true
			for i, x := range t.items {
				y, err := convert(x, depth+1)
				if err != nil {
					return nil, err
				}
				t.items[i] = y
			}
		}
		return t.items, nil
	case *list:
		if !t.done {
			t.done = true
			for i, x := range t.items {
				y, err := convert(x, depth+1)
				if err != nil {
					return nil, err
				}
				t.items[i] = y
			}
		}
		return t.items, nil
	case *dict:
		if !t.done {
			t.done = true
			for k, x := range t.m {
				y, err := convert(x, depth+1)
				if err != nil {
					return nil, err
				}
				t.m[k] = y
			}
		}
		return t.m, nil
	case *ndarray:
		if t.arr == nil {
			return nil, errors.New("ndarray never initialized (no BUILD)")
		}
		return t.arr, nil
	case *dtype:
		return t.dt, nil
	case *global:
		return nil, fmt.Errorf("the global %s is not a value", t)
	}
	return v, nil
}

// typeName names the Python type of a machine value.
func typeName(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case *tuple:
		return "tuple"
	case *list:
		return "list"
	case *dict:
		return "dict"
	case *ndarray:
		return "numpy.ndarray"
	case *dtype:
		return "numpy.dtype"
	case *global:
		return "global " + t.String()
	}
	return fmt.Sprintf("%T", v)
}
