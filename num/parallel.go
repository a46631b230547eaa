package num

import (
	"runtime"
	"sync"
)

// Parallel calls fn on disjoint ranges [lo, hi) that together cover [0, n).
// When n >= 2*grain (and GOMAXPROCS > 1) it splits [0, n) into up to
// GOMAXPROCS nearly equal ranges of at least grain elements and runs them on
// separate goroutines (one of them the caller's), returning when all are done;
// otherwise it calls fn(0, n) inline. A grain below 1 counts as 1; n <= 0
// calls nothing. If fn panics, Parallel panics in the caller with the first
// panic's value after all ranges have finished.
func Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	parts := min(runtime.GOMAXPROCS(0), n/grain)
	if n < 2*grain || parts < 2 {
		fn(0, n)
		return
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked bool
		pval     any
	)
	run := func(lo, hi int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				if !panicked {
					panicked, pval = true, r
				}
				mu.Unlock()
			}
		}()
		fn(lo, hi)
	}
	wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		lo, hi := p*n/parts, (p+1)*n/parts
		go func() {
			defer wg.Done()
			run(lo, hi)
		}()
	}
	run(0, n/parts)
	wg.Wait()
	if panicked {
		panic(pval)
	}
}
