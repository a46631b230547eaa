//go:build openblas && cgo

package num

import (
	"fmt"
	"testing"
)

// BenchmarkOpenBLASGemm measures OpenBLAS's sgemm on the sizes BenchmarkGemm
// uses; compare GFLOP/s at 1024.
func BenchmarkOpenBLASGemm(b *testing.B) {
	for _, s := range []int{64, 128, 256, 512, 1024} {
		b.Run(fmt.Sprint(s), func(b *testing.B) { benchGemm(b, OpenBLASGemm, false, false, s, s, s) })
	}
	for tc, name := range []string{"NN", "TN", "NT", "TT"} {
		b.Run(name+"512", func(b *testing.B) { benchGemm(b, OpenBLASGemm, tc&1 != 0, tc&2 != 0, 512, 512, 512) })
	}
}

// TestOpenBLASGemm checks the binding against the float64 reference.
func TestOpenBLASGemm(t *testing.T) {
	r := newRand(500)
	for _, s := range [][3]int{{1, 1, 1}, {17, 33, 65}, {100, 64, 129}} {
		for tc := 0; tc < 4; tc++ {
			checkGemmWith(t, OpenBLASGemm, r, tc&1 != 0, tc&2 != 0, s[0], s[1], s[2], alphaBeta{1.5, 0.5})
		}
	}
}
