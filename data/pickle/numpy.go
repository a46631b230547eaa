package pickle

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"galaxy/data/array"
)

type globalKind int

const (
	gReconstruct globalKind = iota + 1 // numpy.core.multiarray._reconstruct
	gScalar                            // numpy.core.multiarray.scalar
	gFrombuffer                        // numpy.core.numeric._frombuffer
	gNdarray                           // numpy.ndarray, only as _reconstruct's argument
	gDtype                             // numpy.dtype
	gBytearray                         // builtins.bytearray
	gBytes                             // builtins.bytes
	gEncode                            // _codecs.encode
)

// The whitelist: the only globals a pickle may name.
var globals = map[[2]string]globalKind{
	{"numpy.core.multiarray", "_reconstruct"}:  gReconstruct,
	{"numpy._core.multiarray", "_reconstruct"}: gReconstruct,
	{"numpy.core.multiarray", "scalar"}:        gScalar,
	{"numpy._core.multiarray", "scalar"}:       gScalar,
	{"numpy.core.numeric", "_frombuffer"}:      gFrombuffer,
	{"numpy._core.numeric", "_frombuffer"}:     gFrombuffer,
	{"numpy", "ndarray"}:                       gNdarray,
	{"numpy", "dtype"}:                         gDtype,
	{"builtins", "bytearray"}:                  gBytearray,
	{"__builtin__", "bytearray"}:               gBytearray,
	{"builtins", "bytes"}:                      gBytes,
	{"__builtin__", "bytes"}:                   gBytes,
	{"_codecs", "encode"}:                      gEncode,
}

type global struct {
	module, name string
	kind         globalKind
}

func (g *global) String() string { return g.module + "." + g.name }

func lookupGlobal(module, name string) (*global, error) {
	k, ok := globals[[2]string{module, name}]
	if !ok {
		return nil, fmt.Errorf("global %s is not allowed (only NumPy array reconstruction globals are)", printable(module+"."+name))
	}
	return &global{module, name, k}, nil
}

// printable quotes s when it would not print as one short line.
func printable(s string) string {
	if len(s) > 100 {
		return strconv.Quote(s[:97]) + "..."
	}
	for _, r := range s {
		if r < ' ' || r == utf8.RuneError || r == 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}

// ndarray is a numpy array being rebuilt: _reconstruct makes it, BUILD
// fills it.
type ndarray struct{ arr *array.Array }

// dtype is a numpy.dtype of a supported element type.
type dtype struct {
	dt    array.DType
	name  string
	order byte // '<', '>', '|' or '='
}

func (d *dtype) bigEndian() bool { return d.order == '>' && d.dt.Size() > 1 }

// call applies a whitelisted global to its arguments (REDUCE, INST, OBJ).
func (m *machine) call(f any, args []any) (any, error) {
	g, ok := f.(*global)
	if !ok {
		return nil, fmt.Errorf("cannot call a %s", typeName(f))
	}
	switch g.kind {
	case gReconstruct:
		if len(args) != 3 {
			return nil, fmt.Errorf("%s with %d arguments, want 3", g, len(args))
		}
		if sub, ok := args[0].(*global); !ok || sub.kind != gNdarray {
			return nil, fmt.Errorf("%s of %s, want numpy.ndarray", g, typeName(args[0]))
		}
		return &ndarray{}, nil
	case gDtype:
		return newDtype(args)
	case gScalar:
		return m.scalar(args)
	case gFrombuffer:
		return m.frombuffer(args)
	case gBytearray, gBytes:
		return m.bytearray(args)
	case gEncode:
		return m.encode(args)
	}
	return nil, fmt.Errorf("%s cannot be called here", g)
}

func newDtype(args []any) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, fmt.Errorf("numpy.dtype with %d arguments", len(args))
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("numpy.dtype of %s, want a str (structured dtypes are not supported)", typeName(args[0]))
	}
	// The byte order given here, if any; BUILD's state usually sets it.
	dt, order, err := array.ParseNumPy(name)
	if err != nil {
		return nil, err
	}
	d := &dtype{dt: dt, name: name, order: order}
	return d, nil
}

func (m *machine) build(obj, state any) error {
	switch o := obj.(type) {
	case *dtype:
		// (version, byteorder, ...): the rest describes structured dtypes,
		// which newDtype has already refused by name ('V...').
		t, ok := state.(*tuple)
		if !ok || len(t.items) < 2 {
			return fmt.Errorf("numpy.dtype state is %s, want a tuple", typeName(state))
		}
		order, ok := t.items[1].(string)
		if !ok || len(order) != 1 || strings.IndexByte("<>|=", order[0]) < 0 {
			return fmt.Errorf("numpy.dtype state has byte order %s", typeName(t.items[1]))
		}
		o.order = order[0]
		return nil
	case *ndarray:
		return m.setArrayState(o, state)
	}
	return fmt.Errorf("BUILD on %s is not supported", typeName(obj))
}

