package cutout

import (
	"bytes"
	"errors"
	"galaxy/internal/testimg"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testImage returns a w x h RGBA image with smooth colour gradients.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), uint8((x + y) % 256), 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeJPEGAndPNG(t *testing.T) {
	src := testImage(40, 30)
	img, err := Decode(bytes.NewReader(encodeJPEG(t, src)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.YCbCr); !ok || img.Bounds() != src.Bounds() {
		t.Errorf("JPEG: got %T %v", img, img.Bounds())
	}
	img, err = Decode(bytes.NewReader(encodePNG(t, src)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != src.Bounds() || img.At(7, 9) != color.Color(src.At(7, 9)) {
		t.Errorf("PNG: got %T %v, pixel %v want %v", img, img.Bounds(), img.At(7, 9), src.At(7, 9))
	}
	// The limit is inclusive.
	if _, err := Decode(bytes.NewReader(encodePNG(t, src)), Limits{MaxPixels: 40 * 30}); err != nil {
		t.Errorf("image at the limit: %v", err)
	}
}

func TestDecodeBadInput(t *testing.T) {
	good := encodeJPEG(t, testImage(64, 64))
	cases := []struct {
		name string
		data []byte
		lim  Limits
		is   error
		msg  string
	}{
		{"empty", nil, Limits{}, ErrFormat, "empty input: not a JPEG or PNG image"},
		{"text", []byte("objid,file,gz1_class\n1,2,3\n"), Limits{}, ErrFormat, "not a JPEG or PNG image"},
		{"one byte", []byte{0xff}, Limits{}, ErrFormat, "not a JPEG or PNG image"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), Limits{}, ErrFormat, "not a JPEG or PNG image"},
		{"truncated JPEG", good[:len(good)/2], Limits{}, ErrCorrupt, "corrupt JPEG: "},
		{"JPEG magic only", good[:2], Limits{}, ErrCorrupt, "corrupt JPEG: "},
		{"JPEG header only", good[:20], Limits{}, ErrCorrupt, "corrupt JPEG: "},
		{"PNG magic only", pngMagic, Limits{}, ErrCorrupt, "corrupt PNG: "},
		{"PNG without data", testimg.PNGClaiming(10, 10), Limits{}, ErrCorrupt, "corrupt PNG: "},
		{"PNG bomb", testimg.PNGClaiming(10000, 10000), Limits{}, ErrTooLarge, "image 10000x10000 exceeds the 64000000-pixel limit"},
		{"JPEG bomb", testimg.JPEGClaiming(t, 10000, 10000), Limits{}, ErrTooLarge, "image 10000x10000 exceeds the 64000000-pixel limit"},
		{"small limit", good, Limits{MaxPixels: 64*64 - 1}, ErrTooLarge, "image 64x64 exceeds the 4095-pixel limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			img, err := Decode(bytes.NewReader(c.data), c.lim)
			if err == nil {
				t.Fatalf("decoded %v, want an error", img.Bounds())
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q does not match %v", err, c.is)
			}
			if !strings.HasPrefix(err.Error(), c.msg) {
				t.Errorf("error %q, want it to start with %q", err, c.msg)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, r.data[:min(len(r.data), 100)])
	r.data = r.data[n:]
	return n, nil
}

func TestDecodeReadError(t *testing.T) {
	good := encodeJPEG(t, testImage(64, 64))
	_, err := Decode(&failingReader{good[:300]}, Limits{})
	if err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("got %v, want the read error", err)
	}
}

func TestDecodeFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := encodeJPEG(t, testImage(50, 50))
	if img, err := DecodeFile(write("ok.jpeg", good), Limits{}); err != nil || img.Bounds().Dx() != 50 {
		t.Errorf("good file: %v", err)
	}
	// Content decides, not the name.
	if _, err := DecodeFile(write("really-a-jpeg.png", good), Limits{}); err != nil {
		t.Errorf("misnamed file: %v", err)
	}
	for name, want := range map[string]error{
		"empty.jpeg":     ErrFormat,
		"notes.txt":      ErrFormat,
		"truncated.jpeg": ErrCorrupt,
		"bomb.png":       ErrTooLarge,
	} {
		var b []byte
		switch name {
		case "notes.txt":
			b = []byte("hello\n")
		case "truncated.jpeg":
			b = good[:len(good)/3]
		case "bomb.png":
			b = testimg.PNGClaiming(10000, 10000)
		}
		p := write(name, b)
		_, err := DecodeFile(p, Limits{})
		if !errors.Is(err, want) || !strings.HasPrefix(err.Error(), p+": ") {
			t.Errorf("%s: got %v, want %v prefixed by the path", name, err, want)
		}
	}
	_, err := DecodeFile(filepath.Join(dir, "missing.jpeg"), Limits{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.jpeg") {
		t.Errorf("missing file: got %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	jpg := encodeJPEG(f, testImage(37, 23))
	f.Add(jpg)
	f.Add(jpg[:len(jpg)/2])
	f.Add(encodeJPEG(f, image.NewGray(image.Rect(0, 0, 9, 70))))
	f.Add(encodePNG(f, testImage(5, 8)))
	f.Add(encodePNG(f, image.NewGray16(image.Rect(0, 0, 3, 3))))
	f.Add(testimg.PNGClaiming(10000, 10000))
	f.Add([]byte("not an image"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(bytes.NewReader(data), Limits{MaxPixels: 1 << 20})
		if err != nil {
			if img != nil {
				t.Fatal("image with an error")
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		b := img.Bounds()
		if b.Dx()*b.Dy() > 1<<20 {
			t.Fatalf("decoded %v past the limit", b)
		}
		if got := len(Prepare(img)); got != Size*Size*3 {
			t.Fatalf("Prepare gave %d bytes", got)
		}
	})
}
