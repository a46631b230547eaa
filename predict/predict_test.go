package predict

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/model"
	"galaxy/model/modelfile"
	"galaxy/model/seed"
)

// testModel is an untrained seed network on 69x69 g-band features.
func testModel(t testing.TB) *model.Model {
	t.Helper()
	net, err := seed.New(69*69, 6, 4, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	return &model.Model{Net: net, Meta: modelfile.Meta{Arch: seed.Name, Scheme: "morph4",
		Classes: []string{"smooth", "face-on spiral", "edge-on disk", "merger"},
		Input:   modelfile.Input{Height: 69, Width: 69, Channels: []int{2}, ChannelSpec: "g", SourceChannels: 3, Scale: data.Scale},
		Hyper:   map[string]int{"hidden": 6}}}
}

// galaxyImage draws a w x w blob whose shape depends on seed.
func galaxyImage(w int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 9))
	img := image.NewRGBA(image.Rect(0, 0, w, w))
	ax, ay := 0.05+rng.Float64()*0.3, 0.05+rng.Float64()*0.3
	for y := range w {
		for x := range w {
			dx, dy := float64(x-w/2)/float64(w), float64(y-w/2)/float64(w)
			v := 255 / (1 + (dx*dx)/(ax*ax*0.1) + (dy*dy)/(ay*ay*0.1))
			n := rng.IntN(20)
			img.SetRGBA(x, y, color.RGBA{uint8(min(255, v*0.8+float64(n))), uint8(min(255, v*0.9)), uint8(min(255, v+float64(n))), 255})
		}
	}
	return img
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func encode(t testing.TB, img image.Image, kind string) []byte {
	var b bytes.Buffer
	var err error
	if kind == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fitsFile writes a minimal FITS file (BITPIX -32, one plane) claiming
// naxis1 x naxis2 but holding the pixels of w x h.
func fitsFile(naxis1, naxis2, w, h int, v func(x, y int) float32) []byte {
	var hdr bytes.Buffer
	card := func(s string) { hdr.WriteString(fmt.Sprintf("%-80s", s)) }
	card("SIMPLE  =                    T")
	card("BITPIX  =                  -32")
	card("NAXIS   =                    2")
	card(fmt.Sprintf("NAXIS1  = %20d", naxis1))
	card(fmt.Sprintf("NAXIS2  = %20d", naxis2))
	card("END")
	for hdr.Len()%2880 != 0 {
		hdr.WriteByte(' ')
	}
	for y := range h {
		for x := range w {
			binary.Write(&hdr, binary.BigEndian, v(x, y))
		}
	}
	for hdr.Len()%2880 != 0 {
		hdr.WriteByte(0)
	}
	return hdr.Bytes()
}

// score scores one file directly, for comparison.
func score(t *testing.T, m *model.Model, p *Preparer, path string) int {
	x := make([]float32, p.Dim())
	if err := p.FileFeatures(path, x); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	z := make([]float32, m.K())
	m.Net.Logits(x, 1, z)
	best := 0
	for c := range z {
		if z[c] > z[best] {
			best = c
		}
	}
	return best
}

func TestColumnNames(t *testing.T) {
	h := Header([]string{"Smooth", "face-on spiral", "Don't know", "", "smooth!"})
	want := "id,file,class,class_name,p_smooth,p_face_on_spiral,p_don_t_know,p_3,p_smooth_2,error"
	if strings.Join(h, ",") != want {
		t.Errorf("header %v, want %s", h, want)
	}
}

// TestCatalogWithCorruptFiles runs a catalog of good and bad files: the bad
// ones become error rows, the others are scored as when alone, in order.
func TestCatalogWithCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	m := testModel(t)
	prep, err := NewPreparer(m, cutout.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	wantErr := map[string]string{}
	for i := range 150 {
		name := fmt.Sprintf("g%03d", i)
		var b []byte
		switch i % 10 {
		case 3:
			name += ".png"
			b = encode(t, galaxyImage(100, uint64(i)), "png")
		case 5:
			name += ".fits"
			b = fitsFile(80, 80, 80, 80, func(x, y int) float32 { return float32(1000/(1+(x-40)*(x-40)+(y-40)*(y-40)/4)) + float32((x*7+y*13)%5) })
		default:
			name += ".jpeg"
			b = encode(t, galaxyImage(140+i%3, uint64(i)), "jpeg")
		}
		switch i {
		case 11: // truncated JPEG
			b = b[:len(b)/2]
			wantErr[name] = "corrupt JPEG"
		case 15: // FITS header claims more than the file holds
			b = fitsFile(5000, 5000, 80, 80, func(x, y int) float32 { return 1 })
			wantErr[name] = "cut short"
		case 21: // 0-byte file
			b = nil
			wantErr[name] = "empty input"
		case 27: // missing
			wantErr[name] = "no such file"
		case 33: // not an image at all
			b = []byte("objid,file\n1,a.jpeg\n")
			wantErr[name] = "not a JPEG, PNG or FITS image"
		}
		if i != 27 {
			writeFile(t, filepath.Join(dir, name), b)
		}
		lines = append(lines, fmt.Sprintf("%d,%s", 1000+i, name))
	}
	cat := filepath.Join(dir, "cat.csv")
	writeFile(t, cat, []byte("objid,file\n"+strings.Join(lines, "\n")+"\n"))

	for _, format := range []string{FormatCSV, FormatJSONL} {
		var out bytes.Buffer
		w, _ := NewWriter(&out, format, m.Meta.Classes, true)
		var iterErr error
		st, err := Run(context.Background(), Config{Model: m, Prep: prep, Workers: 3, Batch: 7}, Inputs([]string{cat}, CatalogOptions{}, &iterErr), &iterErr, w)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 150 || st.Errors != 5 {
			t.Errorf("%s: stats %+v", format, st)
		}
		var rows [][]string
		if format == FormatCSV {
			rows, err = csv.NewReader(&out).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			rows = rows[1:]
		} else {
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var v map[string]any
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatal(err, l)
				}
				cls := ""
				if c, ok := v["class"].(float64); ok {
					cls = strconv.Itoa(int(c))
				}
				rows = append(rows, []string{v["id"].(string), v["file"].(string), cls, v["class_name"].(string), "", "", "", "", v["error"].(string)})
			}
		}
		if len(rows) != 150 {
			t.Fatalf("%s: %d rows", format, len(rows))
		}
		for i, r := range rows {
			if r[0] != strconv.Itoa(1000+i) {
				t.Fatalf("%s: row %d has id %s: out of order", format, i, r[0])
			}
			if sub, bad := wantErr[r[1]]; bad {
				if !strings.Contains(r[8], sub) || r[2] != "" {
					t.Errorf("%s: %s: error %q, class %q; want an error mentioning %q", format, r[1], r[8], r[2], sub)
				}
				continue
			}
			want := score(t, m, prep, filepath.Join(dir, r[1]))
			if r[8] != "" || r[2] != strconv.Itoa(want) || r[3] != m.Meta.Classes[want] {
				t.Errorf("%s: %s: class %s %s error %q, want %d", format, r[1], r[2], r[3], r[8], want)
			}
		}
	}
}

