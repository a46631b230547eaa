// Package shared finds the project's real data set, ../shared/data beside the
// repository, for tests and benchmarks. The files are never copied into the
// project; where they are absent, tests that need them skip with a message.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Env names an environment variable that overrides where the data lives.
const Env = "GALAXY_SHARED_DATA"

// Dir returns the shared data folder: $GALAXY_SHARED_DATA if set, else
// ../shared/data beside the module root found above the working directory.
// ok is false when the folder does not exist.
func Dir() (dir string, ok bool) {
	if d := os.Getenv(Env); d != "" {
		return d, isDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			// The main module root, or a nested module such as beam/.
			cand := filepath.Join(d, "..", "shared", "data")
			if isDir(cand) {
				return cand, true
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

// File returns the path of name inside the shared data folder, or skips the
// test (or benchmark) with a clear message when the file is not there.
func File(tb testing.TB, name string) string {
	tb.Helper()
	dir, ok := Dir()
	if !ok {
		tb.Skipf("shared data not found (../shared/data beside the repository, or $%s): skipping test on real data", Env)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared data file %s not found: skipping", p)
	}
	return p
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
