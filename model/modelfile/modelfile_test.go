package modelfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() (Meta, []Tensor) {
	meta := Meta{Arch: "seed-mlp", Scheme: "morph4", Classes: []string{"a", "b"},
		Input: Input{Height: 2, Width: 3, Channels: []int{2}, ChannelSpec: "g", SourceChannels: 3, Scale: 1.0 / 256},
		Hyper: map[string]int{"hidden": 2}}
	return meta, []Tensor{
		{Name: "W1", Shape: []int{2, 6}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -12.5}},
		{Name: "b1", Shape: []int{2}, Data: []float32{0.25, -1}},
	}
}

func encode(t *testing.T) []byte {
	meta, ts := sample()
	var buf bytes.Buffer
	if err := Encode(&buf, meta, ts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	meta, ts := sample()
	p := filepath.Join(dir, "model")
	if err := Write(p, meta, ts); err != nil {
		t.Fatal(err)
	}
	m2, t2, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Arch != meta.Arch || m2.Scheme != meta.Scheme || m2.Input.Scale != meta.Input.Scale || m2.Hyper["hidden"] != 2 || len(m2.Classes) != 2 {
		t.Errorf("meta %+v", m2)
	}
	w, err := Find(t2, "W1", 2, 6)
	if err != nil || w[11] != -12.5 || w[0] != 1 {
		t.Errorf("W1 %v %v", w, err)
	}
	if _, err := Find(t2, "W1", 6, 2); err == nil {
		t.Error("wrong shape accepted")
	}
	if _, err := Find(t2, "W9"); err == nil {
		t.Error("missing tensor found")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestRejectsDamage(t *testing.T) {
	good := encode(t)
	other := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(other[8:], 2)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x40
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":         {nil, "too short"},
		"not a model":   {[]byte("hello, this is not a model file"), "bad magic"},
		"other version": {other, "version 2"},
		"flipped bit":   {flipped, "checksum"},
	}
	for _, cut := range []int{20, 40, len(good) / 2, len(good) - 5, len(good) - 1} {
		cases[fmt.Sprintf("truncated at %d", cut)] = struct {
			data []byte
			want string
		}{good[:cut], ""}
	}
	for name, c := range cases {
		_, _, err := Decode(c.data)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", name, err, c.want)
		}
	}
}

func TestEncodeChecksShapes(t *testing.T) {
	meta, _ := sample()
	err := Encode(&bytes.Buffer{}, meta, []Tensor{{Name: "x", Shape: []int{3}, Data: []float32{1}}})
	if err == nil {
		t.Error("tensor with wrong length encoded")
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	meta, ts := sample()
	Encode(&buf, meta, ts)
	f.Add(buf.Bytes())
	f.Add([]byte("GALAXYMD"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Decode(b)
	})
}
