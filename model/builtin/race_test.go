//go:build race || purego

package builtin_test

// The race detector and the portable kernels make scoring the whole test
// split 5-10x slower, and these figures are single-goroutine and checked
// with the default kernels already: TestStatedAccuracy and TestNovelty
// skip in those builds.
func init() { raceEnabled = true }
