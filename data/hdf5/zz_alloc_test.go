package hdf5

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestZZAlloc(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.h5")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	deadline := time.Now().Add(60 * time.Second)
	var ms runtime.MemStats
	worst := 0.0
	n := 0
	for time.Now().Before(deadline) {
		seed, _ := os.ReadFile(files[rng.Intn(len(files))])
		data := bytes.Clone(seed)
		if rng.Intn(4) == 0 {
			data = data[:rng.Intn(len(data))]
		}
		k := 1 + rng.Intn(6)
		for i := 0; i < k && len(data) > 0; i++ {
			p := rng.Intn(len(data))
			switch rng.Intn(4) {
			case 0:
				data[p] = byte(rng.Intn(256))
			case 1:
				data[p] ^= 1 << rng.Intn(8)
			case 2:
				data[p] = 0xff
			case 3:
				for j := p; j < min(p+8, len(data)); j++ {
					data[j] = 0xff
				}
			}
		}
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		t0 := time.Now()
		h, err := OpenReader(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			for _, nm := range h.Names() {
				h.Info(nm)
				h.Read(nm)
			}
			h.AttrStrings("class_names")
		}
		el := time.Since(t0)
		runtime.ReadMemStats(&ms)
		delta := float64(ms.TotalAlloc - before)
		ratio := delta / float64(len(data)+1)
		if ratio > worst {
			worst = ratio
			fmt.Printf("alloc %.0f bytes for %d-byte input (x%.0f) in %v\n", delta, len(data), ratio, el)
			os.WriteFile("/tmp/worst.h5", data, 0o644)
		}
		if el > 500*time.Millisecond {
			fmt.Println("slow", el)
			os.WriteFile(fmt.Sprintf("/tmp/slow%d.h5", n), data, 0o644)
		}
		n++
	}
	fmt.Println("runs", n)
}
