// Command finetuneplot summarises scripts/finetune.sh's runs: for each way
// of training (from scratch, fine-tuned, head only, probe) and number of
// labels, the mean and standard deviation of the test accuracy over the
// seeds, as a Markdown table on standard output and a chart (PNG and SVG).
//
//	go run ./scripts/finetuneplot RUNS docs/images/finetune-gz2
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"

	"galaxy/plot"
)

// modes are the ways of training, as finetune.sh names the run folders.
var modes = []struct{ dir, name string }{
	{"scratch", "from scratch"},
	{"builtin", "--init builtin --trunk-lr 0.1"},
	{"frozen", "--init builtin --freeze 4"},
	{"probe", "--init builtin --probe"},
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: finetuneplot RUNS OUT (OUT.png and OUT.svg are written)")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "finetuneplot:", err)
		os.Exit(1)
	}
}

func run(runs, out string) error {
	// acc[mode][labels] holds one test accuracy per seed.
	acc := map[string]map[int][]float64{}
	majority := math.NaN()
	dirs, err := filepath.Glob(filepath.Join(runs, "*-*-*"))
	if err != nil {
		return err
	}
	var labels []int
	for _, d := range dirs {
		parts := strings.Split(filepath.Base(d), "-")
		n, err := strconv.Atoi(parts[1])
		if len(parts) != 3 || err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "metrics.json"))
		if err != nil {
			continue // a run not finished
		}
		var m struct {
			TestAccuracy     float64 `json:"test_accuracy"`
			MajorityAccuracy float64 `json:"majority_accuracy"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		if acc[parts[0]] == nil {
			acc[parts[0]] = map[int][]float64{}
		}
		acc[parts[0]][n] = append(acc[parts[0]][n], m.TestAccuracy)
		majority = m.MajorityAccuracy
		if !slices.Contains(labels, n) {
			labels = append(labels, n)
		}
	}
	if len(labels) == 0 {
		return fmt.Errorf("no finished runs in %s", runs)
	}
	slices.Sort(labels)
	fmt.Print("| training labels |")
	for _, m := range modes {
		fmt.Printf(" `%s` |", m.name)
	}
	fmt.Print("\n|---|")
	for range modes {
		fmt.Print("---|")
	}
	fmt.Println()
	chart := plot.Chart{Title: "Label efficiency on gz2_spiral (mean of the seeds)", XLabel: "training labels",
		YLabel: "test accuracy", Baseline: majority, BaselineName: "not spiral, always"}
	for _, n := range labels {
		fmt.Printf("| %d |", n)
		for _, m := range modes {
			v := acc[m.dir][n]
			if len(v) == 0 {
				fmt.Print(" |")
				continue
			}
			mean, sd := meanSD(v)
			fmt.Printf(" %.3f ± %.3f (%d) |", mean, sd, len(v))
		}
		fmt.Println()
	}
	for _, m := range modes {
		s := plot.Series{Name: m.name}
		for _, n := range labels {
			if v := acc[m.dir][n]; len(v) > 0 {
				mean, _ := meanSD(v)
				s.X, s.Y = append(s.X, math.Log10(float64(n))), append(s.Y, mean)
			}
		}
		if len(s.X) > 0 {
			chart.Series = append(chart.Series, s)
		}
	}
	chart.XLabel = "training labels (log10)"
	return chart.Save(out)
}

// meanSD returns the mean and the sample standard deviation (0 for one
// value).
func meanSD(v []float64) (float64, float64) {
	if len(v) < 2 {
		return stat.Mean(v, nil), 0
	}
	return stat.MeanStdDev(v, nil)
}
