package num

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Team shares the iterations of hot loops among a fixed group of goroutines,
// for loops whose every run is too short (tens of microseconds) to pay for
// waking parked goroutines. Between loops its workers spin for a while, then
// sleep on a condition variable, so an idle Team costs nothing.
//
// Iterations are cut into chunks, and each member owns an even share of
// them, the same share at every call, so that a member keeps finding its
// part of the data in its own core's cache. A member that has finished its
// share takes chunks nobody has claimed yet (each chunk is claimed with an
// atomic flag), so a worker that the operating system does not schedule in
// time only means the caller does more of the work: the caller never waits
// for a worker that has not started. Which goroutine runs a chunk can vary;
// callers whose chunks are independent get identical results.
//
// A Team is used by one goroutine at a time; Close stops its workers.
type Team struct {
	n    int
	job  atomic.Pointer[teamJob]
	gen  atomic.Uint64
	mu   sync.Mutex
	cond *sync.Cond
	quit atomic.Bool
	wg   sync.WaitGroup
}

// teamJob is one loop: iterations [0, n) in chunks of chunk.
type teamJob struct {
	n, chunk, members int
	fn                func(lo, hi int)
	claimed           []atomic.Bool // per chunk
	done              atomic.Int64  // iterations finished
}

// run does member w's own chunks, then any chunk still unclaimed.
func (j *teamJob) run(w int) {
	c := len(j.claimed)
	own := w * c / j.members
	for i := range c {
		q := (own + i) % c
		if j.claimed[q].Load() || !j.claimed[q].CompareAndSwap(false, true) {
			continue
		}
		lo := q * j.chunk
		hi := min(lo+j.chunk, j.n)
		j.fn(lo, hi)
		j.done.Add(int64(hi - lo))
	}
}

// spinFor is how long an idle worker spins before it sleeps.
const spinFor = 200 * time.Microsecond

// NewTeam starts a team of n members (the caller counts as one, so n-1
// goroutines are started). n < 1 is taken as 1.
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

// For calls fn(lo, hi) over [0, n) in chunks of at most chunk iterations,
// on the caller and the team's workers, and returns when every iteration
// has run.
func (t *Team) For(n, chunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunk = max(chunk, 1)
	if t.n == 1 || n <= chunk {
		fn(0, n)
		return
	}
	j := &teamJob{n: n, chunk: chunk, members: t.n, fn: fn, claimed: make([]atomic.Bool, (n+chunk-1)/chunk)}
	t.job.Store(j)
	t.mu.Lock()
	t.gen.Add(1)
	t.cond.Broadcast()
	t.mu.Unlock()
	j.run(0)
	for spins := 0; j.done.Load() != int64(n); spins++ {
		if spins > 64 {
			runtime.Gosched()
		}
	}
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
		if j := t.job.Load(); j != nil {
			j.run(w)
		}
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
