package bench

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"galaxy/model/seed"
	"galaxy/num"
)

// The go test -bench forms of galaxy bench's figures.

func BenchmarkSeedStep(b *testing.B) {
	b.Run("batch1", func(b *testing.B) {
		net, x, y := seedData(64)
		team := num.NewTeam(runtime.GOMAXPROCS(0))
		defer team.Close()
		net.SetTeam(team)
		rng := rand.New(rand.NewPCG(3, 4))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			j := rng.IntN(64)
			net.Step(x[j*SeedN:(j+1)*SeedN], y[j], 0.001)
		}
	})
	for _, bs := range []int{10, 128} {
		for _, mode := range []seed.Mode{seed.Vector, seed.Loop} {
			b.Run(mode.String()+"-batch"+strconv.Itoa(bs), func(b *testing.B) {
				net, x, y := seedData(bs)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					net.StepBatch(x, y, 0.001, mode)
				}
			})
		}
	}
}

func BenchmarkSeedForward2000(b *testing.B) {
	net, x, _ := seedData(2000)
	out := make([]float32, 2000*SeedK)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		net.Logits(x, 2000, out)
	}
}

func BenchmarkSgemm1024(b *testing.B) {
	const s = 1024
	a, bb, c := make([]float32, s*s), make([]float32, s*s), make([]float32, s*s)
	for i := range a {
		a[i], bb[i] = float32(i%17)/17, float32(i%13)/13
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		num.Gemm(false, false, s, s, s, 1, a, s, bb, s, 0, c, s)
	}
	b.ReportMetric(2*s*s*s*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
