package report

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"galaxy/eval"
	"galaxy/internal/atomicfile"
	"galaxy/plot"
	"galaxy/train"
)

// Options shape an HTML report.
type Options struct {
	Worst    int       // tiles in the gallery of worst mistakes (default 24)
	PerClass int       // correctly classified examples shown per class (default 8)
	DPI      int       // resolution of the embedded charts (default 144)
	Now      time.Time // the time written into the report (default now)
}

func (o *Options) defaults() {
	if o.Worst <= 0 {
		o.Worst = 24
	}
	if o.PerClass <= 0 {
		o.PerClass = 8
	}
	if o.DPI <= 0 {
		o.DPI = 144
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// Write writes the HTML report of run, measured by a, to path atomically.
func Write(path string, run *train.Record, a *Analysis, opt Options) error {
	if opt.Worst < 0 || opt.PerClass < 0 {
		return fmt.Errorf("%d worst mistakes and %d examples per class: must not be negative", opt.Worst, opt.PerClass)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return HTML(w, run, a, opt) })
}

// Summary says in one line what a report of a split shows.
func (a *Analysis) Summary(split string) string {
	return fmt.Sprintf("accuracy %.4f on %d %s images, %d mistakes, second choice right in %d (%.1f%%), ECE %.4f",
		a.Metrics.Accuracy, a.Metrics.N, split, a.Mistakes.Wrong, a.Mistakes.SecondRight, 100*a.Mistakes.SecondFrac, a.Calib.ECE)
}

// HTML writes the report: one self-contained page (inline CSS, pictures as
// base64 PNG data URIs, no script, nothing fetched from anywhere).
func HTML(w io.Writer, run *train.Record, a *Analysis, opt Options) error {
	opt.defaults()
	pg, err := buildPage(run, a, opt)
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, pg)
}

type kv struct{ Key, Value string }

type picture struct {
	URI  template.URL
	W, H int // display size in CSS pixels
	Alt  string
}

type tile struct {
	Pic     picture
	Lines   []string
	Wrong   bool
	Tooltip string
}

type classRow struct {
	AP                    string // average precision
	Name                  string
	Precision, Recall, F1 string
	Support, Predicted    int
	RecallPct             float64
}

type gallery struct {
	Name  string
	Note  string
	Tiles []tile
}

type page struct {
	Title, Subtitle string
	Written         string
	Summary         []kv
	Settings, Flags []kv
	Run             []kv // the run's metrics.json
	Accuracy, Loss  *picture
	NoCurve         string
	Confusion       picture
	TopKChart       picture
	Reliability     picture
	ReliabilityRaw  *picture // before the model's temperature scaling, when it has one
	PR              picture
	Temperature     string
	Classes         []classRow
	Pairs           [][]string
	TopK            [][]string
	Bins            [][]string
	ECE, MCE        string
	NBins           int
	Wrong, N        int
	SecondRight     int
	SecondPct       string
	Correct         []gallery
	Worst           []tile
	WorstN          int
	SplitName       string
}

