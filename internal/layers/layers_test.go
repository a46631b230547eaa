package layers

import (
	"os/exec"
	"strings"
	"testing"
)

// layer is each package's place, bottom (0) to top: data in, models,
// training and evaluation, output, commands.
var layer = map[string]int{
	// Leaves: numerics, file helpers, label spaces, image decoders.
	"galaxy/num": 0, "galaxy/internal/atomicfile": 0, "galaxy/internal/shared": 0, "galaxy/internal/testimg": 0,
	"galaxy/internal/layers": 0, "galaxy/data/scheme": 0, "galaxy/data/array": 0, "galaxy/data/cutout": 0,
	"galaxy/data/fits": 0, "galaxy/data/fetch": 0, "galaxy/eval": 0,
	// The in-memory data types; the data-set file formats.
	"galaxy/data": 1, "galaxy/data/hdf5": 1, "galaxy/data/npy": 1, "galaxy/data/pickle": 1,
	// Reading data sets; drawing; the model file format.
	"galaxy/data/load": 3, "galaxy/internal/nongalaxy": 3, "galaxy/data/synth": 2, "galaxy/render": 2, "galaxy/plot": 2, "galaxy/model/modelfile": 2,
	// Models: the registry, the ONNX writer, the architectures, all of them.
	"galaxy/model": 3, "galaxy/model/onnx": 4, "galaxy/model/seed": 5, "galaxy/model/cnn": 5, "galaxy/model/archs": 6,
	// The model that ships in the binary.
	"galaxy/model/builtin": 7,
	// Training and applying models.
	"galaxy/train": 8, "galaxy/predict": 8,
	// Output: the report, the speed figures, similar galaxies; the service
	// and its web page, which show similar galaxies.
	"galaxy/report": 9, "galaxy/bench": 9, "galaxy/similar": 9, "galaxy/serve": 10,
	// Commands.
	"galaxy/internal/cli": 11, "galaxy/cmd/galaxy": 12, "galaxy/scripts/finetuneplot": 12,
}

// readers are the data-set file readers: only what reads data sets may
// link them.
var readers = []string{"galaxy/data/hdf5", "galaxy/data/pickle", "galaxy/data/npy", "galaxy/data/load"}

// noReaders are the packages that classify images or write models and must
// not link the readers (a server or an exporter has no data sets to read).
var noReaders = []string{"galaxy/model", "galaxy/model/onnx", "galaxy/model/seed", "galaxy/model/cnn", "galaxy/model/archs", "galaxy/model/builtin", "galaxy/predict", "galaxy/serve"}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the packages")
	}
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestImportsRunDownward fails when a package imports one of its own layer
// or above, or when a package is not in the table.
func TestImportsRunDownward(t *testing.T) {
	for _, line := range goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "galaxy/...") {
		f := strings.Fields(line)
		pkg, lp := f[0], -1
		l, ok := layer[pkg]
		if !ok {
			t.Errorf("%s has no layer: add it to the table in internal/layers", pkg)
			continue
		}
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, "galaxy/") {
				continue
			}
			if lp = layer[imp]; lp >= l {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must run downward", pkg, l, imp, lp)
			}
		}
	}
}

// readerAllowed lets a package link one reader for a file that is no data
// set: serve reads the .npz index of representations (package similar)
// with data/npy.
var readerAllowed = map[string]string{"galaxy/serve": "galaxy/data/npy"}

// TestModelsLinkNoReaders fails when a model, the exporter, predict or
// serve links a data-set reader, directly or not.
func TestModelsLinkNoReaders(t *testing.T) {
	for _, pkg := range noReaders {
		for _, dep := range goList(t, "-deps", pkg) {
			for _, r := range readers {
				if dep == r && readerAllowed[pkg] != r {
					t.Errorf("%s links the reader %s", pkg, r)
				}
			}
		}
	}
}
