package array

import (
	"fmt"
	"strconv"
	"strings"
)

// numpyCodes is the one table of NumPy's type codes (a kind letter and a
// size in bytes, as in dtype.str without its byte-order character) for the
// element types the project reads. The .npy reader (header 'descr') and the
// pickle reader (numpy.dtype arguments) both use it through ParseNumPy.
var numpyCodes = map[string]DType{
	"u1": Uint8, "i1": Int8, "b1": Bool, "?": Bool,
	"u2": Uint16, "i2": Int16,
	"u4": Uint32, "i4": Int32,
	"u8": Uint64, "i8": Int64,
	"f4": Float32, "f8": Float64,
}

// ParseNumPy parses a NumPy type string: an optional byte-order character
// ('<' little-endian, '>' big-endian, '|' not applicable, '=' native) and a
// type code ("f8", "u1", "b1" or "?"). It returns the element type and the
// byte-order character, '=' when s has none. A type this project does not
// read is an error that names it and, for object, string and structured
// types, says so.
func ParseNumPy(s string) (DType, byte, error) {
	order, code := byte('='), s
	if len(code) > 0 && strings.IndexByte("<>|=", code[0]) >= 0 {
		order, code = code[0], code[1:]
	}
	if t, ok := numpyCodes[code]; ok {
		return t, order, nil
	}
	why := ""
	switch {
	case strings.HasPrefix(code, "O"):
		why = " (object arrays are not supported)"
	case strings.HasPrefix(code, "V"):
		why = " (structured dtypes are not supported)"
	case strings.HasPrefix(code, "U") || strings.HasPrefix(code, "S") || strings.HasPrefix(code, "a"):
		why = " (string arrays are not supported)"
	}
	return Invalid, 0, fmt.Errorf("unsupported numpy dtype %s%s", quoteNumPy(s), why)
}

// quoteNumPy quotes a type string for a message, as Python prints it
// ('<f8') when it is short printable ASCII, else Go-quoted and clipped.
func quoteNumPy(s string) string {
	if len(s) <= 40 && strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r > '~' || r == '\'' || r == '\\' }) < 0 {
		return "'" + s + "'"
	}
	if len(s) > 40 {
		return strconv.Quote(s[:37]) + "..."
	}
	return strconv.Quote(s)
}

// NumPy returns the NumPy type string of t as np.save writes it on a
// little-endian machine ('<f4', '|u1', ...), from the same table ParseNumPy
// reads; "" for Invalid.
func (t DType) NumPy() string {
	for code, d := range numpyCodes {
		if d == t && code != "?" {
			if t.Size() == 1 {
				return "|" + code
			}
			return "<" + code
		}
	}
	return ""
}
