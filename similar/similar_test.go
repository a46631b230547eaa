package similar

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/data/load"
	"galaxy/model"
	"galaxy/model/cnn"
	"galaxy/predict"
)

func randomIndex(n, d int, seed uint64) *Index {
	rng := rand.New(rand.NewPCG(seed, 1))
	ix := &Index{Dim: d, Classes: []string{"a", "b"}}
	for r := range n {
		for range d {
			ix.Vectors = append(ix.Vectors, float32(rng.NormFloat64()))
		}
		ix.IDs = append(ix.IDs, strconv.Itoa(1000+r))
		ix.Files = append(ix.Files, "")
		ix.Labels = append(ix.Labels, r%3-1)
		ix.Rows = append(ix.Rows, r)
		ix.Parts = append(ix.Parts, r%2)
		ix.Novelty = append(ix.Novelty, float64(r)/7)
	}
	ix.Center = make([]float32, d) // uncentred: Search's cosine is the plain one
	return ix
}

// TestSearchMatchesBruteForce checks Search against cosine similarities
// computed in float64 and fully sorted, on odd sizes, with a filter.
func TestSearchMatchesBruteForce(t *testing.T) {
	for _, tc := range []struct{ n, d, k int }{{1, 1, 1}, {7, 3, 3}, {300, 17, 10}, {5000, 33, 25}, {10, 4, 20}} {
		ix := randomIndex(tc.n, tc.d, uint64(tc.n))
		q := ix.Vectors[:tc.d] // row 0 queries
		keep := func(r int) bool { return r%5 != 3 }
		type scored struct {
			r int
			s float64
		}
		var want []scored
		var qq float64
		for _, v := range q {
			qq += float64(v) * float64(v)
		}
		for r := range tc.n {
			if !keep(r) {
				continue
			}
			var dot, vv float64
			for j := range tc.d {
				a, b := float64(q[j]), float64(ix.Vectors[r*tc.d+j])
				dot += a * b
				vv += b * b
			}
			want = append(want, scored{r, dot / math.Sqrt(qq*vv)})
		}
		sort.SliceStable(want, func(i, j int) bool { return want[i].s > want[j].s })
		got := ix.Search(q, tc.k, keep)
		if len(got) != min(tc.k, len(want)) {
			t.Fatalf("n=%d k=%d: %d hits, want %d", tc.n, tc.k, len(got), min(tc.k, len(want)))
		}
		for i, h := range got {
			if math.Abs(h.Similarity-want[i].s) > 1e-5 {
				t.Fatalf("n=%d d=%d: hit %d similarity %v, want %v (row %d)", tc.n, tc.d, i, h.Similarity, want[i].s, want[i].r)
			}
			if !keep(h.Row) || h.ID != ix.IDs[h.Row] {
				t.Fatalf("hit %+v: filtered row or wrong id", h)
			}
			if i > 0 && got[i-1].Similarity < h.Similarity {
				t.Fatalf("hits out of order at %d", i)
			}
		}
		if keep(0) && (got[0].Row != 0 || math.Abs(got[0].Similarity-1) > 1e-6) {
			t.Errorf("n=%d: the query's own row should come first with similarity 1, got %+v", tc.n, got[0])
		}
	}
}

func TestSaveLoad(t *testing.T) {
	ix := randomIndex(50, 6, 3)
	ix.IDs[4], ix.Files[7], ix.Model, ix.Data = "", "cutouts/x y.jpeg", "builtin", "../shared/data/gz1_sdss_69.h5"
	ix.Parts[9] = PartNone
	ix.SetCenter()
	path := filepath.Join(t.TempDir(), "emb.npz")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ix) {
		t.Errorf("round trip differs:\n%+v\n%+v", got, ix)
	}
	ix.Labels[2] = 5
	if err := ix.Save(path); err == nil {
		t.Error("saved an index with a class out of range")
	}
}

// TestEmbedIndex embeds a tiny data set with a tiny cnn: one row per image
// of each split, as the network embeds it alone, with its part and id.
func TestEmbedIndex(t *testing.T) {
	raw := &data.Raw{Path: "t", N: 40, H: 6, W: 6, C: 3, Space: "gz1", Pixels: make([]uint8, 40*108), Codes: make([]int, 40), IDs: make([]int64, 40)}
	for i := range raw.Pixels {
		raw.Pixels[i] = uint8(i * 37 % 251)
	}
	for i := range raw.Codes {
		raw.Codes[i], raw.IDs[i] = []int{0, 1, 3}[i%3], int64(500+i)
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: "morph4", Channels: "all", TestFrac: 0.25, SplitSeed: 2})
	if err != nil {
		t.Fatal(err)
	}
	net, err := cnn.New(cnn.Spec{InC: 3, H: 6, W: 6, K: 4, Widths: []int{3, 5}, TTA: true}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m := model.New("cnn", net, ds, "all", 3)
	ix, err := Embed(m, ds, "m", "t")
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 40 || ix.Dim != 5 {
		t.Fatalf("%d rows of %d, want 40 of 5", ix.Len(), ix.Dim)
	}
	x, one := make([]float32, ds.Dim()), make([]float32, 5)
	for r := range ix.Len() {
		s, i := ds.Train, r
		if ix.Parts[r] == PartTest {
			s, i = ds.Test, r-ds.Train.Len()
		}
		s.Features(i, x)
		net.Embed(x, 1, one)
		for j, v := range one {
			if math.Abs(float64(v-ix.Vectors[r*5+j])) > 1e-6 {
				t.Fatalf("row %d differs from embedding its image alone", r)
			}
		}
		if ix.IDs[r] != strconv.FormatInt(raw.IDs[ix.Rows[r]], 10) || ix.Labels[r] != s.Labels[i] {
			t.Fatalf("row %d: id %s label %d for file row %d", r, ix.IDs[r], ix.Labels[r], ix.Rows[r])
		}
	}
}

