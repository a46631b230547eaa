package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"galaxy/model"
)

// TestMain lets a test run the command line in a child process (the test
// binary itself), so that real signals can be sent to it.
func TestMain(m *testing.M) {
	if args := os.Getenv("GALAXY_CLI_CHILD"); args != "" {
		os.Exit(Main(strings.Split(args, "\x1f"), Env{Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	os.Exit(m.Run())
}

// TestInterruptWritesWhatWasLearned sends SIGINT to a long training run and
// checks that it exits cleanly with a complete, loadable model and curve,
// and no temporary files left in the output folder.
func TestInterruptWritesWhatWasLearned(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 200, 8)
	out := filepath.Join(dir, "run")
	args := []string{"train", "--data", p, "--labels", "gz1", "--steps", "100000000", "--eval-every", "5000", "--hidden", "8", "--out", out}
	cmd, stderr := startChild(t, args...)
	// Wait until it has trained a while (the first evaluations are logged).
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "step 10000:") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("interrupted run exited with %v: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted after") {
		t.Errorf("no interruption message: %s", stderr.String())
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if _, err := model.Load(filepath.Join(out, "model")); err != nil {
		t.Errorf("model after interrupt: %v (folder: %v)", err, names)
	}
	var met struct {
		Interrupted bool `json:"interrupted"`
		Steps       int  `json:"steps"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err := json.Unmarshal(b, &met); err != nil || !met.Interrupted || met.Steps < 10000 {
		t.Errorf("metrics after interrupt: %+v %v", met, err)
	}
}
