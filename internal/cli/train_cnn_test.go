package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainCNNLogitAdjust trains a tiny cnn with each --logit-adjust mode
// and checks that the tau is reported, recorded in metrics.json, and part
// of the saved model: galaxy eval of the model gives train's test figures.
func TestTrainCNNLogitAdjust(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 200, 12)
	for _, mode := range []string{"auto", "none", "0.7"} {
		rdir := filepath.Join(dir, "run-"+mode)
		code, stdout, stderr := run(t, "train", "--data", p, "--labels", "gz1", "--scheme", "morph4", "--arch", "cnn",
			"--widths", "4,8", "--epochs", "2", "--seed", "3", "--logit-adjust", mode, "--tta=false", "--out", rdir)
		if code != 0 {
			t.Fatalf("%s: train exit %d: %s", mode, code, stderr)
		}
		if mode == "auto" && !strings.Contains(stderr, "logit adjustment: tau ") {
			t.Errorf("%s: stderr lacks the chosen tau: %s", mode, stderr)
		}
		b, err := os.ReadFile(filepath.Join(rdir, "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Tau      *float64 `json:"logit_adjust_tau"`
			Acc      float64  `json:"test_accuracy"`
			Balanced *float64 `json:"test_balanced_accuracy"`
			Temp     *float64 `json:"temperature"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Tau == nil || m.Balanced == nil || m.Temp == nil {
			t.Fatalf("%s: metrics.json %s (%v)", mode, b, err)
		}
		if (mode == "none" && *m.Tau != 0) || (mode == "0.7" && *m.Tau != 0.7) || *m.Tau < 0 || *m.Tau > 1 {
			t.Errorf("%s: tau %v", mode, *m.Tau)
		}
		code, out, stderr := run(t, "eval", "--model", filepath.Join(rdir, "model"), "--data", p, "--labels", "gz1", "--json")
		if code != 0 {
			t.Fatalf("%s: eval exit %d: %s", mode, code, stderr)
		}
		var e struct {
			Accuracy float64   `json:"accuracy"`
			Balanced float64   `json:"balanced_accuracy"`
			ECE      *float64  `json:"ece"`
			ECERaw   *float64  `json:"ece_uncalibrated"`
			AP       []float64 `json:"average_precision"`
		}
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatalf("%s: eval output %q: %v", mode, out, err)
		}
		if e.ECE == nil || e.ECERaw == nil || len(e.AP) != 4 || *m.Temp <= 0 || (*m.Temp != 1) == (*e.ECE == *e.ECERaw) {
			t.Errorf("%s: eval's calibration: ece %v, uncalibrated %v, AP %v, the model's temperature %v", mode, e.ECE, e.ECERaw, e.AP, *m.Temp)
		}
		if e.Accuracy != m.Acc || e.Balanced != *m.Balanced {
			t.Errorf("%s: eval of the saved model %v/%v, train reported %v/%v", mode, e.Accuracy, e.Balanced, m.Acc, *m.Balanced)
		}
		_ = stdout
	}
	code, _, stderr := run(t, "train", "--data", p, "--labels", "gz1", "--arch", "cnn", "--logit-adjust", "lots", "--out", filepath.Join(dir, "bad"))
	if code == 0 || !strings.Contains(stderr, `logit adjustment "lots"`) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("bad --logit-adjust: exit %d, stderr %q", code, stderr)
	}
}

// TestTrainCNNCropConvsRotate trains a tiny cnn that sees a central crop,
// has two convolutions in its second block and is augmented by any
// rotation and zoom; the saved model keeps its shape (galaxy eval gives
// train's figures), and bad values of the new flags are one-line errors.
func TestTrainCNNCropConvsRotate(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 200, 12)
	rdir := filepath.Join(dir, "run")
	code, _, stderr := run(t, "train", "--data", p, "--labels", "gz1", "--scheme", "morph4", "--arch", "cnn",
		"--widths", "4,8", "--convs", "1,2", "--crop", "8", "--rotate", "--zoom", "1.1", "--epochs", "2", "--seed", "3", "--out", rdir)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(rdir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Acc   float64 `json:"test_accuracy"`
		Crop  int     `json:"crop"`
		Convs []int   `json:"convs"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Crop != 8 || len(m.Convs) != 2 || m.Convs[1] != 2 {
		t.Fatalf("metrics.json %s (%v)", b, err)
	}
	code, out, stderr := run(t, "eval", "--model", filepath.Join(rdir, "model"), "--data", p, "--labels", "gz1", "--json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var e struct {
		Accuracy float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Accuracy != m.Acc {
		t.Errorf("eval of the saved model %q (%v), train reported %v", out, err, m.Acc)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--widths", "4,8", "--convs", "1"}, "1 convolution counts for 2 blocks"},
		{[]string{"--widths", "4,8", "--convs", "1,x"}, `"1,x"`},
		{[]string{"--crop", "7"}, "crop 7 of 12x12 images"},
		{[]string{"--crop", "20"}, "crop 20 of 12x12 images"},
		{[]string{"--rotate", "--zoom", "3"}, "zoom 3: must be from 1"},
		{[]string{"--width", "0"}, "--width 0 --depth 4: need a width of 1 to 1024"},
	} {
		args := append([]string{"train", "--data", p, "--labels", "gz1", "--arch", "cnn", "--out", filepath.Join(dir, "bad")}, c.args...)
		code, _, stderr := run(t, args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code == 0 || !strings.HasPrefix(last, "galaxy: ") || !strings.Contains(last, c.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q, want a last line galaxy: ... %q", c.args, code, stderr, c.want)
		}
	}
}
