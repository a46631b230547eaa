package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/model"
)

func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	mpath := writeSeedModel(t, dir)
	out := filepath.Join(dir, "model.onnx")
	code, stdout, stderr := run(t, "export", "--model", mpath, "--format", "onnx", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, "[N, 69, 69, 1]") {
		t.Errorf("stdout %q", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// A ModelProto starts with ir_version (field 1, varint) = 8 and names its producer.
	classes, _ := json.Marshal([]string{"smooth", "face-on spiral", "edge-on disk", "merger"})
	if !bytes.HasPrefix(b, []byte{0x08, 8}) || !bytes.Contains(b, []byte("galaxy")) || !bytes.Contains(b, classes) {
		t.Errorf("%s does not look like the exported ONNX model (%d bytes)", out, len(b))
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(ents) > 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// TestExportCNN trains a tiny cnn (with TTA, the default) and exports it.
func TestExportCNN(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 160, 12)
	rdir := filepath.Join(dir, "run")
	code, _, stderr := run(t, "train", "--data", p, "--labels", "gz1", "--scheme", "morph4", "--arch", "cnn",
		"--widths", "4,8", "--epochs", "1", "--seed", "2", "--out", rdir)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "cnn.onnx")
	code, stdout, stderr := run(t, "export", "--model", filepath.Join(rdir, "model"), "--out", out)
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, "cnn with TTA") || !strings.Contains(stdout, "[N, 12, 12, 3]") {
		t.Errorf("stdout %q", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	classes, _ := json.Marshal([]string{"smooth", "face-on spiral", "edge-on disk", "merger"})
	for _, s := range [][]byte{{0x08, 8}, []byte("galaxy_cnn"), classes, []byte("Conv"), []byte("MaxPool"), []byte("ReduceMean")} {
		if !bytes.Contains(b, s) {
			t.Errorf("%s lacks %q (%d bytes)", out, s, len(b))
		}
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	mpath := writeSeedModel(t, dir)
	// A model file of an architecture galaxy does not know (model.Load
	// refuses it; onnx.Export's own refusal is tested in model/onnx).
	unknown := filepath.Join(dir, "resnet")
	m, err := model.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	m.Meta.Arch = "resnet"
	if err := m.Save(unknown); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.onnx")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--model", mpath, "--format", "tflite", "--out", out}, `--format "tflite"`},
		{[]string{"export", "--model", mpath}, "--out"},
		{[]string{"export", "--out", out}, "--model"},
		{[]string{"export", "--model", filepath.Join(dir, "missing"), "--out", out}, "missing"},
		{[]string{"export", "--model", unknown, "--out", out}, `"resnet"`},
		{[]string{"export", "--model", mpath, "--out", filepath.Join(dir, "no", "such", "x.onnx")}, "x.onnx"},
	} {
		code, _, stderr := run(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want one line with %q", c.args, code, stderr, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written despite the errors", out)
	}
}
