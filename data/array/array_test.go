package array

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	ok := Array{Shape: []int{2, 3}, DType: Float32, Data: make([]byte, 24)}
	if err := ok.Check(); err != nil || ok.Len() != 6 {
		t.Errorf("valid array: %v, len %d", err, ok.Len())
	}
	for name, a := range map[string]Array{
		"short":     {Shape: []int{2, 3}, DType: Float32, Data: make([]byte, 23)},
		"negative":  {Shape: []int{-1}, DType: Uint8},
		"invalid":   {Shape: []int{1}, DType: Invalid, Data: []byte{0}},
		"overflows": {Shape: []int{math.MaxInt / 2, 4}, DType: Uint8},
	} {
		if err := a.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestConversions(t *testing.T) {
	b := binary.LittleEndian.AppendUint64(nil, uint64(587722982273384452))
	b = binary.LittleEndian.AppendUint64(b, uint64(1<<63|5)) // negative int64
	a := Array{Shape: []int{2}, DType: Int64, Data: b}
	v, err := a.Int64s()
	if err != nil || v[0] != 587722982273384452 || v[1] >= 0 {
		t.Errorf("int64 ids: %v %v (must be exact beyond 2^53)", v, err)
	}
	f := Array{Shape: []int{2}, DType: Float64, Data: binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(3)), math.Float64bits(2.5))}
	if _, err := f.Int64s(); err == nil {
		t.Error("2.5 taken as a whole number")
	}
	if got := f.Float64s(); got[0] != 3 || got[1] != 2.5 {
		t.Errorf("float64s %v", got)
	}
	s := Array{Shape: []int{1}, DType: Int16, Data: []byte{0xfe, 0xff}}
	if got := s.Float64s(); got[0] != -2 {
		t.Errorf("int16 %v", got)
	}
	if DType(99).String() == "" || Uint8.String() != "uint8" || Float64.Size() != 8 {
		t.Error("dtype names or sizes")
	}
}

func TestSwapAndFortran(t *testing.T) {
	b := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	SwapBytes(b, 4)
	if b[0] != 4 || b[3] != 1 || b[4] != 8 {
		t.Errorf("swap: %v", b)
	}
	// Fortran order of [[1 2 3] [4 5 6]] is 1 4 2 5 3 6.
	src := []byte{1, 4, 2, 5, 3, 6}
	dst := make([]byte, 6)
	FortranToC(dst, src, []int{2, 3}, 1)
	for i, want := range []byte{1, 2, 3, 4, 5, 6} {
		if dst[i] != want {
			t.Fatalf("fortran to C: %v", dst)
		}
	}
}

func TestParseNumPy(t *testing.T) {
	for _, c := range []struct {
		in    string
		t     DType
		order byte
		err   string
	}{
		{"<f8", Float64, '<', ""},
		{">i2", Int16, '>', ""},
		{"|u1", Uint8, '|', ""},
		{"=f4", Float32, '=', ""},
		{"u8", Uint64, '=', ""},
		{"?", Bool, '=', ""},
		{"|b1", Bool, '|', ""},
		{"|O", Invalid, 0, "'|O' (object arrays are not supported)"},
		{"<U2", Invalid, 0, "'<U2' (string arrays are not supported)"},
		{"|S2", Invalid, 0, "(string arrays"},
		{"|V8", Invalid, 0, "(structured dtypes"},
		{"<c16", Invalid, 0, "unsupported numpy dtype '<c16'"},
		{"f\n8", Invalid, 0, `"f\n8"`},
		{"", Invalid, 0, "unsupported numpy dtype ''"},
	} {
		dt, order, err := ParseNumPy(c.in)
		if dt != c.t || order != c.order {
			t.Errorf("%q: %v %q, want %v %q", c.in, dt, order, c.t, c.order)
		}
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: err %v, want one containing %q", c.in, err, c.err)
		}
	}
}
