package num

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Team runs one function on a fixed group of goroutines, for hot loops whose
// every call is too short (tens of microseconds) to pay for waking parked
// goroutines. Between calls its workers spin for a while, then sleep on a
// condition variable, so an idle Team costs nothing.
//
// A Team is used by one goroutine at a time; Close stops its workers.
type Team struct {
	n    int
	gen  atomic.Uint64 // incremented to start a call
	left atomic.Int64  // workers still running the current call
	fn   func(worker int)
	mu   sync.Mutex
	cond *sync.Cond
	quit atomic.Bool
	wg   sync.WaitGroup
}

// spinFor is how long an idle worker spins before it sleeps.
const spinFor = 200 * time.Microsecond

// NewTeam starts a team of n members (the caller counts as member 0, so
// n-1 goroutines are started). n < 1 is taken as 1.
func NewTeam(n int) *Team {
	t := &Team{n: max(n, 1)}
	t.cond = sync.NewCond(&t.mu)
	for w := 1; w < t.n; w++ {
		t.wg.Add(1)
		go t.work(w)
	}
	return t
}

// Size returns the number of members.
func (t *Team) Size() int { return t.n }

// Run calls fn(w) for every member w in [0, Size()) concurrently, fn(0) on
// the calling goroutine, and returns when all have returned.
func (t *Team) Run(fn func(worker int)) {
	if t.n == 1 {
		fn(0)
		return
	}
	t.fn = fn
	t.left.Store(int64(t.n - 1))
	t.mu.Lock()
	t.gen.Add(1)
	t.cond.Broadcast()
	t.mu.Unlock()
	fn(0)
	for spins := 0; t.left.Load() != 0; spins++ {
		if spins > 64 {
			runtime.Gosched()
		}
	}
	t.fn = nil
}

func (t *Team) work(w int) {
	defer t.wg.Done()
	seen := uint64(0)
	for {
		start := time.Now()
		for spins := 0; t.gen.Load() == seen && !t.quit.Load(); spins++ {
			if spins&1023 == 1023 {
				if time.Since(start) > spinFor {
					t.mu.Lock()
					for t.gen.Load() == seen && !t.quit.Load() {
						t.cond.Wait()
					}
					t.mu.Unlock()
					break
				}
				runtime.Gosched()
			}
		}
		if t.quit.Load() {
			return
		}
		seen = t.gen.Load()
		t.fn(w)
		t.left.Add(-1)
	}
}

// Close stops the workers. The Team must not be used afterwards.
func (t *Team) Close() {
	t.mu.Lock()
	t.quit.Store(true)
	t.cond.Broadcast()
	t.mu.Unlock()
	t.wg.Wait()
}
