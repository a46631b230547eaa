package hdf5

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
)

func TestZZOne(t *testing.T) {
	data, _ := os.ReadFile("/tmp/worst.h5")
	h, err := OpenReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		fmt.Println(err)
		return
	}
	var ms runtime.MemStats
	for _, n := range h.Names() {
		runtime.ReadMemStats(&ms)
		b := ms.TotalAlloc
		info, ierr := h.Info(n)
		_, err := h.Read(n)
		runtime.ReadMemStats(&ms)
		fmt.Println(n, info, ierr, ms.TotalAlloc-b, err)
	}
}