func TestResumeDropsPartialLine(t *testing.T) {
	classes := []string{"a", "b"}
	p := filepath.Join(t.TempDir(), "out.csv")
	full := "id,file,class,class_name,p_a,p_b,error\n1,x.jpg,0,a,0.6,0.4,\n2,y.jpg,1,b,0.2,0.8,\n3,z.j"
	writeFile(t, p, []byte(full))
	n, last, head, err := Resume(p, FormatCSV, classes)
	if err != nil || n != 2 || last != "y.jpg" || !head {
		t.Fatalf("Resume: %d %q %v %v", n, last, head, err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != full[:strings.LastIndex(full, "\n")+1] {
		t.Errorf("after resume the file is %q", b)
	}
	writeFile(t, p, []byte("id,file,other\n"))
	if _, _, _, err := Resume(p, FormatCSV, classes); err == nil || !strings.Contains(err.Error(), "cannot resume") {
		t.Errorf("foreign header: %v", err)
	}
	writeFile(t, p, []byte("id,fi"))
	if n, _, head, err := Resume(p, FormatCSV, classes); err != nil || n != 0 || head {
		t.Errorf("partial header: %d %v %v", n, head, err)
	}
}

// TestPreparerSizes checks that cutouts are prepared as each model's
// training images were: the Galaxy10 recipe for 69x69 models, the recipe
// then area averaging for models trained on 69-px images resized, and the
// central square area-averaged for models trained on other sizes.
func TestPreparerSizes(t *testing.T) {
	img := galaxyImage(300, 4)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	g10 := cutout.Prepare(img)
	half := make([]uint8, 32*32*3)
	cutout.Resize(half, g10, 69, 69, 3, 32, 32)
	for _, tc := range []struct {
		size, source int
		want         []uint8
	}{
		{69, 0, g10},
		{32, 69, half},
		{128, 256, cutout.PrepareSquare(img, 128)},
		{48, 0, cutout.PrepareSquare(img, 48)},
	} {
		m := &model.Model{Meta: modelfile.Meta{Classes: []string{"a", "b"}, Input: modelfile.Input{
			Height: tc.size, Width: tc.size, Channels: []int{0, 1, 2}, SourceChannels: 3, Scale: 1, SourceSize: tc.source}}}
		p, err := NewPreparer(m, cutout.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, p.Dim())
		if err := p.Features(buf.Bytes(), got); err != nil {
			t.Fatal(err)
		}
		for i, v := range tc.want {
			if got[i] != float32(v) {
				t.Fatalf("%d px model (source %d): feature %d = %v, want %v", tc.size, tc.source, i, got[i], v)
			}
		}
	}
}

// TestCarriedAndNoveltyColumns predicts a catalog with ra, dec and redshift
// columns with a model that has novelty statistics: the rows carry the
// catalog's values after file, and novelty and warning before error, in
// CSV and JSON lines.
func TestCarriedAndNoveltyColumns(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 3 {
		name := fmt.Sprintf("g%d.png", i)
		writeFile(t, filepath.Join(dir, name), encode(t, galaxyImage(90, uint64(i)), "png"))
		lines = append(lines, fmt.Sprintf("%s,%d,%.1f,,%s", name, 10+i, 150.5+float64(i), []string{"0.05", "", "0.1"}[i]))
	}
	cat := filepath.Join(dir, "cat.csv")
	writeFile(t, cat, []byte("file,id,RA,note,redshift\n"+strings.Join(lines, "\n")+"\n"))
	m := testModel(t)
	m.Meta.Info = map[string]string{}
	emb := make([]float32, 0, 40*6)
	labels := make([]int, 0, 40)
	for i := range 40 {
		for j := range 6 {
			emb = append(emb, float32((i*7+j*3)%11)/11)
		}
		labels = append(labels, i%4)
	}
	nv, err := model.FitNovelty(emb, labels, 4, 6, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.SetNovelty(nv)
	prep, err := NewPreparer(m, cutout.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatCSV, FormatJSONL} {
		var opt CatalogOptions
		cols, err := Columns(m, []string{cat}, &opt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(opt.Carry, []string{"ra", "redshift"}) {
			t.Fatalf("carried %v, want ra and redshift (the catalog has no dec)", opt.Carry)
		}
		var out bytes.Buffer
		w, err := NewWriter(&out, format, m.Meta.Classes, true, cols...)
		if err != nil {
			t.Fatal(err)
		}
		var iterErr error
		if _, err := Run(context.Background(), Config{Model: m, Prep: prep}, Inputs([]string{cat}, opt, &iterErr), &iterErr, w); err != nil {
			t.Fatal(err)
		}
		if format == FormatCSV {
			rows, err := csv.NewReader(&out).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := "id,file,ra,redshift,class,class_name,p_smooth,p_face_on_spiral,p_edge_on_disk,p_merger,novelty,warning,error"
			if strings.Join(rows[0], ",") != want || len(rows) != 4 {
				t.Fatalf("header %v (%d rows), want %s", rows[0], len(rows), want)
			}
			if rows[1][2] != "150.5" || rows[2][3] != "" || rows[3][3] != "0.1" {
				t.Errorf("carried values: %v", rows[1:])
			}
			if v, err := strconv.ParseFloat(rows[1][10], 64); err != nil || !(v >= 0) {
				t.Errorf("novelty %q", rows[1][10])
			}
			continue
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(strings.SplitN(out.String(), "\n", 2)[0]), &row); err != nil {
			t.Fatal(err)
		}
		if row["ra"] != "150.5" || row["redshift"] != "0.05" || row["novelty"] == nil || row["warning"] == nil {
			t.Errorf("JSON row %v", row)
		}
	}
}
