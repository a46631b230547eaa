package cli

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fileServer serves path -> content on loopback.
func fileServer(t *testing.T, files map[string][]byte) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestFetchCommand(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	course, err := os.ReadFile(filepath.Join("..", "..", "data", "pickle", "testdata", "course_p4.pkl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	mirror := fileServer(t, map[string][]byte{
		"/phys246/fa2020/code/dataG.pkl.gz":   course,
		"/records/10844811/files/Galaxy10.h5": []byte("not the real Galaxy10 file"),
	})
	// The course file: no published checksum, recorded beside it.
	code, stdout, stderr := run(t, "fetch", "course", "--mirror", mirror)
	if code != 0 {
		t.Fatalf("fetch course exit %d: %s", code, stderr)
	}
	want := filepath.Join(cache, "galaxy", "dataG.pkl.gz")
	if got, _ := os.ReadFile(want); !bytes.Equal(got, course) || !strings.Contains(stdout, want) {
		t.Fatalf("stdout %q; cached file differs", stdout)
	}
	if _, err := os.Stat(want + ".sha256"); err != nil || !strings.Contains(stderr, "recorded SHA-256") {
		t.Errorf("no recorded checksum: %v; %s", err, stderr)
	}
	// --data course reads the cached file, with no network.
	code, stdout, stderr = run(t, "info", "--data", "course", "--json")
	if code != 0 || !strings.Contains(stdout, `"preset_split": true`) || !strings.Contains(stdout, want) {
		t.Errorf("info --data course exit %d: %s %s", code, stdout, stderr)
	}
	// Present: nothing to do.
	if code, stdout, _ := run(t, "fetch", "course", "--mirror", "http://127.0.0.1:1"); code != 0 || !strings.Contains(stdout, "already in the cache") {
		t.Errorf("second fetch: %d %s", code, stdout)
	}
	// Galaxy10 from a server with the wrong file: refused for its size
	// (data/fetch tests the checksum), nothing left in the cache.
	code, _, stderr = run(t, "fetch", "galaxy10", "--mirror", mirror)
	if code == 0 || !strings.HasPrefix(lastLine(stderr), "galaxy: fetch galaxy10: ") || !strings.Contains(stderr, "the data set is 210234548") {
		t.Errorf("wrong file: exit %d: %s", code, stderr)
	}
	for _, n := range []string{"Galaxy10.h5", "Galaxy10.h5.part"} {
		if _, err := os.Stat(filepath.Join(cache, "galaxy", n)); err == nil {
			t.Errorf("%s left in the cache", n)
		}
	}
	// No network: one clear line.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	code, _, stderr = run(t, "fetch", "galaxy10", "--mirror", "http://"+addr)
	last := lastLine(stderr)
	if code == 0 || !strings.HasPrefix(last, "galaxy: fetch galaxy10: cannot reach "+addr+" (offline?): ") {
		t.Errorf("offline: exit %d: %q", code, stderr)
	}
	// Unknown name; listing.
	if code, _, stderr := run(t, "fetch", "galaxy11"); code == 0 || !strings.Contains(stderr, "unknown data set") {
		t.Errorf("unknown: %d %s", code, stderr)
	}
	if code, stdout, _ := run(t, "fetch", "--dir", filepath.Join(cache, "galaxy")); code != 0 || !strings.Contains(stdout, "galaxy10-decals") || !strings.Contains(stdout, want) {
		t.Errorf("listing: %d %s", code, stdout)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
