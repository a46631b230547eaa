package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"galaxy/predict"
)

// writeCatalog writes predict's output for n rows of random probabilities
// (every 7th row an error, every 5th warned, every 3rd without a novelty
// score) whose files are JPEGs in dir (row 1's file is missing, row 2's
// corrupt), and returns its path.
func writeCatalog(t testing.TB, dir string, n int) string {
	t.Helper()
	classes := []string{"smooth", "face-on spiral", "edge-on disk", "merger"}
	var buf bytes.Buffer
	w, err := predict.NewWriter(&buf, predict.FormatCSV, classes, true, predict.WithNovelty())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	os.WriteFile(filepath.Join(dir, "a.jpg"), jpegBytes(t, 120, 1), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.jpg"), []byte("\xff\xd8\xff\xe0 not really a JPEG"), 0o644)
	for i := range n {
		file := "a.jpg"
		switch i {
		case 1:
			file = "missing.jpg"
		case 2:
			file = "bad.jpg"
		}
		r := predict.Row{ID: fmt.Sprint(100 + i), File: file, Novelty: math.NaN()}
		if i%7 == 6 {
			r.Class, r.Err = -1, "corrupt image"
		} else {
			p := make([]float32, 4)
			var sum float32
			for c := range p {
				p[c] = rng.Float32() + 0.01
				sum += p[c]
			}
			for c := range p {
				p[c] /= sum
			}
			r.Probs = p
			r.Class = slices.Index(p, slices.Max(p))
			r.ClassName = classes[r.Class]
			if i%3 != 0 {
				r.Novelty = 10 * rng.Float64()
			}
			if i%5 == 4 {
				r.Warning = "unlike the galaxies the model was trained on"
			}
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	path := filepath.Join(dir, "pred.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCatalogSelect checks Select against a naive filter and sort.
func TestCatalogSelect(t *testing.T) {
	c, err := OpenCatalog(writeCatalog(t, t.TempDir(), 200), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 200 || len(c.Classes) != 4 || c.Classes[1] != "face-on spiral" {
		t.Fatalf("read %d rows, classes %q", c.Len(), c.Classes)
	}
	for _, q := range []Query{
		{Class: -1, PMax: 1, Sort: SortRow, Limit: 500},
		{Class: 2, PMax: 1, Sort: SortRow, Limit: 7, Offset: 3},
		{Class: 0, PMin: 0.4, PMax: 0.6, Sort: SortP, Desc: true, Limit: 500},
		{Class: -1, PMin: 0.3, PMax: 1, Sort: SortNovelty, Limit: 500},
		{Class: -1, PMax: 1, Sort: SortNovelty, Desc: true, Limit: 50, Offset: 100},
		{Class: 3, PMax: 1, Warned: true, Sort: SortP, Limit: 500},
		{Class: -1, PMax: 1, Sort: SortRow, Desc: true, Limit: 10, Offset: 195},
	} {
		var want []int
		for r := range c.Len() {
			top := math.NaN()
			if c.Class[r] >= 0 {
				top = float64(c.Probs[r*4+c.Class[r]])
			}
			if (q.Class >= 0 && c.Class[r] != q.Class) || (q.Warned && c.Warning[r] == "") ||
				((q.PMin > 0 || q.PMax < 1) && !(top >= q.PMin && top <= q.PMax)) {
				continue
			}
			want = append(want, r)
		}
		key := func(r int) float64 {
			switch q.Sort {
			case SortP:
				return c.Top(r)
			case SortNovelty:
				return float64(c.Novelty[r])
			}
			return float64(r)
		}
		sort.SliceStable(want, func(i, j int) bool {
			a, b := key(want[i]), key(want[j])
			if math.IsNaN(a) || math.IsNaN(b) {
				return !math.IsNaN(a) && math.IsNaN(b)
			}
			if q.Desc {
				return a > b
			}
			return a < b
		})
		matched := len(want)
		want = want[min(q.Offset, len(want)):min(q.Offset+q.Limit, len(want))]
		got, n := c.Select(q)
		if n != matched || !slices.Equal(got, want) {
			t.Errorf("%+v: got %d matched %v, want %d %v", q, n, got, matched, want)
		}
		if n == 0 {
			t.Errorf("%+v selects nothing: a weak case", q)
		}
	}
}

func TestReadPredictionsErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "empty file"},
		{"not predict's", "a,b,c\n1,2,3\n", "not predict's CSV output"},
		{"no p columns", "id,file,class,class_name,error\n", "no p_ columns"},
		{"class out of range", "id,file,class,class_name,p_a,p_b,error\nx,f,7,a,0.5,0.5,\n", "line 2: class \"7\""},
		{"probability", "id,file,class,class_name,p_a,p_b,error\nx,f,0,a,NaN,0.5,\n", "line 2: p_a \"NaN\""},
		{"short row", "id,file,class,class_name,p_a,p_b,error\nx,f,0\n", "wrong number of fields"},
	} {
		_, err := predict.ReadPredictions(strings.NewReader(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func fetchURL(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestWebEndpoints: the page's endpoints answer good requests, and bad ones
// with a JSON error and the status the API gives such input.
func TestWebEndpoints(t *testing.T) {
	dir := t.TempDir()
	cat, err := OpenCatalog(writeCatalog(t, dir, 30), "")
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := newTestServer(t, Options{Catalog: cat, ModelName: "test"})
	code, ct, b := fetchURL(t, ts.URL+"/v1/catalog?class=1&limit=5&sort=p&order=desc")
	var page CatalogPage
	if code != 200 || ct != "application/json" || json.Unmarshal(b, &page) != nil {
		t.Fatalf("catalog page: %d %s %s", code, ct, b)
	}
	if page.Total != 30 || len(page.Rows) == 0 || page.Rows[0].ClassName != "face-on spiral" || page.Counts[1] != page.Matched {
		t.Errorf("catalog page: %+v", page)
	}
	// The thumbnail and the picture as the model sees it.
	code, ct, b = fetchURL(t, ts.URL+"/v1/catalog/0/thumb?size=50")
	img, err := png.Decode(bytes.NewReader(b))
	if code != 200 || ct != "image/png" || err != nil || img.Bounds().Dx() != 50 {
		t.Fatalf("thumb: %d %s %v", code, ct, err)
	}
	code, _, b = fetchURL(t, ts.URL+"/v1/catalog/0/prepared")
	if img, err = png.Decode(bytes.NewReader(b)); code != 200 || err != nil || img.Bounds().Dx() != 69 {
		t.Fatalf("prepared: %d %v", code, err)
	}
	if r, _, _, _ := img.At(34, 34).RGBA(); r>>8 < 100 {
		t.Errorf("prepared: the bright centre is drawn %d of 255", r>>8)
	}
	code, _, b = fetchURL(t, ts.URL+"/v1/catalog/3")
	var d CatalogDetail
	if code != 200 || json.Unmarshal(b, &d) != nil || len(d.Ranked) != 4 || d.Ranked[0].P < d.Ranked[3].P || d.Similar != "" {
		t.Errorf("detail: %d %s", code, b)
	}
	code, ct, b = fetchURL(t, ts.URL+"/")
	if code != 200 || !strings.HasPrefix(ct, "text/html") || !bytes.Contains(b, []byte("/ui/app.js")) {
		t.Errorf("page: %d %s", code, ct)
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/catalog?class=9", 400},
		{"GET", "/v1/catalog?class=x", 400},
		{"GET", "/v1/catalog?pmin=abc", 400},
		{"GET", "/v1/catalog?pmin=0.8&pmax=0.2", 400},
		{"GET", "/v1/catalog?pmax=NaN", 400},
		{"GET", "/v1/catalog?limit=0", 400},
		{"GET", "/v1/catalog?limit=100000", 400},
		{"GET", "/v1/catalog?offset=-1", 400},
		{"GET", "/v1/catalog?sort=name", 400},
		{"GET", "/v1/catalog?order=up", 400},
		{"GET", "/v1/catalog?warned=maybe", 400},
		{"POST", "/v1/catalog", 405},
		{"DELETE", "/v1/catalog/0", 405},
		{"GET", "/v1/catalog/abc", 400},
		{"GET", "/v1/catalog/-1", 404},
		{"GET", "/v1/catalog/30", 404},
		{"GET", "/v1/catalog/99999999999999999999999", 400},
		{"GET", "/v1/catalog/0/thumb?size=5", 400},
		{"GET", "/v1/catalog/0/thumb?size=100000", 400},
		{"GET", "/v1/catalog/1/thumb", 404}, // its file is missing
		{"GET", "/v1/catalog/2/thumb", 422}, // its file is corrupt
		{"GET", "/v1/catalog/2/prepared", 422},
		{"GET", "/v1/catalog/0/similar", 404}, // no index
		{"GET", "/v1/index/0/thumb", 404},
		{"GET", "/v1/nothing", 404},
		{"GET", "/v1/catalog/0/thumb/../../../etc/passwd", 404},
		{"POST", "/v1/classify?images=sure", 400},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v map[string]string
		if resp.StatusCode != tc.status || json.Unmarshal(b, &v) != nil || v["error"] == "" {
			t.Errorf("%s %s: %d %q, want %d and a JSON error", tc.method, tc.path, resp.StatusCode, b, tc.status)
		}
	}
	// Without a catalog, the catalog endpoints say so.
	ts2, _ := newTestServer(t, Options{})
	if code, _, b := fetchURL(t, ts2.URL+"/v1/catalog"); code != 404 || !bytes.Contains(b, []byte("no catalog")) {
		t.Errorf("no catalog: %d %s", code, b)
	}
}

// TestClassifyImages: ?images=1 adds the picture the model sees, drawn from
// the same features it classified, and the original.
func TestClassifyImages(t *testing.T) {
	ts, s := newTestServer(t, Options{})
	jb := jpegBytes(t, 150, 2)
	code, v := post(t, ts.URL+"/v1/classify?images=1", "image/jpeg", jb)
	if code != 200 {
		t.Fatalf("%d %v", code, v)
	}
	imgs := v["images"].(map[string]any)
	decode := func(u string) image.Image {
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(u, "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	prep, orig := decode(imgs["prepared"].(string)), decode(imgs["original"].(string))
	if orig.Bounds().Dx() != 150 || prep.Bounds().Dx() != 69 {
		t.Fatalf("original %v, prepared %v", orig.Bounds(), prep.Bounds())
	}
	x := make([]float32, s.prep.Dim())
	if err := s.prep.Features(jb, x); err != nil {
		t.Fatal(err)
	}
	want, err := s.prep.Picture(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 69 * 69 {
		if prep.At(i%69, i/69) != want.At(i%69, i/69) {
			t.Fatalf("pixel %d: drawn %v, the features give %v", i, prep.At(i%69, i/69), want.At(i%69, i/69))
		}
	}
	code, v = post(t, ts.URL+"/v1/classify", "image/jpeg", jb)
	if _, ok := v["images"]; code != 200 || ok {
		t.Errorf("without ?images: %d %v", code, v)
	}
}

// TestPageSize: the page's files stay within 300 KB before compression.
func TestPageSize(t *testing.T) {
	total := 0
	fs.WalkDir(webFiles, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := webFiles.ReadFile(path)
			total += len(b)
		}
		return err
	})
	if total == 0 || total > 300<<10 {
		t.Errorf("the web page's files hold %d bytes; the budget is %d", total, 300<<10)
	}
}
