package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"galaxy/model"
	"galaxy/train"
)

// Run is a training run's folder as galaxy train leaves it: the model, and
// when present metrics.json (settings and final figures) and curve.csv (the
// learning curve).
type Run struct {
	Dir     string
	Model   *model.Model
	Metrics map[string]any // nil when the folder has no metrics.json
	Curve   []train.Point  // nil when the folder has no curve.csv
}

// LoadRun reads a run folder. The model is required; metrics.json and
// curve.csv are read when present (a damaged one is an error).
func LoadRun(dir string) (*Run, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("run folder %s: no such folder", dir)
		}
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run folder %s: not a folder (give the folder galaxy train --out wrote)", dir)
	}
	mp := filepath.Join(dir, "model")
	if _, err := os.Stat(mp); err != nil {
		return nil, fmt.Errorf("run folder %s has no model (%s): give the folder galaxy train --out wrote", dir, mp)
	}
	m, err := model.Load(mp)
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, Model: m}
	if b, err := os.ReadFile(filepath.Join(dir, "metrics.json")); err == nil {
		if err := json.Unmarshal(b, &r.Metrics); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "metrics.json"), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if r.Curve, err = ReadCurve(filepath.Join(dir, "curve.csv")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return r, nil
}

// ReadCurve reads a curve.csv written by galaxy train (step, train_loss,
// test_loss, test_accuracy).
func ReadCurve(path string) ([]train.Point, error) {
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
	var out []train.Point
	for i, r := range rows[1:] {
		var p train.Point
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
