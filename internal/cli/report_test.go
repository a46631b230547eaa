package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"galaxy/internal/shared"
)

// chromium is where Debian's chromium package puts the browser (.ci/run
// installs it).
const chromium = "/usr/bin/chromium"

// screenshot renders an HTML file in headless Chromium, offline, and
// returns the screenshot. It skips the test when Chromium is not installed.
func screenshot(t *testing.T, html string) image.Image {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not found (Debian package chromium, which .ci/run installs): skipping the check that the report renders", chromium)
	}
	abs, err := filepath.Abs(html)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1200,2000", "file://"+abs)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("chromium did not finish within the timeout: %s", out)
	}
	if err != nil {
		t.Fatalf("chromium: %v: %s", err, out)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v: %s", err, out)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("GALAXY_REPORT_SHOT"); keep != "" {
		os.WriteFile(keep, b, 0o644)
	}
	return img
}

// notBlank checks a screenshot shows a page: many colours (charts,
// galaxies), a good share of non-white pixels.
func notBlank(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	colours := map[uint32]bool{}
	ink, all := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
			all++
		}
	}
	if b.Dx() < 1000 || len(colours) < 200 || float64(ink)/float64(all) < 0.05 {
		t.Errorf("the report renders nearly blank: %v, %d colours, %.1f%% non-white", b, len(colours), 100*float64(ink)/float64(all))
	}
}