// setArrayState is ndarray.__setstate__: state (version, shape, dtype,
// is_fortran, rawdata), or the same without version.
func (m *machine) setArrayState(o *ndarray, state any) error {
	if o.arr != nil {
		return errors.New("ndarray state set twice")
	}
	t, ok := state.(*tuple)
	if !ok {
		return fmt.Errorf("ndarray state is %s, want a tuple", typeName(state))
	}
	items := t.items
	if len(items) == 5 {
		if _, ok := items[0].(int64); !ok {
			return fmt.Errorf("ndarray state version is %s, want an int", typeName(items[0]))
		}
		items = items[1:]
	}
	if len(items) != 4 {
		return fmt.Errorf("ndarray state has %d items, want 5", len(t.items))
	}
	shape, err := toShape(items[0])
	if err != nil {
		return err
	}
	dt, ok := items[1].(*dtype)
	if !ok {
		return fmt.Errorf("ndarray dtype is %s, want numpy.dtype", typeName(items[1]))
	}
	var fortran bool
	switch f := items[2].(type) {
	case bool:
		fortran = f
	case int64:
		fortran = f != 0
	default:
		return fmt.Errorf("ndarray is_fortran is %s, want a bool", typeName(items[2]))
	}
	o.arr, err = m.makeArray(shape, dt, fortran, items[3])
	return err
}

// frombuffer is numpy.core.numeric._frombuffer(buf, dtype, shape, order),
// protocol 5's form of an array.
func (m *machine) frombuffer(args []any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("_frombuffer with %d arguments, want 4", len(args))
	}
	dt, ok := args[1].(*dtype)
	if !ok {
		return nil, fmt.Errorf("_frombuffer dtype is %s, want numpy.dtype", typeName(args[1]))
	}
	shape, err := toShape(args[2])
	if err != nil {
		return nil, err
	}
	order, ok := args[3].(string)
	if !ok || (order != "C" && order != "F" && order != "A") {
		return nil, fmt.Errorf("_frombuffer order is %s, want 'C' or 'F'", typeName(args[3]))
	}
	if _, ok := args[0].([]byte); !ok {
		return nil, fmt.Errorf("_frombuffer of %s, want bytes or bytearray", typeName(args[0]))
	}
	a, err := m.makeArray(shape, dt, order == "F", args[0])
	if err != nil {
		return nil, err
	}
	return &ndarray{arr: a}, nil
}

func toShape(v any) ([]int, error) {
	var items []any
	switch t := v.(type) {
	case *tuple:
		items = t.items
	case *list:
		items = t.items
	default:
		return nil, fmt.Errorf("array shape is %s, want a tuple", typeName(v))
	}
	shape := make([]int, len(items))
	for i, x := range items {
		n, ok := x.(int64)
		if !ok || n < 0 || n > math.MaxInt {
			return nil, fmt.Errorf("array shape has dimension %v (%s)", x, typeName(x))
		}
		shape[i] = int(n)
	}
	return shape, nil
}

// alloc makes a buffer for a copy of array data, within the budget.
func (m *machine) alloc(n int) ([]byte, error) {
	if n > m.budget {
		return nil, fmt.Errorf("copies of array data exceed %d bytes, twice the input", 2*len(m.in))
	}
	m.budget -= n
	return make([]byte, n), nil
}

// rawBytes returns the bytes a bytes object or a str stands for: a str is
// either a Python 2 str of raw bytes or, as Python 3 sees it with
// encoding='latin1', text whose code points are the bytes. want, if not
// negative, is the length expected, which tells them apart.
func (m *machine) rawBytes(v any, want int) ([]byte, bool, error) {
	switch r := v.(type) {
	case []byte:
		return r, false, nil
	case string:
		if want < 0 || len(r) == want {
			b, err := m.alloc(len(r))
			if err != nil {
				return nil, false, err
			}
			copy(b, r)
			return b, true, nil
		}
		b, err := m.latin1(r)
		return b, true, err
	case *list:
		return nil, false, errors.New("object arrays are not supported")
	}
	return nil, false, fmt.Errorf("array data is %s, want bytes", typeName(v))
}

