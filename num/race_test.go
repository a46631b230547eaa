//go:build race

package num

// The race detector makes the packing loops ~10× slower; the Gemm tests then
// use their smaller size sample.
func init() { raceEnabled = true }
