package serve

import (
	"bytes"
	"encoding/json"
	"galaxy/internal/testimg"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzClassify feeds the service's request decoding (content type, single
// image body, multipart bodies with several parts) arbitrary bytes: every
// request must get a JSON answer with a sane status, never a panic or hang.
func FuzzClassify(f *testing.F) {
	s, err := New(testModel(f), Options{MaxBodyBytes: 256 << 10, MaxPixels: 512 * 512, MaxImages: 4})
	if err != nil {
		f.Fatal(err)
	}
	// No Close: in fuzzing, workers run the fuzz function after FuzzClassify's
	// cleanups, and a closed server's batcher no longer answers.
	jpg := jpegBytes(f, 69, 1)
	f.Add("image/jpeg", jpg)
	f.Add("application/octet-stream", testimg.PNGClaiming(10000, 10000))
	f.Add("image/png", testimg.PNGClaiming(69, 69))
	f.Add("application/fits", []byte("SIMPLE  =                    T"))
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.SetBoundary("XyZ")
	for _, name := range []string{"a.jpg", "b.png"} {
		w, _ := mw.CreateFormFile("image", name)
		w.Write(jpg[:len(jpg)/(1+len(name)%2)])
	}
	mw.Close()
	f.Add(mw.FormDataContentType(), mp.Bytes())
	f.Add("multipart/form-data; boundary=XyZ", []byte("--XyZ\r\n\r\n--XyZ--"))
	f.Add("multipart/mixed", []byte{})
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/classify", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", w.Body)
		}
	})
}
