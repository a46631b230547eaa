package npy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The header of a .npy file is the repr of a Python dict. It is parsed here
// as a tiny subset of Python literal syntax (what ast.literal_eval would
// accept for it): dicts, tuples, lists, strings, integers, True, False and
// None. Nothing is ever evaluated.

type pyTuple []any
type pyList []any

// pyDict keeps its keys in order; keys are strings (numpy writes no others).
type pyDict struct {
	keys []string
	vals map[string]any
}

const maxLiteralDepth = 32

type literalParser struct {
	s     []byte
	pos   int
	depth int
}

func parseLiteral(s []byte) (any, error) {
	p := &literalParser{s: s}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, p.errorf("unexpected %q after the value", p.s[p.pos])
	}
	return v, nil
}

func (p *literalParser) errorf(format string, args ...any) error {
	return fmt.Errorf("header at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *literalParser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v', 0:
			// numpy pads with spaces and ends with '\n'; very old writers
			// padded with NULs.
			p.pos++
		default:
			return
		}
	}
}

func (p *literalParser) value() (any, error) {
	p.space()
	if p.pos >= len(p.s) {
		return nil, p.errorf("unexpected end")
	}
	if p.depth >= maxLiteralDepth {
		return nil, p.errorf("nesting too deep")
	}
	c := p.s[p.pos]
	switch {
	case c == '{':
		p.depth++
		defer func() { p.depth-- }()
		return p.dict()
	case c == '(' || c == '[':
		p.depth++
		defer func() { p.depth-- }()
		return p.sequence(c)
	case c == '\'' || c == '"':
		return p.str()
	case (c == 'u' || c == 'b' || c == 'U' || c == 'B') && p.pos+1 < len(p.s) && (p.s[p.pos+1] == '\'' || p.s[p.pos+1] == '"'):
		p.pos++
		return p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.integer()
	}
	start := p.pos
	for p.pos < len(p.s) && isIdent(p.s[p.pos]) {
		p.pos++
	}
	switch word := string(p.s[start:p.pos]); word {
	case "True":
		return true, nil
	case "False":
		return false, nil
	case "None":
		return nil, nil
	case "":
		return nil, p.errorf("unexpected %q", c)
	default:
		p.pos = start
		return nil, p.errorf("unexpected name %q (only literals are allowed)", word)
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *literalParser) dict() (any, error) {
	p.pos++ // '{'
	d := &pyDict{vals: map[string]any{}}
	for {
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			p.pos++
			return d, nil
		}
		kpos := p.pos
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			p.pos = kpos
			return nil, p.errorf("dict key %s is not a string", repr(k))
		}
		if _, dup := d.vals[ks]; dup {
			p.pos = kpos
			return nil, p.errorf("duplicate key %q", ks)
		}
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return nil, p.errorf("want ':' after dict key %q", ks)
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, ks)
		d.vals[ks] = v
		p.space()
		if p.pos >= len(p.s) {
			return nil, p.errorf("unterminated dict")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case '}':
		default:
			return nil, p.errorf("want ',' or '}' in dict, got %q", p.s[p.pos])
		}
	}
}

func (p *literalParser) sequence(open byte) (any, error) {
	closer := byte(')')
	if open == '[' {
		closer = ']'
	}
	p.pos++
	var items []any
	commas := 0
	for {
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == closer {
			p.pos++
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.space()
		if p.pos >= len(p.s) {
			return nil, p.errorf("unterminated %c", open)
		}
		if p.s[p.pos] == ',' {
			p.pos++
			commas++
			continue
		}
		if p.s[p.pos] != closer {
			return nil, p.errorf("want ',' or %q, got %q", closer, p.s[p.pos])
		}
	}
	if open == '[' {
		return pyList(items), nil
	}
	if len(items) == 1 && commas == 0 {
		return items[0], nil // (x) is x, not a tuple
	}
	if items == nil {
		items = []any{}
	}
	return pyTuple(items), nil
}

func (p *literalParser) integer() (any, error) {
	start := p.pos
	if p.s[p.pos] == '-' || p.s[p.pos] == '+' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '_') {
		p.pos++
	}
	if p.pos == digits {
		return nil, p.errorf("malformed number")
	}
	text := strings.ReplaceAll(string(p.s[start:p.pos]), "_", "")
	if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++ // Python 2 long, as numpy on Python 2 wrote shapes
	}
	if p.pos < len(p.s) && (isIdent(p.s[p.pos]) || p.s[p.pos] == '.') {
		return nil, p.errorf("unsupported number syntax")
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return nil, p.errorf("integer %s out of range", text)
		}
		return nil, p.errorf("malformed integer %q", text)
	}
	return n, nil
}

func (p *literalParser) str() (any, error) {
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.s) {
			return nil, p.errorf("unterminated string")
		}
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\n':
			return nil, p.errorf("newline in string")
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		if p.pos >= len(p.s) {
			return nil, p.errorf("unterminated string")
		}
		e := p.s[p.pos]
		p.pos++
		switch e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'x':
			if p.pos+2 > len(p.s) {
				return nil, p.errorf("truncated \\x escape")
			}
			v, err := strconv.ParseUint(string(p.s[p.pos:p.pos+2]), 16, 8)
			if err != nil {
				return nil, p.errorf("bad \\x escape")
			}
			b.WriteByte(byte(v))
			p.pos += 2
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
}

// repr formats a parsed literal back in Python syntax, for error messages.
func repr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		q := strconv.Quote(v)
		q = strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
		return "'" + strings.ReplaceAll(q, "'", `\'`) + "'"
	case pyTuple:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = repr(x)
		}
		if len(v) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case pyList:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = repr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *pyDict:
		parts := make([]string, len(v.keys))
		for i, k := range v.keys {
			parts[i] = repr(k) + ": " + repr(v.vals[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("%v", v)
}
