package seed

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"galaxy/num"
)

// benchStep times one SGD step at the assignment's sizes (n 4761, d 100,
// k 5), alone and with the rows of W1 shared by a team over every core.
func BenchmarkStepBatch1(b *testing.B) {
	for _, tc := range []struct {
		name string
		team int
	}{{"serial", 1}, {"team", runtime.GOMAXPROCS(0)}} {
		b.Run(tc.name, func(b *testing.B) {
			const n, d, k, imgs = 4761, 100, 5, 64
			rng := rand.New(rand.NewPCG(1, 2))
			net, _ := New(n, d, k, rng)
			t := num.NewTeam(tc.team)
			defer t.Close()
			net.SetTeam(t)
			x := make([]float32, imgs*n)
			for i := range x {
				x[i] = float32(rng.IntN(256)) / 256
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % imgs
				net.Step(x[j*n:(j+1)*n], j%k, 0.001)
			}
		})
	}
}
