package serve

import (
	"bytes"
	"container/list"
	"encoding/base64"
	"image"
	"image/png"
	"sync"

	"golang.org/x/image/draw"

	"galaxy/predict"
)

// imageCache keeps encoded images (thumbnails, prepared views) up to a
// byte budget, dropping the least recently used.
type imageCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List // front: most recent
	items map[string]*list.Element
}

type cached struct {
	key string
	b   []byte
}

func newImageCache(max int64) *imageCache {
	return &imageCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *imageCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cached).b, true
	}
	return nil, false
}

func (c *imageCache) put(key string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok || int64(len(b)) > c.max {
		return
	}
	c.items[key] = c.ll.PushFront(&cached{key, b})
	c.size += int64(len(b))
	for c.size > c.max {
		e := c.ll.Back()
		v := c.ll.Remove(e).(*cached)
		delete(c.items, v.key)
		c.size -= int64(len(v.b))
	}
}

// load returns the cached image for key, or makes, caches and returns it.
func (c *imageCache) load(key string, make func() ([]byte, error)) ([]byte, error) {
	if b, ok := c.get(key); ok {
		return b, nil
	}
	b, err := make()
	if err != nil {
		return nil, err
	}
	c.put(key, b)
	return b, nil
}

// fitImage scales img to fit in size x size (never up), keeping its aspect.
func fitImage(img image.Image, size int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= size && h <= size {
		return img
	}
	if w >= h {
		w, h = size, max(1, h*size/w)
	} else {
		w, h = max(1, w*size/h), size
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// preparedPNG draws prepared features as the model sees them, as PNG.
func preparedPNG(prep *predict.Preparer, x []float32) ([]byte, error) {
	img, err := prep.Picture(x, 1)
	if err != nil {
		return nil, err
	}
	return encodePNG(img)
}

func dataURL(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
