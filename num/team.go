package num

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Team is the package's one way of sharing work among goroutines: a pool of
// helper goroutines that run the pieces of parallel loops. A goroutine that
// a go statement starts often runs on an idle CPU only ~100µs later (the
// idle thread has to be woken), as long as a whole mini-batch product; a
// helper instead polls for the next loop for spinFor after each one, so
// back-to-back loops start at once, and then sleeps on a condition
// variable, so an idle Team costs nothing. Helpers are started on first
// use.
//
// A loop is cut into pieces, each run exactly once. Member w of m (the
// caller is 0, helper i is i) starts at piece w*n/m and takes, in order,
// every piece nobody has claimed yet (each is claimed with an atomic flag):
// with every member running, a piece goes to the same goroutine at every
// call and finds its data in that core's cache, and a helper that the
// operating system does not schedule in time only means that the caller
// does more of the work; the caller never waits for a helper that has not
// started. Which goroutine runs a piece can vary, never what the piece
// computes: callers whose pieces are independent get identical results.
//
// One loop runs at a time: a caller that finds the Team busy (another
// goroutine's loop, or a loop started from inside a piece) runs all its
// pieces itself. If a piece panics, the loop panics in the caller with the
// first panic's value once every piece has finished.
//
// NewTeam makes a Team that its caller owns and closes. Gemm and Parallel,
// whose signatures take none, use the package's shared Team.
type Team struct {
	size int // members, the caller included (0 for the shared Team)

	mu      sync.Mutex // held by the goroutine whose loop is published
	started int        // helpers started (under mu)
	cur     atomic.Pointer[teamJob]

	sleepMu  sync.Mutex
	sleeping int // helpers waiting on wake (under sleepMu)
	wake     *sync.Cond
	helpers  sync.WaitGroup
}

// spinFor is how long an idle helper polls for the next loop before it
// sleeps: longer than the gaps between the Gemm calls of a training step.
const spinFor = time.Millisecond

// shared is the Team of Gemm and Parallel: their callers hand over no Team,
// and starting goroutines at every call would cost more than many of the
// products take. It only grows (to GOMAXPROCS-1 helpers), and its helpers
// sleep when idle.
var shared = newTeam(0)

// closedJob, published by Close, tells the helpers to exit.
var closedJob = new(teamJob)

func newTeam(size int) *Team {
	t := &Team{size: size}
	t.wake = sync.NewCond(&t.sleepMu)
	return t
}

// NewTeam makes a team of n members (the caller counts as one, so up to n-1
// goroutines are started). n < 1 is taken as 1.
func NewTeam(n int) *Team { return newTeam(max(n, 1)) }

// For calls fn(lo, hi) over [0, n) in chunks of at most chunk iterations,
// on the caller and the team's helpers, and returns when every iteration
// has run. A chunk below 1 counts as 1.
func (t *Team) For(n, chunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunk = max(chunk, 1)
	if t.size == 1 || n <= chunk {
		fn(0, n)
		return
	}
	t.run(t.size, (n+chunk-1)/chunk, func(p int) { fn(p*chunk, min(p*chunk+chunk, n)) })
}

// Parallel calls fn on disjoint ranges [lo, hi) that together cover [0, n).
// When n >= 2*grain (and GOMAXPROCS > 1) it splits [0, n) into up to
// GOMAXPROCS nearly equal ranges of at least grain elements, the same
// ranges at every call, and runs them on the shared Team, returning when
// all are done; otherwise it calls fn(0, n) inline. A grain below 1 counts
// as 1; n <= 0 calls nothing. If fn panics, Parallel panics in the caller
// with the first panic's value once no range is running.
func Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	parts := min(runtime.GOMAXPROCS(0), n/grain)
	if n < 2*grain || parts < 2 {
		fn(0, n)
		return
	}
	shared.run(parts, parts, func(p int) { fn(p*n/parts, (p+1)*n/parts) })
}

// teamJob is one loop: pieces [0, n) shared by members goroutines.
type teamJob struct {
	fn         func(piece int)
	n, members int
	claimed    []atomic.Bool
	done       atomic.Int64
	failed     atomic.Bool
	panicVal   any // the first panic's value (written by whoever set failed)
}

// run calls fn(p) for every p in [0, n), each exactly once, on up to
// workers members (starting helpers as needed), and returns when all have
// returned.
func (t *Team) run(workers, n int, fn func(piece int)) {
	if workers <= 1 || n <= 1 || !t.mu.TryLock() {
		for p := range n {
			fn(p)
		}
		return
	}
	for t.started < workers-1 {
		t.started++
		t.helpers.Add(1)
		go t.help(t.started)
	}
	j := &teamJob{fn: fn, n: n, members: workers, claimed: make([]atomic.Bool, n)}
	t.cur.Store(j)
	t.sleepMu.Lock()
	if t.sleeping > 0 {
		t.wake.Broadcast()
	}
	t.sleepMu.Unlock()
	j.run(0)
	for spins := 0; j.done.Load() < int64(n); spins++ {
		if spins > 32 {
			runtime.Gosched()
		}
	}
	t.cur.Store(nil)
	t.mu.Unlock()
	if j.failed.Load() {
		panic(j.panicVal)
	}
}

// run runs the pieces of j that member claims: its own first, then any
// still unclaimed.
func (j *teamJob) run(member int) {
	own := member % j.members * j.n / j.members
	for i := range j.n {
		p := (own + i) % j.n
		if j.claimed[p].Load() || !j.claimed[p].CompareAndSwap(false, true) {
			continue
		}
		j.do(p)
	}
}

// do runs piece p, recording a panic instead of unwinding the goroutine.
func (j *teamJob) do(p int) {
	defer func() {
		if r := recover(); r != nil && j.failed.CompareAndSwap(false, true) {
			j.panicVal = r
		}
		j.done.Add(1)
	}()
	j.fn(p)
}

// help is helper id's loop: it runs the pieces of every loop it sees,
// polling for spinFor after each, then sleeping until one is published.
func (t *Team) help(id int) {
	defer t.helpers.Done()
	var last *teamJob
	for {
		start := time.Now()
		for spins := 1; ; spins++ {
			if j := t.cur.Load(); j != nil && j != last {
				if j == closedJob {
					return
				}
				last = j
				j.run(id)
				start = time.Now()
				spins = 0
				continue
			}
			if spins%256 == 0 {
				if time.Since(start) > spinFor {
					break
				}
				runtime.Gosched()
			}
		}
		t.sleepMu.Lock()
		t.sleeping++
		for j := t.cur.Load(); j == nil || j == last; j = t.cur.Load() {
			t.wake.Wait()
		}
		t.sleeping--
		t.sleepMu.Unlock()
	}
}

// Close stops the helpers. The Team must not be used afterwards.
func (t *Team) Close() {
	t.mu.Lock()
	t.cur.Store(closedJob)
	t.sleepMu.Lock()
	t.wake.Broadcast()
	t.sleepMu.Unlock()
	t.helpers.Wait()
}
