package serve

import (
	"bytes"
	"galaxy/internal/testimg"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestBombsRejectedFast sends 10,000 x 10,000 PNG and JPEG headers (as the
// body and as a multipart part) to a service with its default limits, and
// checks each is refused in well under 100 ms and 50 MB of allocation.
func TestBombsRejectedFast(t *testing.T) {
	_, s := newTestServer(t, Options{})
	for name, b := range map[string][]byte{"PNG": testimg.PNGClaiming(10000, 10000), "JPEG": testimg.JPEGClaiming(t, 10000, 10000)} {
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		pw, _ := mw.CreateFormFile("image", "bomb")
		pw.Write(b)
		mw.Close()
		for _, req := range []struct{ ctype, body string }{{"application/octet-stream", string(b)}, {mw.FormDataContentType(), mp.String()}} {
			r := httptest.NewRequest(http.MethodPost, "/v1/classify", strings.NewReader(req.body))
			r.Header.Set("Content-Type", req.ctype)
			w := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			s.ServeHTTP(w, r)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s bomb (%s): status %d in %v, %d KB allocated", name, req.ctype[:9], w.Code, took, alloc>>10)
			if !strings.Contains(w.Body.String(), "10000x10000") {
				t.Errorf("%s bomb: %d %s", name, w.Code, w.Body)
			}
			if req.ctype == "application/octet-stream" && w.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("%s bomb: status %d, want 413", name, w.Code)
			}
			if took > 50*time.Millisecond || alloc > 20<<20 {
				t.Errorf("%s bomb took %v and %d bytes; want < 100 ms and < 50 MB", name, took, alloc)
			}
		}
	}
}

// TestSlowClientsTimedOut: a client that sends part of its headers, or its
// headers and part of the body, and stalls is cut off by the server's
// timeouts, as is a body over the size cap.
func TestSlowClientsTimedOut(t *testing.T) {
	s, err := New(testModel(t), Options{MaxBodyBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs := s.HTTPServer("127.0.0.1:0")
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.MaxHeaderBytes <= 0 {
		t.Fatalf("service without timeouts: %+v", hs)
	}
	hs.ReadHeaderTimeout, hs.ReadTimeout = 200*time.Millisecond, 400*time.Millisecond // short, for the test
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	for name, send := range map[string]string{
		"stalled headers": "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-",
		"stalled body":    "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n\x89PNG",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		io.WriteString(c, send)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.ReadAll(c) // returns when the server closes the connection
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: connection held %v", name, took)
		} else {
			t.Logf("%s: cut off after %v", name, took.Round(time.Millisecond))
		}
		c.Close()
	}
	// A body over the cap is refused without being read whole.
	resp, err := http.Post("http://"+ln.Addr().String()+"/v1/classify", "image/png", bytes.NewReader(make([]byte, 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d, want 413", resp.StatusCode)
	}
}
