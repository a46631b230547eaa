package fetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// payload is the small "data set" the test server serves.
func payload(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// server serves body at /files/data.bin, honouring Range requests; dropAt >
// 0 makes the first response cut the connection after that many bytes.
type server struct {
	body     []byte
	dropAt   int
	noRange  bool
	mu       sync.Mutex
	requests []string // Range header of each request ("" for none)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/files/data.bin" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, r.Header.Get("Range"))
	first := len(s.requests) == 1
	s.mu.Unlock()
	start := 0
	if rg := r.Header.Get("Range"); rg != "" && !s.noRange {
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		if v >= len(s.body) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(s.body)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = v
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", v, len(s.body)-1, len(s.body)))
		w.Header().Set("Content-Length", strconv.Itoa(len(s.body)-v))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(s.body)))
		w.WriteHeader(http.StatusOK)
	}
	rest := s.body[start:]
	if first && s.dropAt > 0 {
		w.Write(rest[:s.dropAt])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Write(rest)
}

func (s *server) ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func setup(t *testing.T, s *server) (*Fetcher, Source, *bytes.Buffer) {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	var log bytes.Buffer
	f := &Fetcher{Dir: filepath.Join(t.TempDir(), "cache"), BaseURL: ts.URL, Log: &log, StallTimeout: 5 * time.Second}
	src := Source{Name: "tiny", URL: "https://example.org/files/data.bin", File: "data.bin", Size: int64(len(s.body)), SHA256: sha(s.body)}
	return f, src, &log
}

func TestFullDownload(t *testing.T) {
	s := &server{body: payload(300_000)}
	f, src, _ := setup(t, s)
	var last int64
	calls := 0
	f.Progress = func(done, total int64, final bool) {
		calls++
		if done < last || total != int64(len(s.body)) {
			t.Errorf("progress %d of %d after %d", done, total, last)
		}
		last = done
	}
	p, err := f.Ensure(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, s.body) || p != filepath.Join(f.Dir, "data.bin") {
		t.Fatalf("downloaded %d bytes to %s", len(got), p)
	}
	if last != int64(len(s.body)) || calls < 2 {
		t.Errorf("progress ended at %d after %d calls", last, calls)
	}
	if _, err := os.Stat(p + ".part"); err == nil {
		t.Error("partial file left behind")
	}
	// Present: no request.
	if _, err := f.Ensure(context.Background(), src); err != nil || len(s.ranges()) != 1 {
		t.Errorf("second Ensure: %v, %d requests", err, len(s.ranges()))
	}
}

func TestResumeAfterDrop(t *testing.T) {
	s := &server{body: payload(200_000), dropAt: 70_000}
	f, src, log := setup(t, s)
	p, err := f.Fetch(context.Background(), src)
	if err != nil {
		t.Fatalf("%v (log: %s)", err, log)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, s.body) {
		t.Fatal("resumed download differs")
	}
	r := s.ranges()
	if len(r) != 2 || r[0] != "" || r[1] != "bytes=70000-" {
		t.Errorf("requests' ranges %q, want none then bytes=70000-", r)
	}
	if !strings.Contains(log.String(), "resuming") {
		t.Errorf("log %q", log)
	}
}

func TestResumePartialFile(t *testing.T) {
	s := &server{body: payload(100_000)}
	f, src, _ := setup(t, s)
	os.MkdirAll(f.Dir, 0o755)
	os.WriteFile(filepath.Join(f.Dir, "data.bin.part"), s.body[:40_000], 0o644)
	p, err := f.Fetch(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, s.body) {
		t.Fatal("resumed download differs")
	}
	if r := s.ranges(); len(r) != 1 || r[0] != "bytes=40000-" {
		t.Errorf("ranges %q", r)
	}
}

func TestServerWithoutRanges(t *testing.T) {
	s := &server{body: payload(50_000), noRange: true}
	f, src, _ := setup(t, s)
	os.MkdirAll(f.Dir, 0o755)
	os.WriteFile(filepath.Join(f.Dir, "data.bin.part"), []byte("garbage that is not a prefix"), 0o644)
	p, err := f.Fetch(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, s.body) {
		t.Fatal("download differs")
	}
}

