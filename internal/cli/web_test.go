package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"galaxy/data/synth"
	"galaxy/internal/shared"
	"galaxy/serve"
)

var webShots = flag.String("web-screenshots", "", "TestWebScreenshots: write the web page's screenshots (web-classify.jpg, web-browse.jpg, web-detail.jpg) into this folder, e.g. $PWD/docs/images")

// writeCutouts renders n synthetic galaxies as JPEG cutouts in dir/cutouts
// and returns the catalog (id: 1000000 + i, file, label: galaxy10 codes)
// listing them.
func writeCutouts(t testing.TB, dir string, n int) string {
	t.Helper()
	raw, err := synth.Generate(synth.Options{Scheme: "galaxy10", N: n, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	cdir := filepath.Join(dir, "cutouts")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("id,file,label\n")
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, raw.W, raw.H))
		px := raw.Image(i)
		for p := range raw.H * raw.W {
			img.Set(p%raw.W, p/raw.W, color.RGBA{px[3*p], px[3*p+1], px[3*p+2], 255})
		}
		name := fmt.Sprintf("g%04d.jpg", i)
		f, err := os.Create(filepath.Join(cdir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 92}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		fmt.Fprintf(&b, "%d,%s,%d\n", 1000000+i, name, raw.Codes[i])
	}
	cat := filepath.Join(cdir, "catalog.csv")
	if err := os.WriteFile(cat, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return cat
}

// startServe runs galaxy serve with args in a child process on a free port
// and returns its address and process; it is stopped at the end of the test.
func startServe(t testing.TB, args ...string) (string, *os.Process) {
	t.Helper()
	cmd, stderr := startChild(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	return servingAddr(t, stderr, 60*time.Second), cmd.Process
}

// browser starts headless Chromium and returns its context. Every console
// error, uncaught exception, failed request and HTTP error answer is
// collected into *problems.
func browser(t testing.TB, problems *[]string, mu *sync.Mutex) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not found (Debian package chromium, which .ci/run installs): skipping the browser test of the web page", chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1100, 860), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil { // open the tab
		t.Fatalf("start chromium: %v", err)
	}
	add := func(s string) {
		mu.Lock()
		*problems = append(*problems, s)
		mu.Unlock()
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				add("console error: " + strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			add(fmt.Sprintf("exception: %s (line %d)", ev.ExceptionDetails.Text, ev.ExceptionDetails.LineNumber))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				add("log error: " + ev.Entry.Text + " " + ev.Entry.URL)
			}
		case *network.EventLoadingFailed:
			add("request failed: " + ev.ErrorText)
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				add(fmt.Sprintf("HTTP %d: %s", int(ev.Response.Status), ev.Response.URL))
			}
		}
	})
	if err == nil {
		_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	}
	if err == nil {
		_, err = chromedp.Call(ctx, log.Enable, cdp.Empty{})
	}
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// into runs a and stores its value in *dst, so that one Do runs several
// actions that read values.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

func webScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*webShots, "web-"+name+".jpg"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWebScreenshots remakes the README's screenshots of the web page
// (with -web-screenshots DIR) from the real cutouts in ../shared/data.
func TestWebScreenshots(t *testing.T) {
	if *webShots == "" {
		t.Skip("no -web-screenshots folder given")
	}
	cat := shared.File(t, filepath.Join("gz1_cutouts", "catalog.csv"))
	var problems []string
	var mu sync.Mutex
	ctx := browser(t, &problems, &mu)
	dir := t.TempDir()
	pred, emb := filepath.Join(dir, "pred.csv"), filepath.Join(dir, "emb.npz")
	if code, _, stderr := run(t, "predict", cat, "--out", pred); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := run(t, "embed", "--data", cat, "--out", emb); code != 0 {
		t.Fatal(stderr)
	}
	addr, _ := startServe(t, "--catalog", pred, "--images", filepath.Dir(cat), "--index", emb)
	base := "http://" + addr
	rows := readCSV(t, cat)
	files := []string{filepath.Join(filepath.Dir(cat), rows[2][1]), filepath.Join(filepath.Dir(cat), rows[40][1])}
	loaded := chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("main img")].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(30*time.Second))
	for _, step := range []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"classify", []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/"), chromedp.WaitReady(chromedp.CSS("#drop")),
			chromedp.SetUploadFiles(chromedp.CSS("#files"), files), chromedp.WaitReady(chromedp.CSS(`body[data-pending="0"]`)), loaded}},
		{"browse", []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/#/browse?class=1&sort=p&order=desc"),
			chromedp.WaitReady(chromedp.CSS(`body[data-ready="browse"]`)), loaded}},
		{"detail", []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/#/galaxy/5"),
			chromedp.WaitReady(chromedp.CSS(`body[data-ready="detail"]`)), loaded}},
	} {
		if err := chromedp.Do(ctx, step.actions...); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		webScreenshot(t, ctx, step.name)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestWebPage drives the web page in headless Chromium against galaxy serve
// (built-in model, a 1,000-row catalog of predict's output, galaxy embed's
// index): it classifies two dropped cutouts and checks the page shows the
// API's classes and probabilities, filters the catalog to one class and
// checks the count against the file, opens a galaxy and one of its similar
// galaxies, and fails on any console error or failed request.
func TestWebPage(t *testing.T) {
	if raceEnabled {
		t.Skip("the built-in model's TTA scoring is too slow under -race")
	}
	var problems []string
	var mu sync.Mutex
	ctx := browser(t, &problems, &mu)
	dir := t.TempDir()
	cat := writeCutouts(t, dir, 1000)
	pred, emb := filepath.Join(dir, "pred.csv"), filepath.Join(dir, "emb.npz")
	if code, _, stderr := run(t, "predict", cat, "--out", pred); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := run(t, "embed", "--out", emb, cat); code != 0 {
		t.Fatal(stderr)
	}
	addr, _ := startServe(t, "--catalog", pred, "--images", filepath.Dir(cat), "--index", emb)
	base := "http://" + addr

	// Classify: two cutouts, as a user picks them.
	files := []string{filepath.Join(dir, "cutouts", "g0003.jpg"), filepath.Join(dir, "cutouts", "g0010.jpg")}
	var shown string
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitReady(chromedp.CSS("#drop")),
		chromedp.SetUploadFiles(chromedp.CSS("#files"), files),
		chromedp.WaitReady(chromedp.CSS(`body[data-pending="0"]`)),
		into(&shown, chromedp.Evaluate[string](`JSON.stringify([...document.querySelectorAll(".result")].map(r => ({
			name: r.dataset.name, alt: [...r.querySelectorAll("img")].map(i => i.alt && i.complete && i.naturalWidth > 0),
			bars: [...r.querySelectorAll(".bar")].map(b => ({name: b.dataset.class, p: b.dataset.p, text: b.querySelector(".p").textContent}))})))`)),
	)
	if err != nil {
		t.Fatalf("classify view: %v", err)
	}
	var results []struct {
		Name string
		Alt  []bool
		Bars []struct{ Name, P, Text string }
	}
	if err := json.Unmarshal([]byte(shown), &results); err != nil || len(results) != 2 {
		t.Fatalf("classify view shows %s (%v)", shown, err)
	}
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(base+"/v1/classify", "image/jpeg", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		var api serve.Result
		json.NewDecoder(resp.Body).Decode(&api)
		resp.Body.Close()
		r := results[i]
		if r.Name != filepath.Base(f) || len(r.Bars) != len(api.Ranked) || len(api.Ranked) == 0 {
			t.Fatalf("%s: the page shows %+v, the API answers %+v", f, r, api)
		}
		for _, ok := range r.Alt {
			if !ok {
				t.Errorf("%s: an image without alt text or not loaded: %v", f, r.Alt)
			}
		}
		for j, want := range api.Ranked {
			got := r.Bars[j]
			p, err := strconv.ParseFloat(got.P, 32)
			if got.Name != want.Name || err != nil || float32(p) != want.P || got.Text != fmt.Sprintf("%.1f%%", 100*want.P) {
				t.Errorf("%s rank %d: the page shows %s %s (%s), the API %s %v", f, j+1, got.Name, got.P, got.Text, want.Name, want.P)
			}
		}
	}

	// Browse: filter to the class with the most rows but not all.
	counts := map[string]int{}
	rows := readCSV(t, pred)
	for _, r := range rows[1:] {
		counts[r[2]]++
	}
	class, n := "", 0
	for c, k := range counts {
		if k > n && k < len(rows)-1 {
			class, n = c, k
		}
	}
	if class == "" {
		t.Fatalf("predict gave one class to every row: %v", counts)
	}
	var matched chromedp.AttributeResult
	var tiles string
	var tileClasses []string
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/browse"),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="browse"]`)),
		chromedp.SetValue(chromedp.CSS("#f-class"), class),
		chromedp.Click(chromedp.CSS(`#filters button[type="submit"]`)),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "browse" && document.body.dataset.view === location.hash && location.hash.includes("class=`+class+`&")`, chromedp.WithPollingTimeout(30*time.Second)),
		into(&matched, chromedp.AttributeValue(chromedp.CSS("#count"), "data-matched")),
		into(&tiles, chromedp.Evaluate[string](`String(document.querySelectorAll("#grid .tile").length)`)),
		into(&tileClasses, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#grid .tile")].map(a => a.dataset.class)`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#grid img")].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("browse view: %v", err)
	}
	ci, _ := strconv.Atoi(class)
	var names []string
	json.Unmarshal([]byte(catalogClasses(t, base)), &names)
	if matched.Value != strconv.Itoa(n) || tiles != strconv.Itoa(min(n, 60)) {
		t.Errorf("class %s: the page counts %s galaxies and shows %s tiles; the file has %d", class, matched.Value, tiles, n)
	}
	for _, c := range tileClasses {
		if ci >= len(names) || c != names[ci] {
			t.Errorf("a tile of class %q in the view filtered to %v", c, names)
			break
		}
	}

	// One galaxy and its similar galaxies; then one of those.
	var heading, heading2 string
	var nbID chromedp.AttributeResult
	var similar int
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#grid .tile")),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="detail"]`)),
		into(&heading, chromedp.Text(chromedp.CSS("#h-detail"))),
		into(&similar, chromedp.Evaluate[int](`document.querySelectorAll("#similar .neighbour").length`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("main img")].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("detail view: %v", err)
	}
	if similar != 10 || !strings.HasPrefix(heading, "Galaxy 10") {
		t.Fatalf("detail view: heading %q, %d similar galaxies (want 10)", heading, similar)
	}
	err = chromedp.Do(ctx, into(&nbID, chromedp.AttributeValue(chromedp.CSS("#similar a.neighbour"), "data-id")))
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#similar a.neighbour")),
			chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "detail" && document.querySelector("#h-detail").textContent.includes(`+strconv.Quote(nbID.Value)+`)`, chromedp.WithPollingTimeout(30*time.Second)),
			into(&heading2, chromedp.Text(chromedp.CSS("#h-detail"))),
		)
	}
	if err != nil || nbID.Value == "" || !strings.Contains(heading2, nbID.Value) {
		t.Fatalf("opening the similar galaxy %q: %v (heading %q)", nbID.Value, err, heading2)
	}

	// Back to the catalog as it was filtered.
	var back chromedp.AttributeResult
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#back")),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "browse" && document.body.dataset.view === location.hash`, chromedp.WithPollingTimeout(30*time.Second)),
		into(&back, chromedp.AttributeValue(chromedp.CSS("#count"), "data-matched")),
	)
	if err != nil || back.Value != strconv.Itoa(n) {
		t.Errorf("back to the catalog: %v, %s galaxies shown, want the filtered %d", err, back.Value, n)
	}

	// The model's card.
	var card string
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/#/model"),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="model"]`)),
		into(&card, chromedp.Text(chromedp.CSS("#card"))),
	)
	if err != nil || !strings.Contains(card, "test accuracy") || !strings.Contains(card, "cnn") {
		t.Errorf("model view: %v: %q", err, card)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

// catalogClasses returns the served catalog's class names as JSON.
func catalogClasses(t *testing.T, base string) string {
	resp, err := http.Get(base + "/v1/catalog?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p serve.CatalogPage
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p.Classes)
	return string(b)
}

// readCSV reads the CSV file at path (readRows).
func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readRows(t, string(b))
}

