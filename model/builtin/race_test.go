//go:build race

package builtin_test

// The race detector makes scoring the test split ~10x slower and finds
// nothing in these single-goroutine figures: TestStatedAccuracy and
// TestNovelty skip under it (the race build runs them in no other way).
func init() { raceEnabled = true }
