package pickle

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"galaxy/data/array"
)

func FuzzLoad(f *testing.F) {
	e := loadExpected(f)
	for _, name := range fixtureNames(e) {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte("]q\x00h\x00a."))
	f.Add([]byte("(cnumpy\ndtype\nS'f8'\no."))
	f.Add(new(pk).op("\x80\x04").array([]int{2, 3}, "i2", ">", true, make([]byte, 12)).op(".").b)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Load(bytes.NewReader(b))
		if err != nil {
			if v != nil {
				t.Fatal("value and error")
			}
			if s := err.Error(); strings.Contains(s, "\n") || !strings.HasPrefix(s, "pickle: ") {
				t.Fatalf("malformed error %q", s)
			}
			return
		}
		if err := checkValue(v, map[uintptr]bool{}, 0); err != nil {
			t.Fatal(err)
		}
	})
}

// checkValue walks a Load result: only the documented types, and arrays
// whose data matches their shape.
func checkValue(v any, seen map[uintptr]bool, depth int) error {
	if depth > maxDepth+1 {
		return fmt.Errorf("nested deeper than %d", maxDepth)
	}
	switch t := v.(type) {
	case nil, bool, int64, float64, string, []byte, array.DType:
	case *array.Array:
		return t.Check()
	case []any:
		if len(t) == 0 {
			return nil
		}
		p := reflect.ValueOf(t).Pointer()
		if seen[p] {
			return nil
		}
		seen[p] = true
		for _, x := range t {
			if err := checkValue(x, seen, depth+1); err != nil {
				return err
			}
		}
	case map[any]any:
		p := reflect.ValueOf(t).Pointer()
		if seen[p] {
			return nil
		}
		seen[p] = true
		for k, x := range t {
			switch k.(type) {
			case nil, bool, int64, float64, string:
			default:
				return fmt.Errorf("dict key of type %T", k)
			}
			if err := checkValue(x, seen, depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unexpected value of type %T", v)
	}
	return nil
}
