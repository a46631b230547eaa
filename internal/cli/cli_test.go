package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"galaxy/model"
)

// run calls the command line in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runTB(t, args...)
}

// runTB is run for tests and benchmarks.
func runTB(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, Env{Stdout: &o, Stderr: &e})
	return code, o.String(), e.String()
}

// npyBytes encodes a uint8 array in NumPy's .npy format.
func npyBytes(shape []int, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = fmt.Sprint(s)
	}
	st := strings.Join(dims, ", ")
	if len(shape) == 1 {
		st += ","
	}
	hdr := fmt.Sprintf("{'descr': '|u1', 'fortran_order': False, 'shape': (%s), }", st)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = append(b, byte(len(hdr)), byte(len(hdr)>>8))
	b = append(b, hdr...)
	return append(b, data...)
}

// writeNPZ writes a small learnable Galaxy10-layout data set: n 8x8x3
// images whose brightness pattern depends on the class (gz1 codes 0, 3, 5
// and a few 4s that morph4 drops).
func writeNPZ(t *testing.T, dir string, n, h int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	img := make([]byte, n*h*h*3)
	ans := make([]byte, n)
	codes := []byte{0, 3, 5, 0, 3, 5, 0, 4}
	for i := 0; i < n; i++ {
		c := codes[i%len(codes)]
		ans[i] = c
		for y := 0; y < h; y++ {
			for x := 0; x < h; x++ {
				v := rng.IntN(60)
				switch c {
				case 0:
					if (y-h/2)*(y-h/2)+(x-h/2)*(x-h/2) < h*h/8 {
						v += 150
					}
				case 3:
					if y == h/2 || y == h/2-1 {
						v += 150
					}
				case 5:
					if x < h/2 {
						v += 150
					}
				}
				for ch := 0; ch < 3; ch++ {
					img[((i*h+y)*h+x)*3+ch] = byte(v)
				}
			}
		}
	}
	p := filepath.Join(dir, "tiny.npz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, b := range map[string][]byte{"images.npy": npyBytes([]int{n, h, h, 3}, img), "ans.npy": npyBytes([]int{n}, ans)} {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestInfoJSON(t *testing.T) {
	p := writeNPZ(t, t.TempDir(), 80, 8)
	code, out, errOut := run(t, "info", "--data", p, "--labels", "gz1", "--scheme", "morph4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var info struct {
		N, Dropped, Height, Width, Channels int
		Classes                             []struct {
			Name        string
			Train, Test int
		}
		MajorityAccuracy float64 `json:"majority_accuracy"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err, out)
	}
	if info.N != 70 || info.Dropped != 10 || info.Height != 8 || info.Channels != 3 || len(info.Classes) != 4 {
		t.Errorf("info %+v", info)
	}
	if info.Classes[0].Train+info.Classes[0].Test != 30 || info.Classes[1].Train+info.Classes[1].Test != 0 {
		t.Errorf("classes %+v", info.Classes)
	}
	if !strings.Contains(errOut, "80 images read") || !strings.Contains(errOut, "10 dropped") {
		t.Errorf("log: %s", errOut)
	}
}

func TestTrainEvalShow(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 400, 8)
	out := filepath.Join(dir, "run")
	args := []string{"train", "--data", p, "--labels", "gz1", "--scheme", "morph4", "--channels", "g",
		"--steps", "3000", "--eval-every", "500", "--lr", "0.01", "--hidden", "10", "--seed", "3", "--out", out}
	code, stdout, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	for _, f := range []string{"model", "curve.csv", "accuracy.png", "accuracy.svg", "loss.png", "metrics.json"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	var met map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	json.Unmarshal(b, &met)
	acc := met["test_accuracy"].(float64)
	if acc < 0.9 {
		t.Errorf("test accuracy %v on an easy synthetic set; stdout %s", acc, stdout)
	}
	curve, _ := os.ReadFile(filepath.Join(out, "curve.csv"))
	if lines := strings.Count(string(curve), "\n"); lines != 7 {
		t.Errorf("curve has %d lines, want header + 6", lines)
	}
	// The model's card records the test figures and the day.
	mc, err := model.Load(filepath.Join(out, "model"))
	if err != nil {
		t.Fatal(err)
	}
	card := mc.Card()
	if card.TestAccuracy == nil || math.Abs(*card.TestAccuracy-acc) > 5e-5 || card.TestBalanced == nil || card.TestN == 0 || card.TrainN == 0 ||
		card.Trained != time.Now().UTC().Format(time.DateOnly) || card.Data != p || card.Arch != "seed-mlp" || card.Weights == 0 {
		t.Errorf("card %+v; metrics test accuracy %v", card, acc)
	}
	// Same seed, same curve and weights.
	out2 := filepath.Join(dir, "run2")
	args[len(args)-1] = out2
	if code, _, stderr := run(t, args...); code != 0 {
		t.Fatal(stderr)
	}
	c2, _ := os.ReadFile(filepath.Join(out2, "curve.csv"))
	m1, _ := os.ReadFile(filepath.Join(out, "model"))
	m2, _ := os.ReadFile(filepath.Join(out2, "model"))
	if !bytes.Equal(curve, c2) || !bytes.Equal(m1, m2) {
		t.Error("two runs with the same seed differ")
	}
	// eval reproduces the last recorded accuracy exactly.
	code, stdout, stderr = run(t, "eval", "--model", filepath.Join(out, "model"), "--data", p, "--labels", "gz1", "--json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var ev struct {
		Accuracy, BalancedAccuracy, Top2Accuracy float64
		N                                        int
		Confusion                                [][]int
	}
	json.Unmarshal([]byte(stdout), &ev)
	if ev.Accuracy != acc || ev.N == 0 || len(ev.Confusion) != 4 {
		t.Errorf("eval accuracy %v (n %d), training recorded %v", ev.Accuracy, ev.N, acc)
	}
	// show writes a picture.
	png := filepath.Join(dir, "g.png")
	code, stdout, stderr = run(t, "show", "--data", p, "--labels", "gz1", "--index", "1", "--out", png)
	if code != 0 || !strings.Contains(stdout, "edge-on disk") {
		t.Errorf("show exit %d: %s %s", code, stdout, stderr)
	}
	if fi, err := os.Stat(png); err != nil || fi.Size() == 0 {
		t.Error("show wrote no picture")
	}
}

// Bad input gets one line naming the problem and a non-zero exit.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 80, 8)
	out := filepath.Join(dir, "run")
	if code, _, stderr := run(t, "train", "--data", p, "--labels", "gz1", "--steps", "600", "--eval-every", "300", "--hidden", "4", "--out", out); code != 0 {
		t.Fatal(stderr)
	}
	model := filepath.Join(out, "model")
	mb, _ := os.ReadFile(model)
	trunc := filepath.Join(dir, "trunc.model")
	os.WriteFile(trunc, mb[:len(mb)/2], 0o644)
	other := filepath.Join(dir, "v2.model")
	mv := append([]byte(nil), mb...)
	mv[8] = 2
	os.WriteFile(other, mv, 0o644)
	big := writeNPZ(t, t.TempDir(), 40, 10)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"steps 0", []string{"train", "--data", p, "--labels", "gz1", "--steps", "0", "--out", filepath.Join(dir, "x")}, "0 steps: need at least 1"},
		{"batch 0", []string{"train", "--data", p, "--labels", "gz1", "--batch", "0", "--out", filepath.Join(dir, "x")}, "batch of 0"},
		{"epochs 0", []string{"train", "--arch", "cnn", "--data", p, "--labels", "gz1", "--epochs", "0", "--out", filepath.Join(dir, "x")}, "0 epochs: need at least 1"},
		{"epochs for seed-mlp", []string{"train", "--data", p, "--labels", "gz1", "--epochs", "0", "--out", filepath.Join(dir, "x")}, "--epochs is a setting of architectures cnn and cnn-ref"},
		{"negative lr", []string{"train", "--data", p, "--labels", "gz1", "--lr", "-0.1", "--out", filepath.Join(dir, "x")}, "learning rate -0.1"},
		{"hidden 0", []string{"train", "--data", p, "--labels", "gz1", "--hidden", "0", "--out", filepath.Join(dir, "x")}, "0 hidden units"},
		{"missing data", []string{"info", "--data", filepath.Join(dir, "nope.h5")}, "nope.h5: no such file"},
		{"truncated model", []string{"eval", "--model", trunc, "--data", p, "--labels", "gz1"}, "trunc.model"},
		{"model of another version", []string{"eval", "--model", other, "--data", p, "--labels", "gz1"}, "version 2"},
		{"image size differs", []string{"eval", "--model", model, "--data", big, "--labels", "gz1"}, "10x10"},
		{"unknown scheme", []string{"info", "--data", p, "--scheme", "zoo"}, "unknown class scheme"},
		{"index out of range", []string{"show", "--data", p, "--labels", "gz1", "--index", "999", "--out", filepath.Join(dir, "x.png")}, "--index 999 out of range"},
		{"unknown format", []string{"info", "--data", model}, "unknown data format"},
		{"resume with another model", []string{"train", "--arch", "cnn", "--resume", out}, "conflicts with the checkpoint's --arch seed-mlp"},
	}
	for _, c := range cases {
		code, stdout, stderr := run(t, c.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code == 0 || !strings.Contains(last, c.want) || !strings.HasPrefix(last, "galaxy: ") {
			t.Errorf("%s: exit %d, stderr %q (stdout %q); want an error line mentioning %q", c.name, code, stderr, stdout, c.want)
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
			t.Errorf("%s: stack trace: %s", c.name, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x", "model")); err == nil {
		t.Error("a refused run wrote a model")
	}
}
