package train

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"galaxy/data"
	"galaxy/data/load"
	"galaxy/internal/atomicfile"
	"galaxy/model"
	"galaxy/plot"
)

// Folder is a run folder: what Run writes and galaxy report reads. Its
// files, each written atomically:
//
//	model                  the trained model (package model; eval, predict, serve load it)
//	curve.csv              the learning curve: step,train_loss,test_loss,test_accuracy
//	accuracy.png, .svg     test accuracy against step, beside the majority class
//	loss.png, .svg         training and test loss against step
//	metrics.json           Metrics: the settings (Config) and the final figures
//	checkpoint             the state to resume from (CheckpointFile; see WriteCheckpoint)
type Folder string

// The names of a run folder's files.
const (
	ModelFile   = "model"
	CurveFile   = "curve.csv"
	MetricsFile = "metrics.json"
)

// Metrics is metrics.json: what a run was told and what it measured.
// Fields of the epoch trainer only are left out for the step trainer.
type Metrics struct {
	Arch     string `json:"model"`
	Data     string `json:"data"`
	Scheme   string `json:"scheme"`
	Channels string `json:"channels"`
	NTrain   int    `json:"n_train"`
	NVal     int    `json:"n_val,omitempty"`
	NTest    int    `json:"n_test"`
	Dim      int    `json:"dim"`
	Widths   []int  `json:"widths,omitempty"`
	Convs    []int  `json:"convs,omitempty"`
	Crop     int    `json:"crop,omitempty"`

	Seed      uint64  `json:"seed"`
	SplitSeed uint64  `json:"split_seed"`
	TestFrac  float64 `json:"test_frac"`
	Config    Config  `json:"config"`

	Steps        int  `json:"steps"`
	Epochs       int  `json:"epochs,omitempty"`
	BestEpoch    int  `json:"best_epoch,omitempty"`
	EarlyStopped bool `json:"early_stopped,omitempty"`
	Interrupted  bool `json:"interrupted"`
	TTA          bool `json:"tta,omitempty"`

	TestAccuracy         float64  `json:"test_accuracy"`
	TestBalancedAccuracy float64  `json:"test_balanced_accuracy"`
	LogitAdjustTau       float64  `json:"logit_adjust_tau"`
	Temperature          float64  `json:"temperature,omitempty"` // of the calibration folded into the model (1: none)
	TestLoss             float64  `json:"test_loss"`
	ValAccuracy          *float64 `json:"val_accuracy,omitempty"` // nil without a validation part
	TrainLoss            float64  `json:"train_loss"`
	BestTestAccuracy     float64  `json:"best_test_accuracy"`
	MajorityAccuracy     float64  `json:"majority_accuracy"`

	WallSeconds     float64 `json:"wall_seconds"`
	StepMs          float64 `json:"step_ms"`
	TrainImagesPerS float64 `json:"train_images_per_s,omitempty"`
	SecondsPerEpoch float64 `json:"seconds_per_epoch,omitempty"`
}

// Summary is the run's result in one line.
func (m *Metrics) Summary(dir string) string {
	if m.Epochs > 0 {
		return fmt.Sprintf("test accuracy %.4f, balanced %.4f (majority class %.4f) with the model of epoch %d of %d, in %.1fs; wrote %s",
			m.TestAccuracy, m.TestBalancedAccuracy, m.MajorityAccuracy, m.BestEpoch, m.Epochs, m.WallSeconds, dir)
	}
	return fmt.Sprintf("test accuracy %.4f (majority class %.4f) after %d steps in %.1fs; wrote %s",
		m.TestAccuracy, m.MajorityAccuracy, m.Steps, m.WallSeconds, dir)
}

// Write writes the model, the curve, its plots and the metrics.
func (f Folder) Write(m *model.Model, curve []Point, met *Metrics) error {
	dir := string(f)
	if err := m.Save(filepath.Join(dir, ModelFile)); err != nil {
		return err
	}
	if err := WriteCurve(filepath.Join(dir, CurveFile), curve); err != nil {
		return err
	}
	acc, loss := CurveCharts(curve, met.MajorityAccuracy, met.Arch, met.Scheme)
	if err := acc.Save(filepath.Join(dir, "accuracy")); err != nil {
		return err
	}
	if err := loss.Save(filepath.Join(dir, "loss")); err != nil {
		return err
	}
	b, err := json.MarshalIndent(met, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, MetricsFile), append(b, '\n'))
}

// Record is a run folder as read back.
type Record struct {
	Dir     string
	Model   *model.Model
	Metrics *Metrics // nil when the folder has no metrics.json
	Curve   []Point  // nil when the folder has no curve.csv
}

