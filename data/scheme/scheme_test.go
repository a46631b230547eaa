package scheme

import "testing"

func TestMaps(t *testing.T) {
	cases := []struct {
		scheme, space string
		code, class   int
		keep, err     bool
	}{
		{"course5", "galaxy10", 0, 0, true, false},
		{"course5", "galaxy10", 4, 3, true, false},
		{"course5", "galaxy10", 7, 4, true, false},
		{"course5", "galaxy10", 3, 0, false, false},
		{"course5", "galaxy10", 9, 0, false, false},
		{"course5", "galaxy10", 10, 0, false, true},
		{"course5", "course5", 3, 3, true, false}, // the pickle's labels are course5 already
		{"course5", "course5", 5, 0, false, true},
		{"morph4", "gz1", 1, 1, true, false},
		{"morph4", "gz1", 2, 1, true, false},
		{"morph4", "gz1", 3, 2, true, false},
		{"morph4", "gz1", 4, 0, false, false},
		{"morph4", "gz1", 5, 3, true, false},
		{"morph4", "gz1", 6, 0, false, true},
		{"morph4", "galaxy10", 1, 0, false, true},
		{"spiral", "spiral", 1, 1, true, false},
		{"gz1", "gz1", 4, 4, true, false},
		{"galaxy10", "galaxy10", 9, 9, true, false},
		{"galaxy10", "galaxy10", -1, 0, false, true},
	}
	for _, c := range cases {
		s, err := Get(c.scheme)
		if err != nil {
			t.Fatal(err)
		}
		cls, keep, err := s.Class(c.space, c.code)
		if (err != nil) != c.err || keep != c.keep || (keep && cls != c.class) {
			t.Errorf("%s from %s code %d: class %d keep %v err %v; want %d %v err=%v", c.scheme, c.space, c.code, cls, keep, err, c.class, c.keep, c.err)
		}
	}
}

func TestGet(t *testing.T) {
	if _, err := Get("nope"); err == nil {
		t.Error("unknown scheme accepted")
	}
	a, _ := Get("galaxy10")
	a.Classes[0] = "changed"
	b, _ := Get("galaxy10")
	if b.Classes[0] == "changed" {
		t.Error("Get returns shared state")
	}
	for _, n := range Names() {
		s, _ := Get(n)
		if len(s.Classes) < 2 {
			t.Errorf("%s: %d classes", n, len(s.Classes))
		}
		for code, c := range s.Map {
			if c != Drop && (c < 0 || c >= s.K()) {
				t.Errorf("%s: code %d maps to %d", n, code, c)
			}
		}
	}
	if k := map[string]int{"galaxy10": 10, "course5": 5, "gz1": 6, "morph4": 4, "spiral": 2}; true {
		for n, want := range k {
			if s, _ := Get(n); s.K() != want {
				t.Errorf("%s has %d classes, want %d", n, s.K(), want)
			}
		}
	}
}
