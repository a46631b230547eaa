package predict

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/data/array"
	"galaxy/data/load"
	"galaxy/data/npy"
)

// writeNPZ writes n 69x69x3 images (each a pattern of its index) as a
// NumPy .npz with gz1 labels (code i%6, "don't know" included) and
// object ids, or as an unlabelled .npy of the images alone.
func writeNPZ(t *testing.T, path string, n int, labelled bool) {
	t.Helper()
	px := make([]byte, n*69*69*3)
	for i := range px {
		px[i] = byte((i*7 + i/(69*69*3)*31) % 251)
	}
	img := &array.Array{Shape: []int{n, 69, 69, 3}, DType: array.Uint8, Data: px}
	var b bytes.Buffer
	if !labelled {
		if err := npy.Write(&b, img); err != nil {
			t.Fatal(err)
		}
	} else {
		ans, ids := make([]byte, n), make([]byte, 0, 8*n)
		for i := range n {
			ans[i] = byte(i % 6)
			ids = binary.LittleEndian.AppendUint64(ids, 9000+uint64(i))
		}
		arrays := map[string]*array.Array{"images": img,
			"ans":   {Shape: []int{n}, DType: array.Uint8, Data: ans},
			"objid": {Shape: []int{n}, DType: array.Int64, Data: ids}}
		if err := npy.WriteNPZ(&b, []string{"images", "ans", "objid"}, arrays); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDataInputs classifies every image of a data file through Run: one
// row per image in file order, the dropped "don't know" images included,
// each with the class and probabilities the network gives its features
// prepared by data.Prepare (the path eval and training take).
func TestDataInputs(t *testing.T) {
	dir := t.TempDir()
	m := testModel(t)
	gz1 := []string{"Elliptical (smooth)", "Spiral, clockwise", "Spiral, anticlockwise", "Edge-on disk", "Don't know", "Merger"}
	for _, labelled := range []bool{true, false} {
		path := filepath.Join(dir, "set.npz")
		if !labelled {
			path = filepath.Join(dir, "set.npy")
		}
		writeNPZ(t, path, 23, labelled)
		src := load.DefaultSource()
		src.Path = path
		if labelled {
			src.Read.Labels = "gz1"
		}
		src.Prepare = m.Preparation()
		read, err := src.Raw(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := DataInputs(m, read)
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != 23 {
			t.Fatalf("%d images, want 23", d.Len())
		}
		var out bytes.Buffer
		w, _ := NewWriter(&out, FormatCSV, m.Meta.Classes, true, DataOutputColumns(m)...)
		var iterErr error
		if _, err := Run(context.Background(), Config{Model: m, Features: d.Features, Workers: 3, Batch: 5}, d.Items(), &iterErr, w); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 24 || strings.Join(rows[0][:4], ",") != "id,file,row,label" {
			t.Fatalf("%d rows, header %v", len(rows), rows[0])
		}
		// The reference: the file through data.Prepare with the gz1
		// scheme (which keeps "don't know"), the model's g channel.
		raw, err := load.File(path, src.Read)
		if err != nil {
			t.Fatal(err)
		}
		if !labelled {
			raw.Codes, raw.Space = make([]int, raw.N), "gz1"
		}
		ds, err := data.Prepare(raw, data.Options{Scheme: "gz1", Channels: "g"})
		if err != nil {
			t.Fatal(err)
		}
		all := ds.All()
		x, y := make([]float32, all.Dim()), make([]float32, all.Dim())
		z, p := make([]float32, m.K()), make([]float32, m.K())
		for i, r := range rows[1:] {
			id, label := strconv.Itoa(i), ""
			if labelled {
				id, label = strconv.Itoa(9000+i), gz1[i%6]
			}
			if r[0] != id || r[1] != path || r[2] != strconv.Itoa(i) || r[3] != label || r[len(r)-1] != "" {
				t.Fatalf("labelled %v: row %d: %v; want id %s, row %d, label %q", labelled, i, r[:4], id, i, label)
			}
			all.Features(i, x)
			if err := DataImage(m, raw, i, y); err != nil || !slices.Equal(x, y) {
				t.Fatalf("DataImage(%d): err %v, or other features than the file's", i, err)
			}
			m.Net.Logits(x, 1, z)
			m.Probabilities(z, p)
			for c := range p {
				if got := r[6+c]; got != fmtProb(p[c]) {
					t.Fatalf("labelled %v: row %d p_%d = %s, want %s", labelled, i, c, got, fmtProb(p[c]))
				}
			}
		}
	}
	// A file of another size than the model takes.
	src := load.DefaultSource()
	src.Path = filepath.Join(dir, "small.npy")
	var b bytes.Buffer
	npy.Write(&b, &array.Array{Shape: []int{2, 10, 10, 3}, DType: array.Uint8, Data: make([]byte, 600)})
	os.WriteFile(src.Path, b.Bytes(), 0o644)
	small, err := src.Raw(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DataInputs(m, small); err == nil || !strings.Contains(err.Error(), "10x10x1, the model takes 69x69x1") {
		t.Errorf("10x10 images: err %v", err)
	}
	small.C = 1
	if _, err := DataInputs(m, small); err == nil || !strings.Contains(err.Error(), "images have 1 channels, the model was trained on images of 3") {
		t.Errorf("one-channel images: err %v", err)
	}
}
