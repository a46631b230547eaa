package cli

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"galaxy/model"
	"galaxy/train"
)

// child starts the command line in a child process (TestMain).
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GALAXY_CLI_CHILD="+strings.Join(args, "\x1f"))
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// killChild runs the command line in a child process and sends it SIGKILL
// after the given time. It reports whether the child finished (exit 0)
// before the kill, and fails the test if the child failed otherwise.
func killChild(t *testing.T, after time.Duration, args ...string) (finished bool, stderr string) {
	t.Helper()
	cmd, out := child(t, args...)
	time.Sleep(after)
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if err == nil {
		return true, out.String()
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	return false, out.String()
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	if code := Main(args, Env{Stdout: &out, Stderr: &out}); code != 0 {
		return out.String(), &exec.ExitError{}
	}
	return out.String(), nil
}

// checkFolder checks what a killed run left: any model or checkpoint in it
// loads whole (never a corrupt one).
func checkFolder(t *testing.T, out string) (hasCheckpoint bool) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(out, "model")); err == nil {
		if _, err := model.Load(filepath.Join(out, "model")); err != nil {
			t.Fatalf("corrupt model after SIGKILL: %v", err)
		}
	}
	_, _, err := train.ReadCheckpoint(filepath.Join(out, train.CheckpointFile))
	switch {
	case err == nil:
		return true
	case strings.Contains(err.Error(), "no checkpoint"):
		return false
	default:
		t.Fatalf("corrupt checkpoint after SIGKILL: %v", err)
	}
	return false
}

// TestKillAndResume kills a seed-network run with SIGKILL at random (seeded)
// moments, 20 times (5 with -short), resuming it after each kill, and checks
// that the finished run's model file equals an uninterrupted run's byte for
// byte; a folder killed before its first checkpoint is reported incomplete.
func TestKillAndResume(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 200, 8)
	common := []string{"--data", p, "--labels", "gz1", "--steps", "300000", "--eval-every", "20000", "--hidden", "8", "--checkpoint-every", "10000", "--seed", "3"}
	ref := filepath.Join(dir, "ref")
	start := time.Now()
	if msg, err := runCLI(t, append([]string{"train", "--out", ref}, common...)...); err != nil {
		t.Fatalf("uninterrupted run: %s", msg)
	}
	wall := time.Since(start) // kills land within a quarter of a whole run after a child's start
	out := filepath.Join(dir, "run")
	kills := 20
	if testing.Short() {
		kills = 5
	}
	rng := rand.New(rand.NewPCG(42, 1))
	killed, incomplete, resumed, finishedEarly := 0, 0, 0, 0
	for killed < kills {
		args := append([]string{"train", "--out", out}, common...)
		if checkFolder(t, out) {
			args = []string{"train", "--resume", out}
			resumed++
		} else if _, err := os.Stat(out); err == nil {
			msg, err := runCLI(t, "train", "--resume", out)
			if err == nil || !strings.Contains(msg, "incomplete") {
				t.Fatalf("resume of a folder without checkpoint: %v %s", err, msg)
			}
			incomplete++
		}
		if finished, stderr := killChild(t, 20*time.Millisecond+time.Duration(rng.Int64N(int64(wall/4))), args...); finished {
			// it finished before the kill: start over for more kills
			finishedEarly++
			if finishedEarly > 3*kills {
				t.Fatalf("runs end before the kills: %s", stderr)
			}
			os.RemoveAll(out)
			continue
		}
		killed++
	}
	if checkFolder(t, out) {
		if msg, err := runCLI(t, "train", "--resume", out); err != nil {
			t.Fatalf("final resume: %s", msg)
		}
	} else if msg, err := runCLI(t, append([]string{"train", "--out", out}, common...)...); err != nil {
		t.Fatalf("final run: %s", msg)
	}
	t.Logf("uninterrupted run %v; %d kills: %d resumed from a checkpoint, %d reported incomplete, %d runs finished before their kill", wall.Round(time.Millisecond), killed, resumed, incomplete, finishedEarly)
	for _, name := range []string{"model", "curve.csv", train.CheckpointFile} {
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

// TestResumeRefuses: conflicting flags and changed data are refused; a
// resumed interrupted (SIGINT) run ends as an uninterrupted one.
func TestResumeRefuses(t *testing.T) {
	dir := t.TempDir()
	p := writeNPZ(t, dir, 200, 8)
	out := filepath.Join(dir, "run")
	common := []string{"--data", p, "--labels", "gz1", "--steps", "20000", "--eval-every", "3000", "--hidden", "8", "--checkpoint-every", "5000"}
	if msg, err := runCLI(t, append([]string{"train", "--out", out}, common...)...); err != nil {
		t.Fatal(msg)
	}
	want, _ := os.ReadFile(filepath.Join(out, "model"))
	if msg, err := runCLI(t, "train", "--resume", out, "--steps", "5"); err == nil || !strings.Contains(msg, "conflicts") {
		t.Errorf("conflicting --steps: %v %s", err, msg)
	}
	if msg, err := runCLI(t, "train", "--resume", out, "--out", dir); err == nil || !strings.Contains(msg, "conflicts") {
		t.Errorf("conflicting --out: %v %s", err, msg)
	}
	// Same flags again, and a completed run, are fine: it rewrites the same model.
	if msg, err := runCLI(t, "train", "--resume", out, "--steps", "20000"); err != nil {
		t.Errorf("resume of a finished run: %s", msg)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "model")); !bytes.Equal(got, want) {
		t.Error("resuming a finished run changed its model")
	}
	// A folder a run was killed in before its first checkpoint.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if msg, err := runCLI(t, "train", "--resume", empty); err == nil || !strings.Contains(msg, "incomplete") {
		t.Errorf("folder without checkpoint: %v %s", err, msg)
	}
	// The data file changes under the run.
	os.Remove(p)
	writeNPZ(t, dir, 208, 8)
	if msg, err := runCLI(t, "train", "--resume", out); err == nil || !strings.Contains(msg, "data changed") {
		t.Errorf("changed data: %v %s", err, msg)
	}
}