// Read reads the run folder. The model is required; metrics.json and
// curve.csv are read when present (a damaged one is an error).
func (f Folder) Read() (*Record, error) {
	dir := string(f)
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("run folder %s: no such folder", dir)
		}
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run folder %s: not a folder (give the folder a training run wrote)", dir)
	}
	mp := filepath.Join(dir, ModelFile)
	if _, err := os.Stat(mp); err != nil {
		return nil, fmt.Errorf("run folder %s has no model (%s): give the folder a training run wrote", dir, mp)
	}
	m, err := model.Load(mp)
	if err != nil {
		return nil, err
	}
	r := &Record{Dir: dir, Model: m}
	if b, err := os.ReadFile(filepath.Join(dir, MetricsFile)); err == nil {
		r.Metrics = &Metrics{}
		if err := json.Unmarshal(b, r.Metrics); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MetricsFile), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if r.Curve, err = ReadCurve(filepath.Join(dir, CurveFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return r, nil
}

// WriteCurve writes a learning curve as curve.csv.
func WriteCurve(path string, curve []Point) error {
	ff := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"step", "train_loss", "test_loss", "test_accuracy"})
		for _, p := range curve {
			cw.Write([]string{strconv.Itoa(p.Step), ff(p.TrainLoss), ff(p.TestLoss), ff(p.TestAccuracy)})
		}
		cw.Flush()
		return cw.Error()
	})
}

// ReadCurve reads a curve.csv (step, train_loss, test_loss, test_accuracy).
func ReadCurve(path string) ([]Point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || len(rows[0]) < 4 || rows[0][0] != "step" {
		return nil, fmt.Errorf("%s: not a learning curve (want the header step,train_loss,test_loss,test_accuracy)", path)
	}
	var out []Point
	for i, r := range rows[1:] {
		var p Point
		var errs [4]error
		p.Step, errs[0] = strconv.Atoi(r[0])
		p.TrainLoss, errs[1] = strconv.ParseFloat(r[1], 64)
		p.TestLoss, errs[2] = strconv.ParseFloat(r[2], 64)
		p.TestAccuracy, errs[3] = strconv.ParseFloat(r[3], 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, i+2, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// CurveCharts are the charts of a run: test accuracy against step beside
// the majority-class line, and the losses.
func CurveCharts(curve []Point, majority float64, arch, sch string) (plot.Chart, plot.Chart) {
	var x, acc, tr, te []float64
	for _, p := range curve {
		x = append(x, float64(p.Step))
		acc = append(acc, p.TestAccuracy)
		tr = append(tr, p.TrainLoss)
		te = append(te, p.TestLoss)
	}
	lo, hi := majority, majority
	for _, v := range acc {
		lo, hi = min(lo, v), max(hi, v)
	}
	a := plot.Chart{Title: fmt.Sprintf("Test accuracy of %s (%s)", arch, sch), XLabel: "step", YLabel: "test accuracy",
		Series: []plot.Series{{Name: "test accuracy", X: x, Y: acc}},
		YMin:   max(0, math.Floor((lo-0.02)*20)/20), YMax: min(1, math.Ceil((hi+0.02)*20)/20),
		Baseline: majority, BaselineName: fmt.Sprintf("majority class (%.3f)", majority)}
	l := plot.Chart{Title: fmt.Sprintf("Loss of %s (%s)", arch, sch), XLabel: "step", YLabel: "loss",
		Series: []plot.Series{{Name: "train (mean since last point)", X: x, Y: tr}, {Name: "test", X: x, Y: te}}, LegendTop: true}
	return a, l
}

// RecordedSource returns the data source model m records: the file it was
// trained on, prepared with its scheme and channels and split as in
// training (the defaults where it records none).
func RecordedSource(m *model.Model) load.Source {
	src := load.DefaultSource()
	info := m.Meta.Info
	src.Path = info[model.InfoData]
	src.Prepare.Scheme = m.Meta.Scheme
	prep := m.Preparation()
	src.Prepare.Channels, src.Prepare.Resize = prep.Channels, prep.Resize
	if v, err := strconv.ParseFloat(info[model.InfoTestFrac], 64); err == nil {
		src.Prepare.TestFrac = v
	}
	if v, err := strconv.ParseUint(info[model.InfoSplitSeed], 10, 64); err == nil {
		src.Prepare.SplitSeed = v
	}
	return src
}

// WriteSplit writes as CSV (index,id,label,part) which image of raw each
// part of a run on ds uses: part test, val (the validation part an epoch
// run carves from the training split with valFrac and seed, as
// CarveValidation does) or train. index is the image's position in the file,
// id its object id when the file has them, label its class in ds's scheme.
// Another tool (bench/pytorch) reads it to train on exactly galaxy's split.
func WriteSplit(path string, raw *data.Raw, ds *data.Dataset, valFrac float64, seed uint64) error {
	tr, val := ds.Train, (*data.Split)(nil)
	if valFrac > 0 {
		tr, val = CarveValidation(ds.Train, ds.Scheme.K(), valFrac, seed)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"index", "id", "label", "part"})
		for _, p := range []struct {
			s    *data.Split
			name string
		}{{tr, "train"}, {val, "val"}, {ds.Test, "test"}} {
			if p.s == nil {
				continue
			}
			for i, fi := range p.s.Index {
				id := ""
				if raw.IDs != nil {
					id = strconv.FormatInt(raw.IDs[fi], 10)
				}
				cw.Write([]string{strconv.Itoa(fi), id, strconv.Itoa(p.s.Labels[i]), p.name})
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
