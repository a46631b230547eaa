package hdf5

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"galaxy/internal/shared"
)

// systemPython is Debian's interpreter, which has h5py (the one on PATH may
// not).
const systemPython = "/usr/bin/python3"

// h5pyScript times h5py opening a file and reading a whole dataset: the
// median of three runs, in seconds.
const h5pyScript = `
import statistics, sys, time
import h5py
path, name = sys.argv[1], sys.argv[2]
times = []
for _ in range(3):
    t = time.perf_counter()
    with h5py.File(path, "r") as f:
        a = f[name][()]
    times.append(time.perf_counter() - t)
print(statistics.median(times))
`

var h5pyTiming struct {
	once    sync.Once
	seconds float64
	err     error
}

// h5pyLoadSeconds measures h5py once per test binary run.
func h5pyLoadSeconds(path, dataset string) (float64, error) {
	h5pyTiming.once.Do(func() {
		if _, err := os.Stat(systemPython); err != nil {
			h5pyTiming.err = err
			return
		}
		out, err := exec.Command(systemPython, "-c", h5pyScript, path, dataset).CombinedOutput()
		if err != nil {
			h5pyTiming.err = errors.New(strings.TrimSpace(string(out)))
			return
		}
		h5pyTiming.seconds, h5pyTiming.err = strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	})
	return h5pyTiming.seconds, h5pyTiming.err
}

// BenchmarkReadGZ1Images opens gz1_sdss_69.h5 and reads "images" (80 MB
// decompressed from 48 MB of gzip chunks) per iteration, and reports h5py's
// time for the same (h5py-s) and the ratio of ours to it.
func BenchmarkReadGZ1Images(b *testing.B) {
	p := shared.File(b, "gz1_sdss_69.h5")
	h5py, h5pyErr := h5pyLoadSeconds(p, "images")
	if h5pyErr != nil {
		b.Logf("no h5py timing (%s with h5py): %v", systemPython, h5pyErr)
	}
	b.SetBytes(5665 * 69 * 69 * 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Read("images"); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	ours := b.Elapsed().Seconds() / float64(b.N)
	if h5pyErr == nil && h5py > 0 {
		b.ReportMetric(h5py, "h5py-s")
		b.ReportMetric(ours/h5py, "ratio")
	}
}
