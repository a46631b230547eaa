package pickle

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

var errBigInt = errors.New("integer does not fit in int64 (big integers are not supported)")

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// parseTextInt parses the decimal argument of INT ("00" and "01" are
// Python 2's False and True) or LONG (with its optional "L" suffix).
func parseTextInt(b []byte, isInt bool) (any, error) {
	b = trimSpace(b)
	if isInt {
		switch string(b) {
		case "00":
			return false, nil
		case "01":
			return true, nil
		}
	} else if len(b) > 0 && (b[len(b)-1] == 'L' || b[len(b)-1] == 'l') {
		b = b[:len(b)-1]
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return nil, errBigInt
		}
		return nil, fmt.Errorf("malformed integer %q", clip(b))
	}
	return v, nil
}

// decodeLong decodes LONG1/LONG4's little-endian two's complement bytes.
func decodeLong(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	neg := b[len(b)-1]&0x80 != 0
	if len(b) > 8 {
		// Longer encodings fit only when the extra bytes are sign fill.
		fill := byte(0)
		if neg {
			fill = 0xff
		}
		for _, c := range b[8:] {
			if c != fill {
				return 0, errBigInt
			}
		}
		if (b[7]&0x80 != 0) != neg {
			return 0, errBigInt
		}
		b = b[:8]
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if neg && len(b) < 8 {
		u |= ^uint64(0) << (8 * len(b))
	}
	return int64(u), nil
}

func parseMemoKey(b []byte) (uint64, error) {
	v, err := strconv.ParseUint(string(trimSpace(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed memo key %q", clip(b))
	}
	return v, nil
}

// parseQuoted decodes STRING's argument, the repr of a Python 2 str: quoted
// with ' or ", backslash escapes as codecs.escape_decode knows them. The
// result holds the raw bytes.
func parseQuoted(b []byte) (string, error) {
	b = trimSpace(b)
	if len(b) < 2 || (b[0] != '\'' && b[0] != '"') || b[len(b)-1] != b[0] {
		return "", fmt.Errorf("STRING argument %q is not quoted", clip(b))
	}
	b = b[1 : len(b)-1]
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return "", errors.New("STRING argument ends in a backslash")
		}
		switch c = b[i]; c {
		case '\n':
			// line continuation
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(b) {
				return "", errors.New("truncated \\x escape in STRING")
			}
			v, err := strconv.ParseUint(string(b[i+1:i+3]), 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad \\x escape %q in STRING", b[i-1:i+3])
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(b[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, '\\', c)
		}
	}
	return string(out), nil
}

// rawUnicodeEscape decodes UNICODE's argument: latin-1 bytes where \uXXXX
// and \UXXXXXXXX stand for code points.
func rawUnicodeEscape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) && (b[i+1] == 'u' || b[i+1] == 'U') {
			n := 4
			if b[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(b) {
				if v, err := strconv.ParseUint(string(b[i+2:i+2+n]), 16, 32); err == nil {
					out = utf8.AppendRune(out, rune(v))
					i += 1 + n
					continue
				}
			}
		}
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}