func TestClassShare(t *testing.T) {
	// Two classes on two separate directions, with noise: every neighbour
	// of a class-1 query is class 1.
	rng := rand.New(rand.NewPCG(9, 9))
	ix := &Index{Dim: 2, Classes: []string{"a", "b"}}
	for r := range 200 {
		c := 0
		if r%5 == 0 {
			c = 1
		}
		ix.Vectors = append(ix.Vectors, float32(1-c)+0.1*float32(rng.NormFloat64()), float32(c)+0.1*float32(rng.NormFloat64()))
		ix.IDs, ix.Files, ix.Labels, ix.Rows = append(ix.IDs, ""), append(ix.Files, ""), append(ix.Labels, c), append(ix.Rows, r)
		ix.Parts = append(ix.Parts, r%4/3) // a quarter test
		ix.Novelty = append(ix.Novelty, 0)
	}
	ix.SetCenter()
	mean, base, q := ix.ClassShare(1, 5)
	if q == 0 || mean != 1 || math.Abs(base-0.2) > 0.05 {
		t.Errorf("share %v over %d queries, base %v; want 1 and about 0.2", mean, q, base)
	}
}

// BenchmarkSearch is one query against 10^6 rows of 128 values.
func BenchmarkSearch(b *testing.B) {
	ix := randomIndex(1_000_000, 128, 1)
	ix.Search(ix.Vectors[:128], 10, nil)
	b.ResetTimer()
	for range b.N {
		ix.Search(ix.Vectors[:128], 10, nil)
	}
}

// TestEmbedInputs embeds a catalog of 300 cutouts (more than a batch) and
// a corrupt file as inputs, and checks each row against the same images
// read as a labelled data set (load's catalog reader) and embedded by
// Embed; the corrupt file is left out and reported.
func TestEmbedInputs(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	var cat strings.Builder
	cat.WriteString("id,file,gz1_class\n")
	for i := range 300 {
		img := image.NewRGBA(image.Rect(0, 0, 69, 69))
		for p := range img.Pix {
			img.Pix[p] = uint8(rng.IntN(256))
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		name := fmt.Sprintf("c%03d.png", i)
		os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
		fmt.Fprintf(&cat, "%d,%s,%d\n", 7000+i, name, []int{0, 1, 3}[i%3])
	}
	path := filepath.Join(dir, "cat.csv")
	os.WriteFile(path, []byte(cat.String()), 0o644)
	bad := filepath.Join(dir, "bad.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nbroken"), 0o644)

	raw, err := load.File(path, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: "morph4", Channels: "all", TestFrac: 0.1, SplitSeed: 2})
	if err != nil {
		t.Fatal(err)
	}
	net, err := cnn.New(cnn.Spec{InC: 3, H: 69, W: 69, K: 4, Widths: []int{3, 5}}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m := model.New("cnn", net, ds, "all", 3)
	want, err := Embed(m, ds, "m", path)
	if err != nil {
		t.Fatal(err)
	}
	var iterErr error
	ix, unread, err := EmbedInputs(m, predict.Inputs([]string{path, bad}, predict.CatalogOptions{}, &iterErr), "m", path, cutout.Limits{})
	if err != nil || iterErr != nil {
		t.Fatal(err, iterErr)
	}
	if ix.Len() != 300 || len(unread) != 1 || unread[0].File != bad || !ix.FromCutouts() || want.FromCutouts() {
		t.Fatalf("%d rows, unreadable %v", ix.Len(), unread)
	}
	for r := range want.Len() {
		got, err := ix.Row(want.IDs[r])
		if err != nil {
			t.Fatal(err)
		}
		a, b := ix.Vectors[got*5:(got+1)*5], want.Vectors[r*5:(r+1)*5]
		for j := range a {
			if math.Abs(float64(a[j]-b[j])) > 1e-5 {
				t.Fatalf("id %s: %v as an input, %v in the data set", want.IDs[r], a, b)
			}
		}
		if ix.Labels[got] != -1 || ix.Parts[got] != PartNone || ix.Files[got] != filepath.Join(dir, fmt.Sprintf("c%03d.png", ix.Rows[got])) {
			t.Fatalf("row %d: label %d part %d file %s", got, ix.Labels[got], ix.Parts[got], ix.Files[got])
		}
	}
}
