//go:build beamcluster

package main_test

// The closest stand-in for a cluster that runs offline: a standalone prism
// job server (its own process, as a Flink or Spark job server would be),
// the Go SDK's boot loader in worker-pool mode (the sidecar an EXTERNAL
// environment talks to), and galaxy-beam submitted to them with
// --runner=universal --environment_type=EXTERNAL. The workers are separate
// processes started from the staged galaxy-beam binary, so this checks the
// worker mode (flag.Parse; beam.Init), the registration of every DoFn and
// type, and the staging of the binary. The boot loader serves on :50000
// (fixed in the SDK); the test skips when that port is taken.
//
//	cd beam && go test -tags beamcluster -run Cluster -v ./cmd/galaxy-beam/

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"galaxy/beam/internal/fixture"
	"galaxy/beam/pipeline"
)

func goBuild(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, addr string, p *exec.Cmd, log *bytes.Buffer) {
	for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(200 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if p.ProcessState != nil {
			break
		}
	}
	t.Fatalf("%s never listened on %s:\n%s", p.Path, addr, log)
}

// start runs a process in its own process group for the test's duration
// and stops the group (the process and the workers it started) at the end.
func start(t *testing.T, log *bytes.Buffer, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// cleanBootFiles removes, at the end of the test, what the boot loader
// leaves in /tmp (paths fixed in the SDK): each worker's copy of the
// binary in /tmp/bin*/worker and the staged artifact in /tmp/staged. Only
// entries that appear during the test are removed.
func cleanBootFiles(t *testing.T) {
	before := map[string]bool{}
	list := func() []string {
		a, _ := filepath.Glob("/tmp/bin*/worker")
		b, _ := filepath.Glob("/tmp/staged/*-galaxy-beam")
		return append(a, b...)
	}
	for _, p := range list() {
		before[p] = true
	}
	t.Cleanup(func() {
		for _, p := range list() {
			if before[p] {
				continue
			}
			os.Remove(p)
			if d := filepath.Dir(p); d != "/tmp/staged" {
				os.Remove(d)
			}
		}
	})
}

func TestClusterMatchesPredict(t *testing.T) {
	if c, err := net.Dial("tcp", "localhost:50000"); err == nil {
		c.Close()
		t.Skip("port 50000 (the boot loader's worker pool) is taken")
	}
	cleanBootFiles(t)
	bin := t.TempDir()
	goBuild(t, filepath.Join(bin, "galaxy-beam"), ".")
	goBuild(t, filepath.Join(bin, "prism"), "github.com/apache/beam/sdks/v2/go/cmd/prism")
	goBuild(t, filepath.Join(bin, "boot"), "github.com/apache/beam/sdks/v2/go/container")

	var prismLog, poolLog bytes.Buffer
	port := freePort(t)
	prism := start(t, &prismLog, filepath.Join(bin, "prism"), fmt.Sprintf("--job_port=%d", port), "--serve_http=false", "--log_level=warn")
	waitPort(t, fmt.Sprintf("localhost:%d", port), prism, &prismLog)
	pool := start(t, &poolLog, filepath.Join(bin, "boot"), "--worker_pool")
	waitPort(t, "localhost:50000", pool, &poolLog)

	dir := t.TempDir()
	modelPath, err := fixture.Model(dir)
	if err != nil {
		t.Fatal(err)
	}
	glob, _, err := fixture.Catalogs(dir, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, filepath.Join(bin, "galaxy-beam"),
		"--runner=universal", fmt.Sprintf("--endpoint=localhost:%d", port),
		"--environment_type=EXTERNAL", "--environment_config=localhost:50000",
		"--worker_binary="+filepath.Join(bin, "galaxy-beam"),
		"--input="+glob, "--model="+modelPath, "--output="+out, "--num_shards=2", "--batch=64")
	if b, err := run.CombinedOutput(); err != nil {
		t.Fatalf("galaxy-beam: %v\n%s\nprism:\n%s\nworker pool:\n%s", err, b, &prismLog, &poolLog)
	}

	cats, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fixture.Predict(modelPath, cats)
	if err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(out, pipeline.ShardGlob))
	if len(shards) != 2 {
		t.Fatalf("shards %q, want 2", shards)
	}
	rep, err := fixture.Compare(want, shards, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, pipeline.SummaryName)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows (%d error rows), %d byte-for-byte equal with galaxy predict's", rep.Rows, rep.ErrorRows, rep.Exact)
}
