package num
import ("testing";"fmt")
func BenchmarkIP(b *testing.B) {
	for _, ip := range []bool{false, true} {
		g := avx512Kernels.gemm
		g.inPlaceB = ip
		for _, s := range [][3]int{{8,4761,27},{16,4761,27},{32,4761,144},{64,4761,288},{32,1000,1000}} {
			m, n, k := s[0], s[1], s[2]
			r := newRand(1); a, bb, c := randVec(r, m*k), randVec(r, k*n), make([]float32, m*n)
			b.Run(fmt.Sprintf("ip%v/%v", ip, s), func(b *testing.B) {
				for b.Loop() { g.serial(false, false, m, n, k, 1, a, k, bb, n, 0, c, n) }
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
