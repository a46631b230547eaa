//go:build linux

package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"galaxy/model"
	"galaxy/train"
)

// smallDisk returns a folder on a small file system: GALAXY_TMPFS_DIR (an
// already-mounted small tmpfs) when set, else a 4 MB tmpfs the test mounts
// (as root) and unmounts at its end. It skips the test when neither is
// possible.
func smallDisk(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("GALAXY_TMPFS_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "diskfull-")
		if err != nil {
			t.Fatalf("GALAXY_TMPFS_DIR: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (or GALAXY_TMPFS_DIR naming a mounted one)")
	}
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("no mount command to mount a small tmpfs (set GALAXY_TMPFS_DIR to a mounted one)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (set GALAXY_TMPFS_DIR to a mounted one): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { // before t.TempDir's removal (cleanups run last first)
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// fillTo writes the file fill in dir so that the file system keeps about
// free bytes free.
func fillTo(t *testing.T, dir string, free int64) {
	t.Helper()
	fill := filepath.Join(dir, "fill")
	os.Remove(fill)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	if avail > 256<<20 {
		t.Skipf("%s has %d MB free: too large to fill", dir, avail>>20)
	}
	if avail < free {
		t.Fatalf("%s has %d bytes free, need %d", dir, avail, free)
	}
	if err := os.WriteFile(fill, make([]byte, avail-free), 0o644); err != nil {
		t.Fatalf("filling %s: %v", dir, err)
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// checkFull checks a run that ran out of space: it failed with one error
// line that says so, and left no temporary file.
func checkFull(t *testing.T, msg string, err error, out, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the run succeeded on a full disk:\n%s", msg)
	}
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(l, "galaxy: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "no space left on device") || !strings.Contains(lines[0], "write "+filepath.Join(out, what)+":") {
		t.Errorf("want one error line about writing %s on a full disk, got %q\n%s", what, lines, msg)
	} else {
		t.Logf("error: %s", lines[0])
	}
	if tmp, _ := filepath.Glob(filepath.Join(out, ".*.tmp-*")); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

// TestTrainDiskFull runs seed-network trainings with their output on a
// small tmpfs that fills up: (1) while a checkpoint is written, the run fails
// with a clear error, the previous checkpoint is whole, and after space is
// freed --resume ends with the same model as a run that never stopped; (2)
// while the final model is written, the previous model and checkpoint are
// untouched.
func TestTrainDiskFull(t *testing.T) {
	disk := smallDisk(t)
	dir := t.TempDir()
	p := writeNPZ(t, dir, 200, 24)
	common := []string{"--data", p, "--labels", "gz1", "--steps", "3000", "--eval-every", "500", "--hidden", "64", "--checkpoint-every", "1000", "--seed", "5"}

	// The reference run, on a disk with room: the sizes and the final model.
	ref := filepath.Join(dir, "ref")
	if msg, err := runCLI(t, append([]string{"train", "--out", ref}, common...)...); err != nil {
		t.Fatalf("reference run: %s", msg)
	}
	ckSize, modelSize := fileSize(t, filepath.Join(ref, train.CheckpointFile)), fileSize(t, filepath.Join(ref, "model"))
	t.Logf("checkpoint %d bytes, model %d bytes", ckSize, modelSize)

	// (1) Room for one checkpoint and half of the next one's temporary file.
	out := filepath.Join(disk, "run")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	fillTo(t, disk, ckSize+ckSize/2)
	msg, err := runCLI(t, append([]string{"train", "--out", out}, common...)...)
	checkFull(t, msg, err, out, train.CheckpointFile)
	if !strings.Contains(msg, "--resume "+out) {
		t.Errorf("the error does not say how to go on:\n%s", msg)
	}
	_, st, cerr := train.ReadCheckpoint(filepath.Join(out, train.CheckpointFile))
	if cerr != nil {
		t.Fatalf("the previous checkpoint is damaged: %v", cerr)
	}
	if st.Step != 1000 {
		t.Errorf("checkpoint at step %d, want the first one (1000)", st.Step)
	}
	if _, err := os.Stat(filepath.Join(out, "model")); err == nil {
		t.Error("a model was written by a run that failed")
	}
	// Space freed: the run resumes and ends as the uninterrupted one.
	if err := os.Remove(filepath.Join(disk, "fill")); err != nil {
		t.Fatal(err)
	}
	if msg, err := runCLI(t, "train", "--resume", out); err != nil {
		t.Fatalf("resume after freeing space: %s", msg)
	}
	for _, name := range []string{"model", train.CheckpointFile, "curve.csv"} {
		a, _ := os.ReadFile(filepath.Join(ref, name))
		b, _ := os.ReadFile(filepath.Join(out, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: the resumed run differs from the uninterrupted one (%d vs %d bytes)", name, len(b), len(a))
		}
	}

	// (2) The folder holds a finished run's model and checkpoint; a new run
	// there (without checkpoints) finds room for half a model.
	prevModel, _ := os.ReadFile(filepath.Join(out, "model"))
	prevCk, _ := os.ReadFile(filepath.Join(out, train.CheckpointFile))
	fillTo(t, disk, modelSize/2)
	args := append([]string{"train", "--out", out}, common...)
	args[len(args)-3] = "0" // --checkpoint-every 0
	args[len(args)-1] = strconv.Itoa(6)
	msg, err = runCLI(t, args...)
	checkFull(t, msg, err, out, "model")
	if b, _ := os.ReadFile(filepath.Join(out, "model")); !bytes.Equal(b, prevModel) {
		t.Error("the previous model changed")
	}
	if b, _ := os.ReadFile(filepath.Join(out, train.CheckpointFile)); !bytes.Equal(b, prevCk) {
		t.Error("the previous checkpoint changed")
	}
	if _, err := model.Load(filepath.Join(out, "model")); err != nil {
		t.Errorf("the previous model does not load: %v", err)
	}
}
