package num

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The crew is a set of helper goroutines, started on first use, that run
// the pieces of parallel Gemm calls. A new goroutine often starts running on
// an idle CPU only ~100µs after the go statement (the idle thread has to be
// woken), which is as long as a whole mini-batch product; the helpers instead
// spin for crewSpin after each job, so back-to-back products start at once,
// and then sleep, so an idle process costs nothing.
//
// One job runs at a time. A caller that finds the crew busy (another
// goroutine's Gemm) runs all its pieces itself: the pieces of a job are
// computed the same way whoever runs them, so results never depend on which
// goroutine ran what, nor on timing.
var crew struct {
	mu      sync.Mutex // held by the goroutine whose job is published
	started int        // helpers started (under mu)

	cur atomic.Pointer[crewJob] // the job being published, or nil

	sleepMu  sync.Mutex
	sleeping int // helpers waiting on wake (under sleepMu)
	wake     *sync.Cond
}

// crewSpin is how long an idle helper polls for the next job before it
// sleeps: longer than the gaps between the Gemm calls of a training step.
const crewSpin = time.Millisecond

// crewJob is one parallel call: pieces [0, n), each claimed once through
// its flag. Member w (the caller is 0, helper i is i) claims its own pieces
// first, w*n/members onwards, so that with every member running, piece p
// goes to the same goroutine at every call and finds its data in that
// core's cache; then it takes any piece still unclaimed.
type crewJob struct {
	fn      func(piece int)
	n       int
	members int
	claimed []atomic.Bool
	done    atomic.Int64
}

func init() { crew.wake = sync.NewCond(&crew.sleepMu) }

// runPieces calls fn(p) for every p in [0, n), each exactly once, spread
// over up to workers goroutines (the caller's included), and returns when
// all have returned. fn must compute the same result whichever goroutine
// runs a piece and in whatever order the pieces run.
func runPieces(workers, n int, fn func(piece int)) {
	if workers <= 1 || n <= 1 || !crew.mu.TryLock() {
		for p := 0; p < n; p++ {
			fn(p)
		}
		return
	}
	for crew.started < workers-1 {
		crew.started++
		go crewHelper(crew.started)
	}
	j := &crewJob{fn: fn, n: n, members: workers, claimed: make([]atomic.Bool, n)}
	crew.cur.Store(j)
	crew.sleepMu.Lock()
	if crew.sleeping > 0 {
		crew.wake.Broadcast()
	}
	crew.sleepMu.Unlock()
	j.run(0)
	for spins := 0; j.done.Load() < int64(j.n); spins++ {
		if spins > 32 {
			runtime.Gosched()
		}
	}
	crew.cur.Store(nil)
	crew.mu.Unlock()
}

// run runs the pieces of j that member claims.
func (j *crewJob) run(member int) {
	own := member % j.members * j.n / j.members
	for i := range j.n {
		p := (own + i) % j.n
		if j.claimed[p].Load() || !j.claimed[p].CompareAndSwap(false, true) {
			continue
		}
		j.fn(p)
		j.done.Add(1)
	}
}

// crewHelper runs the pieces of every job it sees, polling for crewSpin
// after each, then sleeping until a job is published.
func crewHelper(id int) {
	var last *crewJob
	for {
		start := time.Now()
		for spins := 1; ; spins++ {
			if j := crew.cur.Load(); j != nil && j != last {
				last = j
				j.run(id)
				start = time.Now()
				spins = 0
				continue
			}
			if spins%256 == 0 {
				if time.Since(start) > crewSpin {
					break
				}
				runtime.Gosched()
			}
		}
		crew.sleepMu.Lock()
		crew.sleeping++
		for j := crew.cur.Load(); j == nil || j == last; j = crew.cur.Load() {
			crew.wake.Wait()
		}
		crew.sleeping--
		crew.sleepMu.Unlock()
	}
}