// latin1 encodes the UTF-8 text s to latin-1.
func (m *machine) latin1(s string) ([]byte, error) {
	b, err := m.alloc(utf8.RuneCountInString(s))
	if err != nil {
		return nil, err
	}
	i := 0
	for _, r := range s {
		if r > 0xff {
			if r == utf8.RuneError {
				return nil, errors.New("str is not valid UTF-8")
			}
			return nil, fmt.Errorf("character U+%04X is not latin-1", r)
		}
		b[i] = byte(r)
		i++
	}
	return b, nil
}

func (m *machine) makeArray(shape []int, dt *dtype, fortran bool, raw any) (*array.Array, error) {
	size := dt.dt.Size()
	n := size
	for _, d := range shape {
		if d != 0 && n > math.MaxInt/d {
			return nil, fmt.Errorf("array shape %v of %s is too large", shape, dt.dt)
		}
		n *= d
	}
	data, owned, err := m.rawBytes(raw, n)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, fmt.Errorf("array data has %d bytes, shape %v of %s needs %d", len(data), shape, dt.dt, n)
	}
	if fortran && len(shape) > 1 && n > 0 {
		dst, err := m.alloc(n)
		if err != nil {
			return nil, err
		}
		array.FortranToC(dst, data, shape, size)
		data, owned = dst, true
	}
	if dt.bigEndian() && n > 0 {
		if !owned {
			dst, err := m.alloc(n)
			if err != nil {
				return nil, err
			}
			copy(dst, data)
			data = dst
		}
		array.SwapBytes(data, size)
	}
	return &array.Array{Shape: shape, DType: dt.dt, Data: data}, nil
}

// scalar is numpy.core.multiarray.scalar(dtype, data): a numpy scalar,
// returned as the Go value of its Python equivalent.
func (m *machine) scalar(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("numpy scalar with %d arguments, want 2", len(args))
	}
	dt, ok := args[0].(*dtype)
	if !ok {
		return nil, fmt.Errorf("numpy scalar of %s, want numpy.dtype", typeName(args[0]))
	}
	size := dt.dt.Size()
	data, _, err := m.rawBytes(args[1], size)
	if err != nil {
		return nil, err
	}
	if len(data) != size {
		return nil, fmt.Errorf("numpy %s scalar of %d bytes", dt.dt, len(data))
	}
	le := make([]byte, size)
	copy(le, data)
	if dt.bigEndian() {
		array.SwapBytes(le, size)
	}
	a := &array.Array{DType: dt.dt, Data: le}
	switch dt.dt {
	case array.Bool:
		return le[0] != 0, nil
	case array.Float32, array.Float64:
		return a.Float64s()[0], nil
	}
	v, err := a.Int64s()
	if err != nil {
		return nil, fmt.Errorf("numpy scalar: %w", err)
	}
	return v[0], nil
}

// bytearray is builtins.bytearray and builtins.bytes: bytearray(),
// bytearray(bytes) and, as Python 2 and protocol 2 pickles write it,
// bytearray(str, encoding). Protocols 0 to 2 write b” as bytes().
func (m *machine) bytearray(args []any) (any, error) {
	switch len(args) {
	case 0:
		return []byte{}, nil
	case 1:
		switch a := args[0].(type) {
		case []byte:
			return a, nil
		case string: // Python 2 str
			b, err := m.alloc(len(a))
			if err != nil {
				return nil, err
			}
			copy(b, a)
			return b, nil
		}
		return nil, fmt.Errorf("bytes or bytearray of %s is not supported", typeName(args[0]))
	case 2, 3:
		return m.encode(args)
	}
	return nil, fmt.Errorf("bytes or bytearray with %d arguments", len(args))
}

// encode is _codecs.encode(str, encoding), how protocols 0 to 2 pickle
// Python 3 bytes: the bytes decoded as latin-1, and encoded back.
func (m *machine) encode(args []any) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, fmt.Errorf("_codecs.encode with %d arguments", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("_codecs.encode of %s, want a str", typeName(args[0]))
	}
	enc := "utf-8"
	if len(args) >= 2 {
		if enc, ok = args[1].(string); !ok {
			return nil, fmt.Errorf("_codecs.encode to %s, want a str", typeName(args[1]))
		}
	}
	switch strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(enc)) {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "8859", "cp819", "latin", "l1":
		return m.latin1(s)
	case "utf-8", "utf8", "u8":
		b, err := m.alloc(len(s))
		if err != nil {
			return nil, err
		}
		copy(b, s)
		return b, nil
	}
	return nil, fmt.Errorf("_codecs.encode to %s is not supported (only latin-1 and utf-8)", strconv.Quote(printable(enc)))
}
