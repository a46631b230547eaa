package train

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/modelfile"
	"galaxy/model/seed"
)

// split returns a small learnable split: n 4x4 images of 3 classes.
func split(n int, s uint64) *data.Split {
	r := rand.New(rand.NewPCG(s, 9))
	sp := &data.Split{H: 4, W: 4, C: 1, Pixels: make([]uint8, n*16), Labels: make([]int, n)}
	for i := range n {
		c := i % 3
		sp.Labels[i] = c
		for j := range 16 {
			v := r.IntN(80)
			if j%3 == c {
				v += 150
			}
			sp.Pixels[i*16+j] = uint8(v)
		}
	}
	return sp
}

func newModel(t *testing.T, src *rand.PCG) (*seed.Net, *model.Model) {
	t.Helper()
	net, err := seed.New(16, 5, 3, rand.New(src))
	if err != nil {
		t.Fatal(err)
	}
	m := &model.Model{Net: net, Meta: modelfile.Meta{Arch: seed.Name, Scheme: "x", Classes: []string{"a", "b", "c"},
		Input: modelfile.Input{Height: 4, Width: 4, Channels: []int{0}, SourceChannels: 1, Scale: data.Scale},
		Hyper: map[string]int{"hidden": 5}, Info: map[string]string{}}}
	return net, m
}

func weights(net *seed.Net) []float32 {
	p := net.Params()
	return slices.Concat(p.W1, p.B1, p.W2, p.B2)
}

// TestResumeIsExact resumes from every checkpoint of a run, read back from
// disk, and checks that each ends with the uninterrupted run's weights and
// curve bit for bit, in vector and batch modes.
func TestResumeIsExact(t *testing.T) {
	tr, te := split(60, 1), split(30, 2)
	for i, cfg := range []sgdConfig{
		{Steps: 3000, LR: 0.01, EvalEvery: 400, Batch: 1},
		{Steps: 1000, LR: 0.01, EvalEvery: 300, Batch: 4, Mode: seed.Loop},
		{Steps: 1000, LR: 0.01, EvalEvery: 300, Batch: 3, Mode: seed.Vector},
	} {
		dir := t.TempDir()
		src := NewPCG(uint64(7 + min(i, 1)))
		net, m := newModel(t, src)
		var saved []string
		ck := Checkpointing{Every: 250, Save: func(st *State) error {
			p := filepath.Join(dir, "ck"+string(rune('a'+len(saved))))
			saved = append(saved, p)
			return WriteCheckpoint(p, m, st)
		}}
		ref, err := sgd(context.Background(), net, tr, te, cfg, rand.New(src), src, ck, Observer{})
		if err != nil {
			t.Fatal(err)
		}
		want := weights(net)
		if len(saved) != cfg.Steps/250 {
			t.Fatalf("%d checkpoints, want %d", len(saved), cfg.Steps/250)
		}
		for _, p := range saved {
			m2, st, err := ReadCheckpoint(p)
			if err != nil {
				t.Fatal(err)
			}
			src2, err := st.RestorePCG()
			if err != nil {
				t.Fatal(err)
			}
			net2 := m2.Net.(*seed.Net)
			res, err := sgd(context.Background(), net2, tr, te, cfg, rand.New(src2), src2, Checkpointing{From: st, Every: 250, Save: func(*State) error { return nil }}, Observer{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(weights(net2), want) {
				t.Errorf("%+v: resumed from step %d: weights differ from the uninterrupted run", cfg, st.Step)
			}
			if !slices.Equal(res.Curve, ref.Curve) || res.Steps != ref.Steps {
				t.Errorf("%+v: resumed from step %d: curve differs:\n%v\n%v", cfg, st.Step, res.Curve, ref.Curve)
			}
		}
	}
}

// failAfter fails every write once n bytes have gone through, as a full disk does.
type failAfter struct {
	w io.Writer
	n int
}

var errFull = errors.New("no space left on device (injected)")

func (f *failAfter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		k, _ := f.w.Write(b[:f.n])
		f.n = 0
		return k, errFull
	}
	f.n -= len(b)
	return f.w.Write(b)
}

// TestFullDiskKeepsCheckpoint fails the write of a checkpoint part way (a
// full disk) and checks the run stops with a clear error and the previous
// checkpoint still loads with its state.
func TestFullDiskKeepsCheckpoint(t *testing.T) {
	tr, te := split(60, 1), split(30, 2)
	cfg := sgdConfig{Steps: 1000, LR: 0.01, EvalEvery: 100, Batch: 1}
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint")
	src := NewPCG(3)
	net, m := newModel(t, src)
	saves := 0
	ck := Checkpointing{Every: 200, Save: func(st *State) error {
		saves++
		if saves == 3 {
			writeHook = func(w io.Writer) io.Writer { return &failAfter{w: w, n: 100} }
			defer func() { writeHook = nil }()
		}
		return WriteCheckpoint(path, m, st)
	}}
	_, err := sgd(context.Background(), net, tr, te, cfg, rand.New(src), src, ck, Observer{})
	if err == nil || !errors.Is(err, errFull) || !strings.Contains(err.Error(), "checkpoint at step 600") {
		t.Fatalf("error %v, want the injected full disk at step 600", err)
	}
	_, st, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatalf("previous checkpoint after a failed write: %v", err)
	}
	if st.Step != 400 {
		t.Errorf("checkpoint at step %d, want 400", st.Step)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after the failed write, want 1", len(entries))
	}
}

// TestCheckpointDamage: a damaged or missing checkpoint is refused clearly.
func TestCheckpointDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint")
	if _, _, err := ReadCheckpoint(path); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("missing checkpoint: %v", err)
	}
	src := NewPCG(1)
	_, m := newModel(t, src)
	b, _ := src.MarshalBinary()
	if err := WriteCheckpoint(path, m, &State{Step: 5, RNG: b, LossSum: 1}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	raw[len(raw)/2] ^= 1
	os.WriteFile(path, raw, 0o644)
	if _, _, err := ReadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged checkpoint: %v", err)
	}
	if err := m.Save(path); err != nil { // a plain model is no checkpoint
		t.Fatal(err)
	}
	if _, _, err := ReadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("model without state: %v", err)
	}
}

func TestDataSumSeesChanges(t *testing.T) {
	a, b := split(10, 1), split(10, 1)
	if DataSum(a, b) != DataSum(b, a) {
		t.Fatal("same data, different sums")
	}
	b.Pixels[3]++
	if DataSum(a, a) == DataSum(a, b) {
		t.Error("changed pixel not seen")
	}
	b.Pixels[3]--
	b.Labels[2]++
	if DataSum(a, a) == DataSum(a, b) {
		t.Error("changed label not seen")
	}
}