// checkReport checks a report file: small, self-contained, complete.
func checkReport(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 5<<20 {
		t.Errorf("report is %d bytes, over 5 MB", fi.Size())
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	for _, u := range []string{"http://", "https://", "src=\"//", "url("} {
		if strings.Contains(s, u) {
			t.Errorf("report refers outside itself (%q)", u)
		}
	}
	for _, want := range []string{"Settings", "Learning curves", "Confusion matrix", "Per class", "Top-k", "Calibration", "What it gets right", "Worst mistakes", "data:image/png;base64,"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	return s
}

// writeHardNPZ writes n h x h x 3 images of gz1 codes 0, 3, 5 (and a few
// 4s) like writeNPZ, but with one label in five drawn at random, so that
// a model trained on them keeps making mistakes.
func writeHardNPZ(t *testing.T, dir string, n, h int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	img := make([]byte, n*h*h*3)
	ans := make([]byte, n)
	codes := []byte{0, 3, 5, 0, 3, 5, 0, 4}
	for i := range n {
		c := codes[i%len(codes)]
		for y := range h {
			for x := range h {
				v := rng.IntN(60)
				switch {
				case c == 0 && (y-h/2)*(y-h/2)+(x-h/2)*(x-h/2) < h*h/8, c == 3 && (y == h/2 || y == h/2-1), c == 5 && x < h/2:
					v += 150
				}
				for ch := range 3 {
					img[((i*h+y)*h+x)*3+ch] = byte(v)
				}
			}
		}
		if c != 4 && rng.IntN(5) == 0 {
			c = []byte{0, 3, 5}[rng.IntN(3)]
		}
		ans[i] = c
	}
	p := filepath.Join(dir, "hard.npz")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range []struct {
		name string
		b    []byte
	}{{"images.npy", npyBytes([]int{n, h, h, 3}, img)}, {"ans.npy", npyBytes([]int{n}, ans)}} {
		w, _ := zw.Create(m.name)
		w.Write(m.b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectErrorsReport(t *testing.T) {
	dir := t.TempDir()
	p := writeHardNPZ(t, dir, 400, 8)
	rdir := filepath.Join(dir, "run")
	// A 100000-step run (the learning curve of the assignment's length) on
	// noisy labels, so that the model makes mistakes; --report writes the
	// report too.
	code, stdout, stderr := run(t, "train", "--data", p, "--labels", "gz1", "--scheme", "morph4", "--channels", "g",
		"--steps", "100000", "--eval-every", "2000", "--lr", "0.001", "--hidden", "8", "--seed", "5", "--out", rdir, "--report")
	if code != 0 {
		t.Fatalf("train --report: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "report.html") {
		t.Errorf("train --report output: %s", stdout)
	}
	checkReport(t, filepath.Join(rdir, "report.html"))
	model := filepath.Join(rdir, "model")

	// eval's figures, to compare with.
	_, out, _ := run(t, "eval", "--model", model, "--data", p, "--labels", "gz1", "--split", "all", "--json")
	var ev struct {
		N            int
		Accuracy     float64
		Top2Accuracy float64   `json:"top2_accuracy"`
		TopK         []float64 `json:"top_k"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err, out)
	}

	// errors: the same figures, seen from the mistakes.
	gal := filepath.Join(dir, "errors.png")
	code, out, stderr = run(t, "errors", "--model", model, "--data", p, "--labels", "gz1", "--split", "all", "--gallery", gal, "--worst", "6", "--json")
	if code != 0 {
		t.Fatalf("errors: exit %d: %s", code, stderr)
	}
	var er struct {
		Accuracy float64
		Mistakes struct {
			N, Wrong    int
			SecondRight int       `json:"second_right"`
			SecondFrac  float64   `json:"second_right_frac"`
			RankCounts  []int     `json:"rank_counts"`
			TopK        []float64 `json:"top_k"`
			Pairs       []struct{ True, Pred, Count int }
		}
		Worst []struct {
			Index       int
			True, Pred  int
			Confidence  float64
			SecondRight bool `json:"second_right"`
			TrueRank    int  `json:"true_rank"`
			Correct     bool
			Second      int
			Ranking     []int
			TrueProb    float64 `json:"true_prob"`
		}
		Gallery string
	}
	if err := json.Unmarshal([]byte(out), &er); err != nil {
		t.Fatal(err, out)
	}
	mk := er.Mistakes
	if mk.N != ev.N || er.Accuracy != ev.Accuracy || mk.Wrong == 0 {
		t.Fatalf("errors saw %d images, accuracy %v, %d wrong; eval %d, %v (the test needs a model that makes mistakes)", mk.N, er.Accuracy, mk.Wrong, ev.N, ev.Accuracy)
	}
	if want := int(math.Round((ev.Top2Accuracy - ev.Accuracy) * float64(ev.N))); mk.SecondRight != want || mk.RankCounts[1] != want {
		t.Errorf("second choice right in %d (rank counts %v); eval's top-2 minus top-1 says %d", mk.SecondRight, mk.RankCounts, want)
	}
	for j := range ev.TopK {
		if math.Abs(mk.TopK[j]-ev.TopK[j]) > 1e-12 {
			t.Errorf("top-%d: errors %v, eval %v", j+1, mk.TopK[j], ev.TopK[j])
		}
	}
	if len(er.Worst) != min(6, mk.Wrong) || er.Gallery != gal {
		t.Fatalf("%d worst mistakes, gallery %q", len(er.Worst), er.Gallery)
	}
	for i, w := range er.Worst {
		if w.Correct || w.Pred == w.True || (i > 0 && w.Confidence > er.Worst[i-1].Confidence) {
			t.Errorf("worst mistake %d: %+v", i, w)
		}
	}
	f, err := os.Open(gal)
	if err != nil {
		t.Fatal(err)
	}
	g, err := png.Decode(f)
	f.Close()
	if err != nil || g.Bounds().Dx() < 6*16 {
		t.Errorf("gallery: %v", err)
	}

	// The plain listing names the second-choice figure.
	code, out, stderr = run(t, "errors", "--model", model, "--data", p, "--labels", "gz1", "--split", "all", "--gallery", "")
	if code != 0 || !strings.Contains(out, "second choice right in") || !strings.Contains(out, "most confused") {
		t.Errorf("errors: exit %d: %s %s", code, out, stderr)
	}

	// inspect one of the worst mistakes: ranked probabilities, true class marked.
	w := er.Worst[0]
	pic := filepath.Join(dir, "one.png")
	code, out, stderr = run(t, "inspect", "--model", model, "--data", p, "--labels", "gz1", "--split", "all",
		"--index", itoa(w.Index), "--out", pic, "--json")
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	var in struct {
		True, Predicted int
		Correct         bool
		TrueRank        int `json:"true_rank"`
		Ranked          []struct {
			Rank, Class        int
			Name               string
			Probability, Logit float64
		}
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err, out)
	}
	sum := 0.0
	for i, r := range in.Ranked {
		sum += r.Probability
		if i > 0 && r.Logit > in.Ranked[i-1].Logit {
			t.Errorf("not ranked by logit: %+v", in.Ranked)
		}
		if r.Class == in.True && r.Rank != in.TrueRank {
			t.Errorf("true class rank %d, listed at %d", in.TrueRank, r.Rank)
		}
	}
	if math.Abs(sum-1) > 1e-5 || len(in.Ranked) != 4 || in.True != w.True || in.Predicted != w.Pred || in.Correct || in.TrueRank != w.TrueRank {
		t.Errorf("inspect %+v, errors said %+v", in, w)
	}
	if fi, err := os.Stat(pic); err != nil || fi.Size() == 0 {
		t.Error("inspect wrote no picture")
	}
	code, out, _ = run(t, "inspect", "--model", model, "--data", p, "--labels", "gz1", "--split", "all", "--index", itoa(w.Index), "--out", pic)
	if code != 0 || !strings.Contains(out, "<- true class") || !strings.Contains(out, "wrong: predicted") {
		t.Errorf("inspect listing: %s", out)
	}

	// report from the run folder; the data file defaults to the model's.
	html := filepath.Join(dir, "report.html")
	code, out, stderr = run(t, "report", "--run", rdir, "--labels", "gz1", "--out", html)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	s := checkReport(t, html)
	if !strings.Contains(s, "steps 100000") || !strings.Contains(out, "second choice right in") {
		t.Errorf("report misses the run's settings, or its summary line: %s", out)
	}
	notBlank(t, screenshot(t, html))
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// Bad input: one line naming the problem, non-zero exit.
func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 80, 8)
	rdir := filepath.Join(dir, "run")
	if code, _, stderr := run(t, "train", "--data", p, "--labels", "gz1", "--steps", "600", "--eval-every", "300", "--hidden", "4", "--out", rdir); code != 0 {
		t.Fatal(stderr)
	}
	model := filepath.Join(rdir, "model")
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	big := writeNPZ(t, t.TempDir(), 40, 10)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"run folder without a model", []string{"report", "--run", empty, "--data", p, "--labels", "gz1"}, "has no model"},
		{"missing run folder", []string{"report", "--run", filepath.Join(dir, "nope"), "--data", p}, "no such folder"},
		{"no run folder", []string{"report", "--data", p}, "--run"},
		{"data for another scheme (report)", []string{"report", "--run", rdir, "--data", p, "--labels", "galaxy10"}, "scheme morph4 cannot read"},
		{"data for another scheme (errors)", []string{"errors", "--model", model, "--data", p, "--labels", "galaxy10"}, "scheme morph4 cannot read"},
		{"data for another scheme (inspect)", []string{"inspect", "--model", model, "--data", p, "--labels", "galaxy10"}, "scheme morph4 cannot read"},
		{"scheme other than the model's", []string{"errors", "--model", model, "--data", p, "--labels", "gz1", "--scheme", "gz1"}, "the model classifies morph4"},
		{"index out of range", []string{"inspect", "--model", model, "--data", p, "--labels", "gz1", "--index", "999"}, "--index 999 out of range"},
		{"negative index", []string{"inspect", "--model", model, "--data", p, "--labels", "gz1", "--index", "-1"}, "--index -1 out of range"},
		{"unknown split", []string{"errors", "--model", model, "--data", p, "--labels", "gz1", "--split", "dev"}, "unknown split"},
		{"image size differs", []string{"errors", "--model", model, "--data", big, "--labels", "gz1"}, "10x10"},
		{"missing model", []string{"inspect", "--model", filepath.Join(dir, "nope.model"), "--data", p}, "nope.model"},
		{"bad bins", []string{"report", "--run", rdir, "--data", p, "--labels", "gz1", "--bins", "0", "--out", filepath.Join(dir, "r.html")}, "0 calibration bins"},
		{"unwritable gallery", []string{"errors", "--model", model, "--data", p, "--labels", "gz1", "--split", "all", "--gallery", filepath.Join(dir, "no", "g.png")}, "g.png"},
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
	if _, err := os.Stat(filepath.Join(dir, "r.html")); err == nil {
		t.Error("a refused report was written")
	}
}

// The assignment's setting on real galaxies: a seed network on GZ1 morph4,
// its mistakes, gallery and report (rendered in Chromium when installed).
func TestRealGZ1Report(t *testing.T) {
	p := shared.File(t, "gz1_sdss_69.h5")
	if testing.Short() {
		t.Skip("trains on real data: skipped with -short")
	}
	dir := t.TempDir()
	rdir := filepath.Join(dir, "run")
	code, _, stderr := run(t, "train", "--data", p, "--scheme", "morph4", "--channels", "g", "--steps", "20000", "--eval-every", "400", "--out", rdir, "--report")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	gal := filepath.Join(dir, "errors.png")
	code, out, stderr := run(t, "errors", "--model", filepath.Join(rdir, "model"), "--data", p, "--gallery", gal)
	if code != 0 || !strings.Contains(out, "second choice right in") {
		t.Fatalf("errors: exit %d: %s %s", code, out, stderr)
	}
	t.Logf("%s", strings.SplitN(out, "\n\n", 2)[0])
	f, err := os.Open(gal)
	if err != nil {
		t.Fatal(err)
	}
	g, err := png.Decode(f)
	f.Close()
	if err != nil || g.Bounds().Dx() < 6*138 {
		t.Fatalf("gallery %v: %v", g.Bounds(), err)
	}
	html := filepath.Join(rdir, "report.html")
	checkReport(t, html)
	notBlank(t, screenshot(t, html))
}