// BenchmarkBrowse100k times the first page of the browse view of a
// 100,000-row catalog (predict's output for 1,000 synthetic cutouts, each
// listed 100 times) in headless Chromium against galaxy serve: from the
// navigation until all 60 thumbnails have loaded. Each iteration starts a
// fresh server, so no thumbnail is cached. It reports the server's peak
// RSS (VmHWM) as peak-MB.
func BenchmarkBrowse100k(b *testing.B) {
	var problems []string
	var mu sync.Mutex
	ctx := browser(b, &problems, &mu)
	dir := b.TempDir()
	cat := writeCutouts(b, dir, 1000)
	small := filepath.Join(dir, "small.csv")
	if code, _, stderr := runTB(b, "predict", cat, "--out", small); code != 0 {
		b.Fatal(stderr)
	}
	rows := readCSV(b, small)
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	w.Write(rows[0])
	for i := range 100_000 {
		r := slices.Clone(rows[1+i%(len(rows)-1)])
		r[0] = strconv.Itoa(2000000 + i)
		w.Write(r)
	}
	w.Flush()
	pred := filepath.Join(dir, "pred.csv")
	if err := os.WriteFile(pred, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	var peak float64
	for b.Loop() {
		b.StopTimer()
		addr, proc := startServe(b, "--catalog", pred, "--images", filepath.Dir(cat))
		b.StartTimer()
		err := chromedp.Do(ctx,
			chromedp.Navigate("http://"+addr+"/#/browse"),
			chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "browse" && [...document.querySelectorAll("#grid img")].length === 60 && [...document.querySelectorAll("#grid img")].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(60*time.Second)),
		)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, vmHWM(b, proc.Pid))
		proc.Signal(syscall.SIGTERM)
		b.StartTimer()
	}
	b.ReportMetric(peak, "peak-MB")
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		b.Error(p)
	}
}

// vmHWM returns a process's peak resident set size in MB (Linux).
func vmHWM(tb testing.TB, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	tb.Skip("no VmHWM in /proc/PID/status")
	return 0
}
