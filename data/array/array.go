// Package array holds the n-dimensional arrays that the file readers of
// package data return: a shape, an element type and the raw little-endian
// bytes, in C (row-major) order.
//
// Readers (HDF5, pickle, npy) decode their own containers and hand back an
// Array; package data turns arrays into galaxies. Keeping the bytes raw lets a
// uint8 image block of 80 MB pass from a decompressor to the training code
// without a copy.
package array

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is the element type of an Array.
type DType int

// The element types the project reads. Multi-byte types are little-endian in
// Data whatever their order in the file: readers convert.
const (
	Invalid DType = iota
	Uint8
	Int8
	Uint16
	Int16
	Uint32
	Int32
	Uint64
	Int64
	Float32
	Float64
	Bool
)

var dtypeNames = [...]string{"invalid", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64", "bool"}
var dtypeSizes = [...]int{0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 1}

// String returns the NumPy name of the type ("uint8", "float32", ...).
func (t DType) String() string {
	if t < 0 || int(t) >= len(dtypeNames) {
		return fmt.Sprintf("DType(%d)", int(t))
	}
	return dtypeNames[t]
}

// Size returns the size of one element in bytes (0 for Invalid).
func (t DType) Size() int {
	if t < 0 || int(t) >= len(dtypeSizes) {
		return 0
	}
	return dtypeSizes[t]
}

// Array is an n-dimensional array in C order with little-endian elements.
type Array struct {
	Shape []int
	DType DType
	Data  []byte // len(Data) == Len()*DType.Size()
}

// Len returns the number of elements (the product of Shape; 1 for a scalar).
func (a *Array) Len() int {
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	return n
}

// Check reports whether Data holds exactly the elements Shape and DType promise.
func (a *Array) Check() error {
	if a.DType.Size() == 0 {
		return fmt.Errorf("array: invalid element type %v", a.DType)
	}
	n := 1
	for _, s := range a.Shape {
		if s < 0 {
			return fmt.Errorf("array: negative dimension in shape %v", a.Shape)
		}
		if s != 0 && n > math.MaxInt/s {
			return fmt.Errorf("array: shape %v overflows", a.Shape)
		}
		n *= s
	}
	if want := n * a.DType.Size(); len(a.Data) != want {
		return fmt.Errorf("array: shape %v of %v needs %d bytes, have %d", a.Shape, a.DType, want, len(a.Data))
	}
	return nil
}

// Float64s returns the elements converted to float64 (a new slice).
func (a *Array) Float64s() []float64 {
	n := a.Len()
	out := make([]float64, n)
	d := a.Data
	for i := range out {
		switch a.DType {
		case Uint8, Bool:
			out[i] = float64(d[i])
		case Int8:
			out[i] = float64(int8(d[i]))
		case Uint16:
			out[i] = float64(binary.LittleEndian.Uint16(d[2*i:]))
		case Int16:
			out[i] = float64(int16(binary.LittleEndian.Uint16(d[2*i:])))
		case Uint32:
			out[i] = float64(binary.LittleEndian.Uint32(d[4*i:]))
		case Int32:
			out[i] = float64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		case Uint64:
			out[i] = float64(binary.LittleEndian.Uint64(d[8*i:]))
		case Int64:
			out[i] = float64(int64(binary.LittleEndian.Uint64(d[8*i:])))
		case Float32:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:])))
		case Float64:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		}
	}
	return out
}

// Int64s returns the elements converted to int64 (a new slice). Floating-point
// elements must hold whole numbers; otherwise an error names the first that
// does not.
func (a *Array) Int64s() ([]int64, error) {
	n := a.Len()
	out := make([]int64, n)
	switch a.DType {
	case Float32, Float64:
		for i, v := range a.Float64s() {
			if v != math.Trunc(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("array: element %d is %v, not a whole number", i, v)
			}
			out[i] = int64(v)
		}
		return out, nil
	case Int64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(a.Data[8*i:]))
		}
		return out, nil
	case Uint64:
		for i := range out {
			u := binary.LittleEndian.Uint64(a.Data[8*i:])
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("array: element %d (%d) overflows int64", i, u)
			}
			out[i] = int64(u)
		}
		return out, nil
	}
	for i, v := range a.Float64s() {
		out[i] = int64(v)
	}
	return out, nil
}

// SwapBytes reverses, in place, the bytes of each size-byte element of b:
// big-endian data becomes little-endian (sizes other than 2, 4 and 8 are
// left alone).
func SwapBytes(b []byte, size int) {
	switch size {
	case 2:
		for i := 0; i+1 < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], binary.BigEndian.Uint16(b[i:]))
		}
	case 4:
		for i := 0; i+3 < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
		}
	case 8:
		for i := 0; i+7 < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.BigEndian.Uint64(b[i:]))
		}
	}
}

// FortranToC writes to dst (as long as src) the C-order copy of the
// Fortran-order data src of the given shape, with elements of size bytes.
// Arrays of fewer than two dimensions are the same in both orders.
func FortranToC(dst, src []byte, shape []int, size int) {
	nd := len(shape)
	if nd < 2 || len(src) == 0 {
		copy(dst, src)
		return
	}
	// stride[k]: bytes between consecutive indices along axis k in src.
	stride := make([]int, nd)
	s := size
	for k := range nd {
		stride[k] = s
		s *= shape[k]
	}
	idx := make([]int, nd-1)
	inner, istride := shape[nd-1], stride[nd-1]
	off := 0 // src offset of the current row (index nd-1 == 0)
	for d := 0; d < len(dst); {
		so := off
		if size == 1 {
			for range inner {
				dst[d] = src[so]
				d++
				so += istride
			}
		} else {
			for range inner {
				copy(dst[d:d+size], src[so:so+size])
				d += size
				so += istride
			}
		}
		k := nd - 2
		for ; k >= 0; k-- {
			idx[k]++
			off += stride[k]
			if idx[k] < shape[k] {
				break
			}
			off -= stride[k] * shape[k]
			idx[k] = 0
		}
		if k < 0 {
			break
		}
	}
}
