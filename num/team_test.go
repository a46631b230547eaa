package num

import (
	"sync/atomic"
	"testing"
)

// TestTeamFor: every iteration runs exactly once, for many loops in a row,
// with chunk sizes that do and do not divide n.
func TestTeamFor(t *testing.T) {
	for _, members := range []int{0, 1, 2, 3} {
		team := NewTeam(members)
		for _, c := range []struct{ n, chunk int }{{0, 3}, {1, 1}, {7, 3}, {100, 10}, {101, 10}, {5, 0}, {64, 100}} {
			for rep := 0; rep < 50; rep++ {
				counts := make([]atomic.Int32, c.n)
				team.For(c.n, c.chunk, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						counts[i].Add(1)
					}
				})
				for i := range counts {
					if got := counts[i].Load(); got != 1 {
						t.Fatalf("members %d n %d chunk %d: iteration %d ran %d times", members, c.n, c.chunk, i, got)
					}
				}
			}
		}
		team.Close()
	}
}

// TestTeamNestedAndPanic: a loop started from inside a piece runs inline,
// and a panic in a chunk reaches the caller after the loop.
func TestTeamNestedAndPanic(t *testing.T) {
	team := NewTeam(3)
	defer team.Close()
	var n atomic.Int32
	team.For(8, 1, func(lo, hi int) {
		team.For(4, 1, func(lo, hi int) { n.Add(int32(hi - lo)) })
	})
	if n.Load() != 32 {
		t.Errorf("nested loops ran %d iterations, want 32", n.Load())
	}
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	}()
	team.For(100, 10, func(lo, hi int) {
		if lo == 50 {
			panic("boom")
		}
	})
	t.Error("For did not panic")
}
