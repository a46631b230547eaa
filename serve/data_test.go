package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/data/array"
	"galaxy/data/load"
	"galaxy/data/npy"
	"galaxy/predict"
	"galaxy/similar"
)

// writeImages writes n 69x69x3 images, each a pattern of its index, as an
// unlabelled NumPy .npy file.
func writeImages(t *testing.T, path string, n int) {
	t.Helper()
	px := make([]byte, n*69*69*3)
	for i := range px {
		px[i] = byte((i*13 + i/(69*69*3)*41) % 253)
	}
	var b bytes.Buffer
	if err := npy.Write(&b, &array.Array{Shape: []int{n, 69, 69, 3}, DType: array.Uint8, Data: px}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDataFileImages: the web page shows the images of a data file that a
// catalog (predict --data) and an index (embed --data) were made from: the
// thumbnails are the file's images, the prepared view is what predict
// classified, and without the file read those rows say so.
func TestDataFileImages(t *testing.T) {
	dir := t.TempDir()
	m := testModel(t)
	path := filepath.Join(dir, "set.npy")
	writeImages(t, path, 12)
	read := func(path string) *data.Raw {
		t.Helper()
		src := load.DefaultSource()
		src.Path, src.Prepare = path, m.Preparation()
		raw, err := src.Raw(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	raw := read(path)
	d, err := predict.DataInputs(m, raw)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := predict.NewWriter(&buf, predict.FormatCSV, m.Meta.Classes, true, predict.DataOutputColumns(m)...)
	var iterErr error
	if _, err := predict.Run(context.Background(), predict.Config{Model: m, Features: d.Features}, d.Items(), &iterErr, w); err != nil {
		t.Fatal(err)
	}
	catPath := filepath.Join(dir, "pred.csv")
	os.WriteFile(catPath, buf.Bytes(), 0o644)
	cat, err := OpenCatalog(catPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if cat.DataFile() != path {
		t.Fatalf("catalog's data file %q, want %q", cat.DataFile(), path)
	}
	// An index of the file's images in reverse order, as embed --data makes
	// (ids, no files); the odd rows' ids are not the catalog's.
	ix := &similar.Index{Dim: 2, Data: path, Model: "test", Classes: []string{"x"}}
	for r := range 12 {
		id := strconv.Itoa(11 - r)
		if r%2 == 1 {
			id = "other" + id
		}
		ix.Vectors = append(ix.Vectors, float32(r%3), float32(r%4))
		ix.IDs, ix.Files, ix.Labels = append(ix.IDs, id), append(ix.Files, ""), append(ix.Labels, 0)
		ix.Rows, ix.Parts, ix.Novelty = append(ix.Rows, 11-r), append(ix.Parts, similar.PartTrain), append(ix.Novelty, 0)
	}
	ix.SetCenter()
	if f, err := DataFile(cat, ix); err != nil || f != path {
		t.Fatalf("DataFile: %q, %v; want %q", f, err, path)
	}
	ts, s := newTestServer(t, Options{Catalog: cat, Index: ix, Data: raw, ModelName: "test"})
	same := func(what, url string, want int) {
		t.Helper()
		code, ct, b := fetchURL(t, ts.URL+url)
		img, err := png.Decode(bytes.NewReader(b))
		if code != 200 || ct != "image/png" || err != nil || img.Bounds().Dx() != 69 {
			t.Fatalf("%s: %d %s %v", what, code, ct, err)
		}
		for _, p := range [][2]int{{0, 0}, {10, 20}, {68, 41}} {
			r, g, bl, _ := img.At(p[0], p[1]).RGBA()
			px := raw.Image(want)[(p[1]*69+p[0])*3:]
			if byte(r>>8) != px[0] || byte(g>>8) != px[1] || byte(bl>>8) != px[2] {
				t.Fatalf("%s: pixel %v is %d,%d,%d; image %d of the file has %v", what, p, r>>8, g>>8, bl>>8, want, px[:3])
			}
		}
	}
	same("catalog thumb", "/v1/catalog/3/thumb?size=100", 3)
	same("index thumb", "/v1/index/4/thumb?size=100", 7)
	x := make([]float32, m.Dim())
	if err := predict.DataImage(m, raw, 5, x); err != nil {
		t.Fatal(err)
	}
	want, _ := preparedPNG(s.prep, x)
	if code, _, b := fetchURL(t, ts.URL+"/v1/catalog/5/prepared"); code != 200 || !bytes.Equal(b, want) {
		t.Errorf("prepared: %d, not the features predict classified", code)
	}
	// Catalog row 3 is index row 8; its neighbours outside the catalog get
	// the index's thumbnails, drawn from the file.
	code, _, b := fetchURL(t, ts.URL+"/v1/catalog/3/similar?k=11")
	var nb Neighbours
	if code != 200 || json.Unmarshal(b, &nb) != nil || len(nb.Neighbours) != 11 {
		t.Fatalf("similar: %d %s", code, b)
	}
	fromIndex := 0
	for _, n := range nb.Neighbours {
		if strings.HasPrefix(n.ID, "other") {
			if n.Row != nil || !strings.HasPrefix(n.Thumb, "/v1/index/") {
				t.Errorf("neighbour %+v outside the catalog: want an index thumbnail", n)
			}
			fromIndex++
		}
	}
	if fromIndex != 6 {
		t.Errorf("%d neighbours outside the catalog, want 6", fromIndex)
	}

	// Without the file read: the rows say so.
	ts2, _ := newTestServer(t, Options{Catalog: cat, Index: ix, ModelName: "test"})
	for _, u := range []string{"/v1/catalog/3/thumb", "/v1/catalog/3/prepared", "/v1/index/4/thumb"} {
		if code, _, b := fetchURL(t, ts2.URL+u); code != 404 || !bytes.Contains(b, []byte("did not read")) {
			t.Errorf("%s without the data file: %d %s", u, code, b)
		}
	}
	// A file with fewer images than the catalog or index names, one of
	// another size, and two files.
	short := filepath.Join(dir, "short.npy")
	writeImages(t, short, 5)
	for _, o := range []Options{{Catalog: cat}, {Index: ix}} {
		o.Data = read(short)
		if _, err := New(m, o); err == nil || !strings.Contains(err.Error(), "made from another file") {
			t.Errorf("5 images for rows of 12: err %v", err)
		}
	}
	small := filepath.Join(dir, "small.npy")
	var b2 bytes.Buffer
	npy.Write(&b2, &array.Array{Shape: []int{2, 10, 10, 3}, DType: array.Uint8, Data: make([]byte, 600)})
	os.WriteFile(small, b2.Bytes(), 0o644)
	if _, err := New(m, Options{Data: read(small)}); err == nil || !strings.Contains(err.Error(), "the model takes 69x69x1") {
		t.Errorf("10x10 images: err %v", err)
	}
	ix.Data = short
	if _, err := DataFile(cat, ix); err == nil || !strings.Contains(err.Error(), "name the data file") {
		t.Errorf("catalog and index of two files: err %v", err)
	}
	if f, err := DataFile(nil, ix); f != short || err != nil {
		t.Errorf("index alone: %q %v", f, err)
	}
	if f, err := DataFile(nil, nil); f != "" || err != nil {
		t.Errorf("nothing: %q %v", f, err)
	}
}
