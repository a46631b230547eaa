package cli

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKillAndResumeCNN kills a cnn run with SIGKILL at random (seeded)
// moments, resuming it after each kill from its per-epoch checkpoint, and
// checks that the finished run's model and curve equal an uninterrupted
// run's byte for byte (a resumed run repeats the epoch it was killed in).
func TestKillAndResumeCNN(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 240, 12)
	common := []string{"--data", p, "--labels", "gz1", "--scheme", "morph4", "--arch", "cnn", "--widths", "6,8", "--epochs", "12",
		"--batch", "16", "--seed", "4", "--tta=false"}
	ref := filepath.Join(dir, "ref")
	start := time.Now()
	if msg, err := runCLI(t, append([]string{"train", "--out", ref}, common...)...); err != nil {
		t.Fatalf("uninterrupted run: %s", msg)
	}
	wall := time.Since(start)
	out := filepath.Join(dir, "run")
	kills := 6
	rng := rand.New(rand.NewPCG(7, 1))
	killed, resumed, finishedEarly := 0, 0, 0
	// Kill moments are drawn from a window that starts at half the
	// in-process run and doubles whenever a kill lands before the first
	// checkpoint: a child process on a loaded machine starts slower.
	window := wall / 2
	for killed < kills {
		args := append([]string{"train", "--out", out}, common...)
		if checkFolder(t, out) {
			args = []string{"train", "--resume", out}
			resumed++
		} else {
			os.RemoveAll(out) // killed before its first checkpoint: start again
		}
		if finished, stderr := killChild(t, 20*time.Millisecond+time.Duration(rng.Int64N(int64(window))), args...); finished {
			finishedEarly++
			if finishedEarly > 3*kills {
				t.Fatalf("runs end before the kills: %s", stderr)
			}
			os.RemoveAll(out)
			continue
		}
		killed++
		if !checkFolder(t, out) {
			window = min(2*window, 16*wall)
		}
	}
	if checkFolder(t, out) {
		if msg, err := runCLI(t, "train", "--resume", out); err != nil {
			t.Fatalf("final resume: %s", msg)
		} else if !strings.Contains(msg, "resuming") {
			t.Errorf("final resume did not say it resumed: %s", msg)
		}
	} else if msg, err := runCLI(t, append([]string{"train", "--out", out}, common...)...); err != nil {
		t.Fatalf("final run: %s", msg)
	}
	t.Logf("uninterrupted run %v; %d kills, %d resumed from a checkpoint, %d runs finished before their kill", wall.Round(time.Millisecond), killed, resumed, finishedEarly)
	for _, name := range []string{"model", "curve.csv"} {
		a, _ := os.ReadFile(filepath.Join(ref, name))
		b, _ := os.ReadFile(filepath.Join(out, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: the killed and resumed run differs from the uninterrupted one (%d vs %d bytes)", name, len(b), len(a))
		}
	}
	if resumed == 0 {
		t.Error("no kill landed after a checkpoint")
	}
}
