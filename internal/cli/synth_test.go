package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainWithoutData trains on the built-in synthetic set: no file, no
// network. Its first line says so.
func TestTrainWithoutData(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := run(t, "train", "--steps", "2000", "--out", out)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	first, _, _ := strings.Cut(stderr, "\n")
	if !strings.Contains(first, "built-in synthetic galaxies") || !strings.Contains(first, "--data galaxy10") {
		t.Errorf("first line %q", first)
	}
	if !strings.Contains(stderr, "synth: 6000 images read (69x69x3, galaxy10 labels), 0 dropped by scheme course5") {
		t.Errorf("log: %s", stderr)
	}
	for _, f := range []string{"model", "accuracy.png", "metrics.json"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	var met map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	json.Unmarshal(b, &met)
	if met["scheme"] != "course5" || met["n_test"] != 600.0 || met["data"] != "synth" {
		t.Errorf("metrics %v", met)
	}
	if acc, _ := met["test_accuracy"].(float64); acc <= 0.25 {
		t.Errorf("test accuracy %v after 2000 steps: not learning; stdout %s", acc, stdout)
	}
}

func TestSynthCommand(t *testing.T) {
	dir := t.TempDir()
	h5 := filepath.Join(dir, "s.h5")
	png := filepath.Join(dir, "m.png")
	code, stdout, stderr := run(t, "synth", "--scheme", "galaxy10", "--n", "40", "--seed", "3", "--out", h5, "--montage", png, "--per-class", "3")
	if code != 0 {
		t.Fatalf("synth exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+h5) || !strings.Contains(stderr, "galaxies/s") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	if fi, err := os.Stat(png); err != nil || fi.Size() == 0 {
		t.Errorf("montage: %v", err)
	}
	code, stdout, stderr = run(t, "info", "--data", h5, "--scheme", "galaxy10", "--json")
	if code != 0 || !strings.Contains(stdout, `"read": 40`) || !strings.Contains(stdout, `"label_space": "galaxy10"`) {
		t.Errorf("info exit %d: %s %s", code, stdout, stderr)
	}
	// A DECaLS-layout file of 256 px cutouts reads back as Galaxy10 DECaLS.
	dec := filepath.Join(dir, "d.h5")
	code, stdout, stderr = run(t, "synth", "--scheme", "galaxy10-decals", "--size", "256", "--n", "10", "--out", dec)
	if code != 0 || !strings.Contains(stderr, "(256x256, seed 1)") {
		t.Fatalf("synth DECaLS exit %d: %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "info", "--data", dec, "--json")
	if code != 0 || !strings.Contains(stdout, `"label_space": "galaxy10-decals"`) || !strings.Contains(stdout, `"height": 256`) {
		t.Errorf("info DECaLS exit %d: %s %s", code, stdout, stderr)
	}
	// The built-in set by name.
	code, stdout, stderr = run(t, "info", "--data", "synth", "--json")
	if code != 0 || !strings.Contains(stdout, `"scheme": "course5"`) || !strings.Contains(stdout, `"n": 6000`) {
		t.Errorf("info --data synth exit %d: %s %s", code, stdout, stderr)
	}
}

func TestSynthErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "s.h5")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"synth", "--n", "0", "--out", out}, "0 galaxies"},
		{[]string{"synth", "--n", "-5", "--out", out}, "-5 galaxies"},
		{[]string{"synth", "--n", "3", "--out", out}, "one galaxy per class"},
		{[]string{"synth", "--scheme", "gz1", "--out", out}, `unknown scheme "gz1"`},
		{[]string{"synth", "--n", "10"}, "nothing to write"},
		{[]string{"synth", "--n", "10", "--out", filepath.Join(dir, "missing", "s.h5")}, "cannot write"},
		{[]string{"synth", "--n", "10", "--montage", filepath.Join(dir, "missing", "m.png")}, "cannot write"},
		{[]string{"synth", "--n", "10", "--montage", out + ".png", "--per-class", "0"}, "0 galaxies per class"},
		{[]string{"synth", "--n", "10", "--size", "8", "--out", out}, "cutouts of 8 pixels: want 16 to 512"},
		{[]string{"synth", "--n", "10", "--size", "1000", "--out", out}, "cutouts of 1000 pixels"},
		{[]string{"synth", "--n", "10", "--scheme", "galaxy10-decals", "--out", out}, "256x256"},
	} {
		code, _, stderr := run(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "panic") {
			t.Errorf("%v: exit %d, stderr %q (want one line with %q)", c.args, code, stderr, c.want)
		}
	}
	// A folder where the file should go: the atomic write fails in one line.
	os.Mkdir(out, 0o755)
	code, _, stderr := run(t, "synth", "--n", "5", "--out", out)
	if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
		t.Errorf("writing over a folder: exit %d, %q", code, stderr)
	}
}
