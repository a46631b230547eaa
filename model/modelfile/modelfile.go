// Package modelfile reads and writes the saved-model format: everything a
// later command needs to classify new images (architecture, weights, class
// scheme and names, channels, image size, pixel scaling, how it was trained).
//
// # Format, version 1
//
// All integers little-endian.
//
//	offset  size  content
//	0       8     magic "GALAXYMD"
//	8       4     format version (uint32) = 1
//	12      4     header length H (uint32)
//	16      H     header: UTF-8 JSON, the Meta object below
//	16+H    ...   tensors in header order, each its shape's product of float32
//	end-4   4     CRC-32C (Castagnoli) of every byte before it
//
// A reader refuses another magic, another version, a header or tensor size
// that disagrees with the file's length, and a checksum mismatch, so a
// truncated or damaged file is reported, never half-loaded. Files are
// written atomically (temporary file, then rename).
package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"galaxy/internal/atomicfile"
)

// Magic opens every model file; Version is the format version this package writes and reads.
const (
	Magic   = "GALAXYMD"
	Version = 1
)

// maxHeader bounds the JSON header (1 MiB).
const maxHeader = 1 << 20

// Input describes the images a model expects and how they are prepared.
type Input struct {
	Height         int     `json:"height"`
	Width          int     `json:"width"`
	Channels       []int   `json:"channels"`        // channels taken from the source image, in order
	ChannelSpec    string  `json:"channel_spec"`    // as given to --channels
	SourceChannels int     `json:"source_channels"` // channels of the images it was trained on
	Scale          float64 `json:"scale"`           // feature = pixel * scale
	// SourceSize is the side of the square images of the training file when
	// they were area-averaged to Height x Width (data.Options.Resize); 0 when
	// the model sees them as stored.
	SourceSize int `json:"source_size,omitempty"`
}

// Meta is the JSON header.
type Meta struct {
	Arch    string            `json:"arch"`    // "seed-mlp", "cnn", ...
	Scheme  string            `json:"scheme"`  // class scheme name
	Classes []string          `json:"classes"` // class names by number
	Input   Input             `json:"input"`
	Hyper   map[string]int    `json:"hyper,omitempty"` // architecture sizes, e.g. hidden
	Info    map[string]string `json:"info,omitempty"`  // free-form provenance: data file, seed, date
	Tensors []TensorInfo      `json:"tensors"`
}

// TensorInfo names a tensor and its shape.
type TensorInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Tensor is a named float32 array.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

func size(shape []int) (int, error) {
	n := 1
	for _, s := range shape {
		if s < 0 || (s > 0 && n > math.MaxInt32/s) {
			return 0, fmt.Errorf("tensor shape %v out of range", shape)
		}
		n *= s
	}
	return n, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode writes meta and tensors in the format; meta.Tensors is filled in.
func Encode(w io.Writer, meta Meta, tensors []Tensor) error {
	meta.Tensors = meta.Tensors[:0]
	for _, t := range tensors {
		n, err := size(t.Shape)
		if err != nil {
			return err
		}
		if n != len(t.Data) {
			return fmt.Errorf("tensor %s: shape %v holds %d values, have %d", t.Name, t.Shape, n, len(t.Data))
		}
		meta.Tensors = append(meta.Tensors, TensorInfo{Name: t.Name, Shape: t.Shape})
	}
	hdr, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("model header: %w", err)
	}
	crc := crc32.New(castagnoli)
	mw := io.MultiWriter(w, crc)
	var b [16]byte
	copy(b[:8], Magic)
	binary.LittleEndian.PutUint32(b[8:], Version)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(hdr)))
	if _, err := mw.Write(b[:]); err != nil {
		return err
	}
	if _, err := mw.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := mw.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if _, err := mw.Write(buf); err != nil {
		return err
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// Decode reads a whole model file's bytes.
func Decode(data []byte) (Meta, []Tensor, error) {
	var meta Meta
	if len(data) < 20 {
		return meta, nil, errors.New("too short to be a model file")
	}
	if string(data[:8]) != Magic {
		return meta, nil, errors.New("not a galaxy model file (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != Version {
		return meta, nil, fmt.Errorf("model format version %d; this galaxy reads version %d", v, Version)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	hl := int(binary.LittleEndian.Uint32(data[12:]))
	if hl > maxHeader || 16+hl > len(body) {
		return meta, nil, fmt.Errorf("header of %d bytes does not fit in the file (%d bytes): truncated", hl, len(data))
	}
	if crc32.Checksum(body, castagnoli) != sum {
		return meta, nil, errors.New("checksum mismatch: the file is truncated or damaged")
	}
	dec := json.NewDecoder(bytes.NewReader(data[16 : 16+hl]))
	if err := dec.Decode(&meta); err != nil {
		return meta, nil, fmt.Errorf("header: %w", err)
	}
	rest := body[16+hl:]
	var tensors []Tensor
	for _, ti := range meta.Tensors {
		n, err := size(ti.Shape)
		if err != nil {
			return meta, nil, fmt.Errorf("tensor %s: %w", ti.Name, err)
		}
		if 4*n > len(rest) {
			return meta, nil, fmt.Errorf("tensor %s of shape %v runs past the end of the file", ti.Name, ti.Shape)
		}
		t := Tensor{Name: ti.Name, Shape: ti.Shape, Data: make([]float32, n)}
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
		}
		rest = rest[4*n:]
		tensors = append(tensors, t)
	}
	if len(rest) != 0 {
		return meta, nil, fmt.Errorf("%d bytes after the last tensor", len(rest))
	}
	return meta, tensors, nil
}

// Write saves a model file atomically.
func Write(path string, meta Meta, tensors []Tensor) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Encode(w, meta, tensors) })
}

// Read loads a model file.
func Read(path string) (Meta, []Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Meta{}, nil, fmt.Errorf("model %s: %w", path, err)
	}
	meta, t, err := Decode(data)
	if err != nil {
		return meta, nil, fmt.Errorf("model %s: %w", path, err)
	}
	return meta, t, nil
}

// Find returns the tensor with the given name and shape.
func Find(tensors []Tensor, name string, shape ...int) ([]float32, error) {
	for _, t := range tensors {
		if t.Name != name {
			continue
		}
		if len(t.Shape) != len(shape) {
			return nil, fmt.Errorf("tensor %s has shape %v, want %v", name, t.Shape, shape)
		}
		for i := range shape {
			if t.Shape[i] != shape[i] {
				return nil, fmt.Errorf("tensor %s has shape %v, want %v", name, t.Shape, shape)
			}
		}
		return t.Data, nil
	}
	return nil, fmt.Errorf("no tensor %s", name)
}
