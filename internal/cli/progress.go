package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// meter shows the progress of a long job (train's steps, predict's images,
// fetch's bytes): a bar on a terminal, elsewhere a plain line at most every
// 10 seconds with the rate and time left (none when quiet: the job prints
// lines of its own).
type meter struct {
	w           io.Writer
	name, unit  string
	total       int64 // <= 0: unknown
	bar         *progressbar.ProgressBar
	quiet       bool
	start, last time.Time
	done, first int64
}

func newMeter(w io.Writer, name, unit string, total int64, quiet bool) *meter {
	m := &meter{w: w, name: name, unit: unit, total: total, quiet: quiet, start: time.Now(), last: time.Now(), first: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(name),
			progressbar.OptionThrottle(100 * time.Millisecond), progressbar.OptionShowCount(), progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(true)}
		if unit == "bytes" {
			opts = append(opts, progressbar.OptionShowBytes(true))
		} else {
			opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
		}
		m.bar = progressbar.NewOptions64(max(total, -1), opts...)
	}
	return m
}

// set records that done units are done (of the total).
func (m *meter) set(done int64) {
	if m.first < 0 { // a resumed job starts part way
		m.first = done
	}
	m.done = done
	switch {
	case m.bar != nil:
		m.bar.Set64(done)
	case !m.quiet && time.Since(m.last) >= 10*time.Second:
		m.last = time.Now()
		rate := float64(done-m.first) / time.Since(m.start).Seconds()
		left := ""
		if m.total > 0 && rate > 0 {
			left = fmt.Sprintf(", %s left", (time.Duration(float64(m.total-done)/rate) * time.Second).Round(time.Second))
		}
		d, t, unit := float64(done), float64(m.total), m.unit
		if unit == "bytes" {
			d, t, rate, unit = d/1e6, t/1e6, rate/1e6, "MB"
		}
		fmt.Fprintf(m.w, "%s: %.0f of %.0f %s, %.1f %s/s%s\n", m.name, d, t, unit, rate, unit, left)
	}
}

func (m *meter) finish() {
	if m.bar != nil && m.done > 0 {
		m.bar.Finish()
		fmt.Fprintln(m.w)
	}
}
