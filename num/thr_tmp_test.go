package num

import (
	"fmt"
	"testing"
)

func BenchmarkThr(b *testing.B) {
	g := &impl.gemm
	for _, s := range [][3]int{{64, 64, 64}, {80, 80, 80}, {96, 96, 96}, {112, 112, 112}, {128, 128, 128}, {160, 160, 160}, {32, 256, 256}, {256, 32, 256}, {256, 256, 32}} {
		m, n, k := s[0], s[1], s[2]
		r := newRand(1)
		a, bb, c := randVec(r, m*k), randVec(r, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("ser/%v", s), func(b *testing.B) {
			for b.Loop() {
				g.serial(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
		})
		b.Run(fmt.Sprintf("par/%v", s), func(b *testing.B) {
			for b.Loop() {
				g.parallel(2, false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
		})
	}
}