func dataURI(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

func figure(f *plot.Figure, dpi int, alt string) (picture, error) {
	b, err := f.PNG(dpi)
	if err != nil {
		return picture{}, err
	}
	return picture{URI: dataURI(b), W: int(f.W.Dots(96) + 0.5), H: int(f.H.Dots(96) + 0.5), Alt: alt}, nil
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

func buildPage(run *train.Record, a *Analysis, opt Options) (*page, error) {
	m, met := a.Model, a.Metrics
	classes := m.Meta.Classes
	split := a.SplitName
	pg := &page{
		Title:     fmt.Sprintf("galaxy report: %s on %s (%s)", m.Meta.Arch, filepath.Base(a.Data.Source), m.Meta.Scheme),
		Subtitle:  fmt.Sprintf("%s split: %d images of %d classes", split, met.N, len(classes)),
		Written:   opt.Now.UTC().Format("2006-01-02 15:04 UTC"),
		Wrong:     a.Mistakes.Wrong,
		N:         met.N,
		SplitName: split,
		ECE:       fmt.Sprintf("%.4f", a.Calib.ECE),
		MCE:       fmt.Sprintf("%.4f", a.Calib.MCE),
		NBins:     len(a.Calib.Bins),
	}
	if run != nil && run.Dir != "" {
		pg.Subtitle = "run " + run.Dir + " · " + pg.Subtitle
	}
	pg.SecondRight = a.Mistakes.SecondRight
	pg.SecondPct = pct(a.Mistakes.SecondFrac)
	pg.Summary = []kv{
		{"accuracy", pct(met.Accuracy)},
		{"balanced accuracy", pct(met.BalancedAccuracy)},
		{"top-2 accuracy", pct(met.Top2Accuracy)},
		{"majority class", pct(met.MajorityAccuracy)},
		{"mistakes", fmt.Sprintf("%d of %d", a.Mistakes.Wrong, met.N)},
		{"second choice right", fmt.Sprintf("%d of %d mistakes (%s)", a.Mistakes.SecondRight, a.Mistakes.Wrong, pct(a.Mistakes.SecondFrac))},
		{"calibration error (ECE)", pg.ECE},
	}

	// Settings: the model's description, then the run's metrics.json.
	in := m.Meta.Input
	pg.Settings = []kv{
		{"model", m.Meta.Arch},
		{"scheme", fmt.Sprintf("%s: %s", m.Meta.Scheme, strings.Join(classes, " · "))},
		{"input", fmt.Sprintf("%dx%d, channels %s of %d, scaled by %g", in.Height, in.Width, ints(in.Channels), in.SourceChannels, in.Scale)},
	}
	for _, k := range sortedKeys(m.Meta.Hyper) {
		pg.Settings = append(pg.Settings, kv{k, fmt.Sprint(m.Meta.Hyper[k])})
	}
	pg.Settings = append(pg.Settings, kv{"data", a.Data.Source}, kv{"evaluated on", fmt.Sprintf("the %s split (%d images)", split, met.N)})
	if run == nil || run.Metrics == nil { // else the run's table says it
		for _, k := range sortedKeys(m.Meta.Info) {
			if k != "data" {
				pg.Settings = append(pg.Settings, kv{strings.ReplaceAll(k, "_", " "), m.Meta.Info[k]})
			}
		}
	}
	if run != nil && run.Metrics != nil {
		met := jsonFields(run.Metrics)
		for _, k := range sortedKeys(met) {
			switch {
			case strings.HasPrefix(k, "config."), k == "model", k == "scheme", k == "data", k == "channels", k == "dim":
				continue // in the settings or the model's description
			}
			pg.Run = append(pg.Run, kv{strings.ReplaceAll(k, "_", " "), value(met[k])})
		}
		cfg := jsonFields(run.Metrics.Config)
		for _, k := range sortedKeys(cfg) {
			pg.Flags = append(pg.Flags, kv{k, value(cfg[k])})
		}
	}

	// Learning curves.
	if run != nil && len(run.Curve) > 0 {
		acc, loss := train.CurveCharts(run.Curve, met.MajorityAccuracy, m.Meta.Arch, m.Meta.Scheme)
		for _, c := range []struct {
			ch  plotChart
			dst **picture
			alt string
		}{{acc, &pg.Accuracy, "test accuracy against step"}, {loss, &pg.Loss, "loss against step"}} {
			f, err := c.ch.Figure()
			if err != nil {
				return nil, err
			}
			f.W, f.H = 5.4*vg.Inch, 3.6*vg.Inch
			p, err := figure(f, opt.DPI, c.alt)
			if err != nil {
				return nil, err
			}
			*c.dst = &p
		}
	} else {
		pg.NoCurve = "The run folder has no learning curve (curve.csv)."
	}

	// Confusion, top-k, calibration.
	f, err := plot.Confusion(classes, met.Confusion, fmt.Sprintf("Confusion matrix, %s split (colour: share of the true class)", split))
	if err != nil {
		return nil, err
	}
	if pg.Confusion, err = figure(f, opt.DPI, "confusion matrix heat map"); err != nil {
		return nil, err
	}
	if f, err = plot.TopK(met.TopK, "Top-k accuracy: true class among the k best"); err != nil {
		return nil, err
	}
	if pg.TopKChart, err = figure(f, opt.DPI, "top-k accuracy"); err != nil {
		return nil, err
	}
	if f, err = plot.Reliability(a.Calib, "Reliability diagram"); err != nil {
		return nil, err
	}
	if pg.Reliability, err = figure(f, opt.DPI, "reliability diagram"); err != nil {
		return nil, err
	}
	if a.CalibRaw != a.Calib {
		pg.Temperature = fmt.Sprintf("%.3g", m.Temperature())
		if f, err = plot.Reliability(a.CalibRaw, "Before temperature scaling"); err != nil {
			return nil, err
		}
		raw, err := figure(f, opt.DPI, "reliability diagram before temperature scaling")
		if err != nil {
			return nil, err
		}
		pg.ReliabilityRaw = &raw
	}
	pr := plot.Chart{Title: fmt.Sprintf("Precision and recall by class, %s split", split), XLabel: "recall", YLabel: "precision", YMin: 0, YMax: 1.02}
	for c, name := range classes {
		r, p, _ := eval.PRCurve(a.Probs, a.Split.Labels, len(classes), c)
		if r != nil {
			pr.Series = append(pr.Series, plot.Series{Name: fmt.Sprintf("%s (AP %.3f)", name, met.AveragePrecision[c]), X: r, Y: p})
		}
	}
	if f, err = pr.Figure(); err != nil {
		return nil, err
	}
	if pg.PR, err = figure(f, opt.DPI, "precision-recall curves"); err != nil {
		return nil, err
	}

	for c, name := range classes {
		predicted := 0
		for t := range classes {
			predicted += met.Confusion[t][c]
		}
		pg.Classes = append(pg.Classes, classRow{Name: name, Precision: f3(met.Precision[c]), Recall: f3(met.Recall[c]), F1: f3(met.F1[c]), AP: f3(met.AveragePrecision[c]),
			Support: met.Support[c], Predicted: predicted, RecallPct: math.Round(1000*met.Recall[c]) / 10})
	}
	for i, p := range a.Mistakes.Pairs {
		if i == 10 {
			break
		}
		pg.Pairs = append(pg.Pairs, []string{classes[p.True], classes[p.Pred], fmt.Sprint(p.Count), pct(p.OfTrue), pct(p.OfErrors)})
	}
	for j, v := range met.TopK {
		pg.TopK = append(pg.TopK, []string{fmt.Sprintf("top-%d", j+1), pct(v), fmt.Sprint(a.Mistakes.RankCounts[j])})
	}
	for _, b := range a.Calib.Bins {
		row := []string{fmt.Sprintf("%.2f – %.2f", b.Lo, b.Hi), fmt.Sprint(b.Count), "", "", ""}
		if b.Count > 0 {
			row[2], row[3], row[4] = f3(b.Confidence), f3(b.Accuracy), f3(math.Abs(b.Accuracy-b.Confidence))
		}
		pg.Bins = append(pg.Bins, row)
	}

	// Galleries.
	for c, name := range classes {
		best := eval.Best(a.Preds, c, opt.PerClass)
		g := gallery{Name: name, Note: fmt.Sprintf("%d of %d classified correctly; the %d most confident", met.Confusion[c][c], met.Support[c], len(best))}
		if len(best) == 0 {
			g.Note = fmt.Sprintf("none of %d classified correctly", met.Support[c])
		}
		for _, p := range best {
			t, err := galaxyTile(a, p, []string{fmt.Sprintf("p = %.3f", p.Conf), fmt.Sprintf("%s #%d", split, p.Index)}, false)
			if err != nil {
				return nil, err
			}
			g.Tiles = append(g.Tiles, t)
		}
		pg.Correct = append(pg.Correct, g)
	}
	worst := eval.Worst(a.Preds, opt.Worst)
	pg.WorstN = len(worst)
	for _, p := range worst {
		second := "2nd: " + classes[p.Second]
		if p.SecondHit {
			second += " ✓"
		}
		lines := []string{"true: " + classes[p.True], fmt.Sprintf("pred: %s %.2f", classes[p.Pred], p.Conf), second, fmt.Sprintf("%s #%d", split, p.Index)}
		t, err := galaxyTile(a, p, lines, true)
		if err != nil {
			return nil, err
		}
		pg.Worst = append(pg.Worst, t)
	}
	return pg, nil
}

// galaxyTile embeds galaxy p.Index at its own size (the page doubles it).
func galaxyTile(a *Analysis, p eval.Prediction, lines []string, wrong bool) (tile, error) {
	img, err := GalaxyImage(a.Split, p.Index, 1)
	if err != nil {
		return tile{}, err
	}
	b, err := pngBytes(img)
	if err != nil {
		return tile{}, err
	}
	classes := a.Model.Meta.Classes
	tip := fmt.Sprintf("%s image %d (file image %d)", a.SplitName, p.Index, a.Split.Index[p.Index])
	if a.Split.IDs != nil {
		tip += fmt.Sprintf(", id %d", a.Split.IDs[p.Index])
	}
	probs := a.Probs[p.Index*len(classes) : (p.Index+1)*len(classes)]
	for _, c := range p.Ranking {
		tip += fmt.Sprintf("\n%s %.3f", classes[c], probs[c])
	}
	return tile{Pic: picture{URI: dataURI(b), W: 2 * a.Split.W, H: 2 * a.Split.H, Alt: lines[0]}, Lines: lines, Wrong: wrong, Tooltip: tip}, nil
}

type plotChart interface {
	Figure() (*plot.Figure, error)
}

// jsonFields returns v's fields as its JSON has them, nested objects
// flattened to "outer.inner" keys.
func jsonFields(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(b, &m)
	out := map[string]any{}
	for k, x := range m {
		if sub, ok := x.(map[string]any); ok {
			for sk, sx := range jsonFields(sub) {
				out[k+"."+sk] = sx
			}
			continue
		}
		out[k] = x
	}
	return out
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// value formats a metrics.json value for the settings table.
func value(v any) string {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.4g", x)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