func TestDropTooOften(t *testing.T) {
	s := &server{body: payload(50_000), dropAt: 1000}
	f, src, _ := setup(t, s)
	f.Retries = -1
	_, err := f.Fetch(context.Background(), src)
	if err == nil || !strings.Contains(err.Error(), "run again to resume") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v", err)
	}
	if st, err := os.Stat(filepath.Join(f.Dir, "data.bin.part")); err != nil || st.Size() != 1000 {
		t.Errorf("partial file: %v", err)
	}
	// Running again resumes and completes.
	p, err := f.Fetch(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, s.body) {
		t.Fatal("download differs")
	}
}

func TestWrongChecksum(t *testing.T) {
	s := &server{body: payload(20_000)}
	f, src, _ := setup(t, s)
	src.SHA256 = strings.Repeat("0", 64)
	_, err := f.Fetch(context.Background(), src)
	if !errors.Is(err, ErrChecksum) || !strings.HasPrefix(err.Error(), "fetch tiny: checksum mismatch: SHA-256 ") {
		t.Fatalf("error %v", err)
	}
	for _, name := range []string{"data.bin", "data.bin.part"} {
		if _, err := os.Stat(filepath.Join(f.Dir, name)); err == nil {
			t.Errorf("%s left behind", name)
		}
	}
	// Wrong size (published size differs from the server's).
	src.SHA256, src.Size = sha(s.body), 12345
	if _, err := f.Fetch(context.Background(), src); err == nil {
		t.Error("wrong size accepted")
	}
}

func TestMD5AndNoChecksum(t *testing.T) {
	body := append([]byte{0x1f, 0x8b}, payload(10_000)...)
	s := &server{body: body}
	f, src, log := setup(t, s)
	m := md5.Sum(body)
	src.SHA256, src.MD5 = "", hex.EncodeToString(m[:])
	if _, err := f.Fetch(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	// No published checksum: recorded beside the file.
	os.Remove(filepath.Join(f.Dir, "data.bin"))
	src.MD5, src.Size, src.File = "", 0, "data.bin.gz"
	p, err := f.Fetch(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	side, _ := os.ReadFile(p + ".sha256")
	if !strings.HasPrefix(string(side), sha(body)+"  data.bin.gz") || !strings.Contains(log.String(), sha(body)) {
		t.Errorf("recorded %q, log %q", side, log)
	}
	// A .gz that is not gzip (an error page) is refused.
	s.body = []byte("<html>not found</html>")
	os.Remove(p)
	if _, err := f.Fetch(context.Background(), src); err == nil || !strings.Contains(err.Error(), "not a gzip file") {
		t.Errorf("error %v", err)
	}
}

func TestOffline(t *testing.T) {
	// A loopback port with nobody listening: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f := &Fetcher{Dir: t.TempDir(), BaseURL: "http://" + addr}
	src, _ := Lookup("galaxy10")
	_, err = f.Fetch(context.Background(), src)
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("error %v", err)
	}
	want := "fetch galaxy10: cannot reach " + addr + " (offline?): "
	if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("message %q, want prefix %q", msg, want)
	}
}

func TestNotFound(t *testing.T) {
	s := &server{body: payload(10)}
	f, src, _ := setup(t, s)
	src.URL = "https://example.org/files/missing.bin"
	if _, err := f.Fetch(context.Background(), src); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("error %v", err)
	}
}

func TestCancel(t *testing.T) {
	s := &server{body: payload(10_000)}
	f, src, _ := setup(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, src); err == nil {
		t.Error("cancelled fetch succeeded")
	}
}

func TestSourcesAndDir(t *testing.T) {
	g, ok := Lookup("Galaxy10")
	if !ok || g.URL != Galaxy10URL || g.Size != 210234548 || g.SHA256 != Galaxy10SHA256 {
		t.Errorf("galaxy10: %+v", g)
	}
	if d, ok := Lookup("galaxy10-decals"); !ok || d.MD5 != "c6b7b4db82b3a5d63d6a7e3e5249b51c" {
		t.Errorf("decals: %+v", d)
	}
	if _, ok := Lookup("course"); !ok {
		t.Error("no course source")
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("unknown source found")
	}
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	if d, _ := DefaultDir(); d != "/tmp/xdg/galaxy" {
		t.Errorf("dir %q", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/someone")
	if d, _ := DefaultDir(); d != "/home/someone/.cache/galaxy" {
		t.Errorf("dir %q", d)
	}
	f := &Fetcher{BaseURL: "http://127.0.0.1:9/mirror/"}
	if u, _ := f.URL(g); u != "http://127.0.0.1:9/mirror/records/10844811/files/Galaxy10.h5" {
		t.Errorf("url %q", u)
	}
}
